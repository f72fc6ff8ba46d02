package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/internal/redistest"
	"github.com/sessionkit/sessionkit/stores/redisstore"
)

// Bounds for failing fast: every call gets opDeadline, and must return
// within returnBound, which leaves room for a loaded machine.
const (
	opDeadline  = time.Second
	returnBound = 2 * time.Second
)

// outcomes are the contract's answers; a store that is down must give none
// of them, or the manager would take it for an answer about the session.
func requireFailure(t *testing.T, err error, what string) {
	t.Helper()
	require.Error(t, err, "%s succeeded with the server down", what)
	var renewed *store.ErrRenewed
	for _, outcome := range []error{store.ErrNotFound, store.ErrExpired, store.ErrExists} {
		require.NotErrorIs(t, err, outcome, "%s: a failure reported as an outcome", what)
	}
	require.False(t, errors.As(err, &renewed), "%s: a failure reported as ErrRenewed", what)
}

// operations are the Store methods, by name, as everyOperation1 runs them.
var operations = []string{"Load", "Create", "Update", "Renew", "Delete", "ListUser", "DeleteUser"}

// TestServerDown stops the server under a store in use: every operation
// fails, fast, with an error that is not an outcome; started again on its
// port, the same store and client work again.
func TestServerDown(t *testing.T) {
	srv, _, s := ownServer(t)
	now := time.Now()
	live := create(t, s, now, "alice", "a", "1")

	require.NoError(t, srv.Stop())
	// The subtests run in parallel, as requests would, and the wrapping
	// t.Run waits for them before the server is started again.
	t.Run("down", func(t *testing.T) {
		for _, name := range operations {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				ctx, cancel := context.WithTimeout(context.Background(), opDeadline)
				defer cancel()
				var err error
				within(t, returnBound, name, func() { err = everyOperation1(ctx, s, name, live, "alice") })
				requireFailure(t, err, name)
				assert.Contains(t, err.Error(), "redisstore:", "errors name the store")
			})
		}
	})

	require.NoError(t, srv.Start())
	// The data is gone (no persistence). The same store and client work
	// again as soon as go-redis's pool has redialled (it probes once a
	// second after repeated dial failures).
	id := eventuallyCreate(t, s, 5*time.Second)
	// Each pooled connection redials on its own schedule, so one success
	// does not promise the next call's: every operation gets the same
	// bounded window, and must succeed within it.
	var rec *store.Record
	eventually(t, 5*time.Second, "Load after the restart", func(ctx context.Context) (err error) {
		rec, err = s.Load(ctx, id, store.LoadOptions{Now: time.Now(), Idle: idle, TouchAfter: idle})
		return err
	})
	assert.Equal(t, "alice", rec.Meta.UserID)
	for _, name := range operations {
		eventually(t, 5*time.Second, name+" after the restart", func(ctx context.Context) error {
			return everyOperation1(ctx, s, name, id, "alice")
		})
	}
}

// eventually retries op, each try under opDeadline, until it succeeds or
// bound passes, and fails the test with the last error then.
func eventually(t *testing.T, bound time.Duration, what string, op func(context.Context) error) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), opDeadline)
		err := op(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			require.NoError(t, err, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// eventuallyCreate retries creating a session until it works or bound
// passes, and returns its ID.
func eventuallyCreate(t *testing.T, s store.Store, bound time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(bound)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), opDeadline)
		id, now := randomID(), time.Now()
		_, err := s.Create(ctx, id, &store.Record{Meta: meta(now, "alice")}, wopts(now))
		cancel()
		if err == nil {
			return id
		}
		require.True(t, time.Now().Before(deadline), "the store never worked again: %v", err)
		time.Sleep(50 * time.Millisecond)
	}
}

// everyOperation1 runs the one operation everyOperation calls name.
func everyOperation1(ctx context.Context, s store.Store, name, live, user string) error {
	now := time.Now()
	switch name {
	case "Load":
		_, err := s.Load(ctx, live, store.LoadOptions{Now: now, Idle: idle})
		return err
	case "Create":
		_, err := s.Create(ctx, randomID(), &store.Record{Meta: meta(now, user)}, store.WriteOptions{Now: now, Idle: idle, MaxPerUser: 2})
		return err
	case "Update":
		return s.Update(ctx, live, &store.Change{Now: now, Idle: idle, Set: map[string][]byte{"k": []byte("v")}})
	case "Renew":
		_, err := s.Renew(ctx, live, randomID(), &store.Change{Now: now, Idle: idle}, store.WriteOptions{Now: now, Idle: idle, Grace: time.Second})
		return err
	case "Delete":
		_, err := s.Delete(ctx, live)
		return err
	case "ListUser":
		_, err := s.ListUser(ctx, user, now)
		return err
	case "DeleteUser":
		_, err := s.DeleteUser(ctx, user, "")
		return err
	}
	panic(name)
}

