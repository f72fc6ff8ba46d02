package bench

import (
	"bufio"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/stores/pgstore"
	"github.com/sessionkit/sessionkit/stores/redisstore"
)

// The three routes every subject serves, and what they keep in the session.
var (
	routeSet  = route{"POST", "/set"}  // puts valueKey = valueWant
	routeGet  = route{"GET", "/get"}   // reads valueKey; 500 when absent
	routeIncr = route{"POST", "/incr"} // increments counterKey, answers the new count
)

const (
	valueKey   = "name"
	valueWant  = "value"
	counterKey = "count"
	setBody    = "ok"

	// parallelSessions is how many sessions ReadOnlyParallel prepares; each
	// goroutine of RunParallel takes one of its own (RunParallel starts
	// GOMAXPROCS goroutines).
	parallelSessions = 64

	// authKey is the HMAC key of the gorilla-based peers (32 bytes, as
	// gorilla/securecookie recommends).
	authKey = "0123456789abcdef0123456789abcdef"
)

type route struct{ method, path string }

// subject is one framework with one session library (or none: the floor),
// ready to serve the three routes.
type subject struct {
	cookie string // the library's session cookie name; "" for the floor
	// clientSide: the values travel in the cookie (a cookie store), so
	// resending one cookie replays the same state.
	clientSide bool
	// roundTrips counts the Redis round trips of the library's client, when
	// the benchmark can count them; nil otherwise.
	roundTrips *atomic.Int64
	// pg counts what the library sends to PostgreSQL (round trips on the
	// wire, statements), when it runs on PostgreSQL; nil otherwise.
	pg *pgCount
	// cache reads the near cache's counters of a Redis store with one
	// (sessionkit-cache); nil otherwise.
	cache func() redisstore.CacheStats
	// pgCache reads the near cache's counters of a PostgreSQL store with
	// one (sessionkit-cache on PostgreSQL); nil otherwise.
	pgCache func() pgstore.CacheStats
	std     http.Handler            // net/http, Gin, Echo
	fast    fasthttp.RequestHandler // Fiber
}

// factory builds a fresh subject (its own store), cleaned up with b.
type factory struct {
	name string
	make func(b *testing.B) *subject
}

// quietLogger discards sessionkit's event log lines: its handler is
// disabled at every level, so nothing is even formatted.
var quietLogger = slog.New(slog.DiscardHandler)

// manager is sessionkit with its defaults (memory store, 30m idle timeout
// on, Secure __Host- cookie), only the logger silenced.
func manager(b testing.TB, st core.Store) *core.Manager {
	m, err := core.New(core.Config{Store: st, Logger: quietLogger})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = m.Close() })
	return m
}

// sessionkitCookie is the cookie name sessionkit's defaults give.
const sessionkitCookie = "__Host-session"

// floorCount is what the floors' /incr answers: a counter outside any
// session, written the same way the session handlers write theirs.
var floorCount atomic.Int64

func floorNext() string { return strconv.FormatInt(floorCount.Add(1), 10) }

// response is what a validation request saw.
type response struct {
	code    int
	body    string
	cookies []*http.Cookie
}

func (r response) cookie(name string) *http.Cookie {
	for _, c := range r.cookies {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// runner sends one prepared request to a subject, again and again, without
// allocating anything of its own: the request is restored from a pristine
// copy and the response recorder reset before each run.
type runner interface {
	run()
	ok() bool // the last run answered 200
	response() response
}

func (s *subject) runner(rt route, cookie string) runner {
	if s.fast != nil {
		return newFastRunner(s.fast, rt, cookie)
	}
	return newStdRunner(s.std, rt, cookie)
}

// do sends one request and returns the response, for validation.
func (s *subject) do(rt route, cookie string) response {
	r := s.runner(rt, cookie)
	r.run()
	return r.response()
}

// cookieHeader is a Cookie request header carrying c.
func cookieHeader(c *http.Cookie) string { return c.Name + "=" + c.Value }

// ---- net/http ----

// recorder is a minimal reusable http.ResponseWriter. Unlike
// httptest.ResponseRecorder it takes no snapshot of the headers, so the
// harness allocates nothing per request.
type recorder struct {
	header http.Header
	code   int
	body   []byte
}

func (w *recorder) Header() http.Header { return w.header }

func (w *recorder) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

func (w *recorder) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.body = append(w.body, b...)
	return len(b), nil
}

func (w *recorder) WriteString(s string) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.body = append(w.body, s...)
	return len(s), nil
}

