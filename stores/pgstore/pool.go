package pgstore

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgxpool"
)

// cancelDeadline is how long after a context ends a call keeps waiting for
// the server to answer the cancel request, before giving up on the
// connection.
const cancelDeadline = 500 * time.Millisecond

// NewPool builds a pgx pool from a connection string, a libpq URL
// ("postgres://user@host:5432/db?sslmode=disable") or keyword=value
// string ("host=... dbname=..."), as pgxpool.ParseConfig reads it.
// configure, when given, adjusts the configuration before the pool is made:
// pool sizes, TLS, runtime parameters (statement_timeout, say).
//
// One default differs from pgx's, because a session store's writes run on
// every request's path: when a call's context ends while the server is
// still working on it, pgx sends the server a cancel request (it otherwise
// only stops waiting, and the server carries on). The server then aborts
// the statement, and with it the transaction, so the write a request gave
// up on is rolled back rather than committed later, when whatever it
// waited for lets go. Either way it is all or nothing: every write of the
// store is one transaction. configure may set it back
// (ConnConfig.BuildContextWatcherHandler).
//
// The pool connects lazily; Ping it to fail at startup. Closing it is the
// caller's job, after the Store's last use.
func NewPool(ctx context.Context, connString string, configure ...func(*pgxpool.Config)) (*pgxpool.Pool, error) {
	if connString == "" {
		return nil, errors.New("pgstore: empty connection string")
	}
	cfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		return nil, err // pgx's error, which names the connection string's fault
	}
	cfg.ConnConfig.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: cancelDeadline}
	}
	for _, f := range configure {
		f(cfg)
	}
	return pgxpool.NewWithConfig(ctx, cfg)
}
