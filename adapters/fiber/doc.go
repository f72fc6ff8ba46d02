// Package sessionfiber is the Fiber v2 adapter for sessionkit.
//
// New returns a fiber.Handler to install with app.Use:
//
//	m, err := core.New(core.Config{})
//	app := fiber.New()
//	app.Use(sessionfiber.New(m))
//	app.Post("/counter", func(c *fiber.Ctx) error {
//		s := sessionfiber.From(c)
//		n, _ := core.Get[int](s, "count")
//		_ = s.Put("count", n+1)
//		return c.JSON(fiber.Map{"count": n + 1})
//	})
//
// A handler reaches the session with From(c) (c.Locals under LocalsKey),
// and service code deeper down with core.FromContext(c.UserContext()).
//
// Fiber writes the response only after the handler chain has returned, so
// the middleware commits the session then, once: a handler may change the
// session after it has set the body and the change still goes out with the
// response. Work that outlives the handler (a body stream writer, a
// goroutine) must not touch the session.
//
// fasthttp reuses a connection's request buffers for its next request. The
// middleware copies everything it hands to the session (the token, the user
// agent, the addresses recorded at Login), so it works whether or not the
// app sets fiber.Config.Immutable.
//
// When the store fails, the middleware calls its ErrorHandler (see
// WithErrorHandler) instead of the handler, or instead of the handler's
// answer if the commit fails: a write the store never saw is not answered
// as a success. The default answers 503 with {"error":"session store
// unavailable"}; the error it receives is a *fiber.Error for Fiber's
// ErrorHandler and wraps core.ErrStore.
package sessionfiber
