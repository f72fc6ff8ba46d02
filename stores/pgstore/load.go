package pgstore

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/stores/internal/nearcache"
)

// Load returns the record under id, or a forwarding entry (Successor set)
// during a Renew's grace period.
//
// A read is one SELECT of the row and its values (aggregated into one
// result row), checked here: nothing is written, no row is locked, and no
// transaction ID is spent. Only when Now-LastSeen has reached
// opts.TouchAfter does a second statement move LastSeen and the deadline,
// after checking again that the record is still live; that costs a second
// round trip once per touch window per session (a quarter of the idle
// timeout by default), and saves every other read from being a write (the
// package doc has the reasoning and the figures).
//
// A record past its deadline at opts.Now (by its idle timeout, which is
// the session's own when it has one and else this call's, by the stored
// deadline, or by its absolute lifetime) is ErrExpired, even before the
// janitor deletes it; a touch extends the deadline by the same idle
// timeout. A row this package did not write is an
// error wrapping ErrCorrupt. A zero opts.Now means the store's clock.
func (s *Store) Load(ctx context.Context, id string, opts store.LoadOptions) (*store.Record, error) {
	ctx, err := begin(ctx, "load")
	if err != nil {
		return nil, err
	}
	now := s.clock(opts.Now)
	var t nearcache.Ticket
	var sent time.Time
	if s.cache != nil {
		if rec := s.cacheGet(id, now, opts); rec != nil {
			return rec, nil
		}
		t, sent = s.cache.Ticket(id), time.Now()
	}
	cutoff, until := window(now, opts.Idle)
	rec, dl, err := s.read(ctx, id, now, cutoff)
	if err != nil || rec.Successor != "" {
		return rec, err
	}
	if d := now.Sub(rec.Meta.LastSeen); d > 0 && d >= opts.TouchAfter {
		// The touch changes the record: what the cache held of it is old.
		defer s.forget(id)
		return s.touch(ctx, id, rec, now, cutoff, until)
	}
	if s.cache != nil {
		s.cachePut(t, sent, id, rec, dl)
	}
	return rec, nil
}

// read is one Load query, classified at now; dl is a live record's stored
// deadline.
func (s *Store) read(ctx context.Context, id string, now, cutoff time.Time) (rec *store.Record, dl time.Time, err error) {
	var r row
	var keys, vals [][]byte
	err = s.pool.QueryRow(ctx, s.q.load, id).Scan(append(r.dest(), &keys, &vals)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, dl, store.ErrNotFound
	}
	if err != nil {
		return nil, dl, &Error{Op: "load", Err: err}
	}
	switch k, why := r.classify(now, cutoff); k {
	case kindMissing:
		return nil, dl, store.ErrNotFound
	case kindExpired:
		return nil, dl, store.ErrExpired
	case kindForward:
		return &store.Record{Successor: r.successor.String}, dl, nil
	case kindCorrupt:
		return nil, dl, corrupt("load", "%s", why)
	}
	if len(keys) != len(vals) {
		return nil, dl, corrupt("load", "%d keys, %d values", len(keys), len(vals))
	}
	rec = &store.Record{Meta: r.meta()}
	if len(keys) > 0 {
		rec.Values = make(map[string][]byte, len(keys))
		for i, k := range keys {
			rec.Values[string(k)] = vals[i]
		}
	}
	return rec, r.deadln.Time, nil
}

// touch moves the record's LastSeen to now and its deadline with it,
// unless the record stopped being live since it was read or a request with
// a later clock moved it already: then the record is read again and
// returned as it is now (or the outcome a Load would now give).
func (s *Store) touch(ctx context.Context, id string, rec *store.Record, now, cutoff, until time.Time) (*store.Record, error) {
	var touched bool
	err := retry(func() error {
		tag, err := s.pool.Exec(ctx, s.q.touch, id, now, cutoff, until)
		touched = tag.RowsAffected() == 1
		return err
	})
	if err != nil {
		return nil, &Error{Op: "load: touch", Err: err}
	}
	if touched {
		rec.Meta.LastSeen = now
		return rec, nil
	}
	rec, _, err = s.read(ctx, id, now, cutoff)
	return rec, err
}

// retry runs f again (at most attempts times in all) while it fails with
// an error that rolled its transaction back and may simply be run again.
func retry(f func() error) error {
	var err error
	for i := 0; i < attempts; i++ {
		if err = f(); !retryable(err) {
			return err
		}
	}
	return err
}
