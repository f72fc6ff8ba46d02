// Package soak holds the fault-under-load tests of sessionkit: a bounded
// soak that drives real HTTP requests through the net/http adapter
// (sessionhttp) and a real core.Manager, from many goroutines over many
// sessions, on the in-memory store, on Redis and on PostgreSQL, while the
// store fails and comes back. The package has no API; its tests are what it is for.
//
// # What a run does
//
// Sessions are created first, each with a "seed" value, and every session
// is shared by several worker goroutines, each of which writes a key of its
// own in it ("k07" for worker 7). Then the workers put, delete and read
// their keys, read whole sessions, and create fresh sessions of their own,
// in a random mix, while a controller takes the store down and brings it
// back:
//
//   - Redis: a server of the test's own is stopped (SIGTERM), started again
//     on its port, then killed (SIGKILL) and started again. It runs with an
//     fsynced append-only file (redistest.StandaloneDurable), so what it
//     acknowledged survives.
//   - PostgreSQL: a server of the test's own (pgtest.New) is shut down fast
//     (SIGINT), started again on its port, then crashed (SIGQUIT, an
//     immediate shutdown) and started again, which recovers from its
//     write-ahead log. fsync is off, which a crash of the server process
//     does not defeat: what it acknowledged survives.
//   - Redis Cluster (skipped with -short): one master of a durable
//     three-master cluster is killed and started again; the sessions on the
//     other masters keep working meanwhile.
//   - Redis Sentinel (skipped with -short): a master with a replica and
//     three sentinels (redistest.NewSentinel), through NewClient's Sentinel
//     client; the master is killed (SIGKILL) and the sentinels promote the
//     replica. A second run cuts the replica off from its master for the
//     last 100 ms before the kill, so that the failover loses the writes
//     acknowledged meanwhile, as a lagging replica would.
//   - Redis Cluster with replicas (skipped with -short): three masters and
//     their replicas (redistest.NewClusterWithReplicas); one master is
//     killed and its replica promoted, while the other masters serve.
//   - In-memory: first the soak runs with no fault at all, where not one
//     503 is allowed. Then a wrapper simulates an outage that fails every
//     call, half of the failed writes only after applying them (the
//     acknowledgement lost on the way back); then a spell in which every
//     write is applied and answered 503; then another outage.
//
// Every phase is bounded by a count of requests answered 200 and by time,
// the whole load by a deadline and by a count of requests sent. A worker
// backs off for a few milliseconds after a 503, as a client would.
//
// Each worker keeps a ledger of its own writes: the last one answered 200,
// and the later ones answered 503, which may or may not have landed. After
// the run every session is read back through the same HTTP handler, never
// by looking into the store.
//
// # Failovers and the replication window
//
// Replication is asynchronous, so a failover may lose what the dead master
// acknowledged and had not yet sent its replica. The soak bounds that
// loss. Before the kill it opens a replication window, then waits until
// the replica has caught up with the master's replication offset (sampled
// after the window opened: every write answered before it is in it), then
// kills the master and reads every session from the replica, which, with
// its master dead and before its promotion (its role is checked after), holds
// what the promotion starts from. The window closes when the promotion is
// seen. In the ledger a write answered 200 in the window is kept after the
// older states instead of replacing them: a read after the failover may
// find an older state, but only one it could have found before that
// write, and a read outside the window makes what it saw the last landed
// state for good. A session created in the window may be gone: its cookie
// is then an unknown token, which is counted, not taken for fail-open.
//
// After the run, the replica's copy is held to the log of writes: every
// write acknowledged before the window must be on it (else a lost write).
// The test output lists the writes acknowledged in the window or in flight
// at the kill, each as acknowledged and kept, acknowledged and lost with
// the master, or refused (503) and landed or not, with their counts, the
// time to the promotion, and when the failed-over sessions were served
// again.
//
// # With the near cache
//
// TestSoakRedisCache, TestSoakRedisSentinelCache,
// TestSoakRedisClusterFailoverCache and TestSoakPostgresCache run the
// restart, Sentinel failover, Cluster promotion and PostgreSQL
// shutdown-and-crash soaks again with the store's near cache on
// (redisstore.Options.Cache, pgstore.Options.Cache; MaxStaleness 250 ms),
// on a smaller plan (16
// workers, 32 sessions, a quota of 500 per phase): the same checks, so a
// stale read served from the cache is a read back in time. Beside the
// workers, four revokers each create a session (logged in as a user of
// its own) through the store under test, on a manager of their own, load
// it three times so that the cache holds it, revoke it through a second
// store with its own client (or pool) and cache (another process), by Delete and
// DeleteUser in turn, and load it again until it is gone and MaxStaleness
// has passed. A load begun more than MaxStaleness (+20 ms) after the
// revocation returned that still found the session is a violation, but
// for a revocation answered in a replication window (which the failover
// may lose). The store's CacheStats are sampled as each phase begins:
// the cache must have served hits, each fault must have made Loads
// bypass it (Redis tracking or the PostgreSQL listener lost: the cache is
// off and dropped), the cache must come back; once it has, eight more revocations are checked, and the
// cache must serve hits again. The output lists the counters per phase,
// and the revocation-to-unseen times (from the revocation's return to the
// end of the first load that found the session gone).
//
// # What it proves
//
//   - No panic, and no data race under -race.
//   - Every request is answered, in bounded time, with 200 (or 404 for a
//     key never written or deleted), or 503 with the generic body; never a
//     500. The in-memory store never answers 503 unless its outage is
//     simulated, nor Redis or PostgreSQL before its first fault. Every request that
//     starts after the store went down and ends before it is started again
//     is answered 503 (except in the cluster, where only one master is
//     down).
//   - No fail-open: a request that carries a valid cookie is never served
//     as a new session and never gets a Set-Cookie, during an outage or
//     after it; no valid token is ever reported unknown or expired. A new
//     session answered 200 carries a cookie; one answered 503 carries none.
//   - Every acknowledged write is still readable afterwards (in a
//     failover: every write acknowledged before the replication window),
//     and reads never go back in time (but to a state before a write the
//     window lost): a key holds the value of the last write its
//     worker saw acknowledged, or of a later write answered 503 (which may
//     have landed), and once a read has seen such a write, never an older
//     one. This holds for keys written concurrently by different workers in
//     the same session: distinct-key writes are never lost.
//   - No write is dropped behind a 200 (no EventWriteDropped), exactly the
//     sessions answered 200 were created (EventCreated), and no value turns
//     up in the wrong session or under the wrong key.
//   - The outage really happened and really ended: requests were answered
//     503 while the store was down, and 200 after it came back.
//   - With the near cache, a session revoked by another process is never
//     served past MaxStaleness, through restarts and failovers, and the
//     cache is off while its transport (tracking, the listener) is lost and
//     on again after.
//   - No goroutine outlives the test (go.uber.org/goleak), once the
//     manager, the store and the Redis client (or PostgreSQL pool) are
//     closed.
//
// Control tests run the same soak against stores broken on purpose (one
// that acknowledges writes it drops, one that writes a session back whole
// so that concurrent writers of different keys overwrite each other, one
// whose reads report sessions missing while its writes work, one that
// panics) and require the soak to catch each. TestLedger holds the ledger's
// rules to every legal and illegal read, TestLedgerReplicationWindow does
// the same around a replication window, TestFailoverReport holds the
// failover report to what a replica may have kept, and
// TestLeakCheckCatchesLeak shows the goroutine check finding a leaked
// goroutine: the checks can fail.
package soak
