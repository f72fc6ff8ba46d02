package adaptertest

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sessionkit/sessionkit/core"
)

// Server sends one request to the app under test and returns the response
// with its body fully read. It must be safe for concurrent use.
type Server func(*http.Request) (*http.Response, error)

// Factory builds the app under test: the adapter's middleware on m, in
// front of a catch-all route that hands every request to app.
type Factory func(t *testing.T, m *core.Manager, app App) Server

// HandlerServer serves requests in-process through an http.Handler, for
// adapters built on net/http types. The recorder keeps the headers as they
// were when first written, like a real connection.
func HandlerServer(h http.Handler) Server {
	return func(r *http.Request) (*http.Response, error) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Result(), nil
	}
}
