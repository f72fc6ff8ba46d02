package core_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/stores/memstore"
)

type fixture struct {
	m      *core.Manager
	now    time.Time
	mu     sync.Mutex
	events []core.Event
	logs   *bytes.Buffer
}

func newFixture(t *testing.T, tweak func(*core.Config)) *fixture {
	f := &fixture{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), logs: &bytes.Buffer{}}
	cfg := core.Config{
		Now:    func() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now },
		Logger: slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		OnEvent: func(_ context.Context, e core.Event) {
			f.mu.Lock()
			f.events = append(f.events, e)
			f.mu.Unlock()
		},
	}
	if tweak != nil {
		tweak(&cfg)
	}
	m, err := core.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	f.m = m
	return f
}

func (f *fixture) advance(d time.Duration) { f.mu.Lock(); f.now = f.now.Add(d); f.mu.Unlock() }

// request loads the session for token (may be ""), runs fn, commits, and
// returns the token the client holds afterwards.
func (f *fixture) request(t *testing.T, token string, fn func(*core.Session)) string {
	t.Helper()
	_, tok := f.exchange(t, "test-agent", token, fn)
	return tok
}

func TestValuesAreSnapshots(t *testing.T) {
	f := newFixture(t, nil)
	roles := []string{"reader"}
	tok := f.request(t, "", func(s *core.Session) {
		require.NoError(t, s.Put("roles", roles))
		roles[0] = "admin" // mutating after Put changes nothing
	})
	f.request(t, tok, func(s *core.Session) {
		got, ok := core.Get[[]string](s, "roles")
		require.True(t, ok)
		assert.Equal(t, []string{"reader"}, got)
		got[0] = "admin" // mutating what Get returned changes nothing either
		again, _ := core.Get[[]string](s, "roles")
		assert.Equal(t, []string{"reader"}, again)
	})
}

func TestSessionOperations(t *testing.T) {
	f := newFixture(t, nil)
	tok := f.request(t, "", func(s *core.Session) {
		assert.True(t, s.IsNew())
		require.NoError(t, s.Put("a", 1))
		require.NoError(t, s.Put("b", "two"))
		require.NoError(t, s.Put("flash", "hello"))
		assert.Equal(t, []string{"a", "b", "flash"}, s.Keys())
	})
	f.request(t, tok, func(s *core.Session) {
		assert.False(t, s.IsNew())
		assert.True(t, s.Has("a"))
		msg, err := core.Pop[string](context.Background(), s, "flash")
		require.NoError(t, err)
		assert.Equal(t, "hello", msg)
		assert.False(t, s.Has("flash"))
		s.Delete("b")
		_, err = core.Lookup[string](s, "b")
		assert.ErrorIs(t, err, core.ErrNoValue)
		_, err = core.Lookup[string](s, "a")
		assert.ErrorIs(t, err, core.ErrDecode, "an int is not a string")
	})
	f.request(t, tok, func(s *core.Session) {
		assert.Equal(t, []string{"a"}, s.Keys(), "Pop and Delete were saved")
		s.Clear()
		assert.Empty(t, s.Keys())
	})
	f.request(t, tok, func(s *core.Session) {
		assert.Empty(t, s.Keys(), "Clear was saved")
		assert.False(t, s.IsNew(), "an emptied session still exists")
	})
}

func TestDestroyThenPutStartsNewSession(t *testing.T) {
	f := newFixture(t, nil)
	tok := f.request(t, "", func(s *core.Session) { _ = s.Put("a", 1) })
	s, err := f.m.Load(context.Background(), &core.Request{Cookie: []string{"__Host-session=" + tok}})
	require.NoError(t, err)
	s.Destroy()
	_ = s.Put("flash", "bye")
	res, err := f.m.Commit(context.Background(), s)
	require.NoError(t, err)
	require.NotNil(t, res.Cookie)
	assert.NotEqual(t, tok, res.Cookie.Value, "a new token for the new session")
	f.request(t, tok, func(s *core.Session) { assert.True(t, s.IsNew(), "old session destroyed") })
	f.request(t, res.Cookie.Value, func(s *core.Session) {
		v, _ := core.Get[string](s, "flash")
		assert.Equal(t, "bye", v)
		assert.False(t, s.Has("a"))
	})
}

