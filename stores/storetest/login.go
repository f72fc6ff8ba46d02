package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core/store"
)

// remembered is the metadata of a session logged in with "remember me": its
// own idle timeout (ownIdle, longer than the call's idle) and lifetime.
func remembered(now time.Time, user string, ownIdle time.Duration) store.Meta {
	m := meta(now, user)
	m.Idle, m.Remembered = ownIdle, true
	m.ExpiresAt = now.Add(30 * 24 * time.Hour)
	m.Metadata = map[string]string{"device": "phone"}
	return m
}

// login: what a login chose (the session's own idle timeout, remembered,
// label, metadata, binding) is kept through every write, and the own idle
// timeout replaces the call's wherever a store applies one.
func (f factory) login(t *testing.T) {
	const ownIdle = 7 * 24 * time.Hour // the call's is idle: an hour

	t.Run("KeptThroughWrites", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		want := remembered(now, "alice", ownIdle)
		id := newID(t)
		h.put(id, &store.Record{Meta: want, Values: vals("a", "1")}, wopts(now))
		assertMeta(t, want, h.get(id, at(now)).Meta, "Load")
		assertMeta(t, want, h.list("alice", now)[id].Meta, "ListUser")

		later := now.Add(time.Minute)
		require.NoError(t, h.s.Update(h.ctx, id, &store.Change{Now: later, Idle: idle, Set: vals("b", "2")}), "Update")
		want.LastSeen = later
		assertMeta(t, want, h.get(id, at(later)).Meta, "after an Update without Meta")

		// A rotation sends the metadata it loaded (a new IssuedAt).
		rotated, rotatedAt := newID(t), now.Add(2*time.Minute)
		m := want
		m.IssuedAt, m.LastSeen = rotatedAt, rotatedAt
		_, err := h.s.Renew(h.ctx, id, rotated, &store.Change{Now: rotatedAt, Idle: idle, Meta: &m},
			store.WriteOptions{Now: rotatedAt, Idle: idle, Grace: time.Minute})
		require.NoError(t, err, "Renew with Meta")
		assertMeta(t, m, h.get(rotated, at(rotatedAt)).Meta, "after a rotation")

		// A Renew without Meta keeps what the record holds.
		renewed, renewedAt := newID(t), now.Add(3*time.Minute)
		_, err = h.s.Renew(h.ctx, rotated, renewed, &store.Change{Now: renewedAt, Idle: idle}, store.WriteOptions{Now: renewedAt, Idle: idle})
		require.NoError(t, err, "Renew without Meta")
		m.LastSeen = renewedAt
		assertMeta(t, m, h.get(renewed, at(renewedAt)).Meta, "after a Renew without Meta")
		assert.Equal(t, map[string]string{"a": "1", "b": "2"}, strs(h.get(renewed, at(renewedAt)).Values))
	})

	t.Run("ReplacedByMeta", func(t *testing.T) {
		// A new login on the same session replaces all of it: a session
		// remembered before is not after a login without remember me.
		h := f.begin(t)
		now := time.Now()
		id := newID(t)
		h.put(id, &store.Record{Meta: remembered(now, "alice", ownIdle)}, wopts(now))
		m := meta(now.Add(time.Minute), "alice")
		m.Label, m.Metadata, m.Binding = "", nil, ""
		require.NoError(t, h.s.Update(h.ctx, id, &store.Change{Now: m.LastSeen, Idle: idle, Meta: &m}), "Update with Meta")
		assertMeta(t, m, h.get(id, at(m.LastSeen)).Meta, "after an Update with plain Meta")
		h.gone(id, at(m.LastSeen.Add(idle+time.Second)), "the idle timeout of the remembered login outlived the new one")
	})

	t.Run("OwnIdleLonger", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		id := newID(t)
		h.put(id, &store.Record{Meta: remembered(now, "alice", ownIdle)}, wopts(now))
		// Past the call's hour, inside its own week.
		h.get(id, at(now.Add(2*time.Hour)))
		assert.Contains(t, h.list("alice", now.Add(2*time.Hour)), id, "ListUser past the call's idle timeout")
		h.gone(id, at(now.Add(ownIdle+time.Second)), "past its own idle timeout")
	})

	t.Run("OwnIdleShorter", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		m := meta(now, "")
		m.Idle = 10 * time.Minute
		id := newID(t)
		h.put(id, &store.Record{Meta: m}, wopts(now))
		h.get(id, at(now.Add(9*time.Minute)))
		h.gone(id, at(now.Add(11*time.Minute)), "past its own, shorter, idle timeout")
	})

	t.Run("OwnIdleExtendedByTouchUpdateAndRenew", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		touched, updated, renewedFrom := newID(t), newID(t), newID(t)
		for _, id := range []string{touched, updated, renewedFrom} {
			h.put(id, &store.Record{Meta: remembered(now, "alice", ownIdle)}, wopts(now))
		}
		t1 := now.Add(3 * 24 * time.Hour)
		h.get(touched, store.LoadOptions{Now: t1, Idle: idle, TouchAfter: time.Hour})
		require.NoError(t, h.s.Update(h.ctx, updated, &store.Change{Now: t1, Idle: idle}), "Update")
		renewed := newID(t)
		_, err := h.s.Renew(h.ctx, renewedFrom, renewed, &store.Change{Now: t1, Idle: idle}, store.WriteOptions{Now: t1, Idle: idle})
		require.NoError(t, err, "Renew")

		// Past the first week, inside a week of t1: extended by its own idle.
		t2 := now.Add(ownIdle + 24*time.Hour)
		for what, id := range map[string]string{"touch": touched, "Update": updated, "Renew": renewed} {
			// Days apart: a TouchAfter longer than the suite's noTouch.
			h.get(id, store.LoadOptions{Now: t2, Idle: idle, TouchAfter: 365 * 24 * time.Hour})
			h.gone(id, at(t1.Add(ownIdle+time.Second)), "past its own idle timeout after the "+what)
		}
	})

	t.Run("RealTimeOwnIdle", func(t *testing.T) {
		// The store's own expiry (a TTL) follows the session's idle timeout,
		// not the call's: a remembered session outlives the call's idle.
		h := f.begin(t)
		attempt := func() bool {
			t0 := time.Now()
			long, short := newID(t), newID(t)
			m := meta(t0, "")
			m.Idle = rtTouchIdle
			h.put(long, &store.Record{Meta: m}, store.WriteOptions{Now: t0, Idle: rtIdle})
			h.put(short, &store.Record{Meta: meta(t0, "")}, store.WriteOptions{Now: t0, Idle: rtIdle})
			sleepUntil(t0.Add(rtAfter))
			if time.Since(t0) > rtTouchIdle-rtTouchMargin {
				return false
			}
			h.get(long, store.LoadOptions{Now: time.Now(), Idle: rtIdle, TouchAfter: noTouch})
			h.gone(short, store.LoadOptions{Now: time.Now(), Idle: rtIdle, TouchAfter: noTouch}, "the control session outlived the call's idle")
			return true
		}
		for i := 0; i < 3; i++ {
			if attempt() {
				return
			}
		}
		t.Fatal("the machine overslept three times; the real-time check could not run")
	})
}