func (w *recorder) reset() {
	clear(w.header)
	w.code = 0
	w.body = w.body[:0]
}

type stdRunner struct {
	h    http.Handler
	base http.Request // pristine
	req  http.Request // what the handler gets, restored from base each run
	w    recorder
}

func newStdRunner(h http.Handler, rt route, cookie string) *stdRunner {
	r := httptest.NewRequest(rt.method, rt.path, nil)
	r.Header.Set("User-Agent", "bench/1.0")
	if cookie != "" {
		r.Header.Set("Cookie", cookie)
	}
	x := &stdRunner{h: h, base: *r}
	x.w.header = make(http.Header)
	x.w.body = make([]byte, 0, 64)
	return x
}

// run restores the request by value: gorilla/sessions (under
// gin-contrib/sessions and echo-contrib/session) replaces *r with a copy
// carrying its registry, and must not find last run's registry there.
func (x *stdRunner) run() {
	x.req = x.base
	x.w.reset()
	x.h.ServeHTTP(&x.w, &x.req)
}

func (x *stdRunner) ok() bool { return x.w.code == http.StatusOK || x.w.code == 0 && len(x.w.body) > 0 }

func (x *stdRunner) response() response {
	code := x.w.code
	if code == 0 {
		code = http.StatusOK
	}
	return response{code: code, body: string(x.w.body), cookies: parseSetCookies(x.w.header.Values("Set-Cookie"))}
}

// ---- fasthttp (Fiber) ----

type fastRunner struct {
	h   fasthttp.RequestHandler
	src *fasthttp.Request // pristine, parsed from the wire format
	ctx *fasthttp.RequestCtx
}

var benchRemoteAddr = &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 1234}

func newFastRunner(h fasthttp.RequestHandler, rt route, cookie string) *fastRunner {
	var raw strings.Builder
	raw.WriteString(rt.method + " " + rt.path + " HTTP/1.1\r\nHost: example.com\r\nUser-Agent: bench/1.0\r\n")
	if cookie != "" {
		raw.WriteString("Cookie: " + cookie + "\r\n")
	}
	raw.WriteString("Content-Length: 0\r\n\r\n")
	src := new(fasthttp.Request)
	if err := src.Read(bufio.NewReader(strings.NewReader(raw.String()))); err != nil {
		panic(err)
	}
	ctx := new(fasthttp.RequestCtx)
	ctx.Init(src, benchRemoteAddr, nil)
	return &fastRunner{h: h, src: src, ctx: ctx}
}

// run does what fasthttp's server does between two requests on a
// connection (reset user values, request and response), with a copy of the
// parsed request standing in for reading it from the connection. The copy
// carries the headers unparsed cookies included, as a fresh read would.
func (x *fastRunner) run() {
	x.ctx.ResetUserValues()
	x.src.CopyTo(&x.ctx.Request)
	x.ctx.Response.Reset()
	x.h(x.ctx)
}

func (x *fastRunner) ok() bool { return x.ctx.Response.StatusCode() == http.StatusOK }

func (x *fastRunner) response() response {
	var lines []string
	x.ctx.Response.Header.VisitAllCookie(func(_, v []byte) { lines = append(lines, string(v)) })
	return response{
		code:    x.ctx.Response.StatusCode(),
		body:    string(x.ctx.Response.Body()),
		cookies: parseSetCookies(lines),
	}
}

func parseSetCookies(lines []string) []*http.Cookie {
	var out []*http.Cookie
	for _, l := range lines {
		if c, err := http.ParseSetCookie(l); err == nil {
			out = append(out, c)
		}
	}
	return out
}
