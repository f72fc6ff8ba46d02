// Package store defines the contract between the sessionkit core and a
// session store. It is a leaf package: core, every store and the
// conformance suite (stores/storetest) import it, and it imports nothing of
// sessionkit. Applications normally meet these types through the aliases in
// package core (core.Store, core.Record, ...).
//
// # Identifiers
//
// A store never sees a session token. It sees an ID: the lowercase hex
// SHA-256 of the token (64 characters). Every ID a store receives has been
// shape-checked by the manager, so a store may use it in a key as it is.
//
// # Records
//
// A Record is a session's metadata plus its values. Each value is encoded on
// its own by the core; a store keeps the bytes per key and never interprets
// them, so a write can carry only the keys that changed and concurrent
// requests that write different keys of one session never overwrite each
// other.
//
// Values maps and byte slices cross the boundary without copies, and neither
// side ever writes one after handing it over: a store keeps what it is given
// as it is (the core may go on reading it), and the caller treats what Load
// returns as read-only. A store that keeps records in memory must therefore
// never mutate a map it was given or has handed out (copy on write).
//
// # Deadlines
//
// A session ends at Meta.Deadline(idle): the earlier of LastSeen+idle (the
// sliding idle timeout) and ExpiresAt (the absolute lifetime). A store keeps
// a record no longer than that (a Redis TTL, a janitor) and never returns a
// record whose deadline has passed at the Now of the call.
//
// Extending the idle deadline is the store's job, inside Load: when
// Now-LastSeen has reached LoadOptions.TouchAfter, Load sets LastSeen to Now
// and moves the record's expiry to the new deadline before it returns.
// Inside that window a read writes nothing at all, so only one read per
// window pays for the write (in Redis, a second round trip).
//
// # Guarantees every store keeps (proven by stores/storetest)
//
//   - Update never recreates a record: if the ID is gone (destroyed, revoked,
//     expired or renewed away) it returns ErrNotFound and writes nothing; if
//     it is a forwarding entry it returns *ErrRenewed with the successor and
//     writes nothing.
//   - Update writes only the keys in the Change; keys written concurrently by
//     other Updates survive.
//   - Renew moves a record to a new ID atomically with respect to other
//     Renews of the same old ID: exactly one caller wins; the others get
//     ErrRenewed (carrying the winner's ID) or ErrNotFound. With a grace
//     period the old ID is kept as a forwarding entry (Record.Successor) for
//     that long, by the store's own expiry mechanism; without one it is
//     dead at once.
//   - Delete of a forwarding entry deletes the session it forwards to, down
//     the chain, so a logout or revocation racing a rotation leaves no
//     successor alive.
//   - Take removes one value and returns it in one atomic step: of
//     concurrent Takes of a key exactly one gets the value.
//   - Each record bound to a user is in that user's index. ListUser never
//     returns an entry whose record is gone or past its deadline; a store
//     may keep stale index entries and prune them lazily, but never trusts
//     them.
//   - With a per-user cap, adding a session that would exceed it deletes the
//     user's oldest sessions (by CreatedAt) in the same operation, and
//     reports their IDs.
//   - Errors: ErrNotFound, ErrExpired, ErrExists, ErrCorrupt and ErrRenewed
//     are outcomes; anything else is a failure of the store itself, which the
//     manager reports as such and never turns into an anonymous session.
package store
