package demotest

import (
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/examples/demo"
)

// The edges of the contract: how the HTTP layer under each demo routes,
// parses and limits a request. net/http's ServeMux, MaxBytesReader and
// Request.ParseForm draw the lines, since the net/http demo came first;
// every other demo configures its framework to draw them in the same
// places.

// testRoutes: routes match as net/http's ServeMux matches them, exactly
// (case-sensitive, no trailing-slash redirect), and escaped path
// parameters are unescaped (/values/a%2Fb names "a/b").
func testRoutes(t *testing.T, start Start) {
	srv := Launch(t, start, Insecure(), nil)
	c := NewClient(t, srv, "router")

	Want(t, c.Do("POST", "/counter", ""), 200, `{"count":1}`)
	for _, tc := range [][2]string{
		{"GET", "/Counter"}, {"POST", "/COUNTER"}, {"GET", "/counter/"}, {"GET", "/me/"},
		{"GET", "/Values/count"}, {"GET", "/values/count/"}, {"GET", "/values/a/b"},
		{"GET", "/healthz/"},
	} {
		r := c.Do(tc[0], tc[1], "")
		assert.True(t, r.Status >= 400 && r.Status < 500, "%v: %d %s", tc, r.Status, r.Raw)
	}
	// Escapes net/http refuses in the request line (http.Client will not
	// even send them).
	rc := Dial(t, srv)
	for _, tc := range [][2]string{{"GET", "/values/%zz"}, {"PUT", "/values/%"}, {"DELETE", "/values/a%2"}, {"DELETE", "/sessions/%zz"}} {
		resp, body := rc.Send(Request(tc[0], tc[1], ""))
		assert.Equal(t, 400, resp.StatusCode, "%v: %s", tc, body)
		if resp.Close {
			rc = Dial(t, srv) // net/http closes the connection after a bad request line
		}
	}
	Want(t, c.Do("GET", "/counter", ""), 200, `{"count":1}`, "nothing above changed the count")
	// A query string changes no answer (Echo's c.JSON, for one, would
	// indent for ?pretty).
	Want(t, c.Do("GET", "/counter?pretty", ""), 200, `{"count":1}`)
	Want(t, c.Do("GET", "/values/count?pretty&name=other", ""), 200, `{"name":"count","value":1}`)

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
		Want(t, c.Do("PUT", path, path), 200, string(body), path)
		Want(t, c.Do("GET", path, ""), 200, string(body), path)
	}
	Want(t, c.Do("GET", "/values/count", ""), 200, `{"name":"count","value":1}`, "names are case-sensitive")

	// /sessions/{id} unescapes the id as well.
	Want(t, c.Login("ida"), 200, `{"user":"ida"}`)
	id := c.CurrentID()
	escaped := "%" + strings.ToUpper(hex.EncodeToString([]byte(id[:1]))) + id[1:]
	r := c.Do("DELETE", "/sessions/"+escaped, "")
	Want(t, r, 200, `{"revoked":1}`)
	AssertCleared(t, r, "session")
}

// testLoginForm: the user comes from an application/x-www-form-urlencoded
// body only, by the rules of net/http's Request.ParseForm: no other body
// is read, a malformed one (or a malformed query string) is a 400, and a
// form over demo.MaxBodyBytes a 413.
func testLoginForm(t *testing.T, start Start) {
	srv := Launch(t, start, Insecure(), nil)
	c := NewClient(t, srv, "forms")
	const tooLarge = `{"error":"request body too large"}`
	const required = `{"error":"form field \"user\" is required"}`

	big := "user=" + strings.Repeat("u", demo.MaxBodyBytes)
	Want(t, c.Do("POST", "/login", big, "Content-Type: application/x-www-form-urlencoded"), 413, tooLarge)
	Want(t, c.Do("POST", "/login", big, "Content-Type: text/plain"), 400, required)
	Want(t, c.Do("POST", "/login", "user=x", "Content-Type: multipart/form-data; boundary=b"), 400, required)
	multipart := "--b\r\nContent-Disposition: form-data; name=\"user\"\r\n\r\nx\r\n--b--\r\n"
	Want(t, c.Do("POST", "/login", multipart, "Content-Type: multipart/form-data; boundary=b"), 400, required,
		"a well-formed multipart body is not read either")
	Want(t, c.Do("POST", "/login", "user=x", "Content-Type: ;;"), 400, `{"error":"malformed form body"}`)
	Want(t, c.Do("POST", "/login?x=%zz", "user=x", "Content-Type: application/x-www-form-urlencoded"), 400, `{"error":"malformed form body"}`)
	assert.Empty(t, c.Token("session"), "no refused login created a session")

	Want(t, c.Do("POST", "/login", "user=x", "Content-Type: Application/X-WWW-Form-Urlencoded; charset=utf-8"), 200, `{"user":"x"}`)
	Want(t, c.Do("POST", "/login?user=mallory", "user=alice&user=eve", "Content-Type: application/x-www-form-urlencoded"), 200, `{"user":"alice"}`,
		"the body's first user, never the URL's")
	Want(t, c.Do("GET", "/me", ""), 200, `{"user":"alice"}`)
}

