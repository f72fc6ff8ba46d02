package memstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sessionkit/sessionkit/core/store"
)

// errRetry tells Renew that the record changed user between its unlocked
// peek and its locked check, so it locked the wrong user index.
var errRetry = errors.New("memstore: retry")

// Create stores rec under id, taking ownership of rec.Values. An entry of
// either kind that is still alive at opts.Now makes id taken (ErrExists); an
// expired one is replaced. With opts.MaxPerUser set and rec bound to a user,
// the user's oldest sessions beyond the cap are deleted in the same locked
// step and returned. Beyond Options.MaxSessions it returns an error wrapping
// ErrFull, after sweeping expired records once to make room.
func (s *Store) Create(ctx context.Context, id string, rec *store.Record, opts store.WriteOptions) ([]string, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, errNilRecord
	}
	now := s.nowOr(opts.Now)
	e := &entry{meta: rec.Meta, values: rec.Values, expires: rec.Meta.Deadline(opts.Idle)}
	evicted, err := s.create(id, e, now, opts.MaxPerUser)
	if errors.Is(err, ErrFull) {
		// Expired records count until removed; don't refuse on their account.
		s.sweep()
		evicted, err = s.create(id, e, now, opts.MaxPerUser)
	}
	return evicted, err
}

func (s *Store) create(id string, e *entry, now time.Time, limit int) ([]string, error) {
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
	var freed int64
	if old := sh.m[id]; old != nil {
		if old.aliveAt(now) {
			return nil, store.ErrExists
		}
		if !old.forwarding() {
			freed++
		}
	}
	var victims, dead []string
	if us != nil && limit > 0 {
		victims, dead = s.evictionPlan(us, u, limit, now, id)
	}
	freed += int64(len(victims) + len(dead))
	if !s.admit(1 - freed) {
		return nil, fmt.Errorf("%w (%d sessions)", ErrFull, s.maxSessions)
	}
	s.removeBound(us, u, victims)
	s.removeBound(us, u, dead)
	sh.m[id] = e
	if us != nil {
		us.add(u, id)
	}
	return victims, nil
}

// Update applies ch to the live record under id: values copied and changed
// (never written in place), metadata replaced when ch.Meta is set, LastSeen
// set to ch.Now and the deadline moved to Meta.Deadline(ch.Idle). A record
// that is missing or past its deadline at ch.Now gets ErrNotFound, a live
// forwarding entry *store.ErrRenewed; either is left as it is. A nil ch writes nothing and only reports
// whether the record is live by the store's clock.
func (s *Store) Update(ctx context.Context, id string, ch *store.Change) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if ch == nil {
		sh := s.shard(id)
		sh.mu.RLock()
		e := sh.m[id]
		ok := e != nil && !e.forwarding() && e.aliveAt(s.now())
		sh.mu.RUnlock()
		if !ok {
			return store.ErrNotFound
		}
		return nil
	}
	now := s.nowOr(ch.Now)
	oldUser, err := s.update(id, ch, now)
	if err == nil && ch.Meta != nil && oldUser != "" && oldUser != ch.Meta.UserID {
		s.prune(oldUser, id)
	}
	return err
}

// update does Update's locked part and returns the user the record was
// bound to before, whose index entry the caller prunes once unlocked.
func (s *Store) update(id string, ch *store.Change, now time.Time) (oldUser string, err error) {
	// Binding to a user puts the record in that user's index, so that
	// user's lock comes first.
	var us *userShard
	if ch.Meta != nil && ch.Meta.UserID != "" {
		us = s.userShard(ch.Meta.UserID)
		us.mu.Lock()
		defer us.mu.Unlock()
	}
	sh := s.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.m[id]
	if e != nil && e.forwarding() && e.aliveAt(now) {
		return "", &store.ErrRenewed{Successor: e.successor}
	}
	if e == nil || !e.recordAt(now, ch.Idle) {
		return "", store.ErrNotFound
	}
	oldUser = e.meta.UserID
	e.values = ch.ApplyValues(e.values)
	e.meta = applyMeta(e.meta, ch, now)
	e.expires = e.meta.Deadline(ch.Idle)
	if us != nil {
		us.add(ch.Meta.UserID, id)
	}
	return oldUser, nil
}

// Renew moves the live record under oldID to newID with ch applied (values
// merged, metadata replaced when ch.Meta is set, LastSeen = ch.Now) and its
// deadline set from opts.Idle (ch.Idle when opts.Idle is zero). With
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
		// Peek without locks to learn which user index to lock first.
		sh := s.shard(oldID)
		sh.mu.RLock()
		e := sh.m[oldID]
		err := r.check(e)
		var target string
		if err == nil {
			target = r.user(e)
		}
		sh.mu.RUnlock()
		if err != nil {
			return nil, err
		}

		evicted, oldUser, err := s.renew(&r, target)
		if err == errRetry {
			continue
		}
		if err == nil && oldUser != "" && oldUser != target {
			s.prune(oldUser, oldID)
		}
		return evicted, err
	}
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

// user is the user the renewed record will be bound to.
func (r *renewal) user(e *entry) string {
	if r.ch != nil && r.ch.Meta != nil {
		return r.ch.Meta.UserID
	}
	return e.meta.UserID
}

func (s *Store) renew(r *renewal, target string) (evicted []string, oldUser string, err error) {
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

	oldSh, newSh := s.shard(r.oldID), s.shard(r.newID)
	e := oldSh.m[r.oldID]
	if err := r.check(e); err != nil {
		return nil, "", err
	}
	if r.user(e) != target {
		return nil, "", errRetry
	}
	var freed int64
	if n := newSh.m[r.newID]; n != nil {
		if n.aliveAt(r.now) { // also when newID == oldID
			return nil, "", store.ErrExists
		}
		if !n.forwarding() {
			freed++
		}
	}
	var dead []string
	if us != nil && limit > 0 {
		evicted, dead = s.evictionPlan(us, target, limit, r.now, r.oldID, r.newID)
	}
	s.removeBound(us, target, evicted)
	s.removeBound(us, target, dead)
	// The move itself neither adds nor removes a record.
	s.live.Add(-(freed + int64(len(evicted)+len(dead))))

	ne := &entry{values: r.ch.ApplyValues(e.values), meta: applyMeta(e.meta, r.ch, r.lastSeen)}
	ne.expires = ne.meta.Deadline(r.idle)
	newSh.m[r.newID] = ne
	if r.opts.Grace > 0 {
		oldSh.m[r.oldID] = &entry{successor: r.newID, expires: r.now.Add(r.opts.Grace)}
	} else {
		delete(oldSh.m, r.oldID)
	}
	oldUser = e.meta.UserID
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
		e := sh.m[id]
		if e != nil {
			delete(sh.m, id)
		}
		sh.mu.Unlock()
		// e is unreachable now, so reading it without the lock is safe.
		if e == nil {
			break
		}
		if e.forwarding() {
			id = e.successor
			continue
		}
		s.live.Add(-1)
		if e.meta.UserID != "" {
			s.prune(e.meta.UserID, id)
		}
		return e.aliveAt(s.now()), nil
	}
	return false, nil
}

// maxForwardHops bounds how far Delete follows forwarding entries.
const maxForwardHops = 16
