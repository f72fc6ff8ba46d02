package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core/store"
)

func (f factory) renew(t *testing.T) {
	graceOpts := func(now time.Time, grace time.Duration) store.WriteOptions {
		return store.WriteOptions{Now: now, Idle: idle, Grace: grace}
	}

	t.Run("MovesRecord", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		old, next := h.session(now, "alice", "a", "1", "b", "2"), newID(t)
		later := now.Add(time.Minute)
		evicted, err := h.s.Renew(h.ctx, old, next,
			&store.Change{Now: later, Idle: idle, Set: vals("c", "3"), Del: []string{"a"}}, wopts(later))
		require.NoError(t, err)
		assert.Empty(t, evicted)

		rec := h.get(next, at(later))
		assert.Equal(t, map[string]string{"b": "2", "c": "3"}, strs(rec.Values), "values merged with the change")
		want := meta(now, "alice")
		want.LastSeen = later
		assertMeta(t, want, rec.Meta, "renewed record without a Meta change")

		h.missing(old, later, "old ID right after a Renew without grace")
		require.ErrorIs(t, h.s.Update(h.ctx, old, &store.Change{Now: later, Idle: idle, Set: vals("x", "1")}), store.ErrNotFound)
		again := newID(t)
		_, err = h.s.Renew(h.ctx, old, again, change(later), wopts(later))
		var renewed *store.ErrRenewed
		if !errors.As(err, &renewed) {
			require.ErrorIs(t, err, store.ErrNotFound, "second Renew of the same old ID")
		}
		h.missing(again, later, "a refused Renew created its new ID")
		assert.Equal(t, []string{next}, h.listIDs("alice", later))
	})

	t.Run("ReplacesMeta", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		old, next := h.session(now, "alice", "a", "1"), newID(t)
		later := now.Add(time.Minute)
		m := store.Meta{UserID: "alice", CreatedAt: now, IssuedAt: later, LastSeen: now,
			ExpiresAt: later.Add(lifetime), UserAgent: "new-agent", IP: "203.0.113.5"}
		_, err := h.s.Renew(h.ctx, old, next, &store.Change{Now: later, Idle: idle, Meta: &m}, wopts(later))
		require.NoError(t, err)
		rec := h.get(next, at(later))
		want := m
		want.LastSeen = later
		assertMeta(t, want, rec.Meta, "renewed record with a Meta change")
		assert.Equal(t, map[string]string{"a": "1"}, strs(rec.Values))
	})

	t.Run("Grace", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		old, next := h.session(now, "alice", "a", "1"), newID(t)
		_, err := h.s.Renew(h.ctx, old, next, change(now), graceOpts(now, time.Hour))
		require.NoError(t, err)

		for _, opts := range []store.LoadOptions{at(now), {Now: now.Add(time.Second), Idle: idle}} {
			rec, err := h.s.Load(h.ctx, old, opts)
			require.NoError(t, err, "Load of the old ID during grace")
			assert.Equal(t, next, rec.Successor)
			assert.Empty(t, rec.Values, "a forwarding entry carries no values")
		}
		assert.Equal(t, map[string]string{"a": "1"}, strs(h.get(next, at(now)).Values))

		loser := newID(t)
		_, err = h.s.Renew(h.ctx, old, loser, change(now), graceOpts(now, time.Hour))
		var renewed *store.ErrRenewed
		require.ErrorAs(t, err, &renewed, "Renew of an ID renewed with grace")
		assert.Equal(t, next, renewed.Successor)
		h.missing(loser, now, "a refused Renew created its new ID")
		assert.Equal(t, []string{next}, h.listIDs("alice", now), "a forwarding entry is listed")
	})

	t.Run("RealTimeGrace", func(t *testing.T) {
		h := f.begin(t)
		t0 := time.Now()
		old, next := h.session(t0, "", "a", "1"), newID(t)
		_, err := h.s.Renew(h.ctx, old, next, change(t0), graceOpts(t0, rtIdle))
		require.NoError(t, err)

		// Reading through the forwarding entry, with a touch due, must not
		// extend the grace period.
		sleepUntil(t0.Add(rtIdle / 2))
		rec, err := h.s.Load(h.ctx, old, store.LoadOptions{Now: time.Now(), Idle: idle})
		require.NoError(t, err)
		require.Equal(t, next, rec.Successor)

		sleepUntil(t0.Add(rtAfter))
		h.gone(old, at(time.Now()), "old ID after its grace period")
		h.get(next, at(time.Now()))
		again := newID(t)
		_, err = h.s.Renew(h.ctx, old, again, change(time.Now()), graceOpts(time.Now(), time.Hour))
		require.Error(t, err, "Renew of an ID whose grace is over")
		h.missing(again, time.Now(), "a refused Renew created its new ID")
	})

	t.Run("MissingOldID", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		next := newID(t)
		_, err := h.s.Renew(h.ctx, newID(t), next, change(now), wopts(now))
		require.ErrorIs(t, err, store.ErrNotFound)
		h.missing(next, now, "Renew of a missing ID created the new one")
	})

	t.Run("ExpiredOldID", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		old, next := h.session(now, "alice"), newID(t)
		late := now.Add(idle + time.Minute)
		_, err := h.s.Renew(h.ctx, old, next, change(late), graceOpts(late, time.Hour))
		requireGone(t, err, "Renew of an expired session")
		h.missing(next, late, "Renew of an expired session created the new ID")
		assert.Equal(t, []string{old}, h.listIDs("alice", now.Add(time.Minute)), "Renew of an expired session indexed the new ID")
	})

	t.Run("TakenNewID", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		a, b := h.session(now, "alice", "a", "1"), h.session(now, "bob", "b", "2")
		_, err := h.s.Renew(h.ctx, a, b, change(now), graceOpts(now, time.Hour))
		require.ErrorIs(t, err, store.ErrExists, "Renew onto a taken ID")
		assert.Equal(t, map[string]string{"a": "1"}, strs(h.get(a, at(now)).Values), "the old record after a refused Renew")
		assert.Equal(t, map[string]string{"b": "2"}, strs(h.get(b, at(now)).Values), "the taken record after a refused Renew")
		assert.Equal(t, []string{a}, h.listIDs("alice", now))
		assert.Equal(t, []string{b}, h.listIDs("bob", now))
	})

	t.Run("UserIndexMovesToNewID", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		other := h.session(now, "alice")
		old, next := h.session(now, "alice"), newID(t)
		_, err := h.s.Renew(h.ctx, old, next, change(now), graceOpts(now, time.Hour))
		require.NoError(t, err)
		assert.ElementsMatch(t, []string{other, next}, h.listIDs("alice", now))
	})

	t.Run("UserIndexChangesUser", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		old, next := h.session(now, "alice"), newID(t)
		m := meta(now, "bob")
		_, err := h.s.Renew(h.ctx, old, next, &store.Change{Now: now, Idle: idle, Meta: &m}, wopts(now))
		require.NoError(t, err)
		assert.Empty(t, h.list("alice", now), "the old user still lists the session")
		assert.Equal(t, []string{next}, h.listIDs("bob", now))
		assert.Equal(t, "bob", h.get(next, at(now)).Meta.UserID)
	})

	t.Run("UserIndexBindsAnonymous", func(t *testing.T) {
		// A login: an anonymous session renewed and bound to a user.
		h := f.begin(t)
		now := time.Now()
		old, next := h.session(now, ""), newID(t)
		m := meta(now, "alice")
		_, err := h.s.Renew(h.ctx, old, next, &store.Change{Now: now, Idle: idle, Meta: &m}, graceOpts(now, time.Hour))
		require.NoError(t, err)
		assert.Equal(t, []string{next}, h.listIDs("alice", now))
	})

	t.Run("UserIndexUnbinds", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		old, next := h.session(now, "alice"), newID(t)
		m := meta(now, "")
		_, err := h.s.Renew(h.ctx, old, next, &store.Change{Now: now, Idle: idle, Meta: &m}, wopts(now))
		require.NoError(t, err)
		assert.Empty(t, h.list("alice", now))
	})

	t.Run("ConcurrentWithGrace", func(t *testing.T) { f.concurrentRenew(t, time.Hour) })
	t.Run("ConcurrentWithoutGrace", func(t *testing.T) { f.concurrentRenew(t, 0) })
}

