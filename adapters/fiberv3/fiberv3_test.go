package sessionfiberv3_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/adapters/adaptertest"
	sessionfiberv3 "github.com/sessionkit/sessionkit/adapters/fiberv3"
	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/stores/memstore"
)

// route is the suite's app behind the middleware, on any Fiber v3 app.
func route(f *fiber.App, m *core.Manager, app adaptertest.App) *fiber.App {
	f.Use(sessionfiberv3.New(m))
	f.All("/*", func(c fiber.Ctx) error {
		var err error
		app(&adaptertest.Exchange{
			// The suite's app keeps strings parsed from the URL (keys, a
			// user id) in the session, and c.OriginalURL aliases fasthttp's
			// buffer: a Fiber app without Immutable copies what it keeps.
			URL:            strings.Clone(c.OriginalURL()),
			Session:        sessionfiberv3.From(c),
			ContextSession: core.FromContext(c.Context()),
			Respond: func(status int, body string) {
				err = c.Status(status).SendString(body)
			},
		})
		return err
	})
	return f
}

func factory(t *testing.T, m *core.Manager, app adaptertest.App) adaptertest.Server {
	return adaptertest.ListenerServer(t, listen(t, route(fiber.New(), m, app)))
}

// listen serves app on a loopback port until the test ends and returns
// its address: a real connection, where fasthttp reuses its buffers.
func listen(t *testing.T, app *fiber.App) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = app.Listener(ln, fiber.ListenConfig{DisableStartupMessage: true}) }()
	t.Cleanup(func() { _ = app.Shutdown() })
	return ln.Addr().String()
}

func TestAdapterSuite(t *testing.T) {
	adaptertest.Run(t, factory)
}

// fasthttp parses every request on a connection into the same buffers:
// the middleware must copy everything it hands the session (the token, and
// at Login the user agent and the forwarded address).
func TestRequestBuffersNotRetained(t *testing.T) {
	adaptertest.RunConnectionReuse(t, func(t *testing.T, m *core.Manager, app adaptertest.App) string {
		return listen(t, route(fiber.New(), m, app))
	})
}

