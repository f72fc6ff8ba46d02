package memstore

import (
	"math/bits"
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
	// ref is set by every read, under the read lock only (hence atomic:
	// see used), and cleared by eviction when it gives the entry its second
	// chance. It is a plain word rather than an atomic.Bool so that tidy
	// can move an entry by copying it, under the write lock.
	ref uint32
	// class is the list the entry is in: a record's by its user, a
	// forwarding entry its successor's.
	class class
	// held is set while the entry is stored under id (put) and cleared
	// when it is recycled: what tells tidy a slot is empty, even for an
	// entry stored under the empty ID.
	held bool

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
	// finds entries through the lists, can delete them from the map.
	id string
	// prev and next link the entry into its shard's list for its class.
	// They are slots, not pointers, so that the garbage collector has
	// nothing to follow in them (see slot).
	prev, next slot
	// self is the entry's own slot in its shard's slab; it stays with the
	// slot, not with what tidy moves into it.
	self slot
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
	if atomic.LoadUint32(&e.ref) == 0 {
		atomic.StoreUint32(&e.ref, 1)
	}
}

// referenced reports whether e was read since eviction last looked.
func (e *entry) referenced() bool { return atomic.LoadUint32(&e.ref) != 0 }

// unreference gives e its second chance; the caller holds the write lock.
func (e *entry) unreference() { atomic.StoreUint32(&e.ref, 0) }

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

// slot names an entry in its shard's slab: slots count from 1, so that
// the zero slot is none. Entries live in the slab, not in objects of their
// own, and the map and the lists name them by slot, so that a store of
// many sessions is a few large arrays to the garbage collector, which
// scans them in order, rather than a graph of small objects it must chase
// pointer by pointer: at 90,000 sessions a full collection took 40%
// longer with entries as objects linked into their lists (see the package
// doc's Measurements).
type slot uint32

// list is a shard's entries of one class, oldest first: the order in
// which eviction's CLOCK hand visits them.
type list struct {
	head, tail slot
	// n is written under the shard's write lock and read without it, by
	// eviction looking for a shard that has a candidate.
	n atomic.Int64
}

// shard is one slice of the record map.
type shard struct {
	mu sync.RWMutex
	m  map[string]slot
	// slab holds the shard's entries in chunks of 1, 2, 4 and 8 entries
	// and then chunkSize each (see locate), so that a shard of a few
	// sessions holds little more than their entries. Whenever the lock is
	// free it is dense: slots 1 to n hold the shard's entries but for at
	// most keptHoles, the rest nothing, and its last chunk is in use
	// unless the one before is more than half full (see tidy). So what
	// the slab holds beyond the entries the bounds account for is at most
	// 27 entries per shard, and never more than about the shard's own,
	// however many it once held.
	slab [][]entry
	// holes are emptied slots below n: those the write holding the lock
	// emptied, for its own next allocations and then for tidy to fill,
	// and at most keptHoles that tidy left for the next writes.
	holes []slot
	lists [classes]list
	n     slot
	// peak is the most IDs m has held since it was made: a Go map keeps
	// the room of its peak, so the janitor makes it again once it holds
	// far fewer (see oversized).
	peak uint32
	// Readers write the RWMutex's reader count; padding keeps neighbouring
	// shards off each other's cache lines so parallel reads don't contend.
	// (The fields above are in the order that leaves no gap between them.)
	_ [128 - unsafe.Sizeof(sync.RWMutex{}) - unsafe.Sizeof(map[string]slot(nil)) - unsafe.Sizeof([][]entry(nil)) -
		unsafe.Sizeof([]slot(nil)) - unsafe.Sizeof([classes]list{}) - unsafe.Sizeof(slot(0)) - unsafe.Sizeof(uint32(0))]byte
}

// chunkSize is how many entries the slab makes at a time once it holds
// 15: few enough that a shard holds little unused, enough that the
// collector sees a store as a few large objects.
const chunkSize = 16

// smallChunks are the slab's first chunks, of 1, 2, 4 and 8 entries:
// smallSlots slots in all.
const (
	smallChunks = 4
	smallSlots  = 1<<smallChunks - 1
)

