package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core/store"
)

func (f factory) delete(t *testing.T) {
	t.Run("Live", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		id, other := h.session(now, "alice", "a", "1"), h.session(now, "alice", "b", "2")
		existed, err := h.s.Delete(h.ctx, id)
		require.NoError(t, err)
		assert.True(t, existed, "Delete of a live record reports existed")
		h.missing(id, now, "after Delete")
		assert.Equal(t, []string{other}, h.listIDs("alice", now), "a deleted session is still listed")
		assert.Equal(t, map[string]string{"b": "2"}, strs(h.get(other, at(now)).Values))

		existed, err = h.s.Delete(h.ctx, id)
		require.NoError(t, err)
		assert.False(t, existed, "second Delete of the same ID reports existed")
	})

	t.Run("Missing", func(t *testing.T) {
		h := f.begin(t)
		existed, err := h.s.Delete(h.ctx, newID(t))
		require.NoError(t, err, "Delete of a missing ID is not an error")
		assert.False(t, existed)
	})

	t.Run("ForwardingEntryTakesSuccessor", func(t *testing.T) {
		// A logout that loaded the session just before another request
		// rotated it deletes the old ID; the successor must go with it, or
		// the rotating response would leave the user logged in.
		h := f.begin(t)
		now := time.Now()
		old, next, other := h.session(now, "alice", "a", "1"), newID(t), h.session(now, "alice")
		_, err := h.s.Renew(h.ctx, old, next, change(now), store.WriteOptions{Now: now, Idle: idle, Grace: time.Hour})
		require.NoError(t, err)

		existed, err := h.s.Delete(h.ctx, old)
		require.NoError(t, err)
		assert.True(t, existed, "Delete through a forwarding entry deleted a live record")
		h.missing(old, now, "forwarding entry after Delete")
		h.missing(next, now, "the successor after deleting its forwarding entry")
		assert.Equal(t, []string{other}, h.listIDs("alice", now), "only the unrelated session is left")
	})

	t.Run("ForwardingChain", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		a, b, c := h.session(now, "alice", "a", "1"), newID(t), newID(t)
		grace := store.WriteOptions{Now: now, Idle: idle, Grace: time.Hour}
		_, err := h.s.Renew(h.ctx, a, b, change(now), grace)
		require.NoError(t, err)
		_, err = h.s.Renew(h.ctx, b, c, change(now), grace)
		require.NoError(t, err)
		_, err = h.s.Delete(h.ctx, a)
		require.NoError(t, err)
		h.missing(c, now, "the end of the chain after deleting its first link")
		assert.Empty(t, h.listIDs("alice", now))
	})
}

