package sessionecho

import (
	"github.com/labstack/echo/v4"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/adapterkit"
)

// ContextKey is the echo.Context key the middleware stores the session
// under, for code that reads c.Get rather than From.
const ContextKey = "sessionkit.session"

// New returns middleware that loads the request's session, makes it
// available to From, c.Get(ContextKey) and core.FromContext on
// c.Request().Context(), and commits it before the response headers go
// out. Session errors are returned as *echo.HTTPError.
func New(m *core.Manager) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			req := adapterkit.Request(r)
			s, err := m.Load(r.Context(), &req)
			if err != nil {
				return httpError(err)
			}
			r = r.WithContext(core.NewContext(r.Context(), s))
			c.SetRequest(r)
			c.Set(ContextKey, s)

			res := c.Response()
			w := &writer{Writer: adapterkit.Writer{ResponseWriter: res.Writer}, res: res}
			w.Commit.Init(r.Context(), m, s, res.Header(), w)
			ww := w.Wrap()
			res.Writer = ww
			// The HTTPErrorHandler, and middleware outside this one (a
			// Recover answering a panic among them), write through the
			// server's writer again: a handler that panicked commits
			// nothing.
			defer func() {
				if res.Writer == ww {
					res.Writer = w.ResponseWriter
				}
			}()
			herr := next(c)
			// Nothing written yet makes this the header moment: commit
			// now, while a failure can still be returned for the
			// HTTPErrorHandler to answer. Otherwise it saves what changed
			// after the headers went out.
			w.after = true
			w.Commit.AfterHandler()
			if w.err != nil {
				return httpError(w.err)
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
	res   *echo.Response
	after bool  // the handler has returned
	err   error // a commit failure for the HTTPErrorHandler
}

// SessionError: when the handler has returned without writing, the failure
// goes back to Echo as an error. When the handler is writing, Echo is
// already inside Response.WriteHeader (or Flush, or Hijack), past where an
// error could be returned: the default error response replaces the
// handler's, whose writes fail, and the error is still returned afterwards
// for the HTTPErrorHandler to see (it cannot answer a committed response).
func (w *writer) SessionError(err error) {
	w.err = err
	if w.after {
		return
	}
	// Committed too: a refused Hijack reaches here without passing
	// Response.WriteHeader, and the HTTPErrorHandler must not answer again.
	w.res.Status, w.res.Committed = adapterkit.ErrorStatus(err), true
	adapterkit.WriteError(w.ResponseWriter, err)
}

// errorMessage is the HTTPError message. Echo's default HTTPErrorHandler
// sends a json.Marshaler as it is, so the body is the generic one every
// sessionkit adapter sends, not {"message":...}; %v prints it as text.
type errorMessage string

// MarshalJSON returns the message, which is JSON already.
func (m errorMessage) MarshalJSON() ([]byte, error) { return []byte(m), nil }

func httpError(err error) *echo.HTTPError {
	return &echo.HTTPError{
		Code:     adapterkit.ErrorStatus(err),
		Message:  errorMessage(adapterkit.ErrorBody),
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