func TestLoginResetsLifetimeAndRecordsClient(t *testing.T) {
	f := newFixture(t, func(c *core.Config) { c.Lifetime = 2 * time.Hour; c.IdleTimeout = time.Hour })
	tok := f.request(t, "", func(s *core.Session) { _ = s.Put("a", 1) })
	f.advance(50 * time.Minute)
	tok = f.request(t, tok, func(s *core.Session) { s.Login("ann") })
	f.advance(50 * time.Minute)
	f.request(t, tok, nil)
	f.advance(50 * time.Minute) // 150m after creation, 100m after login
	f.request(t, tok, func(s *core.Session) {
		assert.Equal(t, "ann", s.UserID(), "lifetime restarted at login")
	})
	list, err := f.m.ListSessions(context.Background(), "ann")
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, "test-agent", list[0].UserAgent)
	assert.Equal(t, "192.0.2.1", list[0].IP)
	assert.Equal(t, sha(tok), list[0].ID, "the listed id is the hash, not the token")
	f.advance(31 * time.Minute) // 121m after login
	f.request(t, tok, func(s *core.Session) { assert.True(t, s.IsNew(), "absolute lifetime over") })
}

func TestRevokeOnlyOwnSessions(t *testing.T) {
	f := newFixture(t, nil)
	ann := f.request(t, "", func(s *core.Session) { s.Login("ann") })
	bob := f.request(t, "", func(s *core.Session) { s.Login("bob") })
	ctx := context.Background()
	ok, err := f.m.RevokeSession(ctx, "ann", sha(bob))
	require.NoError(t, err)
	assert.False(t, ok, "ann cannot revoke bob's session")
	f.request(t, bob, func(s *core.Session) { assert.Equal(t, "bob", s.UserID()) })
	ok, err = f.m.RevokeSession(ctx, "ann", "../../etc")
	require.NoError(t, err)
	assert.False(t, ok)
	ok, err = f.m.RevokeSession(ctx, "ann", sha(ann))
	require.NoError(t, err)
	assert.True(t, ok)
	f.request(t, ann, func(s *core.Session) { assert.True(t, s.IsNew()) })
}

func TestMaxSessionsPerUserEvictsOldest(t *testing.T) {
	f := newFixture(t, func(c *core.Config) { c.MaxSessionsPerUser = 2 })
	var toks []string
	for i := 0; i < 3; i++ {
		toks = append(toks, f.request(t, "", func(s *core.Session) { s.Login("ann") }))
		f.advance(time.Minute)
	}
	list, err := f.m.ListSessions(context.Background(), "ann")
	require.NoError(t, err)
	assert.Len(t, list, 2)
	f.request(t, toks[0], func(s *core.Session) { assert.True(t, s.IsNew(), "the oldest was evicted") })
	f.request(t, toks[2], func(s *core.Session) { assert.Equal(t, "ann", s.UserID()) })
	assert.Equal(t, 1, f.count(core.EventRevoked))
}

func TestLateChanges(t *testing.T) {
	f := newFixture(t, nil)
	tok := f.request(t, "", func(s *core.Session) { _ = s.Put("a", 1) })
	ctx := context.Background()
	s, err := f.m.Load(ctx, &core.Request{Cookie: []string{"__Host-session=" + tok}})
	require.NoError(t, err)
	_, err = f.m.Commit(ctx, s) // headers go out
	require.NoError(t, err)
	_ = s.Put("late", true)
	_, err = f.m.Commit(ctx, s) // end of request
	require.NoError(t, err)
	f.request(t, tok, func(s *core.Session) { assert.True(t, s.Has("late"), "saved: the token did not need to change") })

	s, _ = f.m.Load(ctx, &core.Request{Cookie: []string{"__Host-session=" + tok}})
	_, _ = f.m.Commit(ctx, s)
	s.Login("ann")
	_, err = f.m.Commit(ctx, s)
	assert.ErrorIs(t, err, core.ErrHeadersWritten, "a login after the headers cannot deliver its token")
	assert.Equal(t, 1, f.count(core.EventWriteDropped))
	assert.Contains(t, f.logs.String(), "write_dropped", "and it is logged")
	f.request(t, tok, func(s *core.Session) { assert.Empty(t, s.UserID(), "no login without a new token") })
}

