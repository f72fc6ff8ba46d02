package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/examples/demo/demotest"
)

// start serves the demo app on a real loopback listener: fasthttp's own
// connection handling, not app.Test's in-memory one, answers the tests.
func start(t *testing.T, m *core.Manager, useTLS bool) demotest.Target {
	t.Helper()
	app := newApp(m, demotest.Quiet())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	tr := &http.Transport{}
	scheme := "http"
	if useTLS {
		cert, roots := demotest.TLSCert(t)
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
		scheme = "https"
	}
	served := make(chan error, 1)
	go func() { served <- app.Listener(ln, fiber.ListenConfig{DisableStartupMessage: true}) }()
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		require.NoError(t, app.ShutdownWithTimeout(5*time.Second))
		_ = ln.Close() // in case Serve had not registered it yet
		require.NoError(t, <-served)
	})
	return demotest.Target{
		URL:    scheme + "://" + ln.Addr().String(),
		Client: &http.Client{Transport: tr, Timeout: 10 * time.Second},
	}
}

func TestMain(m *testing.M) { demotest.Main(m) }

func TestContract(t *testing.T) { demotest.Run(t, start) }

// The same contract with the sessions in Redis, standalone and Cluster,
// with the near cache off and on, and two apps on one Redis (CrossProcess).
func TestContractRedis(t *testing.T) { demotest.RunRedis(t, start) }

// The same contract with the sessions in PostgreSQL.
func TestContractPostgres(t *testing.T) { demotest.RunPostgres(t, start) }

func TestRun(t *testing.T) { demotest.RunCommand(t, run) }

// The tests below cover what Fiber and fasthttp do differently from
// net/http, and the settings in newApp that make the demo answer alike
// anyway; demotest holds all that the demos share.

// Fiber's BodyLimit is the most fasthttp reads into memory before any
// handler runs; the demo's own 64 KiB limit is the handlers' (demotest's
// BodyLimit). A route that ignores its body answers as usual up to
// BodyLimit; past it Fiber answers before any handler, with the same JSON.
func TestFiberBodyLimit(t *testing.T) {
	srv := demotest.Launch(t, start, demotest.Insecure(), nil)

	demotest.Want(t, demotest.NewClient(t, srv, "counter").Do("POST", "/counter", strings.Repeat("x", bodyLimit)), 200, `{"count":1}`)

	// Past BodyLimit fasthttp refuses the request from its Content-Length,
	// before the body is sent, and Fiber hands the error to the app's
	// ErrorHandler.
	rc := demotest.Dial(t, srv)
	_, err := fmt.Fprintf(rc, "PUT /values/huge HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n", bodyLimit+1)
	require.NoError(t, err)
	resp, raw := rc.Receive()
	require.Equal(t, 413, resp.StatusCode, raw)
	assert.JSONEq(t, `{"error":"request body too large"}`, raw)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
}

// fasthttp parses every request of a connection into the same buffers.
// What the demo keeps from a request (value names and bodies, the user)
// must survive the requests that follow on the connection: many writes of
// names, values and users of one length, each overwriting the last in
// place, then reads of all of them. This proves the property end to end;
// it cannot tell whose copy provides it, since core copies keys and user
// ids as well as the demo.
func TestOneConnectionManyRequests(t *testing.T) {
	srv := demotest.Launch(t, start, demotest.Insecure(), nil)
	rc := demotest.Dial(t, srv)
	const n = 30
	name := func(i int) string { return fmt.Sprintf("key-%03d", i) }
	value := func(i int) string { return fmt.Sprintf("value-%03d", i) }
	request := demotest.Request

	resp, body := rc.Send(request("POST", "/login", "user=user-000", "Content-Type: application/x-www-form-urlencoded"))
	require.Equal(t, 200, resp.StatusCode, body)
	cookie := "Cookie: " + strings.Split(resp.Header.Get("Set-Cookie"), ";")[0]
	for i := 0; i < n; i++ {
		resp, body = rc.Send(request("PUT", "/values/"+name(i), value(i), cookie))
		require.Equal(t, 200, resp.StatusCode, body)
		require.False(t, resp.Close)
	}
	// Other users on the same connection, in sessions of their own.
	for i := 1; i < n; i++ {
		resp, body = rc.Send(request("POST", "/login", fmt.Sprintf("user=user-%03d", i), "Content-Type: application/x-www-form-urlencoded"))
		require.Equal(t, 200, resp.StatusCode, body)
	}
	for i := n - 1; i >= 0; i-- {
		resp, body = rc.Send(request("GET", "/values/"+name(i), "", cookie))
		require.Equal(t, 200, resp.StatusCode, body)
		assert.JSONEq(t, fmt.Sprintf(`{"name":%q,"value":%q}`, name(i), value(i)), body)
	}
	resp, body = rc.Send(request("GET", "/me", "", cookie))
	require.Equal(t, 200, resp.StatusCode, body)
	assert.JSONEq(t, `{"user":"user-000"}`, body)
}
