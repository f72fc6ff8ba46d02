package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/examples/internal/demo"
	"github.com/sessionkit/sessionkit/stores/memstore"
)

const storeDownBody = `{"error":"session store unavailable"}`

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// server is the demo app serving on a real loopback listener: fasthttp's
// own connection handling, not app.Test's in-memory one, answers the
// tests. It offers what the net/http demo's tests use of an
// httptest.Server, so that the cases below read the same in both.
type server struct {
	URL    string
	client *http.Client // trusts the test certificate when serving TLS
}

// Client returns the client for the server; it is shared, like
// httptest.Server.Client's.
func (s *server) Client() *http.Client { return s.client }

// newServer serves the demo built from o, over TLS when tls is set.
func newServer(t *testing.T, o demo.Options, tls bool) *server {
	t.Helper()
	m, closeFn, err := demo.NewManager(o, quiet())
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, closeFn()) }) // after the server has stopped
	return serve(t, newApp(m, quiet()), tls)
}

// serve runs app on a fresh 127.0.0.1 listener until the test ends.
func serve(t *testing.T, app *fiber.App, useTLS bool) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	tr := &http.Transport{}
	scheme := "http"
	if useTLS {
		cert, roots := testCertificate(t)
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
		scheme = "https"
	}
	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }()
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		require.NoError(t, app.ShutdownWithTimeout(5*time.Second))
		_ = ln.Close() // in case Serve had not registered it yet
		require.NoError(t, <-served)
	})
	return &server{
		URL:    scheme + "://" + ln.Addr().String(),
		client: &http.Client{Transport: tr, Timeout: 10 * time.Second},
	}
}

// testCertificate is a self-signed certificate for 127.0.0.1 and the pool
// that trusts it.
func testCertificate(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "sessionkit fiber demo test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, roots
}

func insecure() demo.Options {
	o := demo.Defaults()
	o.Secure = false
	return o
}

// client is one browser (or device): its own cookie jar and user agent.
type client struct {
	t      *testing.T
	srv    *server
	hc     *http.Client
	ua     string
	bearer string // header transport: the token to send
}

func newClient(t *testing.T, srv *server, ua string) *client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	hc := *srv.Client() // a copy: the server's client is shared; it trusts the TLS test certificate
	hc.Jar = jar
	return &client{t: t, srv: srv, hc: &hc, ua: ua}
}

