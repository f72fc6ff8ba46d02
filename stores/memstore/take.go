package memstore

import (
	"context"

	"github.com/sessionkit/sessionkit/core/store"
)

// Take removes key from the live record under id and returns its value,
// under the shard's write lock, so concurrent Takes of one key give it to
// exactly one caller. The values map is replaced, never written (Load may
// have handed the old one out), and the bytes it accounted for given back;
// LastSeen and the deadline stay.
func (s *Store) Take(ctx context.Context, id, key string, opts store.LoadOptions) ([]byte, bool, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, false, err
	}
	now := s.nowOr(opts.Now)
	sh := s.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.m[id]
	if e != nil && e.forwarding() && e.aliveAt(now) {
		return nil, false, &store.ErrRenewed{Successor: e.successor}
	}
	if e == nil || !e.recordAt(now, opts.Idle) {
		return nil, false, store.ErrNotFound
	}
	v, ok := e.values[key]
	if !ok {
		return nil, false, nil
	}
	oldBytes := valuesBytes(e)
	ch := store.Change{Del: []string{key}}
	values := ch.ApplyValues(e.values)
	newBytes := appliedSize(oldBytes, e.values, &ch, values)
	e.values = values
	e.size -= oldBytes - newBytes
	s.release(0, oldBytes-newBytes)
	e.used()
	return v, true, nil
}
