package memstore

import (
	"context"
	"errors"
	"time"
	"unsafe"

	"github.com/sessionkit/sessionkit/core/store"
)

// errRetry tells a write to start again: the record changed user between
// its unlocked peek and its locked check (so it locked the wrong user
// index), or its values map was replaced while it built the new one.
var errRetry = errors.New("memstore: retry")

// errNoRoom tells Create that the store was full when it came to account
// for the record under its locks, so it must evict with none held.
var errNoRoom = errors.New("memstore: no room")

// Create stores rec under id, taking ownership of rec.Values. An entry of
// either kind that is still alive at opts.Now makes id taken (ErrExists); an
// expired one is replaced. With opts.MaxPerUser set and rec bound to a user,
// the user's oldest sessions beyond the cap are deleted in the same locked
// step and returned. At Options.MaxSessions or MaxBytes it first evicts
// other sessions (see the package doc, Eviction); a record that on its own
// is over MaxBytes gets an error wrapping ErrFull.
func (s *Store) Create(ctx context.Context, id string, rec *store.Record, opts store.WriteOptions) ([]string, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, errNilRecord
	}
	now := s.nowOr(opts.Now)
	e := newRecord{meta: rec.Meta, values: rec.Values, expires: rec.Meta.Deadline(opts.Idle), class: classOf(rec.Meta.UserID)}
	e.size = recordSize(id, &rec.Meta, rec.Values)
	if err := s.tooBig(e.size); err != nil {
		return nil, err
	}
	var res reservation
	var ev victims
	defer s.report(&ev)
	if (e.class == anonymous || opts.MaxPerUser <= 0) && !s.fits(1, e.size) {
		// At the bounds, and nothing of the user's to replace: make room
		// before taking any lock, rather than lock, find no room and start
		// again. Eviction must not run under the locks Create holds.
		if err := s.makeRoom(&res, reservation{1, e.size}, s.shardIndex(id), now, id, "", &ev); err != nil {
			return nil, err
		}
	}
	for {
		evicted, missing, err := s.create(id, &e, now, opts.MaxPerUser, &res)
		if err != errNoRoom {
			return evicted, err
		}
		if err := s.makeRoom(&res, missing, s.shardIndex(id), now, id, "", &ev); err != nil {
			s.release(res.n, res.b)
			return nil, err
		}
	}
}

// create does Create's locked part. It settles res, what Create reserved
// so far, to the record net of what it replaces and what the per-user cap
// removes, so that a write that frees as much as it adds never evicts;
// when the rest does not fit it changes nothing and returns errNoRoom with
// what is missing. On any other outcome res is settled: used, or given
// back.
// newRecord is what Create stores, until create takes an entry for it.
type newRecord struct {
	meta    store.Meta
	values  map[string][]byte
	expires time.Time
	class   class
	size    int64
}

func (s *Store) create(id string, e *newRecord, now time.Time, limit int, res *reservation) (evicted []string, missing reservation, err error) {
	u := e.meta.UserID
	var us *userShard
	var idx []uint32
	if u != "" {
		us = s.userShard(u)
		us.mu.Lock()
		defer us.mu.Unlock()
	}
	if us != nil && limit > 0 {
		idx = s.shardsOf(us, u, id)
	} else {
		idx = []uint32{s.shardIndex(id)}
	}
	idx = s.lockShards(idx)
	defer s.unlockShards(idx)

	sh := s.shard(id)
	old := sh.get(id)
	if old != nil && old.aliveAt(now) {
		s.release(res.n, res.b)
		return nil, reservation{}, store.ErrExists
	}
	var victims, dead []string
	if us != nil && limit > 0 {
		victims, dead = s.evictionPlan(us, u, limit, now, id)
	}
	net := reservation{1 - int64(len(victims)+len(dead)), e.size - s.sizeOf(victims) - s.sizeOf(dead)}
	if old != nil {
		net.b -= old.size
		if !old.forwarding() {
			net.n--
		}
	}
	if missing, ok := s.settle(res, net.n, net.b); !ok {
		return nil, missing, errNoRoom
	}
	if old != nil {
		s.remove(sh, old)
		sh.recycle(old)
	}
	s.removeBound(us, u, victims)
	s.removeBound(us, u, dead)
	ne := sh.alloc()
	ne.meta, ne.values, ne.expires, ne.class, ne.size = e.meta, e.values, e.expires, e.class, e.size
	s.put(sh, id, ne)
	if us != nil {
		us.add(u, id)
	}
	return victims, reservation{}, nil
}

