package redisstore_test

import (
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/internal/redistest"
	"github.com/sessionkit/sessionkit/stores/redisstore"
)

func TestMain(m *testing.M) { redistest.Main(m, closeShared) }

// The binary's shared clients, one per shared server, made on first use and
// closed by TestMain before the servers stop.
var shared struct {
	mu         sync.Mutex
	standalone redis.UniversalClient
	cluster    redis.UniversalClient
}

func closeShared() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	for _, c := range []redis.UniversalClient{shared.standalone, shared.cluster} {
		if c != nil {
			_ = c.Close()
		}
	}
}

// standaloneClient is a client of the shared standalone server.
func standaloneClient(t testing.TB) redis.UniversalClient {
	t.Helper()
	srv := redistest.SharedStandalone(t)
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.standalone == nil {
		c, err := redisstore.NewClient([]string{srv.Addr()}, 0)
		require.NoError(t, err)
		shared.standalone = c
	}
	return shared.standalone
}

// clusterClient is a client of the shared three-master cluster.
func clusterClient(t testing.TB) redis.UniversalClient {
	t.Helper()
	c := redistest.SharedCluster(t)
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.cluster == nil {
		cl, err := redisstore.NewClient(c.Addrs(), 0)
		require.NoError(t, err)
		shared.cluster = cl
	}
	return shared.cluster
}

// newStore is a store of its own (a fresh prefix) on client.
func newStore(t testing.TB, client redis.UniversalClient) (*redisstore.Store, string) {
	t.Helper()
	prefix := redistest.Prefix(t)
	s, err := redisstore.New(client, redisstore.Options{Prefix: prefix})
	require.NoError(t, err)
	return s, prefix
}
