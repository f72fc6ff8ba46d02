package adapterkit

import (
	"errors"
	"net/http"

	"github.com/sessionkit/sessionkit/core"
)

// ErrorBody is the default error response body: generic, so that it tells
// a client nothing about the store behind it.
const ErrorBody = `{"error":"session store unavailable"}`

// ErrorJSON is ErrorBody as a value that encoding/json sends as it is and
// fmt prints as text: the message of a framework error (Echo's HTTPError)
// whose default handler marshals the message into the body.
type ErrorJSON string

// MarshalJSON returns the text itself, which is JSON already.
func (e ErrorJSON) MarshalJSON() ([]byte, error) { return []byte(e), nil }

// ErrorStatus is the status for a session error: 503 for a store failure,
// which clears up once the store is back, and for anything else the
// session layer cannot recover from (a failing random source).
func ErrorStatus(err error) int {
	if errors.Is(err, core.ErrStore) || errors.Is(err, core.ErrRandom) {
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// Request is what the manager reads from a net/http request. The keys are
// canonical already, so the map is read directly: Header.Get would
// canonicalise each one again on every request.
func Request(r *http.Request) core.Request {
	return core.Request{
		Cookie:        r.Header["Cookie"],
		Authorization: r.Header["Authorization"],
		UserAgent:     first(r.Header["User-Agent"]),
		RemoteAddr:    r.RemoteAddr,
		ForwardedFor:  first(r.Header["X-Forwarded-For"]),
	}
}

func first(values []string) string {
	if len(values) == 0 {
		return ""
	}
	return values[0]
}

// WriteError writes the default error response to a net/http writer.
// A Content-Length the handler set (http.ServeFile does) would not match
// the error body, so it goes.
func WriteError(w http.ResponseWriter, err error) {
	h := w.Header()
	h.Del("Content-Length")
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(ErrorStatus(err))
	_, _ = w.Write([]byte(ErrorBody))
}
