package e2e

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// plantedName looks like the session cookie's name but is another name:
// it starts with U+2000 (EN QUAD), not with "__Host-", so a browser applies
// none of the prefix's rules to it and stores it from any page of the
// host. A server that trimmed Unicode spaces from cookie names (Go's
// strings.TrimSpace does) would take it for the session cookie.
const plantedName = "\u2000" + cookieName

// TestBrowserIgnoresPlantedLookalikeCookie plants, from a plain-HTTP page
// that is not the demo's, a cookie under plantedName holding the token of
// a live session of the user "attacker", and shows that the demo ignores
// it: the browser sends it to the demo (cookies are per host, not per
// port), and the demo answers /me 401, not as the attacker. Once the
// victim logs in beside it, /me answers the victim: the planted cookie is
// neither taken for the session nor makes the real one ambiguous.
//
// The planting page is a second, tiny plain-HTTP server on another
// loopback port of the same host name, localhost: another service on the
// host, or an attacker's page there. It plants the cookie as a page on a
// really insecure origin (http://example.com) would, with neither Secure
// nor HttpOnly. Such a page cannot set the real name at all, since
// "__Host-" requires Secure; the test checks that the browser refuses the
// real name without Secure, and takes the look-alike, to which no prefix
// rule applies. (Chromium counts http://localhost as trustworthy, so this
// page could have set a Secure cookie; it does not need to.)
func TestBrowserIgnoresPlantedLookalikeCookie(t *testing.T) {
	chromium := chromiumPath(t)
	d := startDemo(t) // default flags: Secure __Host- cookie
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, "<!doctype html><title>another service</title><p>not the demo</p>")
	}))
	defer other.Close()
	u, err := url.Parse(other.URL)
	require.NoError(t, err)
	otherBase := "http://localhost:" + u.Port()
	require.NotEqual(t, d.base, otherBase)

	attacker := d.login(t, "attacker")
	status, body, _ := d.get(t, "/me", attacker)
	require.Equal(t, http.StatusOK, status, "the attacker's token is live, so ignoring it is a fair test: %s", body)
	require.JSONEq(t, `{"user":"attacker"}`, body)

	browser := startBrowser(t, chromium)
	v := newTab(t, browser, "V", d.base)

	// 1. The other page plants the cookie with a script, no Secure, no
	// HttpOnly: all a plain-HTTP page can do.
	x, page := v.navigateAt(otherBase, "/")
	require.Equal(t, http.StatusOK, x.Status)
	require.Contains(t, page, "not the demo")
	require.Empty(t, x.Cookie)
	seen := run(v, chromedp.Evaluate[string](`(() => {
		document.cookie = "`+cookieName+`=refused; Path=/";
		document.cookie = `+jsValue(t, plantedName+"="+attacker+"; Path=/")+`;
		return document.cookie;
	})()`))
	require.NotContains(t, seen, "refused", "the browser enforces the __Host- prefix on the real name")
	require.Contains(t, seen, plantedName+"="+attacker, "the browser accepts the look-alike name")
	jar := v.jar()
	require.Len(t, jar, 1, "the jar holds the planted cookie only: %s", describeCookies(jar))
	require.Equal(t, plantedName, jar[0].Name, "stored under the look-alike name: %s", describeCookies(jar))
	require.Equal(t, attacker, jar[0].Value)
	require.Equal(t, "localhost", jar[0].Domain, "host-only, for the demo's host too")
	require.Equal(t, "/", jar[0].Path)
	require.False(t, jar[0].Secure)
	require.False(t, jar[0].HTTPOnly)

	// 2. The demo receives it and ignores it: no session, so not logged in.
	x, page = v.navigate("/me")
	require.Equal(t, http.StatusUnauthorized, x.Status, "the planted cookie was taken for the session: %s", page)
	require.JSONEq(t, `{"error":"not logged in"}`, page)
	require.Equal(t, []string{plantedName + "=" + attacker}, x.Attached, "the browser sent the planted cookie to the demo")
	requirePlantedOnWire(t, x.Cookie, attacker)
	for _, p := range wirePairs(x.Cookie) {
		require.NotEqual(t, cookieName, p[0], "no cookie of the real name on the wire: %q", x.Cookie)
	}
	require.Empty(t, x.SetCookie, "a read sets no cookie")

	// 3. The victim logs in with the planted cookie still in the jar: the
	// real session cookie is issued beside it.
	x, page = v.submitForm("/login", map[string]string{"user": "victim"})
	require.Equal(t, http.StatusOK, x.Status)
	require.JSONEq(t, `{"user":"victim"}`, page)
	require.Equal(t, []string{plantedName + "=" + attacker}, x.Attached, "the login request carried only the planted cookie")
	victim := requireIssued(t, x).Value
	require.NotEqual(t, attacker, victim)
	jar = v.jar()
	require.Len(t, jar, 2, describeCookies(jar))

	// 4. Both cookies go to the demo; the real one is served, the
	// look-alike neither wins nor makes the request ambiguous.
	x, page = v.navigate("/me")
	require.Equal(t, http.StatusOK, x.Status, page)
	require.JSONEq(t, `{"user":"victim"}`, page)
	require.ElementsMatch(t, []string{plantedName + "=" + attacker, cookieName + "=" + victim}, x.Attached,
		"the browser sent both cookies")
	requirePlantedOnWire(t, x.Cookie, attacker)
	require.Equal(t, victim, sessionOnWire(t, x.Cookie), "the real cookie went on the wire beside it")
}

// wirePairs splits a Cookie header as it went on the wire into its
// name=value pairs. http.ParseCookie would refuse the planted name.
func wirePairs(header string) [][2]string {
	var pairs [][2]string
	for _, part := range strings.Split(header, "; ") {
		name, value, _ := strings.Cut(part, "=")
		pairs = append(pairs, [2]string{name, value})
	}
	return pairs
}

// requirePlantedOnWire checks that the Cookie header the browser sent
// holds token under the planted name, byte for byte. DevTools reports raw
// header bytes as Windows-1252, so U+2000's UTF-8 (E2 80 80) shows as
// "â€€"; either rendering is the planted name.
func requirePlantedOnWire(t *testing.T, header, token string) {
	t.Helper()
	for _, p := range wirePairs(header) {
		if p[1] != token {
			continue
		}
		require.Contains(t, []string{plantedName, "â€€" + cookieName}, p[0],
			"the token went on the wire under the planted name: %q", header)
		return
	}
	t.Fatalf("the planted token is not on the wire: %q", header)
}

// sessionOnWire returns the value of the one pair named exactly cookieName
// in the Cookie header the browser sent.
func sessionOnWire(t *testing.T, header string) string {
	t.Helper()
	var values []string
	for _, p := range wirePairs(header) {
		if p[0] == cookieName {
			values = append(values, p[1])
		}
	}
	require.Len(t, values, 1, "one %s pair on the wire: %q", cookieName, header)
	return values[0]
}
