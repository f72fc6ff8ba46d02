package demotest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/examples/demo"
)

// What a login chooses (remember me, a label), how the list of sessions
// shows it, binding to the User-Agent, cross-origin protection and the
// clearing of a dead cookie.

// labelInvalid is the answer to a login whose label core refuses.
const labelInvalid = `{"error":"form field \"label\" is invalid (at most 64 characters, no control characters)"}`

// assertPersistent asserts that r's session cookie persists for about
// left: Max-Age and Expires.
func assertPersistent(t *testing.T, r Reply, name string, left time.Duration, msg string) {
	t.Helper()
	ck := r.SetCookie(name)
	require.NotNil(t, ck, "%s: a cookie: %v", msg, r.Header["Set-Cookie"])
	require.NotEmpty(t, ck.Value, msg)
	assert.InDelta(t, left.Seconds(), float64(ck.MaxAge), 5, "%s: Max-Age", msg)
	assert.WithinDuration(t, time.Now().Add(left), ck.Expires, 5*time.Second, "%s: Expires", msg)
}

// assertBrowserSession asserts that r's session cookie is a browser-session
// cookie: neither Max-Age nor Expires.
func assertBrowserSession(t *testing.T, r Reply, name string, msg string) {
	t.Helper()
	ck := r.SetCookie(name)
	require.NotNil(t, ck, "%s: a cookie: %v", msg, r.Header["Set-Cookie"])
	require.NotEmpty(t, ck.Value, msg)
	raw := r.Header.Get("Set-Cookie")
	assert.NotContains(t, raw, "Max-Age", msg)
	assert.NotContains(t, raw, "Expires", msg)
}

// testRememberMe: remember (1, true or on) makes the cookie persist for
// -remember, and the session live that long; any other value, or none, is
// a browser-session cookie and the usual lifetime and idle timeout.
func testRememberMe(t *testing.T, start Start) {
	srv := Launch(t, start, Insecure(), nil)

	for _, on := range []string{"1", "true", "on"} {
		c := NewClient(t, srv, "remembered/"+on)
		r := c.LoginForm(url.Values{"user": {"rita-" + on}, "remember": {on}})
		Want(t, r, 200, `{"user":"rita-`+on+`"}`)
		assertPersistent(t, r, "session", demo.DefaultRemember, "remember="+on)
		list := c.Sessions()
		require.Len(t, list, 1)
		assert.True(t, list[0].Remembered, "remember=%s", on)
		assert.WithinDuration(t, list[0].CreatedAt.Add(demo.DefaultRemember), list[0].ExpiresAt, 2*time.Second,
			"remember=%s: the session lives for -remember, idle or not", on)
		// Later answers that issue no token set no cookie.
		r = c.Do("POST", "/counter", "")
		Want(t, r, 200, `{"count":1}`)
		assert.Nil(t, r.SetCookie("session"))
	}
	for _, off := range []string{"", "0", "false", "off", "yes"} {
		c := NewClient(t, srv, "forgotten/"+off)
		form := url.Values{"user": {"ron-" + off}}
		if off != "" {
			form.Set("remember", off)
		}
		r := c.LoginForm(form)
		Want(t, r, 200, `{"user":"ron-`+off+`"}`)
		assertBrowserSession(t, r, "session", "remember="+off)
		list := c.Sessions()
		require.Len(t, list, 1)
		assert.False(t, list[0].Remembered, "remember=%s", off)
		assert.WithinDuration(t, list[0].CreatedAt.Add(30*time.Minute), list[0].ExpiresAt, 2*time.Second, "remember=%s", off)
	}

	// Each login decides again.
	c := NewClient(t, srv, "changes-its-mind")
	assertPersistent(t, c.LoginForm(url.Values{"user": {"rosa"}, "remember": {"on"}}), "session", demo.DefaultRemember, "remembered")
	assertBrowserSession(t, c.Login("rosa"), "session", "then a plain login")
	assert.False(t, c.Sessions()[0].Remembered)
	assertPersistent(t, c.LoginForm(url.Values{"user": {"rosa"}, "remember": {"1"}}), "session", demo.DefaultRemember, "remembered again")
	assert.True(t, c.Sessions()[0].Remembered)

	// The remember field comes from the body, as the user does.
	fromURL := NewClient(t, srv, "query")
	r := fromURL.Do("POST", "/login?remember=1", "user=rudi", "Content-Type: application/x-www-form-urlencoded")
	Want(t, r, 200, `{"user":"rudi"}`)
	assertBrowserSession(t, r, "session", "remember in the URL")

	// Logging out clears a persistent cookie as any other.
	r = c.Do("POST", "/logout", "")
	Want(t, r, 200, `{"ok":true}`)
	AssertCleared(t, r, "session")
}

