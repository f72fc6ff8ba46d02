package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core/store"
)

// Real-time tests: short enough to keep the suite fast, with margins of a
// couple of hundred milliseconds for a loaded machine or a remote server.
const (
	rtIdle  = 300 * time.Millisecond
	rtAfter = 450 * time.Millisecond // past rtIdle

	rtTouchIdle   = 1000 * time.Millisecond
	rtTouchAt     = 400 * time.Millisecond // past TouchAfter, before rtTouchIdle
	rtTouchAfter  = 100 * time.Millisecond
	rtTouchCheck  = 1150 * time.Millisecond // past rtTouchIdle, before rtTouchAt+rtTouchIdle
	rtTouchMargin = 50 * time.Millisecond
)

func (f factory) deadline(t *testing.T) {
	t.Run("Idle", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		id := h.session(now, "")
		h.get(id, at(now.Add(idle-time.Minute)))
		h.gone(id, at(now.Add(idle+time.Second)), "past the idle deadline")
	})

	t.Run("IdleOfTheCall", func(t *testing.T) {
		// The record was written with an hour's idle timeout; a Load with a
		// shorter one (the configuration changed) applies the shorter one.
		h := f.begin(t)
		now := time.Now()
		id := h.session(now, "")
		h.get(id, store.LoadOptions{Now: now.Add(20 * time.Minute), Idle: 30 * time.Minute, TouchAfter: noTouch})
		h.gone(id, store.LoadOptions{Now: now.Add(31 * time.Minute), Idle: 30 * time.Minute, TouchAfter: noTouch},
			"past the idle deadline of the call")
	})

	t.Run("Absolute", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		m := meta(now, "")
		m.ExpiresAt = now.Add(10 * time.Minute)
		id := newID(t)
		h.put(id, &store.Record{Meta: m}, wopts(now))
		h.get(id, at(now.Add(9*time.Minute)))
		h.gone(id, at(now.Add(10*time.Minute+time.Second)), "past the absolute deadline")
	})

	t.Run("UpdateMovesDeadline", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		id := h.session(now, "")
		written := now.Add(50 * time.Minute)
		require.NoError(t, h.s.Update(h.ctx, id, change(written)))
		h.get(id, at(now.Add(idle+10*time.Minute)))
		h.gone(id, at(written.Add(idle+time.Second)), "past the deadline set by Update")
	})

	t.Run("ListUserSkipsExpired", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		long := h.session(now, "alice")
		m := meta(now, "alice")
		m.ExpiresAt = now.Add(10 * time.Minute)
		short := newID(t)
		h.put(short, &store.Record{Meta: m}, wopts(now))

		assert.ElementsMatch(t, []string{long, short}, h.listIDs("alice", now))
		assert.ElementsMatch(t, []string{long}, h.listIDs("alice", now.Add(20*time.Minute)), "listed past its absolute deadline")
		assert.Empty(t, h.list("alice", now.Add(idle+time.Minute)), "listed past their idle deadline")
	})

	t.Run("RealTimeIdle", func(t *testing.T) {
		h := f.begin(t)
		opts := func() store.LoadOptions {
			return store.LoadOptions{Now: time.Now(), Idle: rtIdle, TouchAfter: noTouch}
		}
		t0 := time.Now()
		id := newID(t)
		h.put(id, &store.Record{Meta: meta(t0, "alice")}, store.WriteOptions{Now: t0, Idle: rtIdle})
		h.get(id, opts())
		require.Equal(t, []string{id}, h.listIDs("alice", time.Now()))

		sleepUntil(t0.Add(rtAfter))
		h.gone(id, opts(), "past a real idle deadline")
		assert.Empty(t, h.list("alice", time.Now()), "an expired session is still listed")
		require.ErrorIs(t, h.s.Update(h.ctx, id, &store.Change{Now: time.Now(), Idle: rtIdle, Set: vals("a", "1")}),
			store.ErrNotFound, "Update of an expired session")
	})

	t.Run("RealTimeAbsolute", func(t *testing.T) {
		// The store's expiry is min(idle, lifetime left), not just idle.
		h := f.begin(t)
		t0 := time.Now()
		m := meta(t0, "alice")
		m.ExpiresAt = t0.Add(rtIdle)
		id := newID(t)
		h.put(id, &store.Record{Meta: m}, wopts(t0))
		h.get(id, at(time.Now()))

		sleepUntil(t0.Add(rtAfter))
		h.gone(id, at(time.Now()), "past a real absolute deadline")
		assert.Empty(t, h.list("alice", time.Now()), "an expired session is still listed")
	})
}

