package redisstore

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/core/store"
)

// Renew moves the live record under oldID to newID with ch applied (values
// merged, metadata replaced when ch.Meta is set, LastSeen = ch.Now), its
// deadline set from the record's own idle timeout (that of ch.Meta when
// set) where it has one, else from opts.Idle (ch.Idle when zero). Two round trips, since
// the two IDs live in different cluster slots:
//
//  1. The claim script on oldID, pipelined with EXISTS newID: it checks that
//     oldID is a live record, reads all of it and, in the same step, turns
//     it into a forwarding entry to newID whose grace ends after opts.Grace
//     (without grace, into a marker that loads as missing). This is the
//     exactly-one-winner guard across processes: a concurrent Renew finds
//     the forwarding entry (*store.ErrRenewed naming the winner) or the
//     marker (ErrNotFound). The entry keeps a copy of the record until
//     the second round trip, so that the claim run again for the same
//     newID (go-redis resends a round trip whose reply it lost, and the
//     server may have run it) gets what the first run got.
//  2. A pipeline creating newID with the merged record (a record already
//     there with the same metadata is this write, run again), moving the
//     session's entry between user indexes (enforcing opts.MaxPerUser when
//     the session joins a user), and dropping the claim's copy, which
//     gives the forwarding entry the TTL of its grace period.
//
// A newID found taken in the first round trip gets ErrExists; the second
// round trip then undoes the claim instead, restoring oldID. Evictions
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
	now := nowOr(opts.Now)
	idle := opts.Idle
	if idle == 0 && ch != nil {
		idle = ch.Idle
	}
	lastSeen := now
	if ch != nil && !ch.Now.IsZero() {
		lastSeen = ch.Now
	}

	// Round trip 1: claim.
	first := s.batch()
	taken := first.pipe.Exists(ctx, s.key(newID))
	claimed := first.script(ctx, claimScript, []string{s.key(oldID)},
		millis(now), idle.Milliseconds(), opts.Grace.Milliseconds(), newID, markerTTL.Milliseconds())
	first.exec(ctx)
	status, rest, err := reply(claimed)
	if err != nil {
		// Whether the claim ran is unknown. If it did, oldID holds its
		// forwarding entry or marker, with the copy of the record it
		// keeps: put the record back from that, or the session would be
		// lost behind an error. Best effort: the error is reported either
		// way.
		_ = s.restore(ctx, oldID, newID, nil, "")
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
	flat := arr(rest, 0)
	old, err := decodeRecord(flat)
	if err != nil {
		// Put back what was there, foreign as it is, rather than lose it.
		_ = s.restore(ctx, oldID, newID, flat, str(rest, 1))
		return nil, fmt.Errorf("redisstore: renew: %w", err)
	}
	n, err := taken.Result()
	if err != nil || n > 0 {
		if rerr := s.restore(ctx, oldID, newID, flat, str(rest, 1)); rerr != nil {
			return nil, failed("renew: restore", rerr)
		}
		if err != nil {
			return nil, failed("renew", err)
		}
		return nil, store.ErrExists
	}

	// Round trip 2: create newID and move the index entry.
	meta := old.Meta
	if ch != nil && ch.Meta != nil {
		meta = *ch.Meta
	}
	meta.LastSeen = lastSeen
	values := ch.ApplyValues(old.Values)
	dl := deadline(meta.LastSeen, idleFor(&meta, idle), meta.ExpiresAt)
	oldUser, user := old.Meta.UserID, meta.UserID

	b := s.batch()
	created := b.script(ctx, createScript, []string{s.key(newID)},
		append([]any{dl - millis(now), "1"}, recordArgs(&meta, dl, values)...)...)
	// The claim's copy of the record has served its purpose once this
	// round trip is sent (a retried claim can no longer come): drop it,
	// and give the forwarding entry the TTL of its grace period. Plain
	// commands, harmless on a key deleted or revoked meanwhile.
	kept := make([]string, 0, 1+len(flat)/2)
	kept = append(kept, fieldKeptTill)
	for i := 0; i < len(flat); i += 2 {
		if name, ok := flat[i].(string); ok {
			kept = append(kept, keptPrefix+name)
		}
	}
	b.pipe.HDel(ctx, s.key(oldID), kept...)
	if opts.Grace > 0 {
		b.pipe.PExpire(ctx, s.key(oldID), opts.Grace)
	}
	var indexed *redis.Cmd
	if user != "" {
		remove := ""
		if oldUser == user {
			remove = oldID
		}
		indexed = s.indexAdd(ctx, b, user, newID, &meta, dl, opts.MaxPerUser, remove, "nx")
	}
	if oldUser != "" && oldUser != user {
		// Its outcome is not checked: an entry left behind names a
		// forwarding entry or marker now, which no reader trusts, and
		// DeleteUser or the entry's expiry removes it.
		b.script(ctx, indexPutScript, s.userKeys(oldUser), indexPutArgs([]string{oldID}, nil)...)
	}
	b.exec(ctx)

	status, _, err = reply(created)
	if err != nil {
		return nil, failed("renew", err)
	}
	var ix indexResult
	if indexed != nil {
		if ix, err = parseIndexAdd(indexed); err != nil {
			return nil, failed("renew: index", err)
		}
	}
	switch status {
	case statusOK:
	case statusRevoked:
		// Revoked (DeleteUser followed the forwarding entry) or evicted
		// while the renewal was under way: it stays revoked.
		_, _ = s.evict(ctx, user, now, ix.victims)
		return nil, store.ErrNotFound
	case statusExists:
		// Taken since the check: a concurrent Create of the same random ID.
		s.undoRenew(ctx, oldID, newID, flat, str(rest, 1), &old.Meta, deadline(old.Meta.LastSeen, idleFor(&old.Meta, idle), old.Meta.ExpiresAt), ix, oldUser, user)
		return nil, store.ErrExists
	default:
		return nil, unexpected("renew", status)
	}
	return s.evict(ctx, user, now, ix.victims)
}