// testRememberedRotation: a remembered session stays remembered through
// -rotate's new tokens, each cookie persisting for the lifetime left; a
// plain session's new cookie is a browser-session one.
func testRememberedRotation(t *testing.T, start Start) {
	o := Insecure()
	o.Rotate = time.Second
	srv := Launch(t, start, o, nil)
	kept := NewClient(t, srv, "kept")
	plain := NewClient(t, srv, "plain")
	r := kept.LoginForm(url.Values{"user": {"rob"}, "remember": {"1"}, "label": {"Desk"}})
	Want(t, r, 200, `{"user":"rob"}`)
	loggedIn := time.Now()
	assertPersistent(t, r, "session", demo.DefaultRemember, "remembered login")
	Want(t, plain.Login("rob"), 200, `{"user":"rob"}`)
	first, plainFirst := kept.Token("session"), plain.Token("session")

	time.Sleep(1100 * time.Millisecond) // past -rotate
	r = kept.Do("GET", "/me", "")
	Want(t, r, 200, `{"user":"rob"}`)
	assertPersistent(t, r, "session", demo.DefaultRemember-time.Since(loggedIn), "rotated")
	assert.NotEqual(t, first, kept.Token("session"), "a new token")
	r = plain.Do("GET", "/me", "")
	Want(t, r, 200, `{"user":"rob"}`)
	assertBrowserSession(t, r, "session", "a plain session rotated")
	assert.NotEqual(t, plainFirst, plain.Token("session"), "a new token")

	list := kept.Sessions()
	require.Len(t, list, 2)
	for _, s := range list {
		if s.Current {
			assert.True(t, s.Remembered, "rotation keeps remember me")
			assert.Equal(t, "Desk", s.Label, "and the label")
		} else {
			assert.False(t, s.Remembered)
			assert.Empty(t, s.Label)
		}
	}
}

// testLoginLabel: a label of up to 64 characters, without control
// characters, is shown in the list; anything else refuses the login with
// 400 and changes nothing.
func testLoginLabel(t *testing.T, start Start) {
	srv := Launch(t, start, Insecure(), nil)
	long := strings.Repeat("é", core.MaxLabelLength) // 64 characters, 128 bytes

	for label, want := range map[string]string{
		"Work laptop": "Work laptop",
		"  Phone \t":  "Phone",
		long:          long,
		"日本のノートパソコン":  "日本のノートパソコン",
		"":            "",
		"   ":         "",
	} {
		c := NewClient(t, srv, "labelled")
		Want(t, c.LoginForm(url.Values{"user": {"lena"}, "label": {label}}), 200, `{"user":"lena"}`, "label %q", label)
		list := c.Sessions()
		require.Len(t, list, 1)
		assert.Equal(t, want, list[0].Label, "label %q", label)
		Want(t, c.Do("POST", "/logout", ""), 200, `{"ok":true}`)
	}

	c := NewClient(t, srv, "refused")
	for _, label := range []string{
		long + "é",   // 65 characters
		long + "x",   // 65 characters
		"bell\x07",   // a control character
		"two\nlines", // another
		"tab\there",
		"del\x7f",
		"\u202egnp.exe", // a bidirectional override
		"bad\xff",       // not UTF-8
	} {
		r := c.LoginForm(url.Values{"user": {"lena"}, "label": {label}})
		Want(t, r, 400, labelInvalid, "label %q", label)
		assert.Empty(t, r.Header.Values("Set-Cookie"), "label %q: no session", label)
	}
	assert.Empty(t, c.Token("session"), "no refused login created a session")
	// The user is checked first.
	Want(t, c.LoginForm(url.Values{"user": {" "}, "label": {"bell\x07"}}), 400, `{"error":"form field \"user\" is required"}`)

	// A refused login leaves a session, and its user, as they were.
	Want(t, c.LoginForm(url.Values{"user": {"lena"}, "label": {"Old"}}), 200, `{"user":"lena"}`)
	before := c.Token("session")
	r := c.LoginForm(url.Values{"user": {"mallory"}, "label": {long + "!"}, "remember": {"1"}})
	Want(t, r, 400, labelInvalid)
	assert.Empty(t, r.Header.Values("Set-Cookie"))
	assert.Equal(t, before, c.Token("session"))
	Want(t, c.Do("GET", "/me", ""), 200, `{"user":"lena"}`)
	list := c.Sessions()
	require.Len(t, list, 1)
	assert.Equal(t, "Old", list[0].Label)
	assert.False(t, list[0].Remembered)
}

