package core

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/stores/memstore"
)

// Defaults, after OWASP's Session Management Cheat Sheet.
const (
	DefaultIdleTimeout  = 30 * time.Minute
	DefaultLifetime     = 24 * time.Hour
	DefaultRotateGrace  = 5 * time.Second
	DefaultHeaderName   = "Session-Token"
	defaultCookieName   = "session"
	hostCookiePrefix    = "__Host-"
	secureCookiePrefix  = "__Secure-"
	touchFractionOfIdle = 4

	// DefaultMaxSessionsPerUser bounds how many sessions one user can hold
	// (so how much a "where you're logged in" listing, or a revocation of
	// all of them, can cost): past it, a login evicts the user's oldest.
	DefaultMaxSessionsPerUser = 64
	// DefaultMaxKeys and DefaultMaxValueBytes bound one session's values:
	// its number of keys, and the encoded bytes of its keys and values
	// together.
	DefaultMaxKeys       = 256
	DefaultMaxValueBytes = 128 << 10
	// DefaultStoreTimeout bounds how long one store call may take on the
	// request path, whatever the store's own client would wait.
	DefaultStoreTimeout = 3 * time.Second
	// DefaultRememberLifetime and DefaultRememberIdleTimeout are those of a
	// session logged in with LoginOptions.Remember.
	DefaultRememberLifetime    = 30 * 24 * time.Hour
	DefaultRememberIdleTimeout = 7 * 24 * time.Hour
)

// Config configures a Manager. The zero value is a working, secure
// configuration: an in-memory store, 30m idle timeout, 24h lifetime, no
// rotation, a Secure HttpOnly SameSite=Lax session cookie, and bounds on
// what a client can make it keep (see MaxKeys, MaxValueBytes,
// MaxSessionsPerUser, StoreTimeout and Memory). A zero value means its
// default; a negative duration is an error, except StoreTimeout's, which
// turns it off, and a negative cap lifts that cap.
type Config struct {
	// Store keeps the sessions. Default: an in-memory store (memstore)
	// that the manager owns and Close stops.
	Store Store
	// Memory configures that default in-memory store, when Store is nil:
	// its bounds on sessions and bytes, above all (see memstore.Options;
	// the zero value has the documented defaults). Each session it evicts
	// to stay within them is an EventEvicted (and still reaches
	// Memory.OnEvict, if set).
	Memory memstore.Options

	// IdleTimeout ends a session after this long without activity.
	IdleTimeout time.Duration
	// Lifetime ends a session this long after it was created or last logged
	// in, whatever its activity. It must not be shorter than IdleTimeout.
	Lifetime time.Duration

	// RememberLifetime and RememberIdleTimeout replace Lifetime and
	// IdleTimeout for a session logged in with LoginOptions.Remember.
	// Defaults: 30 days and 7 days. A remembered session's cookie lives as
	// long as its lifetime; the idle timeout still ends it sooner when it
	// goes unused, server-side.
	RememberLifetime    time.Duration
	RememberIdleTimeout time.Duration

	// Binding, when set, binds every session at login to the client's
	// fingerprint (BindUserAgent, or the application's own), and checks it
	// on every load of a logged-in session: a client whose fingerprint
	// differs is served a new anonymous session, the session is revoked
	// for everyone (EventBindingMismatch), and its cookie is cleared.
	// Sessions logged in while Binding was unset are not bound. A binding
	// is defence in depth against a stolen cookie replayed from another
	// client, never authentication: a thief who copies the user agent too
	// passes it, and a user whose browser updates is logged out.
	Binding Binding

	// RotateAfter, when set, issues a new token once the current one is this
	// old. The old token keeps working for RotateGrace (default 5s, or half
	// of RotateAfter when that is shorter), so that requests already in
	// flight do not fail.
	RotateAfter time.Duration
	RotateGrace time.Duration

	// Cookie configures the session cookie.
	Cookie CookieConfig

	// Transport says where the token travels: a cookie (default), the
	// Authorization: Bearer header, or both.
	Transport Transport
	// HeaderName is the response header that carries a newly issued token
	// in header transport. Default "Session-Token".
	HeaderName string

	// MaxSessionsPerUser caps the sessions bound to one user; logging in
	// beyond it revokes the user's oldest sessions. Zero means
	// DefaultMaxSessionsPerUser (64); negative means no cap, which lets one
	// account grow its listing without bound.
	MaxSessionsPerUser int

	// MaxKeys and MaxValueBytes cap one session's values: the number of
	// keys, and the encoded size of keys and values together. A Put past
	// either fails with ErrTooLarge and changes nothing. Zero means
	// DefaultMaxKeys (256) and DefaultMaxValueBytes (128 KiB); negative
	// means no cap. They bound what one request sees; requests writing
	// different keys of one session at once can together pass them, which
	// the store's own bounds (memstore's MaxBytes) then catch.
	MaxKeys       int
	MaxValueBytes int

	// StoreTimeout bounds each store call the manager makes (Load, Commit,
	// Pop, listings, revocations): past it the call fails as a store error
	// (503), instead of holding the request as long as the store's client
	// would (a stalled Redis held requests for 14 s through go-redis's
	// retries). A context deadline that comes sooner wins. Zero means
	// DefaultStoreTimeout (3 s); negative means none. The in-memory store
	// never waits, so calls to a memstore get no timer.
	StoreTimeout time.Duration

	// TrustedProxies are the proxies whose X-Forwarded-For the manager
	// believes when it records a client's IP at login. Empty: the
	// connection's remote address is the client's.
	TrustedProxies []netip.Prefix

	// OnEvent receives every session event. It runs synchronously on the
	// request path, so it should be quick.
	OnEvent func(context.Context, Event)
	// Logger receives every event as a structured line, with hashed ids
	// only. Default slog.Default(); use a discard handler to silence it.
	Logger *slog.Logger

	// Now is the clock. Default time.Now. For tests.
	Now func() time.Time
	// Rand is the source of tokens. Default crypto/rand. For tests.
	Rand io.Reader
}

