// Package pgtest starts real PostgreSQL servers for tests: Debian's
// PostgreSQL binaries (initdb and postgres, found on PATH or under
// /usr/lib/postgresql/<version>/bin), each server in a temporary directory
// of its own, listening on a free loopback port (listen_addresses is
// 127.0.0.1 and nothing else) and on a unix socket inside that directory,
// with trust authentication for those two only, and fsync off for speed.
// A server is stopped by its pid (SIGINT: PostgreSQL's fast shutdown)
// when the test, or for the shared one the test binary, ends.
//
// It never connects to a PostgreSQL it did not start: every address it
// hands out belongs to a process it launched from a data directory it
// created, so a test may create, drop and break whatever it likes. The
// machine's own server (on 5432, say) is never touched.
//
// # Running as root
//
// initdb and postgres refuse to run as root, and go test often runs as
// root. Then every server process runs as the unprivileged postgres user
// (the one Debian's package creates), started directly with its
// credentials (exec.Cmd's SysProcAttr.Credential, not su or pg_ctl), so
// the pid this package stops is the server's own. Its directory is
// created under os.TempDir() and handed to that user.
//
// # Dedicated or shared
//
// New gives a test a server of its own, which it may stop, crash and
// start again on the same port (fault tests): Stop is a fast shutdown,
// Crash an immediate one (SIGQUIT: no checkpoint, crash recovery at the
// next start, as after a power cut of the server process but not of the
// machine, so with fsync off an acknowledged commit still survives it).
// Shared hands every test of the binary the same server, started on first
// use and stopped when the binary's tests are done (Main, or Setup inside
// another package's TestMain); tests sharing it keep apart in a schema of
// their own (Server.Schema).
//
// A test binary that dies without running its cleanups (a panic, a
// -timeout) leaves no server behind: each is started with a parent-death
// signal (PR_SET_PDEATHSIG) on Linux.
//
// # Without PostgreSQL
//
// When the binaries (or, as root, the postgres user) are missing, the
// calling test is skipped with a loud message, except when the environment
// variable CI is "true": then it fails, so that a CI run can never pass by
// skipping the PostgreSQL suites.
package pgtest
