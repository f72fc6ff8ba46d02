package e2e

import (
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/stretchr/testify/require"
)

// rememberFor is the demo's -remember default: the lifetime of a session
// logged in with remember, and the Max-Age of its cookie.
const rememberFor = 720 * time.Hour

// TestBrowserRememberSurvivesRestart restarts Chromium on one profile
// directory of the test's own, as a user quits and reopens the browser,
// and shows that a session logged in with remember survives the restart
// and a plain one does not:
//
//  1. Chromium logs in with the demo's login form, without remember: the
//     cookie is a browser-session cookie (no Max-Age, no Expires). The
//     browser is closed and started again on the profile: its jar is
//     empty, /me goes without a cookie and is 401, although the session
//     still lives on the server (its token, sent by another client, is
//     still the user's): the browser forgot it, as it must.
//  2. It logs in again, with remember=1: the cookie carries Max-Age and
//     Expires, 720h ahead, and the jar holds it as persistent. After
//     another restart the jar holds the same cookie, and /me, with that
//     token on the wire, answers the user.
//
// The tabs are in the profile's default browser context: the isolated
// contexts of the other tests keep their cookies in memory only. Each
// restart is a graceful close (Browser.close), which makes Chromium write
// its cookie store to the profile's Cookies database, and a wait until
// Chromium and its helpers have exited (see browser.Close); the next
// Chromium reads the database when it starts. The database holds the
// browser-session cookie too, and Chromium drops it as it loads it,
// because the profile does not restore the last session at startup: a
// fresh profile opens a new tab, and no flag is needed to keep it so. With
// "Continue where you left off" (session.restore_on_startup 1 in the
// profile's preferences) Chromium keeps browser-session cookies across a
// restart, headless too, and the plain login would survive it: for a
// user with that setting, the server's idle timeout and lifetime, not the
// browser, end a plain session.
func TestBrowserRememberSurvivesRestart(t *testing.T) {
	start := time.Now()
	chromium := chromiumPath(t)
	d := startDemo(t) // default flags: Secure __Host- cookie, -remember 720h
	// Made before any browser starts, so that its removal, a cleanup,
	// runs after theirs.
	profile := t.TempDir()
	t.Logf("demo built and started: %v", time.Since(start).Round(time.Millisecond))

	// 1. A plain login does not survive a restart.
	start = time.Now()
	b := startProfileBrowser(t, chromium, profile, "Chromium, first run")
	p := newProfileTab(t, b, "P", d.base)
	t.Logf("first run started: %v", time.Since(start).Round(time.Millisecond))
	x, page := p.navigate("/healthz")
	require.Equal(t, http.StatusOK, x.Status, page)
	require.Empty(t, x.Cookie, "a fresh profile sends no cookie")
	x, page = p.submitForm("/login", map[string]string{"user": "alice"})
	require.Equal(t, http.StatusOK, x.Status, page)
	require.JSONEq(t, `{"user":"alice"}`, page)
	requireSecureDefaults(t, requireIssued(t, x)) // no Max-Age, no Expires
	plainToken := requireStored(t, p, "after the plain login")
	x, page = p.navigate("/me")
	require.JSONEq(t, `{"user":"alice"}`, page)
	require.Equal(t, plainToken, sentSession(t, x))

	restartStart := time.Now()
	require.NoError(t, b.Close(), "closing the first run")
	closed := time.Since(restartStart)
	b = startProfileBrowser(t, chromium, profile, "Chromium, second run")
	q := newProfileTab(t, b, "Q", d.base)
	t.Logf("first restart: close %v, start %v", closed.Round(time.Millisecond), (time.Since(restartStart) - closed).Round(time.Millisecond))
	require.Nil(t, q.storedSession(), "the browser-session cookie did not survive the restart")
	x, page = q.navigate("/me")
	require.Equal(t, http.StatusUnauthorized, x.Status, page)
	require.JSONEq(t, `{"error":"not logged in"}`, page)
	require.Empty(t, x.Cookie, "after the restart the browser sends no cookie")
	require.Empty(t, x.SetCookie)
	status, body, _ := d.get(t, "/me", plainToken)
	require.Equal(t, http.StatusOK, status, "the plain session still lives on the server, so the browser forgot it: %s", body)
	require.JSONEq(t, `{"user":"alice"}`, body)

	// 2. A remembered login does.
	x, page = q.submitForm("/login", map[string]string{"user": "alice", "remember": "1", "label": "e2e restart"})
	require.Equal(t, http.StatusOK, x.Status, page)
	require.JSONEq(t, `{"user":"alice"}`, page)
	issuedAt := time.Now()
	issued := requireIssued(t, x)
	requireRememberedCookie(t, issued, issuedAt)
	remembered := requireStoredRemembered(t, q, "after the remembered login", issuedAt)
	require.Equal(t, issued.Value, remembered.Value, "the browser stores the cookie the server set")
	require.NotEqual(t, plainToken, remembered.Value)
	_, res := q.fetch(http.MethodGet, "/sessions", nil)
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	var current *sessionInfo
	sessions := decodeSessions(t, res.Body)
	for i := range sessions {
		if sessions[i].Current {
			current = &sessions[i]
		}
	}
	require.NotNil(t, current, res.Body)
	require.True(t, current.Remembered, res.Body)
	require.Equal(t, "e2e restart", current.Label, res.Body)

	restartStart = time.Now()
	require.NoError(t, b.Close(), "closing the second run")
	closed = time.Since(restartStart)
	b = startProfileBrowser(t, chromium, profile, "Chromium, third run")
	r := newProfileTab(t, b, "R", d.base)
	t.Logf("second restart: close %v, start %v", closed.Round(time.Millisecond), (time.Since(restartStart) - closed).Round(time.Millisecond))
	restored := requireStoredRemembered(t, r, "after the restart", issuedAt)
	require.Equal(t, remembered.Value, restored.Value, "the remembered cookie survived the restart")
	require.Equal(t, remembered.Expires, restored.Expires, "with its expiry")
	x, page = r.navigate("/me")
	require.Equal(t, http.StatusOK, x.Status, page)
	require.JSONEq(t, `{"user":"alice"}`, page, "still logged in after the restart")
	require.Equal(t, remembered.Value, sentSession(t, x), "the restarted browser sends the remembered token")
	require.Empty(t, x.SetCookie, "a read on a live session sets no cookie")
	t.Logf("scenario: %v", time.Since(start).Round(time.Millisecond))
}

