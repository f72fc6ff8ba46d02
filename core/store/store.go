package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"
)

// Store keeps session records. Implementations must be safe for concurrent
// use by many goroutines and, where they are shared, by many processes.
type Store interface {
	// Load returns the record stored under id. It returns ErrNotFound when
	// there is none, and ErrExpired when the store can tell the record existed
	// but its deadline has passed (a store that cannot tell returns
	// ErrNotFound). When Now-LastSeen has reached opts.TouchAfter, Load also
	// extends the idle deadline before it returns, never moving it back
	// (see the package doc).
	//
	// A record renewed away with a grace period is returned as a forwarding
	// entry: Successor set, no values.
	Load(ctx context.Context, id string, opts LoadOptions) (*Record, error)

	// Create stores a new record under id. It returns ErrExists, and writes
	// nothing, when id is taken. When the record is bound to a user and
	// opts.MaxPerUser is set, it enforces the cap and returns the IDs it
	// evicted.
	Create(ctx context.Context, id string, rec *Record, opts WriteOptions) (evicted []string, err error)

	// Update applies ch to the record under id. It returns ErrNotFound, and
	// writes nothing, when the record is gone. On a forwarding entry it
	// writes nothing and returns *ErrRenewed naming the successor, so that
	// a request that loaded the session just before a rotation can redirect
	// its write instead of losing it.
	Update(ctx context.Context, id string, ch *Change) error

	// Renew moves the record under oldID to newID, applying ch on the way
	// (metadata replaced when ch.Meta is set, values merged), and updates the
	// user index. Exactly one Renew of a given oldID succeeds: others get
	// ErrRenewed or ErrNotFound. With opts.Grace > 0, oldID stays for that
	// long as a forwarding entry to newID; otherwise it is deleted at once.
	Renew(ctx context.Context, oldID, newID string, ch *Change, opts WriteOptions) (evicted []string, err error)

	// Delete removes the record under id and its user-index entry. When id
	// is a forwarding entry, Delete removes it and the session it forwards
	// to (following the chain): a logout or revocation that loaded the
	// session just before a rotation must not leave the rotated successor
	// alive. Deleting a missing id is not an error; existed reports whether
	// a live record was deleted.
	Delete(ctx context.Context, id string) (existed bool, err error)

	// Take removes key from the live record under id and returns the value
	// it held, in one atomic step: of concurrent Takes of one key exactly
	// one gets the value, so a flash message is shown once. ok is false,
	// and nothing is written, when the record holds no such key. A missing
	// or expired record gives ErrNotFound and a forwarding entry
	// *ErrRenewed, as for Update. Take moves neither LastSeen nor the
	// deadline.
	Take(ctx context.Context, id, key string, opts LoadOptions) (value []byte, ok bool, err error)

	// ListUser returns the live sessions bound to userID, metadata only,
	// without reading their values, in no particular order.
	ListUser(ctx context.Context, userID string, now time.Time) ([]Entry, error)

	// DeleteUser deletes every session bound to userID except keepID (which
	// may be empty) and returns the IDs it deleted.
	DeleteUser(ctx context.Context, userID, keepID string) ([]string, error)
}

// Meta is what a store keeps about a session besides its values.
type Meta struct {
	// UserID binds the session to a user; empty for an anonymous session.
	UserID string
	// CreatedAt is when the session was first created. It survives renewal.
	CreatedAt time.Time
	// IssuedAt is when the current ID's token was issued (creation, renewal
	// or rotation); rotation is due RotateAfter later.
	IssuedAt time.Time
	// LastSeen is the last recorded activity; it moves at most once per
	// touch interval, so it is coarse by design.
	LastSeen time.Time
	// ExpiresAt is the absolute deadline: when the lifetime that started at
	// creation or at the last login runs out.
	ExpiresAt time.Time
	// UserAgent and IP are recorded at login, for listing.
	UserAgent string
	IP        string

	// The rest is chosen at login (core.LoginOptions) and kept as it is
	// through every write, renewal and rotation, like UserAgent and IP.

	// Idle, when non-zero, is the session's own idle timeout (a remembered
	// session's): it replaces the Idle of the call (LoadOptions, Change,
	// WriteOptions) wherever a store applies that, in the liveness check,
	// in the deadline a write or touch sets, and in the expiry the store
	// gives the record. Zero: the call's.
	Idle time.Duration
	// Remembered: the login asked to be remembered, so the session's
	// cookie outlives the browser. Kept for listing; stores do nothing
	// else with it.
	Remembered bool
	// Label is the name the user gave the session ("Work laptop"), at most
	// 64 characters; empty for none.
	Label string
	// Metadata holds the application's strings (at most 16 entries and
	// 1 KiB); nil for none. Read-only once handed to a store, like Values.
	Metadata map[string]string
	// Binding is the digest of the client the session was bound to at
	// login (core.Config.Binding); empty when not bound.
	Binding string
}

// IdleTimeout is the idle timeout that applies to the session: its own
// when set, else def (the call's).
func (m *Meta) IdleTimeout(def time.Duration) time.Duration {
	if m.Idle > 0 {
		return m.Idle
	}
	return def
}

// Deadline is when the session ends: the earlier of its idle deadline and
// its absolute deadline. idle is the call's idle timeout; the session's own
// (Meta.Idle) replaces it when set.
func (m *Meta) Deadline(idle time.Duration) time.Time {
	d := m.LastSeen.Add(m.IdleTimeout(idle))
	if m.ExpiresAt.Before(d) {
		return m.ExpiresAt
	}
	return d
}

