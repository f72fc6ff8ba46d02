package demotest

import (
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/internal/pgtest"
	"github.com/sessionkit/sessionkit/internal/redistest"
	"github.com/sessionkit/sessionkit/stores/redisstore"
)

// Main runs the tests of an example's test binary that calls RunRedis or
// RunPostgres, then stops the Redis and PostgreSQL servers they shared,
// and exits with the tests' status. Call it from TestMain:
//
//	func TestMain(m *testing.M) { demotest.Main(m) }
func Main(m *testing.M) { redistest.Main(m, pgtest.Setup()) }

// RunRedis runs the whole contract again with every app's sessions in
// Redis: on a standalone server and on a 3-master Cluster, both started
// by the test helpers on free loopback ports, each with the near cache
// off (Standalone, Cluster) and on (StandaloneCache, ClusterCache, as
// -redis-cache runs the demo). With the cache on it adds the case only a
// cache makes worth testing: two apps on the same Redis, each with its
// own client and cache, see each other's writes and revocations
// (CrossProcess). The store-failure case keeps its own failing store.
// The test binary's TestMain must call Main (or redistest.Main).
func RunRedis(t *testing.T, start Start) {
	t.Run("Standalone", func(t *testing.T) {
		addr := redistest.SharedStandalone(t).Addr()
		Run(t, onStore(start, []string{addr}, false))
	})
	t.Run("Cluster", func(t *testing.T) {
		addrs := redistest.SharedCluster(t).Addrs()
		Run(t, onStore(start, addrs, false))
	})
	t.Run("StandaloneCache", func(t *testing.T) {
		addrs := []string{redistest.SharedStandalone(t).Addr()}
		t.Run("CrossProcess", func(t *testing.T) {
			t.Parallel()
			testCrossProcess(t, start, addrs)
		})
		Run(t, onStore(start, addrs, true))
	})
	t.Run("ClusterCache", func(t *testing.T) {
		addrs := redistest.SharedCluster(t).Addrs()
		t.Run("CrossProcess", func(t *testing.T) {
			t.Parallel()
			testCrossProcess(t, start, addrs)
		})
		Run(t, onStore(start, addrs, true))
	})
}

// onStore wraps start so that the manager it is given keeps its settings
// but stores its sessions in Redis under a prefix of the test's own, with
// the near cache (its defaults, as -redis-cache) when cache is set.
func onStore(start Start, addrs []string, cache bool) Start {
	return func(t *testing.T, m *core.Manager, useTLS bool) Target {
		cfg := m.Config()
		if cfg.Store != nil {
			return start(t, m, useTLS) // a case that brings its own store
		}
		requireAddrs(t, addrs)
		client, err := redisstore.NewClient(addrs, 0)
		require.NoError(t, err)
		opts := redisstore.Options{Prefix: redistest.Prefix(t)}
		if cache {
			opts.Cache = &redisstore.CacheOptions{}
		}
		st, err := redisstore.New(client, opts)
		require.NoError(t, err)
		cfg.Store = st
		onRedis, err := core.New(cfg)
		require.NoError(t, err)
		// Registered before start's cleanups, so they run after the server
		// has stopped.
		t.Cleanup(func() {
			require.NoError(t, onRedis.Close())
			require.NoError(t, st.Close()) // before the client it tracks on
			require.NoError(t, client.Close())
		})
		return start(t, onRedis, useTLS)
	}
}

// requireAddrs stops the test unless addrs names servers: an empty
// address would reach a default (the machine's own Redis on 6379), a
// server the test did not start.
func requireAddrs(t *testing.T, addrs []string) {
	t.Helper()
	require.NotEmpty(t, addrs, "no Redis address")
	for _, a := range addrs {
		require.NotEmpty(t, a, "an empty Redis address in %q", addrs)
	}
}

var _ redis.UniversalClient = (*redis.Client)(nil)
