package adapterkit_test

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"

	"github.com/sessionkit/sessionkit/adapterkit"
	"github.com/sessionkit/sessionkit/core"
)

// sessionWriter is the adapter's per-request value: the kit's Writer, and
// the answer to a commit that fails (it is the Commit's ErrorResponder).
type sessionWriter struct{ adapterkit.Writer }

// SessionError answers through the server's writer: the Writer drops
// whatever the handler writes once its commit has failed.
func (w *sessionWriter) SessionError(err error) { adapterkit.WriteError(w.ResponseWriter, err) }

// middleware is a whole adapter for a framework built on net/http, in the
// four steps: read, load, inject, commit at the header moment.
func middleware(m *core.Manager, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := adapterkit.Request(r)
		s, err := m.Load(r.Context(), &req)
		if err != nil {
			adapterkit.WriteError(w, err) // never an anonymous session
			return
		}
		r = r.WithContext(core.NewContext(r.Context(), s))
		sw := &sessionWriter{Writer: adapterkit.Writer{ResponseWriter: w}}
		sw.Commit.Init(r.Context(), m, s, w.Header(), sw)
		next.ServeHTTP(sw.Wrap(), r)
		sw.Commit.AfterHandler() // the header moment if nothing was written, else the late save
	})
}

// An adapter written with the kit and core alone: the first response
// carries the new session's cookie, the second request brings it back.
func Example() {
	m, err := core.New(core.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		panic(err)
	}
	defer m.Close()
	h := middleware(m, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := core.FromContext(r.Context())
		n, _ := core.Get[int](s, "count")
		_ = s.Put("count", n+1)
		fmt.Fprint(w, n+1)
	}))

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/", nil))
	cookie := rec.Result().Cookies()[0]
	fmt.Println(rec.Body.String(), cookie.Name, rec.Header().Get("Cache-Control"))

	req := httptest.NewRequest("POST", "/", nil)
	req.AddCookie(cookie)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println(rec.Body.String(), len(rec.Result().Cookies()), "cookies")
	// Output:
	// 1 __Host-session no-store
	// 2 0 cookies
}

// A store failure is answered 503 with the generic body. The handler had
// announced a Content-Length for the body it meant to send; it would not
// match the error body, so it goes.
func ExampleWriteError() {
	rec := httptest.NewRecorder()
	rec.Header().Set("Content-Length", "1024")
	adapterkit.WriteError(rec, fmt.Errorf("load: %w", core.ErrStore))

	fmt.Println(rec.Code, rec.Header().Get("Content-Type"), rec.Header().Get("Cache-Control"))
	fmt.Printf("Content-Length %q\n", rec.Header().Get("Content-Length"))
	fmt.Println(rec.Body.String())
	// Output:
	// 503 application/json no-store
	// Content-Length ""
	// {"error":"session store unavailable"}
}

// For a framework whose handlers return errors: a failure while the
// handler writes must be answered at once; after the handler has returned
// it is returned instead, for the framework's error handler.
func ExampleErrorReturn() {
	var e adapterkit.ErrorReturn
	fmt.Println("while writing, answer now:", e.Record(errors.New("first")))
	e.HandlerReturned()
	fmt.Println("after the handler, answer now:", e.Record(fmt.Errorf("commit: %w", core.ErrStore)))
	fmt.Println("returned:", errors.Is(e.Err(), core.ErrStore))
	// Output:
	// while writing, answer now: true
	// after the handler, answer now: false
	// returned: true
}
