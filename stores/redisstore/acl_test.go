package redisstore_test

import (
	"context"
	"slices"
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

// appACL is the ACL user the README suggests for a store with the prefix
// "myapp:": its keys, and the scratch keys of new sessions ("{" + session
// key + "}:new", a hash tag for Redis Cluster), and no dangerous command
// (no admin command, no KEYS, no FLUSHALL, no INFO either; no RESTORE, so
// new sessions take the transaction that needs the scratch keys).
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

// TestCreateWithoutRestore: a new session is one RESTORE for a user who
// may run it; for one who may not (the README's user: -@dangerous takes
// RESTORE away), the first Create's RESTORE is refused (NOPERM) and the
// session goes in by the transaction, in a second round trip, and every
// later Create sends the transaction alone. Either way the record is the
// same, and a taken ID is refused. With braces in the prefix (a hash tag
// of its own), the fallback is the script, as the transaction's scratch
// key would be in another slot.
func TestCreateWithoutRestore(t *testing.T) {
	restoreACL := []string{"restorer", "on", ">" + alicePW, "~myapp:*", "+@all", "-@dangerous", "+restore"}
	tagACL := []string{"tagged", "on", ">" + alicePW, "~{myapp}:*", "+@all", "-@dangerous"}
	args := []string{"--requirepass", requirePW, "--user"}
	args = append(append(args, appACL...), "--user")
	args = append(append(args, restoreACL...), "--user")
	args = append(args, tagACL...)
	srv := redistest.StandaloneArgs(t, args...)
	ctx := context.Background()
	now := time.Now()
	for _, tc := range []struct {
		user, prefix string
		first, later []string // the commands of the first Create, and of the next
	}{
		{"restorer", "myapp:", []string{"restore"}, []string{"restore"}},
		{"app", "myapp:",
			[]string{"restore", "multi", "hset", "pexpire", "renamenx", "del", "exec"},
			[]string{"multi", "hset", "pexpire", "renamenx", "del", "exec"}},
		{"tagged", "{myapp}:", []string{"restore", "evalsha"}, []string{"evalsha"}},
	} {
		t.Run(tc.user, func(t *testing.T) {
			c := clientURL(t, "redis://"+tc.user+":"+alicePW+"@"+srv.Addr())
			require.NoError(t, redisstore.LoadScripts(ctx, c))
			count := &counter{}
			c.AddHook(count)
			s, err := redisstore.New(c, redisstore.Options{Prefix: tc.prefix + redistest.Prefix(t)})
			require.NoError(t, err)
			rec := func() *store.Record {
				return &store.Record{Meta: meta(now, ""), Values: map[string][]byte{"k": []byte("v")}}
			}
			for i, want := range [][]string{tc.first, tc.later, tc.later} {
				id := newID(t)
				count.take()
				_, err := s.Create(ctx, id, rec(), wopts(now))
				require.NoError(t, err, "Create %d", i)
				_, sent := count.take()
				sent = slices.DeleteFunc(sent, func(c string) bool { return c == "hello" || c == "client" })
				assert.Equal(t, want, sent, "Create %d", i)
				got, err := s.Load(ctx, id, store.LoadOptions{Now: now, Idle: idle, TouchAfter: time.Hour})
				require.NoError(t, err)
				assert.Equal(t, "v", string(got.Values["k"]))
				assert.Equal(t, now.UnixMilli(), got.Meta.LastSeen.UnixMilli())
				_, err = s.Create(ctx, id, rec(), wopts(now))
				assert.ErrorIs(t, err, store.ErrExists, "Create %d of a taken ID", i)
			}
		})
	}
}
