package demotest

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/examples/demo"
	"github.com/sessionkit/sessionkit/stores/memstore"
)

// The rows of the demo contract, route by route.

func testHealthz(t *testing.T, start Start) {
	srv := Launch(t, start, Insecure(), nil)
	c := NewClient(t, srv, "probe")
	r := c.Do("GET", "/healthz", "")
	Want(t, r, http.StatusOK, `{"ok":true}`)
	assert.Empty(t, r.Header.Values("Set-Cookie"))
	r = c.Do("POST", "/healthz", "")
	assert.True(t, r.Status >= 400 && r.Status < 500, "POST /healthz: %d", r.Status)
}

func testAnonymousRequestsCreateNothing(t *testing.T, start Start) {
	srv := Launch(t, start, Insecure(), nil)
	c := NewClient(t, srv, "anon")

	for _, tc := range []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/counter", 200, `{"count":0}`},
		{"GET", "/values/color", 404, `{"error":"no value named \"color\""}`},
		{"DELETE", "/values/color", 200, `{"ok":true}`},
		{"GET", "/me", 401, `{"error":"not logged in"}`},
		{"POST", "/logout", 200, `{"ok":true}`},
		{"GET", "/sessions", 401, `{"error":"not logged in"}`},
		{"DELETE", "/sessions/" + strings.Repeat("ab", 32), 401, `{"error":"not logged in"}`},
		{"POST", "/sessions/revoke-others", 401, `{"error":"not logged in"}`},
		{"POST", "/login", 400, `{"error":"form field \"user\" is required"}`},
	} {
		r := c.Do(tc.method, tc.path, "", "Content-Type: application/x-www-form-urlencoded")
		Want(t, r, tc.status, tc.body)
		assert.Empty(t, r.Header.Values("Set-Cookie"), "%s %s sets no cookie", tc.method, tc.path)
	}
	assert.Empty(t, c.Token("session"), "the jar holds no session")
}

