// Package memstore is the embedded default session store: every record lives
// in the memory of one process. It implements store.Store and passes the
// conformance suite in stores/storetest.
//
// # Sharding
//
// Records live in a power-of-two number of shards, each a map guarded by its
// own sync.RWMutex. IDs are hex SHA-256 digests, uniformly random, so the
// shard is picked from the first four hex digits of the ID with no hashing.
// A plain Load (no touch due) takes only its shard's read lock, so reads of
// different sessions, and concurrent reads of one session, scale across
// cores. A Load that is due to extend the idle deadline takes the write lock
// and checks the record again under it.
//
// # Copy on write
//
// A stored record's Values map is never written once it is stored: Update and
// Renew build a new map (the old keys plus the change) and swap it in. That is
// what lets Load return the stored map itself, without a copy, as the
// contract's read-only result; Load's fast path allocates only the returned
// *store.Record. The byte slices are shared the same way: the store takes
// ownership of what Create, Update and Renew are given and never writes into
// them.
//
// The new map is built with no lock held: a write reads the record's map
// under the read lock, copies and changes it unlocked, then takes the write
// lock only to swap the copy in, and only if the record's map is still the
// one it copied (if another write swapped it meanwhile, it starts again from
// the new one, so neither change is lost). A write to a session of 100,000
// keys costs that copy, but no other request in its shard waits for it.
//
// # Expiry
//
// Each entry carries the deadline computed at its last write or touch
// (Meta.Deadline(idle); for a forwarding entry, Now+Grace). Reads and writes
// check it, and the idle deadline of the call, against the caller's Now, so
// an expired record is never returned even before it is removed. A janitor
// goroutine removes expired entries every Options.SweepInterval, shard by
// shard, holding each shard's write lock only to delete what a read-locked
// scan found, and then prunes their user-index entries. Close stops it.
//
// # User index
//
// A second set of shards, picked by a hash of the user ID, maps each user to
// the IDs of its sessions. Every live record bound to a user is in that
// user's index before it becomes visible; entries of deleted, expired or
// renewed records are pruned lazily and never trusted: each is checked
// against the record it names. The per-user cap is enforced while holding
// the user's index lock together with the write locks of every shard holding
// one of the user's sessions, so concurrent creations cannot exceed it.
//
// # Lock order
//
// To rule out deadlocks, every operation acquires locks in this order:
//
//  1. at most one user-index shard lock (an operation that moves a session
//     between users prunes the old user's entry after releasing everything);
//  2. then record-shard locks, several only in ascending shard order.
//
// No operation acquires a user-index lock while it holds a record-shard lock.
//
// # Inputs the contract leaves open
//
//   - A zero Now (in LoadOptions, WriteOptions, a Change, or ListUser's now)
//     means Options.Now.
//   - Idle is not optional: as Meta.Deadline has it, an idle timeout of zero
//     puts the deadline at LastSeen, so the record is expired at once.
//   - Within one Change, Clear applies first, then Del, then Set: a key in
//     both Set and Del ends up set.
//   - Update with a nil Change writes nothing and reports whether the record
//     is live; Renew with a nil Change moves the record as it is, with
//     LastSeen set to opts.Now.
//   - IDs that are not hex are accepted (sharded by a hash instead), and no
//     input makes the store panic: a nil record is an error, a nil context
//     is never cancelled, nil maps are empty.
package memstore
