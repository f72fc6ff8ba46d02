package sessionecho_test

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

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/adapterkit"
	"github.com/sessionkit/sessionkit/adapters/adaptertest"
	sessionecho "github.com/sessionkit/sessionkit/adapters/echo"
	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/core/store"
)

func factory(t *testing.T, m *core.Manager, app adaptertest.App) adaptertest.Server {
	e := echo.New()
	e.Use(sessionecho.New(m))
	e.Any("/*", func(c echo.Context) error {
		var err error
		app(&adaptertest.Exchange{
			URL:            c.Request().URL.RequestURI(),
			Session:        sessionecho.From(c),
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

func quietManager(t *testing.T, st store.Store) *core.Manager {
	m, err := core.New(core.Config{Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
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
	e.Use(sessionecho.New(quietManager(t, nil)))
	var fromC, fromKey, fromCtx *core.Session
	e.GET("/", func(c echo.Context) error {
		fromC = sessionecho.From(c)
		fromKey, _ = c.Get(sessionecho.ContextKey).(*core.Session)
		fromCtx = core.FromContext(c.Request().Context())
		return nil
	})
	serve(e, httptest.NewRequest("GET", "/", nil))
	require.NotNil(t, fromC)
	assert.Same(t, fromC, fromKey)
	assert.Same(t, fromC, fromCtx)

}

// Without the middleware From panics with a message that names what is
// missing, rather than returning nil for the handler's next call to
// dereference; core.FromContext still reports no session with nil.
func TestFromWithoutMiddleware(t *testing.T) {
	c := echo.New().NewContext(httptest.NewRequest("GET", "/", nil), httptest.NewRecorder())
	assert.PanicsWithValue(t,
		"sessionkit: sessionecho.From called on a route without the sessionecho middleware (sessionecho.New)",
		func() { sessionecho.From(c) })
	assert.Nil(t, core.FromContext(c.Request().Context()))
}

// A streamed response gets its cookie with the headers, and the body
// reaches the client before the handler returns: nothing is buffered.
func TestStreamCommitsAndStreams(t *testing.T) {
	e := echo.New()
	e.Use(sessionecho.New(quietManager(t, nil)))
	release := make(chan struct{})
	e.GET("/", func(c echo.Context) error {
		require.NoError(t, sessionecho.From(c).Put("k", "v"))
		res := c.Response()
		res.WriteHeader(http.StatusOK)
		res.Flush()
		_, _ = io.WriteString(res, "first\n")
		res.Flush()
		<-release
		_, err := io.WriteString(res, "second\n")
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
	require.Len(t, res.Cookies(), 1, "the cookie went out with the headers")
	line, err := bufio.NewReader(res.Body).ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "first\n", line, "the first chunk arrived while the handler still runs")
}

// A handler that flushes before writing anything sends its headers with
// the flush: the session's cookie is among them (Echo's Response.Flush runs
// no Before hooks, so this needs the adapter's writer).
func TestFlushFirstCarriesTheCookie(t *testing.T) {
	e := echo.New()
	e.Use(sessionecho.New(quietManager(t, nil)))
	release := make(chan struct{})
	e.GET("/", func(c echo.Context) error {
		require.NoError(t, sessionecho.From(c).Put("k", "v"))
		c.Response().Flush()
		<-release
		_, err := io.WriteString(c.Response(), "late\n")
		return err
	})
	srv := httptest.NewServer(e)
	defer srv.Close()
	defer close(release)

	client := srv.Client()
	client.Timeout = 10 * time.Second
	res, err := client.Get(srv.URL)
	require.NoError(t, err)
	defer res.Body.Close()
	assert.Len(t, res.Cookies(), 1, "the flushed headers carried no session cookie")
	assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
}

// Hijack saves the session but issues no token it could not deliver.
func TestHijack(t *testing.T) {
	adaptertest.RunHijack(t, func(m *core.Manager, h http.Handler) http.Handler {
		e := echo.New()
		e.Use(sessionecho.New(m))
		e.Any("/*", echo.WrapHandler(h))
		return e
	})
}

// A handler that returns an error without writing has its session
// committed before the HTTPErrorHandler writes, so the cookie goes out with
// the error page.
func TestCommitBeforeErrorHandler(t *testing.T) {
	e := echo.New()
	m := quietManager(t, nil)
	e.Use(sessionecho.New(m))
	e.POST("/", func(c echo.Context) error {
		_ = sessionecho.From(c).Put("k", "v")
		return echo.ErrTeapot
	})
	e.GET("/", func(c echo.Context) error {
		v, _ := core.Get[string](sessionecho.From(c), "k")
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
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		*into = append(*into, err)
		e.DefaultHTTPErrorHandler(err, c)
	}
}

func requireSessionError(t *testing.T, errs []error) {
	t.Helper()
	require.Len(t, errs, 1)
	var he *echo.HTTPError
	require.ErrorAs(t, errs[0], &he)
	assert.Equal(t, http.StatusServiceUnavailable, he.Code)
	assert.ErrorIs(t, errs[0], core.ErrStore, "errors.Is works through HTTPError.Internal")
}

// Echo's default HTTPErrorHandler answers a load failure with 503 and the
// generic body, and the handler never runs.
func TestLoadErrorDefaultHandler(t *testing.T) {
	m := quietManager(t, downStore{})
	e := echo.New()
	var errs []error
	errorsSeen(e, &errs)
	e.Use(sessionecho.New(m))
	ran := false
	e.GET("/", func(c echo.Context) error { ran = true; return nil })
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
	e.Use(sessionecho.New(quietManager(t, downStore{})))
	e.POST("/", func(c echo.Context) error {
		_ = sessionecho.From(c).Put("k", "v")
		return echo.ErrTeapot
	})
	res, body := serve(e, httptest.NewRequest("POST", "/", nil))
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode, "the session error wins over the handler's")
	assert.JSONEq(t, adapterkit.ErrorBody, body)
	assert.Empty(t, res.Cookies())
	requireSessionError(t, errs)
}

// The app's own HTTPErrorHandler answers session errors in its own way,
// on load and after a handler that wrote nothing.
func TestCustomErrorHandlerAnswers(t *testing.T) {
	m := quietManager(t, downStore{})
	e := echo.New()
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		var he *echo.HTTPError
		if errors.As(err, &he) && errors.Is(err, core.ErrStore) {
			_ = c.String(he.Code, "custom")
		}
	}
	e.Use(sessionecho.New(m))
	e.Any("/", func(c echo.Context) error {
		_ = sessionecho.From(c).Put("k", "v")
		return nil
	})
	load := httptest.NewRequest("GET", "/", nil)
	load.AddCookie(&http.Cookie{Name: m.Config().Cookie.Name, Value: wellFormedToken})
	for name, req := range map[string]*http.Request{"load": load, "commit": httptest.NewRequest("POST", "/", nil)} {
		res, body := serve(e, req)
		assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode, name)
		assert.Equal(t, "custom", body, name)
	}
}

// A commit failure as the handler writes replaces its response with the
// default error response: the status, the body and the Content-Type are
// the error's, the handler's write fails, and the HTTPErrorHandler is
// still told.
func TestCommitErrorWhileWriting(t *testing.T) {
	e := echo.New()
	var errs []error
	errorsSeen(e, &errs)
	e.Use(sessionecho.New(quietManager(t, downStore{})))
	var writeErr error
	var status int
	e.POST("/", func(c echo.Context) error {
		_ = sessionecho.From(c).Put("k", "v")
		writeErr = c.String(http.StatusOK, "ok")
		c.Response().Flush()
		status = c.Response().Status
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

// recoverer answers a panic as Echo's middleware.Recover does: c.Error,
// which writes the HTTPErrorHandler's response through c.Response().
func recoverer(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if p := recover(); p != nil {
				c.Error(fmt.Errorf("recovered: %v", p))
			}
		}()
		return next(c)
	}
}

// A handler that panics commits nothing: the recovery's 500 carries no
// cookie.
func TestPanicCommitsNothing(t *testing.T) {
	m := quietManager(t, nil)
	e := echo.New()
	e.Use(recoverer, sessionecho.New(m))
	e.GET("/", func(c echo.Context) error {
		_ = sessionecho.From(c).Put("k", "v")
		panic("boom")
	})
	res, _ := serve(e, httptest.NewRequest("GET", "/", nil))
	assert.Equal(t, http.StatusInternalServerError, res.StatusCode)
	assert.Empty(t, res.Cookies())
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
	e.Use(sessionecho.New(m, sessionecho.WithErrorHandler(nil), sessionecho.WithErrorHandler(func(c echo.Context, err error) error {
		seen = append(seen, err)
		if c.Request().URL.Path == "/writing" {
			_ = c.JSON(http.StatusServiceUnavailable, map[string]string{"down": "try later"})
		}
		return errCustom
	})))
	var writeErr error
	e.Any("/*", func(c echo.Context) error {
		_ = sessionecho.From(c).Put("k", "v")
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
		var he *echo.HTTPError
		require.ErrorAs(t, seen[0], &he)
		assert.Equal(t, http.StatusServiceUnavailable, he.Code)
		assert.ErrorIs(t, seen[0], core.ErrStore)
		assert.Equal(t, []error{errCustom}, errs, "%s: what the ErrorHandler returned reached the HTTPErrorHandler", req.Method)
	}

	errs, seen = nil, nil
	res, body := serve(e, httptest.NewRequest("POST", "/writing", nil))
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
	assert.JSONEq(t, `{"down":"try later"}`, body, "the ErrorHandler's answer replaced the handler's")
	assert.Empty(t, res.Cookies())
	assert.Error(t, writeErr, "the handler's write fails")
	require.Len(t, seen, 1)
	assert.ErrorIs(t, seen[0], core.ErrStore)
	assert.Equal(t, []error{errCustom}, errs, "what it returned is returned after the handler")
}
