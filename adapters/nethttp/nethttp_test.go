package sessionhttp_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/adapters/adaptertest"
	sessionhttp "github.com/sessionkit/sessionkit/adapters/nethttp"
	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/core/store"
)

func factory(t *testing.T, m *core.Manager, app adaptertest.App) adaptertest.Server {
	h := sessionhttp.New(m)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		app(&adaptertest.Exchange{
			URL:            r.URL.RequestURI(),
			Session:        sessionhttp.From(r),
			ContextSession: core.FromContext(r.Context()),
			Respond: func(status int, body string) {
				w.WriteHeader(status)
				_, _ = io.WriteString(w, body)
			},
		})
	}))
	return adaptertest.HandlerServer(h)
}

func TestAdapterSuite(t *testing.T) {
	adaptertest.Run(t, factory)
}

func quietManager(t *testing.T) *core.Manager {
	m, err := core.New(core.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// Without the middleware From panics with a message that names what is
// missing, rather than returning nil for the handler's next call to
// dereference; core.FromContext still reports no session with nil.
func TestFromWithoutMiddleware(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	assert.PanicsWithValue(t,
		"sessionkit: sessionhttp.From called on a request without the sessionhttp middleware (sessionhttp.New)",
		func() { sessionhttp.From(r) })
	assert.Nil(t, core.FromContext(r.Context()))
}

// A streamed response gets its cookie with the first flush, and the body
// reaches the client before the handler returns: nothing is buffered.
func TestFlushCommitsAndStreams(t *testing.T) {
	m := quietManager(t)
	release := make(chan struct{})
	srv := httptest.NewServer(sessionhttp.New(m)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, sessionhttp.From(r).Put("k", "v"))
		_, _ = io.WriteString(w, "first\n")
		require.NoError(t, http.NewResponseController(w).Flush())
		<-release
		_, _ = io.WriteString(w, "second\n")
	})))
	defer srv.Close()
	defer close(release)

	res, err := srv.Client().Get(srv.URL)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Len(t, res.Cookies(), 1, "the cookie went out with the flushed headers")
	line, err := bufio.NewReader(res.Body).ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "first\n", line, "the first chunk arrived while the handler still runs")
}

// Hijack saves the session but issues no token it could not deliver.
func TestHijack(t *testing.T) {
	adaptertest.RunHijack(t, func(m *core.Manager, h http.Handler) http.Handler { return sessionhttp.New(m)(h) })
}

// Unwrap reaches the server's writer, so deadlines work.
func TestResponseControllerDeadlines(t *testing.T) {
	m := quietManager(t)
	srv := httptest.NewServer(sessionhttp.New(m)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		_, _ = io.WriteString(w, "ok")
	})))
	defer srv.Close()
	res, err := srv.Client().Get(srv.URL)
	require.NoError(t, err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode, string(body))
}

// io.Copy into the response keeps the ReadFrom path of the server's
// HTTP/1 writer and commits first.
func TestReadFromCommits(t *testing.T) {
	m := quietManager(t)
	srv := httptest.NewServer(sessionhttp.New(m)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = sessionhttp.From(r).Put("k", "v")
		rf, ok := w.(io.ReaderFrom)
		require.True(t, ok, "HTTP/1's writer has ReadFrom, so ours does")
		_, _ = rf.ReadFrom(strings.NewReader("body"))
	})))
	defer srv.Close()
	res, err := srv.Client().Get(srv.URL)
	require.NoError(t, err)
	defer res.Body.Close()
	assert.Len(t, res.Cookies(), 1)
	body, _ := io.ReadAll(res.Body)
	assert.Equal(t, "body", string(body))
}

// A custom error handler sees the store error.
func TestCustomErrorHandler(t *testing.T) {
	m, err := core.New(core.Config{Store: failingStore{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	var seen error
	h := sessionhttp.New(m, sessionhttp.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) {
		seen = err
		w.WriteHeader(http.StatusTeapot)
	}))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = sessionhttp.From(r).Put("k", "v")
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	assert.Equal(t, http.StatusTeapot, rec.Code)
	assert.ErrorIs(t, seen, core.ErrStore)
}

// failingStore fails every operation, like a store that is down.
type failingStore struct{}

var errDown = errors.New("down")

func (failingStore) Load(context.Context, string, store.LoadOptions) (*store.Record, error) {
	return nil, errDown
}
func (failingStore) Create(context.Context, string, *store.Record, store.WriteOptions) ([]string, error) {
	return nil, errDown
}
func (failingStore) Update(context.Context, string, *store.Change) error { return errDown }
func (failingStore) Renew(context.Context, string, string, *store.Change, store.WriteOptions) ([]string, error) {
	return nil, errDown
}
func (failingStore) Delete(context.Context, string) (bool, error) { return false, errDown }
func (failingStore) ListUser(context.Context, string, time.Time) ([]store.Entry, error) {
	return nil, errDown
}
func (failingStore) DeleteUser(context.Context, string, string) ([]string, error) {
	return nil, errDown
}
func (failingStore) Take(context.Context, string, string, store.LoadOptions) ([]byte, bool, error) {
	return nil, false, errDown
}

// A handler that declared its Content-Length (http.ServeFile does) and then
// loses its commit gets an error response whose length is the error body's,
// not the one it declared: a client would otherwise wait for bytes that
// never come.
func TestErrorResponseDropsDeclaredLength(t *testing.T) {
	m, err := core.New(core.Config{Store: failingStore{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	srv := httptest.NewServer(sessionhttp.New(m)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = sessionhttp.From(r).Put("k", "v")
		w.Header().Set("Content-Length", "1000")
		_, _ = w.Write(make([]byte, 1000))
	})))
	defer srv.Close()
	res, err := srv.Client().Get(srv.URL)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err, "the body ends where its length says")
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
	assert.JSONEq(t, `{"error":"session store unavailable"}`, string(body))
	assert.NotEqual(t, int64(1000), res.ContentLength)
}
