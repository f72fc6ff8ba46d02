package redisstore_test

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/internal/redistest"
	"github.com/sessionkit/sessionkit/stores/redisstore"
	"github.com/sessionkit/sessionkit/stores/storetest"
)

// TestKeyLayout runs the conformance suite and a workload with hostile user
// IDs on a server of its own, then SCANs every key: each is a prefix
// followed by a 64-hex session ID or a hashed user index key, so neither a
// token nor any client input is ever part of a key, and each has a TTL, so
// nothing the store writes lives forever.
func TestKeyLayout(t *testing.T) {
	srv := redistest.Standalone(t)
	client := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { client.Close() })
	ctx := context.Background()

	var mu sync.Mutex
	var prefixes []string
	storetest.Run(t, func(t *testing.T) store.Store {
		s, prefix := newStore(t, client)
		mu.Lock()
		prefixes = append(prefixes, prefix)
		mu.Unlock()
		return s
	})

	s, err := redisstore.New(client, redisstore.Options{}) // the default prefix
	require.NoError(t, err)
	prefixes = append(prefixes, redisstore.DefaultPrefix)
	hostile := []string{
		"alice", "../../etc/passwd", "{tag}", "a}b{c", "user\r\nDEL *", "*", "session:",
		strings.Repeat("x", 10000), "ключ", "\x00\xff",
	}
	now := time.Now()
	for _, user := range hostile {
		var ids []string
		for range 3 {
			ids = append(ids, create(t, s, now, user, "k", "v"))
		}
		_, err := s.Renew(ctx, ids[0], newID(t), &store.Change{Now: now, Idle: idle},
			store.WriteOptions{Now: now, Idle: idle, Grace: time.Minute})
		require.NoError(t, err)
		m := meta(now, user)
		_, err = s.Renew(ctx, ids[1], newID(t), &store.Change{Now: now, Idle: idle, Meta: &m}, wopts(now))
		require.NoError(t, err)
		_, err = s.Create(ctx, newID(t), &store.Record{Meta: meta(now, user)},
			store.WriteOptions{Now: now, Idle: idle, MaxPerUser: 2})
		require.NoError(t, err)
		entries, err := s.ListUser(ctx, user, now)
		require.NoError(t, err)
		assert.Len(t, entries, 2, "user %q", user)
	}
	_, err = s.DeleteUser(ctx, hostile[0], "")
	require.NoError(t, err)

	alts := make([]string, len(prefixes))
	for i, p := range prefixes {
		alts[i] = regexp.QuoteMeta(p)
	}
	shape := regexp.MustCompile(`^(?:` + strings.Join(alts, "|") + `)(?:[0-9a-f]{64}|u:\{[0-9a-f]{64}\}(?::x|:e)?)$`)
	var keys int
	iter := client.Scan(ctx, 0, "*", 1000).Iterator()
	for iter.Next(ctx) {
		key := iter.Val()
		keys++
		// Only the prefix, hex digits and fixed literals: no user ID (all
		// of which contain something else) and no token (never seen).
		assert.Regexp(t, shape, key, "a key of another shape")
		ttl, err := client.PTTL(ctx, key).Result()
		require.NoError(t, err)
		assert.Positive(t, ttl, "key %s has no TTL", key)
	}
	require.NoError(t, iter.Err())
	assert.Greater(t, keys, 50, "the workload left keys to check")
}

// TestTTLs: Redis, not a timer in the process, ends what the store writes:
// a session's TTL is its deadline less Now, a forwarding entry's its grace.
func TestTTLs(t *testing.T) {
	t.Parallel()
	client := standaloneClient(t)
	s, prefix := newStore(t, client)
	ctx := context.Background()
	now := time.Now()

	m := meta(now, "alice")
	m.ExpiresAt = now.Add(10 * time.Minute) // lifetime left < idle
	short := newID(t)
	_, err := s.Create(ctx, short, &store.Record{Meta: m}, wopts(now))
	require.NoError(t, err)
	ttl := client.PTTL(ctx, prefix+short).Val()
	assert.InDelta(t, (10 * time.Minute).Milliseconds(), ttl.Milliseconds(), 2000, "TTL = lifetime left")

	id := create(t, s, now, "alice")
	ttl = client.PTTL(ctx, prefix+id).Val()
	assert.InDelta(t, idle.Milliseconds(), ttl.Milliseconds(), 2000, "TTL = idle")

	next := newID(t)
	_, err = s.Renew(ctx, id, next, &store.Change{Now: now, Idle: idle}, store.WriteOptions{Now: now, Idle: idle, Grace: 5 * time.Second})
	require.NoError(t, err)
	ttl = client.PTTL(ctx, prefix+id).Val()
	assert.True(t, ttl > 0 && ttl <= 5*time.Second, "forwarding entry TTL %v, want the grace period", ttl)

	// A touch moves the TTL to the new deadline.
	later := now.Add(30 * time.Minute)
	_, err = s.Load(ctx, next, store.LoadOptions{Now: later, Idle: idle, TouchAfter: time.Minute})
	require.NoError(t, err)
	ttl = client.PTTL(ctx, prefix+next).Val()
	assert.InDelta(t, idle.Milliseconds(), ttl.Milliseconds(), 2000, "TTL after a touch")
}
