package core_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/stores/memstore"
)

// TestHookMayUseTheSession: OnEvent runs after the session's lock is
// released, so a hook that reads the session through the request context
// (as service code does) finishes. Before, Commit emitted with the lock
// held and this test timed out in a deadlock.
func TestHookMayUseTheSession(t *testing.T) {
	var seen []string
	var m *core.Manager
	m, err := core.New(core.Config{OnEvent: func(ctx context.Context, e core.Event) {
		if s := core.FromContext(ctx); s != nil {
			seen = append(seen, e.Kind.String()+":"+s.UserID())
			_, _ = m.ListSessions(ctx, s.UserID())
		}
	}})
	require.NoError(t, err)
	defer m.Close()

	done := make(chan struct{})
	go func() {
		defer close(done)
		s, err := m.Load(context.Background(), &core.Request{})
		require.NoError(t, err)
		ctx := core.NewContext(context.Background(), s)
		s.Login("ann")
		_, err = m.Commit(ctx, s)
		assert.NoError(t, err)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Commit deadlocked: the event hook ran with the session locked")
	}
	assert.Equal(t, []string{"created:ann"}, seen)
}

// TestReadResponsesArePrivate: a response that read the session depends on
// the token, so it says so (Vary) and keeps out of shared caches
// (Cache-Control: private); one that never looked at the session gets
// neither. Before, only responses that set a token carried them.
func TestReadResponsesArePrivate(t *testing.T) {
	f := newFixture(t, nil)
	tok := f.request(t, "", func(s *core.Session) { _ = s.Put("n", 1) })
	commit := func(t *testing.T, read func(*core.Session)) http.Header {
		s, err := f.m.Load(context.Background(), &core.Request{Cookie: []string{"__Host-session=" + tok}})
		require.NoError(t, err)
		read(s)
		res, err := f.m.Commit(context.Background(), s)
		require.NoError(t, err)
		h := http.Header{"Cache-Control": {"max-age=60"}}
		res.Apply(h)
		return h
	}
	for name, read := range map[string]func(*core.Session){
		"Get":    func(s *core.Session) { core.Get[int](s, "n") },
		"UserID": func(s *core.Session) { _ = s.UserID() },
		"IsNew":  func(s *core.Session) { _ = s.IsNew() },
		"Keys":   func(s *core.Session) { _ = s.Keys() },
		"Has":    func(s *core.Session) { _ = s.Has("n") },
	} {
		h := commit(t, read)
		assert.Equal(t, []string{"Cookie"}, h.Values("Vary"), name)
		assert.Equal(t, []string{"max-age=60", "private"}, h.Values("Cache-Control"), name)
		assert.Empty(t, h.Values("Set-Cookie"), name)
	}
	h := commit(t, func(*core.Session) {})
	assert.Empty(t, h.Values("Vary"), "a handler that never read the session")
	assert.Equal(t, []string{"max-age=60"}, h.Values("Cache-Control"))

	hf := newFixture(t, func(c *core.Config) { c.Transport = core.TransportHeader })
	s, err := hf.m.Load(context.Background(), &core.Request{})
	require.NoError(t, err)
	_ = s.UserID()
	res, err := hf.m.Commit(context.Background(), s)
	require.NoError(t, err)
	assert.Equal(t, "Authorization", res.Vary)
}

// TestPopIsAtomicAcrossRequests: two requests loaded the same session and
// both pop one flash; exactly one gets it. Before, Pop was a Get and a
// Delete, and both requests showed the message.
func TestPopIsAtomicAcrossRequests(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	tok := f.request(t, "", func(s *core.Session) { _ = s.Put("flash", "saved") })
	load := func() *core.Session {
		s, err := f.m.Load(ctx, &core.Request{Cookie: []string{"__Host-session=" + tok}})
		require.NoError(t, err)
		return s
	}
	a, b := load(), load()
	va, errA := core.Pop[string](ctx, a, "flash")
	vb, errB := core.Pop[string](ctx, b, "flash")
	require.NoError(t, errA)
	assert.Equal(t, "saved", va)
	assert.ErrorIs(t, errB, core.ErrNoValue, "the second request popped %q too", vb)
	assert.False(t, a.Has("flash"))
	for _, s := range []*core.Session{a, b} {
		_, err := f.m.Commit(ctx, s)
		require.NoError(t, err)
	}
	f.request(t, tok, func(s *core.Session) { assert.False(t, s.Has("flash"), "the flash is gone from the store") })

	// A value put in this very request pops locally, without the store.
	f.request(t, tok, func(s *core.Session) {
		require.NoError(t, s.Put("note", 7))
		n, err := core.Pop[int](ctx, s, "note")
		require.NoError(t, err)
		assert.Equal(t, 7, n)
		_, err = core.Pop[int](ctx, s, "note")
		assert.ErrorIs(t, err, core.ErrNoValue)
		require.NoError(t, s.Put("note", 8), "a key popped may be put again")
		n, _ = core.Get[int](s, "note")
		assert.Equal(t, 8, n)
	})
	f.request(t, tok, func(s *core.Session) {
		n, _ := core.Get[int](s, "note")
		assert.Equal(t, 8, n)
	})
}