func testCounterAndValues(t *testing.T, start Start) {
	srv := Launch(t, start, Insecure(), nil)
	c := NewClient(t, srv, "values")

	r := c.Do("POST", "/counter", "")
	Want(t, r, 200, `{"count":1}`)
	ck := r.SetCookie("session")
	require.NotNil(t, ck, "the first write creates the session")
	assert.Len(t, ck.Value, 43)
	assert.True(t, ck.HttpOnly)
	assert.False(t, ck.Secure, "-secure=false")
	assert.Equal(t, http.SameSiteLaxMode, ck.SameSite)
	assert.Equal(t, "no-store", r.Header.Get("Cache-Control"))
	token := ck.Value

	r = c.Do("POST", "/counter", "")
	Want(t, r, 200, `{"count":2}`)
	assert.Empty(t, r.Header.Values("Set-Cookie"), "no new cookie for an existing session")
	Want(t, c.Do("GET", "/counter", ""), 200, `{"count":2}`)
	assert.Equal(t, token, c.Token("session"))

	// count is a value like any other, and stays a number.
	r = c.Do("GET", "/values/count", "")
	Want(t, r, 200, `{"name":"count","value":2}`)
	assert.Contains(t, r.Raw, `"value":2`, "a number, not a string")

	Want(t, c.Do("PUT", "/values/greeting", "hello, world"), 200, `{"name":"greeting","value":"hello, world"}`)
	Want(t, c.Do("GET", "/values/greeting", ""), 200, `{"name":"greeting","value":"hello, world"}`)
	Want(t, c.Do("PUT", "/values/greeting", "bonjour"), 200, `{"name":"greeting","value":"bonjour"}`)
	Want(t, c.Do("GET", "/values/greeting", ""), 200, `{"name":"greeting","value":"bonjour"}`)
	Want(t, c.Do("PUT", "/values/empty", ""), 200, `{"name":"empty","value":""}`)
	Want(t, c.Do("GET", "/values/empty", ""), 200, `{"name":"empty","value":""}`)
	Want(t, c.Do("GET", "/values/a%2Fb", ""), 404, `{"error":"no value named \"a/b\""}`)
	Want(t, c.Do("PUT", "/values/a%2Fb", "slash"), 200, `{"name":"a/b","value":"slash"}`)
	Want(t, c.Do("GET", "/values/a%2Fb", ""), 200, `{"name":"a/b","value":"slash"}`)

	Want(t, c.Do("DELETE", "/values/greeting", ""), 200, `{"ok":true}`)
	Want(t, c.Do("GET", "/values/greeting", ""), 404, `{"error":"no value named \"greeting\""}`)
	Want(t, c.Do("DELETE", "/values/greeting", ""), 200, `{"ok":true}`)

	// Limits: 64 KiB is fine, one byte more is 413; text only.
	big := strings.Repeat("x", demo.MaxBodyBytes)
	require.Equal(t, 200, c.Do("PUT", "/values/big", big).Status)
	Want(t, c.Do("PUT", "/values/big", big+"x"), 413, `{"error":"request body too large"}`)
	// The session's own byte cap (core's default, 128 KiB): a second value
	// that size does not fit, and nothing of it is stored.
	Want(t, c.Do("PUT", "/values/big2", big), 413, `{"error":"session values too large"}`)
	Want(t, c.Do("GET", "/values/big2", ""), 404, `{"error":"no value named \"big2\""}`)
	Want(t, c.Do("PUT", "/values/bin", "\xff\xfe"), 400, `{"error":"request body is not UTF-8 text"}`)
	Want(t, c.Do("GET", "/values/bin", ""), 404, `{"error":"no value named \"bin\""}`)

	// One namespace: the counter sees a value put under count.
	Want(t, c.Do("PUT", "/values/count", "41"), 200, `{"name":"count","value":"41"}`)
	Want(t, c.Do("GET", "/counter", ""), 200, `{"count":41}`)
	Want(t, c.Do("POST", "/counter", ""), 200, `{"count":42}`)
	Want(t, c.Do("GET", "/values/count", ""), 200, `{"name":"count","value":42}`)
	Want(t, c.Do("PUT", "/values/count", "many"), 200, `{"name":"count","value":"many"}`)
	Want(t, c.Do("GET", "/counter", ""), 409, `{"error":"value \"count\" is not a number"}`)
	Want(t, c.Do("POST", "/counter", ""), 409, `{"error":"value \"count\" is not a number"}`)
	Want(t, c.Do("DELETE", "/values/count", ""), 200, `{"ok":true}`)
	Want(t, c.Do("GET", "/counter", ""), 200, `{"count":0}`)

	assert.Equal(t, token, c.Token("session"), "values never change the token")

	// Another client has its own session.
	other := NewClient(t, srv, "other")
	Want(t, other.Do("GET", "/values/empty", ""), 404, `{"error":"no value named \"empty\""}`)
	Want(t, other.Do("POST", "/counter", ""), 200, `{"count":1}`)

	// Methods and paths outside the contract are client errors.
	for _, tc := range [][2]string{{"POST", "/me"}, {"PATCH", "/counter"}, {"GET", "/nope"}, {"PUT", "/values/"}, {"GET", "/sessions/x"}} {
		r := c.Do(tc[0], tc[1], "")
		assert.True(t, r.Status >= 400 && r.Status < 500, "%v: %d", tc, r.Status)
	}
}

