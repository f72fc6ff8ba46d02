// Package redistest starts real redis-server processes for tests: a
// standalone server and a three-master Redis Cluster, on free loopback ports
// (127.0.0.1 only), each in a temporary directory of its own (the test's
// t.TempDir(); for the shared ones, one removed when the binary ends) with
// persistence off (--save "" --appendonly no) unless asked for
// (StandaloneDurable), stopped by pid when the test (or, for the shared
// ones, the test binary) ends.
//
// It never connects to a Redis it did not start: every address it hands out
// belongs to a process it launched, so a test may flush or break it freely.
// A developer's own server (on 6379, say) is never touched.
//
// # Dedicated or shared
//
// Standalone and NewCluster give a test its own processes, which it may stop
// and start again on the same port (fault tests). StandaloneDurable and
// NewClusterDurable give servers whose acknowledged writes survive that,
// even a SIGKILL: they append every write to a file and fsync it before
// replying.
// SharedStandalone and SharedCluster hand every test of the binary the same
// processes, started on first use and stopped by Main when the binary's
// tests are done; tests that share one keep apart by a key prefix of their
// own (Prefix). Starting a cluster takes a couple of seconds, so the
// conformance suite shares one.
//
// # Without redis-server
//
// When redis-server (or, for a cluster, redis-cli) is not on PATH, the
// calling test is skipped with a loud message, except when the environment
// variable CI is "true": then it fails, so that a CI run can never pass by
// skipping the Redis suites.
package redistest