func newManager(t *testing.T, cfg core.Config) *core.Manager {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	m, err := core.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// do sends one request through app.Test and returns the response and its body.
func do(t *testing.T, app *fiber.App, req *http.Request) (*http.Response, string) {
	t.Helper()
	res, err := app.Test(req, fiber.TestConfig{Timeout: 10 * time.Second})
	require.NoError(t, err)
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.NoError(t, res.Body.Close())
	return res, string(body)
}

func sessionCookie(t *testing.T, res *http.Response) *http.Cookie {
	t.Helper()
	for _, c := range res.Cookies() {
		if c.Name == "__Host-session" {
			return c
		}
	}
	t.Fatalf("no session cookie in %q", res.Header.Values("Set-Cookie"))
	return nil
}

// From, c.Locals(LocalsKey), core.FromContext(c.Context()) and
// core.FromContext of the fiber.Ctx itself (a context.Context in v3) all
// return the one session: a service function handed c gets it.
func TestFromMatchesContext(t *testing.T) {
	app := fiber.New()
	app.Use(sessionfiberv3.New(newManager(t, core.Config{})))
	var fromC, fromLocals, fromCtx, fromFiber *core.Session
	service := func(ctx context.Context) *core.Session { return core.FromContext(ctx) }
	app.Get("/", func(c fiber.Ctx) error {
		fromC = sessionfiberv3.From(c)
		fromLocals, _ = c.Locals(sessionfiberv3.LocalsKey).(*core.Session)
		fromCtx = core.FromContext(c.Context())
		fromFiber = service(c)
		return c.SendStatus(fiber.StatusNoContent)
	})
	do(t, app, httptest.NewRequest("GET", "/", nil))
	require.NotNil(t, fromC)
	assert.Same(t, fromC, fromLocals)
	assert.Same(t, fromC, fromCtx)
	assert.Same(t, fromC, fromFiber, "core.FromContext(c)")
}

// Without the middleware From panics with a message that names what is
// missing; core.FromContext still reports no session with nil.
func TestFromWithoutMiddleware(t *testing.T) {
	app := fiber.New()
	ran := false
	app.Get("/", func(c fiber.Ctx) error {
		ran = true
		assert.PanicsWithValue(t,
			"sessionkit: sessionfiberv3.From called on a route without the sessionfiberv3 middleware (sessionfiberv3.New)",
			func() { sessionfiberv3.From(c) })
		assert.Nil(t, core.FromContext(c.Context()))
		assert.Nil(t, core.FromContext(c))
		return c.SendStatus(fiber.StatusNoContent)
	})
	res, _ := do(t, app, httptest.NewRequest("GET", "/", nil))
	assert.Equal(t, fiber.StatusNoContent, res.StatusCode)
	assert.True(t, ran, "the handler ran")
}

// flakyStore is a working memstore that fails the operations switched off.
type flakyStore struct {
	store.Store
	failLoad, failWrite bool
}

var errDown = errors.New("redis: connection refused to 10.0.0.7:6379")

func (s *flakyStore) Load(ctx context.Context, id string, o store.LoadOptions) (*store.Record, error) {
	if s.failLoad {
		return nil, errDown
	}
	return s.Store.Load(ctx, id, o)
}

func (s *flakyStore) Create(ctx context.Context, id string, r *store.Record, o store.WriteOptions) ([]string, error) {
	if s.failWrite {
		return nil, errDown
	}
	return s.Store.Create(ctx, id, r, o)
}

func newFlaky(t *testing.T) *flakyStore {
	mem := memstore.New(memstore.Options{})
	t.Cleanup(func() { _ = mem.Close() })
	return &flakyStore{Store: mem}
}

// writer is a route that stores a value and answers like a handler that
// succeeded: its own status, type, header and body.
func writer(c fiber.Ctx) error {
	if err := sessionfiberv3.From(c).Put("k", "v"); err != nil {
		return err
	}
	c.Set("X-Handler", "ran")
	c.Type("html")
	return c.Status(fiber.StatusCreated).SendString("<p>saved</p>")
}

// A load failure is answered 503 with the generic body, never cached, and
// the handler never runs. An app that prefers Fiber's ErrorHandler
// returns the error: it sees a *fiber.Error that is also core.ErrStore,
// and Fiber's default handler answers 503 without naming the store.
func TestLoadFailure(t *testing.T) {
	st := newFlaky(t)
	st.failLoad = true
	m := newManager(t, core.Config{Store: st})
	req := func() *http.Request {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Cookie", "__Host-session="+strings.Repeat("A", core.TokenLength))
		return r
	}
	app := fiber.New()
	app.Use(sessionfiberv3.New(m, sessionfiberv3.WithErrorHandler(nil)))
	ran := false
	app.All("/*", func(c fiber.Ctx) error { ran = true; return writer(c) })
	res, body := do(t, app, req())
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
	assert.JSONEq(t, `{"error":"session store unavailable"}`, body)
	assert.Equal(t, fiber.MIMEApplicationJSON, res.Header.Get("Content-Type"))
	assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	assert.Empty(t, res.Header.Values("Set-Cookie"))
	assert.False(t, ran, "the handler never runs without its session")

	var seen error
	passOn := sessionfiberv3.WithErrorHandler(func(_ fiber.Ctx, err error) error { return err })
	custom := fiber.New(fiber.Config{ErrorHandler: func(c fiber.Ctx, err error) error {
		seen = err
		return fiber.DefaultErrorHandler(c, err)
	}})
	custom.Use(sessionfiberv3.New(m, passOn))
	custom.All("/*", writer)
	res, body = do(t, custom, req())
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
	var fe *fiber.Error
	require.ErrorAs(t, seen, &fe)
	assert.Equal(t, fiber.StatusServiceUnavailable, fe.Code)
	assert.ErrorIs(t, seen, core.ErrStore)
	assert.NotContains(t, body, "10.0.0.7", "Fiber's default handler sends err.Error(): it must be generic")
	assert.NotContains(t, body, "saved")
}

// A commit that fails after the handler answered replaces the answer: the
// status, the body and its type, whichever error handler answers.
func TestCommitFailureReplacesResponse(t *testing.T) {
	routes := map[string]fiber.Handler{
		"plain": writer,
		"stream": func(c fiber.Ctx) error {
			_ = sessionfiberv3.From(c).Put("k", "v")
			return c.SendStream(strings.NewReader("streamed success"))
		},
		"handler error": func(c fiber.Ctx) error {
			_ = sessionfiberv3.From(c).Put("k", "v")
			return fiber.NewError(fiber.StatusConflict, "handler says conflict")
		},
	}
	for name, h := range routes {
		t.Run(name, func(t *testing.T) {
			st := newFlaky(t)
			st.failWrite = true
			m := newManager(t, core.Config{Store: st})

			app := fiber.New()
			app.Use(sessionfiberv3.New(m))
			app.All("/*", h)
			res, body := do(t, app, httptest.NewRequest("POST", "/", nil))
			assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
			assert.JSONEq(t, `{"error":"session store unavailable"}`, body)
			assert.Equal(t, fiber.MIMEApplicationJSON, res.Header.Get("Content-Type"))
			assert.Empty(t, res.Header.Values("Set-Cookie"), "no token for a session that was not stored")

			var seen error
			app = fiber.New(fiber.Config{ErrorHandler: func(c fiber.Ctx, err error) error {
				seen = err
				return nil
			}})
			app.Use(sessionfiberv3.New(m, sessionfiberv3.WithErrorHandler(func(_ fiber.Ctx, err error) error { return err })))
			app.All("/*", h)
			res, body = do(t, app, httptest.NewRequest("POST", "/", nil))
			assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode, "the handler's status is gone")
			assert.Empty(t, body, "the handler's body is gone")
			assert.ErrorIs(t, seen, core.ErrStore)
		})
	}
}

