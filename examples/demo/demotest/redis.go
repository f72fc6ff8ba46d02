package demotest

import (
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/internal/redistest"
	"github.com/sessionkit/sessionkit/stores/redisstore"
)

// Main runs the tests of an example's test binary that calls RunRedis,
// then stops the Redis servers they shared, and exits with the tests'
// status. Call it from TestMain:
//
//	func TestMain(m *testing.M) { demotest.Main(m) }
func Main(m *testing.M) { redistest.Main(m) }

// RunRedis runs the whole contract again with every app's sessions in
// Redis: once on a standalone server and once on a 3-master Cluster, both
// started by the test helpers on free loopback ports. The store-failure
// case keeps its own failing store. The test binary's TestMain must call
// Main (or redistest.Main).
func RunRedis(t *testing.T, start Start) {
	t.Run("Standalone", func(t *testing.T) {
		addr := redistest.SharedStandalone(t).Addr()
		Run(t, onStore(start, []string{addr}))
	})
	t.Run("Cluster", func(t *testing.T) {
		addrs := redistest.SharedCluster(t).Addrs()
		Run(t, onStore(start, addrs))
	})
}

// onStore wraps start so that the manager it is given keeps its settings
// but stores its sessions in Redis under a prefix of the test's own.
func onStore(start Start, addrs []string) Start {
	return func(t *testing.T, m *core.Manager, useTLS bool) Target {
		cfg := m.Config()
		if cfg.Store != nil {
			return start(t, m, useTLS) // a case that brings its own store
		}
		client, err := redisstore.NewClient(addrs, 0)
		require.NoError(t, err)
		st, err := redisstore.New(client, redisstore.Options{Prefix: redistest.Prefix(t)})
		require.NoError(t, err)
		cfg.Store = st
		onRedis, err := core.New(cfg)
		require.NoError(t, err)
		// Registered before start's cleanups, so they run after the server
		// has stopped.
		t.Cleanup(func() {
			require.NoError(t, onRedis.Close())
			require.NoError(t, client.Close())
		})
		return start(t, onRedis, useTLS)
	}
}

var _ redis.UniversalClient = (*redis.Client)(nil)
