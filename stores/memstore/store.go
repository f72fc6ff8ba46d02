package memstore

import (
	"context"
	"errors"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessionkit/sessionkit/core/store"
)

// ErrFull is returned (wrapped) by Create when the store already holds
// Options.MaxSessions records. It is a store failure, not an outcome: the
// manager reports it rather than handing out an unsaved session silently.
var ErrFull = errors.New("memstore: store is full")

// errNilRecord keeps a nil *store.Record from becoming a panic.
var errNilRecord = errors.New("memstore: nil record")

const (
	defaultShards        = 64
	maxShards            = 1 << 16 // shardKey reads four hex digits: 16 bits
	defaultSweepInterval = time.Minute
)

// Options configures a Store. The zero value gives the defaults.
type Options struct {
	// Shards is the number of record shards (and user-index shards). It is
	// rounded up to a power of two, at most 65536. Zero means 64.
	Shards int

	// MaxSessions caps the number of session records held; Create beyond it
	// returns an error wrapping ErrFull. Forwarding entries left by Renew do
	// not count. Zero means no cap.
	MaxSessions int

	// SweepInterval is how often the janitor removes expired entries. Zero
	// means one minute; a negative value disables the janitor (expired
	// records are then still never returned, but stay in memory until Create
	// finds the store full, which sweeps once).
	SweepInterval time.Duration

	// Now is the clock of the janitor, of Delete's "existed" answer and of
	// any call whose own Now is zero. Nil means time.Now.
	Now func() time.Time
}

// Store is a sharded in-memory store.Store. Create one with New and stop its
// janitor with Close.
type Store struct {
	shards []shard
	users  []userShard
	mask   uint32

	maxSessions int64
	live        atomic.Int64 // session records held, expired or not; not forwarding entries

	now func() time.Time
	// valuesBuilt, set only by tests, is called where a write has built its
	// new values map and is about to take the lock to swap it in.
	valuesBuilt func(id string)

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
		maxSessions: int64(max(o.MaxSessions, 0)),
		now:         o.Now,
	}
	if s.now == nil {
		s.now = time.Now
	}
	for i := range s.shards {
		s.shards[i].m = make(map[string]*entry)
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

// Len returns the number of session records held, including records past
// their deadline that the janitor has not removed yet, and excluding the
// forwarding entries left by Renew.
func (s *Store) Len() int {
	return int(s.live.Load())
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

// admit accounts for a write that adds delta records (delta may be negative
// when evictions free room), refusing it when that would exceed MaxSessions.
// The compare-and-swap loop makes check and reservation one step, so
// concurrent creations in different shards cannot overshoot the cap.
func (s *Store) admit(delta int64) bool {
	if s.maxSessions == 0 || delta <= 0 {
		s.live.Add(delta)
		return true
	}
	for {
		c := s.live.Load()
		if c+delta > s.maxSessions {
			return false
		}
		if s.live.CompareAndSwap(c, c+delta) {
			return true
		}
	}
}
