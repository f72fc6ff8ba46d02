// Package pgstore keeps sessionkit sessions in PostgreSQL, through a pgx
// v5 connection pool (pgxpool). It implements store.Store and
// store.Walker, and passes the conformance suite in stores/storetest.
//
//	pool, err := pgstore.NewPool(ctx, "postgres://app@db:5432/app")
//	...
//	st, err := pgstore.New(ctx, pool, pgstore.Options{CreateSchema: true})
//	...
//	m, err := core.New(core.Config{Store: st})
//
// It is tested against PostgreSQL 15 only; the newest feature it uses
// came with 11 (hashtextextended, for the advisory locks' keys), and 14
// for the near cache's triggers (CREATE OR REPLACE TRIGGER).
//
// # Data layout
//
// Two tables, in Options.Schema ("public") with names starting with
// Options.TablePrefix ("sessionkit_"); schema.sql, exported as SchemaSQL,
// is the whole of it, and Options.SchemaSQL renders it for other names.
// This is schema version 1, not yet released: until the first release it
// changes in place (the login columns below came that way), with no
// migration. Tables made from an earlier draft must be dropped and made
// again: CREATE TABLE IF NOT EXISTS leaves an existing table as it is, and
// every statement then fails on the missing columns.
//
// sessionkit_sessions holds one row per ID. The ID (its primary key) is
// the one the manager hands over: the lowercase hex SHA-256 of the
// session's token. The token itself never reaches the database. Columns:
//
//	id          the ID (text, C collation)
//	state       live: a session. forward: what a Renew with grace left
//	            under the old ID, answered with successor until deadline.
//	            gone: what a Renew without grace left, loading as missing,
//	            kept a minute so that a revocation racing the renewal can
//	            follow successor
//	successor   the ID a forward or gone row was renewed to
//	user_id     the user (bytea: an application's user ID need not be
//	            UTF-8; NULL for an anonymous session), indexed: the user
//	            index is this column, not a second table
//	created_at issued_at last_seen expires_at
//	            the metadata (timestamptz, microseconds)
//	deadline    when the row ends: for a session the earlier of
//	            last_seen + idle timeout and expires_at as of its last
//	            write or touch, for the others the end of their grace;
//	            indexed, for the janitor
//	user_agent ip
//	            recorded at login (text: bytes that are not UTF-8, or NUL,
//	            become U+FFFD; they are for display, where JSON or HTML
//	            would replace them anyway)
//	idle_us     the session's own idle timeout (Meta.Idle), in place of
//	            the caller's, in microseconds; NULL (or 0): the caller's.
//	            A bigint, not an interval: an interval's days and months
//	            are no fixed length (timestamptz + '1 day' is 23 or 25
//	            hours across a change of daylight saving time, by the
//	            connection's TimeZone), and a time.Duration is; the SQL
//	            adds idle_us * interval '1 microsecond', which has neither
//	            and is the same instant Go computes
//	remembered  the login asked to be remembered (boolean), for listing
//	label       the user's name for the session (text, as user_agent;
//	            '' for none)
//	metadata    the application's strings (jsonb, an object of strings;
//	            NULL for none): queryable (metadata->>'device', a GIN
//	            index if wanted), any Unicode; keys and values are made
//	            storable as user_agent is, since jsonb refuses U+0000
//	binding     the digest of the client the session is bound to (bytea,
//	            like user_id: it is compared, so it is kept exactly, not
//	            made UTF-8; NULL when not bound)
//	lineage     the session a row descends from (bigint: a hash of the ID
//	            it was created under, copied by every Renew), the key of
//	            the advisory lock that Renew and Delete take
//
// sessionkit_values holds one row per value, (session_id, key) its primary
// key: a write touches only the keys it changes, so two requests writing
// different keys of one session both survive. Keys and values are bytea,
// the core's bytes as they are. A value row references its session's row
// (ON DELETE CASCADE): deleting a session deletes its values, and no value
// can be written for a session that is not there.
//
// Forward and gone rows keep the metadata of the session they were, the
// login columns included, so that a revocation that finds them under the
// user's index follows them. The login columns go through every Update
// without Meta and every Renew as they are, and an Update or Renew with
// Meta replaces them all (a new login that was not remembered leaves
// idle_us NULL).
//
// # Round trips
//
// Each operation is one round trip: one statement, or one pgx.Batch
// pipelined and run by PostgreSQL as one implicit transaction. TestRoundTrips
// counts them on the wire, together with the transactions that wrote
// (which spend a transaction ID; a read spends none):
//
//	Load        1  one SELECT of the row and its values (aggregated into
//	               one result row); writes and locks nothing. Past the
//	               touch window +1: the UPDATE that extends the idle
//	               deadline, once per window per session
//	Create      1  one statement (the row and its values); for a session
//	               bound to a user under a cap, one batch: the user's lock,
//	               the insert, the eviction
//	Update      1  one batch: the row's UPDATE, then the values' DELETE
//	               and upsert, each only what the change names
//	Renew       1  one batch: the locks of the session's user (shared) and
//	               lineage, claim, new row, values moved, eviction (with
//	               a cap, after the user's lock). Under a cap without
//	               ch.Meta, +1 before it to read the user (the manager
//	               always sends Meta)
//	Take        1  one statement
//	Delete      1  one batch: the lineage's lock, then one statement
//	               deleting the row and the rows its forwarding entries
//	               lead to
//	ListUser    1  one indexed query; values never read
//	DeleteUser  1  one batch: the user's lock, then one statement
//	Walk        1  per batch of 500 sessions (so 2 for 1000, 3 for
//	               1100): one query on the primary key; values never read,
//	               nothing written
//	Sweep       1  per Options.JanitorBatch rows
//
// With the near cache (below), a Load it answers makes none.
//
// So a read-only request costs one round trip, a read-write request two
// (the Load and the Update), a new session one, a login two (Load and
// Renew) and a logout two (Load and Delete). A deletion adds a round trip
// per 16 forwarding entries beyond the first 16 (a session rotated that
// often within one grace period); a write refused after waiting for a
// lock adds one to read the row as it now is.
//
// Two costs come from pgx, not the store: a statement's first use on a
// connection is prepared in a round trip of its own (once per connection
// and statement); and pgxpool pings a connection idle for over a second
// before handing it out (pgxpool.Config.ShouldPing), which a busy pool
// rarely does.
//
// Why the touch is a second step and not part of every read: the read
// would have to be a data-modifying statement (an UPDATE in a CTE), even
// when there is nothing to touch. PostgreSQL refuses one in a read-only
// transaction (a hot standby, a read-only role), it takes the table's
// ROW EXCLUSIVE lock, and it is slower: TestTouchIsASecondStep measured a
// loopback read at 156-228 µs plain and 8-10% more folded. The second
// step runs once per touch window per session, a quarter of the idle
// timeout by default: 7.5 minutes of reads for one extra round trip.
//
// # Atomicity
//
// What must happen together is one transaction. A cancelled context or a
// statement timeout (or a crash) aborts the whole of it, or, when the
// server already had all of it, lets it commit whole; a session is never
// half written. (With NewPool's pool, a call's cancelled context makes pgx
// ask the server to cancel, so the write is rolled back; pgx's default
// only stops waiting.)
//
// Row locks do the rest, and are taken only where a write needs them:
//
//   - Update and the claim of Renew lock the session's row (an UPDATE that
//     only matches a live row), so concurrent writes of one session run
//     one after the other, and the statements after it in the batch
//     (values) see every write committed before. A session deleted,
//     revoked or renewed away has no live row to lock: nothing is written,
//     and no value row can be made for it. There is no resurrection.
//   - Exactly one of concurrent Renews of an ID wins, in any number of
//     processes: the claim turns the row into a forwarding entry under its
//     lock, and the others, once it is released, find it renewed.
//   - Values move to the renewed ID as rows (an UPDATE of session_id),
//     which locks each: a Take of one through the old ID waits for the
//     move and then finds nothing, so a flash is shown once.
//   - The per-user cap is counted under a transaction-scoped advisory lock
//     on the user (pg_advisory_xact_lock of a hash of the user ID seeded
//     with the tables' name), taken first by every write that adds a
//     session to a user under a cap, and by DeleteUser: such writes of one
//     user run one after the other, so none can exceed the cap.
//   - A rotation cannot outrun a revocation. Every Renew first takes the
//     lock of the row's user shared and the lock of the session's lineage
//     (the column every row of one session shares) exclusive; Delete takes
//     the lineage's lock and DeleteUser the user's, exclusive. So a
//     deletion waits for a rotation in flight and sees its successor, or
//     the rotation waits and then finds its row gone; without these, a
//     session renewed in a tight loop stayed one successor ahead of a
//     deletion chasing it (TestRevocationVersusRotation). Renewals of one
//     user's sessions share the user's lock and do not wait for each
//     other.
//   - Statements that lock several session rows (deletions, evictions)
//     lock them in ID order, so they cannot deadlock each other; should
//     the server still report a deadlock (or a serialization failure), the
//     rolled-back transaction is run again, at most three times.
//   - Delete and DeleteUser delete forwarding entries and markers with the
//     sessions, and follow them: a logout or revocation that loaded a
//     session just before a rotation deletes the successor too. A chain
//     longer than one statement follows (16 hops: more rotations than
//     that within one grace period) is deleted in further round trips.
//
// A read (Load inside the touch window, ListUser, Walk) takes no lock, and
// works in a read-only transaction.
//
// # Walking
//
// Walk (store.Walker) goes over every session live at a moment, by its
// stored deadline, metadata only: for an admin page, or a bulk purge. It
// is keyset pagination on the primary key: a batch is the 500 live
// sessions whose IDs come after the last one shown (WHERE id > $last
// ORDER BY id LIMIT 501, the extra row only telling whether there is
// more), one statement of its own, so the thousandth batch costs what the
// first did, and a walk holds at most one batch in memory. No cursor,
// transaction or snapshot spans batches, and fn runs between them with no
// connection held: it may call the store (a purge deletes what it is
// shown; on a pool of one connection too), or take its time, without
// holding up a request, the janitor or VACUUM. The price is that a walk is
// not one snapshot: a session live throughout is shown exactly once, but
// one created, deleted or rotated meanwhile may or may not be (a rotated
// session can be shown under both IDs). The walk stops at fn's first
// error, returned as it is, and when its context ends.
//
// # Expiry and the janitor
//
// Every read and write checks a row's deadline, and its idle timeout (the
// session's own when it has one, else the call's), against the caller's
// Now, so an expired session is never
// returned or written, whether or not its row is still there. Removing
// rows is the janitor's job: every Options.JanitorInterval (a minute) it
// deletes, by the store's clock, the rows past their deadline, in
// statements of Options.JanitorBatch rows (DELETE ... WHERE id IN (SELECT
// ... LIMIT n FOR UPDATE SKIP LOCKED)), each a short transaction. SKIP
// LOCKED leaves alone the rows that requests (or other processes'
// janitors) hold: no janitor waits for a request or makes one wait, and
// any number of processes may run one at once. Close stops it.
//
// To run it in only some processes, give the others a negative
// JanitorInterval; Sweep runs one sweep, for a scheduled job. Processes
// that never sweep leave expired rows in the tables, never in a result.
//
// Clocks: the deadlines stored are the application servers' (the Now of
// the writes); the janitor compares them with its own process's clock. A
// janitor whose clock runs ahead of the others' by d deletes sessions up
// to d before their deadline; servers kept in time by NTP differ by
// milliseconds.
//
// # Near cache
//
// With Options.Cache set, the Store keeps the records it reads in a
// process-local cache bounded in bytes (CacheOptions.MaxBytes, 64 MiB by
// default), so that a Load of a session read recently sends no query: a
// read-only request on a cached session makes no round trip. It is the
// near cache redisstore has (stores/internal/nearcache, shared), with
// PostgreSQL's LISTEN/NOTIFY as the transport. What it guarantees:
//
//   - A write or revocation by this process is seen by this process at
//     once: every write (Create, Update, Renew, Delete and the chain it
//     follows, DeleteUser and the sessions it revokes, a cap's evictions,
//     Take, Load's touch) drops the IDs it wrote before it returns.
//   - A write or revocation by any other writer (a process with or
//     without the cache, the janitor, an UPDATE typed in psql) is seen
//     within the notification delivery time: TestCacheCrossProcess
//     measured p50 0.23 ms, p99 2.1 ms on loopback (0.55 and 14 ms under
//     -race), from the write's return to the reader's first Load that saw
//     it. Never later than MaxStaleness (one second by default, at most a
//     minute), counted from before the read that filled the entry, even
//     when a notification is lost.
//   - When notifications may have been missed, the cache is dropped.
//
// Every cached read is checked as Load checks what it reads: the stored
// deadline, the idle timeout (the session's own, else the call's), the
// absolute lifetime, against the call's Now; a record due for a touch
// goes to the database, which extends it.
//
// How changes are announced. Five statement-level triggers (schema.sql's
// last part; New creates them with CreateSchema when Cache is set, and
// Options.SchemaSQL renders them for a migration tool) call pg_notify on
// the store's channel (Options.Channel, a hash of the tables' name) with
// the IDs of the sessions a statement changed, comma-separated, never a
// token: after an UPDATE or DELETE of sessions, and an INSERT, UPDATE or
// DELETE of values (those inserted for a session row the same
// transaction wrote excepted). One statement sends one notification of up
// to 7000 bytes (about a hundred IDs), more for more IDs. A session row is
// never inserted under an ID a cache may hold (its earlier row's deletion
// was announced), so a Create, with or without values, sends nothing.
//
// What the triggers cost every writer, with or without a cache: the
// trigger's run per statement, and, for a transaction that notifies (an Update, a touch, a Renew, a deletion;
// not a Create), PostgreSQL's NOTIFY commit-time serialisation: such
// transactions take a database-wide lock to append to the notification
// queue as they commit, so they commit one at a time, and a queue that a
// stuck listener (a process stopped, not dead) holds back fills up
// (max_notify_queue_pages, 8 GB by default), after which notifying
// writes fail. A notifying transaction also spends a transaction ID even
// when it wrote nothing, as the listener's heartbeats do. Measured
// (BenchmarkPostgres, net/http and Echo v5, sessionkit-cache against
// sessionkit): a new session 248 and 239 µs against 181 and 161 µs, the
// server's CPU per request 168 against 93 µs (the values' trigger runs on
// a Create though it notifies nothing); a read-write request 508 and 503
// µs against 436 and 351 µs. A cached read-only request: 2.30 and 1.98 µs
// against 135 and 121 µs, no round trip (0.019× scs's read, in the run
// README quotes).
//
// How the cache knows it may serve. A connection of its own (a pgx.Conn
// made from the pool's connection configuration: host, credentials, TLS,
// runtime parameters, DialFunc; not the pool's hooks, and not its
// tracer) runs LISTEN, then checks that the five triggers exist and are
// enabled, and only then turns the cache on; it then waits for
// notifications. Every heartbeat (a quarter of MaxStaleness, at most a
// second) it NOTIFYs its own channel with a payload of its own, which it
// must receive by the end of that statement (a session is delivered its
// own notifications as its transaction commits), which must end within
// two heartbeats, and checks the triggers again: that proves the whole
// path, not only the connection, and a path gone silent is given up
// within three heartbeats. Any failure
// (the connection lost, pg_terminate_backend, a database restart, a
// heartbeat that does not come back, a trigger dropped or disabled)
// turns the cache off at once and drops every entry; it comes on again
// only once a new connection has LISTENed and checked. While it is off,
// every Load reads the database (CacheStats.Bypasses). Fills are
// refused unless their read was sent after the cache came on and after
// the last invalidation of their ID (the nearcache package doc has the
// argument), so a notification racing a fill is never lost.
//
// CacheStats has the counters (hits, misses, bypasses, invalidations,
// evictions, entries, bytes) and whether the cache is listening, with
// the last failure's cause. Close stops the listening connection; the
// Store keeps working without the cache.
//
// # Where this store differs from the in-memory one
//
//   - A Renew without grace leaves a marker under the old ID for a minute,
//     which loads as missing but keeps the ID taken for Create (IDs are
//     random: only a collision could meet it).
//   - An expired row not yet swept also keeps its ID taken for Create.
//   - The user agent, IP, label and metadata are stored as text (and
//     jsonb), made valid UTF-8 without NUL.
//   - The session's own idle timeout is kept to the microsecond (one
//     shorter than that is kept as one microsecond).
//
// # Errors
//
// ErrNotFound, ErrExpired (from Load), ErrExists and *store.ErrRenewed
// are returned as the contract says; a write never tells expired from
// gone (both ErrNotFound), so the manager drops it either way. Everything
// else is a failure, an *Error naming the operation, from which errors.Is
// and errors.As reach the cause: a *pgconn.PgError from the server, a
// network error, the context's error. With the database down every
// operation fails as soon as the dial is refused; once it is back, the
// pool replaces its dead connections as it meets them. A row this package
// did not write (an unknown state, a time that is infinite, a forwarding
// entry naming no valid successor, an idle_us below zero or beyond what a
// time.Duration holds, metadata that is not a JSON object of strings) is
// an *Error wrapping ErrCorrupt,
// never a panic and never an empty session.
package pgstore
