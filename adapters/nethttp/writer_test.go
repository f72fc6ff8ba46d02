package sessionhttp_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	sessionhttp "github.com/sessionkit/sessionkit/adapters/nethttp"
	"github.com/sessionkit/sessionkit/core"
)

// The inner writers below each implement one set of the optional
// interfaces, as servers and other middleware do: HTTP/2's writer flushes
// but cannot hijack, a test recorder does neither, HTTP/1's does all.

type bareWriter struct {
	header http.Header
	code   int
	body   strings.Builder
}

func newBare() *bareWriter                        { return &bareWriter{header: http.Header{}} }
func (w *bareWriter) Header() http.Header         { return w.header }
func (w *bareWriter) Write(b []byte) (int, error) { return w.body.Write(b) }
func (w *bareWriter) WriteHeader(code int)        { w.code = code }
func (w *bareWriter) flush()                      {}
func (w *bareWriter) readFrom(r io.Reader) (int64, error) {
	return io.Copy(&w.body, r)
}

var errInnerHijack = errors.New("inner writer hijacked")

type flushWriter struct{ *bareWriter }

func (w flushWriter) Flush() { w.flush() }

type hijackWriter struct{ *bareWriter }

func (hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) { return nil, nil, errInnerHijack }

type readFromWriter struct{ *bareWriter }

func (w readFromWriter) ReadFrom(r io.Reader) (int64, error) { return w.readFrom(r) }

type allWriter struct{ *bareWriter }

func (w allWriter) Flush()                                     { w.flush() }
func (allWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) { return nil, nil, errInnerHijack }
func (w allWriter) ReadFrom(r io.Reader) (int64, error)        { return w.readFrom(r) }

// hidingWriter is middleware that claims nothing optional but lets
// http.ResponseController reach the writer it wraps.
type hidingWriter struct{ http.ResponseWriter }

func (w hidingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// The handler's writer claims Flusher, Hijacker and io.ReaderFrom only
// when the server's writer can really do it: a claim the server cannot
// honour sends the handler down a path that fails (a Hijack on HTTP/2)
// after the wrapper has already committed for it. Flush and Hijack count
// when http.ResponseController reaches them through Unwrap, since it would
// otherwise reach them past the wrapper, without a commit.
func TestWriterInterfacesFollowTheServer(t *testing.T) {
	type claims struct{ flusher, hijacker, readerFrom bool }
	for _, tc := range []struct {
		name  string
		inner func() http.ResponseWriter
		want  claims
	}{
		{"bare", func() http.ResponseWriter { return newBare() }, claims{}},
		{"flusher (like HTTP/2)", func() http.ResponseWriter { return flushWriter{newBare()} }, claims{flusher: true}},
		{"hijacker", func() http.ResponseWriter { return hijackWriter{newBare()} }, claims{hijacker: true}},
		{"readerFrom", func() http.ResponseWriter { return readFromWriter{newBare()} }, claims{readerFrom: true}},
		{"all (like HTTP/1)", func() http.ResponseWriter { return allWriter{newBare()} }, claims{true, true, true}},
		{"hiding middleware over all", func() http.ResponseWriter { return hidingWriter{allWriter{newBare()}} }, claims{flusher: true, hijacker: true}},
		{"recorder", func() http.ResponseWriter { return httptest.NewRecorder() }, claims{flusher: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got claims
			var unwrapped http.ResponseWriter
			inner := tc.inner()
			h := sessionhttp.New(quietManager(t))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, got.flusher = w.(http.Flusher)
				_, got.hijacker = w.(http.Hijacker)
				_, got.readerFrom = w.(io.ReaderFrom)
				if u, ok := w.(interface{ Unwrap() http.ResponseWriter }); ok {
					unwrapped = u.Unwrap()
				}
			}))
			h.ServeHTTP(inner, httptest.NewRequest("GET", "/", nil))
			assert.Equal(t, tc.want, got)
			assert.Equal(t, inner, unwrapped, "Unwrap reaches the server's writer")
		})
	}
}

