package adaptertest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/stores/memstore"
)

// harness is one app under test with everything the suite watches.
type harness struct {
	t      *testing.T
	m      *core.Manager
	spy    *spyStore
	clock  *clock
	events *recorder
	app    *app
	srv    Server
}

func newHarness(t *testing.T, f Factory, tweak func(*core.Config)) *harness {
	t.Helper()
	h := &harness{t: t, clock: newClock(), events: &recorder{}, app: &app{}}
	mem := memstore.New(memstore.Options{Now: h.clock.Now})
	t.Cleanup(func() { _ = mem.Close() })
	h.spy = newSpy(mem)
	cfg := core.Config{
		Store:   h.spy,
		Now:     h.clock.Now,
		OnEvent: h.events.hook,
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if tweak != nil {
		tweak(&cfg)
	}
	m, err := core.New(cfg)
	require.NoError(t, err)
	h.m = m
	h.srv = f(t, m, h.app.serve)
	return h
}

// response is what the suite looks at in a reply.
type response struct {
	status int
	body   string
	header http.Header
	// cookie is the session cookie the response set, nil if none.
	cookie *http.Cookie
	// setCookies counts the session's Set-Cookie lines.
	setCookies int
}

func (h *harness) cookieName() string { return h.m.Config().Cookie.Name }

// do sends a request; mods add tokens and headers.
func (h *harness) do(method, target string, mods ...func(*http.Request)) response {
	h.t.Helper()
	req := httptest.NewRequest(method, "http://example.test"+target, nil)
	for _, mod := range mods {
		mod(req)
	}
	res, err := h.srv(req)
	require.NoError(h.t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(h.t, err)
	out := response{status: res.StatusCode, body: string(body), header: res.Header}
	for _, c := range res.Cookies() {
		if c.Name == h.cookieName() {
			out.cookie = c
			out.setCookies++
		}
	}
	return out
}

// withCookie sends token in the session cookie.
func (h *harness) withCookie(token string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Add("Cookie", h.cookieName()+"="+token) }
}

func withHeader(name, value string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Add(name, value) }
}

func withBearer(token string) func(*http.Request) {
	return withHeader("Authorization", "Bearer "+token)
}

// newSession creates a session holding key=value and returns its token.
func (h *harness) newSession(key, value string) string {
	h.t.Helper()
	r := h.do("POST", "/write?key="+url.QueryEscape(key)+"&value="+url.QueryEscape(value))
	require.Equal(h.t, http.StatusOK, r.status, r.body)
	require.NotNil(h.t, r.cookie, "creating a session sets the cookie")
	return r.cookie.Value
}

// read returns the status and body of /read?key=key with token.
func (h *harness) read(token, key string) (int, string) {
	h.t.Helper()
	r := h.do("GET", "/read?key="+key, h.withCookie(token))
	return r.status, r.body
}

// wellFormedToken returns a token of the right shape that no server issued.
func wellFormedToken(t *testing.T) string {
	var b [32]byte
	_, err := rand.Read(b[:])
	require.NoError(t, err)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// storeID is what the store must see for token: its SHA-256, hex.
func storeID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func isTokenShape(s string) bool {
	if len(s) != core.TokenLength {
		return false
	}
	return strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == ""
}
