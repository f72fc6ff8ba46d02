package memstore

import (
	"fmt"
	"slices"

	"github.com/sessionkit/sessionkit/core/store"
)

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

// Sweep runs one pass of the janitor now.
func (s *Store) Sweep() { s.sweep() }

// ShardCount is the number of record shards.
func (s *Store) ShardCount() int { return len(s.shards) }

// EvictWalk is how many second chances one eviction gives at most.
const EvictWalk = evictWalk

// KeptHoles is how many emptied slots a shard keeps for its next writes.
const KeptHoles = keptHoles

// WalkBatch is how many sessions one step of a Walk copies at most.
const WalkBatch = walkBatch

// Overheads are the accounting constants, for tests that measure them.
const (
	RecordOverhead  = recordOverhead
	ValueOverhead   = valueOverhead
	ForwardOverhead = forwardOverhead
)

// AppliedSize is what Update and Renew account the values ch makes of old
// for, worked out from the change.
func AppliedSize(old map[string][]byte, ch *store.Change) int64 {
	return appliedSize(valuesSize(old), old, ch, ch.ApplyValues(old))
}

// ValuesSize is what a values map accounts for, counted from scratch.
func ValuesSize(m map[string][]byte) int64 { return valuesSize(m) }

// SetValuesBuiltHook makes every Update and Renew call f(id) once it has
// built its new values map, before it takes the lock to swap it in. Set it
// before the store is used concurrently.
func (s *Store) SetValuesBuiltHook(f func(id string)) { s.valuesBuilt = f }

// CheckInvariants verifies, on a quiescent store, that every record bound
// to a user is in that user's index, that Len counts the records, that
// every entry is in the list of its class exactly once, and that Bytes is
// the sum of what each entry accounts for, recomputed from its contents.
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
	var bytes int64
	var listed [classes]int64
	for i := range s.shards {
		sh := &s.shards[i]
		for id, at := range sh.m {
			e := sh.at(at)
			if e.self != at {
				return fmt.Errorf("entry under %.8s is in slot %d but says %d", id, at, e.self)
			}
			if e.id != id {
				return fmt.Errorf("entry under %.8s says it is %.8s", id, e.id)
			}
			want := forwardSize(id, e.successor)
			if !e.forwarding() {
				want = recordSize(id, &e.meta, e.values)
				if c := classOf(e.meta.UserID); e.class != c {
					return fmt.Errorf("record %.8s of user %q is in class %d, want %d", id, e.meta.UserID, e.class, c)
				}
			}
			if e.size != want {
				return fmt.Errorf("entry %.8s accounts for %d bytes, but its contents for %d", id, e.size, want)
			}
			bytes += e.size
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
		n := 0
		for c := range classes {
			l := &sh.lists[c]
			var prev slot
			k := int64(0)
			for at := l.head; at != 0; at = sh.at(at).next {
				e := sh.at(at)
				if e.prev != prev {
					return fmt.Errorf("shard %d list %d: broken back link at %.8s", i, c, e.id)
				}
				if sh.m[e.id] != at {
					return fmt.Errorf("shard %d list %d holds %.8s, which the map does not", i, c, e.id)
				}
				if e.class != c {
					return fmt.Errorf("entry %.8s of class %d is in list %d", e.id, e.class, c)
				}
				prev = at
				k++
			}
			if l.tail != prev || l.n.Load() != k {
				return fmt.Errorf("shard %d list %d: %d entries, n = %d, tail ok %v", i, c, k, l.n.Load(), l.tail == prev)
			}
			listed[c] += k
			n += int(k)
		}
		if n != len(sh.m) {
			return fmt.Errorf("shard %d: %d entries listed, %d in the map", i, n, len(sh.m))
		}
		if len(sh.holes) > keptHoles {
			return fmt.Errorf("shard %d: %d slots left untidied", i, len(sh.holes))
		}
		if int(sh.n) != len(sh.m)+len(sh.holes) {
			return fmt.Errorf("shard %d: %d entries stored and %d holes, but slots 1 to %d in use", i, len(sh.m), len(sh.holes), sh.n)
		}
		slots := slotsBefore(len(sh.slab))
		if slots < int(sh.n) || sh.shrinkable() {
			return fmt.Errorf("shard %d: %d slots in %d chunks for %d entries", i, slots, len(sh.slab), sh.n)
		}
		for c, chunk := range sh.slab {
			if len(chunk) != chunkLen(c) {
				return fmt.Errorf("shard %d: chunk %d holds %d entries, not %d", i, c, len(chunk), chunkLen(c))
			}
		}
		for at := slot(1); int(at) <= slots; at++ {
			e := sh.at(at)
			if at <= sh.n && !slices.Contains(sh.holes, at) {
				if !e.held || e.self != at {
					return fmt.Errorf("shard %d: slot %d of %d is not in use (held %v, self %d)", i, at, sh.n, e.held, e.self)
				}
				continue
			}
			if e.held || e.id != "" || e.values != nil || e.prev != 0 || e.next != 0 || e.size != 0 || e.meta.UserID != "" {
				return fmt.Errorf("shard %d: free slot %d still holds %.8s", i, at, e.id)
			}
		}
	}
	if n := s.Len(); n != records {
		return fmt.Errorf("Len() = %d, but %d records are held", n, records)
	}
	if b := s.Bytes(); b != bytes {
		return fmt.Errorf("Bytes() = %d, but the entries account for %d", b, bytes)
	}
	for c := range classes {
		if got := s.listed[c].Load(); got != listed[c] {
			return fmt.Errorf("class %d: %d entries counted, %d listed", c, got, listed[c])
		}
	}
	return nil
}
