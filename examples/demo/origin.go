package demo

import (
	"errors"
	"fmt"
	"net/http"
)

// MsgCrossOrigin is the body of the 403 a cross-origin request gets.
const MsgCrossOrigin = "cross-origin request refused"

// ErrCrossOrigin: a state-changing request that a browser sent from
// another origin (403): see CrossOriginProtection.
var ErrCrossOrigin = errors.New(MsgCrossOrigin)

// CrossOriginProtection is the demos' protection against cross-site
// request forgery: net/http's, which needs no token. A request whose
// method is not GET, HEAD or OPTIONS is refused when the browser says it
// comes from another origin: Sec-Fetch-Site is anything but same-origin
// or none (a user's own navigation), or, from a browser too old to send
// Sec-Fetch-Site, Origin names another host than the request's Host. A
// request with neither header (curl, a server, the demo's tests) is not
// a browser's, and is served. No origin is trusted and no route bypasses
// it.
//
// Every demo checks it before its session middleware, so a refused
// request loads, creates and changes no session. The session cookie's
// SameSite=Lax does not make it needless: Lax keeps the cookie off a
// cross-site POST, but not off one from a sibling subdomain (same-site),
// and a cross-site POST /login needs no cookie to log the victim's
// browser in as the attacker (login CSRF). The header transport needs no
// such protection (a browser never adds the Bearer token by itself), and
// has it anyway.
//
// The net/http demo wraps its handler with it (Handler, with a deny
// handler answering ErrCrossOrigin); Gin and Echo call CheckCrossOrigin
// from a middleware; the Fiber demos, which have no *http.Request,
// CheckCrossOriginOf.
func CrossOriginProtection() *http.CrossOriginProtection {
	return http.NewCrossOriginProtection()
}

// CheckCrossOrigin is cop.Check(r) as an error Answer knows: nil when r
// may be served, else an error wrapping ErrCrossOrigin (403) and the
// reason.
func CheckCrossOrigin(cop *http.CrossOriginProtection, r *http.Request) error {
	if err := cop.Check(r); err != nil {
		return fmt.Errorf("%w: %w", ErrCrossOrigin, err)
	}
	return nil
}

// CheckCrossOriginOf is CheckCrossOrigin for a server that is not built on
// net/http (fasthttp, under Fiber): it checks a request with the method,
// Host and the two headers that Check reads, as the request carried them
// (empty for a header it did not carry).
func CheckCrossOriginOf(cop *http.CrossOriginProtection, method, host, secFetchSite, origin string) error {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil // Check's own first test, without building a request
	}
	h := make(http.Header, 2)
	if secFetchSite != "" {
		h["Sec-Fetch-Site"] = []string{secFetchSite}
	}
	if origin != "" {
		h["Origin"] = []string{origin}
	}
	return CheckCrossOrigin(cop, &http.Request{Method: method, Host: host, Header: h})
}
