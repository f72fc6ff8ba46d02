package core

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
	"time"
)

var (
	errMalformedToken = errors.New("malformed token")
	errAmbiguousToken = errors.New("more than one token")
	errUnknownToken   = errors.New("unknown token")
)

// Request is what the manager needs from an incoming request. The session
// keeps the token, the user agent and the client's addresses for the length
// of the request (the last ones are stored at Login), so an adapter whose
// framework reuses request buffers (fasthttp) must pass copies; net/http's
// strings are safe as they are.
type Request struct {
	// Cookie holds the raw Cookie header values (HTTP/2 may send several).
	Cookie []string
	// Authorization holds the raw Authorization header values. More than
	// one bearer token is refused as ambiguous, as two session cookies are.
	Authorization []string
	// UserAgent and RemoteAddr (host:port or host) are recorded at Login.
	UserAgent  string
	RemoteAddr string
	// ForwardedFor is X-Forwarded-For; read only when the remote address is
	// one of Config.TrustedProxies.
	ForwardedFor string
	// Client, when set, supplies UserAgent, RemoteAddr and ForwardedFor
	// instead of the fields above, and is asked only if the handler calls
	// Login, during the request. Most requests never need them; an adapter
	// for which they cost allocations (fasthttp formats the remote address,
	// and its buffers must be copied) passes a Client instead.
	Client ClientSource
}

// ClientSource supplies a request's client details on demand (see
// Request.Client).
type ClientSource interface {
	// ClientInfo returns the User-Agent header, the connection's remote
	// address (host:port or host) and the X-Forwarded-For header. The
	// session keeps what it returns: copies, where the framework reuses
	// its buffers.
	ClientInfo() (userAgent, remoteAddr, forwardedFor string)
}

// tokenFrom finds the client's token where the transport says it travels.
// It reports whether any was presented, and why it was refused if so: a
// token is never guessed at, so a duplicate cookie or a cookie and a bearer
// token that disagree count as no session at all.
func (m *Manager) tokenFrom(r *Request) (token string, presented bool, err error) {
	if m.cfg.Transport.cookie() {
		for _, h := range r.Cookie {
			v, n := cookieValues(h, m.cfg.Cookie.Name)
			if n == 0 {
				continue
			}
			if presented || n > 1 {
				return "", true, errAmbiguousToken
			}
			token, presented = v, true
		}
	}
	if m.cfg.Transport.header() {
		fromHeader := false
		for _, h := range r.Authorization {
			v, ok := bearer(h)
			if !ok {
				continue
			}
			if fromHeader {
				return "", true, errAmbiguousToken
			}
			// Both tokens are the client's own, but a secret is compared
			// in constant time wherever it is compared.
			if presented && subtle.ConstantTimeCompare([]byte(v), []byte(token)) != 1 {
				return "", true, errAmbiguousToken
			}
			token, presented, fromHeader = v, true, true
		}
	}
	if presented && !validToken(token) {
		return "", true, errMalformedToken
	}
	return token, presented, nil
}

// cookieValues scans a Cookie header for name, returning the first value and
// how many times the name occurs. It allocates nothing.
//
// Names are compared byte for byte after trimming only ASCII space and tab,
// the whitespace RFC 6265 allows around a cookie pair. Trimming more (Go's
// strings.TrimSpace strips Unicode spaces such as U+2000) would let a
// cookie that a browser stored under the unprefixed name "\u2000__Host-x",
// which any sibling subdomain or plain-HTTP injector can plant, pass for
// the __Host- cookie itself.
func cookieValues(header, name string) (value string, n int) {
	for header != "" {
		var part string
		part, header, _ = strings.Cut(header, ";")
		k, v, ok := strings.Cut(part, "=")
		if !ok || trimOWS(k) != name {
			continue
		}
		n++
		if n == 1 {
			v = trimOWS(v)
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			value = v
		}
	}
	return value, n
}

