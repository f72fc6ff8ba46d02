package demo

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

	"github.com/sessionkit/sessionkit/core"
)

// What every demo's server keeps alike.
const (
	// MaxHeaderBytes caps the request headers: room for a browser that
	// carries many cookies for localhost.
	MaxHeaderBytes = 64 << 10
	// ShutdownTimeout bounds how long requests in flight may take to
	// finish once a signal arrives.
	ShutdownTimeout = 10 * time.Second
	// ReadTimeout, WriteTimeout and IdleTimeout bound a slow client.
	ReadTimeout  = 30 * time.Second
	WriteTimeout = 30 * time.Second
	IdleTimeout  = 2 * time.Minute
)

// ErrUsage marks a command-line error that Parse has reported already.
var ErrUsage = errors.New("usage")

// RunFunc is a demo's run function: it serves until ctx ends, then shuts
// down gracefully and returns nil. ready, when not nil, is told the
// address the server listens on. Tests call it as main does.
type RunFunc func(ctx context.Context, args []string, stderr io.Writer, ready func(net.Addr)) error

// Main runs a demo's run with the command line until SIGINT or SIGTERM,
// and exits as every demo does: 0 after a signal or -h, 2 after a
// command-line error (reported already), 1 after anything else (printed,
// after the demo's name).
func Main(name string, run RunFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stderr, nil)
	stop()
	os.Exit(exitCode(name, err, os.Stderr))
}

// exitCode is the status Main exits with after run returned err.
func exitCode(name string, err error, stderr io.Writer) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, ErrUsage):
		return 2 // the flag package has printed what was wrong
	default:
		fmt.Fprintln(stderr, name+":", err)
		return 1
	}
}

// Setup is what a demo has in hand before it serves: its options, its
// logger, the session manager and the listener.
type Setup struct {
	Options  Options
	Logger   *slog.Logger
	Manager  *core.Manager
	Listener net.Listener

	closeManager func() error
}

// Start reads the demo's flags from args, then builds the logger (text,
// to stderr), the session manager and the listener the flags describe. A
// command-line error comes back wrapping ErrUsage, -h as flag.ErrHelp.
// Once Start has succeeded, Close releases what it built.
func Start(name string, args []string, stderr io.Writer) (*Setup, error) {
	opts, err := Parse(name, args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %w", ErrUsage, err) // Parse has reported it
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	m, closeManager, err := NewManager(opts, logger)
	if err != nil {
		return nil, err
	}
	// "tcp" serves IPv6 addresses too, a taken port fails here, and the
	// listener knows its address when -addr asks for port 0.
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		_ = closeManager()
		return nil, err
	}
	return &Setup{Options: opts, Logger: logger, Manager: m, Listener: ln, closeManager: closeManager}, nil
}

// Listening logs where the demo serves, and how, and tells ready.
func (s *Setup) Listening(framework string, ready func(net.Addr)) {
	o := s.Options
	s.Logger.Info("sessionkit demo ("+framework+") listening",
		"addr", "http://"+s.Listener.Addr().String(),
		"store", o.Store, "transport", o.Transport, "secure", o.Secure,
		"idle", o.Idle, "lifetime", o.Lifetime, "remember", o.Remember,
		"rotate", o.Rotate, "bind", o.Bind)
	if ready != nil {
		ready(s.Listener.Addr())
	}
}

// Close closes the listener (again, if the server has closed it) and then
// the session manager, which stops it and closes its store. Call it once
// the server has shut down.
func (s *Setup) Close() {
	_ = s.Listener.Close()
	if err := s.closeManager(); err != nil {
		s.Logger.Error("closing the session manager", "error", err)
	}
}

// HTTPServer is the server the demos built on net/http (nethttp, gin,
// echo) run h with: timeouts for slow clients, request headers up to
// MaxHeaderBytes, and the server's own errors logged as warnings.
func HTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// Serve serves srv on ln until ctx ends, then shuts srv down, giving the
// requests in flight ShutdownTimeout to finish. It returns nil after a
// clean shutdown, and the error when the listener fails before.
func Serve(ctx context.Context, srv *http.Server, ln net.Listener, logger *slog.Logger) error {
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case err := <-served:
		return err // the listener failed; Serve never returns nil here
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
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

// LogRequest logs the line every demo logs for a request it has answered.
func LogRequest(ctx context.Context, logger *slog.Logger, method, path string, status int, start time.Time) {
	logger.LogAttrs(ctx, slog.LevelInfo, "request",
		slog.String("method", method),
		slog.String("path", path),
		slog.Int("status", status),
		slog.Duration("duration", time.Since(start)),
	)
}

// LogFailure logs a request that failed on the server's side (status
// 5xx): the client's body says nothing of the cause.
func LogFailure(ctx context.Context, logger *slog.Logger, method, path string, status int, err error) {
	msg := "request failed"
	if errors.Is(err, core.ErrStore) {
		msg = "session store failed"
	}
	logger.ErrorContext(ctx, msg, "method", method, "path", path, "status", status, "error", err)
}
