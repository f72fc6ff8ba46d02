package memstore

import "fmt"

// Test-only views of the store's internals.

// EntryCount counts every entry, forwarding entries included.
func (s *Store) EntryCount() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		n += len(sh.m)
		sh.mu.RUnlock()
	}
	return n
}

// UserIndexLen is the number of IDs in u's index, stale ones included.
func (s *Store) UserIndexLen(u string) int {
	us := s.userShard(u)
	us.mu.Lock()
	defer us.mu.Unlock()
	return len(us.m[u])
}

// ShardCount is the number of record shards.
func (s *Store) ShardCount() int { return len(s.shards) }

// SetValuesBuiltHook makes every Update and Renew call f(id) once it has
// built its new values map, before it takes the lock to swap it in. Set it
// before the store is used concurrently.
func (s *Store) SetValuesBuiltHook(f func(id string)) { s.valuesBuilt = f }

// CheckInvariants verifies, on a quiescent store, that every record bound
// to a user is in that user's index and that Len counts the records.
func (s *Store) CheckInvariants() error {
	for i := range s.users {
		s.users[i].mu.Lock()
		defer s.users[i].mu.Unlock()
	}
	for i := range s.shards {
		s.shards[i].mu.RLock()
		defer s.shards[i].mu.RUnlock()
	}
	records := 0
	for i := range s.shards {
		for id, e := range s.shards[i].m {
			if e.forwarding() {
				continue
			}
			records++
			if u := e.meta.UserID; u != "" {
				if _, ok := s.userShard(u).m[u][id]; !ok {
					return fmt.Errorf("record %.8s bound to %q is missing from the user index", id, u)
				}
			}
		}
	}
	if n := s.Len(); n != records {
		return fmt.Errorf("Len() = %d, but %d records are held", n, records)
	}
	return nil
}
