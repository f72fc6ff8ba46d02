package sessionfiberv3_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/gofiber/fiber/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/adapters/adaptertest"
	sessionfiberv3 "github.com/sessionkit/sessionkit/adapters/fiberv3"
	"github.com/sessionkit/sessionkit/core"
)

// appCtx is an app's own Ctx, as fiber.NewWithCustomCtx takes: Fiber's
// DefaultCtx with methods of its own, one of them overriding Locals, so
// that a middleware reaching past the fiber.Ctx interface to *DefaultCtx
// would be seen missing the override.
type appCtx struct {
	fiber.DefaultCtx
	locals *atomic.Int64
}

func (c *appCtx) Locals(key any, value ...any) any {
	c.locals.Add(1)
	return c.DefaultCtx.Locals(key, value...)
}

// CurrentUser is the kind of helper an app puts on its Ctx.
func (c *appCtx) CurrentUser() string { return sessionfiberv3.From(c).UserID() }

func customApp(locals *atomic.Int64) *fiber.App {
	return fiber.NewWithCustomCtx(func(app *fiber.App) fiber.CustomCtx {
		return &appCtx{DefaultCtx: *fiber.NewDefaultCtx(app), locals: locals}
	})
}

// An app with a custom Ctx runs the whole suite, unchanged.
func TestAdapterSuiteCustomCtx(t *testing.T) {
	adaptertest.Run(t, func(t *testing.T, m *core.Manager, app adaptertest.App) adaptertest.Server {
		return adaptertest.ListenerServer(t, listen(t, route(customApp(new(atomic.Int64)), m, app)))
	})
}

// An app with a custom Ctx keeps its session from one request to the
// next: the login's cookie brings the user back, through the app's own
// Ctx helper, and the middleware went through the Ctx's own methods.
func TestCustomCtxKeepsSession(t *testing.T) {
	var locals atomic.Int64
	app := customApp(&locals)
	app.Use(sessionfiberv3.New(newManager(t, core.Config{})))
	app.Post("/login", func(c fiber.Ctx) error {
		sessionfiberv3.From(c).Login("alice")
		return c.SendString("ok")
	})
	app.Get("/me", func(c fiber.Ctx) error {
		ac, ok := c.(*appCtx)
		require.True(t, ok, "the handler gets the app's own Ctx")
		return c.SendString(ac.CurrentUser())
	})
	res, _ := do(t, app, httptest.NewRequest("POST", "/login", nil))
	require.Equal(t, http.StatusOK, res.StatusCode)
	cookie := sessionCookie(t, res)

	req := httptest.NewRequest("GET", "/me", nil)
	req.AddCookie(cookie)
	before := locals.Load()
	res, body := do(t, app, req)
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "alice", body, "the session came back on the custom Ctx")
	assert.GreaterOrEqual(t, locals.Load()-before, int64(2), "the middleware stored and From read the session through the custom Ctx's Locals")
}