// Update applies ch to the live record under id: values copied and changed
// (never written in place), metadata replaced when ch.Meta is set, LastSeen
// set to ch.Now and the deadline moved to Meta.Deadline(ch.Idle), which
// applies the session's own idle timeout (Meta.Idle, of the new metadata
// when ch.Meta replaces it) instead of ch.Idle when it has one. A record
// that is missing or past its deadline at ch.Now (by its own idle timeout
// when it has one, whatever ch.Meta says) gets ErrNotFound, a live
// forwarding entry *store.ErrRenewed; either is left as it is. A nil ch
// writes nothing and only reports whether the record is live by the
// store's clock.
//
// The new values map is built with no lock held, from the map read under
// the read lock; the write lock is taken only to swap it in, if the
// record's map is still the one it was built from (otherwise Update starts
// again), so that a write to a large session never holds up the others in
// its shard. A write that grows the session past Options.MaxBytes evicts
// other sessions first; one that would make the session alone exceed it
// gets an error wrapping ErrFull and changes nothing.
func (s *Store) Update(ctx context.Context, id string, ch *store.Change) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if ch == nil {
		sh := s.shard(id)
		sh.mu.RLock()
		e := sh.get(id)
		ok := e != nil && !e.forwarding() && e.aliveAt(s.now())
		sh.mu.RUnlock()
		if !ok {
			return store.ErrNotFound
		}
		return nil
	}
	now := s.nowOr(ch.Now)
	for {
		oldUser, err := s.update(id, ch, now)
		if err == errRetry {
			continue
		}
		if err == nil && ch.Meta != nil && oldUser != "" && oldUser != ch.Meta.UserID {
			s.prune(oldUser, id)
		}
		return err
	}
}

// updatable is the outcome of an Update at now of e, the entry under its ID.
func updatable(e *entry, now time.Time, idle time.Duration) error {
	if e != nil && e.forwarding() && e.aliveAt(now) {
		return &store.ErrRenewed{Successor: e.successor}
	}
	if e == nil || !e.recordAt(now, idle) {
		return store.ErrNotFound
	}
	return nil
}