// rfc3339 is what encoding/json writes for a time.Time: RFC 3339 with
// fractional seconds when there are any.
const rfc3339 = `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$`

// testSessionsJSON: GET /sessions as the contract shows it, key by key.
func testSessionsJSON(t *testing.T, start Start) {
	srv := Launch(t, start, Insecure(), nil)
	laptop := NewClient(t, srv, "Laptop/1.0")
	phone := NewClient(t, srv, "Phone/2.0")
	Want(t, laptop.LoginForm(url.Values{"user": {"nina"}, "label": {"Work laptop"}, "remember": {"on"}}), 200, `{"user":"nina"}`)
	Want(t, phone.Login("nina"), 200, `{"user":"nina"}`)

	r := laptop.Do("GET", "/sessions", "")
	require.Equal(t, 200, r.Status, r.Raw)
	var body map[string][]map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.Raw), &body))
	require.Len(t, body, 1, r.Raw)
	list := body["sessions"]
	require.Len(t, list, 2, r.Raw)
	byUA := map[string]map[string]any{}
	for _, s := range list {
		keys := make([]string, 0, len(s))
		for k := range s {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		assert.Equal(t, []string{"created_at", "current", "expires_at", "id", "ip", "label", "last_seen", "remembered", "user_agent"}, keys,
			"the contract's keys, no more (no metadata when there is none, never the user id)")
		for _, k := range []string{"created_at", "last_seen", "expires_at"} {
			assert.Regexp(t, rfc3339, s[k], "%s is RFC 3339", k)
		}
		require.IsType(t, "", s["user_agent"])
		byUA[s["user_agent"].(string)] = s
	}
	l, p := byUA["Laptop/1.0"], byUA["Phone/2.0"]
	require.NotNil(t, l, r.Raw)
	require.NotNil(t, p, r.Raw)
	assert.Equal(t, hashOf(laptop.Token("session")), l["id"])
	assert.Equal(t, true, l["current"])
	assert.Equal(t, "Work laptop", l["label"])
	assert.Equal(t, true, l["remembered"])
	assert.Equal(t, "127.0.0.1", l["ip"])
	assert.Equal(t, hashOf(phone.Token("session")), p["id"])
	assert.Equal(t, false, p["current"])
	assert.Equal(t, "", p["label"], `label is "" when none`)
	assert.Equal(t, false, p["remembered"])

	// The phone's own view marks the phone current.
	for _, s := range phone.Sessions() {
		assert.Equal(t, s.UserAgent == "Phone/2.0", s.Current, s.UserAgent)
	}
}

