package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core/store"
)

// walked collects a walk at now: every entry by ID, and how many times each
// was seen.
func (h *harness) walked(w store.Walker, now time.Time) (map[string]store.Entry, map[string]int) {
	h.t.Helper()
	out, seen := map[string]store.Entry{}, map[string]int{}
	err := w.Walk(h.ctx, now, func(e store.Entry) error {
		out[e.ID] = e
		seen[e.ID]++
		return nil
	})
	require.NoError(h.t, err, "Walk")
	return out, seen
}

// walk: a Walker shows every live session, metadata only, and nothing else.
// A store that does not implement store.Walker skips the area: walking is
// optional (the manager answers core.ErrWalkUnsupported).
func (f factory) walk(t *testing.T) {
	walker := func(t *testing.T) (*harness, store.Walker) {
		h := f.begin(t)
		w, ok := h.s.(store.Walker)
		if !ok {
			t.Skipf("%T does not implement store.Walker", h.s)
		}
		return h, w
	}

	t.Run("LiveSessionsOnly", func(t *testing.T) {
		h, w := walker(t)
		now := time.Now()
		want := map[string]store.Meta{}
		for _, user := range []string{"", "", "alice", "alice", "bob"} {
			id := newID(t)
			m := meta(now, user)
			h.put(id, &store.Record{Meta: m, Values: vals("secret", "never listed")}, wopts(now))
			want[id] = m
		}
		rm := remembered(now, "carol", 7*24*time.Hour)
		kept := newID(t)
		h.put(kept, &store.Record{Meta: rm}, wopts(now))
		want[kept] = rm

		// Not shown: a deleted session, an expired one, a forwarding entry
		// (its successor is), a marker.
		deleted := h.session(now, "alice")
		_, err := h.s.Delete(h.ctx, deleted)
		require.NoError(t, err)
		expired := newID(t)
		em := meta(now.Add(-2*idle), "")
		h.put(expired, &store.Record{Meta: em}, wopts(now.Add(-2*idle)))
		for _, grace := range []time.Duration{time.Minute, 0} {
			old, next := h.session(now, "dave"), newID(t)
			_, err := h.s.Renew(h.ctx, old, next, &store.Change{Now: now, Idle: idle}, store.WriteOptions{Now: now, Idle: idle, Grace: grace})
			require.NoError(t, err)
			want[next] = meta(now, "dave")
		}

		got, seen := h.walked(w, now)
		require.Len(t, got, len(want), "Walk showed %v", seen)
		for id, m := range want {
			require.Contains(t, got, id)
			assertMeta(t, m, got[id].Meta, "Walk")
		}
	})

	t.Run("Many", func(t *testing.T) {
		// More sessions than any store's batch, so that the walk crosses
		// batch boundaries.
		h, w := walker(t)
		now := time.Now()
		const n = 2500
		want := make(map[string]bool, n)
		for i := range n {
			user := ""
			if i%3 == 0 {
				user = "many"
			}
			want[h.session(now, user)] = true
		}
		got, seen := h.walked(w, now)
		assert.Len(t, got, n)
		for id := range want {
			assert.GreaterOrEqual(t, seen[id], 1, "%s never shown", id)
		}
	})

	t.Run("StopsAtFnError", func(t *testing.T) {
		h, w := walker(t)
		now := time.Now()
		for range 10 {
			h.session(now, "")
		}
		stop := errors.New("enough")
		calls := 0
		err := w.Walk(h.ctx, now, func(store.Entry) error { calls++; return stop })
		assert.ErrorIs(t, err, stop, "Walk did not return fn's error")
		assert.Equal(t, 1, calls, "Walk went on after fn's error")
	})

	t.Run("Empty", func(t *testing.T) {
		h, w := walker(t)
		got, _ := h.walked(w, time.Now())
		assert.Empty(t, got)
	})

	t.Run("ContextCancelled", func(t *testing.T) {
		h, w := walker(t)
		now := time.Now()
		h.session(now, "")
		ctx, cancel := context.WithCancel(h.ctx)
		cancel()
		err := w.Walk(ctx, now, func(store.Entry) error { return nil })
		assert.ErrorIs(t, err, context.Canceled)
	})
}