// testBodyLimit: a value over demo.MaxBodyBytes is a 413, answered on a
// connection that stays usable; a route that reads no body ignores one of
// any size the server takes.
func testBodyLimit(t *testing.T, start Start) {
	srv := Launch(t, start, Insecure(), nil)
	const tooLarge = `{"error":"request body too large"}`

	rc := Dial(t, srv)
	resp, body := rc.Send(Request("PUT", "/values/big", strings.Repeat("x", demo.MaxBodyBytes+1)))
	require.Equal(t, 413, resp.StatusCode, body)
	assert.Equal(t, tooLarge+"\n", body)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	assert.False(t, resp.Close, "the connection stays open")
	resp, body = rc.Send(Request("GET", "/healthz", ""))
	require.Equal(t, 200, resp.StatusCode, "the same connection serves the next request")
	assert.Equal(t, `{"ok":true}`+"\n", body)

	c := NewClient(t, srv, "counter")
	Want(t, c.Do("POST", "/counter", strings.Repeat("x", 2*demo.MaxBodyBytes)), 200, `{"count":1}`)
	Want(t, c.Do("GET", "/values/big", ""), 404, `{"error":"no value named \"big\""}`)
}

// testBodyIsNotDecoded: a value is the bytes sent, whatever
// Content-Encoding says (Fiber's c.Body, for one, would decompress it, and
// answer a body it cannot decode with the decoder's error text in its
// place).
func testBodyIsNotDecoded(t *testing.T, start Start) {
	srv := Launch(t, start, Insecure(), nil)
	c := NewClient(t, srv, "encodings")

	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, err := zw.Write([]byte("hello"))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	Want(t, c.Do("PUT", "/values/zipped", gz.String(), "Content-Encoding: gzip"), 400, `{"error":"request body is not UTF-8 text"}`)
	Want(t, c.Do("PUT", "/values/plain", "not gzip", "Content-Encoding: gzip"), 200, `{"name":"plain","value":"not gzip"}`)
	Want(t, c.Do("GET", "/values/plain", ""), 200, `{"name":"plain","value":"not gzip"}`)
	Want(t, c.Do("POST", "/login", "user=zoe", "Content-Type: application/x-www-form-urlencoded", "Content-Encoding: br"), 200, `{"user":"zoe"}`)
}

// testLargeRequestHeaders: request headers up to demo.MaxHeaderBytes, room
// for a browser that has collected cookies from other apps on localhost
// (fasthttp's default is 4 KiB); beyond, 431.
func testLargeRequestHeaders(t *testing.T, start Start) {
	srv := Launch(t, start, Insecure(), nil)
	c := NewClient(t, srv, "cookie-monster")
	Want(t, c.Do("POST", "/counter", ""), 200, `{"count":1}`)

	var junk []string
	for i := 0; len(strings.Join(junk, "; ")) < 48<<10; i++ {
		junk = append(junk, fmt.Sprintf("other-app-%d=%s", i, strings.Repeat("v", 100)))
	}
	cookies := strings.Join(junk, "; ") + "; session=" + c.Token("session")
	r := Replay(t, srv, "GET", "/counter", cookies)
	Want(t, r, 200, `{"count":1}`)

	// Beyond the limit the server answers 431 and may close the connection
	// without reading the rest, so the write may fail; the answer is still
	// there to read.
	rc := Dial(t, srv)
	go func() {
		_, _ = io.WriteString(rc, Request("GET", "/counter", "", "Cookie: a="+strings.Repeat("x", 80<<10)))
	}()
	resp, raw := rc.Receive()
	assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode, raw)
}

// testHead: the GET routes answer HEAD as GET without the body, as
// net/http's ServeMux routes it; HEAD creates no session either.
func testHead(t *testing.T, start Start) {
	srv := Launch(t, start, Insecure(), nil)
	c := NewClient(t, srv, "head")
	head := func(path string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(http.MethodHead, srv.URL+path, nil)
		require.NoError(t, err)
		resp, err := c.hc.Do(req)
		require.NoError(t, err)
		raw, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		assert.Empty(t, raw, "HEAD %s", path)
		return resp
	}
	for path, status := range map[string]int{"/healthz": 200, "/counter": 200, "/values/x": 404, "/me": 401, "/sessions": 401} {
		resp := head(path)
		assert.Equal(t, status, resp.StatusCode, "HEAD %s", path)
		assert.Equal(t, "application/json", resp.Header.Get("Content-Type"), "HEAD %s", path)
		assert.Empty(t, resp.Header.Values("Set-Cookie"), "HEAD %s", path)
	}
	Want(t, c.Do("POST", "/counter", ""), 200, `{"count":1}`)
	Want(t, c.Login("hal"), 200, `{"user":"hal"}`)
	for _, path := range []string{"/counter", "/me", "/sessions"} {
		resp := head(path)
		assert.Equal(t, 200, resp.StatusCode, "HEAD %s", path)
		assert.Empty(t, resp.Header.Values("Set-Cookie"), "HEAD %s", path)
	}
}
