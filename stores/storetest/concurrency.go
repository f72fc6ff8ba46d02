package storetest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core/store"
)

func (f factory) concurrency(t *testing.T) {
	t.Run("DistinctKeysAllSurvive", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		id := h.session(now, "", "base", "0")
		const n = 32
		errs := make([]error, n)
		start := make(chan struct{})
		var wg group
		for i := range n {
			wg.Go(func() {
				<-start
				errs[i] = h.s.Update(h.ctx, id, &store.Change{Now: now, Idle: idle, Set: vals("k"+strconv.Itoa(i), strconv.Itoa(i))})
			})
		}
		close(start)
		wg.Wait()
		want := map[string]string{"base": "0"}
		for i, err := range errs {
			require.NoError(t, err, "Update %d", i)
			want["k"+strconv.Itoa(i)] = strconv.Itoa(i)
		}
		assert.Equal(t, want, strs(h.get(id, at(now)).Values), "a concurrent Update lost another's key")
	})

	t.Run("SameKeyOneWriterWins", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		id := h.session(now, "")
		const n = 16
		start := make(chan struct{})
		var wg group
		var failed atomic.Int32
		for i := range n {
			wg.Go(func() {
				<-start
				if h.s.Update(h.ctx, id, &store.Change{Now: now, Idle: idle, Set: vals("k", strconv.Itoa(i))}) != nil {
					failed.Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
		require.Zero(t, failed.Load(), "concurrent Updates failed")
		v, err := strconv.Atoi(string(h.get(id, at(now)).Values["k"]))
		require.NoError(t, err, "the key holds none of the values written")
		assert.True(t, 0 <= v && v < n)
	})

	revokers := map[string]func(h *harness, id string) error{
		"Delete": func(h *harness, id string) error {
			existed, err := h.s.Delete(h.ctx, id)
			if err == nil && !existed {
				err = errors.New("Delete: existed is false for a live session")
			}
			return err
		},
		"DeleteUser": func(h *harness, id string) error {
			deleted, err := h.s.DeleteUser(h.ctx, "alice", "")
			if err == nil && (len(deleted) != 1 || deleted[0] != id) {
				err = fmt.Errorf("DeleteUser: deleted %v, want [%s]", deleted, id)
			}
			return err
		},
	}
	for name, revoke := range revokers {
		t.Run(name+"VersusUpdates", func(t *testing.T) { f.revokeVersusUpdates(t, revoke) })
	}
}

// revokeVersusUpdates revokes a session while 16 goroutines keep updating
// it: a request in flight must never write a revoked session back.
func (f factory) revokeVersusUpdates(t *testing.T, revoke func(h *harness, id string) error) {
	h := f.begin(t)
	now := time.Now()
	id := h.session(now, "alice")
	const n = 16
	var revoked atomic.Bool
	firstWrite := make(chan struct{})
	var once sync.Once
	problems := make(chan string, n)
	var wg group
	for i := range n {
		wg.Go(func() {
			for j := 0; ; j++ {
				after := revoked.Load() // read before the call: it started after the revoke returned
				err := h.s.Update(h.ctx, id, &store.Change{Now: now, Idle: idle, Set: vals(fmt.Sprintf("k%d", i), strconv.Itoa(j))})
				switch {
				case err == nil && after:
					problems <- fmt.Sprintf("writer %d: Update succeeded after the session was revoked", i)
					return
				case err == nil:
					once.Do(func() { close(firstWrite) })
				case errors.Is(err, store.ErrNotFound):
					return
				default:
					problems <- fmt.Sprintf("writer %d: Update: %v", i, err)
					return
				}
			}
		})
	}
	<-firstWrite
	revokeErr := revoke(h, id)
	revoked.Store(true)
	wg.Wait()
	close(problems)
	require.NoError(t, revokeErr)
	for p := range problems {
		assert.Fail(t, p)
	}
	h.missing(id, now, "revoked session after concurrent Updates")
	assert.Empty(t, h.list("alice", now), "revoked session after concurrent Updates")
}

func (f factory) context(t *testing.T) {
	t.Run("Canceled", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		live := h.session(now, "alice", "a", "1")
		ctx, cancel := context.WithCancel(context.Background())
		cancel()

		fresh, next := newID(t), newID(t)
		calls := map[string]func() error{
			"Load": func() error { _, err := h.s.Load(ctx, live, at(now)); return err },
			"Create": func() error {
				_, err := h.s.Create(ctx, fresh, &store.Record{Meta: meta(now, "alice")}, wopts(now))
				return err
			},
			"Update": func() error {
				return h.s.Update(ctx, live, &store.Change{Now: now, Idle: idle, Set: vals("a", "changed")})
			},
			"Renew":      func() error { _, err := h.s.Renew(ctx, live, next, change(now), wopts(now)); return err },
			"Delete":     func() error { _, err := h.s.Delete(ctx, live); return err },
			"ListUser":   func() error { _, err := h.s.ListUser(ctx, "alice", now); return err },
			"DeleteUser": func() error { _, err := h.s.DeleteUser(ctx, "alice", ""); return err },
		}
		for name, call := range calls {
			assert.ErrorIs(t, call(), context.Canceled, "%s with a cancelled context", name)
		}

		// None of them may have written anything.
		h.missing(fresh, now, "Create with a cancelled context")
		h.missing(next, now, "Renew with a cancelled context")
		assert.Equal(t, map[string]string{"a": "1"}, strs(h.get(live, at(now)).Values),
			"the session after writes with a cancelled context")
		assert.Equal(t, []string{live}, h.listIDs("alice", now))
	})
}
