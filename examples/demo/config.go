// Package demo is the framework-neutral plumbing the example apps share:
// the command-line flags of the demo contract (see docs/DESIGN.md), the
// *core.Manager those flags describe, the JSON shapes of the answers, the
// status each error gets (Answer), and the start-up, serving and shutdown
// every demo's main does alike (Main, Start, HTTPServer, Serve).
//
// It holds no routes or handlers: each example writes those in its own
// framework's idiom, so that it reads as a real application would.
// Package demotest holds the contract as a test suite every example runs.
// Neither is internal: the examples, which a reader copies from, import no
// internal package of this repository.
package demo

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/stores/memstore"
	"github.com/sessionkit/sessionkit/stores/redisstore"
)

// Store names accepted by -store.
const (
	StoreMemory = "memory"
	StoreRedis  = "redis"
)

// Transport names accepted by -transport.
const (
	TransportCookie = "cookie"
	TransportHeader = "header"
)

// Options are the demo's command-line settings.
type Options struct {
	Addr        string
	Store       string   // StoreMemory or StoreRedis
	RedisAddrs  []string // more than one address means Redis Cluster
	RedisDB     int
	RedisPrefix string
	Idle        time.Duration
	Lifetime    time.Duration
	Rotate      time.Duration // 0: no rotation
	Transport   string        // TransportCookie or TransportHeader
	Secure      bool
	// MaxSessions is the memory store's session bound; 0 keeps the
	// store's own default.
	MaxSessions int
}

// Defaults returns the options the demo runs with when no flag is given.
func Defaults() Options {
	return Options{
		Addr:        "127.0.0.1:8080",
		Store:       StoreMemory,
		RedisAddrs:  []string{"127.0.0.1:6379"},
		RedisDB:     0,
		RedisPrefix: "session:",
		Idle:        core.DefaultIdleTimeout,
		Lifetime:    core.DefaultLifetime,
		Rotate:      0,
		Transport:   TransportCookie,
		Secure:      true,
	}
}

