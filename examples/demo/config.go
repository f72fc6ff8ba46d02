// Package demo is the framework-neutral plumbing the example apps share:
// the command-line flags of the demo contract (see docs/DESIGN.md), the
// *core.Manager those flags describe, the JSON shapes of the answers, the
// status each error gets (Answer), the login form's options
// (LoginOptions), the cross-origin protection every demo puts in front of
// its session middleware (CrossOriginProtection, CheckCrossOrigin), and the
// start-up, serving and shutdown every demo's main does alike (Main,
// Start, HTTPServer, Serve).
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

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/stores/memstore"
	"github.com/sessionkit/sessionkit/stores/pgstore"
	"github.com/sessionkit/sessionkit/stores/redisstore"
)

// Store names accepted by -store.
const (
	StoreMemory   = "memory"
	StoreRedis    = "redis"
	StorePostgres = "postgres"
)

// Binding names accepted by -bind.
const (
	BindNone      = "none"
	BindUserAgent = "user-agent"
)

// DefaultRemember is -remember's default: how long a session logged in
// with remember me lives, and how long it may go unused.
const DefaultRemember = 720 * time.Hour

// Transport names accepted by -transport.
const (
	TransportCookie = "cookie"
	TransportHeader = "header"
)

// Options are the demo's command-line settings.
type Options struct {
	Addr        string
	Store       string   // StoreMemory, StoreRedis or StorePostgres
	RedisAddrs  []string // more than one address means Redis Cluster
	RedisDB     int
	RedisPrefix string
	// RedisCache turns on the Redis store's near cache
	// (redisstore.Options.Cache); -store redis only.
	RedisCache bool
	// RedisCacheStaleness is the near cache's MaxStaleness: the longest a
	// cached session is served without reading Redis, even when
	// invalidations are lost. Above zero, at most
	// redisstore.MaxMaxStaleness (one minute).
	RedisCacheStaleness time.Duration
	// PostgresURL is a libpq connection URL or keyword=value string.
	PostgresURL string
	Idle        time.Duration
	Lifetime    time.Duration
	// Remember is both the lifetime and the idle timeout of a session
	// logged in with remember me (core.Config.RememberLifetime and
	// RememberIdleTimeout).
	Remember time.Duration
	Rotate   time.Duration // 0: no rotation
	// Bind is BindNone, or BindUserAgent: a logged-in session presented
	// with another User-Agent than it logged in with is revoked
	// (core.Config.Binding).
	Bind      string
	Transport string // TransportCookie or TransportHeader
	Secure    bool
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
		RedisCache:  false,
		// The store's own default, given here so that -h shows it.
		RedisCacheStaleness: redisstore.DefaultMaxStaleness,
		PostgresURL:         "postgres://127.0.0.1:5432/postgres",
		Idle:                core.DefaultIdleTimeout,
		Lifetime:            core.DefaultLifetime,
		Remember:            DefaultRemember,
		Rotate:              0,
		Bind:                BindNone,
		Transport:           TransportCookie,
		Secure:              true,
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
	fs.StringVar(&o.Store, "store", o.Store, "session store: memory, redis or postgres")
	fs.StringVar(&redisAddrs, "redis-addrs", redisAddrs, "Redis addresses, comma-separated; more than one means Redis Cluster. "+
		"Or one URL: redis://[user:password@]host:port[/db], rediss:// for TLS, ?addr=host:port&addr=... for Cluster, ?master_name=NAME for Sentinel")
	fs.IntVar(&o.RedisDB, "redis-db", o.RedisDB, "Redis database number (standalone only; with a URL, its path)")
	fs.StringVar(&o.RedisPrefix, "redis-prefix", o.RedisPrefix, "prefix of the Redis keys")
	fs.BoolVar(&o.RedisCache, "redis-cache", o.RedisCache, "keep the sessions read in a near cache in this process, invalidated by Redis (client-side caching); -store redis only")
	fs.DurationVar(&o.RedisCacheStaleness, "redis-cache-staleness", o.RedisCacheStaleness, "with -redis-cache: the longest a cached session is served without reading Redis, even if invalidations are lost (above 0, at most 1m)")
	fs.StringVar(&o.PostgresURL, "postgres-url", o.PostgresURL, "PostgreSQL connection: a libpq URL or keyword=value string (the store creates its tables)")
	fs.DurationVar(&o.Idle, "idle", o.Idle, "idle timeout: a session ends after this long without activity")
	fs.DurationVar(&o.Lifetime, "lifetime", o.Lifetime, "absolute lifetime: a session ends this long after creation or login")
	fs.DurationVar(&o.Remember, "remember", o.Remember, "lifetime and idle timeout of a session logged in with remember (its cookie then persists, with Max-Age and Expires)")
	fs.DurationVar(&o.Rotate, "rotate", o.Rotate, "issue a new token once the current one is this old (0: off; the old token keeps working for 5s, or half this when shorter)")
	fs.StringVar(&o.Bind, "bind", o.Bind, "bind a logged-in session to its client: none, or user-agent (another User-Agent revokes the session)")
	fs.StringVar(&o.Transport, "transport", o.Transport, "where the token travels: cookie, or header (Authorization: Bearer in, Session-Token out)")
	fs.BoolVar(&o.Secure, "secure", o.Secure, "mark the cookie Secure (HTTPS only); -secure=false for plain-HTTP local testing")
	fs.IntVar(&o.MaxSessions, "max-sessions", o.MaxSessions, "memory store only: how many sessions it holds before evicting the least recently used anonymous ones (0: the store's default)")
	if err := fs.Parse(args); err != nil {
		return o, err // the flag package has reported it
	}
	o.RedisAddrs = splitAddrs(redisAddrs)
	err := o.Validate()
	if err == nil && !o.RedisCache {
		fs.Visit(func(f *flag.Flag) {
			if f.Name == "redis-cache-staleness" {
				// Ignored without the cache: say so rather than run without it.
				err = errors.New("-redis-cache-staleness is for -redis-cache only")
			}
		})
	}
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
	case StoreMemory, StoreRedis, StorePostgres:
	default:
		return fmt.Errorf("-store %q: want %s, %s or %s", o.Store, StoreMemory, StoreRedis, StorePostgres)
	}
	switch o.Transport {
	case TransportCookie, TransportHeader:
	default:
		return fmt.Errorf("-transport %q: want %s or %s", o.Transport, TransportCookie, TransportHeader)
	}
	switch o.Bind {
	case BindNone, BindUserAgent:
	default:
		return fmt.Errorf("-bind %q: want %s or %s", o.Bind, BindNone, BindUserAgent)
	}
	if o.Remember <= 0 {
		// core would take zero for its own default, silently.
		return fmt.Errorf("-remember %v is not positive", o.Remember)
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
	if o.RedisCache && o.Store != StoreRedis {
		return fmt.Errorf("-redis-cache is for -store %s only", StoreRedis)
	}
	if o.RedisCache && (o.RedisCacheStaleness <= 0 || o.RedisCacheStaleness > redisstore.MaxMaxStaleness) {
		// Zero would be the store's default, silently.
		return fmt.Errorf("-redis-cache-staleness %v: want above 0 and at most %v", o.RedisCacheStaleness, redisstore.MaxMaxStaleness)
	}
	if o.Store == StoreRedis {
		if err := o.validateRedis(); err != nil {
			return err
		}
	}
	if o.Store == StorePostgres {
		if strings.TrimSpace(o.PostgresURL) == "" {
			return errors.New("-postgres-url is empty")
		}
		// Parsing connects to nothing; a malformed URL is a usage error.
		if _, err := pgxpool.ParseConfig(o.PostgresURL); err != nil {
			return fmt.Errorf("-postgres-url: %w", err)
		}
	}
	return nil
}