// TestRotatedAwayTokenCannotRenew: during its grace window a token rotated
// away still reads and writes, but a Login through it must neither hand
// out a fresh token nor kill the successor the legitimate client holds.
// Before, the Login renewed the successor: the old token's holder got a new
// token and the successor's token stopped working.
func TestRotatedAwayTokenCannotRenew(t *testing.T) {
	f := newFixture(t, func(c *core.Config) { c.RotateAfter = time.Hour; c.IdleTimeout = 2 * time.Hour })
	old := f.request(t, "", func(s *core.Session) { _ = s.Put("cart", 3) })
	f.advance(61 * time.Minute)
	successor := f.request(t, old, nil)
	require.NotEqual(t, old, successor, "rotated")

	ctx := context.Background()
	s, err := f.m.Load(ctx, &core.Request{Cookie: []string{"__Host-session=" + old}})
	require.NoError(t, err)
	n, _ := core.Get[int](s, "cart")
	require.Equal(t, 3, n, "the old token serves the successor in its grace window")
	s.Login("mallory")
	res, err := f.m.Commit(ctx, s)
	require.NoError(t, err, "another request's rotation is not this request's failure")
	assert.Nil(t, res.Cookie, "no fresh token for a rotated-away token")
	assert.Equal(t, 1, f.countErr(core.EventWriteDropped, core.ErrRenewForwarded))

	f.request(t, successor, func(s *core.Session) {
		assert.False(t, s.IsNew(), "the successor still works")
		assert.Empty(t, s.UserID(), "and was not logged in by the old token")
		n, _ := core.Get[int](s, "cart")
		assert.Equal(t, 3, n)
	})
}

// countErr counts events of kind k whose Err is want.
func (f *fixture) countErr(k core.EventKind, want error) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, e := range f.events {
		if e.Kind == k && errors.Is(e.Err, want) {
			n++
		}
	}
	return n
}

// TestValueCaps: a session's values are bounded in keys and bytes; a Put
// past either is an error the handler sees, and nothing is stored. Before,
// there was no cap (5,000 PUTs of 64 KiB grew one session to 586 MB).
func TestValueCaps(t *testing.T) {
	f := newFixture(t, func(c *core.Config) { c.MaxKeys = 3; c.MaxValueBytes = 100 })
	tok := f.request(t, "", func(s *core.Session) {
		require.NoError(t, s.Put("a", 1))
		require.NoError(t, s.Put("b", 2))
		require.NoError(t, s.Put("c", 3))
		err := s.Put("d", 4)
		require.ErrorIs(t, err, core.ErrTooLarge, "a fourth key")
		assert.False(t, s.Has("d"), "nothing stored")
		require.NoError(t, s.Put("c", 33), "replacing a key adds none")
		s.Delete("c")
		require.NoError(t, s.Put("d", 4), "a deleted key makes room")
	})
	f.request(t, tok, func(s *core.Session) {
		assert.Equal(t, []string{"a", "b", "d"}, s.Keys(), "the caps hold across requests")
		require.ErrorIs(t, s.Put("e", 5), core.ErrTooLarge)
		err := s.Put("a", strings.Repeat("x", 200))
		require.ErrorIs(t, err, core.ErrTooLarge, "past the byte cap")
		n, _ := core.Get[int](s, "a")
		assert.Equal(t, 1, n, "the old value stays")
		_, err = core.Pop[int](context.Background(), s, "b")
		require.NoError(t, err)
		require.NoError(t, s.Put("e", 5), "a popped key makes room")
		s.Clear()
		require.NoError(t, s.Put("big", strings.Repeat("y", 80)), "Clear makes room")
	})

	d := newFixture(t, nil)
	assert.Equal(t, core.DefaultMaxKeys, d.m.Config().MaxKeys)
	assert.Equal(t, core.DefaultMaxValueBytes, d.m.Config().MaxValueBytes)
	assert.Equal(t, core.DefaultMaxSessionsPerUser, d.m.Config().MaxSessionsPerUser)
	d.request(t, "", func(s *core.Session) {
		err := s.Put("big", strings.Repeat("z", core.DefaultMaxValueBytes))
		require.ErrorIs(t, err, core.ErrTooLarge, "the default byte cap")
		assert.False(t, s.Has("big"))
	})
	u := newFixture(t, func(c *core.Config) { c.MaxKeys, c.MaxValueBytes = -1, -1 })
	u.request(t, "", func(s *core.Session) {
		require.NoError(t, s.Put("big", strings.Repeat("z", 2*core.DefaultMaxValueBytes)), "negative: no cap")
	})
}

