// Package nearcache is the store-independent part of the stores' near
// cache: a process-local, sharded, byte-bounded map of decoded session
// records by ID, which a store serves its Loads from while its transport
// (Redis's client tracking in redisstore, LISTEN/NOTIFY in pgstore) says
// the server will announce every change. The transport tells the Cache
// when it may serve (SetReady) and which IDs changed (Forget); the store
// fills it after a read (Ticket before the read, Put after) and drops its
// own writes (Forget), or leaves their result (BeginWrite before the
// write, Written after) where the transport can tell them apart.
//
// State. The state holds a generation number (state>>1) and whether the
// cache may be used (state&1). Every change of either bumps the
// generation: the transport lost or regained, a flush. An entry records
// the state at its filling and is served only while the state is still
// that, so losing the transport disables every entry at once (one atomic
// store), before the entries are dropped.
//
// Fills. A Load that misses takes a ticket (the state and its key's stripe
// counter) before it sends its read, and fills the entry only if both are
// unchanged when the reply is in. Every invalidation of a key, from the
// server or from this process's own writes once acknowledged, bumps its
// stripe's counter under the shard's lock. So a fill whose read may have
// been answered before a change that has since been announced (or
// acknowledged) never lands: the announcement came after the change, the
// change after the read was answered (or the read would have seen it), so
// either the bump came before the ticket (then the read was sent after
// the change, and saw it) or between the ticket and the fill (then the
// fill is refused). A refused fill only costs the next Load a read.
//
// Hits. A hit takes a shard's read lock, checks the entry's state and age
// (MaxStaleness, on the monotonic clock) and then the record's deadline
// and touch window against the caller's time, exactly as the store's Load
// checks a record it has just read; anything but a live record inside its
// touch window goes to the server. What a hit hands out is a copy of the
// cached record (the caller may change its metadata, store.Record says)
// sharing its Values and Meta.Metadata maps, which are read-only for the
// caller of Load and which the cache never changes either: a newer
// version replaces the entry. That copy is the one allocation of a hit,
// as it is of a memstore Load.
//
// Bound. Each shard holds at most its share of MaxBytes, by an estimate of
// what its records take (EntrySize). An insertion that would pass it
// evicts entries, in map order from a random start, sparing once those
// read since the last sweep (a clock, the hot flag, without a write lock
// on the read path).
//
// Times. The store chooses the unit of the times it hands the cache (Put's
// Times, Get's now, idle and touchAfter): the one its Load compares in
// (milliseconds in Redis, microseconds in PostgreSQL), so that a hit and
// a read decide alike.
package nearcache

import (
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessionkit/sessionkit/core/store"
)

// Defaults and bounds of a store's CacheOptions.
const (
	// DefaultMaxBytes is MaxBytes when zero.
	DefaultMaxBytes = 64 << 20
	// DefaultMaxStaleness is MaxStaleness when zero.
	DefaultMaxStaleness = time.Second
	// MaxMaxStaleness is the largest MaxStaleness accepted: a revoked
	// session served for longer than a minute is no longer the prompt
	// revocation server-side sessions are for.
	MaxMaxStaleness = time.Minute
)

// Validate checks a store's cache options and fills in their defaults;
// pkg names the store in the errors ("redisstore").
func Validate(pkg string, maxBytes int64, maxStaleness time.Duration) (int64, time.Duration, error) {
	switch {
	case maxBytes < 0:
		return 0, 0, fmt.Errorf("%s: Cache.MaxBytes %d is negative", pkg, maxBytes)
	case maxStaleness < 0:
		return 0, 0, fmt.Errorf("%s: Cache.MaxStaleness %v is negative", pkg, maxStaleness)
	case maxStaleness > MaxMaxStaleness:
		return 0, 0, fmt.Errorf("%s: Cache.MaxStaleness %v is above the maximum of %v", pkg, maxStaleness, MaxMaxStaleness)
	}
	if maxBytes == 0 {
		maxBytes = DefaultMaxBytes
	}
	if maxStaleness == 0 {
		maxStaleness = DefaultMaxStaleness
	}
	return maxBytes, maxStaleness, nil
}

