package sessionfiber_test

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

	"github.com/gofiber/fiber/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/adapters/adaptertest"
	sessionfiber "github.com/sessionkit/sessionkit/adapters/fiber"
	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/stores/memstore"
)

func factory(t *testing.T, m *core.Manager, app adaptertest.App) adaptertest.Server {
	return serve(t, suiteApp(m, app))
}

// suiteApp is the suite's app on Fiber behind the middleware.
func suiteApp(m *core.Manager, app adaptertest.App) *fiber.App {
	f := fiber.New(fiber.Config{DisableStartupMessage: true})
	f.Use(sessionfiber.New(m))
	f.All("/*", func(c *fiber.Ctx) error {
		var err error
		app(&adaptertest.Exchange{
			// The suite's app keeps strings parsed from the URL (keys, a
			// user id) in the session, and c.OriginalURL aliases fasthttp's
			// buffer: a Fiber app without Immutable copies what it keeps.
			URL:            strings.Clone(c.OriginalURL()),
			Session:        sessionfiber.From(c),
			ContextSession: core.FromContext(c.UserContext()),
			Respond: func(status int, body string) {
				err = c.Status(status).SendString(body)
			},
		})
		return err
	})
	return f
}

// serve runs app on a loopback listener and sends requests there over
// keep-alive connections, so fasthttp reuses its buffers as it does in
// production (adaptertest.ListenerServer says why not app.Test).
func serve(t *testing.T, app *fiber.App) adaptertest.Server {
	return adaptertest.ListenerServer(t, listen(t, app))
}

// listen serves app on a loopback port until the test ends and returns
// its address.
func listen(t *testing.T, app *fiber.App) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.Shutdown() })
	return ln.Addr().String()
}

