package sessionfiber

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/sessionkit/sessionkit/adapterkit"
	"github.com/sessionkit/sessionkit/core"
)

// LocalsKey is the c.Locals key under which the middleware keeps the
// request's session. From reads it; templates rendered with
// PassLocalsToViews see the session under this name.
const LocalsKey = "sessionkit.session"

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
type ErrorHandler func(c *fiber.Ctx, err error) error

// Option configures the middleware.
type Option func(*options)

type options struct {
	onError ErrorHandler
}

// WithErrorHandler replaces the default error response, 503 with the JSON
// body {"error":"session store unavailable"}. To have Fiber's ErrorHandler
// answer instead, pass one that returns err:
//
//	sessionfiber.WithErrorHandler(func(_ *fiber.Ctx, err error) error { return err })
func WithErrorHandler(h ErrorHandler) Option {
	return func(o *options) {
		if h != nil {
			o.onError = h
		}
	}
}

// New returns middleware that loads the request's session, puts it in
// c.Locals and c.UserContext(), and commits it when the rest of the chain
// has returned, before Fiber writes the response.
func New(m *core.Manager, opts ...Option) fiber.Handler {
	o := options{onError: writeError}
	for _, opt := range opts {
		opt(&o)
	}
	return func(c *fiber.Ctx) error {
		req := request(c)
		s, err := m.Load(c.UserContext(), &req)
		if err != nil {
			return o.onError(c, newError(err))
		}
		// Commit with this context, not whatever the handler leaves in
		// UserContext: a handler that installs a context with a deferred
		// cancel would otherwise hand the commit a dead one.
		ctx := core.NewContext(c.UserContext(), s)
		c.SetUserContext(ctx)
		c.Locals(LocalsKey, s)

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
		setResult(c, &res)
		return handlerErr
	}
}

// From returns the request's session. It panics when the middleware (New)
// did not run for the route, naming what is missing, rather than return
// nil for the handler's next call to dereference. Code that must cope
// without the middleware reads c.Locals(LocalsKey), or
// core.FromContext(c.UserContext()), which returns nil.
func From(c *fiber.Ctx) *core.Session {
	s, _ := c.Locals(LocalsKey).(*core.Session)
	if s == nil {
		panic("sessionkit: sessionfiber.From called on a route without the sessionfiber middleware (sessionfiber.New)")
	}
	return s
}

// request fills a core.Request from fasthttp's headers. fasthttp reuses
// its buffers for the next request on the connection, and the session
// keeps the token, the user agent and the client IP (recorded at Login)
// beyond this request, so every field is a copy: string(b) copies, where
// Fiber's c.Get and c.Cookies would alias the buffer unless the app set
// Immutable.
func request(c *fiber.Ctx) core.Request {
	h := &c.Request().Header
	// PeekAll gives every Cookie line as received (or, once something has
	// parsed the cookies, one line with all of them, duplicates kept), so a
	// cookie sent twice is still seen twice and refused as ambiguous.
	var cookies []string
	for _, v := range h.PeekAll(fiber.HeaderCookie) {
		cookies = append(cookies, string(v))
	}
	var auth []string
	for _, v := range h.PeekAll(fiber.HeaderAuthorization) {
		auth = append(auth, string(v))
	}
	return core.Request{Cookie: cookies, Authorization: auth, Client: (*client)(c)}
}

// client reads the request's client details for a Login only: copying the
// user agent and formatting the remote address would cost every request
// allocations that most never use. Fiber's Ctx is valid until the handler
// returns, and Login runs inside it.
type client fiber.Ctx

func (cl *client) ClientInfo() (userAgent, remoteAddr, forwardedFor string) {
	c := (*fiber.Ctx)(cl)
	h := &c.Request().Header
	return string(h.UserAgent()), c.Context().RemoteAddr().String(), string(h.Peek(fiber.HeaderXForwardedFor))
}

// setResult puts the commit's cookie and headers on the response.
//
// The Set-Cookie line is net/http's rendering of the result's cookie, not
// c.Cookie's: fasthttp (v1.51, under Fiber v2) writes Max-Age only when it
// is positive and then drops Expires, and knows no Partitioned, so it can
// neither clear a cookie with Max-Age=0 nor give a persistent cookie both
// Max-Age and Expires. Rendering through core.Result.Headers also keeps the
// caching rules in one place.
func setResult(c *fiber.Ctx, res *core.Result) {
	res.Headers(func(name, value string, replace bool) {
		switch {
		case name == fiber.HeaderVary:
			// Merged with the handler's Vary, not a second line. c.Vary
			// skips a field the line has already, but only field by
			// field: "Cookie, Authorization" whole would repeat a Cookie
			// the handler named.
			for value != "" {
				var field string
				field, value, _ = strings.Cut(value, ",")
				if field = strings.TrimSpace(field); field != "" {
					c.Vary(field)
				}
			}
		case replace:
			c.Set(name, value) // no-store replaces whatever caching the handler chose
		default:
			c.Response().Header.Add(name, value)
		}
	})
}

// writeError is the default ErrorHandler: the status and the generic JSON
// body every sessionkit adapter answers with.
func writeError(c *fiber.Ctx, err error) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(adapterkit.ErrorStatus(err)).SendString(adapterkit.ErrorBody)
}
