package main

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v5"

	sessionechov5 "github.com/sessionkit/sessionkit/adapters/echov5"
	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/examples/demo"
)

// app holds what the handlers share.
type app struct {
	log *slog.Logger
}

// newEcho is the demo's whole HTTP surface: the routes of the demo
// contract in a group behind the session middleware, and /healthz outside
// it, so that a health check never touches the session store; all of it
// behind net/http's cross-origin protection (crossOrigin).
//
// Echo routes as the net/http demo's ServeMux does (case-sensitive,
// /counter/ is not /counter), except for escaped path parameters, which
// param handles. A method a path does not serve is a 404 rather than
// ServeMux's 405: the group's middleware makes Echo route every unknown
// request under it to its not-found handler.
func newEcho(m *core.Manager, logger *slog.Logger) *echo.Echo {
	a := &app{log: logger}

	e := echo.New()
	e.HTTPErrorHandler = a.errorHandler
	e.JSONSerializer = jsonSerializer{}
	// Cross-origin protection before the session middleware, so that a
	// refused request loads no session.
	e.Use(logRequests(logger), crossOrigin(demo.CrossOriginProtection()))

	// GET routes answer HEAD too, as with ServeMux (Echo leaves HEAD out).
	getHead := []string{http.MethodGet, http.MethodHead}
	e.Match(getHead, "/healthz", func(c *echo.Context) error {
		return c.JSON(http.StatusOK, demo.OK{OK: true})
	})

	api := e.Group("", sessionechov5.New(m))
	api.Match(getHead, "/counter", a.getCounter)
	api.POST("/counter", a.postCounter)
	api.PUT("/values/:name", a.putValue, limitBody)
	api.Match(getHead, "/values/:name", a.getValue)
	api.DELETE("/values/:name", a.deleteValue)
	api.POST("/login", a.login, limitBody)
	api.Match(getHead, "/me", a.me)
	api.POST("/logout", a.logout)
	api.Match(getHead, "/sessions", a.listSessions)
	api.DELETE("/sessions/:id", a.revokeSession)
	api.POST("/sessions/revoke-others", a.revokeOthers)
	return e
}

func (a *app) getCounter(c *echo.Context) error {
	n, err := demo.ReadCount(sessionechov5.From(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, demo.Count{Count: n})
}

func (a *app) postCounter(c *echo.Context) error {
	n, err := demo.Increment(sessionechov5.From(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, demo.Count{Count: n})
}

func (a *app) putValue(c *echo.Context) error {
	name, err := param(c, "name")
	if err != nil {
		return err
	}
	// The body is the value, as sent; limitBody caps it.
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return err
	}
	if err := demo.CheckValue(body); err != nil {
		return err
	}
	value := string(body)
	if err := sessionechov5.From(c).Put(name, value); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, demo.Value{Name: name, Value: value})
}

func (a *app) getValue(c *echo.Context) error {
	name, err := param(c, "name")
	if err != nil {
		return err
	}
	v, err := core.Lookup[any](sessionechov5.From(c), name)
	if errors.Is(err, core.ErrNoValue) {
		return demo.NoValue(name)
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, demo.Value{Name: name, Value: v})
}

func (a *app) deleteValue(c *echo.Context) error {
	name, err := param(c, "name")
	if err != nil {
		return err
	}
	// On a request without a session this creates nothing.
	sessionechov5.From(c).Delete(name)
	return c.JSON(http.StatusOK, demo.OK{OK: true})
}

func (a *app) login(c *echo.Context) error {
	// Not c.FormValue, c.FormParams or c.Bind: they take the user from
	// the URL's query when the body has none, and read multipart bodies.
	// The user comes from an application/x-www-form-urlencoded body only,
	// by the rules of net/http's Request.ParseForm, as in the net/http
	// demo.
	r := c.Request()
	if err := r.ParseForm(); err != nil {
		return demo.FormError(err)
	}
	user, err := demo.CheckUser(r.PostForm.Get("user"))
	if err != nil {
		return err
	}
	// A real app checks a password here. LoginWith renews the token (no
	// session fixation), binds the session to the user, records the client
	// and the options; it refuses an invalid label and changes nothing.
	opts := demo.LoginOptions(r.PostForm.Get("remember"), r.PostForm.Get("label"))
	if err := sessionechov5.From(c).LoginWith(user, opts); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, demo.User{User: user})
}

func (a *app) me(c *echo.Context) error {
	user, err := loggedIn(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, demo.User{User: user})
}

func (a *app) logout(c *echo.Context) error {
	sessionechov5.From(c).Destroy()
	return c.JSON(http.StatusOK, demo.OK{OK: true})
}

func (a *app) listSessions(c *echo.Context) error {
	if _, err := loggedIn(c); err != nil {
		return err
	}
	// Sessions marks the one this request rides on as current.
	infos, err := sessionechov5.From(c).Sessions(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, demo.SessionList(infos))
}

