package main

import (
	"encoding/json"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	sessionfiber "github.com/sessionkit/sessionkit/adapters/fiber"
	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/examples/demo"
)

// bodyLimit is Fiber's BodyLimit: the most fasthttp reads into memory
// before any handler runs; beyond it Fiber answers 413 itself (through
// errorHandler, so with the demo's JSON) and closes the connection. The
// demo's own limit, demo.MaxBodyBytes, is checked by the handlers that read
// a body, where the net/http demo's MaxBytesReader sits: a 100 KiB body
// gets the same answer from both demos on every route (413 from PUT
// /values, 200 from POST /counter, which ignores it), and the connection
// stays open. 256 KiB is also what net/http reads and discards of a body
// a handler left unread before it gives up on the connection.
const bodyLimit = 256 << 10

// app holds what the handlers share.
type app struct {
	log *slog.Logger
}

// newApp is the demo's whole HTTP surface: the routes of the demo contract
// behind the session middleware, and /healthz before it, so that a health
// check never touches the session store; all of it behind net/http's
// cross-origin protection (crossOrigin).
func newApp(m *core.Manager, logger *slog.Logger) *fiber.App {
	a := &app{log: logger}

	f := fiber.New(fiber.Config{
		// Immutable stays false, Fiber's default: the strings Fiber hands
		// out (c.Params, c.Get, ...) point into fasthttp's request buffers,
		// which the connection's next request overwrites. The demo copies
		// what it keeps beyond the handler instead (see param, putValue
		// and postForm), which is what every Fiber app without Immutable
		// must do. (The session middleware copies its own inputs, and core
		// copies keys and user ids; an app should not lean on that for
		// what it keeps elsewhere.)
		ErrorHandler: a.errorHandler,
		// Routes match as the net/http demo's ServeMux matches them:
		// /Counter and /counter/ are not /counter.
		CaseSensitive: true,
		StrictRouting: true,
		BodyLimit:     bodyLimit,
		// Request headers up to 64 KiB, as the net/http demo's
		// MaxHeaderBytes: fasthttp's default 4 KiB answers 431 to a
		// browser that carries many cookies for localhost.
		ReadBufferSize: demo.MaxHeaderBytes,
		ReadTimeout:    demo.ReadTimeout,
		WriteTimeout:   demo.WriteTimeout,
		IdleTimeout:    demo.IdleTimeout,
		JSONEncoder:    jsonLine,
		// fasthttp parses a multipart body before any handler runs, and
		// refuses a malformed one with 400 on every route; the demo reads
		// no multipart form, and the net/http demo ignores such a body.
		DisablePreParseMultipartForm: true,
		// run logs the address with the demo's logger instead of Fiber's
		// banner.
		DisableStartupMessage: true,
	})

	// Cross-origin protection before the session middleware, so that a
	// refused request loads no session.
	f.Use(logRequests(logger), crossOrigin(demo.CrossOriginProtection()))
	f.Get("/healthz", func(c *fiber.Ctx) error {
		return c.JSON(demo.OK{OK: true})
	})

	// Everything registered after this goes through the session middleware.
	f.Use(sessionfiber.New(m))
	f.Get("/counter", a.getCounter)
	f.Post("/counter", a.postCounter)
	f.Put("/values/:name", a.putValue)
	f.Get("/values/:name", a.getValue)
	f.Delete("/values/:name", a.deleteValue)
	f.Post("/login", a.login)
	f.Get("/me", a.me)
	f.Post("/logout", a.logout)
	f.Get("/sessions", a.listSessions)
	f.Delete("/sessions/:id", a.revokeSession)
	f.Post("/sessions/revoke-others", a.revokeOthers)
	return f
}

func (a *app) getCounter(c *fiber.Ctx) error {
	n, err := demo.ReadCount(sessionfiber.From(c))
	if err != nil {
		return err
	}
	return c.JSON(demo.Count{Count: n})
}

func (a *app) postCounter(c *fiber.Ctx) error {
	n, err := demo.Increment(sessionfiber.From(c))
	if err != nil {
		return err
	}
	return c.JSON(demo.Count{Count: n})
}

