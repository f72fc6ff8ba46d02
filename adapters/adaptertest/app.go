package adaptertest

import (
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"

	"github.com/sessionkit/sessionkit/core"
)

// App is the suite's application, written once against core. The adapter's
// glue calls it for every request.
type App func(*Exchange)

// Exchange is one request as the suite's app sees it. The adapter's glue
// fills it from its framework's context.
type Exchange struct {
	// URL is the request's path and query (e.g. r.URL.RequestURI()).
	URL string
	// Session is what the adapter's From returns for the request.
	Session *core.Session
	// ContextSession is core.FromContext of the context the framework
	// hands to service code (r.Context(), c.UserContext(), ...).
	ContextSession *core.Session
	// Respond writes the status and a text body with the framework's own
	// response API. The app may keep using the session afterwards.
	Respond func(status int, body string)
}

// app serves the routes the suite's tests call. Paths, not methods, pick
// the route, so the glue can register one catch-all handler.
type app struct {
	calls atomic.Int64 // how many requests reached the app
}

func (a *app) serve(x *Exchange) {
	a.calls.Add(1)
	u, err := url.Parse(x.URL)
	if err != nil {
		x.Respond(http.StatusBadRequest, "bad url")
		return
	}
	q := u.Query()
	s := x.Session
	if s == nil || s != x.ContextSession {
		x.Respond(http.StatusInternalServerError, "From and core.FromContext disagree")
		return
	}
	switch u.Path {
	case "/read":
		v, ok := core.Get[string](s, q.Get("key"))
		if !ok {
			x.Respond(http.StatusNotFound, "absent")
			return
		}
		x.Respond(http.StatusOK, v)
	case "/write":
		if err := s.Put(q.Get("key"), q.Get("value")); err != nil {
			x.Respond(http.StatusInternalServerError, err.Error())
			return
		}
		x.Respond(http.StatusOK, "ok")
	case "/write-late":
		// The response goes out first; the change comes after the headers.
		x.Respond(http.StatusOK, "ok")
		_ = s.Put(q.Get("key"), q.Get("value"))
	case "/incr":
		n, _ := core.Get[int](s, q.Get("key"))
		n++
		_ = s.Put(q.Get("key"), n)
		x.Respond(http.StatusOK, strconv.Itoa(n))
	case "/login":
		err := s.LoginWith(q.Get("user"), core.LoginOptions{Remember: q.Get("remember") == "1", Label: q.Get("label")})
		if err != nil {
			x.Respond(http.StatusBadRequest, "bad login options")
			return
		}
		x.Respond(http.StatusOK, "ok")
	case "/renew":
		s.Renew()
		x.Respond(http.StatusOK, "ok")
	case "/logout":
		s.Destroy()
		x.Respond(http.StatusOK, "ok")
	case "/whoami":
		x.Respond(http.StatusOK, s.UserID())
	case "/id":
		x.Respond(http.StatusOK, s.ID())
	default:
		x.Respond(http.StatusOK, "nothing")
	}
}
