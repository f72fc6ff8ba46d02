package memstore

import "time"

// janitor sweeps every interval until Close. Reads already refuse expired
// entries; the janitor is what gives their memory back.
func (s *Store) janitor(every time.Duration) {
	defer close(s.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.sweep()
		}
	}
}

// sweep removes every entry whose stored deadline has passed by the store's
// clock. Each shard is scanned under its read lock, so readers are not held
// up by a scan; the write lock is taken only when something expired, to
// delete those entries after checking each again (a touch or a new record
// may have replaced it), and to make a map that holds under a quarter of
// its peak again (see oversized). The user index is pruned after the
// shard is released, as the lock order requires.
func (s *Store) sweep() {
	now := s.now()
	var expired []string
	type binding struct{ user, id string }
	var orphans []binding
	for i := range s.shards {
		sh := &s.shards[i]
		expired = expired[:0]
		sh.mu.RLock()
		for id, i := range sh.m {
			if !sh.at(i).aliveAt(now) {
				expired = append(expired, id)
			}
		}
		oversized := sh.oversized()
		sh.mu.RUnlock()
		if len(expired) == 0 && !oversized {
			continue
		}

		orphans = orphans[:0]
		sh.mu.Lock()
		for _, id := range expired {
			e := sh.get(id)
			if e == nil || e.aliveAt(now) {
				continue
			}
			s.discard(sh, e)
			if !e.forwarding() && e.meta.UserID != "" {
				orphans = append(orphans, binding{e.meta.UserID, id})
			}
			sh.recycle(e)
		}
		if sh.oversized() {
			sh.remakeMap()
		}
		sh.unlock()
		for _, o := range orphans {
			s.prune(o.user, o.id)
		}
	}
}
