package redisstore

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessionkit/sessionkit/core/store"
)

// The near cache (Options.Cache): decoded records, by ID, served by Load
// while the tracking connections (tracking.go) say Redis will tell of
// every change. See the package doc for what it guarantees; here is how.
//
// State. state holds a generation number (state>>1) and whether the cache
// may be used (state&1): every node's tracking connection is subscribed,
// so every change of a session key is announced. Every change of either
// bumps the generation: tracking lost or regained, a flush. An entry
// records the state at its filling and is served only while the state is
// still that, so losing tracking disables every entry at once (one atomic
// store), before the entries are dropped.
//
// Fills. A Load that misses takes a ticket (the state and its key's stripe
// counter) before it sends its read, and fills the entry only if both are
// unchanged when the reply is in. Every invalidation of a key, from Redis
// or from this process's own writes, bumps its stripe's counter under the
// shard's lock. So a fill whose read may have been answered before a
// change that has since been announced never lands: the announcement came
// after the change, the change after the read was answered (or the read
// would have seen it), so either the bump came before the ticket (then
// the read was sent after the change, and saw it) or between the ticket
// and the fill (then the fill is refused). A refused fill only costs the
// next Load a read.
//
// Hits. A hit takes a shard's read lock, checks the entry's state and age
// (MaxStaleness, on the monotonic clock) and then the record's deadline
// and touch window against the caller's Now, exactly as Load checks a
// record it has just read; anything but a live record inside its touch
// window goes to Redis. What a hit hands out is a copy of the cached
// record (the caller may change its metadata, store.Record says) sharing
// its Values and Meta.Metadata maps, which are read-only for the caller
// of Load and which the cache never changes either: a newer version
// replaces the entry. That copy is the one allocation of a hit, as it is
// of a memstore Load.
//
// Bound. Each shard holds at most its share of MaxBytes, by an estimate of
// what its records take (entrySize). An insertion that would pass it
// evicts entries, in map order from a random start, sparing once those
// read since the last sweep (a clock, the hot flag, without a write lock
// on the read path).
type nearCache struct {
	state  atomic.Uint64
	maxAge time.Duration
	seed   maphash.Seed
	shards []cacheShard
	mask   uint64 // len(shards)-1
	// stripes counts invalidations per stripe of keys; a key's stripe is
	// in its shard (the shard index is the stripe's low bits).
	stripes []atomic.Uint64
	smask   uint64

	mu sync.Mutex // serialises state changes

	invalidations, flushes, evictions, bypasses atomic.Uint64

	// dropInvalidations, for tests: invalidation messages are read and
	// thrown away, as if lost on the way.
	dropInvalidations atomic.Bool
	// invalidated, for tests, is called with each ID Redis invalidated,
	// once its entry is gone.
	invalidated atomic.Pointer[func(id string)]
}

type cacheShard struct {
	mu     sync.RWMutex
	m      map[string]*cacheEntry
	bytes  int64
	budget int64

	hits, misses atomic.Uint64
	_            [64]byte // keeps neighbouring shards' counters apart
}