// locate is the chunk of slot i and its place in it.
func locate(i slot) (chunk, at int) {
	if i <= smallSlots {
		chunk = bits.Len32(uint32(i)) - 1
		return chunk, int(i) - 1<<chunk
	}
	j := int(i) - smallSlots - 1
	return smallChunks + j/chunkSize, j % chunkSize
}

// chunkLen is how many entries chunk c holds.
func chunkLen(c int) int {
	if c < smallChunks {
		return 1 << c
	}
	return chunkSize
}

// slotsBefore is how many slots the chunks before chunk c hold.
func slotsBefore(c int) int {
	if c <= smallChunks {
		return 1<<c - 1
	}
	return smallSlots + (c-smallChunks)*chunkSize
}

// keptHoles is how many emptied slots tidy leaves for the shard's next
// writes to fill.
const keptHoles = 4

// maxHoles is the most slots a shard keeps room to remember between
// writes; a sweep that empties more gets a larger list, dropped after.
const maxHoles = 64

// A shard fills two cache lines exactly (see shard's padding).
var _ = [1]struct{}{}[unsafe.Sizeof(shard{})-128]

// at is the entry in slot i, which must be one of the slab's.
func (sh *shard) at(i slot) *entry {
	c, j := locate(i)
	return &sh.slab[c][j]
}

// get is the entry stored under id, or nil. Caller holds a lock on sh.
func (sh *shard) get(id string) *entry {
	if i := sh.m[id]; i != 0 {
		return sh.at(i)
	}
	return nil
}

// alloc returns an entry to fill: a slot the same write emptied, or the
// one after n, in a new chunk when the slab is full. Caller holds sh's
// write lock.
func (sh *shard) alloc() *entry {
	if k := len(sh.holes); k > 0 {
		i := sh.holes[k-1]
		sh.holes = sh.holes[:k-1]
		return sh.at(i)
	}
	if int(sh.n) == slotsBefore(len(sh.slab)) {
		sh.slab = append(sh.slab, make([]entry, chunkLen(len(sh.slab))))
	}
	sh.n++
	e := sh.at(sh.n)
	e.self = sh.n
	return e
}

// recycle empties e, removed from sh, so that it holds on to nothing, and
// leaves its slot for alloc or tidy. The caller holds sh's write lock and
// has read what it needs: entries are read only under their shard's
// lock, except by the writes that peek at one and build its new values
// unlocked, and those, once locked again, check that the entry is still
// the one stored under their ID and still holds the map they built from
// (see sameMap).
func (sh *shard) recycle(e *entry) {
	*e = entry{self: e.self}
	sh.holes = append(sh.holes, e.self)
}

// tidy makes the slab dense again, but for keptHoles slots, before sh's
// write lock is released: it moves the last entries into the slots the
// write emptied, and gives back the chunks at its end that shrinkable
// says it no longer needs. Each emptied slot costs at most one move, so
// tidying is amortised O(1) per removal. The few holes it keeps are for the shard's
// next writes, so that a Create into a full store, which has just evicted
// an entry of the same shard, takes its slot without moving anything.
// Moving an entry only changes its slot: a write that peeked at the entry
// finds another one, or none, in the slot it read, and starts again.
func (sh *shard) tidy() {
	for len(sh.holes) > keptHoles {
		h := sh.holes[len(sh.holes)-1]
		sh.holes = sh.holes[:len(sh.holes)-1]
		sh.trim()
		if h < sh.n {
			sh.move(sh.n, h)
			sh.n--
		}
	}
	sh.trim()
	// Kept holes the trim went past are beyond the end now.
	sh.holes = slices.DeleteFunc(sh.holes, func(h slot) bool { return h > sh.n })
	for sh.shrinkable() {
		last := len(sh.slab) - 1
		sh.slab[last] = nil
		sh.slab = sh.slab[:last]
	}
	if cap(sh.holes) > maxHoles {
		sh.holes = slices.Clone(sh.holes)
	}
}

