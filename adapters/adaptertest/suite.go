package adaptertest

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core"
)

// Run runs the whole suite against the adapter that f builds.
func Run(t *testing.T, f Factory) {
	tests := []struct {
		name string
		fn   func(*testing.T, Factory)
	}{
		{"CookieAttributes", testCookieAttributes},
		{"PersistentCookie", testPersistentCookie},
		{"LazyCreation", testLazyCreation},
		{"ReadOnlyWritesNothing", testReadOnlyWritesNothing},
		{"StrictMode", testStrictMode},
		{"ContextSession", testContextSession},
		{"LoginRenewsToken", testLoginRenewsToken},
		{"RenewKillsOldToken", testRenewKillsOldToken},
		{"LogoutClearsCookieAndRecord", testLogout},
		{"HeaderTransport", testHeaderTransport},
		{"BothTransportsMustAgree", testBothTransports},
		{"MalformedTokens", testMalformedTokens},
		{"DeadCookieCleared", testDeadCookieCleared},
		{"RememberedCookiePersists", testRememberedCookiePersists},
		{"TokenInURLIgnored", testTokenInURLIgnored},
		{"UnprefixedCookieIgnored", testUnprefixedCookieIgnored},
		{"LookalikeCookieNamesIgnored", testLookalikeCookieNamesIgnored},
		{"TwoBearerHeadersRefused", testTwoBearerHeadersRefused},
		{"ReadResponseVaries", testReadResponseVaries},
		{"StoreFailureOnLoad", testStoreFailureOnLoad},
		{"StoreFailureOnCommit", testStoreFailureOnCommit},
		{"IdleTimeout", testIdleTimeout},
		{"IdleExtensionIsFrugal", testIdleExtensionIsFrugal},
		{"AbsoluteTimeout", testAbsoluteTimeout},
		{"ParallelDistinctKeys", testParallelDistinctKeys},
		{"LateWriteSaved", testLateWriteSaved},
		{"LateNewSessionNeverSilent", testLateNewSessionNeverSilent},
		{"RotationWithGrace", testRotationWithGrace},
		{"ConcurrentRotationOnce", testConcurrentRotationOnce},
		{"RevokedSessionStaysDead", testRevokedSessionStaysDead},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, f)
		})
	}
}

func testCookieAttributes(t *testing.T, f Factory) {
	h := newHarness(t, f, nil)
	r := h.do("POST", "/write?key=a&value=1")
	require.Equal(t, http.StatusOK, r.status, r.body)
	require.NotNil(t, r.cookie)
	assert.Equal(t, 1, r.setCookies, "one Set-Cookie for the session")
	c := r.cookie
	assert.Equal(t, "__Host-session", c.Name)
	assert.True(t, isTokenShape(c.Value), "token is 43 base64url characters: %q", c.Value)
	assert.True(t, c.HttpOnly, "HttpOnly")
	assert.True(t, c.Secure, "Secure")
	assert.Equal(t, http.SameSiteLaxMode, c.SameSite)
	assert.Equal(t, "/", c.Path)
	assert.Empty(t, c.Domain)
	assert.Zero(t, c.MaxAge, "no Max-Age unless persistence is asked for")
	assert.True(t, c.Expires.IsZero(), "no Expires unless persistence is asked for")
	assert.Contains(t, r.header.Get("Cache-Control"), "no-store")
	assert.Contains(t, strings.Join(r.header.Values("Vary"), ","), "Cookie")
	// At rest the store sees the token's hash, never the token.
	assert.True(t, h.spy.saw(storeID(c.Value)), "store keyed by SHA-256 of the token")
	assert.False(t, h.spy.saw(c.Value), "raw token reached the store")
	for _, e := range h.events.all() {
		assert.NotContains(t, fmt.Sprint(e), c.Value, "raw token in an event")
	}
	// A second session gets a different token.
	r2 := h.do("POST", "/write?key=a&value=1")
	require.NotNil(t, r2.cookie)
	assert.NotEqual(t, c.Value, r2.cookie.Value)
}

func testPersistentCookie(t *testing.T, f Factory) {
	h := newHarness(t, f, func(c *core.Config) {
		c.Cookie.Persist = true
		c.Lifetime = 2 * time.Hour
	})
	r := h.do("POST", "/write?key=a&value=1")
	require.NotNil(t, r.cookie)
	assert.InDelta(t, (2 * time.Hour).Seconds(), float64(r.cookie.MaxAge), 2, "Max-Age is the lifetime left")
	assert.False(t, r.cookie.Expires.IsZero(), "Expires set for old clients")
}

