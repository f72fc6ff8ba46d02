package demotest

import (
	"bytes"
	"context"
	"flag"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/examples/demo"
)

// RunCommand tests an example's run function as main calls it: it serves
// on the address its flags give, logs each request with the status sent,
// shuts down cleanly when ctx ends (even before it has started serving),
// refuses bad flags before it serves, and on a Redis that wants a password
// stops at start with the cause unless -redis-addrs gives it in a URL.
func RunCommand(t *testing.T, run demo.RunFunc) {
	t.Run("ServesUntilCancelled", func(t *testing.T) { testServesUntilCancelled(t, run) })
	t.Run("Rejects", func(t *testing.T) { testRejects(t, run) })
	t.Run("CancelledAtOnce", func(t *testing.T) { testCancelledAtOnce(t, run) })
	t.Run("RedisPassword", func(t *testing.T) { testRedisPassword(t, run) })
}

func testServesUntilCancelled(t *testing.T, run demo.RunFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrs := make(chan net.Addr, 1)
	var logs syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-secure=false"}, &logs, func(a net.Addr) { addrs <- a })
	}()
	var addr net.Addr
	select {
	case addr = <-addrs:
	case err := <-done:
		t.Fatalf("run returned early: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not start")
	}
	base := "http://" + addr.String()

	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	hc := &http.Client{Jar: jar, Timeout: 5 * time.Second}
	for i, body := range []string{`{"ok":true}`, `{"count":1}`, `{"count":2}`} {
		method, path := "POST", "/counter"
		if i == 0 {
			method, path = "GET", "/healthz"
		}
		req, err := http.NewRequest(method, base+path, nil)
		require.NoError(t, err)
		resp, err := hc.Do(req)
		require.NoError(t, err)
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, 200, resp.StatusCode)
		assert.JSONEq(t, body, string(raw))
	}

	// An error answer is logged with the status the client got.
	resp, err := hc.Get(base + "/me")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 401, resp.StatusCode)

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err, "a signal is a clean shutdown")
	case <-time.After(15 * time.Second):
		t.Fatal("run did not shut down")
	}
	out := logs.String()
	assert.Contains(t, out, "listening")
	assert.Contains(t, out, "path=/healthz status=200")
	assert.Contains(t, out, "path=/counter status=200")
	assert.Contains(t, out, "path=/me status=401")
	assert.Contains(t, out, "stopped")
	_, err = http.Get(base + "/healthz")
	assert.Error(t, err, "the listener is closed")
}

func testRejects(t *testing.T, run demo.RunFunc) {
	// Every case must fail before serving; should one serve, the timeout ends it.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var out bytes.Buffer
	err := run(ctx, []string{"-store", "redis", "-redis-addrs", "127.0.0.1:1"}, &out, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "redis at 127.0.0.1:1", "an unreachable Redis stops the demo at startup")
	err = run(ctx, []string{"-store", "postgres", "-postgres-url", "postgres://127.0.0.1:1/postgres?sslmode=disable"}, &out, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "postgres at 127.0.0.1:1/postgres", "an unreachable PostgreSQL stops the demo at startup")

	err = run(ctx, []string{"-transport", "smoke-signals"}, &out, nil)
	assert.ErrorIs(t, err, demo.ErrUsage)
	assert.Contains(t, out.String(), `-transport "smoke-signals"`)

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-bind", "weird"}, `-bind "weird": want none or user-agent`},
		{[]string{"-bind", "User-Agent"}, `-bind "User-Agent"`},
		{[]string{"-remember", "0"}, "-remember 0s is not positive"},
		{[]string{"-remember", "-720h"}, "-remember -720h0m0s is not positive"},
		{[]string{"-remember", "a month"}, `invalid value "a month" for flag -remember`},
		// The Redis cases name a port nothing listens on: should one get past
		// the flags, it must not reach a Redis the test did not start.
		{[]string{"-redis-cache"}, "-redis-cache is for -store redis only"},
		{[]string{"-store", "postgres", "-redis-cache"}, "-redis-cache is for -store redis only"},
		{[]string{"-store", "redis", "-redis-addrs", "127.0.0.1:1", "-redis-cache-staleness", "2s"}, "-redis-cache-staleness is for -redis-cache only"},
		{[]string{"-store", "redis", "-redis-addrs", "127.0.0.1:1", "-redis-cache", "-redis-cache-staleness", "0"}, "-redis-cache-staleness 0s: want above 0 and at most 1m0s"},
		{[]string{"-store", "redis", "-redis-addrs", "127.0.0.1:1", "-redis-cache", "-redis-cache-staleness", "-1s"}, "-redis-cache-staleness -1s: want above 0"},
		{[]string{"-store", "redis", "-redis-addrs", "127.0.0.1:1", "-redis-cache", "-redis-cache-staleness", "2m"}, "-redis-cache-staleness 2m0s: want above 0 and at most 1m0s"},
		{[]string{"-store", "redis", "-redis-addrs", "127.0.0.1:1", "-redis-cache", "-redis-cache-staleness", "soon"}, `invalid value "soon" for flag -redis-cache-staleness`},
	} {
		out.Reset()
		err = run(ctx, tc.args, &out, nil)
		assert.ErrorIs(t, err, demo.ErrUsage, "%v: a usage error (exit 2)", tc.args)
		assert.Contains(t, out.String(), tc.want, "%v", tc.args)
		assert.Contains(t, out.String(), "Usage of", "%v: with the usage", tc.args)
	}

	err = run(ctx, []string{"-idle", "48h"}, &out, nil)
	assert.ErrorIs(t, err, core.ErrConfig, "idle longer than the lifetime")

	out.Reset()
	err = run(ctx, []string{"-h"}, &out, nil)
	assert.ErrorIs(t, err, flag.ErrHelp)
	for _, flag := range []string{"-transport", "-remember", "-bind", "user-agent", "720h", "-redis-cache", "-redis-cache-staleness"} {
		assert.Contains(t, out.String(), flag, "-h shows it")
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	err = run(ctx, []string{"-addr", ln.Addr().String()}, &out, nil)
	assert.ErrorContains(t, err, "address already in use")
}

// A signal that arrives before the server has started serving still ends
// run, promptly and cleanly.
func testCancelledAtOnce(t *testing.T, run demo.RunFunc) {
	for i := 0; i < 20; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		done := make(chan error, 1)
		go func() { done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, io.Discard, nil) }()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Fatal("run did not return")
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
