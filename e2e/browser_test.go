package e2e

import (
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// cookieName is the demo's cookie under its default, secure settings:
// Secure, Path=/ and no Domain let the library use the __Host- prefix.
const cookieName = "__Host-session"

// tokenRE is a session token: 32 random bytes, base64url without padding.
var tokenRE = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// TestBrowserSessionLifecycle drives headless Chromium through the demo's
// session lifecycle: an anonymous counter, login, a second browser logged
// in as the same user, revocation of that browser from the first, and
// logout. At each step it checks what the browser stores (its cookie jar,
// read over the DevTools protocol) and what it sends (the Cookie header as
// it went on the wire), not only what the server answers.
//
// The demo runs with its default flags, so the cookie is
// "__Host-session; Path=/; HttpOnly; Secure; SameSite=Lax", over plain
// http: Chromium counts http://localhost as potentially trustworthy, and
// stores and sends Secure cookies (and so __Host- ones) for it as for an
// https origin. Chromium 156 does the same for http://127.0.0.1; the test
// uses localhost, the name a developer types, and requires the cookie to
// be host-only for it. A browser that refused the Secure cookie would
// fail the test at the first write (requireIssued reports its reasons).
func TestBrowserSessionLifecycle(t *testing.T) {
	start := time.Now()
	chromium := chromiumPath(t)
	d := startDemo(t) // default flags: Secure cookie, memory store
	browser := startBrowser(t, chromium)
	a := newTab(t, browser, "A", d.base)
	b := newTab(t, browser, "B", d.base)
	t.Logf("demo built and started, Chromium started: %v", time.Since(start).Round(time.Millisecond))
	start = time.Now()

	// 1. A, anonymous: reading the counter creates nothing; incrementing it
	// creates the session and the browser stores its cookie.
	x, page := a.navigate("/counter")
	require.Equal(t, http.StatusOK, x.Status)
	require.JSONEq(t, `{"count":0}`, page)
	require.Empty(t, x.Cookie, "a fresh browser sends no cookie")
	require.Empty(t, x.SetCookie, "GET /counter never creates a session")
	require.Nil(t, a.storedSession())

	x, res := a.fetch(http.MethodPost, "/counter", nil)
	require.Equal(t, http.StatusOK, res.Status)
	require.JSONEq(t, `{"count":1}`, res.Body)
	require.Empty(t, x.Cookie)
	issued := requireIssued(t, x)
	requireSecureDefaults(t, issued)
	aToken := requireStored(t, a, "A after the first POST /counter")
	require.Equal(t, issued.Value, aToken, "the browser stores the cookie the server set")

	x, res = a.fetch(http.MethodPost, "/counter", nil)
	require.JSONEq(t, `{"count":2}`, res.Body)
	require.Equal(t, aToken, sentSession(t, x), "the browser sends the stored cookie back")
	require.Empty(t, x.SetCookie, "a plain write keeps the token: no new cookie")
	require.Equal(t, aToken, requireStored(t, a, "A after the second POST /counter"))

	// A top-level navigation (SameSite=Lax, same site) carries it too.
	x, page = a.navigate("/counter")
	require.JSONEq(t, `{"count":2}`, page)
	require.Equal(t, aToken, sentSession(t, x))

	// HttpOnly: the page's scripts cannot see the cookie. The probe cookie
	// proves document.cookie works on this page at all; it is deleted at
	// once, before any request could carry it.
	seen := run(a, chromedp.Evaluate[string](`(() => {
		document.cookie = "e2e_probe=1; Path=/; SameSite=Lax";
		const seen = document.cookie;
		document.cookie = "e2e_probe=; Path=/; Max-Age=0";
		return seen;
	})()`))
	require.Contains(t, seen, "e2e_probe=1", "document.cookie works on the page")
	require.NotContains(t, seen, cookieName, "document.cookie must not show an HttpOnly cookie")
	require.NotContains(t, seen, aToken)
	require.Equal(t, aToken, requireStored(t, a, "A after the document.cookie probe"))

	// 2. A logs in with a real form: the token is renewed (no session
	// fixation), the old one is dead at once, and the data survives.
	x, page = a.submitForm("/login", map[string]string{"user": "alice"})
	require.Equal(t, http.StatusOK, x.Status)
	require.JSONEq(t, `{"user":"alice"}`, page)
	require.Equal(t, aToken, sentSession(t, x), "the login request carries the anonymous session")
	renewed := requireIssued(t, x)
	requireSecureDefaults(t, renewed)
	oldAToken := aToken
	aToken = requireStored(t, a, "A after login")
	require.Equal(t, renewed.Value, aToken)
	require.NotEqual(t, oldAToken, aToken, "login renews the token")

	// The old token, replayed by another client, is no session at all; the
	// new one, sent by that same client, is alice's (so the replay is a
	// fair test).
	status, body, setCookie := d.get(t, "/me", oldAToken)
	require.Equal(t, http.StatusUnauthorized, status, "the pre-login token is dead: %s", body)
	require.Equal(t, []string{cookieName + "=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; Secure; SameSite=Lax"}, setCookie,
		"and its cookie is cleared, with the attributes it was set with")
	status, body, _ = d.get(t, "/counter", oldAToken)
	require.Equal(t, http.StatusOK, status)
	require.JSONEq(t, `{"count":0}`, body, "the pre-login token reaches no data")
	status, body, _ = d.get(t, "/me", aToken)
	require.Equal(t, http.StatusOK, status)
	require.JSONEq(t, `{"user":"alice"}`, body)

	x, res = a.fetch(http.MethodGet, "/me", nil)
	require.Equal(t, http.StatusOK, res.Status)
	require.JSONEq(t, `{"user":"alice"}`, res.Body)
	require.Equal(t, aToken, sentSession(t, x), "the browser now sends the renewed token")
	x, res = a.fetch(http.MethodGet, "/counter", nil)
	require.JSONEq(t, `{"count":2}`, res.Body, "the counter survives the login")
	require.Equal(t, aToken, sentSession(t, x))
	aUserAgent := x.UserAgent
	require.NotEmpty(t, aUserAgent)

	// 3. B, another browser context (another jar), logs in as alice too.
	x, page = b.navigate("/healthz")
	require.JSONEq(t, `{"ok":true}`, page)
	require.Empty(t, x.Cookie, "B does not share A's jar")
	require.Nil(t, b.storedSession())

	x, res = b.fetch(http.MethodPost, "/login", url.Values{"user": {"alice"}})
	require.Equal(t, http.StatusOK, res.Status)
	require.JSONEq(t, `{"user":"alice"}`, res.Body)
	require.Empty(t, x.Cookie, "login without a session")
	requireSecureDefaults(t, requireIssued(t, x))
	bToken := requireStored(t, b, "B after login")
	require.NotEqual(t, aToken, bToken, "each browser has its own session")
	require.Equal(t, aToken, requireStored(t, a, "A after B's login"), "B's login leaves A's cookie alone")

	x, res = b.fetch(http.MethodGet, "/me", nil)
	require.JSONEq(t, `{"user":"alice"}`, res.Body)
	require.Equal(t, bToken, sentSession(t, x))
	_, res = b.fetch(http.MethodGet, "/counter", nil)
	require.JSONEq(t, `{"count":0}`, res.Body, "B's session has its own values")

	// 4. Both see alice's two sessions, each marked current in its own
	// browser; A revokes B's.
	_, res = a.fetch(http.MethodGet, "/sessions", nil)
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	aList := decodeSessions(t, res.Body)
	require.Len(t, aList, 2, res.Body)
	aID, bID := currentAndOther(t, aList)
	_, res = b.fetch(http.MethodGet, "/sessions", nil)
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	bList := decodeSessions(t, res.Body)
	require.Len(t, bList, 2, res.Body)
	bCurrent, bOther := currentAndOther(t, bList)
	require.Equal(t, bID, bCurrent, "the session A sees as the other is the one B is on")
	require.Equal(t, aID, bOther)
	for _, s := range aList {
		require.NotContains(t, []string{aToken, bToken, oldAToken}, s.ID, "a session id is not a token")
		require.NotContains(t, s.ID, aToken)
		require.NotContains(t, s.ID, bToken)
		require.Equal(t, aUserAgent, s.UserAgent, "the user agent the browser sent at login")
		require.True(t, net.ParseIP(s.IP).IsLoopback(), "ip %q", s.IP)
		require.Empty(t, s.Label, "no label given")
		require.False(t, s.Remembered, "nor remember")
	}

	x, res = a.fetch(http.MethodDelete, "/sessions/"+url.PathEscape(bID), nil)
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	require.JSONEq(t, `{"revoked":1}`, res.Body)
	require.Equal(t, aToken, sentSession(t, x))
	require.Empty(t, x.SetCookie, "revoking another session leaves A's cookie alone")
	require.Equal(t, aToken, requireStored(t, a, "A after revoking B"))
	_, res = a.fetch(http.MethodGet, "/sessions", nil)
	aList = decodeSessions(t, res.Body)
	require.Len(t, aList, 1, res.Body)
	require.Equal(t, aID, aList[0].ID)
	require.True(t, aList[0].Current)

	// 5. B is logged out on its next request, a read: the server treats the
	// revoked token as no session and clears the cookie, so the browser
	// drops it (a read on a live session never sets a cookie:
	// docs/DESIGN.md, lazy sessions). B's next write starts a new, empty
	// session.
	require.Equal(t, bToken, requireStored(t, b, "B after revocation"), "revocation happens server-side only")
	x, res = b.fetch(http.MethodGet, "/me", nil)
	require.Equal(t, http.StatusUnauthorized, res.Status, res.Body)
	require.JSONEq(t, `{"error":"not logged in"}`, res.Body)
	require.Equal(t, bToken, sentSession(t, x), "B still sends its revoked token")
	requireClearing(t, x, "the revoked cookie is cleared")
	require.Nil(t, b.storedSession(), "B's jar no longer holds the dead cookie")
	status, body, _ = d.get(t, "/me", bToken)
	require.Equal(t, http.StatusUnauthorized, status, "the revoked token is dead for any client: %s", body)

	x, res = b.fetch(http.MethodPost, "/counter", nil)
	require.JSONEq(t, `{"count":1}`, res.Body)
	require.Empty(t, x.Cookie, "B sends no cookie any more")
	requireSecureDefaults(t, requireIssued(t, x))
	newBToken := requireStored(t, b, "B after POST /counter")
	require.NotEqual(t, bToken, newBToken, "a fresh session never adopts the revoked token")
	_, res = b.fetch(http.MethodGet, "/me", nil)
	require.Equal(t, http.StatusUnauthorized, res.Status, "the fresh session is anonymous: %s", res.Body)

	// 6. A logs out: the server clears the cookie and the browser drops it.
	x, res = a.fetch(http.MethodPost, "/logout", nil)
	require.Equal(t, http.StatusOK, res.Status)
	require.JSONEq(t, `{"ok":true}`, res.Body)
	require.Equal(t, aToken, sentSession(t, x))
	requireClearing(t, x, "logout clears the cookie")
	require.Equal(t, "no-store", x.CacheControl)
	require.Nil(t, a.storedSession(), "A's jar no longer holds the session cookie")

	x, res = a.fetch(http.MethodGet, "/me", nil)
	require.Equal(t, http.StatusUnauthorized, res.Status, res.Body)
	require.JSONEq(t, `{"error":"not logged in"}`, res.Body)
	require.Empty(t, x.Cookie, "after logout the browser sends no cookie")
	require.Empty(t, x.SetCookie)
	status, body, _ = d.get(t, "/me", aToken)
	require.Equal(t, http.StatusUnauthorized, status, "the logged-out token is dead server-side too: %s", body)

	// B's fresh anonymous session is untouched by A's logout.
	require.Equal(t, newBToken, requireStored(t, b, "B after A's logout"))

	t.Logf("scenario: %v", time.Since(start).Round(time.Millisecond))
}

// requireIssued returns the one session cookie the response set, checking
// that the browser stored it (blocked nothing).
func requireIssued(t *testing.T, x *exchange) *http.Cookie {
	t.Helper()
	require.Len(t, x.SetCookie, 1, "one Set-Cookie on %s %s", x.Method, x.URL)
	require.Empty(t, x.Blocked, "the browser refused a cookie on %s %s", x.Method, x.URL)
	require.Equal(t, "no-store", x.CacheControl, "a response that sets the token is never cached")
	c, err := http.ParseSetCookie(x.SetCookie[0])
	require.NoError(t, err, x.SetCookie[0])
	require.Equal(t, cookieName, c.Name)
	require.Regexp(t, tokenRE, c.Value)
	return c
}

// requireSecureDefaults checks the attributes the server set: the
// library's defaults, which the demo keeps.
func requireSecureDefaults(t *testing.T, c *http.Cookie) {
	t.Helper()
	require.True(t, c.HttpOnly, "HttpOnly")
	require.True(t, c.Secure, "Secure")
	require.Equal(t, http.SameSiteLaxMode, c.SameSite)
	require.Equal(t, "/", c.Path)
	require.Empty(t, c.Domain, "host-only")
	require.Zero(t, c.MaxAge, "no Max-Age: a browser-session cookie")
	require.True(t, c.Expires.IsZero(), "no Expires: a browser-session cookie")
	require.False(t, c.Partitioned)
}

// requireStored checks the session cookie in the tab's jar, as the browser
// keeps it, and returns its value.
func requireStored(t *testing.T, tb *tab, step string) string {
	t.Helper()
	c := tb.storedSession()
	require.NotNil(t, c, "%s: the browser stores the session cookie", step)
	requireStoredAttributes(t, c, step)
	require.True(t, c.Session, "%s: a browser-session cookie (no expiry)", step)
	return c.Value
}

// requireStoredAttributes checks what every session cookie of the demo
// holds in the jar, whether it expires or not.
func requireStoredAttributes(t *testing.T, c *network.Cookie, step string) {
	t.Helper()
	require.Regexp(t, tokenRE, c.Value, step)
	require.Equal(t, "localhost", c.Domain, "%s: host-only, for localhost", step)
	require.Equal(t, "/", c.Path, step)
	require.True(t, c.HTTPOnly, "%s: HttpOnly", step)
	require.True(t, c.Secure, "%s: Secure", step)
	require.Equal(t, network.CookieSameSiteLax, c.SameSite, step)
	require.Nil(t, c.PartitionKey, step)
}

// sentSession returns the session token in the Cookie header the browser
// sent, requiring exactly one.
func sentSession(t *testing.T, x *exchange) string {
	t.Helper()
	require.NotEmpty(t, x.Cookie, "%s %s: the browser sent no Cookie header (withheld: %v)", x.Method, x.URL, x.Withheld)
	cookies, err := http.ParseCookie(x.Cookie)
	require.NoError(t, err, x.Cookie)
	var values []string
	for _, c := range cookies {
		require.Equal(t, cookieName, c.Name, "the browser sends only the session cookie: %s", x.Cookie)
		values = append(values, c.Value)
	}
	require.Len(t, values, 1, "one session cookie in %q", x.Cookie)
	return values[0]
}

// requireClearing requires that x's answer clears the session cookie, with
// the attributes it was set with, and that the browser took it.
func requireClearing(t *testing.T, x *exchange, msg string) {
	t.Helper()
	require.Len(t, x.SetCookie, 1, msg)
	cleared, err := http.ParseSetCookie(x.SetCookie[0])
	require.NoError(t, err, x.SetCookie[0])
	require.Equal(t, cookieName, cleared.Name, msg)
	require.Empty(t, cleared.Value, msg)
	require.Less(t, cleared.MaxAge, 0, "%s: Max-Age=0: %s", msg, x.SetCookie[0])
	require.Equal(t, "/", cleared.Path, "%s: same Path, or the browser would keep the cookie", msg)
	require.True(t, cleared.Secure, "%s: a __Host- cookie is cleared with Secure, or the browser ignores it", msg)
	require.Empty(t, x.Blocked, "%s: the browser accepts the clearing cookie", msg)
}

// sessionInfo is one entry of GET /sessions.
type sessionInfo struct {
	ID         string `json:"id"`
	Current    bool   `json:"current"`
	CreatedAt  string `json:"created_at"`
	LastSeen   string `json:"last_seen"`
	ExpiresAt  string `json:"expires_at"`
	UserAgent  string `json:"user_agent"`
	IP         string `json:"ip"`
	Label      string `json:"label"`
	Remembered bool   `json:"remembered"`
}

func decodeSessions(t *testing.T, body string) []sessionInfo {
	t.Helper()
	var v struct {
		Sessions []sessionInfo `json:"sessions"`
	}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&v), body)
	for _, s := range v.Sessions {
		require.NotEmpty(t, s.ID, body)
		for _, ts := range []string{s.CreatedAt, s.LastSeen, s.ExpiresAt} {
			_, err := time.Parse(time.RFC3339, ts)
			require.NoError(t, err, "RFC 3339 times: %s", body)
		}
	}
	return v.Sessions
}

// currentAndOther splits a list of two sessions into the current one and
// the other, requiring exactly one current.
func currentAndOther(t *testing.T, list []sessionInfo) (current, other string) {
	t.Helper()
	require.Len(t, list, 2)
	require.NotEqual(t, list[0].Current, list[1].Current, "exactly one session is current: %+v", list)
	require.NotEqual(t, list[0].ID, list[1].ID)
	if list[0].Current {
		return list[0].ID, list[1].ID
	}
	return list[1].ID, list[0].ID
}
