package demotest

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/sessionkit/sessionkit/core/store"
)

// flakyStore is a memstore whose operations fail on demand.
type flakyStore struct {
	store.Store
	mu   sync.Mutex
	down map[string]bool // op name → failing
}

var errDown = errors.New("flaky: connection refused")

func (f *flakyStore) fail(ops ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = map[string]bool{}
	for _, op := range ops {
		f.down[op] = true
	}
}

func (f *flakyStore) isDown(op string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.down[op] || f.down["*"]
}

func (f *flakyStore) Load(ctx context.Context, id string, o store.LoadOptions) (*store.Record, error) {
	if f.isDown("Load") {
		return nil, errDown
	}
	return f.Store.Load(ctx, id, o)
}

func (f *flakyStore) Create(ctx context.Context, id string, rec *store.Record, o store.WriteOptions) ([]string, error) {
	if f.isDown("Create") {
		return nil, errDown
	}
	return f.Store.Create(ctx, id, rec, o)
}

func (f *flakyStore) Update(ctx context.Context, id string, ch *store.Change) error {
	if f.isDown("Update") {
		return errDown
	}
	return f.Store.Update(ctx, id, ch)
}

func (f *flakyStore) Renew(ctx context.Context, oldID, newID string, ch *store.Change, o store.WriteOptions) ([]string, error) {
	if f.isDown("Renew") {
		return nil, errDown
	}
	return f.Store.Renew(ctx, oldID, newID, ch, o)
}

func (f *flakyStore) Delete(ctx context.Context, id string) (bool, error) {
	if f.isDown("Delete") {
		return false, errDown
	}
	return f.Store.Delete(ctx, id)
}

func (f *flakyStore) ListUser(ctx context.Context, userID string, now time.Time) ([]store.Entry, error) {
	if f.isDown("ListUser") {
		return nil, errDown
	}
	return f.Store.ListUser(ctx, userID, now)
}

func (f *flakyStore) DeleteUser(ctx context.Context, userID, keepID string) ([]string, error) {
	if f.isDown("DeleteUser") {
		return nil, errDown
	}
	return f.Store.DeleteUser(ctx, userID, keepID)
}
