package pgstore

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// queries are the store's statements, with its table names in place. Each
// is a fixed text (the varying parts are parameters, arrays included), so
// that pgx prepares it once per connection and every later use is a single
// round trip.
//
// Liveness is the same test everywhere, in SQL here and in row.classify:
// a session row as this store writes them (every time finite, idle_us in
// range, metadata an object of strings), with deadline > now, last_seen >
// cutoff and expires_at > now. The cutoff is now less the session's own
// idle timeout (idle_us) when it has one, else now less the call's (the
// cutoff parameter).
type queries struct {
	load, touch, status                    string
	create, lock, evictCreate, evictRenew  string
	lockRenewalUser, lockLineage           string
	update, updateMeta, updateDel, upsert  string
	claim, claimUser, moveNew, moveNewMeta string
	moveValues, dropValues, insertValues   string
	take, deleteChain, deleteUser, list    string
	walk, sweep                            string
}

// maxIdleUS is the longest own idle timeout, in microseconds, that a
// time.Duration holds (about 292 years): idle_us beyond it, or below zero,
// is not a value this store writes.
const maxIdleUS = math.MaxInt64 / int64(time.Microsecond)

// ownIdle is the SQL of the own idle timeout of the row aliased "a", as
// an interval: idle_us times one microsecond (the bigint goes as a float8,
// exact below 2^53 microseconds, 285 years). It has no days or months, so
// a time plus or minus it is the same instant whatever the session's
// TimeZone, as in Go.
const ownIdle = `a.idle_us * interval '1 microsecond'`

// shapeOK is the SQL test that the row aliased a is a session row as this
// store writes them; classify makes the same test.
func shapeOK(a string) string {
	return r(`a.state = 'live' AND a.successor IS NULL AND isfinite(a.created_at) AND isfinite(a.issued_at)
	AND isfinite(a.last_seen) AND isfinite(a.expires_at) AND isfinite(a.deadline)
	AND (a.idle_us IS NULL OR a.idle_us BETWEEN 0 AND MAXIDLE)
	AND CASE WHEN a.metadata IS NULL THEN true
		WHEN jsonb_typeof(a.metadata) = 'object' THEN NOT EXISTS (
			SELECT 1 FROM jsonb_each(a.metadata) e WHERE jsonb_typeof(e.value) <> 'string')
		ELSE false END`, "a.", a+".", "MAXIDLE", fmt.Sprint(maxIdleUS))
}

// liveAt is the SQL test that the row aliased a is live at the parameters
// now and cutoff (their $n; cutoff is now less the call's idle timeout).
func liveAt(a, now, cutoff string) string {
	return shapeOK(a) + r(" AND a.deadline > NOW AND a.last_seen > ", "a.", a+".", "NOW", now) +
		ownFrom(a, now, "-", cutoff) + r(" AND a.expires_at > NOW", "a.", a+".", "NOW", now)
}

// ownFrom is the SQL of the time at the row aliased a's own idle timeout
// from the parameter at (op "+": after it, "-": before it), or the
// parameter call when the row has no idle timeout of its own: the
// liveness cutoff (now - idle) and the new deadline a write sets (now +
// idle). NULL, which no comparison passes, for an idle_us out of range
// (the CASE keeps the arithmetic from failing on it; shapeOK refuses the
// row anyway).
func ownFrom(a, at, op, call string) string {
	return r(`CASE WHEN coalesce(a.idle_us, 0) = 0 THEN CALL::timestamptz
	WHEN a.idle_us BETWEEN 1 AND MAXIDLE THEN AT::timestamptz OP `+ownIdle+` END`,
		"a.", a+".", "CALL", call, "AT", at, "OP", op, "MAXIDLE", fmt.Sprint(maxIdleUS))
}

// r replaces pairs of old, new in s.
func r(s string, oldnew ...string) string { return strings.NewReplacer(oldnew...).Replace(s) }

