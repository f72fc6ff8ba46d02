package demotest

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/examples/demo"
)

// Client is one browser (or device): its own cookie jar and user agent.
type Client struct {
	t   *testing.T
	srv Target
	hc  *http.Client
	ua  string
	// Bearer is the token to send as Authorization: Bearer (header
	// transport); empty sends none.
	Bearer string
}

// NewClient is a browser with an empty cookie jar.
func NewClient(t *testing.T, srv Target, ua string) *Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	hc := *srv.Client // a copy: the target's client is shared; it trusts the TLS test certificate
	hc.Jar = jar
	return &Client{t: t, srv: srv, hc: &hc, ua: ua}
}

// Token is the session cookie the jar holds ("" for none).
func (c *Client) Token(name string) string {
	u, err := url.Parse(c.srv.URL)
	require.NoError(c.t, err)
	for _, ck := range c.hc.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// Reply is an answer of the app.
type Reply struct {
	Status int
	Header http.Header
	Raw    string // the body
}

// SetCookie returns the response's Set-Cookie for name, or nil.
func (r Reply) SetCookie(name string) *http.Cookie {
	for _, ck := range (&http.Response{Header: r.Header}).Cookies() {
		if ck.Name == name {
			return ck
		}
	}
	return nil
}

// Do sends a request; headers are "Name: value" strings. Every answer of
// the app is JSON, exactly "application/json"; a router's own 404 and 405
// need not be.
func (c *Client) Do(method, path, body string, headers ...string) Reply {
	c.t.Helper()
	req, err := http.NewRequest(method, c.srv.URL+path, strings.NewReader(body))
	require.NoError(c.t, err)
	req.Header.Set("User-Agent", c.ua)
	if c.Bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.Bearer)
	}
	for _, h := range headers {
		k, v, ok := strings.Cut(h, ": ")
		require.True(c.t, ok, h)
		req.Header.Set(k, v)
	}
	resp, err := c.hc.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	r := Reply{Status: resp.StatusCode, Header: resp.Header, Raw: string(raw)}
	if resp.StatusCode != http.StatusMethodNotAllowed && resp.StatusCode != http.StatusNotFound || strings.HasPrefix(r.Raw, "{") {
		require.Equal(c.t, "application/json", resp.Header.Get("Content-Type"), "%s %s: %s", method, path, raw)
		var body any
		require.NoError(c.t, json.Unmarshal(raw, &body), "%s %s: %s", method, path, raw)
	}
	return r
}

// Login posts the login form for user.
func (c *Client) Login(user string) Reply {
	c.t.Helper()
	return c.LoginForm(url.Values{"user": {user}})
}

// LoginForm posts the login form with the fields given; headers as for Do.
func (c *Client) LoginForm(form url.Values, headers ...string) Reply {
	c.t.Helper()
	return c.Do("POST", "/login", form.Encode(), append([]string{"Content-Type: application/x-www-form-urlencoded"}, headers...)...)
}

// Sessions returns the client's GET /sessions list.
func (c *Client) Sessions() []core.SessionInfo {
	c.t.Helper()
	r := c.Do("GET", "/sessions", "")
	require.Equal(c.t, http.StatusOK, r.Status, r.Raw)
	var list demo.Sessions
	require.NoError(c.t, json.Unmarshal([]byte(r.Raw), &list))
	return list.Sessions
}

// CurrentID is the id GET /sessions marks current.
func (c *Client) CurrentID() string {
	c.t.Helper()
	for _, s := range c.Sessions() {
		if s.Current {
			return s.ID
		}
	}
	c.t.Fatal("no current session in the list")
	return ""
}

// Want asserts the status and the body: the JSON given, byte for byte as
// the demos send it (encoding/json's Encoder: compact, then a newline).
func Want(t *testing.T, r Reply, status int, body string, msg ...any) {
	t.Helper()
	require.Equal(t, status, r.Status, append([]any{r.Raw}, msg...)...)
	assert.JSONEq(t, body, r.Raw, msg...)
	assert.Equal(t, body+"\n", r.Raw, append([]any{"byte for byte"}, msg...)...)
}

func hashOf(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Replay sends a request carrying a raw Cookie header, outside any jar.
func Replay(t *testing.T, srv Target, method, path, cookie string) Reply {
	t.Helper()
	c := &Client{t: t, srv: srv, hc: srv.Client, ua: "replay"}
	return c.Do(method, path, "", "Cookie: "+cookie)
}

// AssertCleared asserts that r clears the cookie name.
func AssertCleared(t *testing.T, r Reply, name string) {
	t.Helper()
	ck := r.SetCookie(name)
	require.NotNil(t, ck, "the cookie is cleared: %v", r.Header["Set-Cookie"])
	assert.Empty(t, ck.Value)
	assert.Equal(t, -1, ck.MaxAge, "Max-Age=0")
	assert.Equal(t, "/", ck.Path)
}

// Conn is one plain-HTTP client connection to a target, for what
// http.Client hides: which connection a request rides on, and requests it
// refuses to send or does not send whole.
type Conn struct {
	net.Conn
	t  *testing.T
	br *bufio.Reader
}

// Dial opens a connection to srv, closed when the test ends.
func Dial(t *testing.T, srv Target) *Conn {
	t.Helper()
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	require.Equal(t, "http", u.Scheme, "Dial speaks plain HTTP")
	cn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	require.NoError(t, err)
	require.NoError(t, cn.SetDeadline(time.Now().Add(10*time.Second)))
	t.Cleanup(func() { _ = cn.Close() })
	return &Conn{Conn: cn, t: t, br: bufio.NewReader(cn)}
}

// Send writes the request as given and reads the answer.
func (c *Conn) Send(request string) (*http.Response, string) {
	c.t.Helper()
	_, err := io.WriteString(c.Conn, request)
	require.NoError(c.t, err)
	return c.Receive()
}

// Receive reads the next answer on the connection.
func (c *Conn) Receive() (*http.Response, string) {
	c.t.Helper()
	resp, err := http.ReadResponse(c.br, nil)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	return resp, string(raw)
}

// Request is an HTTP/1.1 request as written on the wire; headers are
// "Name: value" strings.
func Request(method, path, body string, headers ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n", method, path)
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", len(body))
	b.WriteString(body)
	return b.String()
}
