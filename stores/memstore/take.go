package memstore

import (
	"context"

	"github.com/sessionkit/sessionkit/core/store"
)

// Take removes key from the live record under id and returns its value;
// of concurrent Takes of one key exactly one gets it. As in Update, the
// record's new map (its old one without key) is built with no lock held,
// from the map read under the read lock, and swapped in under the write
// lock only if the record still holds the map it was built from: of two
// Takes that built from one map, the first to swap gets the value, and the
// other starts again and finds the key gone. The values map is replaced,
// never written (Load may have handed the old one out); LastSeen and the
// deadline stay.
func (s *Store) Take(ctx context.Context, id, key string, opts store.LoadOptions) ([]byte, bool, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, false, err
	}
	now := s.nowOr(opts.Now)
	sh := s.shard(id)
	ch := store.Change{Del: []string{key}}
	for {
		sh.mu.RLock()
		e := sh.get(id)
		if err := updatable(e, now, opts.Idle); err != nil {
			sh.mu.RUnlock()
			return nil, false, err
		}
		old := e.values
		v, ok := old[key]
		oldBytes := valuesBytes(e)
		sh.mu.RUnlock()
		if !ok {
			return nil, false, nil
		}

		values := ch.ApplyValues(old)
		shrink := oldBytes - appliedSize(oldBytes, old, &ch, values)
		if s.valuesBuilt != nil {
			s.valuesBuilt(id)
		}

		sh.mu.Lock()
		if sh.get(id) != e || !sameMap(e.values, old) || updatable(e, now, opts.Idle) != nil {
			sh.mu.Unlock()
			continue // changed meanwhile: look again
		}
		e.values = values
		e.size -= shrink
		s.release(0, shrink)
		e.used()
		sh.mu.Unlock()
		return v, true, nil
	}
}