func testLazyCreation(t *testing.T, f Factory) {
	h := newHarness(t, f, nil)
	r := h.do("GET", "/read?key=a")
	assert.Equal(t, http.StatusNotFound, r.status)
	assert.Nil(t, r.cookie, "a request that writes nothing sends no cookie")
	assert.Empty(t, r.header.Values("Set-Cookie"))
	assert.Zero(t, h.spy.total(), "no token, nothing written: the store is not touched")
	h.do("GET", "/id")
	h.do("POST", "/logout") // destroying a session that never existed
	assert.Zero(t, h.spy.total())
}

func testReadOnlyWritesNothing(t *testing.T, f Factory) {
	h := newHarness(t, f, nil)
	tok := h.newSession("a", "1")
	writes := h.spy.writes()
	for i := 0; i < 3; i++ {
		r := h.do("GET", "/read?key=a", h.withCookie(tok))
		require.Equal(t, http.StatusOK, r.status)
		assert.Equal(t, "1", r.body)
		assert.Nil(t, r.cookie, "a read-only request sets no cookie")
	}
	assert.Equal(t, writes, h.spy.writes(), "a read-only request writes nothing")
}

func testStrictMode(t *testing.T, f Factory) {
	h := newHarness(t, f, nil)
	planted := wellFormedToken(t)
	r := h.do("POST", "/write?key=a&value=1", h.withCookie(planted))
	require.Equal(t, http.StatusOK, r.status)
	require.NotNil(t, r.cookie)
	assert.NotEqual(t, planted, r.cookie.Value, "a client's token is never adopted")
	assert.Equal(t, 0, h.spy.count("Update"), "an unknown token is not written to")
	status, _ := h.read(planted, "a")
	assert.Equal(t, http.StatusNotFound, status, "the planted token still means nothing")
	status, body := h.read(r.cookie.Value, "a")
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "1", body)
	assert.GreaterOrEqual(t, h.events.count(core.EventInvalidToken), 1)
}

func testContextSession(t *testing.T, f Factory) {
	h := newHarness(t, f, nil)
	// The app answers 500 unless From and core.FromContext return the same
	// non-nil session.
	r := h.do("GET", "/anything")
	assert.Equal(t, http.StatusOK, r.status, r.body)
	tok := h.newSession("a", "1")
	r = h.do("GET", "/anything", h.withCookie(tok))
	assert.Equal(t, http.StatusOK, r.status, r.body)
}

func testLoginRenewsToken(t *testing.T, f Factory) {
	h := newHarness(t, f, nil)
	before := h.newSession("cart", "3 items")
	r := h.do("POST", "/login?user=alice", h.withCookie(before))
	require.Equal(t, http.StatusOK, r.status)
	require.NotNil(t, r.cookie, "login issues a new token")
	after := r.cookie.Value
	assert.NotEqual(t, before, after)
	status, _ := h.read(before, "cart")
	assert.Equal(t, http.StatusNotFound, status, "the pre-login token is dead at once")
	status, body := h.read(after, "cart")
	assert.Equal(t, http.StatusOK, status, "data survives the renewal")
	assert.Equal(t, "3 items", body)
	who := h.do("GET", "/whoami", h.withCookie(after))
	assert.Equal(t, "alice", who.body)
	assert.Equal(t, 1, h.events.count(core.EventRenewed))
	// Login without a session creates one, already bound.
	r = h.do("POST", "/login?user=bob")
	require.NotNil(t, r.cookie)
	assert.Equal(t, "bob", h.do("GET", "/whoami", h.withCookie(r.cookie.Value)).body)
}

func testRenewKillsOldToken(t *testing.T, f Factory) {
	h := newHarness(t, f, nil)
	old := h.newSession("a", "1")
	r := h.do("POST", "/renew", h.withCookie(old))
	require.NotNil(t, r.cookie)
	status, _ := h.read(old, "a")
	assert.Equal(t, http.StatusNotFound, status)
	status, body := h.read(r.cookie.Value, "a")
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "1", body)
}

func testLogout(t *testing.T, f Factory) {
	h := newHarness(t, f, nil)
	tok := h.newSession("a", "1")
	login := h.do("POST", "/login?user=alice", h.withCookie(tok))
	require.NotNil(t, login.cookie)
	tok = login.cookie.Value
	r := h.do("POST", "/logout", h.withCookie(tok))
	require.Equal(t, http.StatusOK, r.status)
	require.NotNil(t, r.cookie, "logout clears the cookie")
	assert.Empty(t, r.cookie.Value)
	assert.Less(t, r.cookie.MaxAge, 0, "Max-Age=0")
	assert.Equal(t, "/", r.cookie.Path, "cleared with the same Path")
	assert.Empty(t, r.cookie.Domain, "cleared with the same Domain")
	assert.True(t, r.cookie.Secure)
	assert.Contains(t, r.header.Get("Cache-Control"), "no-store")
	assert.Contains(t, r.header.Values("Vary"), "Cookie", "a clearing response varies by Cookie too")
	status, _ := h.read(tok, "a")
	assert.Equal(t, http.StatusNotFound, status, "the record is gone")
	sessions, err := h.m.ListSessions(context.Background(), "alice")
	require.NoError(t, err)
	assert.Empty(t, sessions)
	assert.Equal(t, 1, h.events.count(core.EventDestroyed))
}

