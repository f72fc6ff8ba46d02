package sessionfiberv3

import (
	"github.com/gofiber/fiber/v3"

	"github.com/sessionkit/sessionkit/adapterkit/fasthttpkit"
	"github.com/sessionkit/sessionkit/core"
)

// LocalsKey is the c.Locals key under which the middleware keeps the
// request's session. From reads it, templates rendered with
// PassLocalsToViews see the session under this name, and it is
// core.ContextKey, so core.FromContext(c) with the fiber.Ctx itself finds
// the session.
const LocalsKey = core.ContextKey

// ErrorHandler answers a request whose session could not be loaded or
// committed. Whatever it returns, New returns, so Fiber's own ErrorHandler
// sees it.
//
// err is a *fiber.Error for errors.As, with the status for the failure
// (503 when the store failed) and a generic message; errors.Is(err,
// core.ErrStore) tells a store failure. Its Error text is only that generic
// message, because Fiber's default error handler sends err.Error() as the
// response body; the manager's logger and event hook have reported the
// cause already.
type ErrorHandler func(c fiber.Ctx, err error) error

// Option configures the middleware.
type Option func(*options)

type options struct {
	onError ErrorHandler
}

// WithErrorHandler replaces the default error response, 503 with the JSON
// body {"error":"session store unavailable"}. A nil h keeps the default.
// To have Fiber's ErrorHandler answer instead, pass one that returns err:
//
//	sessionfiberv3.WithErrorHandler(func(_ fiber.Ctx, err error) error { return err })
func WithErrorHandler(h ErrorHandler) Option {
	return func(o *options) {
		if h != nil {
			o.onError = h
		}
	}
}

// New returns middleware that loads the request's session, puts it in
// c.Locals and c.Context(), and commits it when the rest of the chain
// has returned, before Fiber writes the response.
func New(m *core.Manager, opts ...Option) fiber.Handler {
	o := options{onError: writeError}
	for _, opt := range opts {
		opt(&o)
	}
	return func(c fiber.Ctx) error {
		req := fasthttpkit.Request(c.RequestCtx())
		s, err := m.Load(c.Context(), &req)
		if err != nil {
			return o.onError(c, newError(err))
		}
		// Commit with this context, not whatever the handler leaves in
		// c.Context(): a handler that installs a context with a deferred
		// cancel would otherwise hand the commit a dead one.
		ctx := core.NewContext(c.Context(), s)
		c.SetContext(ctx)
		// Fiber's own Ctx is called as its concrete type: through the Ctx
		// interface the variadic value escapes, one allocation per
		// request. A custom Ctx goes through the interface, so that its
		// Locals is honoured.
		if dc, ok := c.(*fiber.DefaultCtx); ok {
			dc.Locals(LocalsKey, s)
		} else {
			c.Locals(LocalsKey, s)
		}

		handlerErr := c.Next()

		// Fiber writes nothing before the chain returns, so this is the
		// header moment and the only commit: there is no late pass to
		// make. A handler's error is still answered by Fiber's
		// ErrorHandler after this, which keeps the headers set here.
		res, err := m.Commit(ctx, s)
		if err != nil {
			serr := newError(err)
			// The handler's answer (an error included) would claim a
			// success the store never saw.
			c.Response().ResetBody()
			c.Status(serr.fiber.Code)
			return o.onError(c, serr)
		}
		fasthttpkit.Apply(&c.Response().Header, &res)
		return handlerErr
	}
}

// From returns the request's session. It panics when the middleware (New)
// did not run for the route, naming what is missing, rather than return
// nil for the handler's next call to dereference. Code that must cope
// without the middleware reads c.Locals(LocalsKey), or core.FromContext(c),
// which returns nil.
func From(c fiber.Ctx) *core.Session {
	s, _ := c.Locals(LocalsKey).(*core.Session)
	if s == nil {
		panic("sessionkit: sessionfiberv3.From called on a route without the sessionfiberv3 middleware (sessionfiberv3.New)")
	}
	return s
}

// writeError is the default ErrorHandler: the status and the generic JSON
// body every sessionkit adapter answers with.
func writeError(c fiber.Ctx, err error) error {
	fasthttpkit.WriteError(c.Response(), err)
	return nil
}
