// Command nethttp is the sessionkit demo on net/http: the routes of the
// demo contract (docs/DESIGN.md) on a Go 1.22 http.ServeMux.
//
//	go run ./examples/nethttp -secure=false
//	curl -c jar -b jar -X POST http://127.0.0.1:8080/counter
//	curl -c jar -b jar -d user=alice -d remember=on -d label=Laptop http://127.0.0.1:8080/login
//	curl -c jar -b jar http://127.0.0.1:8080/sessions
//
// A browser's POST, PUT or DELETE from another origin is refused with 403
// by net/http's CrossOriginProtection (demo.CrossOriginProtection), which
// wraps the whole handler; curl, which sends neither Sec-Fetch-Site nor
// Origin, is served.
//
// Flags: go run ./examples/nethttp -h (among them -remember, the lifetime of a
// session logged in with remember, and -bind user-agent).
package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/sessionkit/sessionkit/examples/demo"
)

func main() { demo.Main("nethttp", run) }

// run serves the demo until ctx ends, then shuts down gracefully. ready,
// when not nil, is told the address the server listens on.
func run(ctx context.Context, args []string, stderr io.Writer, ready func(net.Addr)) error {
	s, err := demo.Start("nethttp", args, stderr)
	if err != nil {
		return err
	}
	defer s.Close()
	srv := demo.HTTPServer(newHandler(s.Manager, s.Logger), s.Logger)
	s.Listening("net/http", ready)
	return demo.Serve(ctx, srv, s.Listener, s.Logger)
}

// logRequests logs one line per request with its status and duration.
func logRequests(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		demo.LogRequest(r.Context(), logger, r.Method, r.URL.Path, sw.status, start)
	})
}

// statusWriter records the response status. Unwrap lets
// http.ResponseController reach the server's writer behind it.
type statusWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader && code >= 200 {
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wroteHeader = true
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