// Record is a session as a store holds it.
type Record struct {
	Meta Meta
	// Values holds each key's value, encoded by the core. Read-only for the
	// caller of Load, and for the store once handed to Create, Update or
	// Renew: the store may keep the map, and the core may go on reading it.
	Values map[string][]byte
	// Successor is set, only on a record returned by Load, when this ID was
	// renewed away with a grace period: the ID that replaced it.
	Successor string
}

// Change is a write to an existing record.
type Change struct {
	// Now is the time of the write; it becomes LastSeen.
	Now time.Time
	// Idle is the idle timeout, for the new deadline: Meta.Deadline(Idle).
	Idle time.Duration
	// Meta, when set, replaces the record's metadata (LastSeen excepted:
	// that is always Now). Binding to a different user moves the record
	// between user indexes.
	Meta *Meta
	// UserID and ExpiresAt, when Meta is nil, are the session's user and
	// absolute deadline as the caller loaded them. They change nothing: a
	// store may use them to keep an index in step within the write's own
	// round trip (the Redis store moves the user index's deadline), and
	// checks them against what it holds.
	UserID    string
	ExpiresAt time.Time
	// Clear deletes every value before Set is applied.
	Clear bool
	// Set writes these keys; Del deletes these keys.
	Set map[string][]byte
	Del []string
}

// ApplyValues returns old with the change's values applied (Clear, then
// Del, then Set, so a key both set and deleted in one change ends up set).
// Without a value change it returns old itself; when nothing of old
// survives (Clear, or old empty) it returns ch.Set itself; otherwise a new
// map, as old may have been handed out by Load and must not change. Either
// way the result is read-only from then on, for the store and the core
// alike. It is the one merge of values in the module: the core's view of a
// session, and each store, apply changes through it.
func (ch *Change) ApplyValues(old map[string][]byte) map[string][]byte {
	if ch == nil || (!ch.Clear && len(ch.Set) == 0 && len(ch.Del) == 0) {
		return old
	}
	if ch.Clear || len(old) == 0 {
		if ch.Set == nil {
			return map[string][]byte{}
		}
		return ch.Set
	}
	m := make(map[string][]byte, len(old)+len(ch.Set))
	maps.Copy(m, old)
	for _, k := range ch.Del {
		delete(m, k)
	}
	maps.Copy(m, ch.Set)
	return m
}

// LoadOptions tells Load the time and when to extend the idle deadline.
type LoadOptions struct {
	Now time.Time
	// Idle is the idle timeout (for the deadline check and the extension).
	Idle time.Duration
	// TouchAfter: when Now-LastSeen >= TouchAfter, Load sets LastSeen=Now
	// and extends the record's expiry to the new deadline. Zero touches on
	// every Load.
	TouchAfter time.Duration
}

// WriteOptions govern Create and Renew.
type WriteOptions struct {
	// Now and Idle set the record's deadline, as for Change.
	Now  time.Time
	Idle time.Duration
	// MaxPerUser caps the sessions bound to one user; zero means no cap.
	MaxPerUser int
	// Grace keeps the old ID of a Renew as a forwarding entry this long.
	Grace time.Duration
}

// Entry is one session in a user's listing.
type Entry struct {
	ID   string
	Meta Meta
}

// Walker is implemented by a store that can go over every session it
// holds (an admin page, a bulk purge). It is a separate interface so that
// a store that cannot is still a Store; the manager then answers
// core.ErrWalkUnsupported.
type Walker interface {
	// Walk calls fn with every session live at now (by its stored
	// deadline, as ListUser; a listing has no idle timeout of the call),
	// metadata only, never values, in no particular order. It streams: the
	// memory it holds is bounded by a batch, never by the number of
	// sessions. A session live for the whole walk is seen at least once; a
	// store whose scan can repeat itself (Redis during a rehash) may show
	// one twice; one created or deleted during the walk may or may not be
	// seen. Forwarding entries and markers are never shown. The walk stops
	// at fn's first error, which Walk returns as it is, and at ctx's end.
	Walk(ctx context.Context, now time.Time, fn func(Entry) error) error
}

// Outcomes a store reports; anything else is a store failure.
var (
	// ErrNotFound: no record under the ID (never existed, deleted, expired
	// out of the store, or renewed away without grace).
	ErrNotFound = errors.New("session not found")
	// ErrExpired: the record exists but its deadline has passed.
	ErrExpired = errors.New("session expired")
	// ErrExists: Create found the ID taken.
	ErrExists = errors.New("session id already exists")
	// ErrCorrupt: what is stored under the ID is not a record this store
	// wrote (a field that does not parse, a key of another type). Load
	// returns it wrapped; the manager treats the session as invalid, never
	// as anonymous data to trust and never as a store outage.
	ErrCorrupt = errors.New("corrupt session record")
)

// ErrRenewed is returned by Renew when another caller renewed the same old
// ID first, and by Update on a forwarding entry. Successor is the winner's
// ID when the store knows it.
type ErrRenewed struct {
	Successor string
}

func (e *ErrRenewed) Error() string {
	return fmt.Sprintf("session already renewed to %.16s", e.Successor)
}

// IDLength is the length of an ID: hex SHA-256.
const IDLength = 64

// ValidID reports whether id has the shape of an ID (64 lowercase hex
// characters). Stores may rely on the manager having checked it; the
// conformance suite and tooling use it.
func ValidID(id string) bool {
	if len(id) != IDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
