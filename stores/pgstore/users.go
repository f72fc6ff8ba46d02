package pgstore

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sessionkit/sessionkit/core/store"
)

// ListUser returns userID's sessions live at now, metadata only, in one
// query on the user_id index; values are never read. A row of the user
// whose metadata this package did not write is an error wrapping
// ErrCorrupt. A zero now means the store's clock.
func (s *Store) ListUser(ctx context.Context, userID string, now time.Time) ([]store.Entry, error) {
	ctx, err := begin(ctx, "list")
	if err != nil {
		return nil, err
	}
	if userID == "" {
		return nil, nil // anonymous sessions are nobody's
	}
	now = s.clock(now)
	type listed struct {
		id string
		r  row
	}
	var found []listed
	err = retry(func() error {
		found = found[:0]
		rows, err := s.pool.Query(ctx, s.q.list, userParam(userID), now)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var l listed
			if err := rows.Scan(append([]any{&l.id}, l.r.dest()...)...); err != nil {
				return err
			}
			found = append(found, l)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, &Error{Op: "list", Err: err}
	}
	out := make([]store.Entry, 0, len(found))
	for _, l := range found {
		// The stored deadline only: a listing has no idle timeout.
		switch k, why := l.r.classify(now, time.Time{}); k {
		case kindCorrupt:
			return nil, corrupt("list", "%s", why)
		case kindLive:
			out = append(out, store.Entry{ID: l.id, Meta: l.r.meta()})
		}
	}
	return out, nil
}

// DeleteUser deletes every row bound to userID except keepID and what
// keepID was renewed to, and returns the IDs of the live sessions among
// them. One round trip: the user's advisory lock, exclusive (so that a
// capped Create or a login for the user, and every renewal of one of the
// user's sessions, which holds it shared, waits or goes first), then one
// statement deleting the user's rows in ID order, forwarding entries and
// markers included. A renewal cannot outrun it: one in flight lands
// before the statement's snapshot, and one after finds its row gone. A
// session created for the user after the statement's snapshot survives:
// it was created after the revocation.
func (s *Store) DeleteUser(ctx context.Context, userID, keepID string) ([]string, error) {
	ctx, err := begin(ctx, "delete user")
	if err != nil {
		return nil, err
	}
	if userID == "" {
		return nil, nil
	}
	now := s.clock(time.Time{})
	b := &pgx.Batch{}
	b.Queue(s.q.lock, userParam(userID))
	b.Queue(s.q.deleteUser, userParam(userID), keepID, now)
	var rows []deleted
	err = s.run(ctx, b, func(br pgx.BatchResults) error {
		if _, err := br.Exec(); err != nil {
			return err
		}
		var err error
		rows, err = scanDeleted(br)
		return err
	})
	s.forgetDeleted(rows)
	var keep []string
	if keepID != "" {
		keep = []string{keepID}
	}
	if err == nil {
		var more []deleted
		more, err = s.chase(ctx, userID, now, rows, keep)
		rows = append(rows, more...)
	}
	var ids []string
	for _, d := range rows {
		if d.live {
			ids = append(ids, d.id)
		}
	}
	if err != nil {
		return ids, &Error{Op: "delete user", Err: err}
	}
	return ids, nil
}
