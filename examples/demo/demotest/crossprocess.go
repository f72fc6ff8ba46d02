package demotest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/examples/demo"
	"github.com/sessionkit/sessionkit/internal/redistest"
	"github.com/sessionkit/sessionkit/stores/redisstore"
)

// crossStaleness is the near cache's MaxStaleness in the cross-process
// case: long, so that an answer well within it is Redis's invalidation at
// work, not the cached record growing too old.
const crossStaleness = 30 * time.Second

// crossPrompt bounds how long the other process may take to see a write
// or a revocation: the invalidation arrives within microseconds; the rest
// is HTTP round trips on a busy machine under the race detector.
const crossPrompt = 5 * time.Second

// cachedApp is a demo app as -store redis -redis-cache starts it (its
// own client, store and near cache), serving with start on the Redis at
// addrs under prefix; its store is returned for its cache's counters.
func cachedApp(t *testing.T, start Start, addrs []string, prefix string) (Target, *redisstore.Store) {
	t.Helper()
	requireAddrs(t, addrs)
	o := Insecure()
	o.Store = demo.StoreRedis
	o.RedisAddrs = addrs
	o.RedisPrefix = prefix
	o.RedisCache = true
	o.RedisCacheStaleness = crossStaleness
	m, closeFn, err := demo.NewManager(o, Quiet())
	require.NoError(t, err)
	// Registered before start's cleanups, so it runs after the server has
	// stopped: the manager, then the store's cache, then the client.
	t.Cleanup(func() { require.NoError(t, closeFn()) })
	st, ok := m.Config().Store.(*redisstore.Store)
	require.True(t, ok, "the demo's store is a *redisstore.Store: %T", m.Config().Store)
	require.Eventually(t, func() bool { return st.CacheStats().Tracking }, 10*time.Second, 5*time.Millisecond,
		"the cache tracks every node: %v", st.CacheStats().TrackingError)
	return start(t, m, false), st
}

// testCrossProcess: two demo apps (two processes, as far as the store can
// tell: each its own manager, client and cache) share one Redis. A session
// logged in through A and cached by B sees A's writes, and B refuses it
// once A revokes it or logs it out, promptly and always within the
// cache's MaxStaleness.
func testCrossProcess(t *testing.T, start Start, addrs []string) {
	prefix := redistest.Prefix(t)
	srvA, _ := cachedApp(t, start, addrs, prefix)
	srvB, stB := cachedApp(t, start, addrs, prefix)

	laptop := NewClient(t, srvA, "Laptop/1.0")
	phone := NewClient(t, srvA, "Phone/2.0")
	Want(t, laptop.Login("alice"), 200, `{"user":"alice"}`)
	Want(t, phone.Login("alice"), 200, `{"user":"alice"}`)
	laptopCookie := "session=" + laptop.Token("session")
	phoneCookie := "session=" + phone.Token("session")

	// B serves both sessions, the second time from its cache.
	for i := 0; i < 2; i++ {
		Want(t, Replay(t, srvB, "GET", "/me", laptopCookie), 200, `{"user":"alice"}`)
		Want(t, Replay(t, srvB, "GET", "/me", phoneCookie), 200, `{"user":"alice"}`)
	}
	Want(t, Replay(t, srvB, "GET", "/counter", laptopCookie), 200, `{"count":0}`)
	hits := stB.CacheStats().Hits
	require.NotZero(t, hits, "B served the sessions from its cache: %+v", stB.CacheStats())

	// A write through A is seen by B.
	Want(t, laptop.Do("POST", "/counter", ""), 200, `{"count":1}`)
	within(t, "B sees A's write", func() bool {
		return Replay(t, srvB, "GET", "/counter", laptopCookie).Raw == `{"count":1}`+"\n"
	})

	// A revokes the phone: B refuses it.
	Want(t, laptop.Do("DELETE", "/sessions/"+hashOf(phone.Token("session")), ""), 200, `{"revoked":1}`)
	within(t, "B refuses the session A revoked", func() bool {
		return Replay(t, srvB, "GET", "/me", phoneCookie).Status == 401
	})
	Want(t, Replay(t, srvB, "GET", "/me", phoneCookie), 401, `{"error":"not logged in"}`)

	// The laptop logs out through A: B refuses it.
	Want(t, Replay(t, srvB, "GET", "/me", laptopCookie), 200, `{"user":"alice"}`, "B still serves the laptop")
	Want(t, laptop.Do("POST", "/logout", ""), 200, `{"ok":true}`)
	within(t, "B refuses the session logged out through A", func() bool {
		return Replay(t, srvB, "GET", "/me", laptopCookie).Status == 401
	})
	Want(t, Replay(t, srvB, "GET", "/me", laptopCookie), 401, `{"error":"not logged in"}`)

	st := stB.CacheStats()
	assert.NotZero(t, st.Invalidations, "B learnt of A's changes from Redis: %+v", st)
	assert.True(t, st.Tracking, "%+v", st)
}

// within polls ok until it holds, for at most crossStaleness and a
// margin, and logs how long that took; past crossPrompt the test fails
// all the same: the other process sees a change when Redis's
// invalidation arrives, not when the cached record ages out.
func within(t *testing.T, what string, ok func() bool) {
	t.Helper()
	begin := time.Now()
	deadline := begin.Add(crossStaleness + 2*time.Second)
	polls := 1
	for ; !ok(); polls++ {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, time.Since(begin))
		}
		time.Sleep(time.Millisecond)
	}
	d := time.Since(begin)
	t.Logf("%s: after %v (%d requests)", what, d, polls)
	assert.Less(t, d, crossPrompt, "%s: within the invalidation delivery time, not the staleness bound", what)
}
