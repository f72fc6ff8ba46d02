package pgstore

import (
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/sessionkit/sessionkit/core/store"
)

// The states a row of the sessions table is in (its state column).
const (
	stateLive    = "live"    // a session
	stateForward = "forward" // renewed away with grace: forwards to successor until deadline
	stateGone    = "gone"    // renewed away without grace: loads as missing until deadline
)

// metaColumns are a session row's columns as row.scan reads them, for
// alias (a table alias, or "" for none).
func metaColumns(alias string) string {
	p := ""
	if alias != "" {
		p = alias + "."
	}
	return p + "state, " + p + "successor, " + p + "user_id, " + p + "created_at, " + p + "issued_at, " +
		p + "last_seen, " + p + "expires_at, " + p + "deadline, " + p + "user_agent, " + p + "ip, " +
		r(loginColumnsOf, "a.", p)
}

// loginColumns are the columns of what a login chose besides the user
// agent and IP (store.Meta's Idle, Remembered, Label, Metadata, Binding),
// in the order of loginArgs; loginColumnsOf the same of the row aliased
// "a".
const (
	loginColumns   = "idle_us, remembered, label, metadata, binding"
	loginColumnsOf = "a.idle_us, a.remembered, a.label, a.metadata, a.binding"
)

// row is one row of the sessions table as read, every column nullable: a
// status read joins it from a one-row table, so a missing row reads as all
// NULL.
type row struct {
	state, successor, userAgent, ip, label           pgtype.Text
	userID, binding                                  []byte
	createdAt, issuedAt, lastSeen, expiresAt, deadln pgtype.Timestamptz
	idleUS                                           pgtype.Int8
	remembered                                       pgtype.Bool
	metadata                                         []byte // jsonb, as JSON text

	// Set by classify on a session row: the idle timeout of its own, and
	// its metadata parsed.
	idle time.Duration
	md   map[string]string
}

// dest is what Scan fills, in metaColumns order.
func (r *row) dest() []any {
	return []any{&r.state, &r.successor, &r.userID, &r.createdAt, &r.issuedAt,
		&r.lastSeen, &r.expiresAt, &r.deadln, &r.userAgent, &r.ip,
		&r.idleUS, &r.remembered, &r.label, &r.metadata, &r.binding}
}

// kind is what a row is at a given moment.
type kind int

const (
	kindMissing kind = iota // no row, a gone marker, or a forwarding entry past its grace
	kindLive                // a session live at now with its idle timeout (its own, else the call's)
	kindExpired             // a session past its deadline
	kindForward             // a forwarding entry in its grace period
	kindCorrupt             // not a row this store wrote
)

// classify says what r is at now for a call whose idle timeout began at
// cutoff (now - idle; the session's own idle timeout, when it has one,
// replaces the call's), or by its stored deadline alone when cutoff is
// zero (a listing, which has no idle timeout): the same test the SQL of
// the writes makes (liveAt), so that Go and the database never disagree
// about a row. why explains kindCorrupt.
func (r *row) classify(now, cutoff time.Time) (k kind, why string) {
	if !r.state.Valid {
		return kindMissing, ""
	}
	switch r.state.String {
	case stateLive:
		if r.successor.Valid {
			return kindCorrupt, "a session row naming a successor"
		}
		for _, ts := range []struct {
			name string
			v    pgtype.Timestamptz
		}{
			{"created_at", r.createdAt}, {"issued_at", r.issuedAt}, {"last_seen", r.lastSeen},
			{"expires_at", r.expiresAt}, {"deadline", r.deadln},
		} {
			if !finite(ts.v) {
				return kindCorrupt, ts.name + " is not a finite time"
			}
		}
		if !r.userAgent.Valid || !r.ip.Valid || !r.label.Valid || !r.remembered.Valid {
			return kindCorrupt, "user agent, IP, label or remembered missing"
		}
		r.idle = 0
		if r.idleUS.Valid {
			if r.idleUS.Int64 < 0 || r.idleUS.Int64 > maxIdleUS {
				return kindCorrupt, "idle_us out of range"
			}
			r.idle = time.Duration(r.idleUS.Int64) * time.Microsecond
		}
		if r.md, why = parseMetadata(r.metadata); why != "" {
			return kindCorrupt, why
		}
		if r.idle > 0 && !cutoff.IsZero() {
			cutoff = now.Add(-r.idle)
		}
		if !now.Before(r.deadln.Time) || !cutoff.Before(r.lastSeen.Time) || !now.Before(r.expiresAt.Time) {
			return kindExpired, ""
		}
		return kindLive, ""
	case stateForward, stateGone:
		if !r.successor.Valid || !store.ValidID(r.successor.String) {
			return kindCorrupt, "a forwarding entry naming no valid successor"
		}
		if !finite(r.deadln) {
			return kindCorrupt, "deadline is not a finite time"
		}
		if r.state.String == stateGone || !now.Before(r.deadln.Time) {
			return kindMissing, ""
		}
		return kindForward, ""
	}
	return kindCorrupt, "unknown state " + truncate(r.state.String)
}

func finite(t pgtype.Timestamptz) bool {
	return t.Valid && t.InfinityModifier == pgtype.Finite
}

// meta is the row's metadata; call it only on a row classify found live
// or expired (every time finite).
func (r *row) meta() store.Meta {
	m := store.Meta{
		CreatedAt:  r.createdAt.Time,
		IssuedAt:   r.issuedAt.Time,
		LastSeen:   r.lastSeen.Time,
		ExpiresAt:  r.expiresAt.Time,
		UserAgent:  r.userAgent.String,
		IP:         r.ip.String,
		Idle:       r.idle,
		Remembered: r.remembered.Bool,
		Label:      r.label.String,
		Metadata:   r.md,
	}
	if r.userID != nil {
		m.UserID = string(r.userID)
	}
	if len(r.binding) > 0 {
		m.Binding = string(r.binding)
	}
	return m
}

// parseMetadata reads the metadata column (nil for NULL): a JSON object
// whose values are strings, as shapeOK has it, or why it is not. An empty
// object is no metadata (nil), as NULL is.
func parseMetadata(b []byte) (m map[string]string, why string) {
	if b == nil {
		return nil, ""
	}
	// jsonb prints an object with the brace first, no space before it; a
	// JSON null would otherwise unmarshal as an empty map.
	if len(b) == 0 || b[0] != '{' {
		return nil, "metadata is not a JSON object"
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, "metadata is not an object of strings"
	}
	if len(m) == 0 {
		return nil, ""
	}
	return m, ""
}

// truncate keeps foreign data short in an error message.
func truncate(s string) string {
	const n = 32
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