// A hijack that cannot happen commits nothing: the handler's ordinary
// answer afterwards still carries the new session's cookie.
func TestFailedHijackCommitsNothing(t *testing.T) {
	for _, tc := range []struct {
		name  string
		inner func() http.ResponseWriter
	}{
		{"bare", func() http.ResponseWriter { return newBare() }},
		{"flusher (like HTTP/2)", func() http.ResponseWriter { return flushWriter{newBare()} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inner := tc.inner()
			h := sessionhttp.New(quietManager(t))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				require.NoError(t, sessionhttp.From(r).Put("k", "v"))
				_, _, err := http.NewResponseController(w).Hijack()
				assert.ErrorIs(t, err, http.ErrNotSupported)
				_, _ = io.WriteString(w, "ok")
			}))
			h.ServeHTTP(inner, httptest.NewRequest("GET", "/", nil))
			res := http.Response{Header: inner.Header()}
			assert.Len(t, res.Cookies(), 1, "the answer after the failed hijack carries the cookie")
		})
	}
}

// Middleware between the server and ours that hides Hijacker and Flusher
// but unwraps does not let http.ResponseController reach the server's
// writer past ours: a hijack and a flush through it still commit first.
func TestResponseControllerThroughHidingMiddleware(t *testing.T) {
	m := quietManager(t)
	inner := sessionhttp.New(m)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := sessionhttp.From(r)
		switch r.URL.Path {
		case "/create":
			require.NoError(t, s.Put("created", "yes"))
		case "/flush":
			require.NoError(t, s.Put("flushed", "yes"))
			require.NoError(t, http.NewResponseController(w).Flush())
		case "/hijack":
			require.NoError(t, s.Put("hijacked", "yes"))
			conn, buf, err := http.NewResponseController(w).Hijack()
			require.NoError(t, err)
			defer conn.Close()
			_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi")
			_ = buf.Flush()
		case "/read":
			flushed, _ := core.Get[string](s, "flushed")
			hijacked, _ := core.Get[string](s, "hijacked")
			_, _ = io.WriteString(w, flushed+","+hijacked)
		}
	}))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner.ServeHTTP(hidingWriter{w}, r)
	}))
	defer srv.Close()
	get := func(path string, c *http.Cookie) (*http.Response, string) {
		req, err := http.NewRequest("GET", srv.URL+path, nil)
		require.NoError(t, err)
		if c != nil {
			req.AddCookie(c)
		}
		res, err := srv.Client().Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res, string(body)
	}
	res, _ := get("/create", nil)
	require.Len(t, res.Cookies(), 1)
	cookie := res.Cookies()[0]
	_, body := get("/hijack", cookie)
	assert.Equal(t, "hi", body, "the hijack reached the server's connection")
	res, _ = get("/flush", nil)
	assert.Len(t, res.Cookies(), 1, "the flushed headers carry the new session's cookie")
	_, _ = get("/flush", cookie)
	_, body = get("/read", cookie)
	assert.Equal(t, "yes,yes", body, "the flush and the hijack saved the session first")
}

// The writer's variant is chosen without allocating: a read-only request
// costs what it did before the variants existed. The count is the
// middleware's whole cost for such a request (the session, the request
// copy that carries it, the writer, the session's lookup and the values it
// decodes), measured on an HTTP/1-shaped and an HTTP/2-shaped server writer.
func TestReadOnlyRequestAllocations(t *testing.T) {
	m := quietManager(t)
	h := sessionhttp.New(m)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := sessionhttp.From(r)
		if r.Method == "POST" {
			_ = s.Put("k", "v")
		}
		v, _ := core.Get[string](s, "k")
		_, _ = io.WriteString(w, v)
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/", nil))
	cookies := rec.Result().Cookies()
	require.Len(t, cookies, 1)
	req := httptest.NewRequest("GET", "/", nil)
	req.AddCookie(cookies[0])
	for _, tc := range []struct {
		name  string
		inner http.ResponseWriter
	}{
		{"HTTP/1-shaped", allWriter{newBare()}},
		{"HTTP/2-shaped", flushWriter{newBare()}},
	} {
		allocs := testing.AllocsPerRun(200, func() {
			clear(tc.inner.Header())
			h.ServeHTTP(tc.inner, req)
		})
		// 7 before the variants, on this Go (1.26); 5 since the session's
		// lookup takes the in-memory store's record and ID strings
		// without allocating its own: a change in the runtime or core
		// moves it, a change in the writer must not.
		assert.LessOrEqual(t, allocs, 5.0, "%s: allocations per read-only request", tc.name)
	}
}