func TestNoRawTokenInLogsOrEvents(t *testing.T) {
	f := newFixture(t, func(c *core.Config) { c.RotateAfter = time.Minute })
	tok := f.request(t, "", func(s *core.Session) { _ = s.Put("a", 1) })
	tok2 := f.request(t, tok, func(s *core.Session) { s.Login("ann") })
	f.advance(2 * time.Minute)
	tok3 := f.request(t, tok2, nil) // rotates
	f.request(t, tok3, func(s *core.Session) { s.Destroy() })
	f.request(t, tok3, nil)            // unknown token
	f.request(t, tok3[:40]+"!!!", nil) // malformed token
	_, _ = f.m.RevokeAll(context.Background(), "ann", "")
	require.NotEqual(t, tok2, tok3)
	logs := f.logs.String()
	for _, k := range []string{"created", "renewed", "rotated", "destroyed", "invalid_token"} {
		assert.Contains(t, logs, `"event":"`+k+`"`)
	}
	for _, secret := range []string{tok, tok2, tok3, tok3[:40]} {
		assert.NotContains(t, logs, secret, "raw token in a log line")
		for _, e := range f.events {
			assert.NotContains(t, e.SessionID+e.Successor+errString(e.Err), secret, "raw token in an event")
		}
	}
	assert.Contains(t, logs, sha(tok)[:16], "logs carry the hash prefix")
}

func TestResultApply(t *testing.T) {
	f := newFixture(t, nil)
	s, err := f.m.Load(context.Background(), &core.Request{})
	require.NoError(t, err)
	_ = s.Put("a", 1)
	res, err := f.m.Commit(context.Background(), s)
	require.NoError(t, err)
	h := http.Header{}
	res.Apply(h)
	assert.Equal(t, "no-store", h.Get("Cache-Control"))
	assert.Equal(t, "Cookie", h.Get("Vary"))
	sc := h.Get("Set-Cookie")
	for _, attr := range []string{"__Host-session=", "Path=/", "HttpOnly", "Secure", "SameSite=Lax"} {
		assert.Contains(t, sc, attr)
	}
	assert.NotContains(t, strings.ToLower(sc), "max-age")
	assert.NotContains(t, strings.ToLower(sc), "domain")
	empty := core.Result{}
	h = http.Header{}
	empty.Apply(h)
	assert.Empty(t, h, "nothing to send, nothing written")
}

// TestResultApplyKeepsTheAppsHeaders: Apply adds to what the handler set
// (its own cookies, its Vary) and replaces only Cache-Control; the headers
// it writes stay independent, so appending to one never changes another.
func TestResultApplyKeepsTheAppsHeaders(t *testing.T) {
	f := newFixture(t, func(c *core.Config) { c.Transport = core.TransportBoth })
	s, err := f.m.Load(context.Background(), &core.Request{})
	require.NoError(t, err)
	_ = s.Put("a", 1)
	res, err := f.m.Commit(context.Background(), s)
	require.NoError(t, err)

	h := http.Header{}
	h.Add("Set-Cookie", "theme=dark")
	h.Add("Vary", "Accept-Encoding")
	h.Set("Cache-Control", "public, max-age=60")
	res.Apply(h)
	require.Len(t, h.Values("Set-Cookie"), 2)
	assert.Equal(t, "theme=dark", h.Values("Set-Cookie")[0])
	assert.True(t, strings.HasPrefix(h.Values("Set-Cookie")[1], "__Host-session="))
	assert.Equal(t, []string{"Accept-Encoding", "Cookie", "Authorization"}, h.Values("Vary"))
	assert.Equal(t, []string{"no-store"}, h.Values("Cache-Control"), "a session response is never cached")
	assert.Equal(t, s.ID(), sha(h.Get("Session-Token")), "the header carries the token")

	fresh := http.Header{}
	res.Apply(fresh)
	fresh.Add("Set-Cookie", "late=1")
	fresh.Add("Cache-Control", "private")
	assert.Equal(t, []string{"Cookie", "Authorization"}, fresh.Values("Vary"), "an append to one header changed another")
	assert.Equal(t, []string{"no-store", "private"}, fresh.Values("Cache-Control"))
	assert.Len(t, fresh.Values("Set-Cookie"), 2)
}

func (f *fixture) count(k core.EventKind) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, e := range f.events {
		if e.Kind == k {
			n++
		}
	}
	return n
}

