package redisstore

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/redis/go-redis/v9"
)

// ParseURL reads a Redis URL into the options NewClientURL builds a client
// from, with NewClient's two defaults (ContextTimeoutEnabled, DialerRetries
// 1) where the URL does not set them. Three forms, by go-redis's parsers
// (redis.ParseURL, redis.ParseClusterURL, redis.ParseFailoverURL):
//
//	redis://[[user]:password@]host[:port][/db][?option=value&...]
//	    one server: standalone
//	redis://[[user]:password@]host:port?addr=host2:port2[&addr=...]
//	    Redis Cluster, the addresses being its seeds (database 0 only)
//	redis://[[user]:password@]host:port[/db]?master_name=NAME[&addr=...]
//	    Sentinel: the addresses are the sentinels', the client follows
//	    the master they elect; user and password here are the
//	    sentinels' (SentinelUsername, SentinelPassword), the master's
//	    come as &username=...&password=...
//
// rediss:// is the same over TLS, verifying the server's certificate
// against the system's roots for the URL's host name (skip_verify=true
// turns that off, for the standalone and Sentinel forms); a private CA or
// a client certificate goes in TLSConfig through NewClientURL's configure.
// The user is an ACL user (Redis 6 or later); without one, the password is
// the default user's (requirepass). A password with characters a URL
// reserves (@ : / ? # % and others) must be percent-encoded
// (url.QueryEscape). Other options are go-redis's, snake-cased
// (dial_timeout=2s, pool_size=20, protocol=2, ...); an unknown one is an
// error. The unix:// form is not accepted: UniversalOptions has no
// network; build a *redis.Client from redis.ParseURL for a socket.
//
// No error from ParseURL repeats a password: errors name the URL as
// RedactURL gives it.
func ParseURL(rawURL string) (*redis.UniversalOptions, error) {
	rawURL = strings.TrimSpace(rawURL)
	if !strings.Contains(rawURL, "://") {
		return nil, errors.New("redisstore: not a Redis URL (not shown here: it may hold a password): want redis://host:port or rediss://host:port")
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Error quotes the URL, password and all, and its detail
		// may quote a piece of a password that broke the syntax.
		return nil, errors.New("redisstore: the Redis URL does not parse (not shown here: it may hold a password); " +
			"a password with characters a URL reserves (@ : / ? # % and others) must be percent-encoded")
	}
	o, err := parseURL(rawURL, u)
	if err != nil {
		return nil, scrubError(err, secretsOf(rawURL, u))
	}
	return o, nil
}

// parseURL is ParseURL once the URL parses. Its errors may quote the
// URL's options; ParseURL scrubs them.
func parseURL(rawURL string, u *url.URL) (*redis.UniversalOptions, error) {
	where := redactURL(u)
	fail := func(err error) error {
		return fmt.Errorf("redisstore: Redis URL %s: %w", where, err)
	}
	switch u.Scheme {
	case "redis", "rediss":
	case "":
		return nil, fmt.Errorf("redisstore: Redis URL %s: no scheme: want redis:// or rediss://", where)
	default:
		return nil, fmt.Errorf("redisstore: Redis URL %s: scheme %q: want redis:// or rediss://", where, u.Scheme)
	}
	if u.Opaque != "" || u.Host == "" {
		// redis:host:6379, or redis:///0: go-redis would quietly take
		// localhost:6379.
		return nil, fmt.Errorf("redisstore: Redis URL %s: no host: want %s://host:port", where, u.Scheme)
	}
	if strings.Contains(u.Host, ",") {
		return nil, fmt.Errorf("redisstore: Redis URL %s: a comma in the host: a URL has one host, "+
			"a Cluster's other addresses go in ?addr=host:port&addr=...", where)
	}
	q := u.Query()
	var o *redis.UniversalOptions
	switch {
	case q.Has("master_name"):
		f, err := redis.ParseFailoverURL(rawURL)
		if err != nil {
			return nil, fail(err)
		}
		if f.MasterName == "" {
			return nil, fmt.Errorf("redisstore: Redis URL %s: master_name is empty", where)
		}
		if f.ReplicaOnly || f.UseDisconnectedReplicas || f.RouteByLatency || f.RouteRandomly {
			// NewUniversalClient builds a client of the master alone.
			return nil, fmt.Errorf("redisstore: Redis URL %s: replica_only, use_disconnected_replicas, route_by_latency and route_randomly "+
				"are not for a session store, which writes to the master", where)
		}
		o = fromFailover(f)
	case q.Has("addr"):
		c, err := redis.ParseClusterURL(rawURL)
		if err != nil {
			return nil, fail(err)
		}
		// ParseClusterURL ignores a path; a database there would be lost.
		if p := strings.Trim(u.Path, "/"); p != "" && p != "0" {
			return nil, fmt.Errorf("redisstore: Redis URL %s: database %s requested, but Redis Cluster has only database 0", where, p)
		}
		o = fromCluster(c)
	default:
		s, err := redis.ParseURL(rawURL)
		if err != nil {
			return nil, fail(err)
		}
		o = fromSimple(s)
	}
	if !q.Has("context_timeout_enabled") {
		o.ContextTimeoutEnabled = true
	}
	if !q.Has("dialer_retries") {
		o.DialerRetries = 1
	}
	return o, nil
}

