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
//   - BenchmarkMemory and BenchmarkRedis: a session library on a framework,
//     on its in-memory or Redis store;
//   - BenchmarkFloor: the framework alone, the same routes without session
//     middleware (library "none");
//   - BenchmarkRedisRaw: go-redis alone, one GET, or a GET then a SET;
//   - BenchmarkScaling: sessionkit's costs as sessions and stores grow.
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
// profile.sh takes CPU and allocation profiles of sessionkit's hot paths
// and lists their top entries.
package bench