// CookieConfig configures the session cookie. Its zero value is the secure
// default; the flags that weaken it are named for what they give up.
type CookieConfig struct {
	// Name of the cookie. Default "__Host-session" when the other settings
	// allow that prefix (Secure, Path "/", no Domain), else "session".
	Name string
	// Path of the cookie. Default "/".
	Path string
	// Domain of the cookie. Default none (host-only), the safer choice.
	Domain string
	// Insecure drops the Secure attribute so the cookie travels over plain
	// HTTP. Only for local development.
	Insecure bool
	// ScriptReadable drops HttpOnly, so page scripts can read the token.
	// Almost never what you want.
	ScriptReadable bool
	// SameSite: Lax by default.
	SameSite SameSite
	// Partitioned sets the CHIPS Partitioned attribute (needs Secure).
	Partitioned bool
	// Persist gives every session's cookie an expiry (the session's
	// absolute deadline), so it survives a browser restart. Default: a
	// browser-session cookie, except for a session logged in with
	// LoginOptions.Remember, whose cookie persists either way.
	Persist bool
}

// SameSite is the cookie's SameSite attribute.
type SameSite uint8

// SameSite values; the zero value is Lax.
const (
	SameSiteLax SameSite = iota
	SameSiteStrict
	SameSiteNone
)

func (s SameSite) String() string {
	switch s {
	case SameSiteLax:
		return "Lax"
	case SameSiteStrict:
		return "Strict"
	case SameSiteNone:
		return "None"
	}
	return fmt.Sprintf("SameSite(%d)", uint8(s))
}

// Transport says where the session token travels.
type Transport uint8

// Transports; the zero value is the cookie.
const (
	TransportCookie Transport = iota
	TransportHeader
	TransportBoth
)

func (t Transport) String() string {
	switch t {
	case TransportCookie:
		return "cookie"
	case TransportHeader:
		return "header"
	case TransportBoth:
		return "both"
	}
	return fmt.Sprintf("Transport(%d)", uint8(t))
}

func (t Transport) cookie() bool { return t == TransportCookie || t == TransportBoth }
func (t Transport) header() bool { return t == TransportHeader || t == TransportBoth }