// TestDefaultPerUserCap: without a setting, one user's sessions are
// bounded; the oldest go first. Before, they were unlimited (50k logins of
// one user made a 12.4 MB listing).
func TestDefaultPerUserCap(t *testing.T) {
	f := newFixture(t, nil)
	var first string
	for i := range core.DefaultMaxSessionsPerUser + 5 {
		tok := f.request(t, "", func(s *core.Session) { s.Login("ann") })
		if i == 0 {
			first = tok
		}
		f.advance(time.Millisecond)
	}
	list, err := f.m.ListSessions(context.Background(), "ann")
	require.NoError(t, err)
	assert.Len(t, list, core.DefaultMaxSessionsPerUser)
	f.request(t, first, func(s *core.Session) { assert.True(t, s.IsNew(), "the oldest was evicted") })
}

// stallStore is a store that has stopped answering: every call waits for
// its context.
type stallStore struct{ store.Store }

func (stallStore) Load(ctx context.Context, _ string, _ store.LoadOptions) (*store.Record, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func (stallStore) Create(ctx context.Context, _ string, _ *store.Record, _ store.WriteOptions) ([]string, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestStoreTimeoutBoundsTheWait: a stalled store holds a request no longer
// than StoreTimeout, and the request fails as a store error (503), not as
// an anonymous session. Before, the request waited as long as the store
// did (a 14 s CLIENT PAUSE held it 14 s); here it would never return.
func TestStoreTimeoutBoundsTheWait(t *testing.T) {
	inner := memstore.New(memstore.Options{})
	defer inner.Close()
	f := newFixture(t, func(c *core.Config) {
		c.Store = stallStore{inner}
		c.StoreTimeout = 50 * time.Millisecond
	})
	tok := "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	for name, step := range map[string]func() error{
		"Load": func() error {
			_, err := f.m.Load(context.Background(), &core.Request{Cookie: []string{"__Host-session=" + tok}})
			return err
		},
		"Commit": func() error {
			s, err := f.m.Load(context.Background(), &core.Request{})
			require.NoError(t, err)
			_ = s.Put("a", 1)
			_, err = f.m.Commit(context.Background(), s)
			return err
		},
	} {
		done := make(chan error, 1)
		start := time.Now()
		go func() { done <- step() }()
		select {
		case err := <-done:
			assert.ErrorIs(t, err, core.ErrStore, name)
			assert.ErrorIs(t, err, context.DeadlineExceeded, name)
			assert.Less(t, time.Since(start), 2*time.Second, name)
		case <-time.After(10 * time.Second):
			t.Fatalf("%s waited for the stalled store past StoreTimeout", name)
		}
	}
	d := newFixture(t, nil)
	assert.Equal(t, core.DefaultStoreTimeout, d.m.Config().StoreTimeout)
}

// TestLogsCarryNoUserID: user ids are personal data; the log lines carry a
// prefix of their hash, while the hook still gets the id. Before, the log
// had `"user":"ann@example.com"` in clear.
func TestLogsCarryNoUserID(t *testing.T) {
	f := newFixture(t, func(c *core.Config) { c.MaxSessionsPerUser = 1 })
	tok := f.request(t, "", func(s *core.Session) { s.Login("ann@example.com") })
	f.request(t, "", func(s *core.Session) { s.Login("ann@example.com") }) // evicts the first
	f.request(t, tok, func(s *core.Session) { s.Destroy() })
	_, _ = f.m.RevokeAll(context.Background(), "ann@example.com", "")
	logs := f.logs.String()
	require.Contains(t, logs, `"event":"revoked"`)
	assert.NotContains(t, logs, "ann@example.com")
	assert.NotContains(t, logs, "ann")
	assert.Contains(t, logs, `"user":"`+sha("ann@example.com")[:16]+`"`)
	assert.Positive(t, f.countUser("ann@example.com"), "the hook gets the user id as it is")
}

func (f *fixture) countUser(u string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, e := range f.events {
		if e.UserID == u {
			n++
		}
	}
	return n
}

// TestReadOnlyApplyAllocatesNothing: the headers of a response that only
// read the session cost no allocation (it is the most common response),
// and a later append by the handler never reaches another response.
func TestReadOnlyApplyAllocatesNothing(t *testing.T) {
	res := core.Result{Vary: "Cookie"}
	h := http.Header{}
	allocs := testing.AllocsPerRun(100, func() {
		clear(h)
		res.Apply(h)
	})
	assert.Zero(t, allocs)
	res.Apply(h)
	h["Vary"] = append(h["Vary"], "Accept-Encoding")
	other := http.Header{}
	res.Apply(other)
	assert.Equal(t, []string{"Cookie"}, other["Vary"], "an append to one response's header reached another")
	assert.Equal(t, []string{"private"}, other["Cache-Control"])
}

// TestEvictionIsAnEvent: the embedded store's evictions reach the hook and
// the log as EventEvicted, anonymous sessions first, and the app's own
// Memory.OnEvict still runs.
func TestEvictionIsAnEvent(t *testing.T) {
	var appSaw int
	f := newFixture(t, func(c *core.Config) {
		c.Memory.MaxSessions = 3
		c.Memory.OnEvict = func(string, string) { appSaw++ }
	})
	user := f.request(t, "", func(s *core.Session) { s.Login("ann") })
	for range 5 {
		f.request(t, "", func(s *core.Session) { _ = s.Put("n", 1) })
	}
	assert.Equal(t, 3, f.count(core.EventEvicted), "five anonymous sessions into two free places")
	assert.Equal(t, 3, appSaw)
	f.mu.Lock()
	for _, e := range f.events {
		if e.Kind == core.EventEvicted {
			assert.Empty(t, e.UserID, "a logged-in session was evicted while anonymous ones remained")
		}
	}
	f.mu.Unlock()
	f.request(t, user, func(s *core.Session) { assert.Equal(t, "ann", s.UserID(), "the logged-in session survived") })
	assert.Contains(t, f.logs.String(), `"event":"evicted"`)
}

// expiringStore answers every write as a store may for a session whose
// deadline passed after the request loaded it.
type expiringStore struct{ store.Store }

func (expiringStore) Update(context.Context, string, *store.Change) error { return store.ErrExpired }
func (expiringStore) Renew(context.Context, string, string, *store.Change, store.WriteOptions) ([]string, error) {
	return nil, store.ErrExpired
}

// TestWriteToExpiredSessionIsNoOutage: a store may answer a write to a
// session that expired mid-request with ErrExpired (Redis's claim does);
// that is the session's end, dropped like a revoked one, not a 503. Before,
// a login at that moment answered 503.
func TestWriteToExpiredSessionIsNoOutage(t *testing.T) {
	inner := memstore.New(memstore.Options{})
	defer inner.Close()
	f := newFixture(t, func(c *core.Config) { c.Store = expiringStore{inner} })
	ctx := context.Background()
	tok := f.request(t, "", func(s *core.Session) { _ = s.Put("a", 1) })
	for name, change := range map[string]func(*core.Session){
		"Login": func(s *core.Session) { s.Login("ann") },
		"Put":   func(s *core.Session) { _ = s.Put("b", 2) },
	} {
		s, err := f.m.Load(ctx, &core.Request{Cookie: []string{"__Host-session=" + tok}})
		require.NoError(t, err)
		change(s)
		res, err := f.m.Commit(ctx, s)
		assert.NoError(t, err, "%s on a session that expired mid-request", name)
		assert.Nil(t, res.Cookie, name)
	}
}
