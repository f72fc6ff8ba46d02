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
// Every key starts with Options.Prefix ("session:" by default). A new
// anonymous session is one RESTORE of its hash, a command of the ACL
// category @dangerous: for an ACL user that may not run it (-@dangerous
// without +restore) a new session is written, as before RESTORE was used,
// under the scratch key "{" + its session key + "}:new" and renamed into
// place, a key that starts with "{" (the hash tag keeps it in the session
// key's Cluster slot). Such a user needs both patterns, ~session:*
// ~{session:*; a user with +restore, the first alone.
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
// the prefix, a scratch key (see Data layout) starts with "{", and a key
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
//	               deadline in the user's expiry index; 0 when the near
//	               cache serves it, see Near cache)
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
//	               RESTORE, no script, or one MULTI/EXEC for a user that
//	               may not RESTORE, whose first Create costs +1 for the
//	               RESTORE refused; +2 when the cap evicts sessions,
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
// For the same reason a new session (no user yet) is no script but one
// RESTORE, of a payload in DUMP's format that the store builds (the
// listpack HSET would make, or a plain hash when it is too big for one):
// it creates the hash and its TTL in one step, and refuses a taken ID
// (any key, tombstones included) as the script's check did. What a new
// session could cost, measured interleaved on one busy two-core VM
// (BenchmarkCreateVariants, Redis 7.0; medians of 5 to 10 runs, server
// time from INFO commandstats):
//
//	                                             server    client
//	SET k v NX PX ttl (200 bytes, as the peers)   2.7 µs   39.6 µs
//	RESTORE, listpack (what the store sends)      4.2 µs   46.7 µs
//	RESTORE, plain hash                           5.5 µs   45.5 µs
//	MULTI HSET PEXPIRE RENAMENX DEL EXEC         10.3 µs   59.8 µs
//	EVALSHA of EXISTS, HSET, PEXPIRE             14.8 µs   56.2 µs
//
// (a new session's record: its eight metadata fields and one value).
// RESTORE of the listpack took 1.0 to 1.7 times the SET's server time
// in each run: the server checks the payload's checksum and takes the
// listpack as it is, where HSET builds it field by field; a script pays
// for its interpreter besides. A hash with a field or value over 64
// bytes, or over 128 fields, goes as a plain hash, which the server
// builds as HSET would; so does every hash for a server before 7.0,
// which does not read the listpack's RDB version. The transaction is the
// fallback for users who may not RESTORE.
//
// # Near cache
//
// With Options.Cache set, the Store keeps the records it reads in process
// memory and serves a Load from there, sending no command at all, until
// Redis says the record changed. Redis says so itself: server-assisted
// client-side caching (CLIENT TRACKING), on a connection of the Store's
// own to every node that holds sessions. It is off by default.
//
//	st, err := redisstore.New(client, redisstore.Options{
//		Cache: &redisstore.CacheOptions{MaxBytes: 64 << 20, MaxStaleness: time.Second},
//	})
//	...
//	defer st.Close() // before client.Close()
//
// What it guarantees, each proven by a test on real servers, standalone
// and Cluster (cache_test.go):
//
//   - Read-your-writes in one process: every write of this Store (Create,
//     Update, Renew, Delete and each link it follows, Take, the touch of
//     a Load, each session DeleteUser or a cap eviction revokes) drops
//     the records it wrote before it returns, whether it succeeded or
//     not, and refuses any fill of them in flight; so the next Load of
//     this process reads Redis. This does not wait for Redis's
//     invalidation. The one exception is the manager's Update (no Meta)
//     of a session the cache holds: once Redis acknowledges it, it puts
//     the record it wrote in place of the old one (write-through), so
//     that the next Load is a hit, and a request that reads and writes a
//     cached session costs one round trip (TestCachedReadWriteIsOneRoundTrip;
//     below, Writes through).
//   - Another process's write or revocation is seen within the
//     invalidation delivery time, as long as invalidations arrive:
//     Redis announces the change to every tracking connection in the
//     same pass of its event loop as it answers the write. Measured on
//     loopback (Redis 7.0, a busy two-core VM, BenchmarkCrossProcess,
//     6 runs of 1000 revocations over two sessions), from the revoking
//     Delete's return until the other process's cache has dropped the
//     session: p50 1 to 14 µs, p99 30 to 49 µs standalone; p50 2 to 19
//     µs, p99 35 to 55 µs on a three-master Cluster. A reader spinning
//     on its Loads (TestCacheCrossProcess, BenchmarkCrossProcess/seen)
//     sees the revocation after p50 33 to 77 µs, p99 0.24 to 0.5 ms; on
//     a machine loaded past its two cores its p99 rose to 5 to 9 ms: the
//     spinning reader takes the CPU from the servers and the trackers it
//     waits for.
//   - Never staler than MaxStaleness (1s by default, at most a minute),
//     even if invalidations are lost: an entry older than that, counted
//     from before the read that filled it was sent, on the monotonic
//     clock, is never served. That bounds every failure below, and is
//     the only bound while a connection is dead but not yet known to be.
//   - When tracking is lost, the cache is dropped and bypassed until it
//     is back: a tracking connection that fails (the node crashed or
//     restarted, CLIENT KILL, a network error), or stays silent through
//     two heartbeats (1s each, a PING after the first), turns the cache
//     off at once (every entry is disabled by one atomic store, then
//     dropped) and every Load reads Redis until a new connection's
//     subscription is confirmed, which is after tracking is on again.
//     In a Cluster, this applies to the whole cache when any master's
//     connection fails; the masters are listed again every second, and
//     a master that appears (a replica promoted, a resharding) turns the
//     cache off until it is tracked. The list is the client's slot map,
//     so a new master that owns no slot yet is not on it: while a slot
//     is being imported into one, the writes sent there (ASK) go
//     unannounced, and what the cache holds of them is bounded by
//     MaxStaleness alone until the master owns its first slot. An
//     invalidation with no key list (FLUSHALL, FLUSHDB) drops the whole
//     cache.
//   - Deadlines are checked on every cached read, as Load checks what it
//     reads from Redis: against the caller's Now, by the session's own
//     idle timeout where it has one, the call's otherwise, and its
//     absolute lifetime. A record past a deadline is never served from
//     the cache: Redis is read, and answers ErrExpired or ErrNotFound.
//     A record due for a touch (Now-LastSeen at least TouchAfter) goes to
//     Redis too, whose touch script extends the idle deadline, so the
//     cache never keeps a session from being touched.
//   - A byte bound: the cache estimates what each record takes (its
//     strings and values, plus 448 bytes an entry, 96 a value and 112 a
//     metadata entry: measured with runtime.MemStats, the estimate is 4
//     to 8% above the heap the entries really take) and keeps the total
//     within MaxBytes (64 MiB by default), evicting entries not read
//     since the eviction's last pass over them first. It is sharded (up
//     to 64 shards, each with its share of the bound, no smaller than
//     256 KiB); a record over its shard's share is not cached. Stale
//     entries are swept every MaxStaleness (at most every second).
//   - Its counters are observable: Store.CacheStats (hits, misses,
//     bypasses, invalidations, flushes, evictions, entries, bytes,
//     whether tracking is up, and why it last failed).
//
// The Redis user needs, besides what the store needs anyway, CLIENT ID,
// CLIENT TRACKING, SUBSCRIBE and PING, and the channel
// __redis__:invalidate (in ACL terms: +client|id +client|tracking
// +subscribe +ping &__redis__:invalidate; Redis 7 gives a new user no
// channel). Without them the store works uncached, every Load a bypass,
// and CacheStats.TrackingError names the refusal (NOPERM).
//
// A cached Load sends no command (TestCachedLoadSendsNoCommand: none
// from the client's hook, none in INFO commandstats of every server) and
// costs what a memstore Load costs: one copy of the record, which the
// caller may change (Values and Meta.Metadata are shared, read-only for
// both). BenchmarkCachedLoad, one run of both, medians of 5 (200 ms
// each, on the same busy two-core VM):
//
//	                       sequential        parallel (2 goroutines)
//	memstore Load             370 ns            288 ns
//	cached Load, standalone   482 ns (1.30x)    266 ns (0.92x)
//	cached Load, Cluster      498 ns (1.35x)    429 ns (1.49x)
//
// (another run: 1.23x and 1.00x sequential, 1.20x and 1.68x parallel).
// A hit is a shard's read lock, a map lookup, the checks and the copy,
// which is the one allocation; the copy is what memstore's Load pays too.
//
// Not cached: forwarding entries, markers and missing sessions (a Load of
// an unknown token always reads Redis, so that probing tokens cannot fill
// the cache), ListUser and Walk.
//
// How it is tracked. Each node (the server of a standalone client, the
// master a Sentinel client follows, each master of a Cluster, and each
// replica too when the Cluster client reads from replicas, each shard
// of a Ring) gets a connection from a go-redis client of the Store's own,
// built from that node's client options (the same address or Sentinel
// dialer, TLS and credentials; one connection, RESP2). As it connects it
// runs CLIENT ID, then
//
//	CLIENT TRACKING ON REDIRECT <its own id> BCAST PREFIX <Prefix>0 ... PREFIX <Prefix>f
//
// and subscribes to __redis__:invalidate: a RESP2 connection in Pub/Sub
// mode that tracking redirects to gets each invalidation as a message on
// that channel, a batch of key names per prefix and event-loop pass.
// BCAST announces every change of a key under the prefixes, whoever made
// it, so reads need not go through the tracking connection and the
// server keeps no table of which client read which key; the sixteen
// prefixes are those of session keys (the prefix and a hex digit), not
// of the user index, whose every write would otherwise be announced too.
// The price of BCAST: every process receives every session change, not
// only those of the sessions it holds, one message per pass of the
// server's event loop. A Sentinel failover reaches the tracker as a
// dropped connection: the failed master's, or the demoted one's, which
// Sentinel closes (CLIENT KILL TYPE normal and pubsub) when it
// reconfigures it; the tracker then dials the new master through the
// Sentinel dialer.
//
// Fills race with invalidations. A Load that misses notes, before its
// read, the cache's generation (moved on by every loss of tracking and
// every flush) and an invalidation counter of its key's stripe; it fills
// the entry only if both are unchanged once the reply is in, so a read
// answered before a change can never land after that change's
// invalidation (TestCacheNoStaleFillUnderWrites).
//
// Writes through. Redis announces this Store's own Updates to its trackers
// as it announces everyone's, and folds the changes of one event-loop pass
// into one announcement, so an announcement of "a key this Store wrote"
// may hide another process's change of it in the same pass: neither
// dropping the written-through record on it (which throws the
// write-through away) nor keeping it (stale until MaxStaleness) will do.
// So every script that changes a session key, in every Store, also sets
// and at once deletes a marker key naming the session and the Store (one
// of two random tags): <prefix><first digit of the ID>{<session
// key>}<tag>, in the same tracking prefix and, by its hash tag, the same
// Cluster slot; it costs Redis a SET and a DEL per change and no memory
// (these write markers are not the markers a Renew without grace leaves).
// A Store marks its write-through Updates with one tag and every other
// change with another. An announcement that lists the session with markers
// of this Store's write-through tag only is passed over; any other marker
// (another Store's Update, Delete, Renew or revocation, or this Store's
// own change that does not write through, a Delete whose reply was lost,
// say), or none, drops the record as before (TestCacheFoldedAnnouncement).
// Two Updates of one session in flight at once in this process, whose
// order on the server is unknown, leave nothing cached, and neither does a
// fill racing them (TestCacheWriteThroughUnderConcurrentWrites); nor does
// an Update that failed in part
// (TestCacheFailedUpdateIsNotWrittenThrough), or one in a Cluster slot
// being migrated, whose marker cannot be set there
// (TestCacheUpdateDuringSlotMigration). A written-through record keeps the
// age of the record it was made from, so MaxStaleness still bounds what a
// lost invalidation can hide; after an Update that wrote through and
// failed (applied or not, unknown), this Store's markers explain nothing
// for a minute. A Cluster client that reads from replicas does not write
// through: a replica applies a write after the master acknowledged it, so
// a fill from it must be refused by the replica's announcement, even of
// this Store's own write.
//
// What write-through cannot see: a change made without a marker (a
// command by hand, a version of this package from before markers during
// a rolling upgrade, a memory eviction) in the same event-loop pass as
// this Store's own Update of that session, microseconds apart; or a
// change (another process's, or a later write-through of this Store's
// own) landing between two copies of one Update that go-redis resent
// after a timeout, the first run late. Either is seen after MaxStaleness
// at the latest. CacheOptions.NoWriteThrough turns write-through off,
// for such deployments.
//
// Why this way. The candidates, measured on loopback against Redis 7.0
// (2000 writes, 3 runs; from before the write is sent until a reader has
// the invalidation):
//
//   - go-redis v9.23's own client-side cache: experimental, serves only a
//     standalone *redis.Client (UniversalOptions passes it to the
//     standalone client only), so neither Sentinel nor Cluster; it
//     caches raw replies per command on pooled RESP3 connections whose
//     pushes a background drainer reads on a timer. Not enough.
//   - CLIENT TRACKING BCAST on a RESP3 connection per node, through
//     go-redis's push-notification API (a handler for "invalidate"
//     registered on a client of the Store's own, the pushes read by a
//     blocking receive): works on every topology; p50 53 to 58 µs, p99
//     102 to 115 µs. It needs RESP3 from the node (not every proxy or
//     managed Redis speaks it) and relies on the newer push registry.
//   - The same with REDIRECT to the tracking connection itself, subscribed
//     on RESP2 (chosen): p50 43 to 49 µs, p99 87 to 102 µs. Both are the
//     write's own round trip: the invalidation and the reply leave the
//     server together. It works wherever CLIENT TRACKING does (Redis 6.0
//     and later, any protocol the application's client speaks), through
//     go-redis's long-standing Pub/Sub API, whose subscription
//     confirmation marks when tracking is (again) on.
//   - rueidis as an optional client: its client-side caching covers every
//     topology, by the same server mechanism (so no faster), but it
//     would be a second client to configure, with connections and a
//     dependency of its own, for every user of the cache, while every
//     write of the store goes through go-redis anyway and must invalidate
//     the same cache. Not taken.
//
// Costs besides memory: per process, one connection and one goroutine per
// node, and a goroutine that sweeps the cache and, for a Cluster or Ring,
// lists the nodes every second (ForEachMaster: one CLUSTER SLOTS). On the
// server, BCAST keeps no per-key state; the announcements cost it about
// what a Pub/Sub message per event-loop pass costs, per process.
//
// # Atomicity
//
// What must happen at once is one Lua script on one key (for a new
// session, one RESTORE, or one MULTI/EXEC in one slot): the check and
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
// bound its wait for a stalled Redis. The near cache needs the client to
// be a *redis.Client (standalone or Sentinel), a *redis.ClusterClient or
// a *redis.Ring, whose nodes it can reach with their own options.
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