// TestStalledServer: a server that accepts connections and never answers.
// The context's deadline, not go-redis's 3s read timeout, bounds the wait.
func TestStalledServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				<-stop
				conn.Close()
			}()
		}
	}()
	client, err := redisstore.NewClient([]string{l.Addr().String()}, 0)
	require.NoError(t, err)
	t.Cleanup(func() { client.Close() })
	s, err := redisstore.New(client, redisstore.Options{})
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	within(t, returnBound, "Load from a stalled server", func() {
		_, err = s.Load(ctx, randomID(), store.LoadOptions{Now: time.Now(), Idle: idle})
	})
	requireFailure(t, err, "Load")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

// TestClusterNodeRestart crashes one master under a store in use:
// operations on its sessions fail fast; once it is back on its port, the
// same store and client work again on its slots within a bounded time.
func TestClusterNodeRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster of its own")
	}
	c := redistest.NewCluster(t)
	client, err := redisstore.NewClient(c.Addrs(), 0)
	require.NoError(t, err)
	t.Cleanup(func() { client.Close() })
	cc := client.(*redis.ClusterClient)
	s, err := redisstore.New(client, redisstore.Options{})
	require.NoError(t, err)
	ctx := context.Background()
	now := time.Now()

	victim := c.Node(1)
	// A session whose key lives on the node that will crash, and one that
	// does not.
	var onVictim, elsewhere string
	for onVictim == "" || elsewhere == "" {
		id := create(t, s, now, "alice", "a", "1")
		node, err := cc.MasterForKey(ctx, redisstore.Options{}.SessionKey(id))
		require.NoError(t, err)
		if node.Options().Addr == victim.Addr() {
			onVictim = id
		} else {
			elsewhere = id
		}
	}

	require.NoError(t, victim.Kill())
	t.Run("down", func(t *testing.T) {
		for _, op := range []string{"Load", "Update", "Renew", "Delete"} {
			t.Run(op, func(t *testing.T) {
				t.Parallel()
				opCtx, cancel := context.WithTimeout(ctx, opDeadline)
				defer cancel()
				var err error
				within(t, returnBound, op+" on the crashed node", func() { err = everyOperation1(opCtx, s, op, onVictim, "alice") })
				requireFailure(t, err, op)
			})
		}
	})
	// The other masters still serve their slots.
	opCtx, cancel := context.WithTimeout(ctx, returnBound)
	defer cancel()
	_, err = s.Load(opCtx, elsewhere, store.LoadOptions{Now: now, Idle: idle, TouchAfter: idle})
	assert.NoError(t, err, "a session on a healthy node")

	require.NoError(t, victim.Start())
	require.NoError(t, c.WaitReady(redistest.ReadyTimeout))
	// The restarted node lost its data (no persistence); new sessions on
	// its slots work again through the same client within a bounded time.
	deadline := time.Now().Add(15 * time.Second)
	var last error
	for {
		id := randomID()
		node, err := cc.MasterForKey(ctx, redisstore.Options{}.SessionKey(id))
		if err == nil && node.Options().Addr == victim.Addr() {
			opCtx, cancel := context.WithTimeout(ctx, opDeadline)
			_, last = s.Create(opCtx, id, &store.Record{Meta: meta(time.Now(), "alice")}, wopts(time.Now()))
			if last == nil {
				_, last = s.Load(opCtx, id, store.LoadOptions{Now: time.Now(), Idle: idle})
			}
			cancel()
			if last == nil {
				break
			}
		}
		require.True(t, time.Now().Before(deadline), "the restarted node's slots never worked again: %v", last)
		time.Sleep(50 * time.Millisecond)
	}
	var entries []store.Entry
	eventually(t, 5*time.Second, "ListUser after the restart", func(ctx context.Context) (err error) {
		entries, err = s.ListUser(ctx, "alice", time.Now())
		return err
	})
	assert.NotEmpty(t, entries)
}