// Parse reads the demo's flags from args (without the program name). An
// error has been reported to output, with the usage, by the time Parse
// returns it; -h and -help return flag.ErrHelp.
func Parse(name string, args []string, output io.Writer) (Options, error) {
	o := Defaults()
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(output)
	redisAddrs := strings.Join(o.RedisAddrs, ",")
	fs.StringVar(&o.Addr, "addr", o.Addr, "listen address (host:port)")
	fs.StringVar(&o.Store, "store", o.Store, "session store: memory or redis")
	fs.StringVar(&redisAddrs, "redis-addrs", redisAddrs, "Redis addresses, comma-separated; more than one means Redis Cluster")
	fs.IntVar(&o.RedisDB, "redis-db", o.RedisDB, "Redis database number (standalone only)")
	fs.StringVar(&o.RedisPrefix, "redis-prefix", o.RedisPrefix, "prefix of the Redis keys")
	fs.DurationVar(&o.Idle, "idle", o.Idle, "idle timeout: a session ends after this long without activity")
	fs.DurationVar(&o.Lifetime, "lifetime", o.Lifetime, "absolute lifetime: a session ends this long after creation or login")
	fs.DurationVar(&o.Rotate, "rotate", o.Rotate, "issue a new token once the current one is this old (0: off; the old token keeps working for 5s, or half this when shorter)")
	fs.StringVar(&o.Transport, "transport", o.Transport, "where the token travels: cookie, or header (Authorization: Bearer in, Session-Token out)")
	fs.BoolVar(&o.Secure, "secure", o.Secure, "mark the cookie Secure (HTTPS only); -secure=false for plain-HTTP local testing")
	fs.IntVar(&o.MaxSessions, "max-sessions", o.MaxSessions, "memory store only: how many sessions it holds before evicting the least recently used anonymous ones (0: the store's default)")
	if err := fs.Parse(args); err != nil {
		return o, err // the flag package has reported it
	}
	o.RedisAddrs = splitAddrs(redisAddrs)
	err := o.Validate()
	if err == nil && fs.NArg() > 0 {
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err != nil {
		// Report it as the flag package reports its own errors.
		fmt.Fprintln(output, err)
		fs.Usage()
		return o, err
	}
	return o, nil
}

// Validate checks what the flag package cannot. Timeouts are checked by
// core.New, which names the setting at fault.
func (o Options) Validate() error {
	switch o.Store {
	case StoreMemory, StoreRedis:
	default:
		return fmt.Errorf("-store %q: want %s or %s", o.Store, StoreMemory, StoreRedis)
	}
	switch o.Transport {
	case TransportCookie, TransportHeader:
	default:
		return fmt.Errorf("-transport %q: want %s or %s", o.Transport, TransportCookie, TransportHeader)
	}
	if o.Addr == "" {
		return errors.New("-addr is empty")
	}
	if o.MaxSessions < 0 {
		return fmt.Errorf("-max-sessions %d is negative", o.MaxSessions)
	}
	if o.MaxSessions != 0 && o.Store != StoreMemory {
		return fmt.Errorf("-max-sessions is for -store %s only", StoreMemory)
	}
	if o.Store == StoreRedis {
		if len(o.RedisAddrs) == 0 {
			return errors.New("-redis-addrs is empty")
		}
		if o.RedisDB < 0 {
			return fmt.Errorf("-redis-db %d is negative", o.RedisDB)
		}
	}
	return nil
}

func splitAddrs(s string) []string {
	var out []string
	for _, a := range strings.Split(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// Config translates the options into a core.Config for the given store
// (nil: the manager's own in-memory store).
func (o Options) Config(st core.Store, logger *slog.Logger) core.Config {
	cfg := core.Config{
		Store:       st,
		IdleTimeout: o.Idle,
		Lifetime:    o.Lifetime,
		RotateAfter: o.Rotate,
		Cookie:      core.CookieConfig{Insecure: !o.Secure},
		Logger:      logger,
		Memory:      memstore.Options{MaxSessions: o.MaxSessions},
	}
	if o.Transport == TransportHeader {
		cfg.Transport = core.TransportHeader
	}
	return cfg
}

// NewManager builds the manager the options describe. The returned close
// function stops the manager and then closes the store the demo opened;
// call it once the server has shut down.
func NewManager(o Options, logger *slog.Logger) (m *core.Manager, closeFn func() error, err error) {
	if err := o.Validate(); err != nil {
		return nil, nil, err
	}
	st, closeStore, err := openStore(o)
	if err != nil {
		return nil, nil, err
	}
	m, err = core.New(o.Config(st, logger))
	if err != nil {
		if closeStore != nil {
			_ = closeStore()
		}
		return nil, nil, err
	}
	closeFn = func() error {
		err := m.Close()
		if closeStore != nil {
			err = errors.Join(err, closeStore())
		}
		return err
	}
	return m, closeFn, nil
}

// openStore opens the store -store names. A nil store means the manager's
// own in-memory one, which m.Close stops. The close function, when not
// nil, releases what openStore opened.
func openStore(o Options) (st core.Store, closeFn func() error, err error) {
	switch o.Store {
	case StoreMemory:
		return nil, nil, nil
	case StoreRedis:
		client, err := redisstore.NewClient(o.RedisAddrs, o.RedisDB)
		if err != nil {
			return nil, nil, fmt.Errorf("-redis-addrs %v: %w", o.RedisAddrs, err)
		}
		// Fail at startup, with the address, rather than on every request.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := client.Ping(ctx).Err(); err != nil {
			_ = client.Close()
			return nil, nil, fmt.Errorf("redis at %s: %w", strings.Join(o.RedisAddrs, ","), err)
		}
		st, err := redisstore.New(client, redisstore.Options{Prefix: o.RedisPrefix})
		if err != nil {
			_ = client.Close()
			return nil, nil, err
		}
		return st, client.Close, nil
	}
	return nil, nil, fmt.Errorf("-store %q: want %s or %s", o.Store, StoreMemory, StoreRedis)
}