func (a *app) putValue(c *fiber.Ctx) error {
	name, err := param(c, "name")
	if err != nil {
		return err
	}
	// BodyRaw, not Body: Body decompresses by Content-Encoding, without a
	// limit on the result, and returns a decoding error's text as if it
	// were the body. The value is the bytes sent, as in the net/http demo.
	body := c.BodyRaw()
	if len(body) > demo.MaxBodyBytes {
		return demo.ErrBodyTooLarge
	}
	if err := demo.CheckValue(body); err != nil {
		return err
	}
	value := string(body) // a copy: the body buffer is reused
	if err := sessionfiber.From(c).Put(name, value); err != nil {
		return err
	}
	return c.JSON(demo.Value{Name: name, Value: value})
}

func (a *app) getValue(c *fiber.Ctx) error {
	name, err := param(c, "name")
	if err != nil {
		return err
	}
	v, err := core.Lookup[any](sessionfiber.From(c), name)
	if errors.Is(err, core.ErrNoValue) {
		return demo.NoValue(name)
	}
	if err != nil {
		return err
	}
	return c.JSON(demo.Value{Name: name, Value: v})
}

func (a *app) deleteValue(c *fiber.Ctx) error {
	name, err := param(c, "name")
	if err != nil {
		return err
	}
	// On a request without a session this creates nothing.
	sessionfiber.From(c).Delete(name)
	return c.JSON(demo.OK{OK: true})
}

func (a *app) login(c *fiber.Ctx) error {
	form, err := postForm(c)
	if err != nil {
		return err
	}
	user, err := demo.CheckUser(form.Get("user"))
	if err != nil {
		return err
	}
	// A real app checks a password here. LoginWith renews the token (no
	// session fixation), binds the session to the user, records the client
	// and the options; it refuses an invalid label and changes nothing.
	opts := demo.LoginOptions(form.Get("remember"), form.Get("label"))
	if err := sessionfiber.From(c).LoginWith(user, opts); err != nil {
		return err
	}
	return c.JSON(demo.User{User: user})
}

func (a *app) me(c *fiber.Ctx) error {
	user, err := loggedIn(c)
	if err != nil {
		return err
	}
	return c.JSON(demo.User{User: user})
}

func (a *app) logout(c *fiber.Ctx) error {
	sessionfiber.From(c).Destroy()
	return c.JSON(demo.OK{OK: true})
}

func (a *app) listSessions(c *fiber.Ctx) error {
	if _, err := loggedIn(c); err != nil {
		return err
	}
	// Sessions marks the one this request rides on as current.
	infos, err := sessionfiber.From(c).Sessions(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(demo.SessionList(infos))
}

func (a *app) revokeSession(c *fiber.Ctx) error {
	// A malformed escape first: net/http refuses it before any handler.
	id, err := param(c, "id")
	if err != nil {
		return err
	}
	if _, err := loggedIn(c); err != nil {
		return err
	}
	// Revoking the session this request rides on is a logout: Revoke
	// destroys it at commit and the cookie is cleared.
	revoked, err := sessionfiber.From(c).Revoke(c.UserContext(), id)
	if err != nil {
		return err
	}
	if !revoked {
		return demo.ErrNoSuchSession
	}
	return c.JSON(demo.Revoked{Revoked: 1})
}

func (a *app) revokeOthers(c *fiber.Ctx) error {
	if _, err := loggedIn(c); err != nil {
		return err
	}
	n, err := sessionfiber.From(c).RevokeOthers(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(demo.Revoked{Revoked: n})
}

// loggedIn returns the session's user, or demo.ErrNotLoggedIn.
func loggedIn(c *fiber.Ctx) (string, error) {
	user := sessionfiber.From(c).UserID()
	if user == "" {
		return "", demo.ErrNotLoggedIn
	}
	return user, nil
}

// crossOrigin refuses a browser's cross-origin POST, PUT or DELETE with
// 403 (through the ErrorHandler), by net/http's CrossOriginProtection,
// which fasthttp has no *http.Request for: it is given the request's
// method, Host and the two headers it reads. (Fiber's csrf middleware
// wants a token in every such request.)
func crossOrigin(cop *http.CrossOriginProtection) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := demo.CheckCrossOriginOf(cop, c.Method(), string(c.Request().Host()),
			c.Get("Sec-Fetch-Site"), c.Get(fiber.HeaderOrigin)); err != nil {
			return err
		}
		return c.Next()
	}
}