// trimOWS trims ASCII space and horizontal tab from both ends of s, and
// nothing else.
func trimOWS(s string) string {
	for s != "" && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for s != "" && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// bearer returns the credentials of an "Authorization: Bearer x" header; the
// scheme matches case-insensitively (RFC 7235).
func bearer(h string) (string, bool) {
	const scheme = "bearer"
	if strings.EqualFold(h, scheme) {
		// Servers strip trailing spaces, so "Bearer " arrives as "Bearer": a
		// token presented empty, which is invalid, not absent.
		return "", true
	}
	if len(h) <= len(scheme) || !strings.EqualFold(h[:len(scheme)], scheme) || (h[len(scheme)] != ' ' && h[len(scheme)] != '\t') {
		return "", false
	}
	return strings.TrimLeft(h[len(scheme):], " \t"), true
}

// Result is what a commit asks the adapter to send: set or clear the
// cookie, send a new token in a header, forbid caching. Adapters render it
// with their framework's own response API.
type Result struct {
	// Cookie to set (a new token, or a clearing cookie with MaxAge < 0);
	// nil for none. Adapters on net/http types pass it to http.SetCookie.
	Cookie *http.Cookie
	// HeaderName and HeaderValue carry a new token in header transport.
	HeaderName, HeaderValue string
	// Vary names the request header the response depends on when the
	// handler read the session ("Cookie", "Authorization" or both, comma
	// separated), so that no shared cache serves one user's page to
	// another; empty when the handler never looked at the session.
	Vary string
}

// Changed reports whether the result sets anything, in which case the
// response must not be cached and varies with the cookie.
func (r *Result) Changed() bool { return r.Cookie != nil || r.HeaderValue != "" }

// Apply writes the result into response headers: the cookie, the token
// header, and the caching headers that keep a token out of shared caches.
func (r *Result) Apply(h http.Header) {
	if !r.Changed() {
		if r.Vary != "" {
			addShared(h, "Vary", r.Vary)
			addShared(h, "Cache-Control", "private")
		}
		return
	}
	// The values share one allocation; each gets a slice capped at its own
	// element, so a later append to one header never reaches another.
	vals := make([]string, 0, 5)
	r.Headers(func(key, v string, replace bool) {
		vals = append(vals, v)
		if old := h[key]; len(old) > 0 && !replace {
			h[key] = append(old, v)
			return
		}
		n := len(vals)
		h[key] = vals[n-1 : n : n]
	})
}

// shared holds the header values of a response that only read the
// session, one slice each, so that the most common response of all costs
// no allocation. Each is capped at its length: an append by anyone copies
// it. Header values are never written in place, by net/http or by us.
var shared = map[string][]string{
	"Cookie":                {"Cookie"},
	"Authorization":         {"Authorization"},
	"Cookie, Authorization": {"Cookie, Authorization"},
	"private":               {"private"},
}

// addShared adds v to h[key], using the shared slice when h has none.
func addShared(h http.Header, key, v string) {
	if old := h[key]; len(old) > 0 {
		h[key] = append(old, v)
		return
	}
	if sv, ok := shared[v]; ok {
		h[key] = sv[:1:1]
		return
	}
	h[key] = []string{v}
}

// Headers calls put for each response header the result needs, in order,
// with the canonical header name, the value, and whether the value
// replaces what the handler set under that name (true) or is added to it
// (false). It is Apply for frameworks whose responses are not an
// http.Header (fasthttp); a result that changes nothing, for a handler that
// never read the session, calls put never.
//
// A response that sets a token is never stored (Cache-Control: no-store,
// replacing the handler's). One that only read the session gets
// Cache-Control: private added to whatever the handler set, so a shared
// cache never serves it to another client while the browser's own cache
// still may, and a Vary naming the token's header.
func (r *Result) Headers(put func(name, value string, replace bool)) {
	if !r.Changed() {
		if r.Vary != "" {
			put("Vary", r.Vary, false)
			put("Cache-Control", "private", false)
		}
		return
	}
	if r.Cookie != nil {
		if v := r.Cookie.String(); v != "" {
			put("Set-Cookie", v, false)
		}
		put("Vary", "Cookie", false)
	}
	if r.HeaderValue != "" {
		put(http.CanonicalHeaderKey(r.HeaderName), r.HeaderValue, true)
		put("Vary", "Authorization", false)
	}
	put("Cache-Control", "no-store", true)
}

// vary is Result.Vary for this manager's transport.
func (t Transport) vary() string {
	switch t {
	case TransportHeader:
		return "Authorization"
	case TransportBoth:
		return "Cookie, Authorization"
	}
	return "Cookie"
}

func (m *Manager) issue(res *Result, token string, expires time.Time) {
	if m.cfg.Transport.cookie() {
		res.Cookie = m.cookie(token, expires)
	}
	if m.cfg.Transport.header() {
		res.HeaderName, res.HeaderValue = m.cfg.HeaderName, token
	}
}

func (m *Manager) clear(res *Result) {
	if m.cfg.Transport.cookie() {
		c := m.cookie("", time.Unix(0, 0))
		c.MaxAge = -1 // net/http renders MaxAge < 0 as Max-Age=0
		res.Cookie = c
	}
}

func (m *Manager) cookie(value string, expires time.Time) *http.Cookie {
	cc := &m.cfg.Cookie
	c := &http.Cookie{
		Name:        cc.Name,
		Value:       value,
		Path:        cc.Path,
		Domain:      cc.Domain,
		Secure:      !cc.Insecure,
		HttpOnly:    !cc.ScriptReadable,
		Partitioned: cc.Partitioned,
	}
	switch cc.SameSite {
	case SameSiteStrict:
		c.SameSite = http.SameSiteStrictMode
	case SameSiteNone:
		c.SameSite = http.SameSiteNoneMode
	default:
		c.SameSite = http.SameSiteLaxMode
	}
	if cc.Persist || value == "" {
		c.Expires = expires.UTC()
		if value != "" {
			c.MaxAge = int(expires.Sub(m.cfg.Now()) / time.Second)
			if c.MaxAge <= 0 {
				c.MaxAge = 1
			}
		}
	}
	return c
}
