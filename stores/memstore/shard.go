package memstore

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/sessionkit/sessionkit/core/store"
)

// entry is what a shard holds under an ID: a session record, or a
// forwarding entry left by Renew with a grace period. The fields a Load
// reads come first, so that a read of an entry not in cache touches as few
// cache lines as it can; those only writes and eviction use follow.
type entry struct {
	// ref is set by every read, under the read lock only (hence atomic),
	// and cleared by eviction when it gives the entry its second chance.
	ref atomic.Bool
	// class is the list the entry is in: a record's by its user, a
	// forwarding entry its successor's.
	class class

	meta store.Meta
	// values is never written after it is stored (it may have been handed
	// out by Load); changes swap in a new map.
	values map[string][]byte
	// successor is set on a forwarding entry, which has no meta and no values.
	successor string
	// expires is the deadline computed at the last write or touch; for a
	// forwarding entry, the end of the grace period.
	expires time.Time

	// id is the key the entry is stored under, so that eviction, which
	// finds entries through the lists, can delete them from the map; it is
	// cleared when the entry is removed, so e.id == id holds exactly while
	// e is stored under id (what a write that peeked at e checks).
	id string
	// prev and next link the entry into its shard's list for its class;
	// the links live in the entry so that listing it allocates nothing.
	prev, next *entry
	// size is the entry's accounted bytes (see size.go).
	size int64
}

func (e *entry) forwarding() bool { return e.successor != "" }

// aliveAt reports whether e, of either kind, still exists at now.
func (e *entry) aliveAt(now time.Time) bool { return now.Before(e.expires) }

// recordAt reports whether e is a session record that is live at now, both
// by its stored deadline and by the idle timeout of the current call, or
// the session's own (Meta.Idle) when it has one: Meta.Deadline applies it.
func (e *entry) recordAt(now time.Time, idle time.Duration) bool {
	return !e.forwarding() && now.Before(e.expires) && now.Before(e.meta.Deadline(idle))
}

// used marks e as read since eviction last looked at it. The load first
// keeps a session read by many goroutines from bouncing its cache line
// between cores with a store on every read.
func (e *entry) used() {
	if !e.ref.Load() {
		e.ref.Store(true)
	}
}

// class sorts entries for eviction: anonymous sessions go before any
// logged-in one.
type class uint8

const (
	anonymous class = iota
	loggedIn
	classes
)

func classOf(userID string) class {
	if userID == "" {
		return anonymous
	}
	return loggedIn
}

// list is a shard's entries of one class, oldest first: the order in
// which eviction's CLOCK hand visits them.
type list struct {
	head, tail *entry
	// n is written under the shard's write lock and read without it, by
	// eviction looking for a shard that has a candidate.
	n atomic.Int64
}

// shard is one slice of the record map.
type shard struct {
	mu    sync.RWMutex
	m     map[string]*entry
	lists [classes]list
	// free holds up to maxFree entries removed from the shard, linked by
	// next, for its next writes to reuse (see recycle).
	free  *entry
	nfree int
	// Readers write the RWMutex's reader count; padding keeps neighbouring
	// shards off each other's cache lines so parallel reads don't contend.
	_ [128 - unsafe.Sizeof(sync.RWMutex{}) - unsafe.Sizeof(map[string]*entry(nil)) - unsafe.Sizeof([classes]list{}) -
		unsafe.Sizeof((*entry)(nil)) - unsafe.Sizeof(0)]byte
}

// maxFree bounds each shard's free list: enough for the steady state of a
// full store, where every Create evicts one entry and stores another, and
// little memory kept after a burst of deletions.
const maxFree = 32

// alloc returns an entry to fill: a recycled one when the shard has one, so
// that a write at the bounds, which has just evicted one, allocates none.
// Caller holds sh's write lock.
func (sh *shard) alloc() *entry {
	e := sh.free
	if e == nil {
		return new(entry)
	}
	sh.free, e.next = e.next, nil
	sh.nfree--
	return e
}

