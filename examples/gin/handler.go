package main

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gin-gonic/gin/binding"

	sessiongin "github.com/sessionkit/sessionkit/adapters/gin"
	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/examples/demo"
)

// app holds what the handlers share.
type app struct {
	log *slog.Logger
}

// newRouter is the demo's whole HTTP surface: the routes of the demo
// contract in a router group behind the session middleware, and /healthz
// outside it, so that a health check never touches the session store; all
// of it behind net/http's cross-origin protection (crossOrigin).
func newRouter(m *core.Manager, logger *slog.Logger) *gin.Engine {
	a := &app{log: logger}

	r := gin.New()
	// Routes match as the net/http demo's ServeMux matches them: /counter/
	// is not /counter (Gin would redirect it), a method the path does not
	// serve is a 405, and path parameters are read from the escaped path,
	// so that /values/a%2Fb is one parameter; param unescapes it.
	r.RedirectTrailingSlash = false
	r.RedirectFixedPath = false
	r.HandleMethodNotAllowed = true
	r.UseEscapedPath = true
	r.UnescapePathValues = false // Gin's unescaping would read a+b as "a b"
	// Cross-origin protection before the session middleware, so that a
	// refused request loads no session.
	r.Use(logRequests(logger), a.crossOrigin(demo.CrossOriginProtection()))
	r.NoRoute(routerError(http.StatusNotFound))
	r.NoMethod(routerError(http.StatusMethodNotAllowed))

	// GET routes answer HEAD too, as with ServeMux (Gin leaves HEAD out).
	getHead := []string{http.MethodGet, http.MethodHead}
	r.Match(getHead, "/healthz", func(c *gin.Context) {
		c.Render(http.StatusOK, jsonBody(demo.OK{OK: true}))
	})

	api := r.Group("/", sessiongin.New(m))
	api.Match(getHead, "/counter", a.getCounter)
	api.POST("/counter", a.postCounter)
	api.PUT("/values/:name", limitBody, a.putValue)
	api.Match(getHead, "/values/:name", a.getValue)
	api.DELETE("/values/:name", a.deleteValue)
	api.POST("/login", limitBody, a.login)
	api.Match(getHead, "/me", a.me)
	api.POST("/logout", a.logout)
	api.Match(getHead, "/sessions", a.listSessions)
	api.DELETE("/sessions/:id", a.revokeSession)
	api.POST("/sessions/revoke-others", a.revokeOthers)
	return r
}

func (a *app) getCounter(c *gin.Context) {
	n, err := demo.ReadCount(sessiongin.From(c))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Render(http.StatusOK, jsonBody(demo.Count{Count: n}))
}

func (a *app) postCounter(c *gin.Context) {
	n, err := demo.Increment(sessiongin.From(c))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Render(http.StatusOK, jsonBody(demo.Count{Count: n}))
}

func (a *app) putValue(c *gin.Context) {
	name, err := param(c, "name")
	if err != nil {
		a.fail(c, err)
		return
	}
	body, err := c.GetRawData()
	if err != nil {
		a.fail(c, err)
		return
	}
	if err := demo.CheckValue(body); err != nil {
		a.fail(c, err)
		return
	}
	value := string(body)
	if err := sessiongin.From(c).Put(name, value); err != nil {
		a.fail(c, err)
		return
	}
	c.Render(http.StatusOK, jsonBody(demo.Value{Name: name, Value: value}))
}

func (a *app) getValue(c *gin.Context) {
	name, err := param(c, "name")
	if err != nil {
		a.fail(c, err)
		return
	}
	v, err := core.Lookup[any](sessiongin.From(c), name)
	if errors.Is(err, core.ErrNoValue) {
		err = demo.NoValue(name)
	}
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Render(http.StatusOK, jsonBody(demo.Value{Name: name, Value: v}))
}

func (a *app) deleteValue(c *gin.Context) {
	name, err := param(c, "name")
	if err != nil {
		a.fail(c, err)
		return
	}
	// On a request without a session this creates nothing.
	sessiongin.From(c).Delete(name)
	c.Render(http.StatusOK, jsonBody(demo.OK{OK: true}))
}

// loginForm is the body of POST /login.
type loginForm struct {
	User     string `form:"user"`
	Remember string `form:"remember"`
	Label    string `form:"label"`
}

func (a *app) login(c *gin.Context) {
	// binding.FormPost, not c.ShouldBind or c.PostForm: it reads the user
	// from an application/x-www-form-urlencoded body only, by the rules of
	// net/http's Request.ParseForm, as the net/http demo does, and reports
	// a malformed or oversized body. binding.Form would take the user from
	// the URL's query too, and c.PostForm reads a multipart body and
	// ignores a malformed one.
	var form loginForm
	if err := c.ShouldBindWith(&form, binding.FormPost); err != nil {
		a.fail(c, demo.FormError(err))
		return
	}
	user, err := demo.CheckUser(form.User)
	if err != nil {
		a.fail(c, err)
		return
	}
	// A real app checks a password here. LoginWith renews the token (no
	// session fixation), binds the session to the user, records the client
	// and the options; it refuses an invalid label and changes nothing.
	if err := sessiongin.From(c).LoginWith(user, demo.LoginOptions(form.Remember, form.Label)); err != nil {
		a.fail(c, err)
		return
	}
	c.Render(http.StatusOK, jsonBody(demo.User{User: user}))
}