func testLoginAndLogout(t *testing.T, start Start) {
	srv := Launch(t, start, Insecure(), nil)
	c := NewClient(t, srv, "laptop")

	Want(t, c.Do("PUT", "/values/cart", "3 apples"), 200, `{"name":"cart","value":"3 apples"}`)
	before := c.Token("session")
	require.NotEmpty(t, before)

	Want(t, c.Login(""), 400, `{"error":"form field \"user\" is required"}`)
	Want(t, c.Login("   "), 400, `{"error":"form field \"user\" is required"}`)
	Want(t, c.Login(strings.Repeat("u", demo.MaxUserBytes+1)), 400, `{"error":"form field \"user\" is too long"}`)
	Want(t, c.Do("POST", "/login", "user=%ff", "Content-Type: application/x-www-form-urlencoded"), 400, `{"error":"form field \"user\" is not UTF-8 text"}`)
	Want(t, c.Do("POST", "/login", "user=%zz", "Content-Type: application/x-www-form-urlencoded"), 400, `{"error":"malformed form body"}`)
	Want(t, c.Do("POST", "/login?user=mallory", "", "Content-Type: application/x-www-form-urlencoded"), 400,
		`{"error":"form field \"user\" is required"}`, "the user comes from the form body, not the URL")
	Want(t, c.Do("GET", "/me", ""), 401, `{"error":"not logged in"}`)
	assert.Equal(t, before, c.Token("session"), "a refused login changes nothing")

	r := c.Login("alice")
	Want(t, r, 200, `{"user":"alice"}`)
	ck := r.SetCookie("session")
	require.NotNil(t, ck, "login issues a new token")
	assert.NotEqual(t, before, ck.Value)
	assert.Equal(t, "no-store", r.Header.Get("Cache-Control"))
	after := c.Token("session")
	assert.Equal(t, ck.Value, after)

	Want(t, c.Do("GET", "/me", ""), 200, `{"user":"alice"}`)
	Want(t, c.Do("GET", "/values/cart", ""), 200, `{"name":"cart","value":"3 apples"}`)
	// The user id is metadata, not a value.
	Want(t, c.Do("GET", "/values/user", ""), 404, `{"error":"no value named \"user\""}`)

	// The pre-login token is dead: no session fixation.
	Want(t, Replay(t, srv, "GET", "/values/cart", "session="+before), 404, `{"error":"no value named \"cart\""}`)
	Want(t, Replay(t, srv, "GET", "/me", "session="+before), 401, `{"error":"not logged in"}`)

	// Login without a session creates one.
	fresh := NewClient(t, srv, "phone")
	r = fresh.Login("bob")
	Want(t, r, 200, `{"user":"bob"}`)
	require.NotNil(t, r.SetCookie("session"))
	Want(t, fresh.Do("GET", "/me", ""), 200, `{"user":"bob"}`)

	r = c.Do("POST", "/logout", "")
	Want(t, r, 200, `{"ok":true}`)
	AssertCleared(t, r, "session")
	assert.Empty(t, c.Token("session"), "the jar dropped the cookie")
	Want(t, c.Do("GET", "/me", ""), 401, `{"error":"not logged in"}`)
	r = Replay(t, srv, "GET", "/me", "session="+after)
	Want(t, r, 401, `{"error":"not logged in"}`)
	AssertCleared(t, r, "session") // the logged-out cookie, replayed, is cleared
	Want(t, Replay(t, srv, "GET", "/values/cart", "session="+after), 404, `{"error":"no value named \"cart\""}`)

	Want(t, fresh.Do("GET", "/me", ""), 200, `{"user":"bob"}`)
}