// Cache is the near cache of one store. Its methods are safe for
// concurrent use.
type Cache struct {
	state  atomic.Uint64
	maxAge time.Duration
	seed   maphash.Seed
	shards []shard
	mask   uint64 // len(shards)-1
	// stripes counts invalidations per stripe of keys; a key's stripe is
	// in its shard (the shard index is the stripe's low bits).
	stripes []atomic.Uint64
	smask   uint64

	mu sync.Mutex // serialises state changes

	invalidations, flushes, evictions, bypasses atomic.Uint64

	// DropInvalidations, for tests: the transport reads invalidations and
	// throws them away, as if lost on the way.
	DropInvalidations atomic.Bool
	// invalidated, for tests, is called with each ID the server
	// invalidated, once its entry is gone.
	invalidated atomic.Pointer[func(id string)]
}

type shard struct {
	mu     sync.RWMutex
	m      map[string]*entry
	bytes  int64
	budget int64

	hits, misses atomic.Uint64
	_            [64]byte // keeps neighbouring shards' counters apart
}

type entry struct {
	rec   *store.Record
	state uint64    // Cache.state when filled
	born  time.Time // before the read that filled it was sent (monotonic)
	t     Times
	size  int64
	hot   atomic.Bool
}

// Times are a cached record's times as its store's Load checks them, in
// the store's unit (see the package doc).
type Times struct {
	// LastSeen, Expires (the absolute deadline) and Deadline (the stored
	// one) are instants; Idle is the record's own idle timeout, 0 for
	// none (the call's applies).
	LastSeen, Expires, Deadline, Idle int64
}

const (
	// shardFloor is the least share of MaxBytes a shard is given, so a
	// small bound still holds records of a usual size.
	shardFloor = 256 << 10
	maxShards  = 64
	// stripesPerShard: how finely a shard's keys are told apart when an
	// invalidation refuses a concurrent fill.
	stripesPerShard = 64
)

// New returns a Cache holding at most maxBytes (by EntrySize) and serving
// no entry older than maxAge. It is off until SetReady(true).
func New(maxBytes int64, maxAge time.Duration) *Cache {
	n := 1
	for n < maxShards && int64(n)*2*shardFloor <= maxBytes {
		n *= 2
	}
	c := &Cache{
		maxAge:  maxAge,
		seed:    maphash.MakeSeed(),
		shards:  make([]shard, n),
		mask:    uint64(n - 1),
		stripes: make([]atomic.Uint64, n*stripesPerShard),
		smask:   uint64(n*stripesPerShard - 1),
	}
	for i := range c.shards {
		c.shards[i].m = make(map[string]*entry)
		c.shards[i].budget = maxBytes / int64(n)
	}
	return c
}

// MaxAge is the MaxStaleness the cache was made with.
func (c *Cache) MaxAge() time.Duration { return c.maxAge }

func (c *Cache) hash(id string) uint64 { return maphash.String(c.seed, id) }

// Get returns the cached record under id if it may be served to a Load at
// now with the call's idle timeout and touch window (in the store's unit),
// else nil (counted as a bypass when the cache is off, else as a miss).
func (c *Cache) Get(id string, now, idle, touchAfter int64) *store.Record {
	st := c.state.Load()
	if st&1 == 0 {
		c.bypasses.Add(1)
		return nil
	}
	sh := &c.shards[c.hash(id)&c.mask]
	sh.mu.RLock()
	e := sh.m[id]
	sh.mu.RUnlock()
	if e == nil || e.state != st || time.Since(e.born) >= c.maxAge {
		sh.misses.Add(1)
		return nil
	}
	if e.t.Idle != 0 {
		idle = e.t.Idle
	}
	// As Load checks what it read: past a deadline, the server says
	// whether the record is expired or gone; in the touch window's end,
	// the server must extend the deadline.
	if now >= e.t.Deadline || now >= min(e.t.LastSeen+idle, e.t.Expires) {
		sh.misses.Add(1)
		return nil
	}
	if d := now - e.t.LastSeen; d > 0 && d >= touchAfter {
		sh.misses.Add(1)
		return nil
	}
	if !e.hot.Load() {
		e.hot.Store(true)
	}
	sh.hits.Add(1)
	rec := *e.rec
	return &rec
}

// Ticket is what a fill must find unchanged.
type Ticket struct {
	state, stripe, h uint64
}

// Ticket is taken before the read that may fill id's entry is sent.
func (c *Cache) Ticket(id string) Ticket {
	h := c.hash(id)
	return Ticket{state: c.state.Load(), stripe: c.stripes[h&c.smask].Load(), h: h}
}