type cacheEntry struct {
	rec   *store.Record
	state uint64    // nearCache.state when filled
	born  time.Time // before the read that filled it was sent (monotonic)
	// The record's times, as Load checks them, in Unix milliseconds; own
	// is its own idle timeout (0: the call's).
	ls, exp, dl, own int64
	size             int64
	hot              atomic.Bool
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

func newNearCache(o CacheOptions) *nearCache {
	n := 1
	for n < maxShards && int64(n)*2*shardFloor <= o.MaxBytes {
		n *= 2
	}
	c := &nearCache{
		maxAge:  o.MaxStaleness,
		seed:    maphash.MakeSeed(),
		shards:  make([]cacheShard, n),
		mask:    uint64(n - 1),
		stripes: make([]atomic.Uint64, n*stripesPerShard),
		smask:   uint64(n*stripesPerShard - 1),
	}
	for i := range c.shards {
		c.shards[i].m = make(map[string]*cacheEntry)
		c.shards[i].budget = o.MaxBytes / int64(n)
	}
	return c
}

func (c *nearCache) hash(id string) uint64 { return maphash.String(c.seed, id) }

// get returns the cached record under id if it may be served to a Load
// with opts, else nil (counted as a bypass when the cache is off, else as
// a miss).
func (c *nearCache) get(id string, opts store.LoadOptions) *store.Record {
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
	now := millis(nowOr(opts.Now))
	idle := e.own
	if idle == 0 {
		idle = opts.Idle.Milliseconds()
	}
	// As Load checks what it read: past a deadline, Redis says whether the
	// record is expired or gone; in the touch window's end, Redis must
	// extend the deadline.
	if now >= e.dl || now >= min(e.ls+idle, e.exp) {
		sh.misses.Add(1)
		return nil
	}
	if d := now - e.ls; d > 0 && d >= opts.TouchAfter.Milliseconds() {
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

// ticket is what a fill must find unchanged.
type ticket struct {
	state, stripe, h uint64
}

// ticket is taken before the read that may fill id's entry is sent.
func (c *nearCache) ticket(id string) ticket {
	h := c.hash(id)
	return ticket{state: c.state.Load(), stripe: c.stripes[h&c.smask].Load(), h: h}
}

// put fills id's entry with rec, just read with stored deadline dl, unless
// t is stale (see nearCache) or rec is over the shard's share.
func (c *nearCache) put(t ticket, born time.Time, id string, rec *store.Record, dl int64) {
	if t.state&1 == 0 || rec.Successor != "" {
		return
	}
	own := *rec // the caller may change its record's metadata
	e := &cacheEntry{
		rec: &own, state: t.state, born: born,
		ls: millis(rec.Meta.LastSeen), exp: millis(rec.Meta.ExpiresAt), dl: dl,
		own:  idleMillis(rec.Meta.Idle),
		size: entrySize(id, rec),
	}
	sh := &c.shards[t.h&c.mask]
	if e.size > sh.budget {
		return
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if c.state.Load() != t.state || c.stripes[t.h&c.smask].Load() != t.stripe {
		return
	}
	if old := sh.m[id]; old != nil {
		sh.bytes -= old.size
	}
	sh.m[id] = e
	sh.bytes += e.size
	if sh.bytes > sh.budget {
		c.evict(sh, e)
	}
}

// evict drops entries of sh until it is within its budget, sparing keep
// (the entry just put) and, on the first pass, entries read since they
// were last passed over. Caller holds sh.mu.
func (c *nearCache) evict(sh *cacheShard, keep *cacheEntry) {
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

// forget drops id's entry, and refuses any fill of it in flight: an
// invalidation from Redis (remote is true) or a write of this process.
func (c *nearCache) forget(id string, remote bool) {
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

// setReady turns the cache on (every node tracked) or off. Either way the
// generation moves on, so that no entry and no fill of before is used, and
// the entries go.
func (c *nearCache) setReady(ready bool) {
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

// flush drops every entry and refuses every fill in flight: Redis flushed
// a database (FLUSHALL, FLUSHDB), or could not say which keys changed.
func (c *nearCache) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.state.Load()
	c.state.Store((st>>1+1)<<1 | st&1)
	c.clear()
	c.flushes.Add(1)
}

func (c *nearCache) ready() bool { return c.state.Load()&1 == 1 }

// clear drops every entry.
func (c *nearCache) clear() {
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		clear(sh.m)
		sh.bytes = 0
		sh.mu.Unlock()
	}
}

// sweep drops the entries too old to be served, so that their memory does
// not wait for an eviction.
func (c *nearCache) sweep() {
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

// Overheads of entrySize: the entry, its copy of the record, its place
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

// entrySize estimates the heap a cached record takes: its strings and
// values, and the structures that hold them.
func entrySize(id string, rec *store.Record) int64 {
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

// CacheStats are the near cache's counters since New, and its state now.
type CacheStats struct {
	// Tracking: every node's tracking connection is up, so the cache
	// serves. While false, every Load reads Redis (a bypass).
	Tracking bool
	// TrackingError is why a tracking connection last failed or could
	// not be set up (the node down, a user without the ACL permissions
	// the cache needs), nil once every node is tracked again.
	TrackingError error
	// Hits: Loads served from the cache, with no Redis command.
	Hits uint64
	// Misses: Loads that read Redis while the cache was on: no entry, one
	// too old (MaxStaleness), past its deadline or due for a touch.
	Misses uint64
	// Bypasses: Loads that read Redis because the cache was off (tracking
	// not established, or lost).
	Bypasses uint64
	// Invalidations: session keys Redis announced as changed.
	Invalidations uint64
	// Flushes: times the whole cache was dropped because of a flush in
	// Redis (FLUSHALL, FLUSHDB). Losing tracking drops it too, and is not
	// counted here (see Tracking).
	Flushes uint64
	// Evictions: entries dropped to keep within MaxBytes.
	Evictions uint64
	// Entries and Bytes: what the cache holds now (Bytes as estimated
	// against MaxBytes).
	Entries int
	Bytes   int64
}

func (c *nearCache) stats() CacheStats {
	s := CacheStats{
		Tracking:      c.ready(),
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
