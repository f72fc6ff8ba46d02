package redisstore

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/core/store"
)

// victim is a session the index script evicted under the cap, with the
// scores it had (creation, deadline), to put it back if the write that
// evicted it fails.
type victim struct {
	id, created, deadline string
}

// indexResult is what the index script did.
type indexResult struct {
	added   bool
	victims []victim
}

// indexAdd queues the index script adding id (with m's creation and
// absolute expiry, and its deadline dl) to user's index, evicting beyond
// limit, removing removeID.
func (s *Store) indexAdd(ctx context.Context, b *batch, user, id string, m *store.Meta, dl int64, limit int, removeID, mode string) *redis.Cmd {
	return b.script(ctx, indexAddScript, s.userKeys(user),
		id, millis(m.CreatedAt), millis(m.ExpiresAt), max(limit, 0), removeID, mode, indexMargin.Milliseconds(), dl)
}

func parseIndexAdd(cmd *redis.Cmd) (indexResult, error) {
	status, rest, err := reply(cmd)
	if err != nil {
		return indexResult{}, err
	}
	if status != statusOK || len(rest) != 2 {
		return indexResult{}, fmt.Errorf("unexpected index reply %q", status)
	}
	r := indexResult{added: str(rest, 0) == "1"}
	flat := arr(rest, 1)
	for i := 0; i+2 < len(flat); i += 3 {
		r.victims = append(r.victims, victim{str(flat, i), str(flat, i+1), str(flat, i+2)})
	}
	return r, nil
}

// indexPutArgs are indexPutScript's arguments: remove these IDs, put these
// entries back.
func indexPutArgs(remove []string, restore []victim) []any {
	args := make([]any, 0, 2+len(remove)+3*len(restore))
	args = append(args, indexMargin.Milliseconds(), len(remove))
	for _, id := range remove {
		args = append(args, id)
	}
	for _, v := range restore {
		args = append(args, v.id, v.created, v.deadline)
	}
	return args
}

// indexRemove drops id from user's index, once its record is known to be
// gone or someone else's.
func (s *Store) indexRemove(ctx context.Context, user, id string) error {
	_, _, err := reply(indexPutScript.Run(ctx, s.c, s.userKeys(user), indexPutArgs([]string{id}, nil)...))
	return err
}

// undoIndexAdd reverts an index script whose session write was refused: the
// entry it added goes, the sessions it evicted come back.
func (s *Store) undoIndexAdd(ctx context.Context, user, id string, ix indexResult) error {
	if user == "" || (!ix.added && len(ix.victims) == 0) {
		return nil
	}
	var remove []string
	if ix.added {
		remove = []string{id}
	}
	_, _, err := reply(indexPutScript.Run(ctx, s.c, s.userKeys(user), indexPutArgs(remove, ix.victims)...))
	if err != nil {
		return failed("index", err)
	}
	return nil
}

// undoIndexAddQuiet is undoIndexAdd where a refusal is the answer the
// caller must give: a failure leaves an entry that is never trusted anyway.
func (s *Store) undoIndexAddQuiet(ctx context.Context, user, id string, ix indexResult) {
	_ = s.undoIndexAdd(ctx, user, id, ix)
}

// revokeResult is what revokeScript found under one ID.
type revokeResult struct {
	id        string
	deleted   bool // a record bound to the user was deleted
	live      bool // ...and it was live at the time of the call
	pending   bool // nothing was there; a tombstone now bars the ID
	successor string
	err       error
}

// revoke runs revokeScript on ids in one round trip. An ID whose past[i]
// is true (past is nil or as long as ids) has an index entry past its
// deadline: if nothing is there, it is not barred, as no creation of it
// can be in flight.
func (s *Store) revoke(ctx context.Context, user string, now time.Time, ids []string, past []bool, also func(*batch)) []revokeResult {
	b := s.batch()
	cmds := make([]*redis.Cmd, len(ids))
	for i, id := range ids {
		bar := "1"
		if past != nil && past[i] {
			bar = "0"
		}
		cmds[i] = b.script(ctx, revokeScript, []string{s.key(id)}, user, millis(now), markerTTL.Milliseconds(), bar, s.marker(id))
	}
	if also != nil {
		also(b)
	}
	b.exec(ctx)
	s.forget(ids...)
	out := make([]revokeResult, len(ids))
	for i, cmd := range cmds {
		r := revokeResult{id: ids[i]}
		status, rest, err := reply(cmd)
		switch {
		case err != nil:
			r.err = err
		case status == statusDeleted:
			r.deleted, r.live = true, str(rest, 0) == "1"
		case status == statusPending:
			r.pending = true
		case status == statusMoved:
			r.successor = str(rest, 0)
		case status == statusForeign, status == statusGone:
		default:
			r.err = fmt.Errorf("unexpected revoke reply %q", status)
		}
		out[i] = r
	}
	return out
}