func testHeaderTransport(t *testing.T, f Factory) {
	h := newHarness(t, f, func(c *core.Config) { c.Transport = core.TransportHeader })
	r := h.do("POST", "/write?key=a&value=1")
	require.Equal(t, http.StatusOK, r.status)
	assert.Nil(t, r.cookie, "header transport sets no cookie")
	assert.Empty(t, r.header.Values("Set-Cookie"))
	tok := r.header.Get("Session-Token")
	require.True(t, isTokenShape(tok), "new token in Session-Token: %q", tok)
	assert.Contains(t, r.header.Get("Cache-Control"), "no-store")

	for _, scheme := range []string{"Bearer", "bearer", "BEARER"} {
		r = h.do("GET", "/read?key=a", withHeader("Authorization", scheme+" "+tok))
		assert.Equal(t, http.StatusOK, r.status, scheme)
		assert.Equal(t, "1", r.body, scheme)
		assert.Empty(t, r.header.Get("Session-Token"), "no token re-sent on a read")
	}
	r = h.do("GET", "/read?key=a", h.withCookie(tok))
	assert.Equal(t, http.StatusNotFound, r.status, "cookies are ignored in header transport")
	r = h.do("GET", "/read?key=a", withHeader("Authorization", "Basic "+tok))
	assert.Equal(t, http.StatusNotFound, r.status, "only the Bearer scheme carries a token")

	login := h.do("POST", "/login?user=alice", withBearer(tok))
	newTok := login.header.Get("Session-Token")
	require.True(t, isTokenShape(newTok))
	assert.NotEqual(t, tok, newTok)
	assert.Equal(t, http.StatusNotFound, h.do("GET", "/read?key=a", withBearer(tok)).status)
	assert.Equal(t, "alice", h.do("GET", "/whoami", withBearer(newTok)).body)
}

func testBothTransports(t *testing.T, f Factory) {
	h := newHarness(t, f, func(c *core.Config) { c.Transport = core.TransportBoth })
	r := h.do("POST", "/write?key=a&value=1")
	require.NotNil(t, r.cookie)
	tok := r.cookie.Value
	assert.Equal(t, tok, r.header.Get("Session-Token"), "both transports carry the new token")
	assert.Equal(t, http.StatusOK, h.do("GET", "/read?key=a", h.withCookie(tok)).status)
	assert.Equal(t, http.StatusOK, h.do("GET", "/read?key=a", withBearer(tok)).status)
	assert.Equal(t, http.StatusOK, h.do("GET", "/read?key=a", withBearer(tok), h.withCookie(tok)).status)
	other := h.newSession("a", "2")
	loads := h.spy.count("Load")
	r = h.do("GET", "/read?key=a", withBearer(tok), h.withCookie(other))
	assert.Equal(t, http.StatusNotFound, r.status, "a cookie and a bearer token that disagree are no session")
	assert.Equal(t, loads, h.spy.count("Load"), "disagreeing tokens never reach the store")
}

// hostileTokens are cookie values and bearer credentials that must never
// reach the store.
func hostileTokens(t *testing.T) map[string]string {
	good := wellFormedToken(t)
	return map[string]string{
		"empty":             "",
		"10KB":              strings.Repeat("A", 10*1024),
		"dot-dot-slash":     "../../../../etc/passwd",
		"NUL":               good[:20] + "\x00" + good[21:],
		"non-ASCII":         "ťøκеñ" + good[:33],
		"short":             good[:42],
		"long":              good + "A",
		"wrong-alphabet":    good[:40] + "+/=",
		"non-canonical":     good[:42] + "B",
		"quoted-wrong":      `"` + good[:41] + `"`,
		"spaces":            good[:20] + " " + good[21:],
		"CRLF":              good[:20] + "\r\n" + good[22:],
		"redis-glob":        strings.Repeat("*", 43),
		"percent-encoded":   "%41" + good[3:],
		"hash-of-something": storeID(good),
	}
}

