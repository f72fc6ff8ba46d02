// Package storetest is the conformance suite every session store passes: one
// test per guarantee of the store contract (package core/store), each an
// assertion that a store breaking the guarantee fails.
//
// A store's own test calls Run with a factory:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store {
//			s := memstore.New(memstore.Options{})
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// # What the suite asks of a factory
//
// Every test calls the factory with its own *testing.T and expects a fresh,
// empty store that shares nothing with the others (for Redis: a key prefix of
// its own), because tests run in parallel and list users' sessions. The
// factory is called from parallel tests, so it must be safe for concurrent
// use, and it registers its own cleanup with t.Cleanup. Run returns only
// once every test has finished, so resources the caller releases after Run
// (a redis-server, say) outlive the tests.
//
// # Time
//
// The suite works with the real clock throughout, so a store with server-side
// expiry (Redis TTLs) runs it unchanged:
//
//   - Logical deadline checks pass a Now in the future (minutes or hours
//     ahead) with an idle timeout of an hour, and never wait.
//   - Real-time checks (tests named RealTime...) create records with idle
//     timeouts or grace periods of a few hundred milliseconds and sleep past
//     them; they are the only sleeps in the suite. They overlap each other
//     and the rest: the whole suite takes one to two seconds of wall time
//     against the memory store.
//
// Stores must keep times to at least millisecond precision (Precision):
// metadata read back is compared within that.
//
// # Ownership
//
// The contract hands maps and byte slices across without copies: a store
// owns what it is given, and the caller treats what Load returns as
// read-only. The suite keeps both sides of that bargain (it never touches a
// map after handing it over, and never writes to one it loaded), and checks
// the store's side: a map Load returned never changes afterwards, whatever is
// written to the session, which the race detector also watches.
//
// # Where the contract is silent
//
// The suite settles these points, which a store must therefore keep:
//
//   - An ID held by a forwarding entry still in its grace period is taken:
//     Create on it returns ErrExists.
//   - Update of a record whose deadline has passed at ch.Now returns
//     ErrNotFound and writes nothing; Renew of one returns ErrNotFound or
//     ErrExpired and creates nothing.
//   - Load checks the deadline with the Idle of the call, even when the
//     record was written with a longer one, unless the record has an idle
//     timeout of its own (Meta.Idle), which then replaces the call's.
//   - A Load that touches returns the record with LastSeen = Now.
//   - Renew onto a newID that is taken returns ErrExists and changes
//     nothing.
//   - Under a per-user cap, the session being added is never evicted, and a
//     Renew's own old ID does not count against the cap.
//   - One Update is applied whole: a concurrent Load sees all of it or none.
//   - An empty (or nil) value is kept as a key with an empty value.
//
// Left open, and not asserted: the outcome when a deadline equals Now
// exactly, and the order of Set and Del for a key that is in both.
package storetest
