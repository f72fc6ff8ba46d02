package core

import (
	"errors"
	"fmt"
)

// Errors callers branch on with errors.Is.
var (
	// ErrConfig: New was given an invalid configuration.
	ErrConfig = errors.New("sessionkit: invalid configuration")
	// ErrStore: the session store failed. Adapters answer it with their
	// error handler (503 by default); it never becomes an anonymous session.
	ErrStore = errors.New("sessionkit: session store unavailable")
	// ErrRandom: the random source failed, so no token could be made.
	ErrRandom = errors.New("sessionkit: random source failed")
	// ErrNoValue: the session holds no value under the key.
	ErrNoValue = errors.New("sessionkit: no value for key")
	// ErrDecode: the stored value is not of the requested type, or is corrupt.
	ErrDecode = errors.New("sessionkit: value does not decode")
	// ErrEncode: the value cannot be encoded (a channel, a func, a cycle).
	ErrEncode = errors.New("sessionkit: value does not encode")
	// ErrTooLarge: a Put would take the session past Config.MaxKeys or
	// Config.MaxValueBytes. Nothing was stored.
	ErrTooLarge = errors.New("sessionkit: session values too large")
	// ErrHeadersWritten: the session changed after the response headers went
	// out in a way that needs a new token (a new session, a renewal), which
	// can no longer be delivered. The change is dropped and reported.
	ErrHeadersWritten = errors.New("sessionkit: session changed after the response headers were written")
	// ErrSessionGone: a write was for a session destroyed, revoked or renewed
	// away while the request was in flight. It is dropped, never recreated.
	ErrSessionGone = errors.New("sessionkit: session was destroyed or revoked")
	// ErrRenewForwarded: Renew or Login was asked of a session reached
	// through a token that a rotation replaced moments ago (its grace
	// window). The renewal is dropped and reported as EventWriteDropped
	// with this error, with the request's other changes, and the successor
	// stays as it was: the response goes out with no new token. Commit
	// does not return it; like ErrSessionGone it is the outcome of another
	// request's action, not a failure of this one.
	ErrRenewForwarded = errors.New("sessionkit: renewal refused for a rotated-away token")
	// ErrInvalidToken: the client sent a token that is malformed or unknown.
	ErrInvalidToken = errors.New("sessionkit: invalid session token")
	// ErrLoginOptions: LoginWith was given options past their bounds (see
	// LoginOptions). Nothing was changed.
	ErrLoginOptions = errors.New("sessionkit: invalid login options")
	// ErrWalkUnsupported: the store cannot go over all its sessions (it
	// does not implement store.Walker).
	ErrWalkUnsupported = errors.New("sessionkit: the store cannot walk its sessions")
)

// storeError wraps a store failure so that errors.Is(err, ErrStore) holds
// and the store's own error stays reachable.
func storeError(op, id string, err error) error {
	return fmt.Errorf("%w: %s %s: %w", ErrStore, op, shortID(id), err)
}
