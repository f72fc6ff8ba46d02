package redisstore_test

import (
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/internal/redistest"
	"github.com/sessionkit/sessionkit/stores/redisstore"
	"github.com/sessionkit/sessionkit/stores/storetest"
)

// The conformance suite, unchanged, against a standalone server and against
// a three-master Redis Cluster, where a session and its user's index live on
// different nodes; on each, without and with the near cache (every store
// waits for its tracking, so that its Loads are served from the cache
// wherever the suite reads a record twice).
func TestConformance(t *testing.T) {
	for name, client := range map[string]func(testing.TB) redis.UniversalClient{
		"Standalone": standaloneClient,
		"Cluster":    clusterClient,
	} {
		t.Run(name, func(t *testing.T) {
			c := client(t)
			storetest.Run(t, func(t *testing.T) store.Store {
				s, _ := newStore(t, c)
				return s
			})
		})
		t.Run(name+"Cache", func(t *testing.T) {
			c := client(t)
			storetest.Run(t, func(t *testing.T) store.Store {
				s, err := redisstore.New(c, redisstore.Options{Prefix: redistest.Prefix(t), Cache: &redisstore.CacheOptions{}})
				require.NoError(t, err)
				t.Cleanup(func() { s.Close() })
				require.True(t, redisstore.WaitTracking(s, trackTimeout), "tracking not established")
				return s
			})
		})
	}
}
