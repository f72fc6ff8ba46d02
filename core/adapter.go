package core

import "net/http"

// This file holds the adapter-facing types: what an adapter hands the
// manager (Request, ClientSource) and what it renders (Result). Manager's
// Load, Commit and CommitHeadersGone, NewContext and ContextKey complete
// the Adapter API; handlers never need any of it (see the package doc's
// "Writing an adapter" and package adapterkit).

// Request is what the manager needs from an incoming request (Adapter
// API). The session keeps the token, the user agent and the client's
// addresses for the length of the request (the last ones are stored at
// Login), so an adapter whose framework reuses request buffers (fasthttp)
// must pass copies; net/http's strings are safe as they are.
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
	// Token, when not empty, is the token itself, from a transport that is
	// not a cookie or an Authorization header (Manager.LoadToken); the
	// Cookie and Authorization fields are not read then.
	Token string
	// Client, when set, supplies UserAgent, RemoteAddr and ForwardedFor
	// instead of the fields above, and is asked only if the handler calls
	// Login, or (with Config.Binding set) when a logged-in session is
	// loaded, during the request. Most requests never need them; an adapter
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

// Result is what a commit asks the adapter to send (Adapter API): set or
// clear the cookie, send a new token in a header, forbid caching. Adapters
// render it with their framework's own response API.
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
	r.headers(put, true)
}

// HeadersWithoutCookie is Headers without the Set-Cookie line, for an
// adapter that renders that one itself with AppendSetCookie, into a
// buffer of its own: the other headers are the same, Vary: Cookie
// included.
func (r *Result) HeadersWithoutCookie(put func(name, value string, replace bool)) {
	r.headers(put, false)
}

func (r *Result) headers(put func(name, value string, replace bool), withCookie bool) {
	if !r.Changed() {
		if r.Vary != "" {
			put("Vary", r.Vary, false)
			put("Cache-Control", "private", false)
		}
		return
	}
	if r.Cookie != nil {
		if withCookie {
			if v := r.setCookie(); v != "" {
				put("Set-Cookie", v, false)
			}
		}
		put("Vary", "Cookie", false)
	}
	if r.HeaderValue != "" {
		put(http.CanonicalHeaderKey(r.HeaderName), r.HeaderValue, true)
		put("Vary", "Authorization", false)
	}
	put("Cache-Control", "no-store", true)
}