func testMalformedTokens(t *testing.T, f Factory) {
	h := newHarness(t, f, func(c *core.Config) { c.Transport = core.TransportBoth })
	name := h.cookieName()
	// clears: the token came in the one session cookie, which the response
	// then clears (a browser would send a dead token forever otherwise).
	// A bearer token has no cookie to clear, and of two cookies that
	// disagree the clearing cookie might delete the good one.
	check := func(t *testing.T, desc string, clears bool, mods ...func(*http.Request)) {
		t.Helper()
		loads, calls, invalid := h.spy.count("Load"), h.app.calls.Load(), h.events.count(core.EventInvalidToken)
		r := h.do("GET", "/read?key=a", mods...)
		assert.Less(t, r.status, 500, "%s: never a 5xx", desc)
		assert.Equal(t, loads, h.spy.count("Load"), "%s: reached the store", desc)
		ran := h.app.calls.Load() > calls
		if ran && clears {
			if assert.NotNil(t, r.cookie, "%s: the dead cookie is not cleared", desc) {
				assert.Empty(t, r.cookie.Value, "%s: a read set a token", desc)
				assert.Less(t, r.cookie.MaxAge, 0, "%s: the cookie is cleared", desc)
			}
		} else {
			assert.Nil(t, r.cookie, "%s: no cookie set for a read", desc)
		}
		if ran {
			assert.Equal(t, http.StatusNotFound, r.status, "%s: no session", desc)
			assert.Equal(t, invalid+1, h.events.count(core.EventInvalidToken), "%s: an invalid-token event", desc)
		}
	}
	for desc, bad := range hostileTokens(t) {
		check(t, "cookie "+desc, true, withHeader("Cookie", name+"="+bad))
		check(t, "bearer "+desc, false, withHeader("Authorization", "Bearer "+bad))
	}
	a, b := wellFormedToken(t), wellFormedToken(t)
	check(t, "duplicate cookies, same value", false, withHeader("Cookie", name+"="+a+"; "+name+"="+a))
	check(t, "duplicate cookies, different values", false, withHeader("Cookie", name+"="+a+"; "+name+"="+b))
	check(t, "duplicate cookies in two headers", false, withHeader("Cookie", name+"="+a), withHeader("Cookie", name+"="+b))
	check(t, "cookie and bearer disagree", false, withHeader("Cookie", name+"="+a), withBearer(b))

	// A real session with a second, conflicting cookie is not adopted either.
	tok := h.newSession("a", "1")
	check(t, "live token plus a duplicate", false, withHeader("Cookie", name+"="+tok+"; "+name+"="+a))
	assert.Equal(t, http.StatusOK, h.do("GET", "/read?key=a", h.withCookie(tok)).status, "the live session is untouched")
}

func testStoreFailureOnLoad(t *testing.T, f Factory) {
	h := newHarness(t, f, nil)
	tok := h.newSession("a", "1")
	h.spy.broken.Store(true)
	calls := h.app.calls.Load()
	r := h.do("GET", "/read?key=a", h.withCookie(tok))
	assert.Equal(t, http.StatusServiceUnavailable, r.status)
	assert.NotContains(t, r.body, errBroken.Error(), "the body is generic")
	assert.Nil(t, r.cookie, "no anonymous session is started")
	assert.Equal(t, calls, h.app.calls.Load(), "the handler never runs without its session")
	assert.GreaterOrEqual(t, h.events.count(core.EventStoreError), 1)
	h.spy.broken.Store(false)
	status, body := h.read(tok, "a")
	assert.Equal(t, http.StatusOK, status, "the same session works once the store is back")
	assert.Equal(t, "1", body)
}

func testStoreFailureOnCommit(t *testing.T, f Factory) {
	h := newHarness(t, f, nil)
	h.spy.broken.Store(true)
	r := h.do("POST", "/write?key=a&value=1")
	assert.Equal(t, http.StatusServiceUnavailable, r.status, "a write that cannot be saved is not a 200")
	assert.Nil(t, r.cookie, "no token for a session that was not stored")
	assert.NotEqual(t, "ok", r.body)
	h.spy.broken.Store(false)
	tok := h.newSession("a", "1")
	h.spy.broken.Store(true)
	r = h.do("POST", "/write?key=a&value=2", h.withCookie(tok))
	assert.Equal(t, http.StatusServiceUnavailable, r.status)
	h.spy.broken.Store(false)
	_, body := h.read(tok, "a")
	assert.Equal(t, "1", body)
}

func testIdleTimeout(t *testing.T, f Factory) {
	h := newHarness(t, f, func(c *core.Config) { c.IdleTimeout = 30 * time.Minute })
	tok := h.newSession("a", "1")
	for i := 0; i < 4; i++ { // activity keeps it alive well past one idle window
		h.clock.Advance(20 * time.Minute)
		status, _ := h.read(tok, "a")
		require.Equal(t, http.StatusOK, status, "active session alive after %d×20m", i+1)
	}
	h.clock.Advance(31 * time.Minute)
	status, _ := h.read(tok, "a")
	assert.Equal(t, http.StatusNotFound, status, "idle past the timeout: gone")
	assert.Equal(t, 1, h.events.count(core.EventExpired))
}

