// Package redisstore keeps sessionkit sessions in Redis, through any
// go-redis v9 UniversalClient: a standalone server, a Sentinel-managed
// master or a Redis Cluster. It implements store.Store and store.Walker,
// and passes the conformance suite in stores/storetest against a
// standalone server and a three-master cluster.
//
//	client, err := redisstore.NewClient([]string{"127.0.0.1:6379"}, 0)
//	...
//	st, err := redisstore.New(client, redisstore.Options{Prefix: "session:"})
//	...
//	m, err := core.New(core.Config{Store: st})
//
// A production Redis, with a password, an ACL user or TLS, is one URL
// away: NewClientURL("rediss://app:PASSWORD@redis.internal:6380/0"), with
// the Cluster (?addr=) and Sentinel (?master_name=) forms of go-redis's
// parsers (see ParseURL). Run Check once at start-up: it names what stops
// the client (authentication required, a wrong password, TLS required,
// ...) instead of letting every request fail.
//
// It needs Redis 6.2 or later (for ZADD GT; it is tested against 7.0).
// Redis Cluster works with no configuration: every script touches the
// keys of one slot.
//
// # Data layout
//
// Every key starts with Options.Prefix ("session:" by default), but one:
// a new anonymous session is first written under the scratch key
// "{" + its session key + "}:new" and renamed into place, which starts
// with "{" (the hash tag keeps it in the session key's Cluster slot). An
// ACL user for the store needs both patterns: ~session:* ~{session:*.
//
// A session is one hash at Prefix + id, where id is the store ID the
// manager hands over: the hex SHA-256 of the session token. The token itself
// never reaches Redis. The hash holds:
//
//	v:<key>   the encoded value of each session key, one field per key, so
//	          a write sends only the keys that changed and two requests
//	          writing different keys never overwrite each other
//	m:uid     the user ID ("" for an anonymous session)
//	m:ct m:it m:ls m:exp
//	          CreatedAt, IssuedAt, LastSeen, ExpiresAt, as Unix milliseconds
//	m:dl      the deadline at the last write or touch: the earlier of
//	          LastSeen+idle and ExpiresAt
//	m:ua m:ip the user agent and IP recorded at login
//
// and what the login chose, each field only when set (a record without
// one has the zero value; an Update whose Meta leaves one unset deletes
// it):
//
//	m:idle    the session's own idle timeout (store.Meta.Idle), in whole
//	          milliseconds, at least 1
//	m:rem     "1": the login asked to be remembered
//	m:lbl     the session's label
//	m:md      the application's metadata, as netstrings (each key, then
//	          its value, as <length>:<bytes>, in increasing order of
//	          keys): "6:device,5:phone," is {"device": "phone"}. Byte-exact
//	          for any string, with one encoding per map
//	m:bind    the digest of the client the session is bound to
//
// Reads decode every field strictly: one that does not parse (a time that
// is no decimal integer, an own idle timeout that is not positive, m:rem
// other than "1", m:md that is not netstrings in order) makes the record
// corrupt (ErrCorrupt). The scripts check the times and m:idle, which
// they use, and m:rem; they do not parse m:md, so an Update or a Take
// writes through a malformed one, which Load, Renew and ListUser report.
//
// Wherever the store applies an idle timeout, the session's own (m:idle)
// replaces the call's: the liveness check of every read and write, the
// deadline a write or touch sets, the TTL and the user index's deadline.
// Its TTL is always the deadline less the Now of the call that wrote it
// (PEXPIRE, in milliseconds): min(idle, lifetime left). Redis removes a
// session when it ends; until then every read also checks the deadline
// against the caller's Now and the idle timeout.
//
// After a Renew with a grace period the old ID's hash becomes a forwarding
// entry: m:next (the successor's ID), m:gend (the end of the grace period)
// and m:at (when, by the server's clock), with a TTL of the grace period, so
// Redis ends it, not a timer in some process. After a Renew without grace
// the old ID holds a marker (m:gone, the successor's ID) for a minute,
// which loads as missing; it lets an interrupted Renew be undone without
// ever undoing a concurrent logout, and lets a Delete of the old ID find
// the successor. Until the Renew's second round trip, either also keeps a
// copy of the record (c:<field> for every field, the login's included,
// and m:till, its expiry) and lives at
// least a minute: a claim that go-redis sends again after a lost reply
// gets the record from it, and a Renew that never got the claim's reply
// restores the record from it. The copy briefly doubles the session's
// memory; afterwards a forwarding entry takes 672 bytes instead of 248
// (measured with a 2 KB record: HDEL does not shrink the hash's
// allocation). A revocation tombstone (m:rev), also short-lived, bars an
// ID that DeleteUser or a cap eviction found in the index, or that Delete
// found named by a forwarding entry or marker, before its record had
// landed; one also takes the place of every record that Delete, DeleteUser
// or an eviction deletes, so that a write of it that go-redis is still
// retrying (the first run landed, its reply did not) cannot bring it back.
//
// Each user's sessions are indexed under the SHA-256 of the user ID (user
// IDs are application input, which never becomes part of a key as it is),
// in three keys that share the hash tag {sha256hex}, and so one cluster
// slot:
//
//	Prefix + "u:{<sha256 of user id>}"    sorted set: session IDs by CreatedAt
//	Prefix + "u:{<sha256 of user id>}:x"  sorted set: the same IDs by deadline
//	Prefix + "u:{<sha256 of user id>}:e"  set: IDs being evicted under the cap
//
// The first orders evictions under the per-user cap. The second holds each
// session's deadline, the earlier of its idle and absolute deadlines: it
// moves forward with every write and touch of the session, a plain ZADD
// GT in the same round trip (for an Update, when this process loaded the
// session and so knows its user, as the manager always does; otherwise one
// more round trip). It lets every addition to the index drop, by the
// server's clock, entries a minute past their deadline, so a session that
// ended by idle timeout leaves the index then, not when its lifetime would
// have ended; ListUser reads no session past it, and DeleteUser bars none.
// The index's own TTL is that of its longest-lived member's lifetime, so
// an index never outlives its sessions for long. The third keeps evicted
// sessions findable (listed, revocable) should their deletion fail; once
// it succeeded, they leave it.
//
// Index entries are removed when their session is known to be gone: by
// Delete, Renew, DeleteUser and an eviction, and a minute past their
// deadline. An entry can outlive its session (one whose removal failed);
// such entries are never trusted, only skipped. The converse, a live
// session's entry with a deadline older than its session's, can only
// follow a write whose index command failed where the session's did not
// (Redis Cluster, the index's node failing); that Update reports the
// failure, and the session's next write moves the entry again.
//
// Options.SessionKey and Options.UserKeys compute these keys, for use with
// redis-cli.
//
// # Walking
//
// Walk (store.Walker) goes over every session, for an admin page or a bulk
// purge: SCAN with MATCH Prefix followed by exactly 64 hex digits (the
// prefix's glob characters escaped), TYPE hash and COUNT 500, then one
// pipeline of HMGET of the metadata fields (never a value) per batch of
// keys, so that it holds one batch at a time however many sessions there
// are. Only session keys have that shape: an index key has "u:{" after
// the prefix, a scratch key of createAnonymous starts with "{", and a key
// of a store with another prefix is longer, shorter or different before
// its 64 digits. In a Redis Cluster it scans every master in turn
// (ClusterClient.ForEachMaster), and each batch's HMGETs go through the
// cluster client, which follows a slot that moved; with a Ring, every
// shard; otherwise the one server behind the client (a Sentinel client's
// master). SCAN may return a key twice, so a walk may show a session
// twice; a failover or a resharding during a walk can make it miss
// sessions, as SCAN's cursor belongs to one server. Forwarding entries,
// markers, tombstones, sessions past their stored deadline, keys of other
// types and hashes whose metadata does not decode are skipped: a walk
// over the keyspace must not be stopped by foreign or broken data, which
// Load and ListUser still report for the sessions they are asked about.
//
// # Round trips
//
// Each round trip is one command, one EVALSHA or one pipeline; scripts are
// cached by the server and sent as EVAL only when it does not have them
// (go-redis redis.Script, and a fallback for pipelines).
//
//	Load        1  (a plain HGETALL, checked on the client; inside the
//	               touch window it writes nothing; past it, +1 for the
//	               touch script that extends the idle deadline, with the
//	               deadline in the user's expiry index)
//	Update      1  (the changed keys only, and the deadline in the user's
//	               expiry index; +1 for a session bound to a user when the
//	               change does not name that user and the session's
//	               lifetime, or when the session has an idle timeout of
//	               its own, which the change does not carry: the deadline
//	               moves where the script says; with a Meta naming a user
//	               +1 before, to index it first, and +1 after when it
//	               moved the session away from another user; the manager
//	               never sends Update a Meta)
//	Create      1  (a session with no user, as every new one is: one
//	               MULTI/EXEC, no script; +2 when the cap evicts sessions,
//	               to delete them, then drop them from the index)
//	Renew       2  (+2 when the cap evicts sessions; +1 when the first
//	               fails, to put the record back)
//	Delete      1  (+1 for a session bound to a user; for a forwarding
//	               entry or marker, +1 per link followed to the session it
//	               names, and +1 to delete the links: 3 for a session
//	               renewed once)
//	ListUser    2  whatever the number of sessions, values never read
//	Walk        1 per SCAN of 500 keys, on each master, +1 when it found
//	               session keys (one pipeline of HMGET); values never read
//	DeleteUser  3  (for up to 200 sessions; +2 per further 200, so that
//	               no script call handles more than 200 IDs: with 50,000
//	               sessions, each batch's index script took 1.5 ms
//	               (median, on a busy two-core VM), where the one call
//	               over all of them had taken 150 ms or more; the whole
//	               DeleteUser about 2 s, as before)
//
// A Load, Update or Renew that meets a forwarding entry less than a second
// old checks (EXISTS) that its successor has landed before pointing the
// caller to it: Renew writes the two in separate round trips. (Load asks
// the server's TIME first: the entry's age is on the server's clock.)
//
// Why the read is no script: a script costs Redis far more than the
// commands it runs. Measured on one server (INFO commandstats, usec per
// call), a read-only Load as a script took 11.1 µs of server time, of
// which its HGETALL was 1.7 µs; the plain HGETALL is that 1.7 µs. Redis
// runs one command at a time, so that is the server's capacity for reads,
// up about six times. The touch needs a script (it must not revive a
// session revoked since the read), but runs once per touch window per
// session: a quarter of the idle timeout by default, 7.5 minutes.
// For the same reason a new session (no user yet) is a MULTI/EXEC of
// plain commands, HSET and PEXPIRE on a scratch key in the session key's
// slot and RENAMENX into place, which refuses a taken ID as the script's
// check did: 6.3 µs of server time against the script's 12.
//
// # Atomicity
//
// What must happen at once is one Lua script on one key (for a new
// session, one MULTI/EXEC in one slot): the check and
// touch of Load past its window; the check-and-write of Update, which never recreates a
// missing, revoked or renewed session; the claim that makes exactly one of
// concurrent Renews of an ID win (it reads the record and turns it into a
// forwarding entry in one step); the per-user cap, which one script on the
// user's index enforces by picking the victims.
//
// What spans cluster slots (a session and its user's index; a renewed
// session's old and new IDs) is pipelined, and ordered so that an
// interruption never leaves a session that anyone holds a token for out of
// its user's index. Index entries are never trusted: each is checked against
// the session it names, which must exist, be a record and be bound to that
// user. Stale entries are skipped and pruned lazily.
//
// # Where this store differs from the in-memory one
//
//   - Under a per-user cap, the index counts every indexed session, also
//     those that ended by idle timeout and are not yet pruned (for a
//     minute past their deadline): such a session can take a place under
//     the cap, and, if it is younger than a live one, make that live one
//     the one evicted. Evicted IDs are reported when a live session was
//     deleted, and also when nothing was there any more (the ID may have
//     been a session still being created).
//   - A session created concurrently with a DeleteUser or an eviction that
//     finds its index entry before its record is revoked on arrival: Create
//     succeeds, and the session loads as missing.
//   - A Renew interrupted between its two round trips loses the session
//     (never duplicates it): the old ID forwards to, or was replaced for,
//     an ID that never appears. One whose first round trip failed, so that
//     whether the claim ran is unknown, puts the record back from the
//     claim's copy before it reports the failure (if Redis answers then).
//
// # Clients
//
// NewClient builds a client from addresses, with two defaults suited to a
// store on every request's path (see its doc). With a client built
// elsewhere, set ContextTimeoutEnabled, or a request's deadline will not
// bound its wait for a stalled Redis.
//
// # Errors
//
// ErrNotFound, ErrExpired, ErrExists and *ErrRenewed are returned as the
// contract says. Everything else is a failure, returned wrapped
// ("redisstore: load: ...") so that errors.Is reaches the cause: a network
// error, a context deadline, a server error. Data under a session key that
// this package did not write (a field that does not parse, a key of another
// type) is an error wrapping ErrCorrupt, never a panic and never an empty
// session; Walk alone skips it (see Walking).
package redisstore
