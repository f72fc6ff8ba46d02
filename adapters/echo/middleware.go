package sessionecho

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sessionkit/sessionkit/adapterkit"
	"github.com/sessionkit/sessionkit/core"
)

// ContextKey is the echo.Context key the middleware stores the session
// under, for code that reads c.Get rather than From.
const ContextKey = "sessionkit.session"

// ErrorHandler answers a request whose session could not be loaded or
// committed. Whatever it returns, New returns, so the app's
// HTTPErrorHandler sees it (nil: nothing more to answer).
//
// err is an *echo.HTTPError for errors.As, with the status for the
// failure (503 when the store failed) and the generic body as its
// Message; errors.Is(err, core.ErrStore) tells a store failure.
type ErrorHandler func(c echo.Context, err error) error

// Option configures the middleware.
type Option func(*options)

type options struct {
	onError ErrorHandler
}

// WithErrorHandler replaces the default, which returns err for the app's
// HTTPErrorHandler to answer. A nil h keeps the default.
//
// When the commit fails as the handler starts its response, Echo is
// already inside Response.WriteHeader (or Flush, or Hijack): nothing can
// be returned to it in time. h is called there and then, with the
// response rewound, so that what it writes (c.JSON, c.String, ...) goes
// out in place of the handler's response; the handler's own writes fail
// from then on. If h writes nothing (the default writes nothing), the
// generic 503 JSON body goes out. What h returns is returned after the
// handler, when Echo's default HTTPErrorHandler skips the committed
// response.
func WithErrorHandler(h ErrorHandler) Option {
	return func(o *options) {
		if h != nil {
			o.onError = h
		}
	}
}

func returnError(_ echo.Context, err error) error { return err }

// New returns middleware that loads the request's session, makes it
// available to From, c.Get(ContextKey) and core.FromContext on
// c.Request().Context(), and commits it before the response headers go
// out. Session errors go to the ErrorHandler (see WithErrorHandler) as
// *echo.HTTPError.
func New(m *core.Manager, opts ...Option) echo.MiddlewareFunc {
	o := options{onError: returnError}
	for _, opt := range opts {
		opt(&o)
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			req := adapterkit.Request(r)
			s, err := m.Load(r.Context(), &req)
			if err != nil {
				return o.onError(c, httpError(err))
			}
			r = r.WithContext(core.NewContext(r.Context(), s))
			c.SetRequest(r)
			c.Set(ContextKey, s)

			res := c.Response()
			w := &writer{Writer: adapterkit.Writer{ResponseWriter: res.Writer}, res: res, c: c, onError: o.onError}
			w.Commit.Init(r.Context(), m, s, res.Header(), w)
			w.wrapped = w.Wrap()
			res.Writer = w.wrapped
			// The HTTPErrorHandler, and middleware outside this one (a
			// Recover answering a panic among them), write through the
			// server's writer again: a handler that panicked commits
			// nothing.
			defer func() {
				if res.Writer == w.wrapped {
					res.Writer = w.ResponseWriter
				}
			}()
			herr := next(c)
			// Nothing written yet makes this the header moment: commit
			// now, while a failure can still be returned for the
			// HTTPErrorHandler to answer. Otherwise it saves what changed
			// after the headers went out.
			w.HandlerReturned()
			w.Commit.AfterHandler()
			if w.answered {
				return w.Err() // what the ErrorHandler returned while the handler wrote
			}
			if err := w.Err(); err != nil {
				return o.onError(c, httpError(err))
			}
			return herr
		}
	}
}

// writer commits the session when the handler's response starts, whichever
// way it starts: Echo's Response.WriteHeader, Write, Flush and Hijack all
// reach it (Before hooks would miss a Flush or Hijack before any write).
type writer struct {
	adapterkit.Writer
	adapterkit.ErrorReturn
	res      *echo.Response
	c        echo.Context
	onError  ErrorHandler
	wrapped  http.ResponseWriter
	answered bool // the ErrorHandler answered while the handler wrote
}

// SessionError: after the handler has returned the failure is returned
// (New). While the handler writes, the ErrorHandler answers at once
// through the server's writer (see WithErrorHandler), and whatever it
// returns is returned after the handler.
func (w *writer) SessionError(err error) {
	if !w.Record(err) {
		return
	}
	w.answered = true
	// Rewound: Echo's Response writes through the server's writer for the
	// ErrorHandler, as though nothing had gone out yet.
	w.res.Writer, w.res.Committed = w.ResponseWriter, false
	w.Record(w.onError(w.c, httpError(err)))
	if !w.res.Committed {
		adapterkit.WriteError(w.ResponseWriter, err)
		w.res.Status = adapterkit.ErrorStatus(err)
	}
	// Committed too: a refused Hijack reaches here without passing
	// Response.WriteHeader, and the HTTPErrorHandler must not answer again.
	w.res.Writer, w.res.Committed = w.wrapped, true
}

func httpError(err error) *echo.HTTPError {
	return &echo.HTTPError{
		Code: adapterkit.ErrorStatus(err),
		// Echo's default HTTPErrorHandler sends a json.Marshaler message
		// as it is: the body is the generic one every adapter sends.
		Message:  adapterkit.ErrorJSON(adapterkit.ErrorBody),
		Internal: err,
	}
}

// From returns the request's session. It panics when the middleware (New)
// is not installed on the route, naming what is missing, rather than
// return nil for the handler's next call to dereference. Code that must
// cope without the middleware reads c.Get(ContextKey), or
// core.FromContext(c.Request().Context()), which returns nil.
func From(c echo.Context) *core.Session {
	s, _ := c.Get(ContextKey).(*core.Session)
	if s == nil {
		panic("sessionkit: sessionecho.From called on a route without the sessionecho middleware (sessionecho.New)")
	}
	return s
}