// requireRememberedCookie checks the cookie of a login with remember: the
// secure defaults, and Max-Age and Expires rememberFor after issuedAt.
func requireRememberedCookie(t *testing.T, c *http.Cookie, issuedAt time.Time) {
	t.Helper()
	require.True(t, c.HttpOnly, "HttpOnly")
	require.True(t, c.Secure, "Secure")
	require.Equal(t, http.SameSiteLaxMode, c.SameSite)
	require.Equal(t, "/", c.Path)
	require.Empty(t, c.Domain, "host-only")
	require.False(t, c.Partitioned)
	require.Equal(t, int(rememberFor/time.Second), c.MaxAge, "Max-Age: the remember lifetime")
	require.False(t, c.Expires.IsZero(), "Expires, for clients without Max-Age")
	require.WithinDuration(t, issuedAt.Add(rememberFor), c.Expires, time.Minute, "Expires: the remember lifetime ahead")
}

// requireStoredRemembered checks the session cookie in the tab's jar as a
// persistent one, expiring rememberFor after issuedAt, and returns it.
func requireStoredRemembered(t *testing.T, tb *tab, step string, issuedAt time.Time) *network.Cookie {
	t.Helper()
	c := tb.storedSession()
	require.NotNil(t, c, "%s: the browser stores the session cookie", step)
	requireStoredAttributes(t, c, step)
	require.False(t, c.Session, "%s: a persistent cookie, not a browser-session one", step)
	sec, frac := math.Modf(c.Expires)
	expires := time.Unix(int64(sec), int64(frac*1e9))
	require.WithinDuration(t, issuedAt.Add(rememberFor), expires, time.Minute, "%s: expires the remember lifetime after the login", step)
	return c
}
