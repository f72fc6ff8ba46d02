// Package sessionfiberv3 is the Fiber v3 adapter for sessionkit (Fiber
// v2's is package sessionfiber, in adapters/fiber).
//
// New returns a fiber.Handler to install with app.Use:
//
//	m, err := core.New(core.Config{})
//	app := fiber.New()
//	app.Use(sessionfiberv3.New(m))
//	app.Post("/counter", func(c fiber.Ctx) error {
//		s := sessionfiberv3.From(c)
//		n, _ := core.Get[int](s, "count")
//		_ = s.Put("count", n+1)
//		return c.JSON(fiber.Map{"count": n + 1})
//	})
//
// A handler reaches the session with From(c) (c.Locals under LocalsKey),
// and service code deeper down with core.FromContext, handed c.Context()
// or the fiber.Ctx itself (a context.Context in Fiber v3, whose Value reads
// c.Locals). The adapter uses only the fiber.Ctx interface, so it works the
// same in an app with a custom Ctx (fiber.NewWithCustomCtx).
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
package sessionfiberv3
