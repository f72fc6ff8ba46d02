package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// EventKind says what happened to a session.
type EventKind uint8

// Event kinds.
const (
	EventCreated         EventKind = iota + 1 // a new session was stored
	EventRenewed                              // new token, data kept (Renew, Login)
	EventRotated                              // periodic new token; the old one in its grace window
	EventDestroyed                            // the session's owner ended it (Destroy)
	EventRevoked                              // ended by someone else: revoke, log out everywhere, per-user cap
	EventExpired                              // a token arrived for a session past its deadline
	EventInvalidToken                         // a token arrived that is malformed or unknown
	EventStoreError                           // the store failed
	EventWriteDropped                         // a change could not be saved (see Event.Err)
	EventEvicted                              // the embedded store dropped the session to stay within its bounds
	EventBindingMismatch                      // a bound session came from another client, and was revoked (Config.Binding)
)

var eventNames = [...]string{
	EventCreated:         "created",
	EventRenewed:         "renewed",
	EventRotated:         "rotated",
	EventDestroyed:       "destroyed",
	EventRevoked:         "revoked",
	EventExpired:         "expired",
	EventInvalidToken:    "invalid_token",
	EventStoreError:      "store_error",
	EventWriteDropped:    "write_dropped",
	EventEvicted:         "evicted",
	EventBindingMismatch: "binding_mismatch",
}

func (k EventKind) String() string {
	if int(k) < len(eventNames) && eventNames[k] != "" {
		return eventNames[k]
	}
	return fmt.Sprintf("EventKind(%d)", uint8(k))
}

func (k EventKind) level() slog.Level {
	switch k {
	case EventCreated, EventRotated, EventExpired:
		return slog.LevelDebug
	case EventInvalidToken, EventBindingMismatch:
		return slog.LevelWarn
	case EventStoreError, EventWriteDropped:
		return slog.LevelError
	case EventEvicted:
		// A flood evicts in the thousands; one line each at Info would be
		// a second flood, of logs.
		return slog.LevelDebug
	}
	return slog.LevelInfo
}

// Event is one thing that happened to a session. It never carries a token:
// SessionID is the store ID (the token's SHA-256), empty when there is none.
// The hook gets UserID as it is; the log line carries only the first 16 hex
// digits of its SHA-256 under "user" (the session under "session" the same
// way), so logs hold neither tokens nor user ids.
type Event struct {
	Kind      EventKind
	Time      time.Time
	SessionID string
	UserID    string
	// Successor is the new ID, for EventRenewed and EventRotated.
	Successor string
	// Err says why, for EventInvalidToken, EventStoreError and
	// EventWriteDropped.
	Err error
}

func (m *Manager) emit(ctx context.Context, e Event) {
	// The clock is read only for a hook or a log line that will have the
	// time: a request whose events go nowhere (an evicting flood's, with
	// the log at Info) does not pay for it.
	stamped := false
	if m.cfg.OnEvent != nil {
		e.Time, stamped = m.cfg.Now(), true
		m.cfg.OnEvent(ctx, e)
	}
	level := e.Kind.level()
	if e.Kind == EventInvalidToken && errors.Is(e.Err, errUnknownToken) {
		// A well-formed token we do not know is the normal aftermath of a
		// logout, a revocation or an expiry elsewhere; malformed ones stay
		// at Warn.
		level = slog.LevelInfo
	}
	if !m.cfg.Logger.Enabled(ctx, level) {
		return
	}
	if !stamped {
		e.Time = m.cfg.Now()
	}
	suppressed := 0
	if clientDriven(e.Kind) {
		var ok bool
		if ok, suppressed = m.clientLines.allow(e.Time); !ok {
			return
		}
	}
	attrs := make([]slog.Attr, 0, 6)
	attrs = append(attrs, slog.String("event", e.Kind.String()))
	if suppressed > 0 {
		attrs = append(attrs, slog.Int("suppressed", suppressed))
	}
	if e.SessionID != "" {
		attrs = append(attrs, slog.String("session", shortID(e.SessionID)))
	}
	if e.Successor != "" {
		attrs = append(attrs, slog.String("successor", shortID(e.Successor)))
	}
	if e.UserID != "" {
		// A user id is personal data (often an e-mail address); the log
		// gets a prefix of its hash, enough to follow one user's events.
		attrs = append(attrs, slog.String("user", shortID(hashUser(e.UserID))))
	}
	if e.Err != nil {
		attrs = append(attrs, slog.String("error", e.Err.Error()))
	}
	m.cfg.Logger.LogAttrs(ctx, level, "sessionkit: session "+e.Kind.String(), attrs...)
}