func sha(tok string) string {
	s := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(s[:])
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// A request that loaded the session before another request rotated it
// still lands its late write, in the rotated session.
func TestWriteFollowsRotation(t *testing.T) {
	f := newFixture(t, func(c *core.Config) { c.RotateAfter = time.Hour; c.IdleTimeout = 2 * time.Hour })
	ctx := context.Background()
	old := f.request(t, "", func(s *core.Session) { _ = s.Put("a", 1) })
	slow, err := f.m.Load(ctx, &core.Request{Cookie: []string{"__Host-session=" + old}})
	require.NoError(t, err)
	_, err = f.m.Commit(ctx, slow) // headers out, rotation not due yet
	require.NoError(t, err)

	f.advance(61 * time.Minute)
	rotated := f.request(t, old, nil)
	require.NotEqual(t, old, rotated, "the second request rotated")

	_ = slow.Put("late", "kept")
	_, err = f.m.Commit(ctx, slow)
	require.NoError(t, err)
	f.request(t, rotated, func(s *core.Session) {
		v, _ := core.Get[string](s, "late")
		assert.Equal(t, "kept", v, "the write followed the rotation")
	})
	assert.Zero(t, f.count(core.EventWriteDropped))
}

// A renewal racing a revocation never brings the revoked session's values
// back under a new token.
func TestRenewAfterRevokeDoesNotResurrect(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	tok := f.request(t, "", func(s *core.Session) { s.Login("ann"); _ = s.Put("role", "admin") })
	s, err := f.m.Load(ctx, &core.Request{Cookie: []string{"__Host-session=" + tok}})
	require.NoError(t, err)
	n, err := f.m.RevokeAll(ctx, "ann", "") // log out everywhere, mid-request
	require.NoError(t, err)
	require.Equal(t, 1, n)
	s.Renew()
	res, err := f.m.Commit(ctx, s)
	require.NoError(t, err, "someone else's revocation is not this request's failure")
	assert.Nil(t, res.Cookie, "no new token for a revoked session")
	list, err := f.m.ListSessions(ctx, "ann")
	require.NoError(t, err)
	assert.Empty(t, list, "nothing came back")
	assert.Equal(t, 1, f.count(core.EventWriteDropped))
}

func TestSessionRevokeHelpers(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	a := f.request(t, "", func(s *core.Session) { s.Login("ann") })
	b := f.request(t, "", func(s *core.Session) { s.Login("ann") })
	c := f.request(t, "", func(s *core.Session) { s.Login("ann") })
	eve := f.request(t, "", func(s *core.Session) { s.Login("eve") })

	f.request(t, a, func(s *core.Session) {
		ok, err := s.Revoke(ctx, sha(eve))
		require.NoError(t, err)
		assert.False(t, ok, "not ann's session")
		ok, err = s.Revoke(ctx, sha(b))
		require.NoError(t, err)
		assert.True(t, ok)
	})
	f.request(t, b, func(s *core.Session) { assert.True(t, s.IsNew(), "b revoked") })
	f.request(t, eve, func(s *core.Session) { assert.Equal(t, "eve", s.UserID(), "eve untouched") })

	s, err := f.m.Load(ctx, &core.Request{Cookie: []string{"__Host-session=" + a}})
	require.NoError(t, err)
	n, err := s.RevokeOthers(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "c, not a itself")
	ok, err := s.Revoke(ctx, s.ID())
	require.NoError(t, err)
	assert.True(t, ok, "revoking yourself is a logout")
	res, err := f.m.Commit(ctx, s)
	require.NoError(t, err)
	require.NotNil(t, res.Cookie)
	assert.Less(t, res.Cookie.MaxAge, 0, "and the cookie is cleared")
	for _, tok := range []string{a, c} {
		f.request(t, tok, func(s *core.Session) { assert.True(t, s.IsNew()) })
	}
}

func TestRotateGraceDefault(t *testing.T) {
	m, err := core.New(core.Config{RotateAfter: 4 * time.Second})
	require.NoError(t, err, "a short rotation period is valid")
	assert.Equal(t, 2*time.Second, m.Config().RotateGrace, "half the period when that is under 5s")
	require.NoError(t, m.Close())
	m, err = core.New(core.Config{RotateAfter: time.Hour})
	require.NoError(t, err)
	assert.Equal(t, 5*time.Second, m.Config().RotateGrace)
	require.NoError(t, m.Close())
}

func TestInvalidTokenLogLevels(t *testing.T) {
	f := newFixture(t, nil)
	tok := f.request(t, "", func(s *core.Session) { _ = s.Put("a", 1) })
	f.request(t, tok, func(s *core.Session) { s.Destroy() })
	f.logs.Reset()
	f.request(t, tok, nil) // well-formed, unknown: the aftermath of a logout
	assert.Contains(t, f.logs.String(), `"level":"INFO"`)
	f.logs.Reset()
	f.request(t, "not-a-token", nil)
	assert.Contains(t, f.logs.String(), `"level":"WARN"`, "malformed tokens stay at Warn")
}

// A read-only request's commit writes nothing and does not even read the
// clock (a measurable cost on virtualised clocks).
func TestReadOnlyCommitIsFree(t *testing.T) {
	var reads atomic.Int64
	st := memstore.New(memstore.Options{})
	defer st.Close()
	f := newFixture(t, func(c *core.Config) { c.Store = st })
	tok := f.request(t, "", func(s *core.Session) { _ = s.Put("a", 1) })
	m, err := core.New(core.Config{
		Store:  st,
		Now:    func() time.Time { reads.Add(1); return f.now },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err)
	ctx := context.Background()
	s, err := m.Load(ctx, &core.Request{Cookie: []string{"__Host-session=" + tok}})
	require.NoError(t, err)
	require.False(t, s.IsNew(), "the session was loaded from the shared store")
	v, _ := core.Get[int](s, "a")
	require.Equal(t, 1, v)
	before := reads.Load()
	res, err := m.Commit(ctx, s)
	require.NoError(t, err)
	assert.False(t, res.Changed())
	assert.Equal(t, before, reads.Load(), "a clean commit read the clock")
}

// NewContext carries the session through any number of derived contexts,
// keeps the parent's values and cancellation, and works when called again
// with another parent.
func TestNewContext(t *testing.T) {
	type key string
	m, err := core.New(core.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	defer m.Close()
	s, err := m.Load(context.Background(), &core.Request{})
	require.NoError(t, err)

	parent, cancel := context.WithCancel(context.WithValue(context.Background(), key("k"), "v"))
	ctx := core.NewContext(parent, s)
	derived := context.WithValue(ctx, key("other"), 1)
	assert.Same(t, s, core.FromContext(derived))
	assert.Equal(t, "v", derived.Value(key("k")), "the parent's values are kept")
	cancel()
	assert.ErrorIs(t, ctx.Err(), context.Canceled, "and its cancellation")

	second := core.NewContext(context.Background(), s)
	assert.Same(t, s, core.FromContext(second))
	assert.Nil(t, second.Value(key("k")), "a second call does not see the first parent")
	assert.Same(t, s, core.FromContext(ctx), "and does not disturb the first context")
	assert.Nil(t, core.FromContext(context.Background()))
}

// countingClient is a ClientSource that counts how often it is asked.
type countingClient struct{ asked int }

func (c *countingClient) ClientInfo() (string, string, string) {
	c.asked++
	return "lazy-agent", "10.0.0.9:4444", "198.51.100.2"
}

// TestClientSourceAskedOnlyAtLogin: a Request.Client replaces the request's
// own client fields, and is asked only when Login records them.
func TestClientSourceAskedOnlyAtLogin(t *testing.T) {
	f := newFixture(t, func(c *core.Config) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")} })
	ctx := context.Background()
	src := &countingClient{}
	req := &core.Request{UserAgent: "ignored", RemoteAddr: "192.0.2.1:1", Client: src}

	s, err := f.m.Load(ctx, req)
	require.NoError(t, err)
	require.NoError(t, s.Put("a", 1))
	res, err := f.m.Commit(ctx, s)
	require.NoError(t, err)
	assert.Zero(t, src.asked, "asked without a Login")

	s, err = f.m.Load(ctx, &core.Request{Cookie: []string{res.Cookie.Name + "=" + res.Cookie.Value}, Client: src})
	require.NoError(t, err)
	s.Login("ann")
	_, err = f.m.Commit(ctx, s)
	require.NoError(t, err)
	assert.Equal(t, 1, src.asked)

	list, err := f.m.ListSessions(ctx, "ann")
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, "lazy-agent", list[0].UserAgent)
	assert.Equal(t, "198.51.100.2", list[0].IP, "X-Forwarded-For through the trusted proxy")
}

// errDown is what a store whose server is down reports.
var errDown = errors.New("dial tcp 127.0.0.1:1: connection refused")

// TestNoRawTokenInErrors: the errors a failing store makes the manager
// return to the app, and the store_error events and log lines, carry the
// session's hash prefix at most, never the token.
func TestNoRawTokenInErrors(t *testing.T) {
	var down bool
	ms := memstore.New(memstore.Options{})
	t.Cleanup(func() { ms.Close() })
	f2 := newFixture(t, func(c *core.Config) { c.Store = &toggleStore{Store: ms, down: &down} })
	tok := f2.request(t, "", func(s *core.Session) { _ = s.Put("a", 1) })
	ctx := context.Background()
	cookie := []string{f2.m.Config().Cookie.Name + "=" + tok}

	down = true
	_, err := f2.m.Load(ctx, &core.Request{Cookie: cookie})
	require.ErrorIs(t, err, core.ErrStore)
	assert.NotContains(t, err.Error(), tok, "raw token in a Load error")

	down = false
	s, err := f2.m.Load(ctx, &core.Request{Cookie: cookie})
	require.NoError(t, err)
	require.False(t, s.IsNew())
	down = true
	_ = s.Put("b", 2)
	_, err = f2.m.Commit(ctx, s)
	require.ErrorIs(t, err, core.ErrStore)
	assert.NotContains(t, err.Error(), tok, "raw token in a Commit error")

	down = false
	s, err = f2.m.Load(ctx, &core.Request{Cookie: cookie})
	require.NoError(t, err)
	down = true
	s.Login("ann")
	_, err = f2.m.Commit(ctx, s)
	require.ErrorIs(t, err, core.ErrStore)
	assert.NotContains(t, err.Error(), tok, "raw token in a renewal error")

	require.NotZero(t, f2.count(core.EventStoreError))
	assert.NotContains(t, f2.logs.String(), tok, "raw token in a store_error log line")
	assert.Contains(t, f2.logs.String(), sha(tok)[:16], "the log names the session by its hash prefix")
	for _, e := range f2.events {
		assert.NotContains(t, e.SessionID+errString(e.Err), tok, "raw token in an event")
	}
}

// toggleStore fails while *down is set.
type toggleStore struct {
	core.Store
	down *bool
}

func (s *toggleStore) Load(ctx context.Context, id string, o store.LoadOptions) (*store.Record, error) {
	if *s.down {
		return nil, errDown
	}
	return s.Store.Load(ctx, id, o)
}

func (s *toggleStore) Update(ctx context.Context, id string, ch *store.Change) error {
	if *s.down {
		return errDown
	}
	return s.Store.Update(ctx, id, ch)
}

func (s *toggleStore) Renew(ctx context.Context, old, id string, ch *store.Change, o store.WriteOptions) ([]string, error) {
	if *s.down {
		return nil, errDown
	}
	return s.Store.Renew(ctx, old, id, ch, o)
}

// TestResultHeaders: what Apply writes, as a framework without
// http.Header receives it: each header once, in order, with whether it
// replaces the handler's value.
func TestResultHeaders(t *testing.T) {
	f := newFixture(t, func(c *core.Config) { c.Transport = core.TransportBoth })
	s, err := f.m.Load(context.Background(), &core.Request{})
	require.NoError(t, err)
	_ = s.Put("a", 1)
	res, err := f.m.Commit(context.Background(), s)
	require.NoError(t, err)
	var got []string
	res.Headers(func(name, value string, replace bool) {
		if name == "Set-Cookie" || name == "Session-Token" {
			value = "…"
		}
		got = append(got, fmt.Sprintf("%s: %s (replace %v)", name, value, replace))
	})
	assert.Equal(t, []string{
		"Set-Cookie: … (replace false)",
		"Vary: Cookie (replace false)",
		"Session-Token: … (replace true)",
		"Vary: Authorization (replace false)",
		"Cache-Control: no-store (replace true)",
	}, got)

	var none core.Result
	none.Headers(func(string, string, bool) { t.Error("a result that changes nothing wrote a header") })
}