func TestAdapterSuite(t *testing.T) {
	adaptertest.Run(t, factory)
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newManager(t *testing.T, cfg core.Config) *core.Manager {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quiet()
	}
	m, err := core.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// do sends one request through app.Test and returns the response and its body.
func do(t *testing.T, app *fiber.App, req *http.Request) (*http.Response, string) {
	t.Helper()
	res, err := app.Test(req, -1)
	require.NoError(t, err)
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.NoError(t, res.Body.Close())
	return res, string(body)
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

func (s *flakyStore) Update(ctx context.Context, id string, ch *store.Change) error {
	if s.failWrite {
		return errDown
	}
	return s.Store.Update(ctx, id, ch)
}

func newFlaky(t *testing.T) *flakyStore {
	mem := memstore.New(memstore.Options{})
	t.Cleanup(func() { _ = mem.Close() })
	return &flakyStore{Store: mem}
}

// writer is a route that stores a value and answers like a handler that
// succeeded: its own status, type, header and body.
func writer(c *fiber.Ctx) error {
	if err := sessionfiber.From(c).Put("k", "v"); err != nil {
		return err
	}
	c.Set("X-Handler", "ran")
	c.Type("html")
	return c.Status(fiber.StatusCreated).SendString("<p>saved</p>")
}

func TestLoadFailureDefaultAnswer(t *testing.T) {
	st := newFlaky(t)
	m := newManager(t, core.Config{Store: st})
	app := fiber.New()
	app.Use(sessionfiber.New(m))
	ran := false
	app.All("/*", func(c *fiber.Ctx) error {
		ran = true
		return writer(c)
	})

	res, _ := do(t, app, httptest.NewRequest("POST", "/", nil))
	tok := sessionCookie(t, res).Value
	ran = false

	st.failLoad = true
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Cookie", "__Host-session="+tok)
	res, body := do(t, app, req)
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
	assert.JSONEq(t, `{"error":"session store unavailable"}`, body)
	assert.Equal(t, fiber.MIMEApplicationJSON, res.Header.Get("Content-Type"))
	assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	assert.Empty(t, res.Header.Values("Set-Cookie"))
	assert.False(t, ran, "the handler never runs without its session")
}

// An app that prefers Fiber's ErrorHandler returns the error: the handler
// sees a *fiber.Error that is also core.ErrStore, and Fiber's default
// handler answers 503 without naming the store.
func TestLoadFailureReachesFiberErrorHandler(t *testing.T) {
	st := newFlaky(t)
	st.failLoad = true
	m := newManager(t, core.Config{Store: st})
	passOn := sessionfiber.WithErrorHandler(func(_ *fiber.Ctx, err error) error { return err })
	req := func() *http.Request {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Cookie", "__Host-session="+strings.Repeat("A", core.TokenLength))
		return r
	}

	var seen error
	custom := fiber.New(fiber.Config{ErrorHandler: func(c *fiber.Ctx, err error) error {
		seen = err
		return c.Status(fiber.StatusTeapot).SendString("custom")
	}})
	custom.Use(sessionfiber.New(m, passOn))
	custom.All("/*", writer)
	res, body := do(t, custom, req())
	assert.Equal(t, fiber.StatusTeapot, res.StatusCode)
	assert.Equal(t, "custom", body)
	var fe *fiber.Error
	require.ErrorAs(t, seen, &fe)
	assert.Equal(t, fiber.StatusServiceUnavailable, fe.Code)
	assert.ErrorIs(t, seen, core.ErrStore)
	assert.ErrorIs(t, seen, errDown, "the store's own error stays reachable")
	assert.NotContains(t, seen.Error(), "10.0.0.7", "the error text is generic")

	plain := fiber.New()
	plain.Use(sessionfiber.New(m, passOn))
	plain.All("/*", writer)
	res, body = do(t, plain, req())
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
	assert.NotContains(t, body, "10.0.0.7", "Fiber's default handler sends err.Error(): it must be generic")
	assert.NotContains(t, body, "saved")
}

// A commit that fails after the handler answered replaces the answer: the
// status, the body and its type, whichever error handler answers.
func TestCommitFailureReplacesResponse(t *testing.T) {
	routes := map[string]fiber.Handler{
		"plain": writer,
		"stream": func(c *fiber.Ctx) error {
			_ = sessionfiber.From(c).Put("k", "v")
			return c.SendStream(strings.NewReader("streamed success"))
		},
		"handler error": func(c *fiber.Ctx) error {
			_ = sessionfiber.From(c).Put("k", "v")
			return fiber.NewError(fiber.StatusConflict, "handler says conflict")
		},
	}
	for name, route := range routes {
		t.Run(name, func(t *testing.T) {
			st := newFlaky(t)
			st.failWrite = true
			m := newManager(t, core.Config{Store: st})

			app := fiber.New()
			app.Use(sessionfiber.New(m))
			app.All("/*", route)
			res, body := do(t, app, httptest.NewRequest("POST", "/", nil))
			assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
			assert.JSONEq(t, `{"error":"session store unavailable"}`, body)
			assert.Equal(t, fiber.MIMEApplicationJSON, res.Header.Get("Content-Type"))
			assert.Empty(t, res.Header.Values("Set-Cookie"), "no token for a session that was not stored")

			// Through Fiber's ErrorHandler, and one that writes no body.
			var seen error
			app = fiber.New(fiber.Config{ErrorHandler: func(c *fiber.Ctx, err error) error {
				seen = err
				return nil
			}})
			app.Use(sessionfiber.New(m, sessionfiber.WithErrorHandler(func(_ *fiber.Ctx, err error) error { return err })))
			app.All("/*", route)
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
	m := newManager(t, core.Config{})
	app := fiber.New()
	app.Use(sessionfiber.New(m))
	app.All("/*", func(c *fiber.Ctx) error {
		_ = sessionfiber.From(c).Put("k", "v")
		return fiber.ErrBadRequest
	})
	res, _ := do(t, app, httptest.NewRequest("POST", "/", nil))
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	c := sessionCookie(t, res)
	assert.Len(t, c.Value, core.TokenLength)
	assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
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

// setCookie returns the raw Set-Cookie line of the session cookie.
func setCookie(t *testing.T, res *http.Response) string {
	t.Helper()
	lines := res.Header.Values("Set-Cookie")
	require.Len(t, lines, 1, "one Set-Cookie line")
	require.True(t, strings.HasPrefix(lines[0], "__Host-session="), lines[0])
	return lines[0]
}

// attrs splits a Set-Cookie line into its attributes, the name=value pair
// dropped.
func attrs(line string) []string {
	parts := strings.Split(line, "; ")
	return parts[1:]
}

func TestSetCookieRendering(t *testing.T) {
	m := newManager(t, core.Config{})
	app := fiber.New()
	app.Use(sessionfiber.New(m))
	app.All("/login", func(c *fiber.Ctx) error {
		sessionfiber.From(c).Login("alice")
		// What the handler chose is merged with or replaced by what a
		// token-bearing response needs.
		c.Vary(fiber.HeaderAcceptEncoding)
		c.Set(fiber.HeaderCacheControl, "public, max-age=60")
		return c.SendString("ok")
	})
	app.All("/logout", func(c *fiber.Ctx) error {
		sessionfiber.From(c).Destroy()
		return c.SendString("ok")
	})

	res, _ := do(t, app, httptest.NewRequest("POST", "/login", nil))
	line := setCookie(t, res)
	assert.ElementsMatch(t, []string{"Path=/", "HttpOnly", "Secure", "SameSite=Lax"}, attrs(line),
		"no Domain, no Max-Age, no Expires by default: %s", line)
	assert.Equal(t, []string{"Accept-Encoding, Cookie"}, res.Header.Values("Vary"))
	assert.Equal(t, []string{"no-store"}, res.Header.Values("Cache-Control"))
	tok := sessionCookie(t, res).Value

	req := httptest.NewRequest("POST", "/logout", nil)
	req.Header.Set("Cookie", "__Host-session="+tok)
	res, _ = do(t, app, req)
	line = setCookie(t, res)
	assert.True(t, strings.HasPrefix(line, "__Host-session=; "), "the value is emptied: %s", line)
	assert.ElementsMatch(t, []string{"Path=/", "Expires=Thu, 01 Jan 1970 00:00:00 GMT", "Max-Age=0", "HttpOnly", "Secure", "SameSite=Lax"}, attrs(line))
}

// A handler that read the session and chose its own caching keeps it:
// its Vary gains the token's header in the same line, and its
// Cache-Control gains private, as on net/http (core.Result.Apply). Vary
// is merged field by field, so a handler that already varies by Cookie
// does not get it twice.
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
		m := newManager(t, core.Config{Transport: tc.transport})
		app := fiber.New()
		app.Use(sessionfiber.New(m))
		app.All("/*", func(c *fiber.Ctx) error {
			c.Vary(tc.handlerVary...)
			c.Set(fiber.HeaderCacheControl, "max-age=60")
			_, _ = core.Get[string](sessionfiber.From(c), "k")
			return c.SendString("ok")
		})
		res, _ := do(t, app, httptest.NewRequest("GET", "/", nil))
		assert.Equal(t, tc.want, res.Header.Values("Vary"), "handler's Vary %v", tc.handlerVary)
		assert.Equal(t, "max-age=60, private", strings.Join(res.Header.Values("Cache-Control"), ", "), "handler's Vary %v", tc.handlerVary)
		assert.Empty(t, res.Header.Values("Set-Cookie"))
	}
}

func TestSetCookiePersistentAndPartitioned(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	m := newManager(t, core.Config{
		Now:      func() time.Time { return now },
		Lifetime: 2 * time.Hour,
		Cookie:   core.CookieConfig{Persist: true, Partitioned: true, SameSite: core.SameSiteStrict},
	})
	app := fiber.New()
	app.Use(sessionfiber.New(m))
	app.All("/*", func(c *fiber.Ctx) error { return sessionfiber.From(c).Put("k", "v") })
	res, _ := do(t, app, httptest.NewRequest("POST", "/", nil))
	assert.ElementsMatch(t, []string{
		"Path=/", "Expires=Wed, 02 Jan 2030 05:04:05 GMT", "Max-Age=7200",
		"HttpOnly", "Secure", "SameSite=Strict", "Partitioned",
	}, attrs(setCookie(t, res)))
}

func TestHeaderTransportToken(t *testing.T) {
	m := newManager(t, core.Config{Transport: core.TransportHeader})
	app := fiber.New()
	app.Use(sessionfiber.New(m))
	app.All("/*", func(c *fiber.Ctx) error { return sessionfiber.From(c).Put("k", "v") })
	res, _ := do(t, app, httptest.NewRequest("POST", "/", nil))
	assert.Len(t, res.Header.Get("Session-Token"), core.TokenLength)
	assert.Equal(t, []string{"Authorization"}, res.Header.Values("Vary"))
	assert.Empty(t, res.Header.Values("Set-Cookie"))
}

// Without the middleware From panics with a message that names what is
// missing, rather than returning nil for the handler's next call to
// dereference; core.FromContext still reports no session with nil.
func TestFromWithoutMiddleware(t *testing.T) {
	app := fiber.New()
	ran := false
	app.Get("/", func(c *fiber.Ctx) error {
		ran = true
		assert.PanicsWithValue(t,
			"sessionkit: sessionfiber.From called on a route without the sessionfiber middleware (sessionfiber.New)",
			func() { sessionfiber.From(c) })
		assert.Nil(t, core.FromContext(c.UserContext()))
		return c.SendStatus(fiber.StatusNoContent)
	})
	res, _ := do(t, app, httptest.NewRequest("GET", "/", nil))
	assert.Equal(t, fiber.StatusNoContent, res.StatusCode)
	assert.True(t, ran, "the handler ran")
}
