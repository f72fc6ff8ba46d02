// Command tokenapi is sessionkit outside HTTP: a line protocol over TCP
// whose clients hold a session token and send it with each command, as a
// WebSocket, gRPC or MCP tool-call server's clients would. It uses the
// manager's token-level API (IssueToken, ValidateToken, SaveToken,
// RefreshToken, DestroyToken), which runs the middleware's own Load and
// Commit: the same checks, deadlines, binding, bounds and events.
//
//	go run ./examples/tokenapi
//	nc 127.0.0.1 8090
//	LOGIN alice
//	OK 8aWV...  (the token)
//	INCR 8aWV...
//	OK 1
//
// Commands, one per line, each answered by one line, "OK ..." or
// "ERR <reason>":
//
//	LOGIN <user> [remember]  a new session for user; answers its token
//	WHOAMI <token>           the session's user
//	INCR <token>             adds one to the session's counter; answers it
//	REFRESH <token>          extends the idle deadline; answers when it ends
//	LOGOUT <token>           ends the session
//	QUIT                     closes the connection
//
// Flags: -addr (default 127.0.0.1:8090), -idle, -lifetime, -bind none|ip
// (ip: a token is refused, and its session revoked, when it comes from
// another address than the login's). Sessions live in the manager's
// in-memory store.
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

	"github.com/sessionkit/sessionkit/core"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stderr, nil)
	stop()
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "tokenapi:", err)
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

// run serves until ctx ends. ready, when not nil, is told the address.
func run(ctx context.Context, args []string, stderr io.Writer, ready func(net.Addr)) error {
	fs := flag.NewFlagSet("tokenapi", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8090", "listen address (host:port)")
	idle := fs.Duration("idle", core.DefaultIdleTimeout, "idle timeout of a session")
	lifetime := fs.Duration("lifetime", core.DefaultLifetime, "absolute lifetime of a session")
	bind := fs.String("bind", "none", "bind sessions to the client: none, or ip (the login's address)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	cfg := core.Config{IdleTimeout: *idle, Lifetime: *lifetime, Logger: logger}
	switch *bind {
	case "none":
	case "ip":
		cfg.Binding = func(c core.Client) string { return c.IP }
	default:
		fmt.Fprintf(stderr, "-bind %q: want none or ip\n", *bind)
		fs.Usage()
		return errUsage
	}
	m, err := core.New(cfg)
	if err != nil {
		return err
	}
	defer m.Close()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	logger.Info("tokenapi listening", "addr", ln.Addr().String())
	if ready != nil {
		ready(ln.Addr())
	}
	srv := &server{m: m, log: logger, idle: 2 * time.Minute}
	return srv.serve(ctx, ln)
}
