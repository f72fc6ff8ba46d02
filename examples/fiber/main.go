// Command fiber is the sessionkit demo on Fiber v2: the routes of the demo
// contract (docs/DESIGN.md), answering exactly as the net/http demo does.
//
//	go run ./examples/fiber -secure=false
//	curl -c jar -b jar -X POST http://127.0.0.1:8080/counter
//	curl -c jar -b jar -d user=alice -d remember=on -d label=Laptop http://127.0.0.1:8080/login
//	curl -c jar -b jar http://127.0.0.1:8080/sessions
//
// A browser's POST, PUT or DELETE from another origin is refused with 403
// by net/http's CrossOriginProtection (demo.CrossOriginProtection), which a
// Fiber middleware calls with the request's method, Host, Sec-Fetch-Site
// and Origin (fasthttp has no *http.Request); curl, which sends neither
// header, is served.
//
// Flags: go run ./examples/fiber -h (among them -remember, the lifetime of a
// session logged in with remember, and -bind user-agent).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/sessionkit/sessionkit/examples/demo"
)

func main() { demo.Main("fiber", run) }

// run serves the demo until ctx ends, then shuts down gracefully. ready,
// when not nil, is told the address the server listens on.
func run(ctx context.Context, args []string, stderr io.Writer, ready func(net.Addr)) error {
	s, err := demo.Start("fiber", args, stderr)
	if err != nil {
		return err
	}
	defer s.Close()
	// The demo's own listener rather than app.Listen: "tcp" serves IPv6
	// addresses too (Fiber's default network is tcp4), a taken port fails
	// in demo.Start, and ready learns the address of -addr 127.0.0.1:0.
	app := newApp(s.Manager, s.Logger)
	s.Listening("Fiber", ready)

	served := make(chan error, 1)
	go func() { served <- app.Listener(s.Listener) }()

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
	s.Logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), demo.ShutdownTimeout)
	defer cancel()
	err = app.ShutdownWithContext(shutdownCtx)
	// fasthttp closes the listeners Serve has registered; a signal that
	// comes before the serving goroutine got that far would leave ours
	// open and Serve running, so close it too (twice is harmless).
	_ = s.Listener.Close()
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; err != nil {
		return err
	}
	s.Logger.Info("stopped")
	return nil
}