// withDefaults fills zero values and validates the result.
func (c Config) withDefaults() (Config, error) {
	bad := func(format string, a ...any) (Config, error) {
		return c, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, a...)...)
	}
	if c.RememberIdleTimeout == 0 && c.RememberLifetime > 0 && c.RememberLifetime < DefaultRememberIdleTimeout {
		c.RememberIdleTimeout = c.RememberLifetime // a short remembered lifetime bounds the default idle
	}
	grace := DefaultRotateGrace
	if c.RotateAfter > 0 && c.RotateAfter/2 < grace {
		grace = c.RotateAfter / 2
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"IdleTimeout", &c.IdleTimeout, DefaultIdleTimeout},
		{"Lifetime", &c.Lifetime, DefaultLifetime},
		{"RotateAfter", &c.RotateAfter, 0},
		{"RotateGrace", &c.RotateGrace, grace},
		{"StoreTimeout", &c.StoreTimeout, DefaultStoreTimeout},
		{"RememberLifetime", &c.RememberLifetime, DefaultRememberLifetime},
		{"RememberIdleTimeout", &c.RememberIdleTimeout, DefaultRememberIdleTimeout},
	} {
		if *d.v < 0 && d.name != "StoreTimeout" {
			return bad("%s is negative (%v)", d.name, *d.v)
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if c.Lifetime < c.IdleTimeout {
		return bad("Lifetime %v is shorter than IdleTimeout %v", c.Lifetime, c.IdleTimeout)
	}
	if c.RememberLifetime < c.RememberIdleTimeout {
		return bad("RememberLifetime %v is shorter than RememberIdleTimeout %v", c.RememberLifetime, c.RememberIdleTimeout)
	}
	if c.RotateAfter > 0 && c.RotateGrace >= c.RotateAfter {
		return bad("RotateGrace %v is not shorter than RotateAfter %v", c.RotateGrace, c.RotateAfter)
	}
	for _, n := range []struct {
		v   *int
		def int
	}{
		{&c.MaxSessionsPerUser, DefaultMaxSessionsPerUser},
		{&c.MaxKeys, DefaultMaxKeys},
		{&c.MaxValueBytes, DefaultMaxValueBytes},
	} {
		if *n.v == 0 {
			*n.v = n.def
		}
	}
	if c.Transport > TransportBoth {
		return bad("unknown Transport %d", c.Transport)
	}
	if c.HeaderName == "" {
		c.HeaderName = DefaultHeaderName
	}
	if !isToken(c.HeaderName) {
		return bad("HeaderName %q is not a valid header name", c.HeaderName)
	}
	if err := c.Cookie.fill(); err != nil {
		return c, err
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	return c, nil
}

func (cc *CookieConfig) fill() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: cookie: "+format, append([]any{ErrConfig}, a...)...)
	}
	if cc.Path == "" {
		cc.Path = "/"
	}
	if cc.Name == "" {
		cc.Name = defaultCookieName
		if !cc.Insecure && cc.Domain == "" && cc.Path == "/" {
			cc.Name = hostCookiePrefix + defaultCookieName
		}
	}
	switch {
	case !isToken(cc.Name):
		return bad("name %q is not a valid cookie name", cc.Name)
	case cc.SameSite > SameSiteNone:
		return bad("unknown SameSite %d", cc.SameSite)
	case cc.SameSite == SameSiteNone && cc.Insecure:
		return bad("SameSite=None needs Secure (browsers reject it otherwise)")
	case cc.Partitioned && cc.Insecure:
		return bad("Partitioned needs Secure")
	case strings.HasPrefix(cc.Name, hostCookiePrefix) && (cc.Insecure || cc.Domain != "" || cc.Path != "/"):
		return bad("a %s name needs Secure, Path \"/\" and no Domain", hostCookiePrefix)
	case strings.HasPrefix(cc.Name, secureCookiePrefix) && cc.Insecure:
		return bad("a %s name needs Secure", secureCookiePrefix)
	case strings.ContainsAny(cc.Path, ";\x00\r\n") || !strings.HasPrefix(cc.Path, "/"):
		return bad("path %q must start with / and hold no ; or control characters", cc.Path)
	case strings.ContainsAny(cc.Domain, ";\x00\r\n "):
		return bad("domain %q holds invalid characters", cc.Domain)
	}
	return nil
}

// isToken reports whether s is an RFC 7230 token, as header and cookie
// names must be.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", c) >= 0 {
			return false
		}
	}
	return true
}