func testIdleExtensionIsFrugal(t *testing.T, f Factory) {
	h := newHarness(t, f, func(c *core.Config) { c.IdleTimeout = 40 * time.Minute })
	// Inside the first quarter of the window a read extends nothing, so the
	// deadline stays 40m after creation.
	tok := h.newSession("a", "1")
	h.clock.Advance(5 * time.Minute)
	status, _ := h.read(tok, "a")
	require.Equal(t, http.StatusOK, status)
	h.clock.Advance(36 * time.Minute)
	status, _ = h.read(tok, "a")
	assert.Equal(t, http.StatusNotFound, status, "a read inside the first quarter did not extend the deadline")

	// Past the first quarter a read extends it.
	tok = h.newSession("a", "1")
	h.clock.Advance(15 * time.Minute)
	status, _ = h.read(tok, "a")
	require.Equal(t, http.StatusOK, status)
	h.clock.Advance(36 * time.Minute)
	status, _ = h.read(tok, "a")
	assert.Equal(t, http.StatusOK, status, "a read past the first quarter extended the deadline")
}

func testAbsoluteTimeout(t *testing.T, f Factory) {
	h := newHarness(t, f, func(c *core.Config) {
		c.IdleTimeout = 30 * time.Minute
		c.Lifetime = 2 * time.Hour
	})
	tok := h.newSession("a", "1")
	for elapsed := 20 * time.Minute; elapsed < 2*time.Hour; elapsed += 20 * time.Minute {
		h.clock.Advance(20 * time.Minute)
		status, _ := h.read(tok, "a")
		require.Equal(t, http.StatusOK, status, "alive at %v", elapsed)
	}
	h.clock.Advance(20 * time.Minute)
	status, _ := h.read(tok, "a")
	assert.Equal(t, http.StatusNotFound, status, "activity never extends the absolute lifetime")
}

func testParallelDistinctKeys(t *testing.T, f Factory) {
	h := newHarness(t, f, nil)
	tok := h.newSession("base", "0")
	const n = 24
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := h.do("POST", fmt.Sprintf("/write?key=k%d&value=v%d", i, i), h.withCookie(tok))
			assert.Equal(t, http.StatusOK, r.status)
		}(i)
	}
	wg.Wait()
	for i := 0; i < n; i++ {
		status, body := h.read(tok, fmt.Sprintf("k%d", i))
		assert.Equal(t, http.StatusOK, status, "key k%d lost", i)
		assert.Equal(t, fmt.Sprintf("v%d", i), body)
	}
	_, body := h.read(tok, "base")
	assert.Equal(t, "0", body)
}

func testLateWriteSaved(t *testing.T, f Factory) {
	h := newHarness(t, f, nil)
	tok := h.newSession("a", "1")
	r := h.do("POST", "/write-late?key=late&value=yes", h.withCookie(tok))
	require.Equal(t, http.StatusOK, r.status)
	status, body := h.read(tok, "late")
	assert.Equal(t, http.StatusOK, status, "a change after the headers is saved when the token stays")
	assert.Equal(t, "yes", body)
}

func testLateNewSessionNeverSilent(t *testing.T, f Factory) {
	h := newHarness(t, f, nil)
	r := h.do("POST", "/write-late?key=late&value=yes")
	require.Equal(t, http.StatusOK, r.status)
	if r.cookie != nil {
		// Adapters that send headers after the handler can still deliver it.
		status, body := h.read(r.cookie.Value, "late")
		assert.Equal(t, http.StatusOK, status)
		assert.Equal(t, "yes", body)
		return
	}
	assert.Equal(t, 1, h.events.count(core.EventWriteDropped), "a change that cannot be delivered is reported")
	assert.Zero(t, h.spy.count("Create"), "and no unreachable session is stored")
}

func testRotationWithGrace(t *testing.T, f Factory) {
	h := newHarness(t, f, func(c *core.Config) {
		c.RotateAfter = time.Hour
		c.RotateGrace = 5 * time.Second
		c.IdleTimeout = 2 * time.Hour
	})
	old := h.newSession("a", "1")
	h.clock.Advance(59 * time.Minute)
	r := h.do("GET", "/read?key=a", h.withCookie(old))
	assert.Nil(t, r.cookie, "not rotated before RotateAfter")
	h.clock.Advance(2 * time.Minute)
	r = h.do("GET", "/read?key=a", h.withCookie(old))
	require.Equal(t, http.StatusOK, r.status)
	require.NotNil(t, r.cookie, "rotated after RotateAfter")
	rotated := r.cookie.Value
	assert.NotEqual(t, old, rotated)
	// Within the grace window the old token still works and writes land in
	// the rotated session.
	h.clock.Advance(2 * time.Second)
	r = h.do("POST", "/write?key=b&value=2", h.withCookie(old))
	assert.Equal(t, http.StatusOK, r.status)
	assert.Nil(t, r.cookie)
	_, body := h.read(rotated, "b")
	assert.Equal(t, "2", body, "a write through the old token in its grace lands in the new session")
	h.clock.Advance(4 * time.Second)
	status, _ := h.read(old, "a")
	assert.Equal(t, http.StatusNotFound, status, "the old token dies after the grace window")
	status, body = h.read(rotated, "a")
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "1", body)
	assert.Equal(t, 1, h.events.count(core.EventRotated))
}

