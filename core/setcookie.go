package core

import (
	"net/http"
	"strconv"
)

// AppendSetCookie appends the Set-Cookie header value for the result's
// cookie to b and returns the extended slice; b unchanged when the result
// sets no cookie (or one that net/http would not render). The text is
// exactly net/http's Cookie.String: cookies the manager makes are
// rendered straight into b, without the intermediate string; any other
// (a field net/http would sanitize, quote or drop) is rendered by
// Cookie.String itself. It is Headers' Set-Cookie value for frameworks
// that copy header values into buffers of their own (fasthttp), which can
// render it into a buffer they reuse.
func (r *Result) AppendSetCookie(b []byte) []byte {
	if r.Cookie == nil {
		return b
	}
	if out, ok := appendCookie(b, r.Cookie); ok {
		return out
	}
	return append(b, r.Cookie.String()...)
}

// setCookieSize is room for the Set-Cookie value of a cookie with the
// default name and attributes, Expires and Max-Age included.
const setCookieSize = 192

// setCookie is the Set-Cookie value as a string, for Headers.
func (r *Result) setCookie() string {
	var buf [setCookieSize]byte
	return string(r.AppendSetCookie(buf[:0]))
}

// appendCookie renders c as net/http's Cookie.String does, and reports
// false, having appended nothing, for a cookie whose rendering involves
// more than copying its fields: an invalid name (rendered as nothing), a
// value that needs quoting or loses bytes, a path that loses bytes, a
// domain net/http checks further or drops.
func appendCookie(b []byte, c *http.Cookie) ([]byte, bool) {
	if !isToken(c.Name) || c.Quoted || !plainCookieValue(c.Value) || !validCookiePath(c.Path) ||
		(c.Domain != "" && !isCookieDomainName(c.Domain)) {
		return b, false
	}
	b = append(b, c.Name...)
	b = append(b, '=')
	b = append(b, c.Value...)
	if c.Path != "" {
		b = append(b, "; Path="...)
		b = append(b, c.Path...)
	}
	if d := c.Domain; d != "" {
		if d[0] == '.' {
			d = d[1:]
		}
		b = append(b, "; Domain="...)
		b = append(b, d...)
	}
	if c.Expires.Year() >= 1601 {
		b = append(b, "; Expires="...)
		b = c.Expires.UTC().AppendFormat(b, http.TimeFormat)
	}
	if c.MaxAge > 0 {
		b = append(b, "; Max-Age="...)
		b = strconv.AppendInt(b, int64(c.MaxAge), 10)
	} else if c.MaxAge < 0 {
		b = append(b, "; Max-Age=0"...)
	}
	if c.HttpOnly {
		b = append(b, "; HttpOnly"...)
	}
	if c.Secure {
		b = append(b, "; Secure"...)
	}
	switch c.SameSite {
	case http.SameSiteNoneMode:
		b = append(b, "; SameSite=None"...)
	case http.SameSiteLaxMode:
		b = append(b, "; SameSite=Lax"...)
	case http.SameSiteStrictMode:
		b = append(b, "; SameSite=Strict"...)
	}
	if c.Partitioned {
		b = append(b, "; Partitioned"...)
	}
	return b, true
}

// plainCookieValue reports whether net/http renders v as it is: no byte
// it drops, no space or comma that makes it quote the value.
func plainCookieValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c <= ' ' || c >= 0x7f || c == '"' || c == ';' || c == '\\' || c == ',' {
			return false
		}
	}
	return true
}

// validCookiePath reports whether net/http renders the path as it is.
func validCookiePath(p string) bool {
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c >= 0x7f || c == ';' {
			return false
		}
	}
	return true
}

// isCookieDomainName is net/http's check of a cookie domain that is a
// name (a domain that is an IP address is left to net/http).
func isCookieDomainName(s string) bool {
	if len(s) == 0 || len(s) > 255 {
		return false
	}
	if s[0] == '.' {
		s = s[1:]
	}
	last := byte('.')
	ok := false // once a letter is seen
	partlen := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		default:
			return false
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
			ok = true
			partlen++
		case '0' <= c && c <= '9':
			partlen++
		case c == '-':
			if last == '.' {
				return false
			}
			partlen++
		case c == '.':
			if last == '.' || last == '-' {
				return false
			}
			if partlen > 63 || partlen == 0 {
				return false
			}
			partlen = 0
		}
		last = c
	}
	if last == '-' || partlen > 63 {
		return false
	}
	return ok
}
