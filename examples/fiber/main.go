// Command fiber is the sessionkit demo on Fiber v2: the routes of the demo
// contract (DESIGN.md), answering exactly as the net/http demo does.
//
//	go run ./examples/fiber -secure=false
//	curl -c jar -b jar -X POST http://127.0.0.1:8080/counter
//
// Flags: go run ./examples/fiber -h
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
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
		fmt.Fprintln(os.Stderr, "fiber:", err)
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
	opts, err := demo.Parse("fiber", args, stderr)
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

	// Our own listener rather than app.Listen: "tcp" serves IPv6 addresses
	// too (Fiber's default network is tcp4), a taken port fails here, and
	// ready learns the address of -addr 127.0.0.1:0.
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	app := newApp(m, logger)
	logger.Info("sessionkit demo (Fiber) listening",
		"addr", "http://"+ln.Addr().String(),
		"store", opts.Store, "transport", opts.Transport, "secure", opts.Secure,
		"idle", opts.Idle, "lifetime", opts.Lifetime, "rotate", opts.Rotate)
	if ready != nil {
		ready(ln.Addr())
	}

	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }()

	select {
	case err := <-served:
		// fasthttp returns nil only once the listener is closed, which
		// nothing but the shutdown below does.
		if err == nil {
			err = errors.New("the listener closed")
		}
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err = app.ShutdownWithContext(shutdownCtx)
	// fasthttp closes the listeners Serve has registered; a signal that
	// comes before the serving goroutine got that far would leave ours
	// open and Serve running, so close it too (twice is harmless).
	_ = ln.Close()
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; err != nil {
		return err
	}
	logger.Info("stopped")
	return nil
}
