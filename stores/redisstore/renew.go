package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/core/store"
)

// Renew moves the live record under oldID to newID with ch applied (values
// merged, metadata replaced when ch.Meta is set, LastSeen = ch.Now), its
// deadline set from the record's own idle timeout (that of ch.Meta when
// set) where it has one, else from opts.Idle (ch.Idle when zero). Two
// round trips, since the two IDs live in different cluster slots, each a
// step of its own:
//
//  1. claim: the claim script on oldID, pipelined with EXISTS newID: it
//     checks that oldID is a live record, reads all of it and, in the same
//     step, turns it into a forwarding entry to newID whose grace ends
//     after opts.Grace (without grace, into a marker that loads as
//     missing). This is the exactly-one-winner guard across processes: a
//     concurrent Renew finds the forwarding entry (*store.ErrRenewed
//     naming the winner) or the marker (ErrNotFound). The entry keeps a
//     copy of the record until the second round trip, so that the claim
//     run again for the same newID (go-redis resends a round trip whose
//     reply it lost, and the server may have run it) gets what the first
//     run got.
//  2. commit: a pipeline creating newID with the merged record (a record
//     already there with the same metadata is this write, run again),
//     moving the session's entry between user indexes (enforcing
//     opts.MaxPerUser when the session joins a user), and dropping the
//     claim's copy, which gives the forwarding entry the TTL of its grace
//     period.
//
// A newID found taken in the first round trip gets ErrExists; the second
// round trip then undoes the claim instead, restoring oldID. A newID taken
// between the two (found by the commit) gets ErrExists too, once
// undoRenew has tried to restore oldID and its index entries. Evictions
// under the cap take two more round trips. A first round trip that fails
// leaves unknown whether the claim ran: Renew puts the record back from
// the claim's copy, if there is one, and reports the failure. If the call
// is interrupted between the two round trips (a crash, a network failure),
// the session is lost, never duplicated: the old ID forwards to, or was
// replaced for, an ID that never appears.
func (s *Store) Renew(ctx context.Context, oldID, newID string, ch *store.Change, opts store.WriteOptions) ([]string, error) {
	ctx, err := begin(ctx)
	if err != nil {
		return nil, err
	}
	defer s.forget(oldID, newID)
	r := &renewal{oldID: oldID, newID: newID, now: nowOr(opts.Now), idle: opts.Idle, grace: opts.Grace}
	if r.idle == 0 && ch != nil {
		r.idle = ch.Idle
	}
	c, err := s.claim(ctx, r)
	if err != nil {
		return nil, err
	}
	return s.commit(ctx, r, c, ch, opts.MaxPerUser)
}

// renewal is what the steps of one Renew share.
type renewal struct {
	oldID, newID string
	now          time.Time     // the call's Now
	idle         time.Duration // the call's idle timeout
	grace        time.Duration
}

// claimed is what a claim took from the old ID.
type claimed struct {
	flat []any  // the record's fields, as the claim script read them
	till string // its expiry in server ms, as the script gave it
	old  *store.Record
}

// written is what a commit's round trip did besides writing the new ID:
// the user the session is now bound to, and what its index script did
// (ix is zero when the session is bound to no user).
type written struct {
	user string
	ix   indexResult
}

// claim is Renew's first round trip: the claim script on oldID, pipelined
// with EXISTS newID. It returns the record claimed, or the error Renew
// reports, having undone the claim where it cannot go on.
func (s *Store) claim(ctx context.Context, r *renewal) (*claimed, error) {
	b := s.batch()
	taken := b.pipe.Exists(ctx, s.key(r.newID))
	cmd := b.script(ctx, claimScript, []string{s.key(r.oldID)},
		millis(r.now), r.idle.Milliseconds(), r.grace.Milliseconds(), r.newID, markerTTL.Milliseconds(), s.marker(r.oldID))
	b.exec(ctx)
	status, rest, err := reply(cmd)
	if err != nil {
		// Whether the claim ran is unknown. If it did, oldID holds its
		// forwarding entry or marker, with the copy of the record it
		// keeps: put the record back from that, or the session would be
		// lost behind an error. Best effort: the error is reported either
		// way.
		_ = s.restore(ctx, r, nil)
		return nil, failed("renew", err)
	}
	switch status {
	case statusOK:
	case statusNotFound:
		return nil, store.ErrNotFound
	case statusExpired:
		return nil, store.ErrExpired
	case statusFwd:
		succ := str(rest, 0)
		s.awaitSuccessor(ctx, succ, ageOf(rest, 1))
		return nil, &store.ErrRenewed{Successor: succ}
	case statusCorrupt:
		return nil, corrupt("renew", rest)
	default:
		return nil, unexpected("renew", status)
	}
	c := &claimed{flat: arr(rest, 0), till: str(rest, 1)}
	if c.old, err = decodeRecord(c.flat); err != nil {
		// Put back what was there, foreign as it is, rather than lose it.
		_ = s.restore(ctx, r, c)
		return nil, fmt.Errorf("redisstore: renew: %w", err)
	}
	n, err := taken.Result()
	if err != nil || n > 0 {
		if rerr := s.restore(ctx, r, c); rerr != nil {
			return nil, failed("renew: restore", rerr)
		}
		if err != nil {
			return nil, failed("renew", err)
		}
		return nil, store.ErrExists
	}
	return c, nil
}

