package redisstore_test

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/stores/storetest"
)

// The conformance suite, unchanged, against a standalone server and against
// a three-master Redis Cluster, where a session and its user's index live on
// different nodes.
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
	}
}
