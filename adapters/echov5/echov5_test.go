package sessionechov5_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/adapterkit"
	"github.com/sessionkit/sessionkit/adapters/adaptertest"
	sessionechov5 "github.com/sessionkit/sessionkit/adapters/echov5"
	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/core/store"
)

func factory(t *testing.T, m *core.Manager, app adaptertest.App) adaptertest.Server {
	e := echo.New()
	e.Use(sessionechov5.New(m))
	e.Any("/*", func(c *echo.Context) error {
		var err error
		app(&adaptertest.Exchange{
			URL:            c.Request().URL.RequestURI(),
			Session:        sessionechov5.From(c),
			ContextSession: core.FromContext(c.Request().Context()),
			Respond: func(status int, body string) {
				err = c.String(status, body)
			},
		})
		return err
	})
	return adaptertest.HandlerServer(e)
}

func TestAdapterSuite(t *testing.T) {
	adaptertest.Run(t, factory)
}

// Hijack saves the session but issues no token it could not deliver.
func TestHijack(t *testing.T) {
	adaptertest.RunHijack(t, func(m *core.Manager, h http.Handler) http.Handler {
		e := echo.New()
		e.Use(sessionechov5.New(m))
		e.Any("/*", echo.WrapHandler(h))
		return e
	})
}

func quietManager(t *testing.T, st store.Store) *core.Manager {
	m, err := core.New(core.Config{Store: st, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	return m
}

func serve(h http.Handler, req *http.Request) (*http.Response, string) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result(), rec.Body.String()
}

// From, c.Get(ContextKey) and core.FromContext of the request all return
// the one session.
func TestFromMatchesContext(t *testing.T) {
	e := echo.New()
	e.Use(sessionechov5.New(quietManager(t, nil)))
	var fromC, fromKey, fromCtx *core.Session
	e.GET("/", func(c *echo.Context) error {
		fromC = sessionechov5.From(c)
		fromKey, _ = c.Get(sessionechov5.ContextKey).(*core.Session)
		fromCtx = core.FromContext(c.Request().Context())
		return nil
	})
	serve(e, httptest.NewRequest("GET", "/", nil))
	require.NotNil(t, fromC)
	assert.Same(t, fromC, fromKey)
	assert.Same(t, fromC, fromCtx)
}

// Without the middleware From panics with a message that names what is
// missing; core.FromContext still reports no session with nil.
func TestFromWithoutMiddleware(t *testing.T) {
	c := echo.New().NewContext(httptest.NewRequest("GET", "/", nil), httptest.NewRecorder())
	assert.PanicsWithValue(t,
		"sessionkit: sessionechov5.From called on a route without the sessionechov5 middleware (sessionechov5.New)",
		func() { sessionechov5.From(c) })
	assert.Nil(t, core.FromContext(c.Request().Context()))
}

// A streamed response gets its cookie with the headers, and the body
// reaches the client before the handler returns: nothing is buffered. The
// first Flush comes before any write, which Echo's Before hooks would
// miss.
func TestFlushCommitsAndStreams(t *testing.T) {
	e := echo.New()
	e.Use(sessionechov5.New(quietManager(t, nil)))
	release := make(chan struct{})
	e.GET("/", func(c *echo.Context) error {
		require.NoError(t, sessionechov5.From(c).Put("k", "v"))
		rc := http.NewResponseController(c.Response())
		require.NoError(t, rc.Flush())
		_, _ = io.WriteString(c.Response(), "first\n")
		require.NoError(t, rc.Flush())
		<-release
		_, err := io.WriteString(c.Response(), "second\n")
		return err
	})
	srv := httptest.NewServer(e)
	defer srv.Close()
	defer close(release)

	client := srv.Client()
	client.Timeout = 10 * time.Second // a buffered body would fail, not hang
	res, err := client.Get(srv.URL)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Len(t, res.Cookies(), 1, "the cookie went out with the flushed headers")
	assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	line, err := bufio.NewReader(res.Body).ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "first\n", line, "the first chunk arrived while the handler still runs")
}

// wrapping is middleware that replaces c.Response() with a wrapper of its
// own, as Echo v5 lets middleware do, keeping Unwrap as Echo asks.
type wrapping struct {
	http.ResponseWriter
	wrote int
}

func (w *wrapping) Write(b []byte) (int, error) {
	w.wrote += len(b)
	return w.ResponseWriter.Write(b)
}