// A handler's own error is answered by Fiber's ErrorHandler after the
// commit, and the session cookie survives it.
func TestHandlerErrorKeepsCommit(t *testing.T) {
	app := fiber.New()
	app.Use(sessionfiberv3.New(newManager(t, core.Config{})))
	app.All("/*", func(c fiber.Ctx) error {
		_ = sessionfiberv3.From(c).Put("k", "v")
		return fiber.ErrBadRequest
	})
	res, _ := do(t, app, httptest.NewRequest("POST", "/", nil))
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	assert.Len(t, sessionCookie(t, res).Value, core.TokenLength)
	assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
}

// attrs splits the one Set-Cookie line into its attributes, the
// name=value pair dropped.
func attrs(t *testing.T, res *http.Response) (value string, attrs []string) {
	t.Helper()
	lines := res.Header.Values("Set-Cookie")
	require.Len(t, lines, 1, "one Set-Cookie line")
	parts := strings.Split(lines[0], "; ")
	name, value, _ := strings.Cut(parts[0], "=")
	require.Equal(t, "__Host-session", name)
	return value, parts[1:]
}

// The Set-Cookie line is the same as on every adapter, persistent and
// partitioned attributes included, and a clearing cookie has Max-Age=0
// and Expires; the handler's Vary is merged with, and its caching
// replaced by, what a token-bearing response needs.
func TestSetCookieRendering(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, persist := range []bool{false, true} {
		m := newManager(t, core.Config{
			Now:      func() time.Time { return now },
			Lifetime: 2 * time.Hour,
			Cookie:   core.CookieConfig{Persist: persist, Partitioned: persist},
		})
		app := fiber.New()
		app.Use(sessionfiberv3.New(m))
		app.All("/login", func(c fiber.Ctx) error {
			sessionfiberv3.From(c).Login("alice")
			c.Vary(fiber.HeaderAcceptEncoding)
			c.Set(fiber.HeaderCacheControl, "public, max-age=60")
			return c.SendString("ok")
		})
		app.All("/logout", func(c fiber.Ctx) error {
			sessionfiberv3.From(c).Destroy()
			return c.SendString("ok")
		})
		res, _ := do(t, app, httptest.NewRequest("POST", "/login", nil))
		tok, got := attrs(t, res)
		want := []string{"Path=/", "HttpOnly", "Secure", "SameSite=Lax"}
		if persist {
			want = append(want, "Expires=Wed, 02 Jan 2030 05:04:05 GMT", "Max-Age=7200", "Partitioned")
		}
		assert.ElementsMatch(t, want, got, "persist %v", persist)
		assert.Equal(t, []string{"Accept-Encoding, Cookie"}, res.Header.Values("Vary"))
		assert.Equal(t, []string{"no-store"}, res.Header.Values("Cache-Control"))

		req := httptest.NewRequest("POST", "/logout", nil)
		req.Header.Set("Cookie", "__Host-session="+tok)
		res, _ = do(t, app, req)
		value, got := attrs(t, res)
		assert.Empty(t, value, "the value is emptied")
		want = []string{"Path=/", "Expires=Thu, 01 Jan 1970 00:00:00 GMT", "Max-Age=0", "HttpOnly", "Secure", "SameSite=Lax"}
		if persist {
			want = append(want, "Partitioned")
		}
		assert.ElementsMatch(t, want, got, "persist %v", persist)
	}
}

// A handler that read the session and chose its own caching keeps it:
// its Vary gains the token's header in the same line, field by field, and
// its Cache-Control gains private.
func TestReadMergesHandlerCaching(t *testing.T) {
	for _, tc := range []struct {
		transport   core.Transport
		handlerVary []string
		want        []string
	}{
		{core.TransportCookie, []string{fiber.HeaderAcceptEncoding}, []string{"Accept-Encoding, Cookie"}},
		{core.TransportCookie, []string{fiber.HeaderCookie}, []string{"Cookie"}},
		{core.TransportBoth, []string{fiber.HeaderAcceptEncoding}, []string{"Accept-Encoding, Cookie, Authorization"}},
		{core.TransportBoth, []string{fiber.HeaderCookie}, []string{"Cookie, Authorization"}},
		{core.TransportBoth, nil, []string{"Cookie, Authorization"}},
	} {
		app := fiber.New()
		app.Use(sessionfiberv3.New(newManager(t, core.Config{Transport: tc.transport})))
		app.All("/*", func(c fiber.Ctx) error {
			c.Vary(tc.handlerVary...)
			c.Set(fiber.HeaderCacheControl, "max-age=60")
			_, _ = core.Get[string](sessionfiberv3.From(c), "k")
			return c.SendString("ok")
		})
		res, _ := do(t, app, httptest.NewRequest("GET", "/", nil))
		assert.Equal(t, tc.want, res.Header.Values("Vary"), "handler's Vary %v", tc.handlerVary)
		assert.Equal(t, "max-age=60, private", strings.Join(res.Header.Values("Cache-Control"), ", "), "handler's Vary %v", tc.handlerVary)
		assert.Empty(t, res.Header.Values("Set-Cookie"))
	}
}