func (a *app) revokeSession(c *echo.Context) error {
	id, err := param(c, "id")
	if err != nil {
		return err
	}
	if _, err := loggedIn(c); err != nil {
		return err
	}
	// Revoking the session this request rides on is a logout: Revoke
	// destroys it at commit and the cookie is cleared.
	revoked, err := sessionechov5.From(c).Revoke(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if !revoked {
		return demo.ErrNoSuchSession
	}
	return c.JSON(http.StatusOK, demo.Revoked{Revoked: 1})
}

func (a *app) revokeOthers(c *echo.Context) error {
	if _, err := loggedIn(c); err != nil {
		return err
	}
	n, err := sessionechov5.From(c).RevokeOthers(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, demo.Revoked{Revoked: n})
}

// loggedIn returns the session's user, or demo.ErrNotLoggedIn.
func loggedIn(c *echo.Context) (string, error) {
	user := sessionechov5.From(c).UserID()
	if user == "" {
		return "", demo.ErrNotLoggedIn
	}
	return user, nil
}

// param returns the path parameter name unescaped, as net/http's ServeMux
// unescapes a wildcard. Echo routes on the URL's RawPath when it has one
// (/values/a%2Fb: the parameter is "a%2Fb", which names "a/b"), and on the
// unescaped Path otherwise (/values/50%25: the parameter is "50%" already).
func param(c *echo.Context, name string) (string, error) {
	v := c.Param(name)
	if c.Request().URL.RawPath == "" {
		return v, nil
	}
	return demo.PathParam(v)
}

// errorHandler is the app's HTTPErrorHandler: it answers the errors the
// handlers return, and those Echo and its middleware raise (an unknown
// route, the session middleware's), with the status the demo contract
// gives them and an {"error":...} body.
func (a *app) errorHandler(c *echo.Context, err error) {
	if res, uerr := echo.UnwrapResponse(c.Response()); uerr == nil && res.Committed {
		return // answered already (the request logger hands errors here first)
	}
	var sc echo.HTTPStatusCoder
	hasStatus := errors.As(err, &sc)
	if body, ok := sc.(json.Marshaler); hasStatus && ok {
		// The session middleware's: its status (503 when the store
		// failed) and its ready-made body, sent as every sessionkit
		// adapter sends its default error response, and as this
		// middleware sends it itself when saving fails mid-response:
		// as is, never cached. The manager has logged the cause.
		b, mErr := body.MarshalJSON()
		if mErr == nil {
			c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
			_ = c.Blob(sc.StatusCode(), echo.MIMEApplicationJSON, b)
			return
		}
	}
	status, body, ok := demo.Answer(err)
	switch {
	case ok:
	case hasStatus && sc.StatusCode() >= 400 && sc.StatusCode() < http.StatusInternalServerError:
		// Echo's 4xx: 404 and 405 for routes outside the contract.
		status, body = sc.StatusCode(), demo.ErrorOf(http.StatusText(sc.StatusCode()))
	}
	if status >= http.StatusInternalServerError {
		demo.LogFailure(c.Request().Context(), a.log, c.Request().Method, c.Request().URL.Path, status, err)
	}
	if err := c.JSON(status, body); err != nil {
		a.log.ErrorContext(c.Request().Context(), "writing the error response", "error", err)
	}
}

// jsonSerializer is Echo's JSON serializer without its ?pretty switch:
// every answer is compact, encoding/json's Encoder output with its
// trailing newline, byte for byte what the other demos send.
type jsonSerializer struct{ echo.DefaultJSONSerializer }

// Serialize implements echo.JSONSerializer, ignoring the indent.
func (s jsonSerializer) Serialize(c *echo.Context, i any, _ string) error {
	return s.DefaultJSONSerializer.Serialize(c, i, "")
}

// logRequests logs one line per request with its status and duration. A
// handler's error is answered here, by the HTTPErrorHandler, as Echo's
// RequestLogger does with HandleError, so that the line shows the status
// sent.
func logRequests(logger *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			start := time.Now()
			if err := next(c); err != nil {
				c.Echo().HTTPErrorHandler(c, err)
			}
			r := c.Request()
			status := http.StatusOK
			if res, err := echo.UnwrapResponse(c.Response()); err == nil && res.Status != 0 {
				status = res.Status
			}
			demo.LogRequest(r.Context(), logger, r.Method, r.URL.Path, status, start)
			return nil
		}
	}
}

// crossOrigin refuses a browser's cross-origin POST, PUT or DELETE with
// 403 (through the HTTPErrorHandler), by net/http's CrossOriginProtection,
// which Echo's *http.Request lets it call as it is. (Echo's own
// middleware.CSRF wants a token in every such request.)
func crossOrigin(cop *http.CrossOriginProtection) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			if err := demo.CheckCrossOrigin(cop, c.Request()); err != nil {
				return err
			}
			return next(c)
		}
	}
}

// limitBody caps the request body at demo.MaxBodyBytes with net/http's
// MaxBytesReader, as the net/http demo does: a handler that reads more gets
// an *http.MaxBytesError, answered with 413. (Echo's middleware.BodyLimit
// refuses by Content-Length before reading, so it would refuse a large
// login body that ParseForm never reads, when it is not a form.)
func limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		r := c.Request()
		r.Body = http.MaxBytesReader(c.Response(), r.Body, demo.MaxBodyBytes)
		return next(c)
	}
}
