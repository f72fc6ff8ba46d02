package sessiongin

import (
	"github.com/gin-gonic/gin"

	"github.com/sessionkit/sessionkit/adapterkit"
	"github.com/sessionkit/sessionkit/core"
)

// ContextKey is the gin.Context key the middleware stores the session
// under, for code that reads c.Get or c.MustGet rather than From. It is
// core.ContextKey, so core.FromContext(c) with the *gin.Context itself
// finds the session whether or not the engine sets ContextWithFallback:
// gin.Context.Value looks string keys up in c.Keys.
const ContextKey = core.ContextKey

// ErrorHandler answers a request whose session could not be loaded or
// committed. err wraps core.ErrStore when the store failed. It should write
// a response: one that writes nothing leaves Gin to send the status the
// handler had set. The middleware aborts the chain after it returns.
type ErrorHandler func(c *gin.Context, err error)

// Option configures the middleware.
type Option func(*options)

type options struct {
	onError ErrorHandler
}

// WithErrorHandler replaces the default error response (the error added to
// c.Errors, then 503 with a generic JSON body). A nil h keeps the default.
func WithErrorHandler(h ErrorHandler) Option {
	return func(o *options) {
		if h != nil {
			o.onError = h
		}
	}
}

// defaultErrorHandler writes adapterkit's response rather than calling
// AbortWithStatusJSON: Gin's renderers only fill Content-Type when it is
// empty, so a commit failure after the handler chose its Content-Type would
// send the JSON body under the handler's type.
func defaultErrorHandler(c *gin.Context, err error) {
	_ = c.Error(err)
	c.Abort()
	adapterkit.WriteError(c.Writer, err)
}

// New returns middleware that loads the request's session, makes it
// available to From, c.Get(ContextKey), core.FromContext(c) and
// core.FromContext(c.Request.Context()), and commits it before the
// response headers go out.
func New(m *core.Manager, opts ...Option) gin.HandlerFunc {
	o := options{onError: defaultErrorHandler}
	for _, opt := range opts {
		opt(&o)
	}
	return func(c *gin.Context) {
		r := c.Request
		req := adapterkit.Request(r)
		s, err := m.Load(r.Context(), &req)
		if err != nil {
			o.onError(c, err)
			c.Abort() // even if a custom handler forgot: no handler runs without its session
			return
		}
		c.Request = r.WithContext(core.NewContext(r.Context(), s))
		c.Set(ContextKey, s)

		orig := c.Writer
		w := &writer{ResponseWriter: orig, c: c, onError: o.onError}
		w.commit.Init(c.Request.Context(), m, s, orig.Header(), w)
		c.Writer = w
		// Deferred so that a panicking handler leaves Gin's writer to the
		// recovery middleware: what it writes does not commit a session the
		// handler never finished with.
		defer func() { c.Writer = orig }()
		c.Next()
		w.commit.AfterHandler()
	}
}

// From returns the request's session. It panics when the middleware (New)
// is not installed on the route, naming what is missing, rather than
// return nil for the handler's next call to dereference. Code that must
// cope without the middleware reads c.Get(ContextKey), or
// core.FromContext(c.Request.Context()), which returns nil.
func From(c *gin.Context) *core.Session {
	v, _ := c.Get(ContextKey)
	s, _ := v.(*core.Session)
	if s == nil {
		panic("sessionkit: sessiongin.From called on a route without the sessiongin middleware (sessiongin.New)")
	}
	return s
}
