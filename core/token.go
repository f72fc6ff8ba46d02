package core

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unsafe"
)

// TokenLength is the length of a session token: 32 random bytes in
// base64url without padding.
const TokenLength = 43

const tokenBytes = 32

// newToken draws 256 bits from r. A failing source is an error, never a
// weaker token.
func newToken(r io.Reader) (string, error) {
	t, _, err := newIssued(r, false)
	return t, err
}

// tokenText holds a token while it is drawn: raw is the random bytes
// (they escape to the reader), wiped once encoded into text, which nothing
// writes again once it is the token string.
type tokenText struct {
	raw  [tokenBytes]byte
	text [TokenLength]byte
}

// issued is a token with the cookie that will carry it, in one allocation.
type issued struct {
	tokenText
	cookie http.Cookie
}

// newIssued draws a new token from r and, when withCookie, returns a
// cookie for it (blank, for Manager.issue to fill) from the same
// allocation: a response issuing a token in a cookie costs one
// allocation for both.
func newIssued(r io.Reader, withCookie bool) (string, *http.Cookie, error) {
	var t *tokenText
	var c *http.Cookie
	if withCookie {
		is := new(issued)
		t, c = &is.tokenText, &is.cookie
	} else {
		t = new(tokenText)
	}
	if _, err := io.ReadFull(r, t.raw[:]); err != nil {
		return "", nil, fmt.Errorf("%w: %w", ErrRandom, err)
	}
	base64.RawURLEncoding.Encode(t.text[:], t.raw[:])
	clear(t.raw[:])
	return unsafe.String(&t.text[0], TokenLength), c, nil
}

// validToken reports whether t has the exact shape newToken produces:
// 43 base64url characters whose last one carries no stray bits. It runs
// before anything else touches a client's token, so hostile input never
// reaches a hash, a log or a store.
func validToken(t string) bool {
	if len(t) != TokenLength {
		return false
	}
	for i := 0; i < len(t); i++ {
		if !isBase64URL(t[i]) {
			return false
		}
	}
	// 43 characters carry 258 bits; the last character's low two bits must
	// be zero for the token to be the canonical encoding of 32 bytes.
	return decodeBase64URL(t[len(t)-1])&3 == 0
}

func isBase64URL(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

func decodeBase64URL(c byte) byte {
	switch {
	case c >= 'A' && c <= 'Z':
		return c - 'A'
	case c >= 'a' && c <= 'z':
		return c - 'a' + 26
	case c >= '0' && c <= '9':
		return c - '0' + 52
	case c == '-':
		return 62
	default:
		return 63
	}
}

// hashToken returns the store ID of a token: hex SHA-256. Stores, logs and
// events only ever see this.
func hashToken(t string) string {
	var out [2 * sha256.Size]byte
	return strings.Clone(hashTokenTo(&out, t))
}

// hashTokenTo is hashToken into buf: the string it returns is buf's.
func hashTokenTo(buf *[2 * sha256.Size]byte, t string) string {
	var in [TokenLength]byte
	copy(in[:], t)
	sum := sha256.Sum256(in[:len(t)])
	hex.Encode(buf[:], sum[:])
	return unsafe.String(&buf[0], len(buf))
}

// shortID is the prefix of an ID that logs and error messages carry: enough
// to correlate, too short to be a store key.
func shortID(id string) string {
	if len(id) > 16 {
		return id[:16]
	}
	return id
}

// hashUser is the hex SHA-256 of a user id, for logs.
func hashUser(u string) string {
	sum := sha256.Sum256([]byte(u))
	return hex.EncodeToString(sum[:])
}