// NewClientURL builds a go-redis client from a Redis URL (see ParseURL):
// a standalone, Cluster or Sentinel client, as the URL says. configure,
// when given, adjusts the options before the client is built, as for
// NewClient: a private CA or a client certificate (TLSConfig), a
// credentials provider, pool sizes. Setting IsClusterMode there makes a
// Cluster client of a URL with one address (a managed cluster's
// configuration endpoint). A Cluster client follows a replica's promotion
// as NewClient's does.
//
// It does not connect; run Check on the client at start-up to learn that
// it can, or why not. Closing the client is the caller's job.
func NewClientURL(rawURL string, configure ...func(*redis.UniversalOptions)) (redis.UniversalClient, error) {
	o, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	for _, f := range configure {
		f(o)
	}
	return newClient(o)
}

// IsURL reports whether s is written as a Redis URL (redis:// or
// rediss://) rather than as a host:port address, so that a command-line
// flag can take either.
func IsURL(s string) bool {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.HasPrefix(s, "redis://") || strings.HasPrefix(s, "rediss://")
}

// RedactURL returns rawURL fit for a log line or an error: its passwords
// (the user information's, and a Sentinel URL's password= option) read
// "xxxxx". A URL that does not parse gives a fixed text, for it might
// hold a password that did not parse either.
func RedactURL(rawURL string) string {
	rawURL = strings.TrimSpace(rawURL)
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(a Redis URL that does not parse)"
	}
	return scrub(redactURL(u), secretsOf(rawURL, u))
}

func redactURL(u *url.URL) string {
	if u.Opaque != "" {
		// scheme:anything, "//" forgotten: what follows may be a
		// password.
		return u.Scheme + ":xxxxx"
	}
	r := *u
	if r.User != nil {
		if _, ok := r.User.Password(); ok {
			r.User = url.UserPassword(r.User.Username(), "xxxxx")
		}
	}
	q := r.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		r.RawQuery = q.Encode()
	}
	return r.String()
}

// secretsOf lists the passwords a URL holds: as written in raw, as
// decoded, and as Go encodes them again.
func secretsOf(raw string, u *url.URL) []string {
	var out []string
	add := func(ss ...string) {
		for _, s := range ss {
			if s != "" {
				out = append(out, s)
			}
		}
	}
	if _, rest, ok := strings.Cut(raw, "://"); ok {
		authority := rest
		if i := strings.IndexAny(rest, "/?#"); i >= 0 {
			authority = rest[:i]
		}
		if i := strings.LastIndex(authority, "@"); i >= 0 {
			if _, p, ok := strings.Cut(authority[:i], ":"); ok {
				add(p)
			}
		}
	}
	if u.User != nil {
		if p, ok := u.User.Password(); ok {
			add(p)
			if _, r, ok := strings.Cut(u.User.String(), ":"); ok {
				add(r)
			}
		}
	}
	for _, p := range u.Query()["password"] {
		add(p, url.QueryEscape(p))
	}
	for _, kv := range strings.Split(u.RawQuery, "&") {
		if v, ok := strings.CutPrefix(kv, "password="); ok {
			add(v)
		}
	}
	return out
}

// scrubError keeps err's chain but makes sure its text holds none of
// secrets.
func scrubError(err error, secrets []string) error {
	msg := err.Error()
	if clean := scrub(msg, secrets); clean != msg {
		return errors.New(clean)
	}
	return err
}

func scrub(s string, secrets []string) string {
	for _, p := range secrets {
		s = strings.ReplaceAll(s, p, "xxxxx")
	}
	return s
}

// fromSimple, fromCluster and fromFailover carry over every field the
// go-redis URL parsers set (options_test checks that none is lost).

func fromSimple(s *redis.Options) *redis.UniversalOptions {
	return &redis.UniversalOptions{
		Addrs:                   []string{s.Addr},
		ClientName:              s.ClientName,
		DB:                      s.DB,
		Protocol:                s.Protocol,
		Username:                s.Username,
		Password:                s.Password,
		MaxRetries:              s.MaxRetries,
		MinRetryBackoff:         s.MinRetryBackoff,
		MaxRetryBackoff:         s.MaxRetryBackoff,
		DialTimeout:             s.DialTimeout,
		ReadTimeout:             s.ReadTimeout,
		WriteTimeout:            s.WriteTimeout,
		PoolFIFO:                s.PoolFIFO,
		PoolSize:                s.PoolSize,
		PoolTimeout:             s.PoolTimeout,
		MinIdleConns:            s.MinIdleConns,
		MaxIdleConns:            s.MaxIdleConns,
		MaxActiveConns:          s.MaxActiveConns,
		MaxConcurrentDials:      s.MaxConcurrentDials,
		PipelinePoolSize:        s.PipelinePoolSize,
		PipelineReadBufferSize:  s.PipelineReadBufferSize,
		PipelineWriteBufferSize: s.PipelineWriteBufferSize,
		ConnMaxIdleTime:         s.ConnMaxIdleTime,
		ConnMaxLifetime:         s.ConnMaxLifetime,
		ConnMaxLifetimeJitter:   s.ConnMaxLifetimeJitter,
		TLSConfig:               s.TLSConfig,
	}
}