// commit is Renew's second round trip: it creates newID with the claimed
// record and ch applied, moves the session's entry between user indexes
// (evicting beyond limit when the session joins a user) and drops the
// claim's copy. A newID taken meanwhile undoes it all (undoRenew).
func (s *Store) commit(ctx context.Context, r *renewal, c *claimed, ch *store.Change, limit int) ([]string, error) {
	meta := c.old.Meta
	if ch != nil && ch.Meta != nil {
		meta = *ch.Meta
	}
	meta.LastSeen = r.now
	if ch != nil && !ch.Now.IsZero() {
		meta.LastSeen = ch.Now
	}
	values := ch.ApplyValues(c.old.Values)
	dl := deadline(meta.LastSeen, idleFor(&meta, r.idle), meta.ExpiresAt)
	oldUser, user := c.old.Meta.UserID, meta.UserID

	b := s.batch()
	created := b.script(ctx, createScript, []string{s.key(r.newID)},
		append(append([]any{dl - millis(r.now), "1"}, recordArgs(&meta, dl, values)...), s.marker(r.newID))...)
	// The claim's copy of the record has served its purpose once this
	// round trip is sent (a retried claim can no longer come): drop it,
	// and give the forwarding entry the TTL of its grace period. Plain
	// commands, harmless on a key deleted or revoked meanwhile.
	kept := make([]string, 0, 1+len(c.flat)/2)
	kept = append(kept, fieldKeptTill)
	for i := 0; i < len(c.flat); i += 2 {
		if name, ok := c.flat[i].(string); ok {
			kept = append(kept, keptPrefix+name)
		}
	}
	b.pipe.HDel(ctx, s.key(r.oldID), kept...)
	if r.grace > 0 {
		b.pipe.PExpire(ctx, s.key(r.oldID), r.grace)
	}
	var indexed *redis.Cmd
	if user != "" {
		remove := ""
		if oldUser == user {
			remove = r.oldID
		}
		indexed = s.indexAdd(ctx, b, user, r.newID, &meta, dl, limit, remove, "nx")
	}
	if oldUser != "" && oldUser != user {
		// Its outcome is not checked: an entry left behind names a
		// forwarding entry or marker now, which no reader trusts, and
		// DeleteUser or the entry's expiry removes it.
		b.script(ctx, indexPutScript, s.userKeys(oldUser), indexPutArgs([]string{r.oldID}, nil)...)
	}
	b.exec(ctx)

	status, _, err := reply(created)
	if err != nil {
		return nil, failed("renew", err)
	}
	w := written{user: user}
	if indexed != nil {
		if w.ix, err = parseIndexAdd(indexed); err != nil {
			return nil, failed("renew: index", err)
		}
	}
	switch status {
	case statusOK:
	case statusRevoked:
		// Revoked (DeleteUser followed the forwarding entry) or evicted
		// while the renewal was under way: it stays revoked.
		_, _ = s.evict(ctx, user, r.now, w.ix.victims)
		return nil, store.ErrNotFound
	case statusExists:
		// Taken since the check: a concurrent Create of the same random ID.
		s.undoRenew(ctx, r, c, w)
		return nil, store.ErrExists
	default:
		return nil, unexpected("renew", status)
	}
	return s.evict(ctx, user, r.now, w.ix.victims)
}

// restore undoes a claim: oldID gets its fields and expiry back, unless
// something else has happened to it since (a Delete, a revocation). With
// no fields (c nil: the claim's reply never arrived), they come from the
// copy the claim kept, if it ran.
func (s *Store) restore(ctx context.Context, r *renewal, c *claimed) error {
	args := []any{r.newID}
	if c != nil && c.flat != nil {
		args = append(args, c.till)
		args = append(args, c.flat...)
	}
	args = append(args, s.marker(r.oldID))
	_, _, err := reply(restoreScript.Run(ctx, s.c, []string{s.key(r.oldID)}, args...))
	return err
}

// undoRenew puts back what a commit changed when its new ID turned out to
// be taken: the old record, its index entries, and any sessions the cap
// evicted from the index (not deleted yet). Best effort: the caller
// reports ErrExists either way.
func (s *Store) undoRenew(ctx context.Context, r *renewal, c *claimed, w written) {
	_ = s.restore(ctx, r, c)
	old := &c.old.Meta
	oldUser := old.UserID
	entry := victim{r.oldID, fmt.Sprint(millis(old.CreatedAt)), fmt.Sprint(deadline(old.LastSeen, idleFor(old, r.idle), old.ExpiresAt))}
	if w.user != "" {
		var back []victim
		if oldUser == w.user {
			back = append(back, entry)
		}
		_ = s.undoIndexAdd(ctx, w.user, r.newID, indexResult{added: w.ix.added, victims: append(w.ix.victims, back...)})
	}
	if oldUser != "" && oldUser != w.user {
		_, _, _ = reply(indexPutScript.Run(ctx, s.c, s.userKeys(oldUser), indexPutArgs(nil, []victim{entry})...))
	}
}