// TestClientCloseLeavesNoGoroutines: after a store's client is closed,
// including after failures while its server was down, the goroutines it
// started go away. Not parallel: it counts the process's goroutines.
func TestClientCloseLeavesNoGoroutines(t *testing.T) {
	srv := redistest.Standalone(t)
	before := runtime.NumGoroutine()

	client, err := redisstore.NewClient([]string{srv.Addr()}, 0)
	require.NoError(t, err)
	s, err := redisstore.New(client, redisstore.Options{})
	require.NoError(t, err)
	live := create(t, s, time.Now(), "alice")
	for _, name := range operations {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		require.NoError(t, everyOperation1(ctx, s, name, live, "alice"), name)
		cancel()
	}
	require.NoError(t, srv.Stop())
	for _, name := range operations {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		require.Error(t, everyOperation1(ctx, s, name, live, "alice"), name)
		cancel()
	}
	require.NoError(t, srv.Start())
	eventuallyCreate(t, s, 5*time.Second)
	require.NoError(t, client.Close())

	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines after Close, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRenewThroughStall: Redis stalls for longer than the client's read
// timeout just as a Renew sends one of its round trips, and go-redis, with
// retries on, sends that round trip again. Two stalls: CLIENT PAUSE ALL,
// after which Redis drops what a closed connection had sent, and a busy
// server (a long script), after which Redis runs it, so that the step runs
// twice. Whatever happens, the login is never lost behind a success: Renew
// returns nil and the new ID holds the session (the old one forwarding to
// it or gone), or it returns an error and the session can still be reached
// from the old ID or the new one.
func TestRenewThroughStall(t *testing.T) {
	if testing.Short() {
		t.Skip("stalls a server of its own, for seconds in all")
	}
	srv := redistest.Standalone(t)
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { admin.Close() })
	ctx := context.Background()
	const (
		readTimeout = 150 * time.Millisecond
		stall       = 500 * time.Millisecond // > readTimeout, < what the retries cover
	)
	stalls := map[string]func(t *testing.T) error{
		"Pause": func(*testing.T) error { return admin.ClientPause(ctx, stall).Err() },
		"Busy": func(t *testing.T) error {
			// Sent on a connection of its own, and on the wire before the
			// step it stalls; its reply is read once the test is done.
			conn, err := net.Dial("tcp", srv.Addr())
			if err != nil {
				return err
			}
			t.Cleanup(func() {
				_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
				_, _ = conn.Read(make([]byte, 64))
				conn.Close()
			})
			script := fmt.Sprintf(`local t = redis.call('TIME')
local from = t[1] * 1000000 + t[2]
repeat t = redis.call('TIME') until t[1] * 1000000 + t[2] - from > %d
return 1`, stall.Microseconds())
			_, err = fmt.Fprintf(conn, "*3\r\n$4\r\nEVAL\r\n$%d\r\n%s\r\n$1\r\n0\r\n", len(script), script)
			time.Sleep(20 * time.Millisecond) // for the server to start it
			return err
		},
	}
	for _, kind := range []string{"Pause", "Busy"} {
		for _, step := range []string{"Claim", "Write"} {
			for _, grace := range []time.Duration{time.Minute, 0} {
				t.Run(fmt.Sprintf("%s/%s/Grace%v", kind, step, grace), func(t *testing.T) {
					stallRenew(t, srv, admin, stall, readTimeout, step, grace, stalls[kind])
				})
			}
		}
	}
}

// stallRenew is one case of TestRenewThroughStall: stall before the given
// step of a Renew, then check what the Renew reported against what the
// server holds once the stall is over.
func stallRenew(t *testing.T, srv *redistest.Server, admin *redis.Client, stall, readTimeout time.Duration,
	step string, grace time.Duration, stallNow func(*testing.T) error) {
	ctx := context.Background()
	old, next := newID(t), newID(t)
	key := redisstore.Options{}.SessionKey(old)
	if step == "Write" {
		key = redisstore.Options{}.SessionKey(next)
	}
	var stalled time.Time
	i := &interceptor{key: key, f: func() error {
		stalled = time.Now()
		return stallNow(t)
	}}
	c := redis.NewClient(&redis.Options{Addr: srv.Addr(), ReadTimeout: readTimeout,
		MaxRetries: 5, MinRetryBackoff: 20 * time.Millisecond, MaxRetryBackoff: 100 * time.Millisecond})
	t.Cleanup(func() { c.Close() })
	require.NoError(t, redisstore.LoadScripts(ctx, c))
	c.AddHook(i)
	s, err := redisstore.New(c, redisstore.Options{})
	require.NoError(t, err)
	plain, err := redisstore.New(admin, redisstore.Options{})
	require.NoError(t, err)
	now := time.Now()
	_, err = plain.Create(ctx, old, &store.Record{Meta: meta(now, "alice"),
		Values: map[string][]byte{"a": []byte("1")}}, wopts(now))
	require.NoError(t, err)

	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	start := time.Now()
	_, renewErr := s.Renew(rctx, old, next, &store.Change{Now: now, Idle: idle, Set: map[string][]byte{"b": []byte("2")}},
		store.WriteOptions{Now: now, Idle: idle, Grace: grace})
	t.Logf("Renew returned %v after %v", renewErr, time.Since(start).Round(time.Millisecond))
	require.False(t, stalled.IsZero(), "the stall never happened")
	// Until the stall is over, and anything queued behind it has run.
	time.Sleep(time.Until(stalled.Add(stall + 200*time.Millisecond)))
	require.NoError(t, admin.Ping(ctx).Err())

	load := func(id string) (*store.Record, error) {
		return plain.Load(ctx, id, store.LoadOptions{Now: now, Idle: idle, TouchAfter: idle})
	}
	if renewErr == nil {
		rec, err := load(next)
		require.NoError(t, err, "Renew succeeded, and the new ID holds no session")
		assert.Equal(t, map[string][]byte{"a": []byte("1"), "b": []byte("2")}, rec.Values)
		rec, err = load(old)
		if err == nil {
			assert.Equal(t, next, rec.Successor, "the old ID is a live session besides the new one")
		} else {
			require.ErrorIs(t, err, store.ErrNotFound)
		}
		return
	}
	requireFailure(t, renewErr, "Renew through a stall")
	rec, err := load(old)
	if err == nil && rec.Successor != "" {
		rec, err = load(rec.Successor)
	}
	if err != nil {
		rec, err = load(next)
	}
	require.NoError(t, err, "Renew failed and the session is reachable from neither ID")
	assert.Equal(t, "1", string(rec.Values["a"]))
}