func (f factory) touch(t *testing.T) {
	touchAt := func(now time.Time, after time.Duration) store.LoadOptions {
		return store.LoadOptions{Now: now, Idle: idle, TouchAfter: after}
	}

	t.Run("InsideWindow", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		id := h.session(now, "")
		assertTime(t, now, h.get(id, touchAt(now.Add(30*time.Second), time.Minute)).Meta.LastSeen, "LastSeen, first read")
		assertTime(t, now, h.get(id, touchAt(now.Add(40*time.Second), time.Minute)).Meta.LastSeen, "LastSeen, second read")
		// Nothing was extended: the deadline is still the first one.
		h.gone(id, at(now.Add(idle+time.Second)), "a read inside the window extended the deadline")
	})

	t.Run("PastWindow", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		id := h.session(now, "alice", "a", "1")
		touched := now.Add(2 * time.Minute)
		rec := h.get(id, touchAt(touched, time.Minute))
		assertTime(t, touched, rec.Meta.LastSeen, "LastSeen returned by the touching Load")

		want := meta(now, "alice")
		want.LastSeen = touched
		rec = h.get(id, at(touched.Add(time.Second)))
		assertMeta(t, want, rec.Meta, "after a touch")
		assert.Equal(t, map[string]string{"a": "1"}, strs(rec.Values), "a touch changed the values")

		h.get(id, at(now.Add(idle+time.Minute)))
		h.gone(id, at(touched.Add(idle+time.Second)), "past the extended deadline")
	})

	t.Run("ZeroTouchAfterTouchesEveryRead", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		id := h.session(now, "")
		for i := 1; i <= 3; i++ {
			when := now.Add(time.Duration(i) * time.Second)
			assertTime(t, when, h.get(id, touchAt(when, 0)).Meta.LastSeen, "LastSeen after a read with TouchAfter 0")
		}
	})

	t.Run("NeverPastAbsolute", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		m := meta(now, "")
		m.ExpiresAt = now.Add(10 * time.Minute)
		id := newID(t)
		h.put(id, &store.Record{Meta: m}, wopts(now))
		h.get(id, touchAt(now.Add(9*time.Minute), 0))
		h.gone(id, at(now.Add(11*time.Minute)), "a touch extended the absolute deadline")
	})

	t.Run("RealTime", func(t *testing.T) {
		h := f.begin(t)
		opts := func(after time.Duration) store.LoadOptions {
			return store.LoadOptions{Now: time.Now(), Idle: rtTouchIdle, TouchAfter: after}
		}
		// One attempt is conclusive unless the machine overslept past the
		// touched record's extended deadline too; a loaded machine gets a
		// few attempts, never a skip.
		attempt := func() bool {
			t0 := time.Now()
			touched, control := newID(t), newID(t)
			for _, id := range []string{touched, control} {
				h.put(id, &store.Record{Meta: meta(t0, "alice")}, store.WriteOptions{Now: t0, Idle: rtTouchIdle})
			}
			sleepUntil(t0.Add(rtTouchAt))
			touchOpts := opts(rtTouchAfter)
			assertTime(t, touchOpts.Now, h.get(touched, touchOpts).Meta.LastSeen, "LastSeen after a touch")

			sleepUntil(t0.Add(rtTouchCheck))
			if time.Since(touchOpts.Now) > rtTouchIdle-rtTouchMargin {
				return false
			}
			h.gone(control, opts(noTouch), "the untouched control session outlived its idle deadline")
			h.get(touched, opts(noTouch))
			assert.Equal(t, []string{touched}, h.listIDs("alice", time.Now()))
			_, _ = h.s.DeleteUser(h.ctx, "alice", "")
			return true
		}
		for i := 0; i < 3; i++ {
			if attempt() {
				return
			}
		}
		t.Fatal("three attempts overslept the extended deadline: the machine is too loaded to judge the touch")
	})
}