// testBindUserAgent: with -bind user-agent, a logged-in session presented
// with another User-Agent is served as not logged in and revoked, so the
// right one cannot use it either; anonymous sessions are not bound, and
// without -bind the same swap changes nothing.
func testBindUserAgent(t *testing.T, start Start) {
	o := Insecure()
	o.Bind = demo.BindUserAgent
	srv := Launch(t, start, o, nil)
	as := func(ua, method, path, token string) Reply {
		t.Helper()
		c := &Client{t: t, srv: srv, hc: srv.Client, ua: ua}
		return c.Do(method, path, "", "Cookie: session="+token)
	}

	anon := NewClient(t, srv, "Agent/A")
	Want(t, anon.Do("POST", "/counter", ""), 200, `{"count":1}`)
	Want(t, as("Agent/B", "GET", "/counter", anon.Token("session")), 200, `{"count":1}`, "an anonymous session is not bound")

	victim := NewClient(t, srv, "Agent/A")
	other := NewClient(t, srv, "Agent/C")
	Want(t, victim.Do("POST", "/counter", ""), 200, `{"count":1}`)
	Want(t, victim.Login("vic"), 200, `{"user":"vic"}`)
	Want(t, other.Login("vic"), 200, `{"user":"vic"}`)
	Want(t, victim.Do("GET", "/me", ""), 200, `{"user":"vic"}`)
	token := victim.Token("session")

	r := as("Agent/B", "GET", "/me", token)
	Want(t, r, 401, `{"error":"not logged in"}`, "another User-Agent")
	AssertCleared(t, r, "session")
	Want(t, as("Agent/B", "GET", "/counter", token), 200, `{"count":0}`, "nor its values")
	Want(t, as("Agent/A", "GET", "/me", token), 401, `{"error":"not logged in"}`, "the session is revoked for its own client too")
	Want(t, victim.Do("GET", "/me", ""), 401, `{"error":"not logged in"}`)
	Want(t, other.Do("GET", "/me", ""), 200, `{"user":"vic"}`, "the user's other sessions live on")
	require.Len(t, other.Sessions(), 1)

	// A new login binds the new session afresh.
	Want(t, victim.Login("vic"), 200, `{"user":"vic"}`)
	Want(t, victim.Do("GET", "/me", ""), 200, `{"user":"vic"}`)

	// Without -bind, the same swap changes nothing.
	free := Launch(t, start, Insecure(), nil)
	c := NewClient(t, free, "Agent/A")
	Want(t, c.Login("vic"), 200, `{"user":"vic"}`)
	token = c.Token("session")
	unbound := func(ua string) Reply {
		t.Helper()
		return (&Client{t: t, srv: free, hc: free.Client, ua: ua}).Do("GET", "/me", "", "Cookie: session="+token)
	}
	r = unbound("Agent/B")
	Want(t, r, 200, `{"user":"vic"}`, "without -bind")
	assert.Empty(t, r.Header.Values("Set-Cookie"))
	Want(t, unbound("Agent/A"), 200, `{"user":"vic"}`)
}

// testCrossOrigin: a state-changing request a browser sends from another
// origin (Sec-Fetch-Site other than same-origin or none, or, without it,
// an Origin of another host) is refused with 403 before the session is
// loaded; a same-origin one, and one that carries neither header (not a
// browser's), is served; reads are served whatever their origin.
func testCrossOrigin(t *testing.T, start Start) {
	srv := Launch(t, start, Insecure(), nil)
	const refused = `{"error":"cross-origin request refused"}`
	own, err := url.Parse(srv.URL)
	require.NoError(t, err)

	c := NewClient(t, srv, "victim")
	phone := NewClient(t, srv, "phone")
	Want(t, c.Do("POST", "/counter", ""), 200, `{"count":1}`)
	Want(t, c.LoginForm(url.Values{"user": {"olga"}}), 200, `{"user":"olga"}`)
	Want(t, phone.Login("olga"), 200, `{"user":"olga"}`)
	token, phoneID := c.Token("session"), phone.CurrentID()

	crossSite := [][]string{
		{"Sec-Fetch-Site: cross-site"},
		{"Sec-Fetch-Site: same-site"},
		{"Sec-Fetch-Site: cross-site", "Origin: " + srv.URL},
		{"Origin: http://evil.example"},
		{"Origin: http://" + own.Hostname() + ":1"},
		{"Origin: null"},
	}
	for _, headers := range crossSite {
		for _, req := range [][3]string{
			{"POST", "/counter", ""},
			{"PUT", "/values/x", "y"},
			{"DELETE", "/values/count", ""},
			{"POST", "/login", "user=mallory"},
			{"POST", "/logout", ""},
			{"DELETE", "/sessions/" + phoneID, ""},
			{"POST", "/sessions/revoke-others", ""},
		} {
			r := c.Do(req[0], req[1], req[2], append([]string{"Content-Type: application/x-www-form-urlencoded"}, headers...)...)
			Want(t, r, http.StatusForbidden, refused, "%v %s %s", headers, req[0], req[1])
			assert.Empty(t, r.Header.Values("Set-Cookie"), "%v %s %s", headers, req[0], req[1])
		}
		// Reads are served.
		Want(t, c.Do("GET", "/counter", "", headers...), 200, `{"count":1}`, "%v", headers)
		Want(t, c.Do("GET", "/me", "", headers...), 200, `{"user":"olga"}`, "%v", headers)
	}
	// Nothing changed.
	assert.Equal(t, token, c.Token("session"))
	Want(t, c.Do("GET", "/me", ""), 200, `{"user":"olga"}`)
	Want(t, c.Do("GET", "/counter", ""), 200, `{"count":1}`)
	Want(t, c.Do("GET", "/values/x", ""), 404, `{"error":"no value named \"x\""}`)
	Want(t, phone.Do("GET", "/me", ""), 200, `{"user":"olga"}`)
	require.Len(t, c.Sessions(), 2)

	// A cross-site login creates no session (login CSRF).
	fresh := NewClient(t, srv, "fresh")
	r := fresh.LoginForm(url.Values{"user": {"mallory"}}, "Sec-Fetch-Site: cross-site")
	Want(t, r, http.StatusForbidden, refused)
	assert.Empty(t, r.Header.Values("Set-Cookie"))
	assert.Empty(t, fresh.Token("session"))

	// Same-origin, the user's own navigation, a matching Origin, and no
	// such header at all: served.
	for i, headers := range [][]string{
		{"Sec-Fetch-Site: same-origin"},
		{"Sec-Fetch-Site: none"},
		{"Sec-Fetch-Site: same-origin", "Origin: " + srv.URL},
		{"Origin: " + srv.URL},
		nil,
	} {
		Want(t, c.Do("POST", "/counter", "", headers...), 200, `{"count":`+strconv.Itoa(i+2)+`}`, "%v", headers)
	}
	Want(t, c.Do("PUT", "/values/x", "y", "Sec-Fetch-Site: same-origin"), 200, `{"name":"x","value":"y"}`)
	Want(t, fresh.LoginForm(url.Values{"user": {"fred"}}, "Sec-Fetch-Site: same-origin", "Origin: "+srv.URL), 200, `{"user":"fred"}`)
	Want(t, c.Do("POST", "/sessions/revoke-others", "", "Origin: "+srv.URL), 200, `{"revoked":1}`)
	r = c.Do("POST", "/logout", "", "Sec-Fetch-Site: same-origin")
	Want(t, r, 200, `{"ok":true}`)
	AssertCleared(t, r, "session")
}

