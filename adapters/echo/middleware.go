package sessionecho

import (
	"bufio"
	"errors"
	"net"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/internal/adapterkit"
)

// ContextKey is the echo.Context key the middleware stores the session
// under, for code that reads c.Get rather than From.
const ContextKey = "sessionkit.session"

// errCommitFailed is returned to a handler that keeps writing after the
// session commit failed and the error response went out instead.
var errCommitFailed = errors.New("sessionecho: response replaced by the session error response")

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
			x := &exchange{res: res}
			x.commit.Init(r.Context(), m, s, res.Header(), x)
			res.Before(x.before)
			herr := next(c)
			// Nothing written yet makes this the header moment: commit
			// now, while a failure can still be returned for the
			// HTTPErrorHandler to answer. Otherwise it saves what changed
			// after the headers went out.
			x.commit.AfterHandler()
			if x.err != nil {
				return httpError(x.err)
			}
			return herr
		}
	}
}

// exchange is one request's commit.
type exchange struct {
	commit adapterkit.Commit
	res    *echo.Response
	err    error
}

// SessionError keeps the failure: the before hook and the middleware
// answer it.
func (x *exchange) SessionError(err error) { x.err = err }

// before runs inside Response.WriteHeader, after Echo set Status and before
// it calls the writer's WriteHeader with it. Returning an error from here is
// impossible and the handler's response is about to go out, so on a failed
// commit the hook rewrites what Echo is about to send: Status becomes the
// error status (Echo reads it back after the hooks, so its logs agree), and
// the writer becomes one that sends the default error response on that
// WriteHeader and fails the handler's writes. The middleware still returns
// the error once the handler is done.
func (x *exchange) before() {
	if x.commit.Started() {
		// Committed after the handler returned, or failed then and this
		// is the HTTPErrorHandler's response, which must go out.
		return
	}
	if !x.commit.BeforeHeaders() {
		x.res.Status = adapterkit.ErrorStatus(x.err)
		x.res.Writer = &replaced{ResponseWriter: x.res.Writer, err: x.err}
	}
}

// replaced stands in for the response writer once the commit failed at the
// header moment. It has no Unwrap on purpose: nothing may reach the real
// writer behind it.
type replaced struct {
	http.ResponseWriter
	err error
}

// WriteHeader ignores the status asked for: a later Before hook could have
// changed it back to the handler's.
func (w *replaced) WriteHeader(int) { adapterkit.WriteError(w.ResponseWriter, w.err) }

func (w *replaced) Write([]byte) (int, error) { return 0, errCommitFailed }

// FlushError makes Response.Flush fail quietly; Echo panics on a writer
// that cannot flush at all.
func (w *replaced) FlushError() error { return errCommitFailed }

func (w *replaced) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return nil, nil, errCommitFailed
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

// From returns the request's session, or nil when the middleware is not
// installed on the route.
func From(c echo.Context) *core.Session {
	s, _ := c.Get(ContextKey).(*core.Session)
	return s
}
