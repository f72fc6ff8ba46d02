package e2e

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestBrowserCrossOriginRefused has pages of other origins post real HTML
// forms to the demo, as a cross-site request forgery would, and shows that
// the demo's cross-origin protection (net/http's CrossOriginProtection)
// refuses them with 403 before the session is touched: one from another
// port of the demo's host (same-site, so the browser attaches the
// SameSite=Lax session cookie, which Lax does not prevent), and one from
// another host (cross-site: a login CSRF, which needs no cookie). The
// demo's own pages post as before.
func TestBrowserCrossOriginRefused(t *testing.T) {
	chromium := chromiumPath(t)
	d := startDemo(t)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, "<!doctype html><title>another site</title><p>not the demo</p>")
	}))
	defer other.Close()
	u, err := url.Parse(other.URL)
	require.NoError(t, err)
	sameSite := "http://localhost:" + u.Port() // the demo's host, another port
	crossSite := "http://127.0.0.1:" + u.Port()

	browser := startBrowser(t, chromium)
	v := newTab(t, browser, "V", d.base)

	// The victim logs in from the demo's own page: same-origin, served.
	x, page := v.navigate("/healthz")
	require.Equal(t, http.StatusOK, x.Status, page)
	x, page = v.submitForm("/login", map[string]string{"user": "victim"})
	require.Equal(t, http.StatusOK, x.Status, page)
	require.JSONEq(t, `{"user":"victim"}`, page)
	token := requireStored(t, v, "after login")

	// A page on another port of the host posts the logout form: the
	// browser sends the session cookie with it, and the demo refuses it.
	x, page = v.navigateAt(sameSite, "/")
	require.Contains(t, page, "not the demo")
	x, page = v.submitForm("/logout", map[string]string{})
	require.Equal(t, http.StatusForbidden, x.Status, page)
	require.JSONEq(t, `{"error":"cross-origin request refused"}`, page)
	require.Equal(t, token, sentSession(t, x), "SameSite=Lax let the cookie go with a same-site POST")
	require.Empty(t, x.SetCookie, "nothing changed")

	// A page of another site posts a login form for the attacker's
	// account: refused, no session issued.
	x, page = v.navigateAt(crossSite, "/")
	require.Contains(t, page, "not the demo")
	x, page = v.submitForm("/login", map[string]string{"user": "mallory"})
	require.Equal(t, http.StatusForbidden, x.Status, page)
	require.JSONEq(t, `{"error":"cross-origin request refused"}`, page)
	require.Empty(t, x.Cookie, "SameSite=Lax kept the cookie off a cross-site POST")
	require.Empty(t, x.SetCookie, "no session issued")

	// The victim is still logged in, on the same session.
	x, page = v.navigate("/me")
	require.Equal(t, http.StatusOK, x.Status, page)
	require.JSONEq(t, `{"user":"victim"}`, page)
	require.Equal(t, token, requireStored(t, v, "after the refused posts"))
	x, page = v.submitForm("/logout", map[string]string{})
	require.Equal(t, http.StatusOK, x.Status, page)
	require.Nil(t, v.storedSession(), "the demo's own logout form is served")
}
