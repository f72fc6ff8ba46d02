package memstore

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessionkit/sessionkit/core/store"
)

// ErrFull is returned (wrapped) by a write that no eviction can make fit:
// a record that on its own accounts for more than Options.MaxBytes, or, in
// a store whose every other entry is taken by writes in progress, nothing
// left to evict. A store at its bounds otherwise evicts (see the package
// doc) rather than refusing. It is a store failure, not an outcome: the
// manager reports it rather than handing out an unsaved session silently.
var ErrFull = errors.New("memstore: store is full")

// errNilRecord keeps a nil *store.Record from becoming a panic.
var errNilRecord = errors.New("memstore: nil record")

// The bounds of the zero Options. At the measured cost of a small session
// (see the package doc) the session bound is reached first, at roughly
// 100 MB of heap; the byte bound caps a store of large sessions.
const (
	// DefaultMaxSessions is the session bound when Options.MaxSessions is
	// zero.
	DefaultMaxSessions = 100_000
	// DefaultMaxBytes is the accounted-byte bound when Options.MaxBytes is
	// zero: 256 MiB.
	DefaultMaxBytes = 256 << 20
)

const (
	defaultShards        = 64
	maxShards            = 1 << 16 // shardKey reads four hex digits: 16 bits
	defaultSweepInterval = time.Minute
)

// Options configures a Store. The zero value gives the defaults, which
// bound the store's memory.
type Options struct {
	// Shards is the number of record shards (and user-index shards). It is
	// rounded up to a power of two, at most 65536. Zero means 64.
	Shards int

	// MaxSessions bounds the number of session records held, expired or
	// not; forwarding entries left by Renew do not count. A Create beyond
	// it evicts another session first (see the package doc, Eviction). Zero
	// means DefaultMaxSessions. A negative value means no bound, which is
	// unsafe wherever clients can create sessions without logging in: a
	// flood of requests then grows the store, and the process, without
	// limit.
	MaxSessions int

	// MaxBytes bounds the store's accounted bytes: every entry's ID, keys,
	// values, user ID, user agent, IP, label, binding and Metadata, plus a
	// fixed overhead per entry, per value and per Metadata entry that
	// stands for the memory the store spends holding them (see the package
	// doc, Accounting). A write that would go past it
	// (a Create, an Update or Renew that grows a session) evicts other
	// sessions first; one that cannot fit even in an empty store returns
	// an error wrapping ErrFull and changes nothing. Zero means
	// DefaultMaxBytes; a negative value means no bound, unsafe as for
	// MaxSessions.
	MaxBytes int64

	// SweepInterval is how often the janitor removes expired entries and
	// gives back the room a burst left in the shards' maps (see the package
	// doc, Eviction). Zero means one minute; a negative value disables the
	// janitor (expired records are then still never returned, but stay in
	// memory until eviction takes them, which it does before any live
	// session, or a Create of the same ID replaces them; a map keeps the
	// room of its peak).
	SweepInterval time.Duration

	// Now is the clock of the janitor, of Delete's "existed" answer and of
	// any call whose own Now is zero. Nil means time.Now.
	Now func() time.Time

	// OnEvict, when set, is called once for each live session the store
	// evicts to stay within its bounds, with the session's ID and user ID
	// (empty for an anonymous session), so that the caller can report it.
	// It is not called for entries that had expired, for forwarding
	// entries, nor for the sessions a per-user cap removes (Create and
	// Renew return those). It runs on the goroutine of the write that
	// needed the room, before that write returns, with none of the store's
	// locks held: it may call back into the store. It should be quick.
	OnEvict func(id, userID string)
}

// Store is a sharded in-memory store.Store. Create one with New and stop its
// janitor with Close.
type Store struct {
	shards []shard
	users  []userShard
	mask   uint32

	maxSessions int64 // negative: no bound
	maxBytes    int64 // negative: no bound
	now         func() time.Time
	onEvict     func(id, userID string)
	// valuesBuilt, set only by tests, is called where a write has built its
	// new values map and is about to take the lock to swap it in.
	valuesBuilt func(id string)

	// Every write updates these; the padding keeps the fields above, which
	// every Load reads, off their cache line.
	_ [64]byte
	// live counts session records, expired or not, and the reservations
	// of writes about to add one; not forwarding entries.
	live atomic.Int64
	// bytes is the accounted size of every entry, forwarding entries
	// included, plus reservations.
	bytes atomic.Int64
	// listed counts the entries in each class's lists, over all shards,
	// so that eviction knows without a lock whether a class has any.
	listed [classes]atomic.Int64
	_      [64]byte

	closeOnce sync.Once
	stop      chan struct{} // nil when the janitor is disabled
	done      chan struct{}
}

