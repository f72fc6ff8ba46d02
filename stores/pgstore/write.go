package pgstore

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sessionkit/sessionkit/core/store"
)

// Create stores rec under id: the session row and one row per value, in
// one statement (one round trip), with a deadline of
// rec.Meta.Deadline(opts.Idle) (the session's own idle timeout, when it
// has one, in place of opts.Idle). Any row under id, a session or what a
// renewal left, makes id taken: ErrExists, and nothing is written (the
// primary key refuses the row, which aborts the statement).
//
// With opts.MaxPerUser set and the record bound to a user, the same round
// trip takes the user's advisory lock first (concurrent Creates of one
// user's sessions run one after the other, so none can exceed the cap)
// and deletes the user's oldest live sessions beyond the cap, by
// CreatedAt, which it returns. A victim renewed at that very moment is
// deleted all the same, and its successor with it, in one more round trip.
func (s *Store) Create(ctx context.Context, id string, rec *store.Record, opts store.WriteOptions) ([]string, error) {
	ctx, err := begin(ctx, "create")
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, &Error{Op: "create", Err: errNilRecord}
	}
	defer s.forget(id)
	now := s.clock(opts.Now)
	m := &rec.Meta
	keys, vals := valueLists(rec.Values)
	args := append([]any{id, userParam(m.UserID), m.CreatedAt, m.IssuedAt, m.LastSeen, m.ExpiresAt,
		m.Deadline(max(opts.Idle, 0)), text(m.UserAgent), text(m.IP), keys, vals}, loginArgs(m)...)

	if m.UserID == "" || opts.MaxPerUser <= 0 {
		err := retry(func() error {
			_, err := s.pool.Exec(ctx, s.q.create, args...)
			return err
		})
		return nil, s.createErr(err)
	}

	b := &pgx.Batch{}
	b.Queue(s.q.lock, userParam(m.UserID))
	b.Queue(s.q.create, args...)
	b.Queue(s.q.evictCreate, userParam(m.UserID), now, opts.MaxPerUser-1, id)
	var ev []deleted
	err = s.run(ctx, b, func(br pgx.BatchResults) error {
		if _, err := br.Exec(); err != nil {
			return err
		}
		if _, err := br.Exec(); err != nil {
			return err
		}
		var err error
		ev, err = scanDeleted(br)
		return err
	})
	s.forgetDeleted(ev)
	if err != nil {
		return nil, s.createErr(err)
	}
	return s.finishEvictions(ctx, "create", m.UserID, now, ev, []string{id})
}

// createErr is the answer to a Create that failed with err (nil: none).
func (s *Store) createErr(err error) error {
	switch {
	case err == nil:
		return nil
	case s.takenID(err):
		return store.ErrExists
	}
	return &Error{Op: "create", Err: err}
}

// Update applies ch to the live record under id in one round trip: one
// pipelined batch, which PostgreSQL runs as one transaction. Its first
// statement moves LastSeen to ch.Now and the deadline with it (and
// replaces the metadata when ch.Meta is set), on a row that is live at
// ch.Now only, and locks it; the next delete the keys ch clears or
// deletes and write the keys it sets, one row each, only the keys ch
// names, and only if the first made the row live. Where the session has
// an idle timeout of its own it replaces ch.Idle: in the liveness check
// the one the row holds, in the new deadline that of ch.Meta when set,
// else the row's. A missing, expired or revoked
// record is ErrNotFound and is never recreated (there is no row to lock,
// and a value row needs its session's); a forwarding entry is
// *store.ErrRenewed. Because the value statements start after the lock is
// granted, they see every write committed before, so concurrent Updates of
// one session apply one after the other, whole.
//
// A nil ch writes nothing and reports whether the record is live by the
// store's clock.
func (s *Store) Update(ctx context.Context, id string, ch *store.Change) error {
	ctx, err := begin(ctx, "update")
	if err != nil {
		return err
	}
	if ch == nil {
		return s.liveNow(ctx, id)
	}
	defer s.forget(id)
	now := s.clock(ch.Now)
	cutoff, until := window(now, ch.Idle)
	b := &pgx.Batch{}
	if m := ch.Meta; m != nil {
		b.Queue(s.q.updateMeta, append([]any{id, now, cutoff, untilFor(now, m, ch.Idle), userParam(m.UserID),
			m.CreatedAt, m.IssuedAt, m.ExpiresAt, text(m.UserAgent), text(m.IP)}, loginArgs(m)...)...)
	} else {
		b.Queue(s.q.update, id, now, cutoff, until)
	}
	if ch.Clear || len(ch.Del) > 0 {
		b.Queue(s.q.updateDel, id, now, cutoff, ch.Clear, keyList(ch.Del), setKeys(ch.Set))
	}
	if len(ch.Set) > 0 {
		keys, vals := valueLists(ch.Set)
		b.Queue(s.q.upsert, id, now, cutoff, keys, vals)
	}

	var updated bool
	var snap row
	err = s.run(ctx, b, func(br pgx.BatchResults) error {
		var n int64
		if err := br.QueryRow().Scan(append([]any{&n}, snap.dest()...)...); err != nil {
			return err
		}
		updated = n == 1
		for range b.Len() - 1 {
			if _, err := br.Exec(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return &Error{Op: "update", Err: err}
	}
	if updated {
		return nil
	}
	return s.refused(ctx, "update", id, &snap, now, cutoff)
}

// refused explains a write that found no live record under id: from the
// row as the statement's snapshot had it, or, when that shows a live
// record (the statement waited for a lock, and the holder changed the row
// before letting go), from the row as it is now.
func (s *Store) refused(ctx context.Context, op, id string, snap *row, now, cutoff time.Time) error {
	if k, _ := snap.classify(now, cutoff); k != kindLive {
		return refusal(op, snap, now, cutoff)
	}
	var cur row
	err := retry(func() error { return s.pool.QueryRow(ctx, s.q.status, id).Scan(cur.dest()...) })
	if err != nil {
		return &Error{Op: op, Err: err}
	}
	if k, _ := cur.classify(now, cutoff); k != kindLive {
		return refusal(op, &cur, now, cutoff)
	}
	// Live both before and after a write that found it not live: only a
	// new row under the same ID (a 2^-256 collision) or a bug.
	return &Error{Op: op, Err: errors.New("the record changed under the write")}
}

// liveNow reports, reading only, whether id is a live record by the
// store's clock and its stored deadline.
func (s *Store) liveNow(ctx context.Context, id string) error {
	var r row
	if err := s.pool.QueryRow(ctx, s.q.status, id).Scan(r.dest()...); err != nil {
		return &Error{Op: "update", Err: err}
	}
	switch k, why := r.classify(s.clock(time.Time{}), time.Time{}); k {
	case kindLive:
		return nil
	case kindCorrupt:
		return corrupt("update", "%s", why)
	}
	return store.ErrNotFound
}