// token is the session cookie the jar holds ("" for none).
func (c *client) token(name string) string {
	u, err := url.Parse(c.srv.URL)
	require.NoError(c.t, err)
	for _, ck := range c.hc.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

type reply struct {
	status int
	header http.Header
	raw    string
	body   map[string]any
}

// setCookie returns the response's Set-Cookie for name, or nil.
func (r reply) setCookie(name string) *http.Cookie {
	for _, ck := range (&http.Response{Header: r.header}).Cookies() {
		if ck.Name == name {
			return ck
		}
	}
	return nil
}

// do sends a request; extra headers are "Name: value" strings. Every answer
// of the app is JSON; the mux's own 404 and 405 are not.
func (c *client) do(method, path, body string, extra ...string) reply {
	c.t.Helper()
	req, err := http.NewRequest(method, c.srv.URL+path, strings.NewReader(body))
	require.NoError(c.t, err)
	req.Header.Set("User-Agent", c.ua)
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	for _, h := range extra {
		k, v, ok := strings.Cut(h, ": ")
		require.True(c.t, ok, h)
		req.Header.Set(k, v)
	}
	resp, err := c.hc.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	r := reply{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if resp.StatusCode != http.StatusMethodNotAllowed && resp.StatusCode != http.StatusNotFound || strings.HasPrefix(r.raw, "{") {
		require.Equal(c.t, "application/json", resp.Header.Get("Content-Type"), "%s %s: %s", method, path, raw)
		require.NoError(c.t, json.Unmarshal(raw, &r.body), "%s %s: %s", method, path, raw)
	}
	return r
}

func (c *client) login(user string) reply {
	c.t.Helper()
	return c.do("POST", "/login", url.Values{"user": {user}}.Encode(), "Content-Type: application/x-www-form-urlencoded")
}

// want asserts the status and the exact JSON body.
func want(t *testing.T, r reply, status int, body string, msg ...any) {
	t.Helper()
	require.Equal(t, status, r.status, append([]any{r.raw}, msg...)...)
	assert.JSONEq(t, body, r.raw, msg...)
}

// sessions returns the client's GET /sessions list.
func (c *client) sessions() []demo.Session {
	c.t.Helper()
	r := c.do("GET", "/sessions", "")
	require.Equal(c.t, http.StatusOK, r.status, r.raw)
	var list demo.Sessions
	require.NoError(c.t, json.Unmarshal([]byte(r.raw), &list))
	return list.Sessions
}

func (c *client) currentID() string {
	c.t.Helper()
	for _, s := range c.sessions() {
		if s.Current {
			return s.ID
		}
	}
	c.t.Fatal("no current session in the list")
	return ""
}

func hashOf(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// replay sends a request carrying a raw session cookie, outside any jar.
func replay(t *testing.T, srv *server, method, path, cookie string) reply {
	t.Helper()
	c := &client{t: t, srv: srv, hc: srv.Client(), ua: "replay"}
	return c.do(method, path, "", "Cookie: "+cookie)
}

func assertCleared(t *testing.T, r reply, name string) {
	t.Helper()
	ck := r.setCookie(name)
	require.NotNil(t, ck, "the cookie is cleared: %v", r.header["Set-Cookie"])
	assert.Empty(t, ck.Value)
	assert.Equal(t, -1, ck.MaxAge, "Max-Age=0")
	assert.Equal(t, "/", ck.Path)
}

func TestHealthz(t *testing.T) {
	srv := newServer(t, insecure(), false)
	c := newClient(t, srv, "probe")
	r := c.do("GET", "/healthz", "")
	want(t, r, http.StatusOK, `{"ok":true}`)
	assert.Empty(t, r.header.Values("Set-Cookie"))
	r = c.do("POST", "/healthz", "")
	assert.True(t, r.status >= 400 && r.status < 500, "POST /healthz: %d", r.status)
}

func TestAnonymousRequestsCreateNothing(t *testing.T) {
	srv := newServer(t, insecure(), false)
	c := newClient(t, srv, "anon")

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
		r := c.do(tc.method, tc.path, "", "Content-Type: application/x-www-form-urlencoded")
		want(t, r, tc.status, tc.body)
		assert.Empty(t, r.header.Values("Set-Cookie"), "%s %s sets no cookie", tc.method, tc.path)
	}
	assert.Empty(t, c.token("session"), "the jar holds no session")
}

func TestCounterAndValues(t *testing.T) {
	srv := newServer(t, insecure(), false)
	c := newClient(t, srv, "values")

	r := c.do("POST", "/counter", "")
	want(t, r, 200, `{"count":1}`)
	ck := r.setCookie("session")
	require.NotNil(t, ck, "the first write creates the session")
	assert.Len(t, ck.Value, 43)
	assert.True(t, ck.HttpOnly)
	assert.False(t, ck.Secure, "-secure=false")
	assert.Equal(t, http.SameSiteLaxMode, ck.SameSite)
	assert.Equal(t, "no-store", r.header.Get("Cache-Control"))
	token := ck.Value

	r = c.do("POST", "/counter", "")
	want(t, r, 200, `{"count":2}`)
	assert.Empty(t, r.header.Values("Set-Cookie"), "no new cookie for an existing session")
	want(t, c.do("GET", "/counter", ""), 200, `{"count":2}`)
	assert.Equal(t, token, c.token("session"))

	// count is a value like any other, and stays a number.
	r = c.do("GET", "/values/count", "")
	want(t, r, 200, `{"name":"count","value":2}`)
	assert.Contains(t, r.raw, `"value":2`, "a number, not a string")

	want(t, c.do("PUT", "/values/greeting", "hello, world"), 200, `{"name":"greeting","value":"hello, world"}`)
	want(t, c.do("GET", "/values/greeting", ""), 200, `{"name":"greeting","value":"hello, world"}`)
	want(t, c.do("PUT", "/values/greeting", "bonjour"), 200, `{"name":"greeting","value":"bonjour"}`)
	want(t, c.do("GET", "/values/greeting", ""), 200, `{"name":"greeting","value":"bonjour"}`)
	want(t, c.do("PUT", "/values/empty", ""), 200, `{"name":"empty","value":""}`)
	want(t, c.do("GET", "/values/empty", ""), 200, `{"name":"empty","value":""}`)
	want(t, c.do("GET", "/values/a%2Fb", ""), 404, `{"error":"no value named \"a/b\""}`)
	want(t, c.do("PUT", "/values/a%2Fb", "slash"), 200, `{"name":"a/b","value":"slash"}`)
	want(t, c.do("GET", "/values/a%2Fb", ""), 200, `{"name":"a/b","value":"slash"}`)

	want(t, c.do("DELETE", "/values/greeting", ""), 200, `{"ok":true}`)
	want(t, c.do("GET", "/values/greeting", ""), 404, `{"error":"no value named \"greeting\""}`)
	want(t, c.do("DELETE", "/values/greeting", ""), 200, `{"ok":true}`)

	// Limits: 64 KiB is fine, one byte more is 413; text only.
	big := strings.Repeat("x", demo.MaxBodyBytes)
	require.Equal(t, 200, c.do("PUT", "/values/big", big).status)
	want(t, c.do("PUT", "/values/big", big+"x"), 413, `{"error":"request body too large"}`)
	want(t, c.do("PUT", "/values/bin", "\xff\xfe"), 400, `{"error":"request body is not UTF-8 text"}`)
	want(t, c.do("GET", "/values/bin", ""), 404, `{"error":"no value named \"bin\""}`)

	// One namespace: the counter sees a value put under count.
	want(t, c.do("PUT", "/values/count", "41"), 200, `{"name":"count","value":"41"}`)
	want(t, c.do("GET", "/counter", ""), 200, `{"count":41}`)
	want(t, c.do("POST", "/counter", ""), 200, `{"count":42}`)
	want(t, c.do("GET", "/values/count", ""), 200, `{"name":"count","value":42}`)
	want(t, c.do("PUT", "/values/count", "many"), 200, `{"name":"count","value":"many"}`)
	want(t, c.do("GET", "/counter", ""), 409, `{"error":"value \"count\" is not a number"}`)
	want(t, c.do("POST", "/counter", ""), 409, `{"error":"value \"count\" is not a number"}`)
	want(t, c.do("DELETE", "/values/count", ""), 200, `{"ok":true}`)
	want(t, c.do("GET", "/counter", ""), 200, `{"count":0}`)

	assert.Equal(t, token, c.token("session"), "values never change the token")

	// Another client has its own session.
	other := newClient(t, srv, "other")
	want(t, other.do("GET", "/values/empty", ""), 404, `{"error":"no value named \"empty\""}`)
	want(t, other.do("POST", "/counter", ""), 200, `{"count":1}`)

	// Methods and paths outside the contract are client errors.
	for _, tc := range [][2]string{{"POST", "/me"}, {"PATCH", "/counter"}, {"GET", "/nope"}, {"PUT", "/values/"}, {"GET", "/sessions/x"}} {
		r := c.do(tc[0], tc[1], "")
		assert.True(t, r.status >= 400 && r.status < 500, "%v: %d", tc, r.status)
	}
}

func TestLoginAndLogout(t *testing.T) {
	srv := newServer(t, insecure(), false)
	c := newClient(t, srv, "laptop")

	want(t, c.do("PUT", "/values/cart", "3 apples"), 200, `{"name":"cart","value":"3 apples"}`)
	before := c.token("session")
	require.NotEmpty(t, before)

	want(t, c.login(""), 400, `{"error":"form field \"user\" is required"}`)
	want(t, c.login("   "), 400, `{"error":"form field \"user\" is required"}`)
	want(t, c.login(strings.Repeat("u", demo.MaxUserBytes+1)), 400, `{"error":"form field \"user\" is too long"}`)
	want(t, c.do("POST", "/login", "user=%ff", "Content-Type: application/x-www-form-urlencoded"), 400, `{"error":"form field \"user\" is not UTF-8 text"}`)
	want(t, c.do("POST", "/login", "user=%zz", "Content-Type: application/x-www-form-urlencoded"), 400, `{"error":"malformed form body"}`)
	want(t, c.do("POST", "/login?user=mallory", "", "Content-Type: application/x-www-form-urlencoded"), 400,
		`{"error":"form field \"user\" is required"}`, "the user comes from the form body, not the URL")
	want(t, c.do("GET", "/me", ""), 401, `{"error":"not logged in"}`)
	assert.Equal(t, before, c.token("session"), "a refused login changes nothing")

	r := c.login("alice")
	want(t, r, 200, `{"user":"alice"}`)
	ck := r.setCookie("session")
	require.NotNil(t, ck, "login issues a new token")
	assert.NotEqual(t, before, ck.Value)
	assert.Equal(t, "no-store", r.header.Get("Cache-Control"))
	after := c.token("session")
	assert.Equal(t, ck.Value, after)

	want(t, c.do("GET", "/me", ""), 200, `{"user":"alice"}`)
	want(t, c.do("GET", "/values/cart", ""), 200, `{"name":"cart","value":"3 apples"}`)
	// The user id is metadata, not a value.
	want(t, c.do("GET", "/values/user", ""), 404, `{"error":"no value named \"user\""}`)

	// The pre-login token is dead: no session fixation.
	want(t, replay(t, srv, "GET", "/values/cart", "session="+before), 404, `{"error":"no value named \"cart\""}`)
	want(t, replay(t, srv, "GET", "/me", "session="+before), 401, `{"error":"not logged in"}`)

	// Login without a session creates one.
	fresh := newClient(t, srv, "phone")
	r = fresh.login("bob")
	want(t, r, 200, `{"user":"bob"}`)
	require.NotNil(t, r.setCookie("session"))
	want(t, fresh.do("GET", "/me", ""), 200, `{"user":"bob"}`)

	r = c.do("POST", "/logout", "")
	want(t, r, 200, `{"ok":true}`)
	assertCleared(t, r, "session")
	assert.Empty(t, c.token("session"), "the jar dropped the cookie")
	want(t, c.do("GET", "/me", ""), 401, `{"error":"not logged in"}`)
	want(t, replay(t, srv, "GET", "/me", "session="+after), 401, `{"error":"not logged in"}`)
	want(t, replay(t, srv, "GET", "/values/cart", "session="+after), 404, `{"error":"no value named \"cart\""}`)

	want(t, fresh.do("GET", "/me", ""), 200, `{"user":"bob"}`)
}

func TestSessionsListAndRevoke(t *testing.T) {
	srv := newServer(t, insecure(), false)
	laptop := newClient(t, srv, "Laptop/1.0")
	phone := newClient(t, srv, "Phone/2.0")
	bob := newClient(t, srv, "Bob/3.0")

	want(t, laptop.login("alice"), 200, `{"user":"alice"}`)
	want(t, phone.login("alice"), 200, `{"user":"alice"}`)
	want(t, bob.login("bob"), 200, `{"user":"bob"}`)

	list := laptop.sessions()
	require.Len(t, list, 2)
	byUA := map[string]demo.Session{}
	for _, s := range list {
		byUA[s.UserAgent] = s
		assert.Len(t, s.ID, 64)
		assert.Equal(t, "127.0.0.1", s.IP)
		for _, ts := range []string{s.CreatedAt, s.LastSeen, s.ExpiresAt} {
			parsed, err := time.Parse(time.RFC3339, ts)
			require.NoError(t, err, ts)
			assert.WithinDuration(t, time.Now(), parsed, 24*time.Hour+time.Minute)
		}
		created, _ := time.Parse(time.RFC3339, s.CreatedAt)
		expires, _ := time.Parse(time.RFC3339, s.ExpiresAt)
		assert.WithinDuration(t, created.Add(30*time.Minute), expires, 2*time.Second, "the idle deadline comes first")
	}
	require.Contains(t, byUA, "Laptop/1.0")
	require.Contains(t, byUA, "Phone/2.0")
	assert.True(t, byUA["Laptop/1.0"].Current)
	assert.False(t, byUA["Phone/2.0"].Current)
	// The listed id is the token's hash, never the token.
	assert.Equal(t, hashOf(laptop.token("session")), byUA["Laptop/1.0"].ID)
	assert.Equal(t, hashOf(phone.token("session")), byUA["Phone/2.0"].ID)
	assert.NotContains(t, mustGet(t, laptop, "/sessions"), laptop.token("session"))
	assert.NotContains(t, mustGet(t, laptop, "/sessions"), phone.token("session"))

	assert.Equal(t, byUA["Phone/2.0"].ID, phone.currentID())
	bobID := bob.currentID()
	require.Len(t, bob.sessions(), 1, "bob sees only his own")

	// Someone else's session, or no session at all: 404, nothing revoked.
	want(t, laptop.do("DELETE", "/sessions/"+bobID, ""), 404, `{"error":"no such session"}`)
	want(t, laptop.do("DELETE", "/sessions/"+strings.Repeat("0", 64), ""), 404, `{"error":"no such session"}`)
	want(t, laptop.do("DELETE", "/sessions/not-an-id", ""), 404, `{"error":"no such session"}`)
	want(t, bob.do("GET", "/me", ""), 200, `{"user":"bob"}`)

	// Revoke the phone from the laptop.
	r := laptop.do("DELETE", "/sessions/"+byUA["Phone/2.0"].ID, "")
	want(t, r, 200, `{"revoked":1}`)
	assert.Nil(t, r.setCookie("session"), "the laptop keeps its cookie")
	want(t, phone.do("GET", "/me", ""), 401, `{"error":"not logged in"}`)
	want(t, laptop.do("GET", "/me", ""), 200, `{"user":"alice"}`)
	want(t, laptop.do("DELETE", "/sessions/"+byUA["Phone/2.0"].ID, ""), 404, `{"error":"no such session"}`)
	require.Len(t, laptop.sessions(), 1)

	// Log out everywhere else.
	tablet := newClient(t, srv, "Tablet/4.0")
	want(t, phone.login("alice"), 200, `{"user":"alice"}`)
	want(t, tablet.login("alice"), 200, `{"user":"alice"}`)
	require.Len(t, laptop.sessions(), 3)
	r = laptop.do("POST", "/sessions/revoke-others", "")
	want(t, r, 200, `{"revoked":2}`)
	assert.Nil(t, r.setCookie("session"))
	want(t, phone.do("GET", "/me", ""), 401, `{"error":"not logged in"}`)
	want(t, tablet.do("GET", "/me", ""), 401, `{"error":"not logged in"}`)
	want(t, laptop.do("GET", "/me", ""), 200, `{"user":"alice"}`)
	want(t, laptop.do("POST", "/sessions/revoke-others", ""), 200, `{"revoked":0}`)
	want(t, bob.do("GET", "/me", ""), 200, `{"user":"bob"}`)

	// Revoking the current session is a logout.
	token := laptop.token("session")
	r = laptop.do("DELETE", "/sessions/"+laptop.currentID(), "")
	want(t, r, 200, `{"revoked":1}`)
	assertCleared(t, r, "session")
	want(t, laptop.do("GET", "/me", ""), 401, `{"error":"not logged in"}`)
	want(t, replay(t, srv, "GET", "/me", "session="+token), 401, `{"error":"not logged in"}`)
	want(t, laptop.do("GET", "/sessions", ""), 401, `{"error":"not logged in"}`)
	want(t, bob.do("GET", "/me", ""), 200, `{"user":"bob"}`)
}

func mustGet(t *testing.T, c *client, path string) string {
	t.Helper()
	r := c.do("GET", path, "")
	require.Equal(t, 200, r.status, r.raw)
	return r.raw
}

// TestSecureDefaults runs the demo as it starts without flags, over HTTPS
// (a TLS listener under app.Listener), so that the jar keeps and returns
// the Secure cookie as a browser would.
func TestSecureDefaults(t *testing.T) {
	srv := newServer(t, demo.Defaults(), true)
	c := newClient(t, srv, "browser")

	r := c.do("POST", "/counter", "")
	want(t, r, 200, `{"count":1}`)
	require.Len(t, r.header.Values("Set-Cookie"), 1)
	raw := r.header.Get("Set-Cookie")
	ck := r.setCookie("__Host-session")
	require.NotNil(t, ck, raw)
	assert.Len(t, ck.Value, 43)
	assert.Regexp(t, `^[A-Za-z0-9_-]{43}$`, ck.Value)
	// The wire form, attribute for attribute, as the net/http demo sends it.
	assert.Equal(t, "__Host-session="+ck.Value+"; Path=/; HttpOnly; Secure; SameSite=Lax", raw)
	assert.True(t, ck.Secure, raw)
	assert.True(t, ck.HttpOnly, raw)
	assert.Equal(t, http.SameSiteLaxMode, ck.SameSite, raw)
	assert.Equal(t, "/", ck.Path)
	assert.Empty(t, ck.Domain, "host-only")
	assert.Zero(t, ck.MaxAge, "a browser-session cookie")
	assert.NotContains(t, raw, "Max-Age")
	assert.NotContains(t, raw, "Expires")
	assert.Equal(t, "no-store", r.header.Get("Cache-Control"))

	want(t, c.do("POST", "/counter", ""), 200, `{"count":2}`)
	want(t, c.login("carol"), 200, `{"user":"carol"}`)
	want(t, c.do("GET", "/counter", ""), 200, `{"count":2}`)
	tok := c.token("__Host-session")
	assert.Equal(t, hashOf(tok), c.currentID())
	// Only the configured name is the session: a plain "session" cookie
	// carrying the very token is ignored.
	want(t, replay(t, srv, "GET", "/me", "session="+tok), 401, `{"error":"not logged in"}`)
	want(t, replay(t, srv, "GET", "/me", "__Host-session="+tok), 200, `{"user":"carol"}`)
	r = c.do("POST", "/logout", "")
	want(t, r, 200, `{"ok":true}`)
	assertCleared(t, r, "__Host-session")
	assert.True(t, r.setCookie("__Host-session").Secure, "the clearing cookie keeps its attributes")
	assert.Empty(t, c.token("__Host-session"), "the jar dropped the cookie")
	want(t, c.do("GET", "/counter", ""), 200, `{"count":0}`)
	want(t, replay(t, srv, "GET", "/me", "__Host-session="+tok), 401, `{"error":"not logged in"}`)
}

func TestHeaderTransport(t *testing.T) {
	o := insecure()
	o.Transport = demo.TransportHeader
	srv := newServer(t, o, false)
	c := newClient(t, srv, "api-client")

	r := c.do("POST", "/counter", "")
	want(t, r, 200, `{"count":1}`)
	assert.Empty(t, r.header.Values("Set-Cookie"), "header transport sets no cookie")
	tok := r.header.Get("Session-Token")
	require.Len(t, tok, 43)
	assert.Equal(t, "no-store", r.header.Get("Cache-Control"))

	c.bearer = tok
	r = c.do("POST", "/counter", "")
	want(t, r, 200, `{"count":2}`)
	assert.Empty(t, r.header.Get("Session-Token"), "no new token for an existing session")

	// The scheme matches case-insensitively; cookies are ignored.
	c.bearer = ""
	want(t, c.do("GET", "/counter", "", "Authorization: bearer "+tok), 200, `{"count":2}`)
	want(t, c.do("GET", "/counter", "", "Authorization: BEARER "+tok), 200, `{"count":2}`)
	want(t, c.do("GET", "/counter", "", "Cookie: session="+tok), 200, `{"count":0}`)
	want(t, c.do("GET", "/counter", "", "Cookie: __Host-session="+tok), 200, `{"count":0}`)
	want(t, c.do("GET", "/counter", "", "Authorization: Basic "+tok), 200, `{"count":0}`)

	c.bearer = tok
	r = c.login("dave")
	want(t, r, 200, `{"user":"dave"}`)
	newTok := r.header.Get("Session-Token")
	require.Len(t, newTok, 43)
	assert.NotEqual(t, tok, newTok)
	want(t, c.do("GET", "/me", ""), 401, `{"error":"not logged in"}`) // still the old bearer: dead
	want(t, c.do("GET", "/counter", ""), 200, `{"count":0}`)

	c.bearer = newTok
	want(t, c.do("GET", "/me", ""), 200, `{"user":"dave"}`)
	want(t, c.do("GET", "/counter", ""), 200, `{"count":2}`)
	list := c.sessions()
	require.Len(t, list, 1)
	assert.True(t, list[0].Current)
	assert.Equal(t, hashOf(newTok), list[0].ID)
	assert.Equal(t, "api-client", list[0].UserAgent)

	other := &client{t: t, srv: srv, hc: srv.Client(), ua: "cli"}
	r = other.login("dave")
	require.Equal(t, 200, r.status)
	other.bearer = r.header.Get("Session-Token")
	want(t, c.do("POST", "/sessions/revoke-others", ""), 200, `{"revoked":1}`)
	want(t, other.do("GET", "/me", ""), 401, `{"error":"not logged in"}`)

	r = c.do("POST", "/logout", "")
	want(t, r, 200, `{"ok":true}`)
	assert.Empty(t, r.header.Values("Set-Cookie"))
	want(t, c.do("GET", "/me", ""), 401, `{"error":"not logged in"}`)
}

// flakyStore is a memstore whose operations fail on demand.
type flakyStore struct {
	store.Store
	mu   sync.Mutex
	down map[string]bool // op name → failing
}

var errDown = errors.New("flaky: connection refused")

func (f *flakyStore) fail(ops ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = map[string]bool{}
	for _, op := range ops {
		f.down[op] = true
	}
}

func (f *flakyStore) isDown(op string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.down[op] || f.down["*"]
}

func (f *flakyStore) Load(ctx context.Context, id string, o store.LoadOptions) (*store.Record, error) {
	if f.isDown("Load") {
		return nil, errDown
	}
	return f.Store.Load(ctx, id, o)
}

func (f *flakyStore) Create(ctx context.Context, id string, rec *store.Record, o store.WriteOptions) ([]string, error) {
	if f.isDown("Create") {
		return nil, errDown
	}
	return f.Store.Create(ctx, id, rec, o)
}

func (f *flakyStore) Update(ctx context.Context, id string, ch *store.Change) error {
	if f.isDown("Update") {
		return errDown
	}
	return f.Store.Update(ctx, id, ch)
}

func (f *flakyStore) Renew(ctx context.Context, oldID, newID string, ch *store.Change, o store.WriteOptions) ([]string, error) {
	if f.isDown("Renew") {
		return nil, errDown
	}
	return f.Store.Renew(ctx, oldID, newID, ch, o)
}

func (f *flakyStore) Delete(ctx context.Context, id string) (bool, error) {
	if f.isDown("Delete") {
		return false, errDown
	}
	return f.Store.Delete(ctx, id)
}

func (f *flakyStore) ListUser(ctx context.Context, userID string, now time.Time) ([]store.Entry, error) {
	if f.isDown("ListUser") {
		return nil, errDown
	}
	return f.Store.ListUser(ctx, userID, now)
}

func (f *flakyStore) DeleteUser(ctx context.Context, userID, keepID string) ([]string, error) {
	if f.isDown("DeleteUser") {
		return nil, errDown
	}
	return f.Store.DeleteUser(ctx, userID, keepID)
}

func TestStoreFailureAnswers503(t *testing.T) {
	mem := memstore.New(memstore.Options{})
	t.Cleanup(func() { _ = mem.Close() })
	flaky := &flakyStore{Store: mem}
	m, err := core.New(insecure().Config(flaky, quiet()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	srv := serve(t, newApp(m, quiet()), false)

	c := newClient(t, srv, "victim")
	other := newClient(t, srv, "other")
	want(t, c.login("erin"), 200, `{"user":"erin"}`)
	want(t, other.login("erin"), 200, `{"user":"erin"}`)
	otherID := other.currentID()
	token := c.token("session")

	for _, tc := range []struct {
		down         []string
		method, path string
		body         string
	}{
		{[]string{"*"}, "GET", "/counter", ""},
		{[]string{"Load"}, "GET", "/me", ""},
		{[]string{"Load"}, "POST", "/logout", ""},
		{[]string{"Update"}, "POST", "/counter", ""},
		{[]string{"Update"}, "PUT", "/values/x", "y"},
		{[]string{"Renew"}, "POST", "/login", "user=erin"},
		{[]string{"Delete"}, "POST", "/logout", ""},
		{[]string{"ListUser"}, "GET", "/sessions", ""},
		{[]string{"ListUser"}, "DELETE", "/sessions/" + otherID, ""},
		{[]string{"Delete"}, "DELETE", "/sessions/" + otherID, ""},
		{[]string{"DeleteUser"}, "POST", "/sessions/revoke-others", ""},
	} {
		flaky.fail(tc.down...)
		r := c.do(tc.method, tc.path, tc.body, "Content-Type: application/x-www-form-urlencoded")
		want(t, r, http.StatusServiceUnavailable, storeDownBody)
		assert.Empty(t, r.header.Values("Set-Cookie"), "%v %s %s: no cookie change", tc.down, tc.method, tc.path)
	}
	flaky.fail()

	// A store failure never turned the client anonymous or lost its session.
	assert.Equal(t, token, c.token("session"))
	want(t, c.do("GET", "/me", ""), 200, `{"user":"erin"}`)
	want(t, other.do("GET", "/me", ""), 200, `{"user":"erin"}`)
	want(t, c.do("GET", "/values/x", ""), 404, `{"error":"no value named \"x\""}`)

	// A new visitor is not served anonymously while the store is down.
	flaky.fail("Create")
	want(t, newClient(t, srv, "new").do("POST", "/counter", ""), http.StatusServiceUnavailable, storeDownBody)
	flaky.fail()

	// /healthz does not depend on the store.
	flaky.fail("*")
	want(t, c.do("GET", "/healthz", ""), 200, `{"ok":true}`)
}

func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrs := make(chan net.Addr, 1)
	var logs syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-secure=false"}, &logs, func(a net.Addr) { addrs <- a })
	}()
	var addr net.Addr
	select {
	case addr = <-addrs:
	case err := <-done:
		t.Fatalf("run returned early: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not start")
	}
	base := "http://" + addr.String()

	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	hc := &http.Client{Jar: jar, Timeout: 5 * time.Second}
	for i, body := range []string{`{"ok":true}`, `{"count":1}`, `{"count":2}`} {
		method, path := "POST", "/counter"
		if i == 0 {
			method, path = "GET", "/healthz"
		}
		req, err := http.NewRequest(method, base+path, nil)
		require.NoError(t, err)
		resp, err := hc.Do(req)
		require.NoError(t, err)
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, 200, resp.StatusCode)
		assert.JSONEq(t, body, string(raw))
	}

	// An error answer is logged with the status the client got.
	resp, err := hc.Get(base + "/me")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 401, resp.StatusCode)

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err, "a signal is a clean shutdown")
	case <-time.After(15 * time.Second):
		t.Fatal("run did not shut down")
	}
	out := logs.String()
	assert.Contains(t, out, "listening")
	assert.Contains(t, out, "path=/counter status=200")
	assert.Contains(t, out, "path=/me status=401")
	assert.Contains(t, out, "stopped")
	_, err = http.Get(base + "/healthz")
	assert.Error(t, err, "the listener is closed")
}

