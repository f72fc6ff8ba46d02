// Package e2e drives a real browser, headless Chromium, against the
// examples/nethttp demo, and checks what the browser stores and sends.
//
// TestBrowserSessionLifecycle builds the demo from this checkout, runs it
// with its default, secure cookie settings on a free loopback port, and
// browses it at http://localhost:PORT from two isolated browser contexts
// (two cookie jars). In context A it reads and increments the counter
// (the session cookie appears only at the first write, HttpOnly, Secure,
// SameSite=Lax, Path=/, host-only, no expiry, invisible to
// document.cookie), logs in with a real form (the cookie's value changes,
// the old token is dead, the counter survives); context B logs in as the
// same user; A lists the user's sessions and revokes B's; B's next request
// is answered as logged out; A logs out and the browser drops the cookie.
// At every step it reads the browser's cookie jar and the Cookie and
// Set-Cookie headers as they went over the wire, through the Chrome
// DevTools Protocol (github.com/chromedp/chromedp).
//
// TestBrowserIgnoresPlantedLookalikeCookie has a plain-HTTP page on another
// port of the same host plant, with document.cookie, a cookie named
// "\u2000__Host-session" holding a live token of another user (the browser
// refuses the real name without Secure but takes the look-alike, to which
// no prefix rule applies), then checks on the jar and the wire that the
// browser sends it to the demo, and that the demo answers as though it
// were not there: not logged in, and beside a real session cookie, that
// session.
//
// TestBrowserCrossOriginRefused has pages of other origins, one on another
// port of the demo's host (same-site: the SameSite=Lax cookie goes along)
// and one on another host (cross-site), post real HTML forms to the demo's
// /logout and /login, and checks that the demo refuses both with 403 and
// changes nothing, while its own pages' forms are served.
//
// TestBrowserRememberSurvivesRestart runs Chromium on a profile directory
// of the test's own and restarts it there, as a user quits and reopens
// the browser: a graceful close (Browser.close, which has Chromium write
// its cookie store to the profile's Cookies database), a wait until
// Chromium and its helpers have exited, and a new Chromium on the same
// directory. A plain login's cookie (no Max-Age, no Expires) is gone after
// the restart and /me is 401, though the session lives on in the server;
// a login with remember=1 sets a persistent cookie (Max-Age and Expires,
// the demo's -remember of 720h), which the jar still holds after the
// restart and the browser sends, and /me answers the user.
//
// The package is a module of its own so that chromedp never enters the
// main go.mod. Run it with:
//
//	cd e2e && go test -race -count=1 ./...
//
// It needs Chromium: Debian's package (apt-get install -y chromium, which
// .ci/run installs when missing), another chromium, chromium-browser or
// google-chrome on PATH, or CHROMIUM=/path/to/browser. Without one the
// tests skip, except under CI=true, where they fail. They need no network
// beyond loopback and take a few seconds each (plus a build of the demo).
package e2e
