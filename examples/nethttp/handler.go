package main

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"

	sessionhttp "github.com/sessionkit/sessionkit/adapters/nethttp"
	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/examples/demo"
)

// app holds what the handlers share.
type app struct {
	log *slog.Logger
}

// newHandler is the demo's whole HTTP surface: the routes of the demo
// contract behind the session middleware, and /healthz beside it, so that a
// health check never touches the session store; all of it behind net/http's
// cross-origin protection (demo.CrossOriginProtection), which refuses a
// browser's cross-site POST, PUT or DELETE before any session is loaded.
func newHandler(m *core.Manager, logger *slog.Logger) http.Handler {
	a := &app{log: logger}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /counter", a.getCounter)
	mux.HandleFunc("POST /counter", a.postCounter)
	mux.HandleFunc("PUT /values/{name}", a.putValue)
	mux.HandleFunc("GET /values/{name}", a.getValue)
	mux.HandleFunc("DELETE /values/{name}", a.deleteValue)
	mux.HandleFunc("POST /login", a.login)
	mux.HandleFunc("GET /me", a.me)
	mux.HandleFunc("POST /logout", a.logout)
	mux.HandleFunc("GET /sessions", a.listSessions)
	mux.HandleFunc("DELETE /sessions/{id}", a.revokeSession)
	mux.HandleFunc("POST /sessions/revoke-others", a.revokeOthers)

	root := http.NewServeMux()
	root.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, demo.OK{OK: true})
	})
	root.Handle("/", sessionhttp.New(m)(mux))

	cop := demo.CrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.fail(w, r, demo.ErrCrossOrigin)
	}))
	return logRequests(logger, cop.Handler(root))
}

func (a *app) getCounter(w http.ResponseWriter, r *http.Request) {
	n, err := demo.ReadCount(sessionhttp.From(r))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, demo.Count{Count: n})
}

func (a *app) postCounter(w http.ResponseWriter, r *http.Request) {
	n, err := demo.Increment(sessionhttp.From(r))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, demo.Count{Count: n})
}

func (a *app) putValue(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, demo.MaxBodyBytes))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if err := demo.CheckValue(body); err != nil {
		a.fail(w, r, err)
		return
	}
	value := string(body)
	if err := sessionhttp.From(r).Put(name, value); err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, demo.Value{Name: name, Value: value})
}

func (a *app) getValue(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	v, err := core.Lookup[any](sessionhttp.From(r), name)
	if errors.Is(err, core.ErrNoValue) {
		err = demo.NoValue(name)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, demo.Value{Name: name, Value: v})
}

func (a *app) deleteValue(w http.ResponseWriter, r *http.Request) {
	// On a request without a session this creates nothing.
	sessionhttp.From(r).Delete(r.PathValue("name"))
	writeJSON(w, http.StatusOK, demo.OK{OK: true})
}

func (a *app) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, demo.MaxBodyBytes)
	if err := r.ParseForm(); err != nil {
		a.fail(w, r, demo.FormError(err))
		return
	}
	user, err := demo.CheckUser(r.PostForm.Get("user"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	// A real app checks a password here. LoginWith renews the token (no
	// session fixation), binds the session to the user, records the client
	// and the options; it refuses an invalid label and changes nothing.
	opts := demo.LoginOptions(r.PostForm.Get("remember"), r.PostForm.Get("label"))
	if err := sessionhttp.From(r).LoginWith(user, opts); err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, demo.User{User: user})
}

func (a *app) me(w http.ResponseWriter, r *http.Request) {
	user, ok := a.loggedIn(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, demo.User{User: user})
}

func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	sessionhttp.From(r).Destroy()
	writeJSON(w, http.StatusOK, demo.OK{OK: true})
}

func (a *app) listSessions(w http.ResponseWriter, r *http.Request) {
	if _, ok := a.loggedIn(w, r); !ok {
		return
	}
	// Sessions marks the one this request rides on as current.
	infos, err := sessionhttp.From(r).Sessions(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, demo.SessionList(infos))
}

func (a *app) revokeSession(w http.ResponseWriter, r *http.Request) {
	if _, ok := a.loggedIn(w, r); !ok {
		return
	}
	// Revoking the session this request rides on is a logout: Revoke
	// destroys it at commit and the cookie is cleared.
	revoked, err := sessionhttp.From(r).Revoke(r.Context(), r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if !revoked {
		a.fail(w, r, demo.ErrNoSuchSession)
		return
	}
	writeJSON(w, http.StatusOK, demo.Revoked{Revoked: 1})
}

func (a *app) revokeOthers(w http.ResponseWriter, r *http.Request) {
	if _, ok := a.loggedIn(w, r); !ok {
		return
	}
	n, err := sessionhttp.From(r).RevokeOthers(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, demo.Revoked{Revoked: n})
}

// loggedIn returns the session's user, or answers 401 when there is none.
func (a *app) loggedIn(w http.ResponseWriter, r *http.Request) (string, bool) {
	user := sessionhttp.From(r).UserID()
	if user == "" {
		a.fail(w, r, demo.ErrNotLoggedIn)
		return "", false
	}
	return user, true
}

// fail answers an error with the status the demo contract gives it.
func (a *app) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, body, _ := demo.Answer(err)
	if status >= http.StatusInternalServerError {
		demo.LogFailure(r.Context(), a.log, r.Method, r.URL.Path, status, err)
	}
	writeJSON(w, status, body)
}

// writeJSON answers status with v as a JSON body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