func testConcurrentRotationOnce(t *testing.T, f Factory) {
	h := newHarness(t, f, func(c *core.Config) {
		c.RotateAfter = time.Hour
		c.IdleTimeout = 2 * time.Hour
	})
	old := h.newSession("a", "1")
	h.clock.Advance(61 * time.Minute)
	const n = 12
	var wg sync.WaitGroup
	var mu sync.Mutex
	var issued []string
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := h.do("POST", fmt.Sprintf("/write?key=k%d&value=v", i), h.withCookie(old))
			assert.Equal(t, http.StatusOK, r.status)
			if r.cookie != nil {
				mu.Lock()
				issued = append(issued, r.cookie.Value)
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	require.Len(t, issued, 1, "exactly one request rotates the token")
	assert.Equal(t, 1, h.events.count(core.EventRotated))
	for i := 0; i < n; i++ {
		status, _ := h.read(issued[0], fmt.Sprintf("k%d", i))
		assert.Equal(t, http.StatusOK, status, "write k%d survived the rotation", i)
	}
}

func testRevokedSessionStaysDead(t *testing.T, f Factory) {
	h := newHarness(t, f, nil)
	var toks []string
	for i := 0; i < 3; i++ {
		r := h.do("POST", "/login?user=carol")
		require.NotNil(t, r.cookie)
		toks = append(toks, r.cookie.Value)
	}
	keep := storeID(toks[0])
	n, err := h.m.RevokeAll(context.Background(), "carol", keep)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Equal(t, "carol", h.do("GET", "/whoami", h.withCookie(toks[0])).body, "the kept session lives")
	for _, tok := range toks[1:] {
		r := h.do("POST", "/write?key=a&value=1", h.withCookie(tok))
		require.NotNil(t, r.cookie, "a write after revocation starts a new session")
		assert.NotEqual(t, tok, r.cookie.Value)
		assert.Empty(t, h.do("GET", "/whoami", h.withCookie(r.cookie.Value)).body, "not the revoked user's")
		assert.Empty(t, h.do("GET", "/whoami", h.withCookie(tok)).body, "the revoked token stays dead")
	}
	assert.Equal(t, 2, h.events.count(core.EventRevoked))
}

// A token in the URL is never read (tokens leak through logs, history and
// Referer) and never copied into a cookie.
func testTokenInURLIgnored(t *testing.T, f Factory) {
	h := newHarness(t, f, func(c *core.Config) { c.Transport = core.TransportBoth })
	tok := h.newSession("a", "1")
	loads := h.spy.count("Load")
	for _, q := range []string{"__Host-session", "session", "token", "access_token", "Session-Token"} {
		r := h.do("GET", "/read?key=a&"+q+"="+tok)
		assert.Equal(t, http.StatusNotFound, r.status, "token in ?%s= was used", q)
		assert.Nil(t, r.cookie, "token in ?%s= produced a cookie", q)
		r = h.do("POST", "/write?key=b&value=2&"+q+"="+tok)
		require.NotNil(t, r.cookie)
		assert.NotEqual(t, tok, r.cookie.Value, "token in ?%s= was adopted", q)
		assert.NotEqual(t, tok, r.header.Get("Session-Token"))
	}
	assert.Equal(t, loads, h.spy.count("Load"), "a token in the URL reached the store")
	_, body := h.read(tok, "b")
	assert.NotEqual(t, "2", body, "a write with the token in the URL landed in that session")
}

// The __Host- prefix is the browser's guarantee that the cookie was set by
// this host, over HTTPS, for the whole site; a cookie of the bare name
// carries none of that and is not the session cookie.
func testUnprefixedCookieIgnored(t *testing.T, f Factory) {
	h := newHarness(t, f, nil)
	require.Equal(t, "__Host-session", h.cookieName())
	tok := h.newSession("a", "1")
	loads := h.spy.count("Load")
	for _, name := range []string{"session", "__Secure-session", "__host-session", "Host-session"} {
		r := h.do("GET", "/read?key=a", withHeader("Cookie", name+"="+tok))
		assert.Equal(t, http.StatusNotFound, r.status, "cookie %s= was accepted", name)
	}
	assert.Equal(t, loads, h.spy.count("Load"), "an unprefixed cookie reached the store")
	status, _ := h.read(tok, "a")
	assert.Equal(t, http.StatusOK, status, "the real cookie still works")
}

// lookalikeNames are cookie names a browser keeps apart from name but a
// careless comparison would not: name padded with a Unicode space or an
// invisible character (strings.TrimSpace strips all but U+FEFF), or with a
// character that only looks the same. Such a cookie carries none of the
// __Host- prefix's guarantees: a browser stores it from a plain-HTTP page
// or a sibling subdomain, because its name does not start with "__Host-".
func lookalikeNames(name string) map[string]string {
	out := map[string]string{
		"U+2010 hyphen":     strings.Replace(name, "-", "\u2010", 1),
		"lowercase __host-": strings.Replace(name, "__Host-", "__host-", 1),
	}
	for label, sp := range map[string]string{
		"U+2000": "\u2000", "U+00A0": "\u00a0", "U+0085": "\u0085",
		"U+3000": "\u3000", "U+1680": "\u1680", "U+FEFF": "\ufeff",
	} {
		out[label+" before"] = sp + name
		out[label+" after"] = name + sp
	}
	return out
}

// A cookie planted under a look-alike of the session cookie's name, holding
// the token of another user's live session, is not the session cookie: the
// request is served as anonymous, and alongside the real cookie the real
// session is served, not refused as ambiguous. The header goes out as raw
// bytes (UTF-8), as a browser sends a cookie it stored under that name.
func testLookalikeCookieNamesIgnored(t *testing.T, f Factory) {
	h := newHarness(t, f, nil)
	name := h.cookieName()
	require.Equal(t, "__Host-session", name)
	attacker := h.do("POST", "/login?user=mallory")
	require.NotNil(t, attacker.cookie)
	victim := h.do("POST", "/login?user=alice")
	require.NotNil(t, victim.cookie)
	// The planted token is live: under the real name it is mallory's.
	require.Equal(t, "mallory", h.do("GET", "/whoami", h.withCookie(attacker.cookie.Value)).body)

	for desc, planted := range lookalikeNames(name) {
		plant := planted + "=" + attacker.cookie.Value
		loads := h.spy.count("Load")
		r := h.do("GET", "/whoami", withHeader("Cookie", plant))
		assert.Equal(t, http.StatusOK, r.status, "%s: %s", desc, r.body)
		assert.Empty(t, r.body, "%s: the planted cookie was served as the session of %q", desc, r.body)
		assert.Nil(t, r.cookie, "%s: no cookie set for a read", desc)
		assert.Equal(t, loads, h.spy.count("Load"), "%s: the planted token reached the store", desc)

		real := name + "=" + victim.cookie.Value
		for _, header := range []string{plant + "; " + real, real + "; " + plant} {
			r = h.do("GET", "/whoami", withHeader("Cookie", header))
			assert.Equal(t, http.StatusOK, r.status, "%s: %q", desc, header)
			assert.Equal(t, "alice", r.body, "%s: the real session, not the planted one nor none, for %q", desc, header)
		}
		r = h.do("GET", "/whoami", withHeader("Cookie", plant), h.withCookie(victim.cookie.Value))
		assert.Equal(t, "alice", r.body, "%s: the real session, the planted cookie in a header of its own", desc)
	}
}

// In header transport two bearer tokens are as ambiguous as two session
// cookies: the request is served as anonymous whichever they are, and
// neither reaches the store. A bearer token beside a header of another
// scheme (Basic, for a proxy or an app of its own) is the only token and
// is served.
func testTwoBearerHeadersRefused(t *testing.T, f Factory) {
	h := newHarness(t, f, func(c *core.Config) { c.Transport = core.TransportHeader })
	alice := h.do("POST", "/login?user=alice").header.Get("Session-Token")
	require.True(t, isTokenShape(alice))
	bob := h.do("POST", "/login?user=bob").header.Get("Session-Token")
	require.True(t, isTokenShape(bob))
	require.Equal(t, "alice", h.do("GET", "/whoami", withBearer(alice)).body)

	for desc, mods := range map[string][]func(*http.Request){
		"two users' tokens": {withBearer(alice), withBearer(bob)},
		"the same token":    {withBearer(alice), withBearer(alice)},
		"a token and empty": {withBearer(alice), withHeader("Authorization", "Bearer")},
	} {
		loads := h.spy.count("Load")
		r := h.do("GET", "/whoami", mods...)
		assert.Equal(t, http.StatusOK, r.status, "%s: %s", desc, r.body)
		assert.Empty(t, r.body, "%s: two bearer headers served as %q", desc, r.body)
		assert.Empty(t, r.header.Get("Session-Token"), "%s: no token issued for a read", desc)
		assert.Equal(t, loads, h.spy.count("Load"), "%s: an ambiguous token reached the store", desc)
	}
	basic := withHeader("Authorization", "Basic dXNlcjpwYXNz")
	assert.Equal(t, "alice", h.do("GET", "/whoami", withBearer(alice), basic).body, "Bearer, then Basic")
	assert.Equal(t, "alice", h.do("GET", "/whoami", basic, withBearer(alice)).body, "Basic, then Bearer")
}

// A response whose handler read the session depends on the client's token,
// so it says so to caches: Vary names the token's header and Cache-Control
// has private, whatever else the handler chose; it sets no cookie, since
// nothing changed. A handler that never looked at the session gets no
// Vary and no Cache-Control from the middleware.
func testReadResponseVaries(t *testing.T, f Factory) {
	for _, tc := range []struct {
		transport core.Transport
		vary      string
	}{
		{core.TransportCookie, "Cookie"},
		{core.TransportHeader, "Authorization"},
		{core.TransportBoth, "Cookie, Authorization"},
	} {
		t.Run(tc.vary, func(t *testing.T) {
			h := newHarness(t, f, func(c *core.Config) { c.Transport = tc.transport })
			created := h.do("POST", "/write?key=a&value=1")
			require.Equal(t, http.StatusOK, created.status)
			tok := created.header.Get("Session-Token")
			var send func(*http.Request)
			if created.cookie != nil {
				tok = created.cookie.Value
				send = h.withCookie(tok)
			} else {
				send = withBearer(tok)
			}
			require.True(t, isTokenShape(tok))

			for desc, mods := range map[string][]func(*http.Request){
				"a value of the session": {send},
				"an anonymous read":      nil,
			} {
				r := h.do("GET", "/read?key=a", mods...)
				assert.Equal(t, []string{tc.vary}, r.header.Values("Vary"), "%s: Vary", desc)
				assert.Contains(t, strings.Join(r.header.Values("Cache-Control"), ", "), "private", "%s: Cache-Control", desc)
				assert.NotContains(t, strings.Join(r.header.Values("Cache-Control"), ", "), "no-store", "%s: nothing to hide from the browser's own cache", desc)
				assert.Empty(t, r.header.Values("Set-Cookie"), "%s: no Set-Cookie", desc)
				assert.Empty(t, r.header.Get("Session-Token"), "%s: no token", desc)
			}
			r := h.do("GET", "/read?key=a", send)
			assert.Equal(t, "1", r.body, "the read saw the session")

			r = h.do("GET", "/untouched", send)
			require.Equal(t, "nothing", r.body)
			assert.Empty(t, r.header.Values("Vary"), "a handler that never read the session varies by nothing of ours")
			assert.Empty(t, r.header.Values("Cache-Control"))
			assert.Empty(t, r.header.Values("Set-Cookie"))
		})
	}
}

// testDeadCookieCleared: a well-formed cookie that names no session (never
// existed, logged out) is cleared by the response, through the framework's
// own response API, so the browser stops sending it.
func testDeadCookieCleared(t *testing.T, f Factory) {
	h := newHarness(t, f, nil)
	tok := h.newSession("a", "1")
	require.Nil(t, h.do("GET", "/read?key=a", h.withCookie(tok)).cookie, "a live cookie is left alone")
	require.Equal(t, http.StatusOK, h.do("POST", "/logout", h.withCookie(tok)).status)
	for desc, dead := range map[string]string{"logged out": tok, "unknown": wellFormedToken(t)} {
		r := h.do("GET", "/read?key=a", h.withCookie(dead))
		assert.Equal(t, http.StatusNotFound, r.status, desc)
		if assert.NotNil(t, r.cookie, "%s: the dead cookie is not cleared", desc) {
			assert.Empty(t, r.cookie.Value, desc)
			assert.Less(t, r.cookie.MaxAge, 0, "%s: Max-Age=0", desc)
			assert.Equal(t, "/", r.cookie.Path, "%s: the clearing cookie matches the one it clears", desc)
		}
	}
}

// testRememberedCookiePersists: a login with remember me gets a cookie
// with Max-Age and Expires for the session's lifetime; any other login a
// browser-session cookie, with neither.
func testRememberedCookiePersists(t *testing.T, f Factory) {
	h := newHarness(t, f, nil)
	cfg := h.m.Config()
	r := h.do("POST", "/login?user=alice&remember=1")
	require.Equal(t, http.StatusOK, r.status, r.body)
	require.NotNil(t, r.cookie)
	assert.InDelta(t, cfg.RememberLifetime.Seconds(), float64(r.cookie.MaxAge), 5, "Max-Age of a remembered session")
	assert.WithinDuration(t, cfg.Now().Add(cfg.RememberLifetime), r.cookie.Expires, 5*time.Second, "Expires of a remembered session")

	r = h.do("POST", "/login?user=alice&remember=1", h.withCookie(r.cookie.Value))
	require.NotNil(t, r.cookie)
	r = h.do("POST", "/login?user=alice", h.withCookie(r.cookie.Value))
	require.NotNil(t, r.cookie)
	assert.Zero(t, r.cookie.MaxAge, "a plain login's cookie has no Max-Age")
	assert.True(t, r.cookie.Expires.IsZero(), "a plain login's cookie has no Expires")

	r = h.do("POST", "/login?user=alice&label=%07bell")
	assert.Equal(t, http.StatusBadRequest, r.status, "a label with a control character")
	assert.Nil(t, r.cookie, "a refused login set a cookie")
}
