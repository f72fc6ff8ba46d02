package adaptertest

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/adapterkit"
	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/stores/memstore"
)

// RunHijack proves, for an adapter whose handlers can hijack the connection
// through net/http types, that a hijack saves the session's changes but
// issues no token the hijacked connection could never deliver: no rotation
// starts, and a new session is dropped and reported rather than stored
// where no client can reach it. A store failure at the hijack refuses it
// and answers with the error response, as any failed commit does. Over
// HTTP/2, where no connection can be hijacked, a hijack that fails with
// http.ErrNotSupported commits nothing, so the handler's ordinary answer
// still carries the session. wrap puts the adapter's middleware in front
// of a net/http handler (gin: gin.WrapH on a route behind the middleware).
func RunHijack(t *testing.T, wrap func(*core.Manager, http.Handler) http.Handler) {
	t.Run("HTTP1", func(t *testing.T) { runHijackHTTP1(t, wrap) })
	t.Run("HTTP2NotSupported", func(t *testing.T) { runHijackHTTP2(t, wrap) })
}

// runHijackHTTP1 is RunHijack on HTTP/1.1, where the hijack succeeds.
func runHijackHTTP1(t *testing.T, wrap func(*core.Manager, http.Handler) http.Handler) {
	var mu sync.Mutex
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	dropped := 0
	mem := memstore.New(memstore.Options{})
	defer mem.Close()
	spy := newSpy(mem)
	m, err := core.New(core.Config{
		Store:       spy,
		RotateAfter: time.Hour, IdleTimeout: 3 * time.Hour,
		Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now },
		OnEvent: func(_ context.Context, e core.Event) {
			mu.Lock()
			if e.Kind == core.EventWriteDropped {
				dropped++
			}
			mu.Unlock()
		},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err)
	defer m.Close()
	srv := httptest.NewServer(wrap(m, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := core.FromContext(r.Context())
		require.NoError(t, s.Put(r.URL.Query().Get("k"), "v"))
		if r.URL.Path != "/hijack" && r.URL.Path != "/hijack-down" {
			v, _ := core.Get[string](s, "second")
			_, _ = io.WriteString(w, v)
			return
		}
		_, ok := w.(http.Hijacker)
		require.True(t, ok, "wrapper is an http.Hijacker")
		if r.URL.Path == "/hijack-down" {
			spy.broken.Store(true) // after the Load: the save at the hijack fails
			defer spy.broken.Store(false)
		}
		conn, buf, err := http.NewResponseController(w).Hijack()
		if r.URL.Path == "/hijack-down" {
			assert.Error(t, err, "a hijack whose session could not be saved is refused")
			if err == nil {
				conn.Close()
			}
			return
		}
		require.NoError(t, err)
		defer conn.Close()
		_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi")
		_ = buf.Flush()
	})))
	defer srv.Close()
	get := func(path, token string) (*http.Response, string) {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if token != "" {
			req.Header.Set("Cookie", "__Host-session="+token)
		}
		res, err := srv.Client().Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res, string(body)
	}
	res, _ := get("/?k=first", "")
	require.Len(t, res.Cookies(), 1)
	token := res.Cookies()[0].Value

	mu.Lock()
	now = now.Add(2 * time.Hour) // rotation due
	mu.Unlock()
	_, body := get("/hijack?k=second", token)
	assert.Equal(t, "hi", body, "the hijacked connection answered")
	mu.Lock()
	now = now.Add(time.Minute) // past any rotation grace
	mu.Unlock()
	res, body = get("/?k=third", token)
	assert.Equal(t, "v", body, "the hijack saved its write and started no rotation: the old token still works")
	assert.Len(t, res.Cookies(), 1, "this ordinary request rotates instead")

	_, body = get("/hijack?k=x", "")
	assert.Equal(t, "hi", body)
	mu.Lock()
	assert.Equal(t, 1, dropped, "a new session on a hijacked connection is reported, not stored")
	mu.Unlock()

	res, body = get("/hijack-down?k=lost", token)
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode, "a store failure at the hijack is answered, not an empty 200")
	assert.Equal(t, adapterkit.ErrorBody, body)
	assert.Empty(t, res.Cookies())
}

// runHijackHTTP2 serves unencrypted HTTP/2 (h2c), where a connection cannot
// be hijacked. A handler that logs in, tries to hijack (a WebSocket library
// would, before falling back) and then answers normally must not lose the
// login: a failed hijack is not the header moment, so the ordinary 200
// carries the new cookie and the next request is logged in.
func runHijackHTTP2(t *testing.T, wrap func(*core.Manager, http.Handler) http.Handler) {
	m, err := core.New(core.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	defer m.Close()
	srv := httptest.NewUnstartedServer(wrap(m, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := core.FromContext(r.Context())
		if r.URL.Path != "/login" {
			_, _ = io.WriteString(w, s.UserID())
			return
		}
		s.Login("alice")
		_, _, err := http.NewResponseController(w).Hijack()
		assert.ErrorIs(t, err, http.ErrNotSupported, "no hijacking over HTTP/2")
		// Older code type-asserts instead; a writer that still claims the
		// interface (Gin's must) fails the same way.
		if hj, ok := w.(http.Hijacker); ok {
			_, _, err := hj.Hijack()
			assert.ErrorIs(t, err, http.ErrNotSupported, "no hijacking over HTTP/2, asked directly")
		}
		_, _ = io.WriteString(w, "ok")
	})))
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	defer srv.Close()
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	get := func(path string, cookies ...*http.Cookie) (*http.Response, string) {
		req, err := http.NewRequest("GET", srv.URL+path, nil)
		require.NoError(t, err)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		res, err := client.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		require.Equal(t, 2, res.ProtoMajor, "served over HTTP/2")
		return res, string(body)
	}

	res, body := get("/login")
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "ok", body, "the handler's ordinary answer went out")
	require.Len(t, res.Cookies(), 1, "the failed hijack committed nothing: the answer carries the login's cookie")
	assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	_, body = get("/whoami", res.Cookies()[0])
	assert.Equal(t, "alice", body, "the login was saved")
}