func (f factory) user(t *testing.T) {
	t.Run("ListExact", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		a1 := h.session(now, "alice")
		m := meta(now.Add(time.Second), "alice")
		m.UserAgent, m.IP = "other-agent", "198.51.100.77"
		a2 := newID(t)
		h.put(a2, &store.Record{Meta: m, Values: vals("big", "value")}, wopts(now))
		b1 := h.session(now, "bob")
		h.session(now, "")

		got := h.list("alice", now.Add(2*time.Second))
		require.Len(t, got, 2)
		require.Contains(t, got, a1)
		require.Contains(t, got, a2)
		assertMeta(t, meta(now, "alice"), got[a1].Meta, "listed a1")
		assertMeta(t, m, got[a2].Meta, "listed a2")
		assert.Equal(t, []string{b1}, h.listIDs("bob", now))
	})

	t.Run("ListUnknownUser", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		h.session(now, "alice")
		assert.Empty(t, h.list("nobody", now))
		assert.Empty(t, h.list("", now), "anonymous sessions are nobody's")
	})

	t.Run("ListReflectsUpdate", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		id := h.session(now, "alice")
		later := now.Add(3 * time.Minute)
		m := meta(now, "alice")
		m.UserAgent = "updated-agent"
		require.NoError(t, h.s.Update(h.ctx, id, &store.Change{Now: later, Idle: idle, Meta: &m}))
		got := h.list("alice", later)
		require.Contains(t, got, id)
		want := m
		want.LastSeen = later
		assertMeta(t, want, got[id].Meta, "listing after Update")
	})

	t.Run("DeleteUserAll", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		mine := []string{h.session(now, "alice"), h.session(now, "alice"), h.session(now, "alice")}
		bobs := h.session(now, "bob", "b", "2")
		deleted, err := h.s.DeleteUser(h.ctx, "alice", "")
		require.NoError(t, err)
		assert.ElementsMatch(t, mine, deleted)
		for _, id := range mine {
			h.missing(id, now, "after DeleteUser")
			require.ErrorIs(t, h.s.Update(h.ctx, id, &store.Change{Now: now, Idle: idle, Set: vals("x", "1")}),
				store.ErrNotFound, "Update of a revoked session")
		}
		assert.Empty(t, h.list("alice", now))
		assert.Equal(t, []string{bobs}, h.listIDs("bob", now), "another user's sessions")
		assert.Equal(t, map[string]string{"b": "2"}, strs(h.get(bobs, at(now)).Values))
	})

	t.Run("DeleteUserKeep", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		a1, keep, a3 := h.session(now, "alice"), h.session(now, "alice", "k", "v"), h.session(now, "alice")
		deleted, err := h.s.DeleteUser(h.ctx, "alice", keep)
		require.NoError(t, err)
		assert.ElementsMatch(t, []string{a1, a3}, deleted)
		h.missing(a1, now, "after DeleteUser")
		h.missing(a3, now, "after DeleteUser")
		assert.Equal(t, map[string]string{"k": "v"}, strs(h.get(keep, at(now)).Values), "the kept session")
		assert.Equal(t, []string{keep}, h.listIDs("alice", now))
	})

	t.Run("DeleteUserUnknown", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		id := h.session(now, "alice")
		deleted, err := h.s.DeleteUser(h.ctx, "nobody", "")
		require.NoError(t, err)
		assert.Empty(t, deleted)
		h.get(id, at(now))
	})
}

// capped creates a session for user with the given CreatedAt, written at
// now under a cap, and returns its ID and what the store evicted.
func (h *harness) capped(now, created time.Time, user string, limit int) (string, []string) {
	h.t.Helper()
	m := meta(now, user)
	m.CreatedAt = created
	id := newID(h.t)
	evicted, err := h.s.Create(h.ctx, id, &store.Record{Meta: m}, store.WriteOptions{Now: now, Idle: idle, MaxPerUser: limit})
	require.NoError(h.t, err, "Create")
	return id, evicted
}