func splitAddrs(s string) []string {
	if redisstore.IsURL(s) {
		return []string{strings.TrimSpace(s)} // one URL: a comma in it is its own
	}
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
		// A remembered session's idle timeout is its lifetime: it stays
		// logged in for -remember, used or not.
		RememberLifetime:    o.Remember,
		RememberIdleTimeout: o.Remember,
		RotateAfter:         o.Rotate,
		Cookie:              core.CookieConfig{Insecure: !o.Secure},
		Logger:              logger,
		Memory:              memstore.Options{MaxSessions: o.MaxSessions},
	}
	if o.Bind == BindUserAgent {
		cfg.Binding = core.BindUserAgent
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
		// Fails at startup, with the cause, rather than on every request.
		client, err := openRedisClient(o)
		if err != nil {
			return nil, nil, err
		}
		opts := redisstore.Options{Prefix: o.RedisPrefix}
		if o.RedisCache {
			opts.Cache = &redisstore.CacheOptions{MaxStaleness: o.RedisCacheStaleness}
		}
		st, err := redisstore.New(client, opts)
		if err != nil {
			_ = client.Close()
			return nil, nil, err
		}
		return st, func() error {
			// The cache's tracking connections first, then the client.
			return errors.Join(st.Close(), client.Close())
		}, nil
	case StorePostgres:
		return openPostgres(o.PostgresURL)
	}
	return nil, nil, fmt.Errorf("-store %q: want %s, %s or %s", o.Store, StoreMemory, StoreRedis, StorePostgres)
}

// openPostgres opens a pool on url, checks at startup that the database
// answers, and opens the store on it, creating its tables when missing.
// Errors name the server by host, port and database, never by the URL,
// which may hold a password.
func openPostgres(url string) (core.Store, func() error, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pool, err := pgstore.NewPool(ctx, url)
	if err != nil {
		return nil, nil, fmt.Errorf("-postgres-url: %w", err)
	}
	cc := pool.Config().ConnConfig
	where := fmt.Sprintf("postgres at %s:%d/%s", cc.Host, cc.Port, cc.Database)
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, nil, fmt.Errorf("%s: %w", where, err)
	}
	st, err := pgstore.New(ctx, pool, pgstore.Options{CreateSchema: true})
	if err != nil {
		pool.Close()
		return nil, nil, fmt.Errorf("%s: %w", where, err)
	}
	return st, func() error {
		err := st.Close()
		pool.Close()
		return err
	}, nil
}