// concurrentRenew races 16 Renews of one old ID to distinct new IDs: the
// rotation of a session hit by concurrent requests.
func (f factory) concurrentRenew(t *testing.T, grace time.Duration) {
	h := f.begin(t)
	now := time.Now()
	old := h.session(now, "alice", "a", "1")
	const n = 16
	ids := make([]string, n)
	for i := range ids {
		ids[i] = newID(t)
	}
	errs := make([]error, n)
	start := make(chan struct{})
	var wg group
	for i := range n {
		wg.Go(func() {
			<-start
			_, errs[i] = h.s.Renew(h.ctx, old, ids[i], change(now), store.WriteOptions{Now: now, Idle: idle, Grace: grace})
		})
	}
	close(start)
	wg.Wait()

	winner := ""
	for i, err := range errs {
		if err == nil {
			require.Empty(t, winner, "two Renews of one ID succeeded")
			winner = ids[i]
		}
	}
	require.NotEmpty(t, winner, "no Renew succeeded: %v", errs)
	for i, err := range errs {
		if err == nil {
			continue
		}
		var renewed *store.ErrRenewed
		switch {
		case errors.As(err, &renewed):
			// With grace the store knows the winner; without, it may not.
			if grace > 0 || renewed.Successor != "" {
				assert.Equal(t, winner, renewed.Successor, "loser %d's ErrRenewed", i)
			}
		case errors.Is(err, store.ErrNotFound):
		default:
			t.Errorf("loser %d: want ErrRenewed or ErrNotFound, got %v", i, err)
		}
	}
	for _, id := range ids {
		if id == winner {
			assert.Equal(t, map[string]string{"a": "1"}, strs(h.get(id, at(now)).Values))
		} else {
			h.missing(id, now, "a losing Renew's new ID exists")
		}
	}
	assert.Equal(t, []string{winner}, h.listIDs("alice", now))
	if grace > 0 {
		rec, err := h.s.Load(h.ctx, old, at(now))
		require.NoError(t, err)
		assert.Equal(t, winner, rec.Successor)
	} else {
		h.missing(old, now, "old ID after a Renew without grace")
	}
}
