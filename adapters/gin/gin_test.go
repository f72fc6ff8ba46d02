package sessiongin_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/adapterkit"
	"github.com/sessionkit/sessionkit/adapters/adaptertest"
	sessiongin "github.com/sessionkit/sessionkit/adapters/gin"
	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/core/store"
)

func init() { gin.SetMode(gin.TestMode) }

func factory(t *testing.T, m *core.Manager, app adaptertest.App) adaptertest.Server {
	r := gin.New()
	r.Use(sessiongin.New(m))
	r.Any("/*path", func(c *gin.Context) {
		app(&adaptertest.Exchange{
			URL:            c.Request.URL.RequestURI(),
			Session:        sessiongin.From(c),
			ContextSession: core.FromContext(c.Request.Context()),
			Respond: func(status int, body string) {
				c.String(status, "%s", body)
			},
		})
	})
	return adaptertest.HandlerServer(r)
}

func TestAdapterSuite(t *testing.T) {
	adaptertest.Run(t, factory)
}

func quietManager(t *testing.T, st store.Store) *core.Manager {
	m, err := core.New(core.Config{Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	return m
}

func serve(h http.Handler, req *http.Request) *http.Response {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

// getLive sends a GET through a real server and connection, which the
// writer features under test (Hijack, CloseNotify, deadlines) need.
func getLive(t *testing.T, h http.Handler) (*http.Response, string) {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	res, err := srv.Client().Get(srv.URL)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res, string(body)
}

// From, c.Get(ContextKey), core.FromContext of the request and
// core.FromContext of the *gin.Context itself all return the one session,
// whether or not the engine falls back to the request's context: a
// service function handed c as its context.Context gets the session, not
// nil.
func TestFromMatchesContext(t *testing.T) {
	for _, fallback := range []bool{false, true} {
		r := gin.New()
		r.ContextWithFallback = fallback
		r.Use(sessiongin.New(quietManager(t, nil)))
		var fromC, fromKey, fromCtx, fromGin *core.Session
		service := func(ctx context.Context) *core.Session { return core.FromContext(ctx) }
		r.GET("/", func(c *gin.Context) {
			fromC = sessiongin.From(c)
			fromKey, _ = c.MustGet(sessiongin.ContextKey).(*core.Session)
			fromCtx = core.FromContext(c.Request.Context())
			fromGin = service(c)
		})
		serve(r, httptest.NewRequest("GET", "/", nil))
		require.NotNil(t, fromC, "fallback %v", fallback)
		assert.Same(t, fromC, fromKey, "fallback %v", fallback)
		assert.Same(t, fromC, fromCtx, "fallback %v", fallback)
		assert.Same(t, fromC, fromGin, "core.FromContext(c), fallback %v", fallback)
	}
}

// Without the middleware From panics with a message that names what is
// missing, rather than returning nil for the handler's next call to
// dereference; core.FromContext still reports no session with nil.
func TestFromWithoutMiddleware(t *testing.T) {
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest("GET", "/", nil)
	assert.PanicsWithValue(t,
		"sessionkit: sessiongin.From called on a route without the sessiongin middleware (sessiongin.New)",
		func() { sessiongin.From(c) })
	assert.Nil(t, core.FromContext(c.Request.Context()))
}

// A streamed response gets its cookie with the first flush, and the body
// reaches the client before the handler returns: nothing is buffered.
func TestFlushCommitsAndStreams(t *testing.T) {
	r := gin.New()
	r.Use(sessiongin.New(quietManager(t, nil)))
	release := make(chan struct{})
	r.GET("/", func(c *gin.Context) {
		require.NoError(t, sessiongin.From(c).Put("k", "v"))
		c.Writer.Flush() // the headers alone, before any body
		c.Stream(func(w io.Writer) bool {
			_, _ = io.WriteString(w, "first\n")
			return false
		})
		<-release
		_, _ = c.Writer.WriteString("second\n")
	})
	srv := httptest.NewServer(r)
	defer srv.Close()
	defer close(release)

	client := srv.Client()
	client.Timeout = 10 * time.Second // a buffered body would fail, not hang
	res, err := client.Get(srv.URL)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Len(t, res.Cookies(), 1, "the cookie went out with the flushed headers")
	line, err := bufio.NewReader(res.Body).ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "first\n", line, "the first chunk arrived while the handler still runs")
}

// The wrapper reports what Gin's own writer would: status, size, written.
func TestWriterReportsGinState(t *testing.T) {
	r := gin.New()
	r.Use(sessiongin.New(quietManager(t, nil)))
	type state struct {
		status, size int
		written      bool
	}
	var before, afterStatus, after state
	var notify <-chan bool
	var pusher http.Pusher = struct{ http.Pusher }{}
	r.GET("/", func(c *gin.Context) {
		_ = sessiongin.From(c).Put("k", "v")
		before = state{c.Writer.Status(), c.Writer.Size(), c.Writer.Written()}
		c.Status(http.StatusCreated)
		afterStatus = state{c.Writer.Status(), c.Writer.Size(), c.Writer.Written()}
		_, _ = c.Writer.WriteString("hello")
		_, _ = c.Writer.Write([]byte("!"))
		after = state{c.Writer.Status(), c.Writer.Size(), c.Writer.Written()}
		notify = c.Writer.CloseNotify()
		pusher = c.Writer.Pusher()
	})
	res, body := getLive(t, r)

	assert.Equal(t, state{http.StatusOK, -1, false}, before)
	assert.Equal(t, state{http.StatusCreated, -1, false}, afterStatus, "c.Status records the status without writing")
	assert.Equal(t, state{http.StatusCreated, 6, true}, after)
	assert.NotNil(t, notify, "CloseNotify reaches the server's writer")
	assert.Nil(t, pusher, "no server push over HTTP/1.1, and no panic asking")
	assert.Equal(t, http.StatusCreated, res.StatusCode)
	assert.Equal(t, "hello!", body)
	assert.Len(t, res.Cookies(), 1)
}

// Hijack saves the session but issues no token it could not deliver.
func TestHijack(t *testing.T) {
	adaptertest.RunHijack(t, func(m *core.Manager, h http.Handler) http.Handler {
		r := gin.New()
		r.Use(sessiongin.New(m))
		r.Any("/*path", gin.WrapH(h))
		return r
	})
}

// Unwrap reaches the server's writer, so deadlines work.
func TestResponseControllerDeadlines(t *testing.T) {
	r := gin.New()
	r.Use(sessiongin.New(quietManager(t, nil)))
	r.GET("/", func(c *gin.Context) {
		if err := http.NewResponseController(c.Writer).SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			c.String(http.StatusInternalServerError, "%s", err)
			return
		}
		c.String(http.StatusOK, "ok")
	})
	res, body := getLive(t, r)
	assert.Equal(t, http.StatusOK, res.StatusCode, body)
}

// errorsSeen returns middleware, to go in front of the session middleware,
// that keeps the request's c.Errors.
func errorsSeen(into *[]error) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Next()
		for _, e := range c.Errors {
			*into = append(*into, e.Err)
		}
	}
}