func buildQueries(sessions, values string, userSeed int64) queries {
	t := func(s string) string { return r(s, "{T}", sessions, "{V}", values) }
	// userKey is the key of the advisory lock on the user in the bytea
	// expression col: a hash of the user ID seeded with the tables' name.
	userKey := func(col string) string {
		return fmt.Sprintf("hashtextextended(encode(%s, 'hex'), %d)", col, userSeed)
	}
	meta := metaColumns("s")
	var q queries

	// Load: one read, nothing written. The values come aggregated in two
	// arrays, one row whatever their number; both aggregates read the same
	// rows in the same (key) order.
	q.load = t(`SELECT ` + meta + `, v.keys, v.vals
FROM {T} s
LEFT JOIN LATERAL (
	SELECT array_agg(key ORDER BY key) AS keys, array_agg(value ORDER BY key) AS vals
	FROM {V} WHERE session_id = s.id
) v ON true
WHERE s.id = $1`)

	// touch: $1 id, $2 now, $3 cutoff, $4 now+idle (the call's: the
	// row's own replaces both). Never moves last_seen back: a request with
	// a later clock may have touched already.
	q.touch = t(`UPDATE {T} s SET last_seen = $2, deadline = least(` + ownFrom("s", "$2", "+", "$4") + `, s.expires_at)
WHERE s.id = $1 AND ` + liveAt("s", "$2", "$3") + ` AND s.last_seen < $2`)

	// status: a row's state now (a fresh snapshot), after a write that
	// waited for a lock found it changed.
	q.status = t(`SELECT ` + meta + ` FROM (VALUES (1)) AS x(one) LEFT JOIN {T} s ON s.id = $1`)

	// create: $1 id, $2 user, $3-$6 created, issued, last seen, expires,
	// $7 deadline, $8 user agent, $9 IP, $10 keys, $11 values, $12-$16
	// the login's (loginArgs). One statement: the row and its values, or
	// (a taken ID: the primary key refuses it) nothing.
	q.create = t(`WITH s AS (
	INSERT INTO {T} (id, state, user_id, created_at, issued_at, last_seen, expires_at, deadline, user_agent, ip, ` + loginColumns + `, lineage)
	VALUES ($1, 'live', $2, $3, $4, $5, $6, $7, $8, $9, $12, $13, $14, $15, $16, hashtextextended($1, 0))
	RETURNING id
)
INSERT INTO {V} (session_id, key, value)
SELECT s.id, u.k, u.v FROM s, unnest($10::bytea[], $11::bytea[]) AS u(k, v)`)

	// lock: the user's lock ($1 the user ID), exclusive, held to the end
	// of the transaction: what counts or revokes a user's sessions takes
	// it, and waits for the renewals of the user's sessions, which hold it
	// shared (lockRenewal).
	q.lock = `SELECT pg_advisory_xact_lock(` + userKey("$1::bytea") + `)`

	// lockRenewal, the start of every Renew of $1 (two statements, in
	// this order): the lock of the row's user, shared (renewals of one
	// user's sessions do not wait for each other, but a DeleteUser waits
	// for them and they for it), then its lineage's, exclusive (a Delete
	// of any ID of the session waits for the rotation, or the rotation for
	// the Delete). Each statement after them has a snapshot taken once
	// they are held, so whichever goes second sees what the first did.
	q.lockRenewalUser = t(`SELECT pg_advisory_xact_lock_shared(` + userKey("o.user_id") + `) FROM {T} o WHERE o.id = $1 AND o.user_id IS NOT NULL`)
	q.lockLineage = t(`SELECT pg_advisory_xact_lock(x.l) FROM (
	SELECT DISTINCT lineage AS l FROM {T} WHERE id = ANY($1::text[]) ORDER BY l OFFSET 0
) x`)

	// evict: $1 user, $2 now, $3 how many of the user's other live
	// sessions may stay (cap-1), $4 the session being added (never
	// evicted). The victims are picked by CreatedAt from the statement's
	// snapshot, then locked in ID order (every statement locking several
	// session rows does so, so that two of them never deadlock) and
	// deleted whatever they became meanwhile: one renewed since is
	// returned with its successor, for the caller to delete too.
	evict := `DELETE FROM {T} d WHERE d.id IN (
	SELECT l.id FROM {T} l WHERE l.id IN (
		SELECT c.id FROM {T} c
		WHERE c.user_id = $1 AND c.state = 'live' AND c.deadline > $2 AND c.expires_at > $2 AND c.id <> $4 GUARD
		ORDER BY c.created_at DESC, c.id DESC OFFSET $3)
	ORDER BY l.id FOR UPDATE)
RETURNING d.id, d.state, d.successor, (d.state = 'live' AND d.deadline > $2) AS live`
	q.evictCreate = t(r(evict, " GUARD", ""))
	// evictRenew only runs if the claim of $5 by $4 succeeded.
	q.evictRenew = t(r(evict, "GUARD", "AND EXISTS (SELECT 1 FROM {T} o WHERE o.id = $5 AND o.successor = $4)"))

	// update: $1 id, $2 now, $3 cutoff, $4 now+idle (the call's; the
	// row's own replaces both). Locks the row (the statements after it in
	// the transaction see every write committed before the lock was
	// granted), and answers with what the row was in the statement's
	// snapshot, which explains a refusal unless the statement waited for
	// the lock.
	update := `WITH u AS (
	UPDATE {T} s SET {META}last_seen = $2, deadline = least({UNTIL}, {EXP})
	WHERE s.id = $1 AND ` + liveAt("s", "$2", "$3") + `
	RETURNING 1
)
SELECT (SELECT count(*) FROM u), ` + meta + ` FROM (VALUES (1)) AS x(one) LEFT JOIN {T} s ON s.id = $1`
	q.update = t(r(update, "{META}", "", "{UNTIL}", ownFrom("s", "$2", "+", "$4"), "{EXP}", "s.expires_at"))
	// updateMeta also replaces the metadata: $5 user, $6-$8 created,
	// issued, expires, $9 user agent, $10 IP, $11-$15 the login's. Its $4
	// is now plus the idle timeout of the new metadata (its own, else the
	// call's); the liveness check is the row's as it was.
	q.updateMeta = t(r(update, "{META}", "user_id = $5, created_at = $6, issued_at = $7, expires_at = $8, user_agent = $9, ip = $10, "+
		"idle_us = $11, remembered = $12, label = $13, metadata = $14, binding = $15, ",
		"{UNTIL}", "$4::timestamptz", "{EXP}", "$8::timestamptz"))

	// The value writes of an Update run after it in the same transaction,
	// and only when it made the row live (the same test, on the row as the
	// update left it; a row never becomes live again once it is not).
	stillLive := `EXISTS (SELECT 1 FROM {T} s WHERE s.id = $1 AND ` + liveAt("s", "$2", "$3") + `)`
	// updateDel: $4 clear, $5 keys to delete, $6 keys being set (kept: the
	// upsert writes them).
	q.updateDel = t(`DELETE FROM {V} WHERE session_id = $1 AND ($4 OR key = ANY($5::bytea[])) AND key <> ALL($6::bytea[])
AND ` + stillLive)
	// upsert: $4 keys, $5 values.
	q.upsert = t(`INSERT INTO {V} (session_id, key, value)
SELECT $1, u.k, u.v FROM unnest($4::bytea[], $5::bytea[]) AS u(k, v)
WHERE ` + stillLive + `
ON CONFLICT (session_id, key) DO UPDATE SET value = EXCLUDED.value`)

	// claim: $1 old, $2 new, $3 the state it leaves (forward or gone), $4
	// now, $5 cutoff, $6 when that state ends. The exactly-one-winner
	// guard of Renew: the row lock makes concurrent claims of one ID wait
	// for each other, and the loser finds the row renewed. The metadata
	// columns stay, so that the statements after it copy them and a
	// revocation racing the renewal still finds the row under its user.
	claim := `WITH c AS (
	UPDATE {T} s SET state = $3, successor = $2, deadline = $6
	WHERE s.id = $1 AND ` + liveAt("s", "$4", "$5") + `
	AND NOT EXISTS (SELECT 1 FROM {T} n WHERE n.id = $2) USER
	RETURNING 1
)
SELECT (SELECT count(*) FROM c), EXISTS (SELECT 1 FROM {T} n WHERE n.id = $2), ` + meta + `
FROM (VALUES (1)) AS x(one) LEFT JOIN {T} s ON s.id = $1`
	q.claim = t(r(claim, " USER", ""))
	// claimUser only claims a row still bound to $7, the user whose lock
	// the transaction took.
	q.claimUser = t(r(claim, "USER", "AND s.user_id IS NOT DISTINCT FROM $7"))

	// The rest of a Renew, each only if the claim of $1 by $2 succeeded.
	claimed := `EXISTS (SELECT 1 FROM {T} o WHERE o.id = $1 AND o.successor = $2)`
	// moveNew: $3 last seen, $4 last seen + idle (the call's; the old
	// row's own replaces it); the metadata is the old row's.
	q.moveNew = t(`INSERT INTO {T} (id, state, user_id, created_at, issued_at, last_seen, expires_at, deadline, user_agent, ip, ` + loginColumns + `, lineage)
SELECT $2, 'live', o.user_id, o.created_at, o.issued_at, $3, o.expires_at, least(` + ownFrom("o", "$3", "+", "$4") + `, o.expires_at),
	o.user_agent, o.ip, ` + r(loginColumnsOf, "a.", "o.") + `, o.lineage
FROM {T} o WHERE o.id = $1 AND o.successor = $2`)
	// moveNewMeta: $4 last seen + the idle timeout of the new metadata
	// (its own, else the call's), $5 user, $6-$8 created, issued, expires,
	// $9 user agent, $10 IP, $11-$15 the login's.
	q.moveNewMeta = t(`INSERT INTO {T} (id, state, user_id, created_at, issued_at, last_seen, expires_at, deadline, user_agent, ip, ` + loginColumns + `, lineage)
SELECT $2, 'live', $5, $6, $7, $3, $8, least($4::timestamptz, $8::timestamptz), $9, $10, $11, $12, $13, $14, $15, o.lineage
FROM {T} o WHERE o.id = $1 AND o.successor = $2`)
	// moveValues: $3 clear, $4 keys deleted, $5 keys set. Moving the rows
	// (not copying them) locks each: a Take of one of them waits, and then
	// finds it gone from the old ID, so a flash is shown once.
	q.moveValues = t(`UPDATE {V} SET session_id = $2
WHERE session_id = $1 AND NOT $3 AND key <> ALL($4::bytea[]) AND key <> ALL($5::bytea[]) AND ` + claimed)
	// dropValues: what did not move (a forwarding entry holds no values).
	q.dropValues = t(`DELETE FROM {V} WHERE session_id = $1 AND ` + claimed)
	// insertValues: $3 keys, $4 values.
	q.insertValues = t(`INSERT INTO {V} (session_id, key, value)
SELECT $2, u.k, u.v FROM unnest($3::bytea[], $4::bytea[]) AS u(k, v) WHERE ` + claimed)

	// take: $1 id, $2 key, $3 now, $4 cutoff. The key share lock makes a
	// concurrent Delete wait, or (when it came first) leaves no row, so a
	// Take never reports a live session without the key when the session
	// was deleted under it.
	q.take = t(`WITH s AS (
	SELECT * FROM {T} WHERE id = $1 FOR KEY SHARE
), d AS (
	DELETE FROM {V} WHERE session_id = $1 AND key = $2
	AND EXISTS (SELECT 1 FROM s WHERE ` + liveAt("s", "$3", "$4") + `)
	RETURNING value
)
SELECT (SELECT count(*) FROM d), (SELECT value FROM d), ` + meta + `
FROM (VALUES (1)) AS x(one) LEFT JOIN s ON true`)

	// deleteChain: $1 IDs, $2 only rows of this user (NULL: any), $3 now,
	// $4 IDs to leave alone. Deletes each ID and every ID its forwarding
	// entries and markers lead to, locking them in ID order. A row renewed
	// while the statement waited comes back with a successor the chain
	// did not reach, for the caller to delete next.
	q.deleteChain = t(`WITH RECURSIVE chain(id, successor, depth) AS (
	SELECT id, successor, 0 FROM {T} WHERE id = ANY($1::text[])
	UNION ALL
	SELECT n.id, n.successor, c.depth + 1 FROM chain c JOIN {T} n ON n.id = c.successor WHERE c.depth < 16
), locked AS (
	SELECT l.id FROM {T} l
	WHERE l.id IN (SELECT id FROM chain) AND ($2::bytea IS NULL OR l.user_id = $2) AND l.id <> ALL($4::text[])
	ORDER BY l.id FOR UPDATE
)
DELETE FROM {T} d USING locked WHERE d.id = locked.id
RETURNING d.id, d.state, d.successor, (d.state = 'live' AND d.successor IS NULL AND d.deadline > $3) AS live`)

	// deleteUser: $1 user, $2 the ID to keep ('' for none), $3 now. Keeps
	// the ID and whatever it was renewed to; deletes every other row of
	// the user, forwarding entries and markers too (their successors come
	// back, for the caller to delete unless this statement did).
	q.deleteUser = t(`WITH RECURSIVE keep(id, depth) AS (
	SELECT $2::text COLLATE "C", 0 WHERE $2 <> ''
	UNION ALL
	SELECT n.successor, k.depth + 1 FROM keep k JOIN {T} n ON n.id = k.id WHERE n.successor IS NOT NULL AND k.depth < 16
), locked AS (
	SELECT l.id FROM {T} l WHERE l.user_id = $1 AND l.id NOT IN (SELECT id FROM keep)
	ORDER BY l.id FOR UPDATE
)
DELETE FROM {T} d USING locked WHERE d.id = locked.id
RETURNING d.id, d.state, d.successor, (d.state = 'live' AND d.successor IS NULL AND d.deadline > $3) AS live`)

	// list: $1 user, $2 now. The metadata only; values are never read.
	q.list = t(`SELECT s.id, ` + meta + ` FROM {T} s
WHERE s.user_id = $1 AND s.state = 'live' AND s.deadline > $2 AND s.expires_at > $2`)

	// walk: $1 the last ID of the batch before ('' for the first), $2
	// now, $3 how many. Keyset pagination on the primary key: each batch
	// starts where the last ended, so it costs the same however far the
	// walk has come, and holds nothing (no cursor, no transaction) between
	// batches. The metadata only; values are never read.
	q.walk = t(`SELECT s.id, ` + meta + ` FROM {T} s
WHERE s.id > $1 AND s.state = 'live' AND s.deadline > $2 AND s.expires_at > $2
ORDER BY s.id LIMIT $3`)

	// sweep: $1 now, $2 batch. SKIP LOCKED: rows a request (or another
	// process's janitor) holds are left for the next sweep, so no janitor
	// ever waits, and none makes a request wait.
	q.sweep = t(`DELETE FROM {T} WHERE id IN (
	SELECT id FROM {T} WHERE deadline < $1 ORDER BY deadline LIMIT $2 FOR UPDATE SKIP LOCKED)`)
	return q
}