// evict deletes the sessions the index script evicted for user, and
// returns those that were live or could still have been on their way in
// (their creation in flight; the tombstone stops it). Victims stay in the
// user's evicting set until that is done, so a failure here leaves them
// listed and revocable, not lost; once it is, a second round trip drops
// them from the evicting set and the expiry index, along with revoking
// the successor of a victim that was being renewed at that moment.
func (s *Store) evict(ctx context.Context, user string, now time.Time, victims []victim) ([]string, error) {
	if len(victims) == 0 {
		return nil, nil
	}
	ids := make([]string, len(victims))
	for i, v := range victims {
		ids[i] = v.id
	}
	evicted, moved, err := collect(s.revoke(ctx, user, now, ids, nil, nil), true)
	if err != nil {
		return evicted, failed("evict", err)
	}
	var dropped *redis.Cmd
	second := s.revoke(ctx, user, now, moved, nil, func(b *batch) {
		dropped = b.script(ctx, indexPutScript, s.userKeys(user), indexPutArgs(ids, nil)...)
	})
	more, _, err := collect(second, true)
	evicted = append(evicted, more...)
	if err == nil {
		_, _, err = reply(dropped)
	}
	if err != nil {
		return evicted, failed("evict", err)
	}
	return evicted, nil
}

// collect sorts revoke results into the IDs to report (deleted live
// records, and with pending, IDs barred before their creation landed) and
// the successors still to revoke, and returns the first error.
func collect(results []revokeResult, pending bool) (report, successors []string, err error) {
	for _, r := range results {
		switch {
		case r.err != nil:
			if err == nil {
				err = r.err
			}
		case r.deleted && r.live, r.pending && pending:
			report = append(report, r.id)
		case r.successor != "":
			successors = append(successors, r.successor)
		}
	}
	return report, successors, err
}

// listed returns the IDs in user's expiry index whose deadline is not
// past at now, less the margin for clock skew: the expiry index holds
// every indexed and evicting session, and a session past its deadline is
// not worth a read. One round trip, which also counts the other two keys,
// so that one of the wrong type is reported (ErrCorrupt) as it is to
// Create and DeleteUser.
func (s *Store) listed(ctx context.Context, user string, now time.Time) ([]string, error) {
	keys := s.userKeys(user)
	from := strconv.FormatInt(millis(now)-indexMargin.Milliseconds(), 10)
	pipe := s.c.Pipeline()
	ids := pipe.ZRangeByScore(ctx, keys[1], &redis.ZRangeBy{Min: from, Max: "+inf"})
	indexed := pipe.ZCard(ctx, keys[0])
	evicting := pipe.SCard(ctx, keys[2])
	_, _ = pipe.Exec(ctx)
	for _, err := range []error{indexed.Err(), evicting.Err()} {
		if err != nil {
			return nil, err
		}
	}
	return ids.Result()
}

