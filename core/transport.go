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

// tokenFrom finds the client's token where the transport says it travels.
// It reports whether any was presented, whether the one presented came in
// a session cookie, and why it was refused if so: a token is never guessed
// at, so a duplicate cookie or a cookie and a bearer token that disagree
// count as no session at all.
func (m *Manager) tokenFrom(r *Request) (token string, presented, cookie bool, err error) {
	if r.Token != "" {
		if !validToken(r.Token) {
			return "", true, false, errMalformedToken
		}
		return r.Token, true, false, nil
	}
	if m.cfg.Transport.cookie() {
		for _, h := range r.Cookie {
			v, n := cookieValues(h, m.cfg.Cookie.Name)
			if n == 0 {
				continue
			}
			if presented || n > 1 {
				return "", true, false, errAmbiguousToken
			}
			token, presented, cookie = v, true, true
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
				return "", true, false, errAmbiguousToken
			}
			// Both tokens are the client's own, but a secret is compared
			// in constant time wherever it is compared.
			if presented && subtle.ConstantTimeCompare([]byte(v), []byte(token)) != 1 {
				return "", true, false, errAmbiguousToken
			}
			token, presented, fromHeader = v, true, true
		}
	}
	if presented && !validToken(token) {
		return "", true, cookie, errMalformedToken
	}
	return token, presented, cookie, nil
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

// issue sends token, the session with meta's: a cookie that persists
// until the session's absolute deadline when the session is remembered (or
// Cookie.Persist asks it of every session), else one that ends with the
// browser. now is the commit's time, from which Max-Age counts. c is the
// cookie newIssued allocated with the token, which issue fills.
func (m *Manager) issue(res *Result, token string, c *http.Cookie, meta *Meta, now time.Time) {
	if m.cfg.Transport.cookie() {
		m.fillCookie(c, token, meta.ExpiresAt, m.cfg.Cookie.Persist || meta.Remembered, now)
		res.Cookie = c
	}
	if m.cfg.Transport.header() {
		res.HeaderName, res.HeaderValue = m.cfg.HeaderName, token
	}
}

func (m *Manager) clear(res *Result) {
	if m.cfg.Transport.cookie() {
		c := new(http.Cookie)
		m.fillCookie(c, "", time.Unix(0, 0), true, time.Time{})
		c.MaxAge = -1 // net/http renders MaxAge < 0 as Max-Age=0
		res.Cookie = c
	}
}

// fillCookie makes c the session cookie carrying value.
func (m *Manager) fillCookie(c *http.Cookie, value string, expires time.Time, persist bool, now time.Time) {
	cc := &m.cfg.Cookie
	*c = http.Cookie{
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
	if persist {
		c.Expires = expires.UTC()
		if value != "" {
			c.MaxAge = int(expires.Sub(now) / time.Second)
			if c.MaxAge <= 0 {
				c.MaxAge = 1
			}
		}
	}
}
