// Command nethttp is the sessionkit demo on net/http: the routes of the
// demo contract (DESIGN.md) on a Go 1.22 http.ServeMux.
//
//	go run ./examples/nethttp -secure=false
//	curl -c jar -b jar -X POST http://127.0.0.1:8080/counter
//
// Flags: go run ./examples/nethttp -h
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sessionkit/sessionkit/examples/internal/demo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stderr, nil)
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		os.Exit(2) // the flag package has printed what was wrong
	default:
		fmt.Fprintln(os.Stderr, "nethttp:", err)
		os.Exit(1)
	}
}

// errUsage marks a command-line error that has been reported already.
var errUsage = errors.New("usage")

// shutdownTimeout bounds how long requests in flight may take to finish
// once a signal arrives.
const shutdownTimeout = 10 * time.Second

// run serves the demo until ctx ends, then shuts down gracefully. ready,
// when not nil, is told the address the server listens on.
func run(ctx context.Context, args []string, stderr io.Writer, ready func(net.Addr)) error {
	opts, err := demo.Parse("nethttp", args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %w", errUsage, err) // Parse has reported it
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))

	m, closeManager, err := demo.NewManager(opts, logger)
	if err != nil {
		return err
	}
	defer func() {
		if err := closeManager(); err != nil {
			logger.Error("closing the session manager", "error", err)
		}
	}()

	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           newHandler(m, logger),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Info("sessionkit demo (net/http) listening",
		"addr", "http://"+ln.Addr().String(),
		"store", opts.Store, "transport", opts.Transport, "secure", opts.Secure,
		"idle", opts.Idle, "lifetime", opts.Lifetime, "rotate", opts.Rotate)
	if ready != nil {
		ready(ln.Addr())
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case err := <-served:
		return err // the listener failed; Serve never returns nil here
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}

// logRequests logs one line per request with its status and duration.
func logRequests(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", sw.status),
			slog.Duration("duration", time.Since(start)),
		)
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