// A load failure aborts the chain with the default 503 and adds the error
// to c.Errors.
func TestLoadErrorReachesGinErrors(t *testing.T) {
	m := quietManager(t, downStore{})
	var errs []error
	ran := false
	r := gin.New()
	r.Use(errorsSeen(&errs), sessiongin.New(m))
	r.GET("/", func(c *gin.Context) { ran = true })
	req := httptest.NewRequest("GET", "/", nil)
	req.AddCookie(&http.Cookie{Name: m.Config().Cookie.Name, Value: wellFormedToken})
	res := serve(r, req)
	body, _ := io.ReadAll(res.Body)

	assert.False(t, ran, "the handler never runs without its session")
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
	assert.Equal(t, adapterkit.ErrorBody, string(body))
	assert.Equal(t, "application/json", res.Header.Get("Content-Type"))
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], core.ErrStore)
}

// A commit failure while the handler renders replaces its response (and its
// Content-Type) with the error handler's, and the handler learns of it.
func TestCommitErrorReplacesResponse(t *testing.T) {
	m := quietManager(t, downStore{})
	var errs []error
	r := gin.New()
	r.Use(errorsSeen(&errs), sessiongin.New(m))
	var writeErr error
	var status int
	r.GET("/", func(c *gin.Context) {
		_ = sessiongin.From(c).Put("k", "v")
		c.Header("Content-Type", "text/plain")
		c.Status(http.StatusOK)
		_, writeErr = c.Writer.WriteString("ok")
		c.Status(http.StatusAccepted)
		status = c.Writer.Status()
	})
	res := serve(r, httptest.NewRequest("GET", "/", nil))
	body, _ := io.ReadAll(res.Body)

	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
	assert.Equal(t, adapterkit.ErrorBody, string(body))
	assert.Equal(t, "application/json", res.Header.Get("Content-Type"))
	assert.Empty(t, res.Cookies())
	assert.Error(t, writeErr, "the handler's write fails")
	assert.Equal(t, http.StatusServiceUnavailable, status, "nor can it change the status afterwards")
	require.NotEmpty(t, errs)
	assert.ErrorIs(t, errs[0], core.ErrStore)
}

// A custom error handler sees the store error, on commit as on load.
func TestCustomErrorHandler(t *testing.T) {
	m := quietManager(t, downStore{})
	var seen error
	r := gin.New()
	r.Use(sessiongin.New(m, sessiongin.WithErrorHandler(func(c *gin.Context, err error) {
		seen = err
		c.String(http.StatusTeapot, "down")
	})))
	r.GET("/", func(c *gin.Context) {
		_ = sessiongin.From(c).Put("k", "v")
		c.String(http.StatusOK, "ok")
	})
	res := serve(r, httptest.NewRequest("GET", "/", nil))
	body, _ := io.ReadAll(res.Body)
	assert.Equal(t, http.StatusTeapot, res.StatusCode)
	assert.Equal(t, "down", string(body))
	assert.ErrorIs(t, seen, core.ErrStore)
}

// A panicking handler commits nothing: the recovery middleware's 500
// carries no cookie and the store saw no write.
func TestPanicCommitsNothing(t *testing.T) {
	m := quietManager(t, nil)
	r := gin.New()
	r.Use(gin.CustomRecoveryWithWriter(io.Discard, func(c *gin.Context, _ any) {
		c.AbortWithStatus(http.StatusInternalServerError)
	}), sessiongin.New(m))
	r.GET("/", func(c *gin.Context) {
		_ = sessiongin.From(c).Put("k", "v")
		panic("boom")
	})
	res := serve(r, httptest.NewRequest("GET", "/", nil))
	assert.Equal(t, http.StatusInternalServerError, res.StatusCode)
	assert.Empty(t, res.Cookies())
}

// wellFormedToken has a token's shape, so Load asks the store about it.
const wellFormedToken = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

// downStore fails the two calls these tests make, like a store that is
// down; any other call panics, which would show a test reaching further
// than it means to.
type downStore struct{ store.Store }

var errDown = errors.New("down")

func (downStore) Load(context.Context, string, store.LoadOptions) (*store.Record, error) {
	return nil, errDown
}

func (downStore) Create(context.Context, string, *store.Record, store.WriteOptions) ([]string, error) {
	return nil, errDown
}
