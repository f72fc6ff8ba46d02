package pgstore

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sessionkit/sessionkit/core/store"
)

// ErrCorrupt is wrapped by the error a Store returns when a row it reads
// is not one it wrote (an unknown state, a time that is infinite, a
// forwarding entry naming no valid successor, an idle timeout below zero
// or beyond a time.Duration, metadata that is not a JSON object of
// strings). It is the contract's
// store.ErrCorrupt: the manager treats such a session as invalid, never as
// anonymous data to trust, and never as an outage.
var ErrCorrupt = store.ErrCorrupt

// Error is the error of a failed Store operation: anything but the
// contract's outcomes (store.ErrNotFound, ErrExpired, ErrExists,
// *store.ErrRenewed), which are returned as they are. Op names the
// operation ("load", "update", "sweep", ...); Err is the cause, which
// errors.Is and errors.As reach: a *pgconn.PgError from the server, a
// network error, a context's error, or ErrCorrupt.
type Error struct {
	Op  string
	Err error
}

func (e *Error) Error() string { return "pgstore: " + e.Op + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// corrupt is the error for a row that is not a record this store wrote.
func corrupt(op, format string, args ...any) error {
	return &Error{Op: op, Err: fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))}
}

// SQLSTATE codes the store acts on.
const (
	codeUniqueViolation = "23505"
	codeDeadlock        = "40P01"
	codeSerialization   = "40001"
)

// sqlState is the server's error code in err, or "".
func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// retryable reports whether err rolled back a transaction that may simply
// be run again: a deadlock the server broke by aborting this side, or a
// serialization failure. Neither can follow a commit.
func retryable(err error) bool {
	switch sqlState(err) {
	case codeDeadlock, codeSerialization:
		return true
	}
	return false
}

// takenID reports whether err is the sessions table refusing a second row
// under one ID: the ID is taken (a Create, or a Renew's new ID created
// concurrently by someone else).
func (s *Store) takenID(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == codeUniqueViolation &&
		pe.SchemaName == s.schemaName && pe.TableName == s.sessionsName
}
