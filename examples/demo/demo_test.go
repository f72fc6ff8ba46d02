package demo

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/internal/pgtest"
	"github.com/sessionkit/sessionkit/internal/redistest"
	"github.com/sessionkit/sessionkit/stores/pgstore"
	"github.com/sessionkit/sessionkit/stores/redisstore"
)

func TestParseDefaults(t *testing.T) {
	o, err := Parse("demo", nil, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, Options{
		Addr:        "127.0.0.1:8080",
		Store:       "memory",
		RedisAddrs:  []string{"127.0.0.1:6379"},
		RedisDB:     0,
		RedisPrefix: "session:",
		PostgresURL: "postgres://127.0.0.1:5432/postgres",
		Idle:        30 * time.Minute,
		Lifetime:    24 * time.Hour,
		Remember:    720 * time.Hour,
		Rotate:      0,
		Bind:        "none",
		Transport:   "cookie",
		Secure:      true,
	}, o)
	assert.Equal(t, Defaults(), o)
}

func TestParseEveryFlag(t *testing.T) {
	o, err := Parse("demo", []string{
		"-addr", "0.0.0.0:9999", "-store", "redis", "-redis-addrs", "10.0.0.1:7000, 10.0.0.2:7000,",
		"-redis-db", "3", "-redis-prefix", "app:", "-postgres-url", "host=db.internal dbname=app",
		"-idle", "10m", "-lifetime", "2h", "-remember", "168h", "-rotate", "1m", "-bind", "user-agent",
		"-transport", "header", "-secure=false",
	}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, Options{
		Addr:        "0.0.0.0:9999",
		Store:       "redis",
		RedisAddrs:  []string{"10.0.0.1:7000", "10.0.0.2:7000"},
		RedisDB:     3,
		RedisPrefix: "app:",
		PostgresURL: "host=db.internal dbname=app",
		Idle:        10 * time.Minute,
		Lifetime:    2 * time.Hour,
		Remember:    168 * time.Hour,
		Rotate:      time.Minute,
		Bind:        "user-agent",
		Transport:   "header",
		Secure:      false,
	}, o)
}

// TestMaxSessionsBoundsTheMemoryStore: -max-sessions is the memory
// store's session bound.
func TestMaxSessionsBoundsTheMemoryStore(t *testing.T) {
	o, err := Parse("demo", []string{"-max-sessions", "5"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, 5, o.MaxSessions)
	m, closeFn, err := NewManager(o, quiet())
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, closeFn()) })
	assert.Equal(t, 5, m.Config().Memory.MaxSessions)

	ctx := context.Background()
	commit := func(token string, fn func(*core.Session)) string {
		req := &core.Request{}
		if token != "" {
			req.Cookie = []string{m.Config().Cookie.Name + "=" + token}
		}
		s, err := m.Load(ctx, req)
		require.NoError(t, err)
		fn(s)
		res, err := m.Commit(ctx, s)
		require.NoError(t, err)
		if res.Cookie != nil {
			return res.Cookie.Value
		}
		return token
	}
	user := commit("", func(s *core.Session) { s.Login("ann") })
	first := commit("", func(s *core.Session) { require.NoError(t, s.Put("n", 1)) })
	for range 10 {
		commit("", func(s *core.Session) { require.NoError(t, s.Put("n", 1)) })
	}
	commit(first, func(s *core.Session) { assert.True(t, s.IsNew(), "the oldest anonymous session was evicted") })
	commit(user, func(s *core.Session) { assert.Equal(t, "ann", s.UserID(), "the logged-in session was kept") })
}