func fromCluster(c *redis.ClusterOptions) *redis.UniversalOptions {
	return &redis.UniversalOptions{
		Addrs:                   c.Addrs,
		ClientName:              c.ClientName,
		Protocol:                c.Protocol,
		Username:                c.Username,
		Password:                c.Password,
		MaxRedirects:            c.MaxRedirects,
		ReadOnly:                c.ReadOnly,
		RouteByLatency:          c.RouteByLatency,
		RouteByLatencyTolerance: c.RouteByLatencyTolerance,
		RouteRandomly:           c.RouteRandomly,
		MaxRetries:              c.MaxRetries,
		MinRetryBackoff:         c.MinRetryBackoff,
		MaxRetryBackoff:         c.MaxRetryBackoff,
		DialTimeout:             c.DialTimeout,
		DialerRetries:           c.DialerRetries,
		DialerRetryTimeout:      c.DialerRetryTimeout,
		ReadTimeout:             c.ReadTimeout,
		WriteTimeout:            c.WriteTimeout,
		PoolFIFO:                c.PoolFIFO,
		PoolSize:                c.PoolSize,
		MaxConcurrentDials:      c.MaxConcurrentDials,
		MinIdleConns:            c.MinIdleConns,
		MaxIdleConns:            c.MaxIdleConns,
		MaxActiveConns:          c.MaxActiveConns,
		PipelinePoolSize:        c.PipelinePoolSize,
		PipelineReadBufferSize:  c.PipelineReadBufferSize,
		PipelineWriteBufferSize: c.PipelineWriteBufferSize,
		PoolTimeout:             c.PoolTimeout,
		ConnMaxLifetime:         c.ConnMaxLifetime,
		ConnMaxLifetimeJitter:   c.ConnMaxLifetimeJitter,
		ConnMaxIdleTime:         c.ConnMaxIdleTime,
		FailingTimeoutSeconds:   c.FailingTimeoutSeconds,
		TLSConfig:               c.TLSConfig,
		// One seed (a managed cluster's endpoint) is a cluster too.
		IsClusterMode: true,
	}
}

func fromFailover(f *redis.FailoverOptions) *redis.UniversalOptions {
	return &redis.UniversalOptions{
		Addrs:                   f.SentinelAddrs,
		MasterName:              f.MasterName,
		SentinelUsername:        f.SentinelUsername,
		SentinelPassword:        f.SentinelPassword,
		ClientName:              f.ClientName,
		DB:                      f.DB,
		Protocol:                f.Protocol,
		Username:                f.Username,
		Password:                f.Password,
		MaxRetries:              f.MaxRetries,
		MinRetryBackoff:         f.MinRetryBackoff,
		MaxRetryBackoff:         f.MaxRetryBackoff,
		DialTimeout:             f.DialTimeout,
		DialerRetries:           f.DialerRetries,
		DialerRetryTimeout:      f.DialerRetryTimeout,
		ReadTimeout:             f.ReadTimeout,
		WriteTimeout:            f.WriteTimeout,
		ContextTimeoutEnabled:   f.ContextTimeoutEnabled,
		PoolFIFO:                f.PoolFIFO,
		PoolSize:                f.PoolSize,
		MaxConcurrentDials:      f.MaxConcurrentDials,
		MinIdleConns:            f.MinIdleConns,
		MaxIdleConns:            f.MaxIdleConns,
		MaxActiveConns:          f.MaxActiveConns,
		PipelinePoolSize:        f.PipelinePoolSize,
		PipelineReadBufferSize:  f.PipelineReadBufferSize,
		PipelineWriteBufferSize: f.PipelineWriteBufferSize,
		ConnMaxLifetime:         f.ConnMaxLifetime,
		ConnMaxLifetimeJitter:   f.ConnMaxLifetimeJitter,
		ConnMaxIdleTime:         f.ConnMaxIdleTime,
		PoolTimeout:             f.PoolTimeout,
		DisableIdentity:         f.DisableIdentity,
		IdentitySuffix:          f.IdentitySuffix,
		UnstableResp3:           f.UnstableResp3,
		TLSConfig:               f.TLSConfig,
	}
}