// param returns the route parameter key unescaped, as net/http's ServeMux
// unescapes a wildcard (Fiber routes on the escaped path and leaves its
// parameters escaped; a malformed escape, which net/http refuses before
// routing, is a 400), and copied: it is kept as a session key, and
// c.Params points into the request buffer (url.PathUnescape returns its
// argument itself when there is nothing to unescape).
func param(c *fiber.Ctx, key string) (string, error) {
	v, err := demo.PathParam(c.Params(key))
	if err != nil {
		return "", err
	}
	return strings.Clone(v), nil
}

// postForm returns the login form, parsed from the request body by the
// rules of net/http's Request.ParseForm, so that both demos accept and
// refuse the same bodies: only an application/x-www-form-urlencoded body
// counts, a malformed one (or a malformed query string) is a 400, and one
// over demo.MaxBodyBytes a 413. Fiber's c.FormValue does not do: fasthttp
// looks in the URL query first, and the contract takes the user from the
// body only; it also reads a malformed escape such as %zz as text.
func postForm(c *fiber.Ctx) (url.Values, error) {
	ct := c.Get(fiber.HeaderContentType)
	if ct == "" {
		ct = "application/octet-stream" // as net/http, after RFC 9110 §8.3
	}
	mediaType, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return nil, demo.ErrBadForm
	}
	var form url.Values
	if mediaType == fiber.MIMEApplicationForm {
		body := c.BodyRaw()
		if len(body) > demo.MaxBodyBytes {
			return nil, demo.ErrBodyTooLarge
		}
		// ParseQuery returns new strings, copies of the body's bytes.
		if form, err = url.ParseQuery(string(body)); err != nil {
			return nil, demo.ErrBadForm
		}
	}
	if _, err := url.ParseQuery(string(c.Request().URI().QueryString())); err != nil {
		return nil, demo.ErrBadForm
	}
	return form, nil
}

// errorHandler is the app's fiber.Config.ErrorHandler: it answers the
// errors the handlers return, and those Fiber raises itself (an unknown
// route, a body over BodyLimit), with the status the demo contract gives
// them and an {"error":...} body. The session middleware answers its own
// store failures (503) before this is reached.
func (a *app) errorHandler(c *fiber.Ctx, err error) error {
	status, body, ok := demo.Answer(err)
	var fe *fiber.Error
	switch {
	case ok:
	case errors.As(err, &fe) && fe.Code == fiber.StatusRequestEntityTooLarge:
		// Fiber's own, past BodyLimit.
		status, body = fe.Code, demo.ErrorOf(demo.MsgBodyTooLarge)
	case errors.As(err, &fe) && fe.Code < fiber.StatusInternalServerError:
		// Fiber's 4xx: 404 and 405 for routes outside the contract, 431
		// for oversized headers.
		status, body = fe.Code, demo.ErrorOf(fe.Message)
	}
	if status >= fiber.StatusInternalServerError {
		demo.LogFailure(c.UserContext(), a.log, c.Method(), c.Path(), status, err)
	}
	return c.Status(status).JSON(body)
}

// jsonLine is the app's JSON encoder: encoding/json, ending the body with
// a newline as the net/http demo's json.Encoder does, so both demos send
// the same bytes (and curl's output ends its line).
func jsonLine(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// logRequests logs one line per request with its status and duration. A
// handler's error is answered here, by the app's ErrorHandler, as Fiber's
// logger middleware does, so that the line shows the status sent.
func logRequests(logger *slog.Logger) fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()
		if err := c.Next(); err != nil {
			if err := c.App().ErrorHandler(c, err); err != nil {
				_ = c.SendStatus(fiber.StatusInternalServerError)
			}
		}
		demo.LogRequest(c.UserContext(), logger, c.Method(), c.Path(), c.Response().StatusCode(), start)
		return nil
	}
}