func (f factory) cap(t *testing.T) {
	t.Run("EvictsOldestByCreatedAt", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		bobs, _ := h.capped(now, now.Add(-time.Hour), "bob", 3)
		// Created out of order: eviction goes by CreatedAt, not insertion.
		mid, e1 := h.capped(now, now.Add(-2*time.Minute), "alice", 3)
		oldest, e2 := h.capped(now, now.Add(-3*time.Minute), "alice", 3)
		newest, e3 := h.capped(now, now.Add(-time.Minute), "alice", 3)
		require.Empty(t, append(append(e1, e2...), e3...), "evicted below the cap")

		added, evicted := h.capped(now, now, "alice", 3)
		assert.Equal(t, []string{oldest}, evicted)
		h.missing(oldest, now, "evicted session")
		assert.ElementsMatch(t, []string{mid, newest, added}, h.listIDs("alice", now))
		assert.Equal(t, []string{bobs}, h.listIDs("bob", now), "another user's older session")
	})

	t.Run("EvictsSeveral", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		var ids []string
		for i := 5; i >= 1; i-- {
			id, _ := h.capped(now, now.Add(-time.Duration(i)*time.Minute), "alice", 0)
			ids = append(ids, id)
		}
		added, evicted := h.capped(now, now, "alice", 3)
		assert.ElementsMatch(t, ids[:3], evicted, "the three oldest")
		for _, id := range ids[:3] {
			h.missing(id, now, "evicted session")
		}
		assert.ElementsMatch(t, []string{ids[3], ids[4], added}, h.listIDs("alice", now))
	})

	t.Run("IgnoresAnonymous", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		var ids []string
		for range 4 {
			id, evicted := h.capped(now, now, "", 1)
			require.Empty(t, evicted, "an anonymous session evicted something")
			ids = append(ids, id)
		}
		for _, id := range ids {
			h.get(id, at(now))
		}
	})

	t.Run("OnRenew", func(t *testing.T) {
		// A login that binds an anonymous session to a user at the cap.
		h := f.begin(t)
		now := time.Now()
		oldest, _ := h.capped(now, now.Add(-3*time.Minute), "alice", 3)
		s2, _ := h.capped(now, now.Add(-2*time.Minute), "alice", 3)
		s3, _ := h.capped(now, now.Add(-time.Minute), "alice", 3)
		anon, next := h.session(now, ""), newID(t)
		m := meta(now, "alice")
		evicted, err := h.s.Renew(h.ctx, anon, next, &store.Change{Now: now, Idle: idle, Meta: &m},
			store.WriteOptions{Now: now, Idle: idle, MaxPerUser: 3, Grace: time.Hour})
		require.NoError(t, err)
		assert.Equal(t, []string{oldest}, evicted)
		h.missing(oldest, now, "evicted session")
		assert.ElementsMatch(t, []string{s2, s3, next}, h.listIDs("alice", now))
	})

	t.Run("RenewDoesNotCountOldID", func(t *testing.T) {
		h := f.begin(t)
		now := time.Now()
		s1, _ := h.capped(now, now.Add(-3*time.Minute), "alice", 3)
		s2, _ := h.capped(now, now.Add(-2*time.Minute), "alice", 3)
		s3, _ := h.capped(now, now.Add(-time.Minute), "alice", 3)
		next := newID(t)
		evicted, err := h.s.Renew(h.ctx, s3, next, change(now), store.WriteOptions{Now: now, Idle: idle, MaxPerUser: 3, Grace: time.Hour})
		require.NoError(t, err)
		assert.Empty(t, evicted, "a session's own old ID counted against the cap")
		assert.ElementsMatch(t, []string{s1, s2, next}, h.listIDs("alice", now))
	})

	t.Run("Concurrent", func(t *testing.T) {
		h := f.begin(t)
		const n, limit = 20, 3
		ids := make([]string, n)
		evictions := make([][]string, n)
		errs := make([]error, n)
		start := make(chan struct{})
		var wg group
		for i := range n {
			ids[i] = newID(t)
			wg.Go(func() {
				<-start
				now := time.Now()
				evictions[i], errs[i] = h.s.Create(h.ctx, ids[i], &store.Record{Meta: meta(now, "alice")},
					store.WriteOptions{Now: now, Idle: idle, MaxPerUser: limit})
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			require.NoError(t, err, "Create %d", i)
		}

		now := time.Now()
		listed := h.listIDs("alice", now)
		assert.LessOrEqual(t, len(listed), limit, "more sessions than the cap")
		assert.GreaterOrEqual(t, len(listed), 1)
		evicted := map[string]bool{}
		for _, ev := range evictions {
			for _, id := range ev {
				assert.False(t, evicted[id], "%s reported evicted twice", id)
				evicted[id] = true
				h.missing(id, now, "reported evicted")
			}
		}
		for _, id := range listed {
			assert.False(t, evicted[id], "%s is listed but was reported evicted", id)
		}
		for _, id := range ids {
			if !evicted[id] {
				assert.Contains(t, listed, id, "a session vanished without being reported evicted")
			}
		}
	})
}
