package adaptertest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessionkit/sessionkit/core/store"
)

// errBroken is what a broken spy store returns.
var errBroken = errors.New("adaptertest: store is down")

// spyStore wraps a real store, counts each operation, remembers every ID it
// was asked about, and can be broken on demand.
type spyStore struct {
	store.Store
	broken atomic.Bool

	mu    sync.Mutex
	calls map[string]int
	ids   map[string]bool
}

func newSpy(s store.Store) *spyStore {
	return &spyStore{Store: s, calls: map[string]int{}, ids: map[string]bool{}}
}

func (s *spyStore) note(op, id string) error {
	s.mu.Lock()
	s.calls[op]++
	if id != "" {
		s.ids[id] = true
	}
	s.mu.Unlock()
	if s.broken.Load() {
		return errBroken
	}
	return nil
}

// count returns how many times op was called.
func (s *spyStore) count(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// writes counts every operation that changes the store.
func (s *spyStore) writes() int {
	return s.count("Create") + s.count("Update") + s.count("Renew") + s.count("Delete") + s.count("DeleteUser")
}

// total counts every operation.
func (s *spyStore) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		n += c
	}
	return n
}

// saw reports whether any operation named id.
func (s *spyStore) saw(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ids[id]
}

func (s *spyStore) Load(ctx context.Context, id string, o store.LoadOptions) (*store.Record, error) {
	if err := s.note("Load", id); err != nil {
		return nil, err
	}
	return s.Store.Load(ctx, id, o)
}

func (s *spyStore) Create(ctx context.Context, id string, r *store.Record, o store.WriteOptions) ([]string, error) {
	if err := s.note("Create", id); err != nil {
		return nil, err
	}
	return s.Store.Create(ctx, id, r, o)
}

func (s *spyStore) Update(ctx context.Context, id string, ch *store.Change) error {
	if err := s.note("Update", id); err != nil {
		return err
	}
	return s.Store.Update(ctx, id, ch)
}

func (s *spyStore) Renew(ctx context.Context, oldID, newID string, ch *store.Change, o store.WriteOptions) ([]string, error) {
	if err := s.note("Renew", oldID); err != nil {
		return nil, err
	}
	return s.Store.Renew(ctx, oldID, newID, ch, o)
}

func (s *spyStore) Delete(ctx context.Context, id string) (bool, error) {
	if err := s.note("Delete", id); err != nil {
		return false, err
	}
	return s.Store.Delete(ctx, id)
}

func (s *spyStore) ListUser(ctx context.Context, user string, now time.Time) ([]store.Entry, error) {
	if err := s.note("ListUser", ""); err != nil {
		return nil, err
	}
	return s.Store.ListUser(ctx, user, now)
}

func (s *spyStore) DeleteUser(ctx context.Context, user, keep string) ([]string, error) {
	if err := s.note("DeleteUser", ""); err != nil {
		return nil, err
	}
	return s.Store.DeleteUser(ctx, user, keep)
}
