package sessionhttp

import (
	"net/http"

	"github.com/sessionkit/sessionkit/adapterkit"
	"github.com/sessionkit/sessionkit/core"
)

// ErrorHandler answers a request whose session could not be loaded or
// committed. err wraps core.ErrStore when the store failed.
type ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)

// Option configures the middleware.
type Option func(*options)

type options struct {
	onError ErrorHandler
}

// WithErrorHandler replaces the default error response (503 with a generic
// JSON body). A nil h keeps the default.
func WithErrorHandler(h ErrorHandler) Option {
	return func(o *options) {
		if h != nil {
			o.onError = h
		}
	}
}

// New returns middleware that loads the request's session, puts it in the
// request context, and commits it before the response headers go out.
func New(m *core.Manager, opts ...Option) func(http.Handler) http.Handler {
	o := options{onError: func(w http.ResponseWriter, _ *http.Request, err error) { adapterkit.WriteError(w, err) }}
	for _, opt := range opts {
		opt(&o)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			req := adapterkit.Request(r)
			s, err := m.Load(r.Context(), &req)
			if err != nil {
				o.onError(w, r, err)
				return
			}
			r = r.WithContext(core.NewContext(r.Context(), s))
			sw := &writer{Writer: adapterkit.Writer{ResponseWriter: w}, r: r, onError: o.onError}
			sw.Commit.Init(r.Context(), m, s, w.Header(), sw)
			next.ServeHTTP(sw.Wrap(), r)
			sw.Commit.AfterHandler()
		})
	}
}

// From returns the request's session. It panics when the middleware (New)
// did not run for the request, naming what is missing, rather than return
// nil for the handler's next call to dereference. Code that must cope
// without the middleware uses core.FromContext(r.Context()), which returns
// nil.
func From(r *http.Request) *core.Session {
	s := core.FromContext(r.Context())
	if s == nil {
		panic("sessionkit: sessionhttp.From called on a request without the sessionhttp middleware (sessionhttp.New)")
	}
	return s
}