func TestRunRejects(t *testing.T) {
	// Every case must fail before serving; should one serve, the timeout ends it.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var out bytes.Buffer
	err := run(ctx, []string{"-store", "redis"}, &out, nil)
	assert.EqualError(t, err, "the redis store is not available yet (coming with the Redis store issue)")

	err = run(ctx, []string{"-transport", "smoke-signals"}, &out, nil)
	assert.ErrorIs(t, err, errUsage)
	assert.Contains(t, out.String(), `-transport "smoke-signals"`)

	err = run(ctx, []string{"-idle", "48h"}, &out, nil)
	assert.ErrorIs(t, err, core.ErrConfig, "idle longer than the lifetime")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	err = run(ctx, []string{"-addr", ln.Addr().String()}, &out, nil)
	assert.ErrorContains(t, err, "address already in use")
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// The tests above are the net/http demo's, case for case; those below
// cover what Fiber and fasthttp do differently from net/http, and the
// settings and code in newApp that make the demo answer alike anyway.

// rawConn is one client connection to srv, for what http.Client hides:
// which connection a request rides on, and a request that is not sent whole.
type rawConn struct {
	t  *testing.T
	cn net.Conn
	br *bufio.Reader
}

func dial(t *testing.T, srv *server) *rawConn {
	t.Helper()
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	cn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	require.NoError(t, err)
	require.NoError(t, cn.SetDeadline(time.Now().Add(10*time.Second)))
	t.Cleanup(func() { _ = cn.Close() })
	return &rawConn{t: t, cn: cn, br: bufio.NewReader(cn)}
}

// send writes the request as given and reads the answer.
func (rc *rawConn) send(request string) (*http.Response, string) {
	rc.t.Helper()
	_, err := io.WriteString(rc.cn, request)
	require.NoError(rc.t, err)
	resp, err := http.ReadResponse(rc.br, nil)
	require.NoError(rc.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(rc.t, err)
	return resp, string(raw)
}

func request(method, path, body string, headers ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n", method, path)
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	return b.String()
}

// Bodies: the demo's 64 KiB limit is the handlers', so an oversized value
// is answered on a connection that stays usable, as in the net/http demo;
// past Fiber's BodyLimit, Fiber answers before any handler, with the same
// JSON.
func TestBodyLimits(t *testing.T) {
	srv := newServer(t, insecure(), false)
	const tooLarge = `{"error":"request body too large"}`

	rc := dial(t, srv)
	resp, body := rc.send(request("PUT", "/values/big", strings.Repeat("x", demo.MaxBodyBytes+1)))
	require.Equal(t, 413, resp.StatusCode, body)
	assert.Equal(t, tooLarge+"\n", body)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	assert.False(t, resp.Close, "the body was read; the connection stays open")
	resp, body = rc.send(request("GET", "/healthz", ""))
	require.Equal(t, 200, resp.StatusCode, "the same connection serves the next request")
	assert.Equal(t, `{"ok":true}`+"\n", body)

	// A login form over the limit is 413 too; a body that is not a form is
	// not read at all, as net/http's ParseForm does not read it.
	c := newClient(t, srv, "forms")
	big := "user=" + strings.Repeat("u", demo.MaxBodyBytes)
	want(t, c.do("POST", "/login", big, "Content-Type: application/x-www-form-urlencoded"), 413, tooLarge)
	want(t, c.do("POST", "/login", big, "Content-Type: text/plain"), 400, `{"error":"form field \"user\" is required"}`)
	want(t, c.do("POST", "/login", "user=x", "Content-Type: multipart/form-data; boundary=b"), 400, `{"error":"form field \"user\" is required"}`)
	want(t, c.do("POST", "/login", "user=x", "Content-Type: ;;"), 400, `{"error":"malformed form body"}`)
	want(t, c.do("POST", "/login?x=%zz", "user=x", "Content-Type: application/x-www-form-urlencoded"), 400, `{"error":"malformed form body"}`)
	want(t, c.do("POST", "/login", "user=x", "Content-Type: Application/X-WWW-Form-Urlencoded; charset=utf-8"), 200, `{"user":"x"}`)

	// A route that ignores its body answers as usual below BodyLimit.
	want(t, newClient(t, srv, "counter").do("POST", "/counter", strings.Repeat("x", bodyLimit)), 200, `{"count":1}`)

	// Past BodyLimit fasthttp refuses the request from its Content-Length,
	// before the body is sent, and Fiber hands the error to the app's
	// ErrorHandler.
	rc = dial(t, srv)
	_, err := fmt.Fprintf(rc.cn, "PUT /values/huge HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n", bodyLimit+1)
	require.NoError(t, err)
	resp, err = http.ReadResponse(rc.br, nil)
	require.NoError(t, err)
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, 413, resp.StatusCode, string(raw))
	assert.JSONEq(t, tooLarge, string(raw))
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
}

// A value is the bytes sent: Fiber's c.Body would decompress by
// Content-Encoding, and answer a body it cannot decode with the decoder's
// error text in its place.
func TestBodyIsNotDecoded(t *testing.T) {
	srv := newServer(t, insecure(), false)
	c := newClient(t, srv, "encodings")

	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, err := zw.Write([]byte("hello"))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	want(t, c.do("PUT", "/values/zipped", gz.String(), "Content-Encoding: gzip"), 400, `{"error":"request body is not UTF-8 text"}`)
	want(t, c.do("PUT", "/values/plain", "not gzip", "Content-Encoding: gzip"), 200, `{"name":"plain","value":"not gzip"}`)
	want(t, c.do("GET", "/values/plain", ""), 200, `{"name":"plain","value":"not gzip"}`)
	want(t, c.do("POST", "/login", "user=zoe", "Content-Type: application/x-www-form-urlencoded", "Content-Encoding: br"), 200, `{"user":"zoe"}`)
}

// Routes match as net/http's ServeMux matches them: exactly, and with
// escaped path parameters unescaped.
func TestRoutesMatchLikeServeMux(t *testing.T) {
	srv := newServer(t, insecure(), false)
	c := newClient(t, srv, "router")

	want(t, c.do("POST", "/counter", ""), 200, `{"count":1}`)
	for _, tc := range [][2]string{
		{"GET", "/Counter"}, {"POST", "/COUNTER"}, {"GET", "/counter/"}, {"GET", "/me/"},
		{"GET", "/Values/count"}, {"GET", "/values/count/"}, {"GET", "/values/a/b"},
		{"GET", "/healthz/"},
	} {
		r := c.do(tc[0], tc[1], "")
		assert.True(t, r.status >= 400 && r.status < 500, "%v: %d %s", tc, r.status, r.raw)
	}
	// Escapes net/http refuses in the request line (http.Client will not
	// even send them).
	rc := dial(t, srv)
	for _, tc := range [][2]string{{"GET", "/values/%zz"}, {"PUT", "/values/%"}, {"DELETE", "/values/a%2"}, {"DELETE", "/sessions/%zz"}} {
		resp, body := rc.send(request(tc[0], tc[1], ""))
		assert.Equal(t, 400, resp.StatusCode, "%v: %s", tc, body)
	}
	want(t, c.do("GET", "/counter", ""), 200, `{"count":1}`, "nothing above changed the count")

	for name, path := range map[string]string{
		"a b":   "/values/a%20b",
		"a+b":   "/values/a+b",
		"é":     "/values/%C3%A9",
		"50%":   "/values/50%25",
		"x?y":   "/values/x%3Fy",
		"Count": "/values/Count",
	} {
		body, err := json.Marshal(demo.Value{Name: name, Value: path})
		require.NoError(t, err)
		want(t, c.do("PUT", path, path), 200, string(body), path)
		want(t, c.do("GET", path, ""), 200, string(body), path)
	}
	want(t, c.do("GET", "/values/count", ""), 200, `{"name":"count","value":1}`, "names are case-sensitive")

	// /sessions/{id} unescapes the id as well.
	want(t, c.login("ida"), 200, `{"user":"ida"}`)
	id := c.currentID()
	escaped := "%" + strings.ToUpper(hex.EncodeToString([]byte(id[:1]))) + id[1:]
	r := c.do("DELETE", "/sessions/"+escaped, "")
	want(t, r, 200, `{"revoked":1}`)
	assertCleared(t, r, "session")
}

// fasthttp limits request headers to its read buffer, 4 KiB by default; a
// browser that has collected cookies from other apps on localhost sends
// more. The demo takes up to 64 KiB, as the net/http demo.
func TestLargeRequestHeaders(t *testing.T) {
	srv := newServer(t, insecure(), false)
	c := newClient(t, srv, "cookie-monster")
	want(t, c.do("POST", "/counter", ""), 200, `{"count":1}`)

	var junk []string
	for i := 0; len(strings.Join(junk, "; ")) < 48<<10; i++ {
		junk = append(junk, fmt.Sprintf("other-app-%d=%s", i, strings.Repeat("v", 100)))
	}
	cookies := strings.Join(junk, "; ") + "; session=" + c.token("session")
	r := replay(t, srv, "GET", "/counter", cookies)
	want(t, r, 200, `{"count":1}`)

	// Over 64 KiB, fasthttp answers 431 and closes the connection without
	// reading the rest, so the write may fail; the answer is still there
	// to read.
	rc := dial(t, srv)
	go func() {
		_, _ = io.WriteString(rc.cn, request("GET", "/counter", "", "Cookie: a="+strings.Repeat("x", 80<<10)))
	}()
	resp, err := http.ReadResponse(rc.br, nil)
	require.NoError(t, err)
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode, string(raw))
}

