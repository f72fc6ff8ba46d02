package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/internal/redistest"
	"github.com/sessionkit/sessionkit/stores/redisstore"
)

// TestOwnIdleTimeout: a session's own idle timeout (store.Meta.Idle), not
// the call's, sets its key's TTL and its deadline in the user's expiry
// index, at every write that moves them: Create, a touch, an Update (with
// and without the user's index named in the change, and from a process
// that never loaded the session), a Renew; an Update whose Meta has none
// goes back to the call's, and deletes the field.
func TestOwnIdleTimeout(t *testing.T) {
	t.Parallel()
	client := standaloneClient(t)
	s, prefix := newStore(t, client)
	ctx := context.Background()
	const own = 2 * idle
	_, expiry, _ := indexKeys(prefix, "alice")
	check := func(id string, at time.Time, want time.Duration, what string) {
		t.Helper()
		ttl := client.PTTL(ctx, prefix+id).Val()
		assert.InDelta(t, want.Milliseconds(), ttl.Milliseconds(), 2000, "%s: TTL", what)
		v, err := client.ZScore(ctx, expiry, id).Result()
		require.NoError(t, err, "%s: no expiry index entry", what)
		assert.Equal(t, at.Add(want).UnixMilli(), int64(v), "%s: index deadline", what)
	}

	now := time.Now()
	m := meta(now, "alice")
	m.Idle, m.Remembered = own, true
	id := newID(t)
	_, err := s.Create(ctx, id, &store.Record{Meta: m, Values: map[string][]byte{"a": []byte("1")}}, wopts(now))
	require.NoError(t, err)
	check(id, now, own, "Create")
	assert.Equal(t, "7200000", client.HGet(ctx, prefix+id, "m:idle").Val())

	// Past the call's idle timeout, inside its own: a touch.
	t1 := now.Add(idle + 30*time.Minute)
	rec, err := s.Load(ctx, id, store.LoadOptions{Now: t1, Idle: idle, TouchAfter: time.Minute})
	require.NoError(t, err)
	assert.Equal(t, own, rec.Meta.Idle)
	check(id, t1, own, "touch")

	v, ok, err := s.Take(ctx, id, "a", store.LoadOptions{Now: t1.Add(idle + time.Minute), Idle: idle})
	require.NoError(t, err, "Take past the call's idle timeout")
	assert.True(t, ok)
	assert.Equal(t, []byte("1"), v)

	t2 := t1.Add(idle + 30*time.Minute)
	require.NoError(t, s.Update(ctx, id, &store.Change{Now: t2, Idle: idle, UserID: "alice", ExpiresAt: m.ExpiresAt, Set: map[string][]byte{"b": []byte("2")}}))
	check(id, t2, own, "Update naming the user")

	fresh, err := redisstore.New(client, redisstore.Options{Prefix: prefix})
	require.NoError(t, err)
	t3 := t2.Add(idle + 30*time.Minute)
	require.NoError(t, fresh.Update(ctx, id, &store.Change{Now: t3, Idle: idle, Set: map[string][]byte{"c": []byte("3")}}))
	check(id, t3, own, "Update by another process")

	next := newID(t)
	t4 := t3.Add(idle + 30*time.Minute)
	_, err = s.Renew(ctx, id, next, &store.Change{Now: t4, Idle: idle}, wopts(t4))
	require.NoError(t, err)
	check(next, t4, own, "Renew")

	// A login without remember me: the call's idle timeout again.
	plain := meta(t4, "alice")
	plain.CreatedAt = m.CreatedAt
	t5 := t4.Add(time.Minute)
	plain.LastSeen = t5
	require.NoError(t, s.Update(ctx, next, &store.Change{Now: t5, Idle: idle, Meta: &plain}))
	ttl := client.PTTL(ctx, prefix+next).Val()
	assert.InDelta(t, idle.Milliseconds(), ttl.Milliseconds(), 2000, "TTL after a Meta without own idle")
	for _, f := range []string{"m:idle", "m:rem"} {
		assert.False(t, client.HExists(ctx, prefix+next, f).Val(), "%s left behind by a Meta without it", f)
	}
	_, err = s.Load(ctx, next, store.LoadOptions{Now: t5.Add(idle + time.Second), Idle: idle, TouchAfter: lifetime})
	assert.ErrorIs(t, err, store.ErrExpired, "the own idle timeout outlived the Meta that dropped it")
}

// TestLoginFieldsKeptInClaimCopy: the copy of the record that Renew's
// claim keeps in the forwarding entry (c: fields) holds the login's
// fields, so that a Renew whose claim reply was lost puts the session back
// with all of them, own idle timeout and TTL included.
func TestLoginFieldsKeptInClaimCopy(t *testing.T) {
	t.Parallel()
	prefix := redistest.Prefix(t)
	ctx := context.Background()
	now := time.Now()
	m := meta(now, "alice")
	m.Idle, m.Remembered, m.Label, m.Binding = 2*idle, true, "Phone", "b1nd"
	m.Metadata = map[string]string{"device": "phone", "os": "\xff"}

	// Interrupted before its second round trip: the copy is there.
	old, next := newID(t), newID(t)
	renewing, other := hooked(t, &interceptor{key: prefix + next, f: func() error { return errInjected }}, prefix)
	_, err := other.Create(ctx, old, &store.Record{Meta: m}, wopts(now))
	require.NoError(t, err)
	want := standaloneClient(t).HGetAll(ctx, prefix+old).Val()
	for _, f := range []string{"m:idle", "m:rem", "m:lbl", "m:md", "m:bind"} {
		require.Contains(t, want, f)
	}
	_, err = renewing.Renew(ctx, old, next, &store.Change{Now: now, Idle: idle},
		store.WriteOptions{Now: now, Idle: idle, Grace: time.Minute})
	require.ErrorIs(t, err, errInjected)
	kept := standaloneClient(t).HGetAll(ctx, prefix+old).Val()
	for f, v := range want {
		assert.Equal(t, v, kept["c:"+f], "the claim's copy of %s", f)
	}

	// The claim's reply lost: the record comes back from the copy.
	old, next = newID(t), newID(t)
	c := redis.NewClient(&redis.Options{Addr: redistest.SharedStandalone(t).Addr()})
	t.Cleanup(func() { c.Close() })
	require.NoError(t, redisstore.LoadScripts(ctx, c))
	c.AddHook(&duplicator{key: prefix + old, lose: true})
	lossy, err := redisstore.New(c, redisstore.Options{Prefix: prefix})
	require.NoError(t, err)
	_, err = other.Create(ctx, old, &store.Record{Meta: m}, wopts(now))
	require.NoError(t, err)
	_, err = lossy.Renew(ctx, old, next, &store.Change{Now: now, Idle: idle}, wopts(now))
	require.ErrorIs(t, err, errInjected)
	rec, err := other.Load(ctx, old, store.LoadOptions{Now: now.Add(idle + time.Minute), Idle: idle, TouchAfter: lifetime})
	require.NoError(t, err, "the restored session lost its own idle timeout")
	assert.Equal(t, m.Idle, rec.Meta.Idle)
	assert.True(t, rec.Meta.Remembered)
	assert.Equal(t, m.Label, rec.Meta.Label)
	assert.Equal(t, m.Binding, rec.Meta.Binding)
	assert.Equal(t, m.Metadata, rec.Meta.Metadata)
	ttl := c.PTTL(ctx, prefix+old).Val()
	assert.InDelta(t, m.Idle.Milliseconds(), ttl.Milliseconds(), 5000, "the restored TTL")
}
