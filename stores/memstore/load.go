package memstore

import (
	"context"
	"time"

	"github.com/sessionkit/sessionkit/core/store"
)

// Load returns the record under id, or a forwarding entry (Successor set)
// during a Renew's grace period. The returned Values map is the stored one,
// not a copy, and so is Meta.Metadata: they are read-only for the caller,
// and the store never writes to them either. A zero opts.Now means the
// store's clock.
//
// Only the shard's read lock is taken unless the idle deadline is due for
// extension (Now-LastSeen >= TouchAfter); then the write lock is taken and
// the record checked again under it, since it may have changed in between.
// Either way the entry is marked as used, for eviction, with an atomic
// flag: a read never moves it in its list.
func (s *Store) Load(ctx context.Context, id string, opts store.LoadOptions) (*store.Record, error) {
	var rec store.Record
	if _, err := s.LoadInto(ctx, id, opts, &rec); err != nil {
		return nil, err
	}
	out := rec // only this copy escapes, allocated only on success
	return &out, nil
}

// LoadInto is Load writing the record into *rec, which it overwrites,
// rather than allocating one; on an error *rec is left as it was. It
// returns the ID as the store holds it: the same string as id, which a
// caller that built id in a temporary buffer can keep instead of a copy of
// its own. It keeps neither id nor rec.
func (s *Store) LoadInto(ctx context.Context, id string, opts store.LoadOptions, rec *store.Record) (storedID string, err error) {
	if err := ctxErr(ctx); err != nil {
		return "", err
	}
	now := s.nowOr(opts.Now)
	sh := s.shard(id)

	sh.mu.RLock()
	e := sh.get(id)
	touch, err := loadable(e, now, opts)
	if err != nil || !touch {
		if err == nil {
			snapshot(e, rec)
			e.used()
			storedID = e.id
		}
		sh.mu.RUnlock()
		return storedID, err
	}
	sh.mu.RUnlock()

	sh.mu.Lock()
	e = sh.get(id)
	touch, err = loadable(e, now, opts)
	if err != nil {
		sh.mu.Unlock()
		return "", err
	}
	if touch {
		e.meta.LastSeen = now
		e.expires = e.meta.Deadline(opts.Idle)
	}
	snapshot(e, rec)
	e.used()
	storedID = e.id
	sh.mu.Unlock()
	return storedID, nil
}

// loadable classifies e for a Load at now: the outcome error, or whether the
// idle deadline is due for extension. A touch only ever moves LastSeen
// forward, so a caller with a lagging clock cannot shorten a session.
func loadable(e *entry, now time.Time, opts store.LoadOptions) (touch bool, err error) {
	switch {
	case e == nil:
		return false, store.ErrNotFound
	case e.forwarding():
		// Grace is a fixed window: reading through it never extends it.
		if e.aliveAt(now) {
			return false, nil
		}
		return false, store.ErrNotFound
	case !e.recordAt(now, opts.Idle):
		return false, store.ErrExpired
	}
	d := now.Sub(e.meta.LastSeen)
	return d > 0 && d >= opts.TouchAfter, nil
}

// snapshot is what Load hands out, written to rec: a copy of the metadata
// and the stored values map itself. Caller holds a lock on e's shard.
func snapshot(e *entry, rec *store.Record) {
	if e.forwarding() {
		*rec = store.Record{Successor: e.successor}
		return
	}
	*rec = store.Record{Meta: e.meta, Values: e.values}
}