// fasthttp parses every request of a connection into the same buffers.
// What the demo keeps from a request (value names and bodies, the user)
// must survive the requests that follow on the connection: many writes of
// names, values and users of one length, each overwriting the last in
// place, then reads of all of them. This proves the property end to end;
// it cannot tell whose copy provides it, since core copies keys and user
// ids as well as the demo.
func TestOneConnectionManyRequests(t *testing.T) {
	srv := newServer(t, insecure(), false)
	rc := dial(t, srv)
	const n = 30
	name := func(i int) string { return fmt.Sprintf("key-%03d", i) }
	value := func(i int) string { return fmt.Sprintf("value-%03d", i) }

	resp, body := rc.send(request("POST", "/login", "user=user-000", "Content-Type: application/x-www-form-urlencoded"))
	require.Equal(t, 200, resp.StatusCode, body)
	cookie := "Cookie: " + strings.Split(resp.Header.Get("Set-Cookie"), ";")[0]
	for i := 0; i < n; i++ {
		resp, body = rc.send(request("PUT", "/values/"+name(i), value(i), cookie))
		require.Equal(t, 200, resp.StatusCode, body)
		require.False(t, resp.Close)
	}
	// Other users on the same connection, in sessions of their own.
	for i := 1; i < n; i++ {
		resp, body = rc.send(request("POST", "/login", fmt.Sprintf("user=user-%03d", i), "Content-Type: application/x-www-form-urlencoded"))
		require.Equal(t, 200, resp.StatusCode, body)
	}
	for i := n - 1; i >= 0; i-- {
		resp, body = rc.send(request("GET", "/values/"+name(i), "", cookie))
		require.Equal(t, 200, resp.StatusCode, body)
		assert.JSONEq(t, fmt.Sprintf(`{"name":%q,"value":%q}`, name(i), value(i)), body)
	}
	resp, body = rc.send(request("GET", "/me", "", cookie))
	require.Equal(t, 200, resp.StatusCode, body)
	assert.JSONEq(t, `{"user":"user-000"}`, body)
}

// A signal that arrives before the server has started serving still ends
// run, promptly and cleanly.
func TestRunCancelledAtOnce(t *testing.T) {
	for i := 0; i < 20; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		done := make(chan error, 1)
		go func() { done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, io.Discard, nil) }()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Fatal("run did not return")
		}
	}
}