// restore undoes a claim: oldID gets its fields and expiry back, unless
// something else has happened to it since (a Delete, a revocation). With
// no fields (the claim's reply never arrived), they come from the copy the
// claim kept, if it ran.
func (s *Store) restore(ctx context.Context, oldID, newID string, flat []any, till string) error {
	args := make([]any, 0, 2+len(flat))
	args = append(args, newID)
	if flat != nil {
		args = append(args, till)
		args = append(args, flat...)
	}
	_, _, err := reply(restoreScript.Run(ctx, s.c, []string{s.key(oldID)}, args...))
	return err
}

// undoRenew puts back what a Renew's second round trip changed when its
// new ID turned out to be taken: the old record, its index entries, and any
// sessions the cap evicted from the index (not deleted yet). Best effort:
// the caller reports ErrExists either way.
func (s *Store) undoRenew(ctx context.Context, oldID, newID string, flat []any, till string, old *store.Meta, oldDL int64, ix indexResult, oldUser, user string) {
	_ = s.restore(ctx, oldID, newID, flat, till)
	if user != "" {
		var back []victim
		if oldUser == user {
			back = append(back, victim{oldID, fmt.Sprint(millis(old.CreatedAt)), fmt.Sprint(oldDL)})
		}
		_ = s.undoIndexAdd(ctx, user, newID, indexResult{added: ix.added, victims: append(ix.victims, back...)})
	}
	if oldUser != "" && oldUser != user {
		entry := []victim{{oldID, fmt.Sprint(millis(old.CreatedAt)), fmt.Sprint(oldDL)}}
		_, _, _ = reply(indexPutScript.Run(ctx, s.c, s.userKeys(oldUser), indexPutArgs(nil, entry)...))
	}
}
