// Package bench compares sessionkit with the session libraries people use
// with each framework it supports, in one run, on the same routes.
//
// Everything is in the _test.go files of this package (run it with
// `make bench` from the repository root, or `go test -run '^$' -bench .`
// here); cmd/benchreport turns the output into docs/BENCHMARKS.md and
// docs/bench.svg. It is a module of its own so that the peers it measures
// never enter sessionkit's go.mod.
//
// # Names
//
// Benchmarks are named Top/framework/library/Scenario:
//
//   - BenchmarkMemory, BenchmarkRedis and BenchmarkPostgres: a session
//     library on a framework, on its in-memory, Redis or PostgreSQL store;
//   - library "sessionkit-cache" in BenchmarkRedis: sessionkit on
//     redisstore with its near cache on (CacheOptions at their defaults),
//     measured once tracking is up; its ReadOnly reads make no Redis
//     round trip once cached (roundtrips/op, and cache-hits/op and
//     cache-reads/op from Store.CacheStats);
//   - library "sessionkit-cache" in BenchmarkPostgres: sessionkit on
//     pgstore with its near cache on (CacheOptions at their defaults,
//     LISTEN/NOTIFY invalidation), measured once it is listening; the
//     same metrics, and its writes pay for the triggers the cache needs;
//   - BenchmarkRedisCluster: the ReadOnly scenario of sessionkit and
//     sessionkit-cache on a three-master Redis Cluster of its own;
//   - BenchmarkCrossProcess: two managers with clients and cached
//     stores of their own on one Redis (standalone, Cluster); one
//     revokes a session the other has cached, and p50-µs and p99-µs are
//     how long the other's ValidateToken still accepts it;
//   - BenchmarkFloor: the framework alone, the same routes without session
//     middleware (library "none");
//   - BenchmarkRedisRaw: go-redis alone, one GET, or a GET then a SET;
//   - BenchmarkPostgresRaw: pgx alone, one SELECT, or a SELECT then an
//     UPDATE;
//   - BenchmarkScaling: sessionkit's costs as sessions and stores grow;
//   - BenchmarkPostgresListUser1000 and BenchmarkPostgresSweep100k:
//     listing a user's 1,000 sessions on pgstore, and one janitor sweep
//     of 100,000 expired ones (rows/s).
//
// # Scenarios
//
//   - NewSession: no cookie; the handler sets one value (POST /set), so the
//     library creates a session and sends its cookie;
//   - ReadOnly: a valid cookie; the handler reads that value (GET /get);
//   - ReadWrite: a valid cookie; the handler increments a counter
//     (POST /incr);
//   - ReadOnlyParallel: ReadOnly under b.RunParallel, a session per
//     goroutine.
//
// Every benchmark validates its responses before and after the timed loop
// (the cookie is set and names a stored session, the read returns the
// value, the counter went up by exactly one per iteration), and counts any
// non-200 response inside it, so a broken configuration fails instead of
// producing fast numbers.
//
// The Redis benchmarks start a redis-server of their own on a free
// loopback port (internal/redistest) and skip, loudly, when there is none
// on PATH. They count round trips in the client and commands on the
// server (INFO commandstats deltas over the timed loop).
//
// The PostgreSQL benchmarks start a server of their own (internal/pgtest:
// Debian's binaries, as the postgres user when run as root, on a free
// loopback port, autovacuum off) and give each library an empty schema
// on it. Every library runs on pgx v5 (sessionkit on pgxpool, the peers
// on database/sql with pgx's stdlib driver), so one kind of counter serves
// all: round trips on the wire (a client write after the server last
// answered starts one), statements by a pgx tracer, and writes as the
// transaction IDs the server assigned over the timed loop (PostgreSQL
// spends one only on a transaction that writes or locks a row).
// TestPostgresReadOnlyWritesNothing holds sessionkit's read-only request
// to none, on every framework.
//
// profile.sh takes CPU and allocation profiles of sessionkit's hot paths
// and lists their top entries.
package bench