// ListUser returns userID's sessions live at now, metadata only, in two
// round trips whatever their number: the entries of the expiry index not
// past their deadline, then one pipeline of HMGET of the metadata fields
// of each of those sessions, never its values. An entry whose session is
// gone, past its deadline at now, a forwarding entry or bound to someone
// else is skipped, never trusted; such entries are dropped from the index
// by DeleteUser and, once past their deadline, by any later addition to
// the index. A zero now means time.Now().
func (s *Store) ListUser(ctx context.Context, userID string, now time.Time) ([]store.Entry, error) {
	ctx, err := begin(ctx)
	if err != nil {
		return nil, err
	}
	if userID == "" {
		return nil, nil // anonymous sessions are in no index
	}
	now = nowOr(now)
	ids, err := s.listed(ctx, userID, now)
	if err != nil {
		return nil, failed("list", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	pipe := s.c.Pipeline()
	cmds := make([]*redis.SliceCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.HMGet(ctx, s.key(id), listFields...)
	}
	_, _ = pipe.Exec(ctx)
	var out []store.Entry
	for i, cmd := range cmds {
		vals, err := cmd.Result()
		if err != nil {
			return nil, failed("list", err)
		}
		if u, _ := vals[listUser].(string); u != userID {
			continue // someone else's, or not a record
		}
		m, dl, ok, err := listedMeta(vals)
		if !ok {
			continue // gone, a forwarding entry or a marker
		}
		if err != nil {
			return nil, fmt.Errorf("redisstore: list: %w", err)
		}
		if millis(now) >= dl || !now.Before(m.ExpiresAt) {
			continue
		}
		out = append(out, store.Entry{ID: ids[i], Meta: m})
	}
	return out, nil
}

// listUser is the place of fieldUser in listFields.
var listUser = slices.Index(listFields, fieldUser)

// listedMeta decodes the metadata of a session hash from an HMGET of
// listFields, with its stored deadline. ok is false for what is not a
// record: nothing there, a forwarding entry, a marker or tombstone, a
// hash without LastSeen (not this package's).
func listedMeta(vals []any) (m store.Meta, dl int64, ok bool, err error) {
	get := func(f string) (string, bool) {
		if j := slices.Index(listFields, f); j >= 0 && j < len(vals) {
			v, ok := vals[j].(string)
			return v, ok
		}
		return "", false
	}
	for _, f := range []string{fieldNext, fieldGone, fieldRevoked} {
		if _, ok := get(f); ok {
			return m, 0, false, nil
		}
	}
	if _, ok := get(fieldLastSeen); !ok {
		return m, 0, false, nil
	}
	m, dl, err = decodeMeta(get)
	return m, dl, true, err
}

// revokeBatch is how many sessions DeleteUser revokes per round trip, and
// the most IDs any one of its script calls handles.
const revokeBatch = 200

// DeleteUser deletes every session bound to userID except keepID and
// returns the IDs of those that were live. It works in batches of
// revokeBatch sessions, so that no script call runs long (Redis runs one
// at a time, and every other client waits): the first round trip reads a
// batch of IDs from the user's index (those being evicted first, then the
// oldest); each batch then takes two, one pipeline revoking each session
// (a record bound to the user is deleted; an ID with nothing behind it
// gets a tombstone, so that a session of the user whose creation is still
// in flight cannot appear afterwards, unless its index entry is past its
// deadline, which no session in flight has), then one pipeline dropping the
// processed entries from the index and reading the next batch, along with
// revoking the successors of sessions that were being renewed at that
// moment. Three round trips for up to revokeBatch sessions, two more for
// each further batch. A session created for the user while DeleteUser
// runs is deleted, or is created after the batch that would have found
// it: either way after the revocation began, and no session revoked comes
// back.
func (s *Store) DeleteUser(ctx context.Context, userID, keepID string) ([]string, error) {
	ctx, err := begin(ctx)
	if err != nil {
		return nil, err
	}
	if userID == "" {
		return nil, nil
	}
	now := time.Now()
	b := s.batch()
	first := b.script(ctx, indexPageScript, s.userKeys(userID), indexPageArgs(nil, keepID)...)
	b.exec(ctx)
	page, past, left, err := parsePage(first)
	if err != nil {
		return nil, failed("delete user", err)
	}
	// The index can only shrink by what is revoked, so this many batches
	// cover everything that was there at the start; sessions created for
	// the user as fast as they are revoked do not keep DeleteUser going.
	batches := left/revokeBatch + 2
	var deleted []string
	for i := 0; len(page) > 0 && i < batches; i++ {
		results := s.revoke(ctx, userID, now, page, past, nil)
		done, successors, err := collect(results, false)
		deleted = append(deleted, done...)
		if err != nil {
			// Entries of sessions that may still live stay in the index.
			return deleted, failed("delete user", err)
		}
		var chased []string
		for _, id := range successors {
			if id != keepID {
				chased = append(chased, id)
			}
		}
		var next *redis.Cmd
		second := s.revoke(ctx, userID, now, chased, nil, func(b *batch) {
			// Only the entries of what is known gone: a successor's entry
			// stays until its revocation is known to have worked, and
			// comes back in a later batch.
			next = b.script(ctx, indexPageScript, s.userKeys(userID), indexPageArgs(page, keepID)...)
		})
		more, _, err := collect(second, false)
		deleted = append(deleted, more...)
		if err == nil {
			page, past, _, err = parsePage(next)
		}
		if err != nil {
			return deleted, failed("delete user", err)
		}
	}
	return deleted, nil
}

// indexPageArgs are indexPageScript's arguments: drop these IDs, then read
// a batch, skipping keep.
func indexPageArgs(drop []string, keep string) []any {
	args := make([]any, 0, 4+len(drop))
	args = append(args, len(drop))
	for _, id := range drop {
		args = append(args, id)
	}
	return append(args, revokeBatch, keep, indexMargin.Milliseconds())
}

// parsePage reads indexPageScript's reply: a batch of IDs, whether each
// one's deadline has passed, and how many entries are left.
func parsePage(cmd *redis.Cmd) (ids []string, past []bool, left int, err error) {
	status, rest, err := reply(cmd)
	if err != nil {
		return nil, nil, 0, err
	}
	if status != statusOK || len(rest) != 2 {
		return nil, nil, 0, fmt.Errorf("unexpected index reply %q", status)
	}
	flat := arr(rest, 0)
	for i := 0; i+1 < len(flat); i += 2 {
		ids = append(ids, str(flat, i))
		past = append(past, str(flat, i+1) == "1")
	}
	if left, err = strconv.Atoi(str(rest, 1)); err != nil {
		return nil, nil, 0, fmt.Errorf("unexpected index reply: %w", err)
	}
	return ids, past, left, nil
}