// update is one attempt at Update: it returns errRetry if the record's
// values changed while it built the new map. It returns the user the
// record was bound to before, whose index entry the caller prunes once
// unlocked.
func (s *Store) update(id string, ch *store.Change, now time.Time) (oldUser string, err error) {
	sh := s.shard(id)
	sh.mu.RLock()
	e := sh.get(id)
	if err := updatable(e, now, ch.Idle); err != nil {
		sh.mu.RUnlock()
		return "", err
	}
	old, oldSize, oldFixed := e.values, e.size, metaSize(id, &e.meta)
	oldBytes := valuesBytes(e)
	sh.mu.RUnlock()

	// The copy, and the accounting of the change, with no lock held: old
	// is never written once stored, so reading it needs none.
	values := ch.ApplyValues(old)
	newBytes := appliedSize(oldBytes, old, ch, values)
	if s.valuesBuilt != nil {
		s.valuesBuilt(id)
	}
	newFixed := oldFixed
	if ch.Meta != nil {
		newFixed = metaSize(id, ch.Meta)
	}
	size := recordOverhead + newFixed + newBytes
	if err := s.tooBig(size); err != nil {
		return "", err
	}
	var res reservation
	var ev victims
	defer s.report(&ev)
	if grow := size - oldSize; grow > 0 {
		if err := s.makeRoom(&res, reservation{0, grow}, s.shardIndex(id), now, id, "", &ev); err != nil {
			return "", err
		}
	}

	// Binding to a user puts the record in that user's index, so that
	// user's lock comes first.
	var us *userShard
	if ch.Meta != nil && ch.Meta.UserID != "" {
		us = s.userShard(ch.Meta.UserID)
		us.mu.Lock()
		defer us.mu.Unlock()
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	// Still the entry under id (neither removed nor moved by tidy), still
	// holding the map the copy was built from.
	if sh.get(id) != e || !sameMap(e.values, old) {
		s.release(res.n, res.b)
		return "", errRetry
	}
	if err := updatable(e, now, ch.Idle); err != nil {
		s.release(res.n, res.b)
		return "", err
	}
	meta := applyMeta(e.meta, ch, now)
	// Metadata may have changed since the peek (an Update with no value
	// change does not replace the map); the size is settled here.
	size = recordOverhead + metaSize(id, &meta) + newBytes
	if _, ok := s.settle(&res, 0, size-e.size); !ok {
		s.release(res.n, res.b)
		return "", errRetry
	}
	oldUser = e.meta.UserID
	e.values, e.meta, e.size = values, meta, size
	e.expires = e.meta.Deadline(ch.Idle)
	e.used()
	s.reclass(sh, e)
	if us != nil {
		us.add(ch.Meta.UserID, id)
	}
	return oldUser, nil
}

// sameMap reports whether a and b are the same map, not merely equal ones.
// Identity is what tells a write that nobody swapped the record's values
// while it built its copy: the map it holds cannot be freed and its
// address reused meanwhile. The write also checks that its entry is still
// the one stored under the ID, which it is not once tidy has moved it.
// Should the slot have been recycled for another record under the same ID
// meanwhile (see recycle), a record holding that very map still has
// exactly the values the copy was built from, and the metadata is read
// again under the lock.
func sameMap(a, b map[string][]byte) bool {
	return *(*unsafe.Pointer)(unsafe.Pointer(&a)) == *(*unsafe.Pointer)(unsafe.Pointer(&b))
}

// Renew moves the live record under oldID to newID with ch applied (values
// merged, metadata replaced when ch.Meta is set, LastSeen = ch.Now) and its
// deadline set from opts.Idle (ch.Idle when opts.Idle is zero), or from
// the session's own idle timeout when the resulting metadata has one. With
// opts.Grace > 0 oldID becomes a forwarding entry to newID until
// opts.Now+Grace; otherwise it is deleted. The check of oldID and the move
// happen under oldID's shard write lock, so exactly one concurrent Renew of
// oldID wins: the others find the forwarding entry (*store.ErrRenewed with
// the winner's ID) or nothing (ErrNotFound). A newID that is taken gets
// ErrExists and nothing changes. The per-user cap applies as in Create, to
// the user the record ends up bound to; the record's own old ID does not
// count against it.
func (s *Store) Renew(ctx context.Context, oldID, newID string, ch *store.Change, opts store.WriteOptions) ([]string, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	r := renewal{oldID: oldID, newID: newID, ch: ch, opts: opts, now: s.nowOr(opts.Now), idle: opts.Idle}
	if r.idle == 0 && ch != nil {
		r.idle = ch.Idle
	}
	r.lastSeen = r.now
	if ch != nil && !ch.Now.IsZero() {
		r.lastSeen = ch.Now
	}
	for {
		evicted, oldUser, target, err := s.renewOnce(&r)
		if err == errRetry {
			continue
		}
		if err == nil && oldUser != "" && oldUser != target {
			s.prune(oldUser, oldID)
		}
		return evicted, err
	}
}

// built is the new record's values, made outside the locks from the
// values of the entry a Renew peeked at.
type built struct {
	e      *entry            // the entry peeked at under oldID
	old    map[string][]byte // its values, which the new map was built from
	values map[string][]byte
	bytes  int64 // what values account for
	// res is what makeRoom accounted for ahead of the move.
	res reservation
}

// renewOnce is one attempt at Renew; errRetry means start again.
func (s *Store) renewOnce(r *renewal) (evicted []string, oldUser, target string, err error) {
	// Peek under the read lock to learn which user index to lock first,
	// and to read the values the new record is built from.
	sh := s.shard(r.oldID)
	sh.mu.RLock()
	e := sh.get(r.oldID)
	if err := r.check(e); err != nil {
		sh.mu.RUnlock()
		return nil, "", "", err
	}
	target = r.user(e)
	b := built{e: e, old: e.values}
	oldBytes, oldSize := valuesBytes(e), e.size
	newFixed := metaSize(r.newID, &e.meta)
	sh.mu.RUnlock()

	// The copy and its accounting with no lock held, as in Update.
	b.values = r.ch.ApplyValues(b.old)
	b.bytes = appliedSize(oldBytes, b.old, r.ch, b.values)
	if s.valuesBuilt != nil {
		s.valuesBuilt(r.oldID)
	}
	if r.ch != nil && r.ch.Meta != nil {
		newFixed = metaSize(r.newID, r.ch.Meta)
	}
	size := recordOverhead + newFixed + b.bytes
	if err := s.tooBig(size); err != nil {
		return nil, "", "", err
	}
	var ev victims
	defer s.report(&ev)
	if grow := size + r.forwardSize() - oldSize; grow > 0 {
		if err := s.makeRoom(&b.res, reservation{0, grow}, s.shardIndex(r.newID), r.now, r.oldID, r.newID, &ev); err != nil {
			return nil, "", "", err
		}
	}
	evicted, oldUser, err = s.renew(r, target, &b)
	return evicted, oldUser, target, err
}

// renewal carries one Renew call's arguments through its retries.
type renewal struct {
	oldID, newID  string
	ch            *store.Change
	opts          store.WriteOptions
	now, lastSeen time.Time
	idle          time.Duration
}

// check is the outcome of renewing e, the entry under oldID.
func (r *renewal) check(e *entry) error {
	switch {
	case e == nil:
		return store.ErrNotFound
	case e.forwarding():
		if e.aliveAt(r.now) {
			return &store.ErrRenewed{Successor: e.successor}
		}
		return store.ErrNotFound
	case !e.recordAt(r.now, r.idle):
		return store.ErrNotFound
	}
	return nil
}

// forwardSize is what the forwarding entry the Renew leaves accounts for.
func (r *renewal) forwardSize() int64 {
	if r.opts.Grace > 0 {
		return forwardSize(r.oldID, r.newID)
	}
	return 0
}

// user is the user the renewed record will be bound to.
func (r *renewal) user(e *entry) string {
	if r.ch != nil && r.ch.Meta != nil {
		return r.ch.Meta.UserID
	}
	return e.meta.UserID
}

// renew does Renew's locked part, with the values b built. Whatever it
// returns, b's reservation is accounted for: turned into the move's or
// given back.
func (s *Store) renew(r *renewal, target string, b *built) (evicted []string, oldUser string, err error) {
	limit := r.opts.MaxPerUser
	var us *userShard
	if target != "" {
		us = s.userShard(target)
		us.mu.Lock()
		defer us.mu.Unlock()
	}
	var idx []uint32
	if us != nil && limit > 0 {
		idx = s.shardsOf(us, target, r.oldID, r.newID)
	} else {
		idx = []uint32{s.shardIndex(r.oldID), s.shardIndex(r.newID)}
	}
	idx = s.lockShards(idx)
	defer s.unlockShards(idx)

	fail := func(err error) ([]string, string, error) {
		s.release(b.res.n, b.res.b)
		return nil, "", err
	}
	oldSh, newSh := s.shard(r.oldID), s.shard(r.newID)
	e := oldSh.get(r.oldID)
	if err := r.check(e); err != nil {
		return fail(err)
	}
	if r.user(e) != target || e != b.e || !sameMap(e.values, b.old) {
		return fail(errRetry)
	}
	var freed, freedBytes int64
	n := newSh.get(r.newID)
	if n != nil {
		if n.aliveAt(r.now) { // also when newID == oldID
			return fail(store.ErrExists)
		}
		freedBytes += n.size
		if !n.forwarding() {
			freed++
		}
	}
	var dead []string
	if us != nil && limit > 0 {
		evicted, dead = s.evictionPlan(us, target, limit, r.now, r.oldID, r.newID)
	}
	freed += int64(len(evicted) + len(dead))
	freedBytes += s.sizeOf(evicted) + s.sizeOf(dead)

	meta := applyMeta(e.meta, r.ch, r.lastSeen)
	size := recordOverhead + metaSize(r.newID, &meta) + b.bytes
	fwd := r.forwardSize()
	// The move itself neither adds nor removes a record; its bytes are
	// settled against the reservation, the metadata having possibly
	// changed since the peek.
	if _, ok := s.settle(&b.res, -freed, size+fwd-e.size-freedBytes); !ok {
		return fail(errRetry)
	}

	if n != nil {
		s.remove(newSh, n)
		newSh.recycle(n)
	}
	s.removeBound(us, target, evicted)
	s.removeBound(us, target, dead)
	oldUser = e.meta.UserID
	s.remove(oldSh, e)
	oldSh.recycle(e)
	ne := newSh.alloc()
	ne.values, ne.meta, ne.size = b.values, meta, size
	ne.expires = meta.Deadline(r.idle)
	ne.class = classOf(meta.UserID)
	ne.ref = 1 // a request is using it right now
	s.put(newSh, r.newID, ne)
	if r.opts.Grace > 0 {
		fe := oldSh.alloc()
		fe.successor, fe.expires, fe.class, fe.size = r.newID, r.now.Add(r.opts.Grace), ne.class, fwd
		s.put(oldSh, r.oldID, fe)
	}
	if us != nil {
		us.add(target, r.newID)
		if oldUser == target {
			us.remove(target, r.oldID)
		}
	}
	return evicted, oldUser, nil
}

// Delete removes the record under id, or the forwarding entry under id and
// the chain of sessions it forwards to, and reports whether a live record
// (by the store's clock) was among them. The user-index entries are pruned
// after each shard is released.
func (s *Store) Delete(ctx context.Context, id string) (existed bool, err error) {
	if err := ctxErr(ctx); err != nil {
		return false, err
	}
	// A chain is as long as the rotations within one grace window; the
	// bound only guards against a cycle, which Renew never makes.
	for hop := 0; hop < maxForwardHops && id != ""; hop++ {
		sh := s.shard(id)
		sh.mu.Lock()
		e := sh.get(id)
		if e == nil {
			sh.mu.Unlock()
			break
		}
		s.discard(sh, e)
		// Read before e is recycled: another write may reuse it as soon as
		// the shard is unlocked.
		successor, user, expires := e.successor, e.meta.UserID, e.expires
		sh.recycle(e)
		sh.unlock()
		if successor != "" {
			id = successor
			continue
		}
		if user != "" {
			s.prune(user, id)
		}
		return s.now().Before(expires), nil
	}
	return false, nil
}

// maxForwardHops bounds how far Delete follows forwarding entries.
const maxForwardHops = 16
