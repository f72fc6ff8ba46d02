package pgstore

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/sessionkit/sessionkit/core/store"
)

// maxHops bounds how far a deletion follows forwarding entries. A chain is
// as long as the rotations within one grace window; the bound only guards
// against a cycle, which Renew never makes.
const maxHops = 16

// deleted is one row a deleting statement removed.
type deleted struct {
	id, state string
	successor pgtype.Text
	live      bool // a session, live by its stored deadline
}

// Delete removes the row under id and, when it is a forwarding entry or
// the marker of a renewal without grace, the rows it leads to: a logout or
// revocation that loaded the session just before a rotation must not
// leave the rotated successor alive. existed reports whether a live
// session (by the store's clock) was among them. One round trip: the
// lock of the session's lineage, which a Renew holds while it rotates
// (so a rotation in flight lands first and its successor is deleted, or
// waits and then finds its row gone), then one statement; values go with
// their session (ON DELETE CASCADE). A chain longer than the statement
// follows is deleted in further round trips.
func (s *Store) Delete(ctx context.Context, id string) (bool, error) {
	ctx, err := begin(ctx, "delete")
	if err != nil {
		return false, err
	}
	now := s.clock(time.Time{})
	rows, err := s.deleteChain(ctx, []string{id}, "", now, nil)
	if err == nil {
		var more []deleted
		more, err = s.chase(ctx, "", now, rows, nil)
		rows = append(rows, more...)
	}
	if err != nil {
		return false, &Error{Op: "delete", Err: err}
	}
	for _, d := range rows {
		if d.live {
			return true, nil
		}
	}
	return false, nil
}

// deleteChain runs the deleteChain statement: the rows under ids and those
// their forwarding entries lead to, of user only (any when empty), never
// those in keep.
func (s *Store) deleteChain(ctx context.Context, ids []string, user string, now time.Time, keep []string) ([]deleted, error) {
	if keep == nil {
		keep = []string{} // a NULL array would keep everything
	}
	b := &pgx.Batch{}
	b.Queue(s.q.lockLineage, ids)
	b.Queue(s.q.deleteChain, ids, userParam(user), now, keep)
	var out []deleted
	err := s.run(ctx, b, func(br pgx.BatchResults) error {
		if _, err := br.Exec(); err != nil {
			return err
		}
		var err error
		out, err = scanDeleted(br)
		return err
	})
	s.forget(ids...)
	s.forgetDeleted(out)
	return out, err
}

// chase deletes the successors of forwarding entries and markers among
// done that no statement has deleted yet: renewals that landed while a
// deleting statement waited for its locks. Only rows of user (any when
// empty), never those in keep. It returns what it deleted.
func (s *Store) chase(ctx context.Context, user string, now time.Time, done []deleted, keep []string) ([]deleted, error) {
	seen := make(map[string]bool, len(done)+len(keep))
	for _, id := range keep {
		seen[id] = true
	}
	for _, d := range done {
		seen[d.id] = true
	}
	var out []deleted
	pending := successors(done, seen)
	for hop := 0; len(pending) > 0 && hop < maxHops; hop++ {
		rows, err := s.deleteChain(ctx, pending, user, now, keep)
		if err != nil {
			return out, err
		}
		for _, d := range rows {
			seen[d.id] = true
		}
		out = append(out, rows...)
		pending = successors(rows, seen)
	}
	return out, nil
}

// successors are the IDs that the renewed rows among rows lead to and that
// are not in seen.
func successors(rows []deleted, seen map[string]bool) []string {
	var ids []string
	for _, d := range rows {
		if d.state == stateLive || !d.successor.Valid || !store.ValidID(d.successor.String) {
			continue
		}
		if next := d.successor.String; !seen[next] {
			seen[next] = true
			ids = append(ids, next)
		}
	}
	return ids
}

// collectDeleted reads the RETURNING rows of a deleting statement.
func collectDeleted(rows pgx.Rows) ([]deleted, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (deleted, error) {
		var d deleted
		err := r.Scan(&d.id, &d.state, &d.successor, &d.live)
		return d, err
	})
}

// scanDeleted reads a deleting statement's rows from a batch.
func scanDeleted(br pgx.BatchResults) ([]deleted, error) {
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	return collectDeleted(rows)
}

// finishEvictions turns the rows a cap eviction deleted into the IDs to
// report (the live sessions), after deleting the successors of victims
// that were being renewed at that moment, which are the user's live
// sessions now. keep holds the session being added.
func (s *Store) finishEvictions(ctx context.Context, op, user string, now time.Time, ev []deleted, keep []string) ([]string, error) {
	more, err := s.chase(ctx, user, now, ev, keep)
	var ids []string
	for _, d := range append(ev, more...) {
		if d.live {
			ids = append(ids, d.id)
		}
	}
	if err != nil {
		return ids, &Error{Op: op + ": evict", Err: err}
	}
	return ids, nil
}
