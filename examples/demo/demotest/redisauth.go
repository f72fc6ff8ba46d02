package demotest

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/examples/demo"
	"github.com/sessionkit/sessionkit/internal/redistest"
	"github.com/sessionkit/sessionkit/stores/redisstore"
)

// testRedisPassword: against a Redis started with --requirepass, the demo
// refuses to start without the password, or with a wrong one, naming the
// cause (an error other than a usage error: exit status 1), and serves
// with the password in a redis:// URL in -redis-addrs (and -redis-cache,
// whose tracking connections need the password too). No output and no
// error ever shows the password.
func testRedisPassword(t *testing.T, run demo.RunFunc) {
	const password, wrong = "Demo-Pw-8s2Lq", "Nope-Pw-3kX9z"
	srv := redistest.StandaloneArgs(t, "--requirepass", password)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out syncBuffer
	noSecrets := func(what, s string) {
		t.Helper()
		assert.NotContains(t, s, password, what)
		assert.NotContains(t, s, wrong, what)
	}
	for _, tc := range []struct {
		addrs string
		cause error
		want  string
	}{
		{srv.Addr(), redisstore.ErrAuthRequired, "authentication required"},
		{"redis://" + srv.Addr(), redisstore.ErrAuthRequired, "authentication required"},
		{"redis://:" + wrong + "@" + srv.Addr(), redisstore.ErrWrongPassword, "wrong password"},
	} {
		err := run(ctx, []string{"-addr", "127.0.0.1:0", "-store", "redis", "-redis-addrs", tc.addrs}, &out, nil)
		require.Error(t, err, tc.addrs)
		assert.NotErrorIs(t, err, demo.ErrUsage, "a start-up failure (exit 1), not a usage error")
		assert.ErrorIs(t, err, tc.cause, tc.addrs)
		assert.Contains(t, err.Error(), tc.want)
		assert.Contains(t, err.Error(), srv.Addr(), "it names the server")
		noSecrets("the error", err.Error())
	}

	// A URL that does not parse is a usage error, reported without it.
	out = syncBuffer{}
	err := run(ctx, []string{"-store", "redis", "-redis-addrs", "redis://:" + password + "/x@" + srv.Addr()}, &out, nil)
	assert.ErrorIs(t, err, demo.ErrUsage)
	assert.Contains(t, out.String(), "-redis-addrs")
	noSecrets("the usage error", out.String())

	out = syncBuffer{}
	addrs := make(chan net.Addr, 1)
	done := make(chan error, 1)
	serveCtx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		done <- run(serveCtx, []string{"-addr", "127.0.0.1:0", "-secure=false", "-store", "redis",
			"-redis-addrs", "redis://:" + password + "@" + srv.Addr() + "/1", "-redis-prefix", redistest.Prefix(t),
			"-redis-cache"}, &out, func(a net.Addr) { addrs <- a })
	}()
	var addr net.Addr
	select {
	case addr = <-addrs:
	case err := <-done:
		t.Fatalf("run with the password returned: %v", err)
	case <-ctx.Done():
		t.Fatal("the server did not start")
	}
	hc := &http.Client{Timeout: 5 * time.Second}
	resp, err := hc.Post("http://"+addr.String()+"/counter", "", nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "a session written to the Redis that wants a password")
	stop()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(15 * time.Second):
		t.Fatal("run did not shut down")
	}
	assert.Contains(t, out.String(), "listening")
	noSecrets("the log", out.String())
}