func (a *app) me(c *gin.Context) {
	user, ok := a.loggedIn(c)
	if !ok {
		return
	}
	c.Render(http.StatusOK, jsonBody(demo.User{User: user}))
}

func (a *app) logout(c *gin.Context) {
	sessiongin.From(c).Destroy()
	c.Render(http.StatusOK, jsonBody(demo.OK{OK: true}))
}

func (a *app) listSessions(c *gin.Context) {
	if _, ok := a.loggedIn(c); !ok {
		return
	}
	// Sessions marks the one this request rides on as current.
	infos, err := sessiongin.From(c).Sessions(c.Request.Context())
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Render(http.StatusOK, jsonBody(demo.SessionList(infos)))
}

func (a *app) revokeSession(c *gin.Context) {
	id, err := param(c, "id")
	if err != nil {
		a.fail(c, err)
		return
	}
	if _, ok := a.loggedIn(c); !ok {
		return
	}
	// Revoking the session this request rides on is a logout: Revoke
	// destroys it at commit and the cookie is cleared.
	revoked, err := sessiongin.From(c).Revoke(c.Request.Context(), id)
	if err != nil {
		a.fail(c, err)
		return
	}
	if !revoked {
		a.fail(c, demo.ErrNoSuchSession)
		return
	}
	c.Render(http.StatusOK, jsonBody(demo.Revoked{Revoked: 1}))
}

func (a *app) revokeOthers(c *gin.Context) {
	if _, ok := a.loggedIn(c); !ok {
		return
	}
	n, err := sessiongin.From(c).RevokeOthers(c.Request.Context())
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Render(http.StatusOK, jsonBody(demo.Revoked{Revoked: n}))
}

// loggedIn returns the session's user, or answers 401 when there is none.
func (a *app) loggedIn(c *gin.Context) (string, bool) {
	user := sessiongin.From(c).UserID()
	if user == "" {
		a.fail(c, demo.ErrNotLoggedIn)
		return "", false
	}
	return user, true
}

// param returns the path parameter key unescaped, as net/http's ServeMux
// unescapes a wildcard (the router matched on the escaped path).
func param(c *gin.Context, key string) (string, error) {
	return demo.PathParam(c.Param(key))
}

// crossOrigin refuses a browser's cross-origin POST, PUT or DELETE with
// 403, by net/http's CrossOriginProtection, which Gin's *http.Request
// lets it call as it is.
func (a *app) crossOrigin(cop *http.CrossOriginProtection) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := demo.CheckCrossOrigin(cop, c.Request); err != nil {
			a.fail(c, err)
			return
		}
		c.Next()
	}
}

// limitBody caps the request body at demo.MaxBodyBytes: a handler that
// reads more gets an *http.MaxBytesError, which fail answers with 413.
func limitBody(c *gin.Context) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, demo.MaxBodyBytes)
	c.Next()
}

// fail answers err with the status the demo contract gives it and stops
// the chain, as c.AbortWithStatusJSON does; the error goes to c.Errors too.
func (a *app) fail(c *gin.Context, err error) {
	status, body, _ := demo.Answer(err)
	if status >= http.StatusInternalServerError {
		demo.LogFailure(c.Request.Context(), a.log, c.Request.Method, c.Request.URL.Path, status, err)
	}
	_ = c.Error(err)
	c.Abort()
	c.Render(status, jsonBody(body))
}

// routerError answers what the router refuses on its own (NoRoute,
// NoMethod) with a JSON body, as every other answer.
func routerError(status int) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Render(status, jsonBody(demo.ErrorOf(http.StatusText(status))))
	}
}

// jsonBody renders v as the other demos send JSON, which c.JSON does not:
// Content-Type exactly application/json (Gin adds "; charset=utf-8"), and
// encoding/json's Encoder output, with its trailing newline (Gin's JSON
// render has none).
func jsonBody(v any) jsonRender { return jsonRender{v} }

type jsonRender struct{ v any }

// Render implements render.Render.
func (r jsonRender) Render(w http.ResponseWriter) error {
	r.WriteContentType(w)
	return json.NewEncoder(w).Encode(r.v)
}

// WriteContentType implements render.Render.
func (jsonRender) WriteContentType(w http.ResponseWriter) {
	w.Header()["Content-Type"] = []string{"application/json"}
}

// logRequests logs one line per request with its status and duration.
func logRequests(logger *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		demo.LogRequest(c.Request.Context(), logger, c.Request.Method, c.Request.URL.Path, c.Writer.Status(), start)
	}
}