func TestParseRejects(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-store", "mongo"}, `-store "mongo"`},
		{[]string{"-transport", "query"}, `-transport "query"`},
		{[]string{"-addr", ""}, "-addr is empty"},
		{[]string{"-store", "redis", "-redis-addrs", " , "}, "-redis-addrs is empty"},
		{[]string{"-store", "redis", "-redis-db", "-1"}, "-redis-db -1 is negative"},
		{[]string{"-idle", "soon"}, "invalid value"},
		{[]string{"-bind", "weird"}, `-bind "weird": want none or user-agent`},
		{[]string{"-bind", ""}, `-bind "": want none or user-agent`},
		{[]string{"-remember", "0"}, "-remember 0s is not positive"},
		{[]string{"-remember", "-1h"}, "-remember -1h0m0s is not positive"},
		{[]string{"-remember", "forever"}, "invalid value"},
		{[]string{"-nope"}, "flag provided but not defined"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"-max-sessions", "-1"}, "-max-sessions -1 is negative"},
		{[]string{"-max-sessions", "many"}, "invalid value"},
		{[]string{"-store", "redis", "-max-sessions", "5"}, "-max-sessions is for -store memory only"},
		{[]string{"-store", "postgres", "-max-sessions", "5"}, "-max-sessions is for -store memory only"},
		{[]string{"-store", "postgres", "-postgres-url", " "}, "-postgres-url is empty"},
		{[]string{"-store", "postgres", "-postgres-url", "postgres://%zz"}, "-postgres-url: cannot parse"},
	} {
		var out bytes.Buffer
		_, err := Parse("demo", tc.args, &out)
		require.Error(t, err, "%v", tc.args)
		assert.Contains(t, out.String(), tc.want, "%v: the error is reported", tc.args)
		assert.Contains(t, out.String(), "Usage of demo", "%v: with the usage", tc.args)
	}
	_, err := Parse("demo", []string{"-h"}, io.Discard)
	assert.ErrorIs(t, err, flag.ErrHelp)
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestNewManagerDefaultsAreSecure(t *testing.T) {
	m, closeFn, err := NewManager(Defaults(), quiet())
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, closeFn()) })
	cfg := m.Config()
	assert.Equal(t, "__Host-session", cfg.Cookie.Name)
	assert.False(t, cfg.Cookie.Insecure)
	assert.Equal(t, core.TransportCookie, cfg.Transport)
	assert.Equal(t, 30*time.Minute, cfg.IdleTimeout)
	assert.Equal(t, 24*time.Hour, cfg.Lifetime)
	assert.Equal(t, 720*time.Hour, cfg.RememberLifetime)
	assert.Equal(t, 720*time.Hour, cfg.RememberIdleTimeout)
	assert.Zero(t, cfg.RotateAfter)
	assert.Nil(t, cfg.Binding, "-bind none")
}

func TestNewManagerFromFlags(t *testing.T) {
	o := Defaults()
	o.Secure, o.Transport, o.Idle, o.Lifetime, o.Rotate = false, TransportHeader, time.Minute, time.Hour, 10*time.Second
	o.Remember, o.Bind = 48*time.Hour, BindUserAgent
	m, closeFn, err := NewManager(o, quiet())
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, closeFn()) })
	cfg := m.Config()
	assert.True(t, cfg.Cookie.Insecure)
	assert.Equal(t, "session", cfg.Cookie.Name, "no __Host- prefix without Secure")
	assert.Equal(t, core.TransportHeader, cfg.Transport)
	assert.Equal(t, "Session-Token", cfg.HeaderName)
	assert.Equal(t, time.Minute, cfg.IdleTimeout)
	assert.Equal(t, time.Hour, cfg.Lifetime)
	assert.Equal(t, 10*time.Second, cfg.RotateAfter)
	assert.Equal(t, 48*time.Hour, cfg.RememberLifetime)
	assert.Equal(t, 48*time.Hour, cfg.RememberIdleTimeout)
	require.NotNil(t, cfg.Binding)
	assert.Equal(t, "curl/8", cfg.Binding(core.Client{UserAgent: "curl/8", IP: "10.0.0.1"}), "-bind user-agent binds by User-Agent only")
}

func TestMain(m *testing.M) { redistest.Main(m, pgtest.Setup()) }

// -store redis keeps sessions in the Redis at -redis-addrs, under
// -redis-prefix: standalone for one address, Cluster for several.
func TestNewManagerRedis(t *testing.T) {
	for name, addrs := range map[string]func() []string{
		"Standalone": func() []string { return []string{redistest.SharedStandalone(t).Addr()} },
		"Cluster":    func() []string { return redistest.SharedCluster(t).Addrs() },
	} {
		t.Run(name, func(t *testing.T) {
			o := Defaults()
			o.Store, o.RedisAddrs, o.RedisPrefix = StoreRedis, addrs(), redistest.Prefix(t)
			m, closeFn, err := NewManager(o, quiet())
			require.NoError(t, err)
			defer func() { require.NoError(t, closeFn()) }()
			ctx := context.Background()
			s, err := m.Load(ctx, &core.Request{})
			require.NoError(t, err)
			require.NoError(t, s.Put("count", 1))
			_, err = m.Commit(ctx, s)
			require.NoError(t, err)
			client, err := redisstore.NewClient(o.RedisAddrs, 0)
			require.NoError(t, err)
			defer client.Close()
			n, err := client.Exists(ctx, o.RedisPrefix+s.ID()).Result()
			require.NoError(t, err)
			assert.Equal(t, int64(1), n, "the session is in Redis under the prefix")
		})
	}
}