func testSessionsListAndRevoke(t *testing.T, start Start) {
	srv := Launch(t, start, Insecure(), nil)
	laptop := NewClient(t, srv, "Laptop/1.0")
	phone := NewClient(t, srv, "Phone/2.0")
	bob := NewClient(t, srv, "Bob/3.0")

	Want(t, laptop.Login("alice"), 200, `{"user":"alice"}`)
	Want(t, phone.Login("alice"), 200, `{"user":"alice"}`)
	Want(t, bob.Login("bob"), 200, `{"user":"bob"}`)

	list := laptop.Sessions()
	require.Len(t, list, 2)
	byUA := map[string]core.SessionInfo{}
	for _, s := range list {
		byUA[s.UserAgent] = s
		assert.Len(t, s.ID, 64)
		assert.Equal(t, "127.0.0.1", s.IP)
		for _, ts := range []time.Time{s.CreatedAt, s.LastSeen} {
			assert.WithinDuration(t, time.Now(), ts, time.Minute)
		}
		assert.WithinDuration(t, s.CreatedAt.Add(30*time.Minute), s.ExpiresAt, 2*time.Second, "the idle deadline comes first")
		assert.Empty(t, s.Label)
		assert.False(t, s.Remembered)
	}
	require.Contains(t, byUA, "Laptop/1.0")
	require.Contains(t, byUA, "Phone/2.0")
	assert.True(t, byUA["Laptop/1.0"].Current)
	assert.False(t, byUA["Phone/2.0"].Current)
	// The listed id is the token's hash, never the token.
	assert.Equal(t, hashOf(laptop.Token("session")), byUA["Laptop/1.0"].ID)
	assert.Equal(t, hashOf(phone.Token("session")), byUA["Phone/2.0"].ID)
	assert.NotContains(t, mustGet(t, laptop, "/sessions"), laptop.Token("session"))
	assert.NotContains(t, mustGet(t, laptop, "/sessions"), phone.Token("session"))

	assert.Equal(t, byUA["Phone/2.0"].ID, phone.CurrentID())
	bobID := bob.CurrentID()
	require.Len(t, bob.Sessions(), 1, "bob sees only his own")

	// Someone else's session, or no session at all: 404, nothing revoked.
	Want(t, laptop.Do("DELETE", "/sessions/"+bobID, ""), 404, `{"error":"no such session"}`)
	Want(t, laptop.Do("DELETE", "/sessions/"+strings.Repeat("0", 64), ""), 404, `{"error":"no such session"}`)
	Want(t, laptop.Do("DELETE", "/sessions/not-an-id", ""), 404, `{"error":"no such session"}`)
	Want(t, bob.Do("GET", "/me", ""), 200, `{"user":"bob"}`)

	// Revoke the phone from the laptop.
	r := laptop.Do("DELETE", "/sessions/"+byUA["Phone/2.0"].ID, "")
	Want(t, r, 200, `{"revoked":1}`)
	assert.Nil(t, r.SetCookie("session"), "the laptop keeps its cookie")
	Want(t, phone.Do("GET", "/me", ""), 401, `{"error":"not logged in"}`)
	Want(t, laptop.Do("GET", "/me", ""), 200, `{"user":"alice"}`)
	Want(t, laptop.Do("DELETE", "/sessions/"+byUA["Phone/2.0"].ID, ""), 404, `{"error":"no such session"}`)
	require.Len(t, laptop.Sessions(), 1)

	// Log out everywhere else.
	tablet := NewClient(t, srv, "Tablet/4.0")
	Want(t, phone.Login("alice"), 200, `{"user":"alice"}`)
	Want(t, tablet.Login("alice"), 200, `{"user":"alice"}`)
	require.Len(t, laptop.Sessions(), 3)
	r = laptop.Do("POST", "/sessions/revoke-others", "")
	Want(t, r, 200, `{"revoked":2}`)
	assert.Nil(t, r.SetCookie("session"))
	Want(t, phone.Do("GET", "/me", ""), 401, `{"error":"not logged in"}`)
	Want(t, tablet.Do("GET", "/me", ""), 401, `{"error":"not logged in"}`)
	Want(t, laptop.Do("GET", "/me", ""), 200, `{"user":"alice"}`)
	Want(t, laptop.Do("POST", "/sessions/revoke-others", ""), 200, `{"revoked":0}`)
	Want(t, bob.Do("GET", "/me", ""), 200, `{"user":"bob"}`)

	// Revoking the current session is a logout.
	token := laptop.Token("session")
	r = laptop.Do("DELETE", "/sessions/"+laptop.CurrentID(), "")
	Want(t, r, 200, `{"revoked":1}`)
	AssertCleared(t, r, "session")
	Want(t, laptop.Do("GET", "/me", ""), 401, `{"error":"not logged in"}`)
	Want(t, Replay(t, srv, "GET", "/me", "session="+token), 401, `{"error":"not logged in"}`)
	Want(t, laptop.Do("GET", "/sessions", ""), 401, `{"error":"not logged in"}`)
	Want(t, bob.Do("GET", "/me", ""), 200, `{"user":"bob"}`)
}

