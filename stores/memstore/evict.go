package memstore

import (
	"fmt"
	"time"
)

// evictWalk bounds how many referenced entries one eviction gives a second
// chance before it takes the entry in front of it anyway, so that a shard
// of sessions all read since the hand last passed costs one write no more
// than evictWalk steps.
const evictWalk = 64

// victim is an entry eviction removed, reported once the write is done.
type victim struct {
	id, user string
	// notify: a live session, for OnEvict (not a forwarding entry, not one
	// that had expired).
	notify bool
}

// victims collects what one write evicted. The first few fit in the
// write's own frame, so the common write that evicts one entry allocates
// nothing for it.
type victims struct {
	n    int
	some [4]victim
	more []victim
}

func (v *victims) add(x victim) {
	if v.n < len(v.some) {
		v.some[v.n] = x
		v.n++
		return
	}
	v.more = append(v.more, x)
}

// report prunes the victims' user-index entries and calls OnEvict for
// each. The write that evicted them calls it once it is done and holds no
// lock: only then, so that a callback that writes to the store cannot
// take the room the eviction made before the write does.
func (s *Store) report(v *victims) {
	for _, x := range v.some[:v.n] {
		s.reportOne(x)
	}
	for _, x := range v.more {
		s.reportOne(x)
	}
}

func (s *Store) reportOne(x victim) {
	if x.user != "" {
		s.prune(x.user, x.id)
	}
	if x.notify && s.onEvict != nil {
		s.onEvict(x.id, x.user)
	}
}

// reservation is what a write has accounted for ahead of its locked part.
type reservation struct{ n, b int64 }

// settle makes r exactly n records and b bytes: it reserves what is
// missing, if that fits, and gives back any excess. When the missing part
// does not fit it changes nothing and returns it, for makeRoom.
func (s *Store) settle(r *reservation, n, b int64) (missing reservation, ok bool) {
	dn, db := n-r.n, b-r.b
	if !s.reserve(max(dn, 0), max(db, 0)) {
		return reservation{max(dn, 0), max(db, 0)}, false
	}
	s.release(-min(dn, 0), -min(db, 0))
	*r = reservation{n, b}
	return reservation{}, true
}

// makeRoom adds need to r, evicting other entries until it fits within
// the bounds, and returns an error wrapping ErrFull when nothing is left to
// evict. start is the shard of the writing ID, which is looked at first;
// the entries under keep1 and keep2 (the IDs the write involves) are never
// taken. What it evicts goes to v, for the write to report. The caller
// holds no lock: each eviction locks one shard on its own.
func (s *Store) makeRoom(r *reservation, need reservation, start uint32, now time.Time, keep1, keep2 string, v *victims) error {
	for !s.reserve(need.n, need.b) {
		x, ok := s.evictOne(start, now, keep1, keep2)
		if !ok {
			return fmt.Errorf("%w: nothing left to evict (%d sessions, %d bytes)", ErrFull, s.live.Load(), s.bytes.Load())
		}
		v.add(x)
	}
	r.n += need.n
	r.b += need.b
	return nil
}

// evictOne removes one entry: anonymous ones while any is listed, from the
// start shard first and then the next ones in turn; logged-in ones only
// when no anonymous one is left. Shards whose list of the class is empty
// are skipped without being locked.
func (s *Store) evictOne(start uint32, now time.Time, keep1, keep2 string) (victim, bool) {
	for c := range classes {
		if s.listed[c].Load() == 0 {
			continue
		}
		for i := range uint32(len(s.shards)) {
			sh := &s.shards[(start+i)&s.mask]
			if sh.lists[c].n.Load() == 0 {
				continue
			}
			sh.mu.Lock()
			v, ok := s.evictFrom(sh, c, now, keep1, keep2)
			sh.unlock()
			if ok {
				return v, true
			}
		}
	}
	return victim{}, false
}

// evictFrom runs the CLOCK hand over sh's list of class c from its oldest
// entry: an expired entry goes at once; one read since the hand last
// passed (ref set) has its bit cleared and goes to the back, for at most
// evictWalk of them; the first other one is the victim. A logged-in
// session that has expired is taken even when looking for an anonymous
// one: expired entries are the natural first victims, whatever their
// class. Caller holds sh's write lock.
func (s *Store) evictFrom(sh *shard, c class, now time.Time, keep1, keep2 string) (victim, bool) {
	if c == anonymous {
		if h := sh.lists[loggedIn].head; h != 0 {
			if e := sh.at(h); !e.aliveAt(now) && e.id != keep1 && e.id != keep2 {
				return s.evict(sh, e, now), true
			}
		}
	}
	l := &sh.lists[c]
	// Every step moves an entry to the back or returns, so a list of only
	// kept entries ends the walk after one pass.
	for step, n := 0, l.n.Load(); int64(step) < n; step++ {
		e := sh.at(l.head)
		switch {
		case e.id == keep1 || e.id == keep2:
			s.toBack(sh, e)
		case e.aliveAt(now) && e.referenced() && step < evictWalk:
			e.unreference()
			s.toBack(sh, e)
		default:
			return s.evict(sh, e, now), true
		}
	}
	return victim{}, false
}

// evict discards e and says what to report. Caller holds sh's write lock.
func (s *Store) evict(sh *shard, e *entry, now time.Time) victim {
	var v victim
	if !e.forwarding() {
		v = victim{id: e.id, user: e.meta.UserID, notify: e.aliveAt(now)}
	}
	s.discard(sh, e)
	sh.recycle(e)
	return v
}