func TestNewManagerRedisUnreachable(t *testing.T) {
	o := Defaults()
	o.Store, o.RedisAddrs = StoreRedis, []string{"127.0.0.1:1"}
	m, closeFn, err := NewManager(o, quiet())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "redis at 127.0.0.1:1", "startup says which Redis is unreachable")
	assert.Nil(t, m)
	assert.Nil(t, closeFn)
}

// -store postgres keeps sessions in the database at -postgres-url, in
// tables the store creates there (the default schema and names).
func TestNewManagerPostgres(t *testing.T) {
	srv := pgtest.Shared(t)
	o := Defaults()
	o.Store, o.PostgresURL = StorePostgres, srv.DSN() // keyword=value, as -postgres-url also takes
	m, closeFn, err := NewManager(o, quiet())
	require.NoError(t, err)
	ctx := context.Background()
	s, err := m.Load(ctx, &core.Request{})
	require.NoError(t, err)
	require.NoError(t, s.Put("count", 1))
	_, err = m.Commit(ctx, s)
	require.NoError(t, err)
	require.NoError(t, closeFn())

	pool, err := pgstore.NewPool(ctx, srv.URL())
	require.NoError(t, err)
	defer pool.Close()
	sessions, _ := pgstore.Options{}.Tables()
	var n int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM "+sessions+" WHERE id = $1", s.ID()).Scan(&n))
	assert.Equal(t, 1, n, "the session is in the store's table")
}

func TestNewManagerPostgresUnreachable(t *testing.T) {
	o := Defaults()
	o.Store, o.PostgresURL = StorePostgres, "postgres://app:secret-password@127.0.0.1:1/app?sslmode=disable"
	m, closeFn, err := NewManager(o, quiet())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "postgres at 127.0.0.1:1/app", "startup says which database is unreachable")
	assert.NotContains(t, err.Error(), "secret-password", "and never the password")
	assert.Nil(t, m)
	assert.Nil(t, closeFn)
}

func TestNewManagerBadTimeouts(t *testing.T) {
	o := Defaults()
	o.Idle, o.Lifetime = time.Hour, time.Minute
	_, _, err := NewManager(o, quiet())
	assert.ErrorIs(t, err, core.ErrConfig)

	o = Defaults()
	o.Rotate = -time.Second
	_, _, err = NewManager(o, quiet())
	assert.ErrorIs(t, err, core.ErrConfig)

	o = Defaults()
	o.Store = "disk"
	_, _, err = NewManager(o, quiet())
	assert.ErrorContains(t, err, `-store "disk"`)
}

func TestListSessions(t *testing.T) {
	created := time.Date(2025, 3, 1, 10, 0, 0, 0, time.FixedZone("CET", 3600))
	a := core.SessionInfo{ID: "aa", CreatedAt: created, LastSeen: created.Add(time.Minute), ExpiresAt: created.Add(time.Hour), UserAgent: "curl/8", IP: "127.0.0.1"}
	b := core.SessionInfo{ID: "bb", CreatedAt: created, LastSeen: created, ExpiresAt: created.Add(2 * time.Hour), UserAgent: "Firefox", IP: "::1"}

	got := ListSessions([]core.SessionInfo{a, b}, "bb")
	assert.Equal(t, Sessions{Sessions: []Session{
		{ID: "aa", Current: false, CreatedAt: "2025-03-01T09:00:00Z", LastSeen: "2025-03-01T09:01:00Z", ExpiresAt: "2025-03-01T10:00:00Z", UserAgent: "curl/8", IP: "127.0.0.1"},
		{ID: "bb", Current: true, CreatedAt: "2025-03-01T09:00:00Z", LastSeen: "2025-03-01T09:00:00Z", ExpiresAt: "2025-03-01T11:00:00Z", UserAgent: "Firefox", IP: "::1"},
	}}, got)

	none := ListSessions(nil, "")
	assert.NotNil(t, none.Sessions, "an empty list is [] in JSON, not null")
	assert.Empty(t, none.Sessions)

	assert.False(t, ListSessions([]core.SessionInfo{{ID: ""}}, "").Sessions[0].Current,
		"an unsaved session is current to nothing")
}