func mustGet(t *testing.T, c *Client, path string) string {
	t.Helper()
	r := c.Do("GET", path, "")
	require.Equal(t, 200, r.Status, r.Raw)
	return r.Raw
}

// testSecureDefaults runs the demo as it starts without flags, over HTTPS,
// so that the jar keeps and returns the Secure cookie as a browser would.
func testSecureDefaults(t *testing.T, start Start) {
	srv := Launch(t, start, demo.Defaults(), nil)
	c := NewClient(t, srv, "browser")

	r := c.Do("POST", "/counter", "")
	Want(t, r, 200, `{"count":1}`)
	require.Len(t, r.Header.Values("Set-Cookie"), 1)
	raw := r.Header.Get("Set-Cookie")
	ck := r.SetCookie("__Host-session")
	require.NotNil(t, ck, raw)
	assert.Len(t, ck.Value, 43)
	assert.Regexp(t, `^[A-Za-z0-9_-]{43}$`, ck.Value)
	assert.True(t, ck.Secure, raw)
	assert.True(t, ck.HttpOnly, raw)
	assert.Equal(t, http.SameSiteLaxMode, ck.SameSite, raw)
	assert.Equal(t, "/", ck.Path)
	assert.Empty(t, ck.Domain, "host-only")
	assert.Zero(t, ck.MaxAge, "a browser-session cookie")
	assert.NotContains(t, raw, "Max-Age")
	assert.NotContains(t, raw, "Expires")
	// The wire form, attribute for attribute, as every demo sends it.
	assert.Equal(t, "__Host-session="+ck.Value+"; Path=/; HttpOnly; Secure; SameSite=Lax", raw)
	assert.Equal(t, "no-store", r.Header.Get("Cache-Control"))

	Want(t, c.Do("POST", "/counter", ""), 200, `{"count":2}`)
	// Remember me: the same cookie, persisting for -remember.
	remembered := NewClient(t, srv, "remembering browser")
	r = remembered.LoginForm(url.Values{"user": {"carl"}, "remember": {"on"}})
	Want(t, r, 200, `{"user":"carl"}`)
	ck = r.SetCookie("__Host-session")
	require.NotNil(t, ck)
	assert.Regexp(t, `^__Host-session=`+ck.Value+`; Path=/; Expires=[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT; Max-Age=\d+; HttpOnly; Secure; SameSite=Lax$`,
		r.Header.Get("Set-Cookie"))
	assertPersistent(t, r, "__Host-session", demo.DefaultRemember, "remembered")
	Want(t, remembered.Do("GET", "/me", ""), 200, `{"user":"carl"}`)
	Want(t, c.Login("carol"), 200, `{"user":"carol"}`)
	Want(t, c.Do("GET", "/counter", ""), 200, `{"count":2}`)
	tok := c.Token("__Host-session")
	assert.Equal(t, hashOf(tok), c.CurrentID())
	// Only the configured name is the session: a plain "session" cookie
	// carrying the very token is ignored.
	Want(t, Replay(t, srv, "GET", "/me", "session="+tok), 401, `{"error":"not logged in"}`)
	Want(t, Replay(t, srv, "GET", "/me", "__Host-session="+tok), 200, `{"user":"carol"}`)
	r = c.Do("POST", "/logout", "")
	Want(t, r, 200, `{"ok":true}`)
	AssertCleared(t, r, "__Host-session")
	assert.True(t, r.SetCookie("__Host-session").Secure, "the clearing cookie keeps its attributes")
	assert.Empty(t, c.Token("__Host-session"), "the jar dropped the cookie")
	Want(t, c.Do("GET", "/counter", ""), 200, `{"count":0}`)
	r = Replay(t, srv, "GET", "/me", "__Host-session="+tok)
	Want(t, r, 401, `{"error":"not logged in"}`)
	AssertCleared(t, r, "__Host-session")
	assert.True(t, r.SetCookie("__Host-session").Secure, "the clearing cookie of a dead one too")
}