func (w *wrapping) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Middleware outside the session middleware that wraps c.Response() keeps
// working: the session is committed beneath Echo's Response, which the
// adapter finds through the wrapper's Unwrap, so the cookie goes out and
// the wrapper still sees the body.
func TestResponseWrappedAbove(t *testing.T) {
	var wrapper *wrapping
	e := echo.New()
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			wrapper = &wrapping{ResponseWriter: c.Response()}
			c.SetResponse(wrapper)
			return next(c)
		}
	}, sessionechov5.New(quietManager(t, nil)))
	e.POST("/", func(c *echo.Context) error {
		_ = sessionechov5.From(c).Put("k", "v")
		return c.String(http.StatusOK, "ok")
	})
	res, body := serve(e, httptest.NewRequest("POST", "/", nil))
	assert.Equal(t, "ok", body)
	assert.Len(t, res.Cookies(), 1)
	assert.Equal(t, 2, wrapper.wrote, "the wrapper above saw the body")
}

// A handler that returns an error without writing has its session
// committed before the HTTPErrorHandler writes, so the cookie goes out with
// the error page.
func TestCommitBeforeErrorHandler(t *testing.T) {
	e := echo.New()
	e.Use(sessionechov5.New(quietManager(t, nil)))
	e.POST("/", func(c *echo.Context) error {
		_ = sessionechov5.From(c).Put("k", "v")
		return echo.NewHTTPError(http.StatusTeapot, "teapot")
	})
	e.GET("/", func(c *echo.Context) error {
		v, _ := core.Get[string](sessionechov5.From(c), "k")
		return c.String(http.StatusOK, v)
	})
	res, _ := serve(e, httptest.NewRequest("POST", "/", nil))
	assert.Equal(t, http.StatusTeapot, res.StatusCode)
	require.Len(t, res.Cookies(), 1, "exactly one Set-Cookie")

	req := httptest.NewRequest("GET", "/", nil)
	req.AddCookie(res.Cookies()[0])
	_, body := serve(e, req)
	assert.Equal(t, "v", body, "the session was saved")
}

// errorsSeen makes e's HTTPErrorHandler record what it is given, then
// answer as Echo's default does.
func errorsSeen(e *echo.Echo, into *[]error) {
	def := echo.DefaultHTTPErrorHandler(false)
	e.HTTPErrorHandler = func(c *echo.Context, err error) {
		*into = append(*into, err)
		def(c, err)
	}
}

func requireSessionError(t *testing.T, errs []error) {
	t.Helper()
	require.Len(t, errs, 1)
	var he *echo.HTTPError
	require.ErrorAs(t, errs[0], &he)
	assert.Equal(t, http.StatusServiceUnavailable, he.Code)
	assert.ErrorIs(t, errs[0], core.ErrStore, "errors.Is works through the HTTPError")
	assert.NotContains(t, fmt.Sprint(he.Message), "down", "the message names no store internals")
}

// Echo's default HTTPErrorHandler answers a load failure with 503 and the
// generic body, and the handler never runs.
func TestLoadErrorDefaultHandler(t *testing.T) {
	m := quietManager(t, downStore{})
	e := echo.New()
	var errs []error
	errorsSeen(e, &errs)
	e.Use(sessionechov5.New(m))
	ran := false
	e.GET("/", func(c *echo.Context) error { ran = true; return nil })
	req := httptest.NewRequest("GET", "/", nil)
	req.AddCookie(&http.Cookie{Name: m.Config().Cookie.Name, Value: wellFormedToken})
	res, body := serve(e, req)

	assert.False(t, ran, "the handler never runs without its session")
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
	assert.JSONEq(t, adapterkit.ErrorBody, body)
	requireSessionError(t, errs)
}

// A commit failure after a handler that wrote nothing is returned before
// anything went out, so the HTTPErrorHandler answers it.
func TestCommitErrorAfterHandler(t *testing.T) {
	e := echo.New()
	var errs []error
	errorsSeen(e, &errs)
	e.Use(sessionechov5.New(quietManager(t, downStore{})))
	e.POST("/", func(c *echo.Context) error {
		_ = sessionechov5.From(c).Put("k", "v")
		return echo.NewHTTPError(http.StatusTeapot, "teapot")
	})
	res, body := serve(e, httptest.NewRequest("POST", "/", nil))
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode, "the session error wins over the handler's")
	assert.JSONEq(t, adapterkit.ErrorBody, body)
	assert.Empty(t, res.Cookies())
	requireSessionError(t, errs)
}

