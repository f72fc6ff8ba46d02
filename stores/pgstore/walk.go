package pgstore

import (
	"context"
	"time"

	"github.com/sessionkit/sessionkit/core/store"
)

// walkBatch is how many sessions Walk reads in one round trip, and so
// the most it holds at once.
const walkBatch = 500

var _ store.Walker = (*Store)(nil)

// walked is one row of a walk's batch.
type walked struct {
	id string
	r  row
}

// Walk calls fn with every session live at now by its stored deadline (as
// ListUser: a walk has no idle timeout of the call), metadata only: values
// are never read. Forwarding entries and markers are never shown. A zero
// now means the store's clock.
//
// It reads the sessions in ID order, a batch of 500 per round trip, by
// keyset pagination: each batch is one statement on the primary key
// (WHERE id > the last ID shown ORDER BY id LIMIT 501; the extra row only
// tells whether there is more), so a batch costs the same however far the
// walk has come. Between batches Walk holds no connection, transaction,
// cursor, snapshot or lock: fn runs there, and may use the store (delete
// the session it was shown, say) or take its time without holding up
// anything. Walk holds one batch in memory, whatever the number of
// sessions.
//
// As each batch is read at its own moment, a session live for the whole
// walk is shown exactly once; one created, deleted or renewed while the
// walk runs may or may not be (a session renewed to an ID that sorts
// after the walk's position is shown again, under its new ID).
//
// Walk stops at fn's first error, which it returns as it is, and when ctx
// ends (checked before each batch and each call of fn), with an *Error
// wrapping ctx's error. A session row whose metadata this package did not
// write stops it with an *Error wrapping ErrCorrupt, as ListUser.
func (s *Store) Walk(ctx context.Context, now time.Time, fn func(store.Entry) error) error {
	ctx, err := begin(ctx, "walk")
	if err != nil {
		return err
	}
	now = s.clock(now)
	batch := make([]walked, 0, walkBatch+1)
	after := ""
	for {
		if batch, err = s.walkBatch(ctx, after, now, batch[:0]); err != nil {
			return &Error{Op: "walk", Err: err}
		}
		more := len(batch) > walkBatch
		if more {
			batch = batch[:walkBatch]
		}
		for i := range batch {
			w := &batch[i]
			if err := ctx.Err(); err != nil {
				return &Error{Op: "walk", Err: err}
			}
			// The stored deadline only, as the statement's filter.
			switch k, why := w.r.classify(now, time.Time{}); k {
			case kindCorrupt:
				return corrupt("walk", "session %.16s…: %s", w.id, why)
			case kindLive:
				if err := fn(store.Entry{ID: w.id, Meta: w.r.meta()}); err != nil {
					return err
				}
			}
		}
		if !more {
			return nil
		}
		after = batch[len(batch)-1].id
	}
}

// walkBatch reads, into buf, up to walkBatch+1 session rows live at now
// whose IDs sort after after.
func (s *Store) walkBatch(ctx context.Context, after string, now time.Time, buf []walked) ([]walked, error) {
	err := retry(func() error {
		buf = buf[:0]
		if err := ctx.Err(); err != nil {
			return err
		}
		rows, err := s.pool.Query(ctx, s.q.walk, after, now, walkBatch+1)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			buf = append(buf, walked{})
			w := &buf[len(buf)-1]
			if err := rows.Scan(append([]any{&w.id}, w.r.dest()...)...); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	return buf, err
}
