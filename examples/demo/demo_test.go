package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
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
		Addr:                "127.0.0.1:8080",
		Store:               "memory",
		RedisAddrs:          []string{"127.0.0.1:6379"},
		RedisDB:             0,
		RedisPrefix:         "session:",
		RedisCache:          false,
		RedisCacheStaleness: time.Second,
		PostgresURL:         "postgres://127.0.0.1:5432/postgres",
		Idle:                30 * time.Minute,
		Lifetime:            24 * time.Hour,
		Remember:            720 * time.Hour,
		Rotate:              0,
		Bind:                "none",
		Transport:           "cookie",
		Secure:              true,
	}, o)
	assert.Equal(t, Defaults(), o)
}

func TestParseEveryFlag(t *testing.T) {
	o, err := Parse("demo", []string{
		"-addr", "0.0.0.0:9999", "-store", "redis", "-redis-addrs", "10.0.0.1:7000, 10.0.0.2:7000,",
		"-redis-db", "3", "-redis-prefix", "app:", "-redis-cache", "-redis-cache-staleness", "250ms", "-postgres-url", "host=db.internal dbname=app",
		"-idle", "10m", "-lifetime", "2h", "-remember", "168h", "-rotate", "1m", "-bind", "user-agent",
		"-transport", "header", "-secure=false",
	}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, Options{
		Addr:                "0.0.0.0:9999",
		Store:               "redis",
		RedisAddrs:          []string{"10.0.0.1:7000", "10.0.0.2:7000"},
		RedisDB:             3,
		RedisPrefix:         "app:",
		RedisCache:          true,
		RedisCacheStaleness: 250 * time.Millisecond,
		PostgresURL:         "host=db.internal dbname=app",
		Idle:                10 * time.Minute,
		Lifetime:            2 * time.Hour,
		Remember:            168 * time.Hour,
		Rotate:              time.Minute,
		Bind:                "user-agent",
		Transport:           "header",
		Secure:              false,
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
	var anonymous []string
	for range 11 {
		anonymous = append(anonymous, commit("", func(s *core.Session) { require.NoError(t, s.Put("n", 1)) }))
	}
	// The store evicts by an approximate LRU (a CLOCK per shard), so which
	// anonymous sessions go is not fixed; how many stay is.
	alive := 0
	for _, tok := range anonymous {
		commit(tok, func(s *core.Session) {
			if !s.IsNew() {
				alive++
			}
		})
	}
	assert.LessOrEqual(t, alive, 4, "more sessions than -max-sessions 5 (with the logged-in one)")
	assert.NotZero(t, alive, "every anonymous session was evicted")
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
		{[]string{"-redis-cache"}, "-redis-cache is for -store redis only"},
		{[]string{"-store", "postgres", "-redis-cache"}, "-redis-cache is for -store redis only"},
		{[]string{"-store", "redis", "-redis-cache-staleness", "2s"}, "-redis-cache-staleness is for -redis-cache only"},
		{[]string{"-store", "redis", "-redis-cache", "-redis-cache-staleness", "0"}, "-redis-cache-staleness 0s: want above 0 and at most 1m0s"},
		{[]string{"-store", "redis", "-redis-cache", "-redis-cache-staleness", "-1s"}, "-redis-cache-staleness -1s: want above 0"},
		{[]string{"-store", "redis", "-redis-cache", "-redis-cache-staleness", "61s"}, "-redis-cache-staleness 1m1s: want above 0 and at most 1m0s"},
		{[]string{"-store", "redis", "-redis-cache", "-redis-cache-staleness", "soon"}, "invalid value"},
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

// TestSessionList: GET /sessions renders core.SessionInfo as it is, times
// RFC 3339 as encoding/json writes them, and never a null list.
func TestSessionList(t *testing.T) {
	created := time.Date(2025, 3, 1, 9, 0, 0, 500_000_000, time.UTC)
	list := []core.SessionInfo{
		{ID: "aa", CreatedAt: created, LastSeen: created.Add(time.Minute), ExpiresAt: created.Add(time.Hour), UserAgent: "curl/8", IP: "127.0.0.1", UserID: "ann"},
		{ID: "bb", Current: true, CreatedAt: created, LastSeen: created, ExpiresAt: created.Add(720 * time.Hour), UserAgent: "Firefox", IP: "::1", Label: "Work laptop", Remembered: true},
	}
	b, err := json.Marshal(SessionList(list))
	require.NoError(t, err)
	assert.JSONEq(t, `{"sessions":[
		{"id":"aa","current":false,"created_at":"2025-03-01T09:00:00.5Z","last_seen":"2025-03-01T09:01:00.5Z","expires_at":"2025-03-01T10:00:00.5Z","user_agent":"curl/8","ip":"127.0.0.1","label":"","remembered":false},
		{"id":"bb","current":true,"created_at":"2025-03-01T09:00:00.5Z","last_seen":"2025-03-01T09:00:00.5Z","expires_at":"2025-03-31T09:00:00.5Z","user_agent":"Firefox","ip":"::1","label":"Work laptop","remembered":true}
	]}`, string(b), "the user id is not rendered")

	b, err = json.Marshal(SessionList(nil))
	require.NoError(t, err)
	assert.Equal(t, `{"sessions":[]}`, string(b), "an empty list is [] in JSON, not null")
}

func TestLoginOptions(t *testing.T) {
	for _, on := range []string{"1", "true", "on"} {
		assert.True(t, LoginOptions(on, "").Remember, on)
	}
	for _, off := range []string{"", "0", "false", "off", "yes", "TRUE", " on"} {
		assert.False(t, LoginOptions(off, "").Remember, off)
	}
	assert.Equal(t, "Work laptop", LoginOptions("", "  Work laptop\t").Label)
	assert.Empty(t, LoginOptions("", " ").Label)
	assert.Contains(t, MsgLabelInvalid, strconv.Itoa(core.MaxLabelLength), "the message says core's limit")

	s := newSession(t)
	err := s.LoginWith("ann", LoginOptions("1", strings.Repeat("é", core.MaxLabelLength+1)))
	require.ErrorIs(t, err, core.ErrLoginOptions)
	status, body, ok := Answer(err)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, ErrorOf(MsgLabelInvalid), body)
	assert.True(t, ok)
	assert.Empty(t, s.UserID(), "a refused login changes nothing")
	require.NoError(t, s.LoginWith("ann", LoginOptions("on", strings.Repeat("é", core.MaxLabelLength))))
	assert.True(t, s.Remembered())
}

func TestCrossOrigin(t *testing.T) {
	cop := CrossOriginProtection()
	for _, tc := range []struct {
		method, host, site, origin string
		refused                    bool
	}{
		{"POST", "app.test", "", "", false},
		{"POST", "app.test", "same-origin", "", false},
		{"POST", "app.test", "none", "", false},
		{"POST", "app.test", "cross-site", "", true},
		{"POST", "app.test", "same-site", "", true},
		{"DELETE", "app.test", "cross-site", "https://app.test", true},
		{"PUT", "app.test", "", "https://app.test", false},
		{"PUT", "app.test:8080", "", "http://app.test:8080", false},
		{"PUT", "app.test", "", "https://evil.test", true},
		{"POST", "app.test", "", "null", true},
		{"GET", "app.test", "cross-site", "https://evil.test", false},
		{"HEAD", "app.test", "cross-site", "", false},
		{"OPTIONS", "app.test", "cross-site", "", false},
	} {
		err := CheckCrossOriginOf(cop, tc.method, tc.host, tc.site, tc.origin)
		r := &http.Request{Method: tc.method, Host: tc.host, Header: http.Header{}}
		if tc.site != "" {
			r.Header.Set("Sec-Fetch-Site", tc.site)
		}
		if tc.origin != "" {
			r.Header.Set("Origin", tc.origin)
		}
		assert.Equal(t, err, CheckCrossOrigin(cop, r), "%+v: the fasthttp form agrees", tc)
		if !tc.refused {
			assert.NoError(t, err, "%+v", tc)
			continue
		}
		require.ErrorIs(t, err, ErrCrossOrigin, "%+v", tc)
		status, body, ok := Answer(err)
		assert.Equal(t, http.StatusForbidden, status)
		assert.Equal(t, ErrorOf(MsgCrossOrigin), body)
		assert.True(t, ok)
	}
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
		{ErrCrossOrigin, 403, MsgCrossOrigin, true},
		{fmt.Errorf("%w: label: control character", core.ErrLoginOptions), 400, MsgLabelInvalid, true},
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

// -redis-cache gives the store a near cache with -redis-cache-staleness
// as its MaxStaleness, and the close function stops it (its tracking
// connections) before it closes the client.
func TestNewManagerRedisCache(t *testing.T) {
	for name, addrs := range map[string]func() []string{
		"Standalone": func() []string { return []string{redistest.SharedStandalone(t).Addr()} },
		"Cluster":    func() []string { return redistest.SharedCluster(t).Addrs() },
	} {
		t.Run(name, func(t *testing.T) {
			o := Defaults()
			o.Store, o.RedisAddrs, o.RedisPrefix = StoreRedis, addrs(), redistest.Prefix(t)
			o.RedisCache, o.RedisCacheStaleness = true, 5*time.Second
			require.NotEmpty(t, o.RedisAddrs[0], "a server the test started")
			m, closeFn, err := NewManager(o, quiet())
			require.NoError(t, err)
			st, ok := m.Config().Store.(*redisstore.Store)
			require.True(t, ok, "%T", m.Config().Store)
			require.Eventually(t, func() bool { return st.CacheStats().Tracking }, 10*time.Second, 5*time.Millisecond,
				"tracking: %v", st.CacheStats().TrackingError)

			ctx := context.Background()
			s, err := m.Load(ctx, &core.Request{})
			require.NoError(t, err)
			require.NoError(t, s.Put("count", 1))
			res, err := m.Commit(ctx, s)
			require.NoError(t, err)
			require.NotNil(t, res.Cookie)
			// A Load once the invalidation of the Commit's own write has come
			// back is served from the cache.
			req := &core.Request{Cookie: []string{res.Cookie.Name + "=" + res.Cookie.Value}}
			for deadline := time.Now().Add(5 * time.Second); st.CacheStats().Hits == 0; time.Sleep(time.Millisecond) {
				require.True(t, time.Now().Before(deadline), "a Load served from the cache: %+v", st.CacheStats())
				s, err := m.Load(ctx, req)
				require.NoError(t, err)
				require.False(t, s.IsNew(), "the session committed")
			}

			require.NoError(t, closeFn())
			assert.False(t, st.CacheStats().Tracking, "the close function stopped the cache")
		})
	}
}