// Put fills id's entry with rec, just read, with times t, unless the
// ticket is stale (see the package doc), rec is a forwarding entry or it
// is over the shard's share. born is when the read was sent.
func (c *Cache) Put(tk Ticket, born time.Time, id string, rec *store.Record, t Times) {
	if tk.state&1 == 0 || rec.Successor != "" {
		return
	}
	own := *rec // the caller may change its record's metadata
	e := &entry{rec: &own, state: tk.state, born: born, t: t, size: EntrySize(id, rec)}
	sh := &c.shards[tk.h&c.mask]
	if e.size > sh.budget {
		return
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if c.state.Load() != tk.state || c.stripes[tk.h&c.smask].Load() != tk.stripe {
		return
	}
	c.insert(sh, id, e)
}

// insert puts e under id in sh, evicting others to stay within the
// shard's budget. Caller holds sh.mu.
func (c *Cache) insert(sh *shard, id string, e *entry) {
	if old := sh.m[id]; old != nil {
		sh.bytes -= old.size
	}
	sh.m[id] = e
	sh.bytes += e.size
	if sh.bytes > sh.budget {
		c.evict(sh, e)
	}
}

// Writes through. A write of this process may leave its own result in
// the cache instead of dropping the entry, when the transport can tell
// the server's announcement of that write from those of everyone else's
// (redisstore's write markers), so that it need not bump anything on
// the announcement. BeginWrite, before the write is sent, bumps id's
// stripe: a fill in flight, or another write of id in flight (whose
// order on the server against this one is unknown), can then no longer
// land. It hands back the entry the write may build on. Written, once
// the write is acknowledged, puts the result if nothing bumped the
// stripe since (no announcement of another's change, no other write of
// this process, no Forget), bumping it again so that a fill sent before
// the write was applied cannot land after it; otherwise it drops the
// entry. Either way the write's own announcement, which the transport
// passes over, has nothing left to refuse.

// BeginWrite starts a write of id that may write through: it returns the
// ticket Written needs, and the cached record the write applies to with
// its birth (nil if there is none that may be served: the write cannot
// write through). The record is shared with the cache: read-only.
func (c *Cache) BeginWrite(id string) (Ticket, *store.Record, time.Time) {
	h := c.hash(id)
	sh := &c.shards[h&c.mask]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	st := c.state.Load()
	tk := Ticket{state: st, stripe: c.stripes[h&c.smask].Add(1), h: h}
	e := sh.m[id]
	if st&1 == 0 || e == nil || e.state != st || time.Since(e.born) >= c.maxAge {
		return tk, nil, time.Time{}
	}
	return tk, e.rec, e.born
}

// Written ends a write BeginWrite started, once the server acknowledged
// it: rec, with times t, replaces id's entry if the ticket still holds,
// and Written reports true; otherwise the entry is dropped (as Forget
// does) and it reports false. born is the birth of the record the write
// was applied to, as BeginWrite returned it: what was missed of the
// server before it is still missed, so the result is no younger.
func (c *Cache) Written(tk Ticket, born time.Time, id string, rec *store.Record, t Times) bool {
	sh := &c.shards[tk.h&c.mask]
	own := *rec
	e := &entry{rec: &own, state: tk.state, born: born, t: t, size: EntrySize(id, rec)}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	stripe := &c.stripes[tk.h&c.smask]
	ok := tk.state&1 == 1 && c.state.Load() == tk.state && stripe.Load() == tk.stripe &&
		rec.Successor == "" && e.size <= sh.budget && time.Since(born) < c.maxAge
	stripe.Add(1)
	if !ok {
		if old := sh.m[id]; old != nil {
			delete(sh.m, id)
			sh.bytes -= old.size
		}
		return false
	}
	c.insert(sh, id, e)
	return true
}

// evict drops entries of sh until it is within its budget, sparing keep
// (the entry just put) and, on the first pass, entries read since they
// were last passed over. Caller holds sh.mu.
func (c *Cache) evict(sh *shard, keep *entry) {
	for pass := 0; pass < 2 && sh.bytes > sh.budget; pass++ {
		for id, e := range sh.m {
			if sh.bytes <= sh.budget {
				return
			}
			if e == keep {
				continue
			}
			if pass == 0 && e.hot.Load() && time.Since(e.born) < c.maxAge {
				e.hot.Store(false)
				continue
			}
			delete(sh.m, id)
			sh.bytes -= e.size
			c.evictions.Add(1)
		}
	}
}

// Forget drops id's entry, and refuses any fill of it in flight: an
// invalidation from the server (remote is true) or a write of this
// process.
func (c *Cache) Forget(id string, remote bool) {
	h := c.hash(id)
	sh := &c.shards[h&c.mask]
	sh.mu.Lock()
	c.stripes[h&c.smask].Add(1)
	if e := sh.m[id]; e != nil {
		delete(sh.m, id)
		sh.bytes -= e.size
	}
	sh.mu.Unlock()
	if remote {
		c.invalidations.Add(1)
		if f := c.invalidated.Load(); f != nil {
			(*f)(id)
		}
	}
}

// OnInvalidation, for tests, has f called with every ID the server
// invalidates, once its entry is gone; nil stops it.
func (c *Cache) OnInvalidation(f func(id string)) {
	if f == nil {
		c.invalidated.Store(nil)
		return
	}
	c.invalidated.Store(&f)
}

// SetReady turns the cache on (the transport will announce every change)
// or off. Either way the generation moves on, so that no entry and no
// fill of before is used, and the entries go.
func (c *Cache) SetReady(ready bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.state.Load()
	next := (st>>1 + 1) << 1
	if ready {
		next |= 1
	}
	c.state.Store(next)
	c.clear()
}

// Flush drops every entry and refuses every fill in flight: the server
// could not say which keys changed (Redis flushed a database).
func (c *Cache) Flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.state.Load()
	c.state.Store((st>>1+1)<<1 | st&1)
	c.clear()
	c.flushes.Add(1)
}