// shrinkable reports whether the slab's last chunk is empty and the one
// before at most half full, so that tidy gives the last one back: the
// half keeps a shard that grows and shrinks across a chunk's edge from
// making and dropping a chunk at every write. The first chunk is kept.
func (sh *shard) shrinkable() bool {
	last := len(sh.slab) - 1
	if last < 1 || int(sh.n) > slotsBefore(last) {
		return false
	}
	used := max(int(sh.n)-slotsBefore(last-1), 0)
	return 2*used <= chunkLen(last-1)
}

// minRemade is the fewest IDs a shard's map must once have held for the
// janitor to make it again: below it, the room kept is too little to pay
// for a copy.
const minRemade = 1024

// oversized reports whether sh's map holds under a quarter of the most
// IDs it has held, and held at least minRemade. Caller holds a lock on sh.
func (sh *shard) oversized() bool {
	return sh.peak >= minRemade && uint32(len(sh.m)) <= sh.peak/4
}

// remakeMap copies sh's map into one sized for what it holds, so that the
// room of an earlier peak is given back, the copy costing at most a
// quarter of the IDs whose removal made the map oversized. Caller holds
// sh's write lock.
func (sh *shard) remakeMap() {
	m := make(map[string]slot, len(sh.m))
	for id, i := range sh.m {
		m[id] = i
	}
	sh.m, sh.peak = m, uint32(len(m))
}

// trim moves the end of the slab back past its empty slots.
func (sh *shard) trim() {
	for sh.n > 0 && !sh.at(sh.n).held {
		sh.n--
	}
}

// move puts the entry in slot from, which is listed, into the empty slot
// to, and empties from.
func (sh *shard) move(from, to slot) {
	src, dst := sh.at(from), sh.at(to)
	*dst = *src
	dst.self = to
	sh.m[dst.id] = to
	l := &sh.lists[dst.class]
	if dst.prev != 0 {
		sh.at(dst.prev).next = to
	} else {
		l.head = to
	}
	if dst.next != 0 {
		sh.at(dst.next).prev = to
	} else {
		l.tail = to
	}
	*src = entry{self: from}
}

// unlock tidies sh and releases its write lock: every write that may have
// removed an entry ends with it.
func (sh *shard) unlock() {
	if len(sh.holes) > keptHoles || sh.shrinkable() {
		sh.tidy()
	}
	sh.mu.Unlock()
}

// The list helpers below need the shard's write lock.

// push appends e to the back of its class's list.
func (s *Store) push(sh *shard, e *entry) {
	l := &sh.lists[e.class]
	e.prev, e.next = l.tail, 0
	if l.tail != 0 {
		sh.at(l.tail).next = e.self
	} else {
		l.head = e.self
	}
	l.tail = e.self
	l.n.Add(1)
	s.listed[e.class].Add(1)
}

// unlink takes e out of its list.
func (s *Store) unlink(sh *shard, e *entry) {
	l := &sh.lists[e.class]
	if e.prev != 0 {
		sh.at(e.prev).next = e.next
	} else {
		l.head = e.next
	}
	if e.next != 0 {
		sh.at(e.next).prev = e.prev
	} else {
		l.tail = e.prev
	}
	e.prev, e.next = 0, 0
	l.n.Add(-1)
	s.listed[e.class].Add(-1)
}

// toBack moves e, already listed, to the back of its list.
func (s *Store) toBack(sh *shard, e *entry) {
	if sh.lists[e.class].tail == e.self {
		return
	}
	s.unlink(sh, e)
	s.push(sh, e)
}

// put stores e under id and lists it. The caller has accounted for it.
func (s *Store) put(sh *shard, id string, e *entry) {
	e.id, e.held = id, true
	sh.m[id] = e.self
	if n := uint32(len(sh.m)); n > sh.peak {
		sh.peak = n
	}
	s.push(sh, e)
}

// remove deletes e from the map and its list, leaving the accounting to
// the caller (a write that replaces entries accounts for the difference
// in one step).
func (s *Store) remove(sh *shard, e *entry) {
	delete(sh.m, e.id)
	s.unlink(sh, e)
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
		s.shards[idx[i]].unlock()
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