// A commit failure as the handler writes (c.JSON, through Echo v5's
// delayed-status writer) replaces its response with the default error
// response: the status, the body and the Content-Type are the error's,
// the handler's write fails, and the HTTPErrorHandler is still told.
func TestCommitErrorWhileWriting(t *testing.T) {
	e := echo.New()
	var errs []error
	errorsSeen(e, &errs)
	e.Use(sessionechov5.New(quietManager(t, downStore{})))
	var writeErr error
	var status int
	e.POST("/", func(c *echo.Context) error {
		_ = sessionechov5.From(c).Put("k", "v")
		writeErr = c.JSON(http.StatusOK, map[string]bool{"ok": true})
		res, err := echo.UnwrapResponse(c.Response())
		require.NoError(t, err)
		status = res.Status
		return nil
	})
	res, body := serve(e, httptest.NewRequest("POST", "/", nil))
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
	assert.Equal(t, adapterkit.ErrorBody, body)
	assert.Equal(t, "application/json", res.Header.Get("Content-Type"))
	assert.Empty(t, res.Cookies())
	assert.Error(t, writeErr, "the handler's write fails")
	assert.Equal(t, http.StatusServiceUnavailable, status, "Echo's Response.Status is what went out")
	requireSessionError(t, errs)
}

// WithErrorHandler answers session errors the app's way: on load and after
// a handler that wrote nothing, what it returns reaches the
// HTTPErrorHandler; while the handler writes, what it writes goes out in
// place of the handler's response, and what it returns is still returned.
// A nil handler keeps the default.
func TestWithErrorHandler(t *testing.T) {
	errCustom := errors.New("custom")
	m := quietManager(t, downStore{})
	e := echo.New()
	var errs []error
	errorsSeen(e, &errs)
	var seen []error
	e.Use(sessionechov5.New(m, sessionechov5.WithErrorHandler(nil), sessionechov5.WithErrorHandler(func(c *echo.Context, err error) error {
		seen = append(seen, err)
		if c.Request().URL.Path == "/writing" {
			_ = c.JSON(http.StatusServiceUnavailable, map[string]string{"down": "try later"})
		}
		return errCustom
	})))
	var writeErr error
	e.Any("/*", func(c *echo.Context) error {
		_ = sessionechov5.From(c).Put("k", "v")
		if c.Request().URL.Path == "/writing" {
			writeErr = c.String(http.StatusOK, "ok")
		}
		return nil
	})

	load := httptest.NewRequest("GET", "/", nil)
	load.AddCookie(&http.Cookie{Name: m.Config().Cookie.Name, Value: wellFormedToken})
	for _, req := range []*http.Request{load, httptest.NewRequest("POST", "/", nil)} {
		errs, seen = nil, nil
		res, _ := serve(e, req)
		assert.Equal(t, http.StatusInternalServerError, res.StatusCode, "%s: Echo's default answer to errCustom", req.Method)
		require.Len(t, seen, 1)
		requireSessionError(t, seen)
		assert.Equal(t, []error{errCustom}, errs, "%s: what the ErrorHandler returned reached the HTTPErrorHandler", req.Method)
	}

	errs, seen = nil, nil
	res, body := serve(e, httptest.NewRequest("POST", "/writing", nil))
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
	assert.JSONEq(t, `{"down":"try later"}`, body, "the ErrorHandler's answer replaced the handler's")
	assert.Empty(t, res.Cookies())
	assert.Error(t, writeErr, "the handler's write fails")
	requireSessionError(t, seen)
	assert.Equal(t, []error{errCustom}, errs, "what it returned is returned after the handler")
}

// A handler that panics commits nothing: the recovery's 500 carries no
// cookie.
func TestPanicCommitsNothing(t *testing.T) {
	e := echo.New()
	recoverer := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) (err error) {
			defer func() {
				if p := recover(); p != nil {
					err = fmt.Errorf("recovered: %v", p)
				}
			}()
			return next(c)
		}
	}
	e.Use(recoverer, sessionechov5.New(quietManager(t, nil)))
	e.GET("/", func(c *echo.Context) error {
		_ = sessionechov5.From(c).Put("k", "v")
		panic("boom")
	})
	res, _ := serve(e, httptest.NewRequest("GET", "/", nil))
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

// opaque is a wrapper without Unwrap, which Echo v5 asks every wrapper of
// c.Response() to have.
type opaque struct{ http.ResponseWriter }

// A c.Response() that does not unwrap to Echo's Response is refused
// loudly, naming the cause, rather than served with a session that could
// never be committed beneath it.
func TestResponseWithoutUnwrapPanics(t *testing.T) {
	e := echo.New()
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			c.SetResponse(opaque{c.Response()})
			return next(c)
		}
	}, sessionechov5.New(quietManager(t, nil)))
	e.GET("/", func(c *echo.Context) error { return c.String(http.StatusOK, "ok") })
	var got any
	func() {
		defer func() { got = recover() }()
		serve(e, httptest.NewRequest("GET", "/", nil))
	}()
	require.IsType(t, "", got, "the middleware panicked with its message")
	assert.Contains(t, got, "sessionkit: sessionechov5: c.Response() does not unwrap to *echo.Response")
}