// Ready reports whether the cache serves.
func (c *Cache) Ready() bool { return c.state.Load()&1 == 1 }

// clear drops every entry.
func (c *Cache) clear() {
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		clear(sh.m)
		sh.bytes = 0
		sh.mu.Unlock()
	}
}

// Sweep drops the entries too old to be served, so that their memory does
// not wait for an eviction.
func (c *Cache) Sweep() {
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		for id, e := range sh.m {
			if time.Since(e.born) >= c.maxAge {
				delete(sh.m, id)
				sh.bytes -= e.size
			}
		}
		sh.mu.Unlock()
	}
}

// Overheads of EntrySize: the entry, its copy of the record, its place
// in the shard's map and the values map's own; each value's slot, slice
// and allocation; each metadata entry's. Measured with runtime.MemStats
// over 100,000 entries (no values, 4 and 16; no metadata and 3 entries;
// Go 1.26): 530, 914 and 2106 bytes an entry without metadata, 866 to
// 2442 with it; the estimate is 4 to 8% above each.
const (
	entryOverhead = 448
	valueOverhead = 96
	metaOverhead  = 112
)

// EntrySize estimates the heap a cached record takes: its strings and
// values, and the structures that hold them.
func EntrySize(id string, rec *store.Record) int64 {
	m := &rec.Meta
	n := entryOverhead + len(id) + len(m.UserID) + len(m.UserAgent) + len(m.IP) + len(m.Label) + len(m.Binding)
	for k, v := range m.Metadata {
		n += metaOverhead + len(k) + len(v)
	}
	for k, v := range rec.Values {
		n += valueOverhead + len(k) + len(v)
	}
	return int64(n)
}

// Stats are a Cache's counters since New, and its state now.
type Stats struct {
	// Ready: the cache serves (SetReady).
	Ready bool
	// Hits: Gets that returned a record. Misses: Gets that did not while
	// the cache was on. Bypasses: Gets while it was off.
	Hits, Misses, Bypasses uint64
	// Invalidations: Forgets from the server. Flushes: Flush calls.
	// Evictions: entries dropped to keep within the bound.
	Invalidations, Flushes, Evictions uint64
	// Entries and Bytes: what the cache holds now (by EntrySize).
	Entries int
	Bytes   int64
}

// Stats returns the counters and the state. It waits for a state change
// in progress, so that a cache seen off is seen empty.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := Stats{
		Ready:         c.Ready(),
		Bypasses:      c.bypasses.Load(),
		Invalidations: c.invalidations.Load(),
		Flushes:       c.flushes.Load(),
		Evictions:     c.evictions.Load(),
	}
	for i := range c.shards {
		sh := &c.shards[i]
		s.Hits += sh.hits.Load()
		s.Misses += sh.misses.Load()
		sh.mu.RLock()
		s.Entries += len(sh.m)
		s.Bytes += sh.bytes
		sh.mu.RUnlock()
	}
	return s
}
