package redisstore_test

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/internal/redistest"
	"github.com/sessionkit/sessionkit/stores/redisstore"
	"github.com/sessionkit/sessionkit/stores/storetest"
)

// appACL is the ACL user the README suggests for a store with the prefix
// "myapp:": its keys, and the scratch keys of new sessions ("{" + session
// key + "}:new", a hash tag for Redis Cluster), and no dangerous command
// (no admin command, no KEYS, no FLUSHALL, no INFO either).
var appACL = []string{"app", "on", ">" + alicePW, "~myapp:*", "~{myapp:*", "+@all", "-@dangerous"}

// TestConformanceACLUser: the conformance suite, unchanged, through that
// user: the store needs nothing more.
func TestConformanceACLUser(t *testing.T) {
	srv := redistest.StandaloneArgs(t, append([]string{"--requirepass", requirePW, "--user"}, appACL...)...)
	c := clientURL(t, "redis://app:"+alicePW+"@"+srv.Addr())
	require.NoError(t, check(t, c, startupDeadline))
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := redisstore.New(c, redisstore.Options{Prefix: "myapp:" + redistest.Prefix(t)})
		require.NoError(t, err)
		return s
	})
}

// setACLUser creates the app user on a running server (a Cluster node).
func setACLUser(t *testing.T, addr, password string) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, Password: password})
	defer c.Close()
	args := []any{"ACL", "SETUSER"}
	for _, a := range appACL {
		args = append(args, a)
	}
	require.NoError(t, c.Do(context.Background(), args...).Err())
}