// recycle keeps e, removed from sh, for alloc, cleared so that it holds on
// to nothing. The caller holds sh's write lock and has read what it needs:
// entries are read only under their shard's lock, except by the writes
// that peek at one and build its new values unlocked, and those trust only
// the values map, by identity (see sameMap), never the entry itself.
func (sh *shard) recycle(e *entry) {
	if sh.nfree >= maxFree {
		return // the garbage collector takes it
	}
	*e = entry{}
	e.next = sh.free
	sh.free = e
	sh.nfree++
}

// The list helpers below need the shard's write lock.

// push appends e to the back of its class's list.
func (s *Store) push(sh *shard, e *entry) {
	l := &sh.lists[e.class]
	e.prev, e.next = l.tail, nil
	if l.tail != nil {
		l.tail.next = e
	} else {
		l.head = e
	}
	l.tail = e
	l.n.Add(1)
	s.listed[e.class].Add(1)
}

// unlink takes e out of its list.
func (s *Store) unlink(sh *shard, e *entry) {
	l := &sh.lists[e.class]
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		l.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		l.tail = e.prev
	}
	e.prev, e.next = nil, nil
	l.n.Add(-1)
	s.listed[e.class].Add(-1)
}

// toBack moves e, already listed, to the back of its list.
func (s *Store) toBack(sh *shard, e *entry) {
	l := &sh.lists[e.class]
	if l.tail == e {
		return
	}
	s.unlink(sh, e)
	s.push(sh, e)
}

// put stores e under id and lists it. The caller has accounted for it.
func (s *Store) put(sh *shard, id string, e *entry) {
	e.id = id
	sh.m[id] = e
	s.push(sh, e)
}

// remove deletes e from the map and its list, leaving the accounting to
// the caller (a write that replaces entries accounts for the difference
// in one step).
func (s *Store) remove(sh *shard, e *entry) {
	delete(sh.m, e.id)
	s.unlink(sh, e)
	e.id = ""
}

// discard removes e and gives back what it accounted for. The user index
// is left to the caller, who prunes it once unlocked or holds its lock; so
// is recycling e, once the caller has read it.
func (s *Store) discard(sh *shard, e *entry) {
	s.remove(sh, e)
	if e.forwarding() {
		s.release(0, e.size)
	} else {
		s.release(1, e.size)
	}
}

// reclass moves a record whose user changed to its new class's list.
func (s *Store) reclass(sh *shard, e *entry) {
	if c := classOf(e.meta.UserID); c != e.class {
		s.unlink(sh, e)
		e.class = c
		s.push(sh, e)
	}
}

func (s *Store) shardIndex(id string) uint32 { return shardKey(id) & s.mask }

func (s *Store) shard(id string) *shard { return &s.shards[s.shardIndex(id)] }

// shardKey reads the first four hex digits of id: IDs are uniformly random,
// so they spread evenly without hashing. Anything else (the manager never
// sends it, but the store must not panic) falls back to a hash.
func shardKey(id string) uint32 {
	if len(id) >= 4 {
		var v uint32
		for i := 0; i < 4; i++ {
			c := id[i]
			switch {
			case '0' <= c && c <= '9':
				v = v<<4 | uint32(c-'0')
			case 'a' <= c && c <= 'f':
				v = v<<4 | uint32(c-'a'+10)
			default:
				return fnv32(id)
			}
		}
		return v
	}
	return fnv32(id)
}

func fnv32(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// lockShards write-locks the shards at idx in ascending order, the one order
// every multi-shard operation uses, and returns the sorted, deduplicated set
// to hand to unlockShards.
func (s *Store) lockShards(idx []uint32) []uint32 {
	slices.Sort(idx)
	idx = slices.Compact(idx)
	for _, i := range idx {
		s.shards[i].mu.Lock()
	}
	return idx
}

func (s *Store) unlockShards(idx []uint32) {
	for i := len(idx) - 1; i >= 0; i-- {
		s.shards[idx[i]].mu.Unlock()
	}
}

// applyMeta returns the metadata after a write at now: ch.Meta replaces old
// when set, and LastSeen is always the time of the write.
func applyMeta(old store.Meta, ch *store.Change, now time.Time) store.Meta {
	m := old
	if ch != nil && ch.Meta != nil {
		m = *ch.Meta
	}
	m.LastSeen = now
	return m
}
