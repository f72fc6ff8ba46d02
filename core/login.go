package core

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Bounds on what a login records besides the user. They keep a listing
// small and printable whatever the application passes through from its
// users.
const (
	// MaxLabelLength is the most characters (runes) a session's label has.
	MaxLabelLength = 64
	// MaxMetadataEntries and MaxMetadataBytes bound LoginOptions.Metadata:
	// its entries, and its keys' and values' bytes together.
	MaxMetadataEntries = 16
	MaxMetadataBytes   = 1 << 10
	// maxMetadataKey is the longest metadata key, in bytes.
	maxMetadataKey = 64
)

// LoginOptions are what a user chooses when logging in, for this session
// only (Session.LoginWith).
type LoginOptions struct {
	// Remember keeps the session across browser restarts: it lives for
	// Config.RememberLifetime with Config.RememberIdleTimeout as its idle
	// timeout (instead of Lifetime and IdleTimeout), and its cookie
	// carries Max-Age and Expires for the lifetime left. Renewal and
	// rotation keep it remembered; the next login decides again.
	Remember bool
	// Label is a name the user gives the session ("Work laptop"), shown in
	// their list of sessions: at most MaxLabelLength characters of valid
	// UTF-8, with no control or bidirectional formatting characters.
	Label string
	// Metadata is the application's own strings about the session (a
	// device name, a region), returned by listings and Session.Metadata,
	// never part of the values: at most MaxMetadataEntries entries and
	// MaxMetadataBytes bytes, keys of 1 to 64 letters, digits, '-', '_' or
	// '.', values valid UTF-8 without control characters. The map is
	// copied.
	Metadata map[string]string
}

// Client is what the manager knows of the client behind a request: what a
// Binding looks at.
type Client struct {
	UserAgent string
	// IP is the address recorded at login (see Config.TrustedProxies).
	IP string
}

// A Binding ties a logged-in session to the client it logged in from: it
// returns the client's fingerprint, recorded (hashed) at login and compared
// on every load of the session. A session presented by a client with
// another fingerprint is revoked (see Config.Binding).
type Binding func(Client) string

// BindUserAgent fingerprints a client by its User-Agent header.
func BindUserAgent(c Client) string { return c.UserAgent }

// Login binds the session to userID: it renews the token, starts the
// absolute lifetime again (a login is an authentication), and records the
// client's user agent and IP for the user's list of sessions. It is
// LoginWith without options: not remembered, no label, no metadata.
func (s *Session) Login(userID string) {
	_ = s.LoginWith(userID, LoginOptions{}) // the zero options are valid
}

// LoginWith is Login with the user's choices for this session. Options
// that break their bounds (a label too long or holding control characters,
// metadata too large) are an error wrapping ErrLoginOptions, and the
// session is left as it was: nothing of them is ever stored.
func (s *Session) LoginWith(userID string, opts LoginOptions) error {
	if err := opts.validate(); err != nil {
		return err
	}
	var md map[string]string
	if len(opts.Metadata) > 0 {
		md = make(map[string]string, len(opts.Metadata))
		for k, v := range opts.Metadata {
			md[strings.Clone(k)] = strings.Clone(v)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.renew = true
	c := s.clientLocked()
	s.meta.UserID = strings.Clone(userID) // stored; see Put
	s.meta.UserAgent, s.meta.IP = c.UserAgent, c.IP
	s.meta.ExpiresAt = time.Time{} // set from the commit time
	s.meta.Remembered = opts.Remember
	s.meta.Idle = 0
	if opts.Remember {
		s.meta.Idle = s.m.cfg.RememberIdleTimeout
	}
	s.meta.Label = strings.Clone(opts.Label)
	s.meta.Metadata = md
	s.meta.Binding = ""
	if s.m.cfg.Binding != nil {
		s.meta.Binding = bindingDigest(s.m.cfg.Binding(c))
	}
	return nil
}

// clientLocked is the request's client. mu held.
func (s *Session) clientLocked() Client {
	ua, addr, xff := s.reqUA, s.reqAddr, s.reqXFF
	if s.client != nil {
		ua, addr, xff = s.client.ClientInfo()
	}
	return Client{UserAgent: ua, IP: s.m.clientIP(addr, xff)}
}

// bindingDigest is what the store keeps of a fingerprint: the fingerprint
// may be personal (an address, a device id), and only equality matters.
func bindingDigest(fingerprint string) string {
	sum := sha256.Sum256([]byte("sessionkit binding\x00" + fingerprint))
	return hex.EncodeToString(sum[:16])
}

// validate checks the options against their documented bounds.
func (o *LoginOptions) validate() error {
	if err := checkText(o.Label); err != nil {
		return fmt.Errorf("%w: label: %w", ErrLoginOptions, err)
	}
	if n := utf8.RuneCountInString(o.Label); n > MaxLabelLength {
		return fmt.Errorf("%w: label: %d characters, more than %d", ErrLoginOptions, n, MaxLabelLength)
	}
	if len(o.Metadata) > MaxMetadataEntries {
		return fmt.Errorf("%w: metadata: %d entries, more than %d", ErrLoginOptions, len(o.Metadata), MaxMetadataEntries)
	}
	size := 0
	for k, v := range o.Metadata {
		if !metadataKey(k) {
			return fmt.Errorf("%w: metadata: key %q is not 1 to %d letters, digits, '-', '_' or '.'", ErrLoginOptions, truncated(k), maxMetadataKey)
		}
		if err := checkText(v); err != nil {
			return fmt.Errorf("%w: metadata %q: %w", ErrLoginOptions, k, err)
		}
		size += len(k) + len(v)
	}
	if size > MaxMetadataBytes {
		return fmt.Errorf("%w: metadata: %d bytes, more than %d", ErrLoginOptions, size, MaxMetadataBytes)
	}
	return nil
}

// checkText refuses what would not print as the user typed it: invalid
// UTF-8, control characters (C0, DEL, C1) and the bidirectional formatting
// characters that reorder what follows them (U+202A-U+202E, U+2066-U+2069,
// U+200E, U+200F, U+061C), with which a label could pass for another.
func checkText(s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("not valid UTF-8")
	}
	for i, r := range s {
		if unicode.IsControl(r) || bidiControl(r) {
			return fmt.Errorf("control character %U at byte %d", r, i)
		}
	}
	return nil
}

func bidiControl(r rune) bool {
	return (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) ||
		r == 0x200E || r == 0x200F || r == 0x061C
}

func metadataKey(k string) bool {
	if k == "" || len(k) > maxMetadataKey {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// truncated keeps a client's input out of error messages beyond a few
// bytes.
func truncated(s string) string {
	if len(s) > 32 {
		return s[:32] + "..."
	}
	return s
}

// Label is the name the user gave the session at login; empty for none.
func (s *Session) Label() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.read = true
	return s.meta.Label
}

// Remembered reports whether the session was logged in with Remember.
func (s *Session) Remembered() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.read = true
	return s.meta.Remembered
}

// Metadata returns a copy of the metadata the login recorded; nil for
// none.
func (s *Session) Metadata() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.read = true
	if s.meta.Metadata == nil {
		return nil
	}
	out := make(map[string]string, len(s.meta.Metadata))
	for k, v := range s.meta.Metadata {
		out[k] = v
	}
	return out
}