var _ store.Store = (*Store)(nil)

// New returns a Store configured by o and starts its janitor.
func New(o Options) *Store {
	n := o.Shards
	if n <= 0 {
		n = defaultShards
	}
	if n > maxShards {
		n = maxShards
	}
	n = 1 << bits.Len(uint(n-1)) // round up to a power of two
	s := &Store{
		shards:      make([]shard, n),
		users:       make([]userShard, n),
		mask:        uint32(n - 1),
		maxSessions: bound(int64(o.MaxSessions), DefaultMaxSessions),
		maxBytes:    bound(o.MaxBytes, DefaultMaxBytes),
		now:         o.Now,
		onEvict:     o.OnEvict,
	}
	if s.now == nil {
		s.now = time.Now
	}
	for i := range s.shards {
		s.shards[i].m = make(map[string]slot)
		s.users[i].m = make(map[string]map[string]struct{})
	}
	every := o.SweepInterval
	if every == 0 {
		every = defaultSweepInterval
	}
	if every > 0 {
		s.stop = make(chan struct{})
		s.done = make(chan struct{})
		go s.janitor(every)
	}
	return s
}

// Close stops the janitor and waits for it to exit. It is idempotent and
// always returns nil. The store keeps answering after Close, exactly as
// before, except that nothing removes expired entries in the background any
// more (they are still never returned).
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.stop != nil {
			close(s.stop)
			<-s.done
		}
	})
	return nil
}

// bound turns an Options bound into the store's: zero is the default,
// negative none (-1).
func bound(v, def int64) int64 {
	switch {
	case v == 0:
		return def
	case v < 0:
		return -1
	}
	return v
}

// Len returns the number of session records held, including records past
// their deadline that the janitor has not removed yet, and excluding the
// forwarding entries left by Renew. While writes are in progress it may
// count the records they are about to add.
func (s *Store) Len() int {
	return int(s.live.Load())
}

// Bytes returns the accounted bytes held (see the package doc,
// Accounting), forwarding entries included. While writes are in progress
// it may count what they are about to add.
func (s *Store) Bytes() int64 {
	return s.bytes.Load()
}

// nowOr returns t, or the store's clock when the caller left t zero: a zero
// Now would otherwise make every deadline comparison meaningless.
func (s *Store) nowOr(t time.Time) time.Time {
	if t.IsZero() {
		return s.now()
	}
	return t
}

// ctxErr is ctx.Err() that tolerates a nil context instead of panicking.
func ctxErr(ctx context.Context) error {
	if ctx == nil {
		return nil
	}
	return ctx.Err()
}

// add adds d to c unless that would take it past limit (negative: none).
// Check and addition are one compare-and-swap, so concurrent writes in
// different shards cannot overshoot a bound together. A d <= 0 always
// succeeds: freeing room is never refused. A zero d leaves c alone: every
// write settles its accounting, most by nothing, and the counters' cache
// line is shared by all cores.
func add(c *atomic.Int64, limit, d int64) bool {
	switch {
	case d == 0:
		return true
	case limit < 0 || d < 0:
		c.Add(d)
		return true
	}
	for {
		v := c.Load()
		if v+d > limit {
			return false
		}
		if c.CompareAndSwap(v, v+d) {
			return true
		}
	}
}

// reserve accounts for n more records and b more bytes if both fit within
// the bounds, and reports whether they did; when it fails it changes
// nothing.
func (s *Store) reserve(n, b int64) bool {
	if !add(&s.live, s.maxSessions, n) {
		return false
	}
	if !add(&s.bytes, s.maxBytes, b) {
		s.live.Add(-n)
		return false
	}
	return true
}

// release gives back n records and b bytes of accounting.
func (s *Store) release(n, b int64) {
	if n != 0 {
		s.live.Add(-n)
	}
	if b != 0 {
		s.bytes.Add(-b)
	}
}

// fits reports, without reserving anything, whether n more records and b
// more bytes would fit now: the cheap test that sends a write at the
// bounds to evict before it takes any lock.
func (s *Store) fits(n, b int64) bool {
	return (s.maxSessions < 0 || s.live.Load()+n <= s.maxSessions) &&
		(s.maxBytes < 0 || s.bytes.Load()+b <= s.maxBytes)
}

// tooBig is the error for a record of size bytes that cannot fit even in
// an empty store, or nil.
func (s *Store) tooBig(size int64) error {
	if s.maxBytes >= 0 && size > s.maxBytes {
		return fmt.Errorf("%w: a record of %d accounted bytes is over MaxBytes (%d)", ErrFull, size, s.maxBytes)
	}
	return nil
}
