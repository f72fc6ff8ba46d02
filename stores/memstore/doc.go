// Package memstore is the embedded default session store: every record lives
// in the memory of one process. It implements store.Store and
// store.Walker, and passes the conformance suite in stores/storetest. Its
// memory is bounded by default:
// at its bounds it evicts the least recently used anonymous sessions, and
// logged-in ones only when no anonymous one is left (see Bounds and
// Eviction).
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
// A stored record's Values map is never written once it is stored: Update,
// Renew and Take build a new map (store.Change.ApplyValues of the old one)
// and swap it in. That is
// what lets Load return the stored map itself, without a copy, as the
// contract's read-only result; Load's fast path allocates only the returned
// *store.Record, and LoadInto, which fills the caller's, nothing. The byte
// slices are shared the same way: the store takes ownership of what
// Create, Update and Renew are given and never writes into them.
//
// The new map is built with no lock held: a write reads the record's map
// under the read lock, copies and changes it unlocked, then takes the write
// lock only to swap the copy in, and only if the record's map is still the
// one it copied (if another write swapped it meanwhile, it starts again from
// the new one, so neither change is lost, and of two Takes of one key only
// one gets it). A write to a session of 100,000 keys costs that copy, but
// no other request in its shard waits for it. Its accounting (below) looks
// only at the keys the change names.
//
// # Expiry
//
// Each entry carries the deadline computed at its last write or touch
// (Meta.Deadline(idle); for a forwarding entry, Now+Grace). Reads and writes
// check it, and the idle deadline of the call, against the caller's Now, so
// an expired record is never returned even before it is removed. A session
// with its own idle timeout (Meta.Idle, a remembered login) has that
// instead of the call's everywhere: in the check, in the deadline a write
// or touch stores, and so in what the janitor removes. A janitor
// goroutine removes expired entries every Options.SweepInterval, shard by
// shard, holding each shard's write lock only to delete what a read-locked
// scan found, and then prunes their user-index entries. Close stops it. The
// janitor and Walk (below) are the only things that scan the store; no
// request does.
//
// # Bounds
//
// The store holds at most Options.MaxSessions records (default
// DefaultMaxSessions, 100,000) and at most Options.MaxBytes accounted bytes
// (default DefaultMaxBytes, 256 MiB); negative values lift a bound, which
// leaves the store open to a flood of requests that each create a session.
// The counts are global atomics: a write reserves its records and bytes with
// a compare-and-swap before it stores anything, so concurrent writes in
// different shards never overshoot together, and Len and Bytes never exceed
// the bounds (they may count reservations of writes in progress).
//
// # Eviction
//
// A write that does not fit evicts instead of failing: Create, and Update
// or Renew when they grow the session. Each shard keeps its entries in two
// lists in insertion order, one for anonymous sessions (Meta.UserID empty)
// and one for logged-in ones (a forwarding entry goes in its successor's).
// Eviction takes from the anonymous lists as long as any anonymous entry is
// left, so a flood of new sessions never logs out a logged-in user while
// there is an anonymous session to evict; only then from the logged-in
// lists. Within a list it runs a CLOCK hand (second chance), an
// approximation of least recently used that keeps reads as cheap as before:
// a read sets an atomic flag on the entry under the read lock, and never
// moves it. From the front of the list, an expired entry goes at once (an
// expired logged-in entry at the front of its list goes even when an
// anonymous one is wanted: expired entries are the first victims); one whose
// flag is set has it cleared and goes to the back; the first other one is
// evicted. After evictWalk (64) second chances in one eviction the next entry
// goes whatever its flag, so one eviction costs a bounded number of steps,
// however many sessions are held and however recently they were read.
//
// The writing ID's shard is tried first, then the next shards in turn, each
// locked on its own, with no other lock held; a shard whose list is empty is
// skipped without locking it, and an empty class is skipped without looking
// at any shard. IDs are uniformly random, so the per-shard lists
// approximate one global order. An evicted logged-in session's user-index
// entry is pruned and Options.OnEvict called once the write is done and
// holds no lock. Nothing the write itself involves is evicted for it (the
// session being written, a Renew's old and new IDs), and a write that frees
// as much as it adds (a login whose per-user cap removes an older session)
// evicts nothing. What cannot fit even then, a record over MaxBytes on its
// own, is refused with ErrFull.
//
// Entries live in a slab per shard, arrays made as the shard needs them
// (of 1, 2, 4 and 8 entries, then 16 each, so that a store of many shards
// holding few sessions each does not keep room for 16 in every shard),
// and the map and the eviction lists name them by their place in it
// rather than by pointer, so that the garbage collector sees a few
// thousand arrays it scans in order, not a graph of small objects linked
// three ways it must chase. The slab stays dense: before a write that
// removed entries unlocks its shard, the shard's last entries move into
// the slots it emptied (one move per removal at most), but for a few the
// shard keeps for its next writes, and a last chunk left empty is given
// back unless the one before it is more than half full. So a Create at
// the bounds, which has just evicted an entry of its own shard, takes
// that slot and allocates nothing of the store's own (the garbage a flood
// leaves is only the caller's), and after a burst a shard holds at most 27
// unused entries, about 8 KB, rather than the room of its peak. None of
// that is accounted, nor the first chunks' rounding: 16,384 shards of
// about one session each hold 9.8 MB of heap for 7.6 MB accounted
// (TestManyShardsHoldWhatTheyAccount). A Go map does not shrink: after a
// burst, each shard's map keeps the room of the most IDs it held at once,
// which is not accounted either, until the janitor's next pass makes
// again every map that holds under a quarter of its peak (of at least
// 1,024 IDs). TestHeapFollowsTheBoundAfterABurst: after 100,000 small
// entries gave way to 1,000 large sessions, the heap held 4 MB beyond the
// 47 MB accounted, and 0.6 MB beyond 39 MB after the pass.
//
// # Accounting
//
// MaxBytes counts, for each record, its ID, user ID, user agent, IP, label
// and binding, a fixed recordOverhead (412 bytes), mapOverhead (292) once
// it holds any value, and for each value its key and value bytes plus
// valueOverhead (56); a record with Metadata adds metadataOverhead (336),
// each entry's key and value bytes plus metadataEntryOverhead (8), and
// metadataGrowth (115) for each entry past the map's first eight. A
// forwarding entry counts its ID and its successor's plus forwardOverhead
// (280). The overheads stand for what the heap spends on holding those
// bytes (the entry, its map slot, the maps' headers and slots, allocation
// rounding) and were measured, not guessed; see Measurements. A write's
// accounting is the difference its change makes, worked out from the keys
// it names (and, when it replaces the metadata, from the new metadata).
//
// # Measurements
//
// amd64, Go 1.26.8, a shared 2-vCPU VM. Heap per session is HeapAlloc after
// two GCs, over 20,000 sessions of one shape (TestAccountingMatchesHeap logs
// and checks these), against what MaxBytes accounts for. A login's details
// are an own idle timeout, remembered, a label of about 17 bytes, a
// 43-byte binding, and 2 (no values) or 4 Metadata entries of 16 bytes:
//
//	session                              heap     accounted
//	anonymous, no values                  467 B     476 B
//	anonymous, 1 value of 8 bytes         827 B     836 B
//	anonymous, 4 values of 16 bytes       883 B   1,072 B
//	anonymous, 16 values of 16 bytes    2,173 B   1,990 B
//	anonymous, 100 values of 16 bytes   7,484 B   8,458 B
//	anonymous, 4 values of 1,000 bytes  4,917 B   5,008 B
//	logged in, 4 values of 16 bytes     1,198 B   1,134 B
//	anonymous, login details, no values   903 B     929 B
//	logged in, login details, 4 values  1,667 B   1,646 B
//	logged in, 12 metadata of 16 bytes  2,122 B   2,340 B
//	logged in, 16 metadata of 48 bytes  3,275 B   3,432 B
//	forwarding entry                      396 B     408 B
//
// A logged-in session's user-index entry (about 300 bytes: its slot in
// its user's set, and a user's first session the set itself) is not
// accounted for, only its user ID. The entry is 296 bytes, in its
// shard's slab, so with no size-class rounding; it was 240 until
// store.Meta took in a login's details, and a separate 320-byte object
// until it moved into the slab.
//
// Through the request path (core's TestMemFlood: go test ./core/ -run
// TestMemFlood -memflood -v), 10 million new sessions, each a cookieless
// request that writes one value, against core.New(core.Config{}): the
// store holds 100,000 sessions from the first 100,000 on, accounted at 749
// bytes each (829 since the entry grew: the figures of this paragraph and
// the next were measured before, with the 240-byte entry), 77 MB of live
// heap after a GC (810 bytes each, the core's share included); VmRSS is
// 223 to 241 MB after every million from the first to the tenth (VmHWM
// 241 MB), the rest being the collector's headroom at GOGC=100. Before the
// bounds, the security review measured the same flood growing RSS by about
// 1.2 KB per session, without limit (245 MB at 200,000 sessions).
//
// A Create into a full default store (BenchmarkCreateWhenFull: 100,000
// sessions, half of them read since, so the hand gives second chances)
// costs 1.2 to 1.4 µs, 554 B and 5 allocations per op, all five the
// benchmark's own record, map, value and ID, the same within the noise as
// before the slab, when entries were objects of their own (medians of 8
// and 12 runs alternating the two); a Create into a store that is not
// full (BenchmarkCreate; its map grows instead) 1.24 µs, against 1.48.
// Loads and updates of sessions in a random order, as requests come
// (BenchmarkLoadRandomOrder, BenchmarkUpdateRandomOrder), cost 247 ns and
// 1.24 µs, against 285 ns and 1.25 µs before; BenchmarkLoad, which reads
// them in the order they were made, lost its prefetching (183 to 222 ns):
// entries now sit by shard, not by age. With 90,000 sessions held, a full
// collection took 10.2 ms, against 12.3 to 12.9 ms before the slab
// (medians of 15 collections, measured with chunks of 16 from the first).
//
// While a goroutine writes one key at a time to a session of 100,000 keys,
// reads of another session in the same shard complete at p99.9 20 to 24 µs
// (2.8 to 5.2 million of them in 3 s); when the copy was made under the
// lock, at p99.9 45 ms (25,000 to 34,000 in 3 s).
//
// # Walk
//
// Walk shows every live session record, metadata only, never its values
// nor a forwarding entry, for an admin page or a bulk purge. It goes shard
// by shard and, within a shard, in steps in the order of the IDs: each
// step scans the shard under its read lock, as the janitor does, for the
// 256 live records with the smallest IDs above the last one shown, copies
// their metadata, and releases the lock before calling fn with each. So
// fn runs with no lock held and may call the store (delete what it is
// shown, for a purge); the walk holds one batch, about 68 KB, however many
// sessions there are; and a session stored under one ID for the whole walk
// is shown exactly once, whatever is written meanwhile, while one created,
// deleted or renewed during the walk may or may not be. A shard of n
// sessions takes n/256+1 scans of it: with the default 64 shards, a walk
// of 100,000 sessions scans each shard 7 times.
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
// Walk holds one record shard's read lock at a time and nothing else, and
// none while fn runs. Eviction holds one record-shard lock at a time and
// nothing else: a write makes room before it takes its own locks (or,
// finding no room under them, releases them, makes room and starts again),
// and reports what it evicted after releasing them.
//
// # Inputs the contract leaves open
//
//   - A zero Now (in LoadOptions, WriteOptions, a Change, or the now of
//     ListUser or Walk) means Options.Now.
//   - Idle is not optional: as Meta.Deadline has it, an idle timeout of zero
//     puts the deadline at LastSeen, so the record is expired at once,
//     unless the session has its own (Meta.Idle), which replaces it.
//   - Within one Change, Clear applies first, then Del, then Set: a key in
//     both Set and Del ends up set.
//   - Update with a nil Change writes nothing and reports whether the record
//     is live; Renew with a nil Change moves the record as it is, with
//     LastSeen set to opts.Now.
//   - IDs that are not hex are accepted (sharded by a hash instead), and no
//     input makes the store panic: a nil record, and a nil function for
//     Walk, are errors, a nil context is never cancelled, nil maps are
//     empty.
package memstore