func testHeaderTransport(t *testing.T, start Start) {
	o := Insecure()
	o.Transport = demo.TransportHeader
	srv := Launch(t, start, o, nil)
	c := NewClient(t, srv, "api-client")

	r := c.Do("POST", "/counter", "")
	Want(t, r, 200, `{"count":1}`)
	assert.Empty(t, r.Header.Values("Set-Cookie"), "header transport sets no cookie")
	tok := r.Header.Get("Session-Token")
	require.Len(t, tok, 43)
	assert.Equal(t, "no-store", r.Header.Get("Cache-Control"))

	c.Bearer = tok
	r = c.Do("POST", "/counter", "")
	Want(t, r, 200, `{"count":2}`)
	assert.Empty(t, r.Header.Get("Session-Token"), "no new token for an existing session")

	// The scheme matches case-insensitively; cookies are ignored.
	c.Bearer = ""
	Want(t, c.Do("GET", "/counter", "", "Authorization: bearer "+tok), 200, `{"count":2}`)
	Want(t, c.Do("GET", "/counter", "", "Authorization: BEARER "+tok), 200, `{"count":2}`)
	Want(t, c.Do("GET", "/counter", "", "Cookie: session="+tok), 200, `{"count":0}`)
	Want(t, c.Do("GET", "/counter", "", "Cookie: __Host-session="+tok), 200, `{"count":0}`)
	Want(t, c.Do("GET", "/counter", "", "Authorization: Basic "+tok), 200, `{"count":0}`)

	c.Bearer = tok
	r = c.Login("dave")
	Want(t, r, 200, `{"user":"dave"}`)
	newTok := r.Header.Get("Session-Token")
	require.Len(t, newTok, 43)
	assert.NotEqual(t, tok, newTok)
	r = c.Do("GET", "/me", "")
	Want(t, r, 401, `{"error":"not logged in"}`) // still the old bearer: dead
	assert.Empty(t, r.Header.Values("Set-Cookie"), "a dead bearer token gets no clearing cookie")
	assert.Empty(t, r.Header.Get("Session-Token"))
	Want(t, c.Do("GET", "/counter", ""), 200, `{"count":0}`)

	c.Bearer = newTok
	Want(t, c.Do("GET", "/me", ""), 200, `{"user":"dave"}`)
	Want(t, c.Do("GET", "/counter", ""), 200, `{"count":2}`)
	list := c.Sessions()
	require.Len(t, list, 1)
	assert.True(t, list[0].Current)
	assert.Equal(t, hashOf(newTok), list[0].ID)
	assert.Equal(t, "api-client", list[0].UserAgent)

	other := &Client{t: t, srv: srv, hc: srv.Client, ua: "cli"}
	r = other.Login("dave")
	require.Equal(t, 200, r.Status)
	other.Bearer = r.Header.Get("Session-Token")
	Want(t, c.Do("POST", "/sessions/revoke-others", ""), 200, `{"revoked":1}`)
	Want(t, other.Do("GET", "/me", ""), 401, `{"error":"not logged in"}`)

	r = c.Do("POST", "/logout", "")
	Want(t, r, 200, `{"ok":true}`)
	assert.Empty(t, r.Header.Values("Set-Cookie"))
	Want(t, c.Do("GET", "/me", ""), 401, `{"error":"not logged in"}`)
}

