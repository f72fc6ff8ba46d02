package memstore_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/stores/memstore"
)

// rememberedMeta is a session logged in with "remember me": its own idle
// timeout of a week, against the calls' hour.
func rememberedMeta(now time.Time, user string) store.Meta {
	m := meta(now, user)
	m.Idle, m.Remembered = 7*24*time.Hour, true
	m.ExpiresAt = now.Add(30 * 24 * time.Hour)
	m.Label, m.Binding = "Work laptop", "c2a1d0"
	m.Metadata = map[string]string{"device": "laptop"}
	return m
}

// The session's own idle timeout replaces the call's everywhere the store
// applies one, beyond what the conformance suite reaches: Take's liveness
// check, the liveness check of a write that replaces the metadata (the
// record's own, not the new one's), a Renew that logs in with an own idle,
// and the janitor.
func TestOwnIdleEverywhere(t *testing.T) {
	const hour, week = time.Hour, 7 * 24 * time.Hour
	t0 := time.Now()
	c := newClock(t0)
	s := memstore.New(memstore.Options{SweepInterval: time.Millisecond, Now: c.Now})
	defer s.Close()
	create := func(m store.Meta) string {
		id := newID(t)
		_, err := s.Create(ctx, id, &store.Record{Meta: m, Values: map[string][]byte{"f": []byte("1"), "g": []byte("2")}},
			store.WriteOptions{Now: t0, Idle: hour})
		require.NoError(t, err)
		return id
	}
	at := func(d time.Duration) store.LoadOptions {
		return store.LoadOptions{Now: t0.Add(d), Idle: hour, TouchAfter: week}
	}

	// Take: past the call's hour, inside the session's week.
	took := create(rememberedMeta(t0, "alice"))
	v, ok, err := s.Take(ctx, took, "f", at(2*hour))
	require.NoError(t, err, "Take past the call's idle timeout")
	assert.True(t, ok)
	assert.Equal(t, "1", string(v))
	_, _, err = s.Take(ctx, took, "g", at(week+time.Minute))
	assert.ErrorIs(t, err, store.ErrNotFound, "Take past the session's own idle timeout")

	// A write with new metadata is checked against the record's own idle
	// timeout: a short one that has run out is not revived by a long one
	// in the new metadata, and a long one keeps the record writable past
	// the call's hour, the new plain metadata then setting an hour.
	short := meta(t0, "")
	short.Idle = 10 * time.Minute
	shortID := create(short)
	long := rememberedMeta(t0, "")
	long.LastSeen = t0.Add(11 * time.Minute)
	assert.ErrorIs(t, s.Update(ctx, shortID, &store.Change{Now: long.LastSeen, Idle: hour, Meta: &long}), store.ErrNotFound,
		"a session past its own short idle timeout took a write")
	replaced := create(rememberedMeta(t0, "bob"))
	plain := meta(t0, "bob")
	plain.LastSeen = t0.Add(2 * hour)
	require.NoError(t, s.Update(ctx, replaced, &store.Change{Now: plain.LastSeen, Idle: hour, Meta: &plain}),
		"Update with Meta past the call's idle timeout, inside the record's own")
	_, err = s.Load(ctx, replaced, at(2*hour+59*time.Minute))
	require.NoError(t, err)
	_, err = s.Load(ctx, replaced, at(3*hour+time.Minute))
	assert.ErrorIs(t, err, store.ErrExpired, "the replaced metadata kept the old own idle timeout")

	// A Renew that logs in with remember me: the new own idle timeout
	// sets the deadline of the renewed record.
	plainID := create(meta(t0, ""))
	login := rememberedMeta(t0.Add(30*time.Minute), "carol")
	renewed := newID(t)
	_, err = s.Renew(ctx, plainID, renewed, &store.Change{Now: login.LastSeen, Idle: hour, Meta: &login},
		store.WriteOptions{Now: login.LastSeen, Idle: hour})
	require.NoError(t, err)
	got, err := s.Load(ctx, renewed, at(3*24*hour))
	require.NoError(t, err, "the renewed session's own idle timeout was not applied")
	assertLogin(t, login, got.Meta)

	// The janitor removes what the calls' hour would have expired, and
	// keeps what the sessions' own week keeps.
	c.advance(4 * hour)
	require.Eventually(t, func() bool { return s.Len() == 2 }, 5*time.Second, time.Millisecond,
		"the janitor did not remove the expired sessions")
	for _, id := range []string{took, renewed} {
		_, err := s.Load(ctx, id, store.LoadOptions{Idle: hour, TouchAfter: week})
		require.NoError(t, err, "%.8s", id)
	}
	require.NoError(t, s.CheckInvariants())
}

// assertLogin compares what a login chose, LastSeen aside.
func assertLogin(t *testing.T, want, got store.Meta) {
	t.Helper()
	assert.Equal(t, want.UserID, got.UserID)
	assert.Equal(t, want.Idle, got.Idle)
	assert.Equal(t, want.Remembered, got.Remembered)
	assert.Equal(t, want.Label, got.Label)
	assert.Equal(t, want.Metadata, got.Metadata)
	assert.Equal(t, want.Binding, got.Binding)
}