// testDeadCookieCleared: a cookie whose session has ended (logged out,
// revoked, or never known) is cleared by the next answer, so the browser
// stops sending it.
func testDeadCookieCleared(t *testing.T, start Start) {
	srv := Launch(t, start, Insecure(), nil)
	c := NewClient(t, srv, "leaver")
	phone := NewClient(t, srv, "phone")
	Want(t, c.Login("dora"), 200, `{"user":"dora"}`)
	Want(t, phone.Login("dora"), 200, `{"user":"dora"}`)
	token := c.Token("session")

	// Revoked from another device: the phone's next answer clears it.
	Want(t, c.Do("DELETE", "/sessions/"+phone.CurrentID(), ""), 200, `{"revoked":1}`)
	r := phone.Do("GET", "/me", "")
	Want(t, r, 401, `{"error":"not logged in"}`)
	AssertCleared(t, r, "session")
	assert.Empty(t, phone.Token("session"), "the jar dropped it")

	Want(t, c.Do("POST", "/logout", ""), 200, `{"ok":true}`)
	for _, req := range [][2]string{{"GET", "/me"}, {"GET", "/counter"}, {"POST", "/logout"}, {"GET", "/sessions"}} {
		r := Replay(t, srv, req[0], req[1], "session="+token)
		assert.Less(t, r.Status, 500, r.Raw)
		AssertCleared(t, r, "session")
	}
	// A write on a dead cookie starts a new session instead.
	r = Replay(t, srv, "POST", "/counter", "session="+token)
	Want(t, r, 200, `{"count":1}`)
	ck := r.SetCookie("session")
	require.NotNil(t, ck)
	assert.Len(t, ck.Value, 43, "a new token")
	assert.NotEqual(t, token, ck.Value)

	// A well-formed token the store never issued, too.
	r = Replay(t, srv, "GET", "/me", "session="+strings.Repeat("A", 43))
	Want(t, r, 401, `{"error":"not logged in"}`)
	AssertCleared(t, r, "session")
	// A live cookie is left alone.
	Want(t, c.Login("dora"), 200, `{"user":"dora"}`)
	r = Replay(t, srv, "GET", "/me", "session="+c.Token("session"))
	Want(t, r, 200, `{"user":"dora"}`)
	assert.Empty(t, r.Header.Values("Set-Cookie"))
}