func newSession(t *testing.T) *core.Session {
	t.Helper()
	m, err := core.New(core.Config{Logger: quiet()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	s, err := m.Load(context.Background(), &core.Request{})
	require.NoError(t, err)
	return s
}

func TestCounter(t *testing.T) {
	s := newSession(t)
	n, err := ReadCount(s)
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.False(t, s.Has(CountKey), "reading creates nothing")

	for want := int64(1); want <= 3; want++ {
		n, err = Increment(s)
		require.NoError(t, err)
		assert.Equal(t, want, n)
	}
	stored, ok := core.Get[int64](s, CountKey)
	require.True(t, ok, "stored as an integer")
	assert.Equal(t, int64(3), stored)

	require.NoError(t, s.Put(CountKey, "41"))
	n, err = Increment(s)
	require.NoError(t, err)
	assert.Equal(t, int64(42), n, "a text that is an integer counts")

	require.NoError(t, s.Put(CountKey, "many"))
	_, err = ReadCount(s)
	assert.ErrorIs(t, err, ErrCountNotNumber)
	_, err = Increment(s)
	assert.ErrorIs(t, err, ErrCountNotNumber)
	got, _ := core.Get[string](s, CountKey)
	assert.Equal(t, "many", got, "a failed increment leaves the value alone")

	require.NoError(t, s.Put(CountKey, int64(math.MaxInt64)))
	_, err = Increment(s)
	assert.True(t, errors.Is(err, ErrCountOverflow))
}

func TestChecks(t *testing.T) {
	u, err := CheckUser("  alice \n")
	require.NoError(t, err)
	assert.Equal(t, "alice", u)
	_, err = CheckUser(" \t")
	assert.ErrorIs(t, err, ErrUserRequired)
	_, err = CheckUser(string(bytes.Repeat([]byte("a"), MaxUserBytes+1)))
	assert.ErrorIs(t, err, ErrUserTooLong)
	_, err = CheckUser("bad\xff")
	assert.ErrorIs(t, err, ErrUserNotText)

	assert.NoError(t, CheckValue([]byte("héllo")))
	assert.NoError(t, CheckValue(nil))
	assert.ErrorIs(t, CheckValue([]byte{0xff, 0xfe}), ErrBodyNotText)
}

func TestExitCode(t *testing.T) {
	var out bytes.Buffer
	assert.Equal(t, 0, exitCode("demo", nil, &out), "a signal")
	assert.Equal(t, 0, exitCode("demo", flag.ErrHelp, &out), "-h")
	assert.Equal(t, 2, exitCode("demo", fmt.Errorf("%w: %w", ErrUsage, errors.New("bad flag")), &out))
	assert.Empty(t, out.String(), "the flag package has reported a usage error already")
	assert.Equal(t, 1, exitCode("demo", errors.New("listen tcp: address already in use"), &out))
	assert.Equal(t, "demo: listen tcp: address already in use\n", out.String())
}

func TestAnswer(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
		body   string
		ok     bool
	}{
		{ErrUserRequired, 400, MsgUserRequired, true},
		{ErrUserTooLong, 400, MsgUserTooLong, true},
		{ErrUserNotText, 400, MsgUserNotText, true},
		{ErrBodyNotText, 400, MsgBodyNotText, true},
		{ErrBadForm, 400, MsgBadForm, true},
		{ErrBadPath, 400, MsgBadPath, true},
		{FormError(errors.New(`invalid URL escape "%zz"`)), 400, MsgBadForm, true},
		{ErrNotLoggedIn, 401, MsgNotLoggedIn, true},
		{ErrNoSuchSession, 404, MsgNoSuchSession, true},
		{NoValue(`a"b`), 404, `no value named "a\"b"`, true},
		{ErrCountNotNumber, 409, MsgCountNotNumber, true},
		{ErrCountOverflow, 409, MsgCountOverflow, true},
		{ErrBodyTooLarge, 413, MsgBodyTooLarge, true},
		{&http.MaxBytesError{Limit: MaxBodyBytes}, 413, MsgBodyTooLarge, true},
		{FormError(fmt.Errorf("read: %w", &http.MaxBytesError{Limit: MaxBodyBytes})), 413, MsgBodyTooLarge, true},
		{fmt.Errorf("list: %w: %w", core.ErrStore, errors.New("connection refused")), 503, MsgStoreUnavailable, true},
		{errors.New("boom"), 500, MsgInternal, false},
	} {
		status, body, ok := Answer(fmt.Errorf("wrapped: %w", tc.err))
		assert.Equal(t, tc.status, status, "%v", tc.err)
		assert.Equal(t, ErrorOf(tc.body), body, "%v", tc.err)
		assert.Equal(t, tc.ok, ok, "%v", tc.err)
	}
}

func TestPathParam(t *testing.T) {
	for escaped, want := range map[string]string{
		"a%2Fb": "a/b", "a+b": "a+b", "a%20b": "a b", "%C3%A9": "é", "50%25": "50%", "plain": "plain",
	} {
		got, err := PathParam(escaped)
		require.NoError(t, err, escaped)
		assert.Equal(t, want, got, escaped)
	}
	for _, bad := range []string{"%zz", "%", "a%2"} {
		_, err := PathParam(bad)
		assert.ErrorIs(t, err, ErrBadPath, bad)
	}
}
