package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/internal/redistest"
	"github.com/sessionkit/sessionkit/stores/redisstore"
)

const (
	idle     = time.Hour
	lifetime = 24 * time.Hour
)

// newID is a store ID: 64 lowercase hex digits, random.
func newID(testing.TB) string { return randomID() }

// randomID is newID for where no test is at hand. crypto/rand.Read never
// fails (Go 1.24 and later).
func randomID() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func meta(now time.Time, user string) store.Meta {
	return store.Meta{
		UserID: user, CreatedAt: now, IssuedAt: now, LastSeen: now,
		ExpiresAt: now.Add(lifetime), UserAgent: "test-agent", IP: "192.0.2.1",
	}
}

func wopts(now time.Time) store.WriteOptions { return store.WriteOptions{Now: now, Idle: idle} }

// create stores a session for user with the given values and returns its ID.
func create(t testing.TB, s store.Store, now time.Time, user string, kv ...string) string {
	t.Helper()
	id := newID(t)
	v := map[string][]byte{}
	for i := 0; i+1 < len(kv); i += 2 {
		v[kv[i]] = []byte(kv[i+1])
	}
	_, err := s.Create(context.Background(), id, &store.Record{Meta: meta(now, user), Values: v}, wopts(now))
	require.NoError(t, err)
	return id
}

// counter is a go-redis hook counting round trips (a command, or a
// pipeline whatever its length) and the commands they carried.
type counter struct {
	mu    sync.Mutex
	trips int
	cmds  []string
}

func (c *counter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *counter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.record(cmd)
		return next(ctx, cmd)
	}
}

func (c *counter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.record(cmds...)
		return next(ctx, cmds)
	}
}

func (c *counter) record(cmds ...redis.Cmder) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.trips++
	for _, cmd := range cmds {
		c.cmds = append(c.cmds, strings.ToLower(cmd.Name()))
	}
}

// take returns what was counted since the last take and starts again.
func (c *counter) take() (int, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, cmds := c.trips, c.cmds
	c.trips, c.cmds = 0, nil
	return n, cmds
}

// within runs f and requires it to return within d.
func within(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not return within %v", what, d)
	}
	t.Logf("%s returned in %v", what, time.Since(start).Round(time.Millisecond))
}

// ownServer starts a redis-server of the test's own (to stop, restart or
// scan) and returns it with a store on a client built as applications
// build theirs (NewClient), closed when the test ends.
func ownServer(t *testing.T) (*redistest.Server, redis.UniversalClient, *redisstore.Store) {
	t.Helper()
	srv := redistest.Standalone(t)
	client, err := redisstore.NewClient([]string{srv.Addr()}, 0)
	require.NoError(t, err)
	t.Cleanup(func() { client.Close() })
	s, err := redisstore.New(client, redisstore.Options{})
	require.NoError(t, err)
	return srv, client, s
}