// storeDown is the body of the 503 a store failure gets.
const storeDown = `{"error":"session store unavailable"}`

// wantStoreDown asserts a 503 for a store failure. The session middleware
// answers a failure to load or save the session itself, with every
// sessionkit adapter's default error response: storeDown as it is. A
// handler that meets the failure (listing or revoking sessions) answers it
// as it answers everything, with encoding/json's newline.
func wantStoreDown(t *testing.T, r Reply, byHandler bool, msg ...any) {
	t.Helper()
	require.Equal(t, http.StatusServiceUnavailable, r.Status, append([]any{r.Raw}, msg...)...)
	assert.JSONEq(t, storeDown, r.Raw, msg...)
	raw := storeDown
	if byHandler {
		raw += "\n"
	} else {
		assert.Equal(t, "no-store", r.Header.Get("Cache-Control"), msg...)
	}
	assert.Equal(t, raw, r.Raw, append([]any{"byte for byte"}, msg...)...)
}

func testStoreFailure(t *testing.T, start Start) {
	mem := memstore.New(memstore.Options{})
	t.Cleanup(func() { _ = mem.Close() })
	flaky := &flakyStore{Store: mem}
	srv := Launch(t, start, Insecure(), flaky)

	c := NewClient(t, srv, "victim")
	other := NewClient(t, srv, "other")
	Want(t, c.Login("erin"), 200, `{"user":"erin"}`)
	Want(t, other.Login("erin"), 200, `{"user":"erin"}`)
	otherID := other.CurrentID()
	token := c.Token("session")

	for _, tc := range []struct {
		down         []string
		method, path string
		body         string
		byHandler    bool
	}{
		{[]string{"*"}, "GET", "/counter", "", false},
		{[]string{"Load"}, "GET", "/me", "", false},
		{[]string{"Load"}, "POST", "/logout", "", false},
		{[]string{"Update"}, "POST", "/counter", "", false},
		{[]string{"Update"}, "PUT", "/values/x", "y", false},
		{[]string{"Renew"}, "POST", "/login", "user=erin", false},
		{[]string{"Delete"}, "POST", "/logout", "", false},
		{[]string{"ListUser"}, "GET", "/sessions", "", true},
		{[]string{"ListUser"}, "DELETE", "/sessions/" + otherID, "", true},
		{[]string{"Delete"}, "DELETE", "/sessions/" + otherID, "", true},
		{[]string{"DeleteUser"}, "POST", "/sessions/revoke-others", "", true},
	} {
		flaky.fail(tc.down...)
		r := c.Do(tc.method, tc.path, tc.body, "Content-Type: application/x-www-form-urlencoded")
		wantStoreDown(t, r, tc.byHandler, "%v %s %s", tc.down, tc.method, tc.path)
		assert.Empty(t, r.Header.Values("Set-Cookie"), "%v %s %s: no cookie change", tc.down, tc.method, tc.path)
	}
	flaky.fail()

	// A store failure never turned the client anonymous or lost its session.
	assert.Equal(t, token, c.Token("session"))
	Want(t, c.Do("GET", "/me", ""), 200, `{"user":"erin"}`)
	Want(t, other.Do("GET", "/me", ""), 200, `{"user":"erin"}`)
	Want(t, c.Do("GET", "/values/x", ""), 404, `{"error":"no value named \"x\""}`)

	// A new visitor is not served anonymously while the store is down.
	flaky.fail("Create")
	wantStoreDown(t, NewClient(t, srv, "new").Do("POST", "/counter", ""), false)
	flaky.fail()

	// /healthz does not depend on the store.
	flaky.fail("*")
	Want(t, c.Do("GET", "/healthz", ""), 200, `{"ok":true}`)
}
