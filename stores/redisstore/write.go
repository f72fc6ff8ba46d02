package redisstore

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/core/store"
)

// Create stores rec under id, taking ownership of rec.Values, with a TTL of
// its deadline (min(LastSeen+idle, ExpiresAt), idle being the record's
// own idle timeout where it has one, else opts.Idle) less opts.Now. Any entry
// under id, live record or forwarding entry, makes id taken: ErrExists, and
// nothing is written.
//
// A session bound to no user (every new session the manager creates) is
// one command, a RESTORE (see createAnonymous). Otherwise one round trip:
// a pipeline of the session script and, for a session bound
// to a user, the index script, which also enforces opts.MaxPerUser. In Redis
// Cluster the two run on different nodes; the index entry may appear first,
// which is safe because entries are never trusted. When the cap evicts
// sessions, deleting them takes a second round trip. When the session was
// revoked by a concurrent DeleteUser or eviction while its creation was in
// flight, Create still succeeds: the session was created and revoked at
// once, and loads as missing.
func (s *Store) Create(ctx context.Context, id string, rec *store.Record, opts store.WriteOptions) ([]string, error) {
	ctx, err := begin(ctx)
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, errNilRecord
	}
	defer s.forget(id)
	now := nowOr(opts.Now)
	m := &rec.Meta
	dl := deadline(m.LastSeen, idleFor(m, opts.Idle), m.ExpiresAt)
	if m.UserID == "" {
		if done, err := s.createAnonymous(ctx, s.key(id), dl-millis(now), m, dl, rec.Values); done {
			return nil, err
		}
	}
	args := append(append([]any{dl - millis(now), "0"}, recordArgs(m, dl, rec.Values)...), s.marker(id))

	b := s.batch()
	created := b.script(ctx, createScript, []string{s.key(id)}, args...)
	var indexed *redis.Cmd
	if m.UserID != "" {
		indexed = s.indexAdd(ctx, b, m.UserID, id, m, dl, opts.MaxPerUser, "", "nx")
	}
	b.exec(ctx)

	status, _, err := reply(created)
	if err != nil {
		return nil, failed("create", err)
	}
	var ix indexResult
	if indexed != nil {
		if ix, err = parseIndexAdd(indexed); err != nil {
			// The record exists but may be unindexed; its token is never
			// handed out, since Create fails, so no one can use it.
			return nil, failed("create: index", err)
		}
	}
	switch status {
	case statusOK, statusRevoked:
	case statusExists:
		if err := s.undoIndexAdd(ctx, m.UserID, id, ix); err != nil {
			return nil, err
		}
		return nil, store.ErrExists
	default:
		return nil, unexpected("create", status)
	}
	return s.evict(ctx, m.UserID, now, ix.victims)
}

// createAnonymous is Create for a session bound to no user (every new
// session the manager creates), in one command and no script: RESTORE of
// the record's hash, serialised here, with its TTL: as the listpack HSET
// would build (dumpRecord, as dumpListpack) when the hash is small enough for one, else
// as a plain hash (dumpHash). RESTORE creates the hash and its TTL at
// once, and only where nothing is: any key there (a live record, a
// forwarding entry or marker, a revocation tombstone, a key of another
// type) makes it refuse (BUSYKEY), writing nothing; then a tombstone
// means created and revoked at once (see taken). It costs Redis a little
// more than one SET with an expiry, under half of the transaction below
// (see the package doc).
//
// A server that refuses the listpack (Redis before 7.0 does not read
// its RDB version) is remembered, and gets plain hashes. A server that
// refuses RESTORE itself (an ACL user without it, as -@dangerous takes
// it away; a command renamed away; a payload it does not read) is
// remembered too, and new sessions then go as before RESTORE was used:
// one MULTI/EXEC that writes the record under a scratch key,
// "{key}:new", and moves it into place with RENAMENX, which refuses a
// taken ID; the scratch key is deleted whichever way that went. Its hash
// tag is the whole session key, so in Redis Cluster both are in one
// slot, as MULTI and RENAMENX need; nothing ever sees it, as the
// transaction runs whole or not at all. A session key with braces of its
// own would put the scratch key in another slot: then done is false, and
// Create takes the script path.
//
// The record's fields, m's with the deadline dl and values, go to the
// listpack as they are (dumpRecord); the other forms take them as
// recordArgs lists them.
func (s *Store) createAnonymous(ctx context.Context, key string, ttl int64, m *store.Meta, dl int64, values map[string][]byte) (done bool, err error) {
	if ttl <= 0 {
		return true, nil // dead on arrival: created and expired at once
	}
	var fields []any
	for !s.noRestore.Load() {
		var payload []byte
		listpack := !s.noListpack.Load()
		if listpack {
			payload, listpack = dumpRecord(m, dl, values)
		}
		if !listpack {
			if fields == nil {
				fields = recordArgs(m, dl, values)
			}
			payload = dumpHash(fields)
		}
		// RESTORE as go-redis's Restore sends it, but with the payload as
		// it is: Restore takes a string, a copy of it.
		restore := redis.NewStatusCmd(ctx, "restore", key, ttl, payload)
		_ = s.c.Process(ctx, restore)
		err := restore.Err()
		switch {
		case err == nil:
			return true, nil
		case isBusyKey(err):
			return true, s.taken(ctx, key)
		case !restoreRefused(err):
			return true, failed("create", err)
		case listpack && !isNoPerm(err):
			s.noListpack.Store(true) // a server before 7.0: plain hashes
		default:
			s.noRestore.Store(true)
		}
	}
	if strings.ContainsAny(key, "{}") {
		return false, nil
	}
	scratch := "{" + key + "}:new"
	tx := s.c.TxPipeline()
	if fields == nil {
		fields = recordArgs(m, dl, values)
	}
	tx.HSet(ctx, scratch, fields...)
	tx.PExpire(ctx, scratch, time.Duration(ttl)*time.Millisecond)
	moved := tx.RenameNX(ctx, scratch, key)
	tx.Del(ctx, scratch)
	if _, err := tx.Exec(ctx); err != nil {
		return true, failed("create", err)
	}
	if moved.Val() {
		return true, nil
	}
	return true, s.taken(ctx, key)
}

// taken is what a new session's ID that was found taken means: a
// revocation tombstone says the ID was revoked before its record arrived,
// created and revoked at once, as Create documents (nil); anything else,
// ErrExists.
func (s *Store) taken(ctx context.Context, key string) error {
	revoked, err := s.c.HExists(ctx, key, fieldRevoked).Result()
	if err != nil {
		return failed("create", err)
	}
	if revoked {
		return nil
	}
	return store.ErrExists
}

// isBusyKey: RESTORE found the key taken.
func isBusyKey(err error) bool {
	var rerr redis.Error
	return errors.As(err, &rerr) && strings.HasPrefix(rerr.Error(), "BUSYKEY")
}

// isNoPerm: the ACL user may not run the command (or touch the key).
func isNoPerm(err error) bool {
	var rerr redis.Error
	return errors.As(err, &rerr) && (strings.HasPrefix(rerr.Error(), "NOPERM") ||
		strings.HasPrefix(rerr.Error(), "ERR unknown command"))
}

// restoreRefused: the server refused RESTORE itself, whatever the key,
// and will again: the user may not run it (NOPERM), the command is
// unknown (renamed away), or the server does not read the payload. Only
// a reply from the server counts: after a network error the RESTORE may
// have landed.
func restoreRefused(err error) bool {
	var rerr redis.Error
	if !errors.As(err, &rerr) {
		return false
	}
	msg := rerr.Error()
	return isNoPerm(err) ||
		strings.HasPrefix(msg, "ERR DUMP payload") ||
		strings.HasPrefix(msg, "ERR Bad data format")
}

// Update applies ch to the live record under id in one script: Clear, then
// Del, then Set, of the changed keys only; metadata replaced when ch.Meta is
// set; LastSeen = ch.Now and the TTL moved to the new deadline, by the
// session's own idle timeout where it has one (ch.Meta's when set, else
// the record's), else by ch.Idle. A missing, expired or revoked record is
// ErrNotFound and is never recreated; a forwarding entry is
// *store.ErrRenewed. One round trip, which also moves the session's
// deadline in its user's expiry index, when ch names the user and
// lifetime the record has (the manager's Updates do, from their Load);
// otherwise, or when the session has an idle timeout of its own (which ch
// does not carry, so the deadline computed from ch is not the one the
// script wrote), the script reports the user and the deadline, and that
// move takes one more. A ch.Meta naming a user costs one
// more, before the write: the session's entry goes into that
// user's index first, because the client already holds this session's
// token, so a write binding it must never land without the entry (the
// entry is taken out again if the write is refused). Moving the session
// away from a previous user costs one more after it, to drop the old
// entry. The manager itself never sends Meta to Update (logins are
// Renews). A nil ch writes nothing and reports whether the record is live
// now.
//
// With the near cache, an Update without Meta of a session the cache
// holds leaves the new record there (through.go), so that the next Load
// is a hit: a request that reads and writes a cached session is one round
// trip. Any other Update drops the cached record.
func (s *Store) Update(ctx context.Context, id string, ch *store.Change) error {
	ctx, err := begin(ctx)
	if err != nil {
		return err
	}
	if ch == nil {
		return s.live(ctx, id)
	}
	now := nowOr(ch.Now)
	var wt *through
	if ch.Meta == nil {
		wt = s.beginThrough(id)
	}
	kept := false
	defer func() {
		if !kept {
			s.forget(id)
		}
	}()
	clear, newExp, newIdle := "0", "", ""
	if ch.Clear {
		clear = "1"
	}
	var meta []any
	var unset []string
	if ch.Meta != nil {
		meta = metaArgs(ch.Meta)
		unset = unsetLoginFields(ch.Meta)
		newExp = strconv.FormatInt(millis(ch.Meta.ExpiresAt), 10)
		newIdle = strconv.FormatInt(idleMillis(ch.Meta.Idle), 10)
	}
	args := make([]any, 0, 9+len(meta)+len(unset)+len(ch.Del)+2*len(ch.Set))
	args = append(args, millis(now), ch.Idle.Milliseconds(), clear, newExp, newIdle,
		len(meta), len(unset)+len(ch.Del), 2*len(ch.Set))
	args = append(args, meta...)
	for _, f := range unset {
		args = append(args, f)
	}
	for _, k := range ch.Del {
		args = append(args, valuePrefix+k)
	}
	for k, v := range ch.Set {
		args = append(args, valuePrefix+k, v)
	}
	key, marker := s.keyAndMarker(id, wt != nil)
	args = append(args, marker)
	keys := []string{key}

	user := ""
	if ch.Meta != nil {
		user = ch.Meta.UserID
	}
	var ix indexResult
	if user != "" {
		b := s.batch()
		indexed := s.indexAdd(ctx, b, user, id, ch.Meta, deadline(now, idleFor(ch.Meta, ch.Idle), ch.Meta.ExpiresAt), 0, "", "set")
		b.exec(ctx)
		if ix, err = parseIndexAdd(indexed); err != nil {
			return failed("update: index", err)
		}
	}
	// The write moves the session's deadline: so must its user's expiry
	// index, in the same round trip when the change names the user (the
	// manager's always do). Without one, the script goes alone, without
	// a pipeline: the same round trip, and the same EVAL fallback.
	var updated *redis.Cmd
	var moved *redis.IntCmd
	hintUser := ch.UserID
	if ch.Meta == nil && hintUser != "" {
		b := s.batch()
		updated = b.script(ctx, updateScript, keys, args...)
		moved = s.moveDeadline(ctx, b, hintUser, id, deadline(now, ch.Idle, ch.ExpiresAt))
		b.exec(ctx)
	} else {
		updated = updateScript.Run(ctx, s.c, keys, args...)
	}
	status, rest, err := reply(updated)
	if err != nil {
		if wt != nil {
			s.tracking.distrust()
		}
		// Whether the write happened is unknown: the entry stays, and is
		// never trusted if the session is not the user's.
		return failed("update", err)
	}
	switch status {
	case statusOK:
	case statusFwd:
		s.undoIndexAddQuiet(ctx, user, id, ix)
		succ := str(rest, 0)
		s.awaitSuccessor(ctx, succ, ageOf(rest, 1))
		return &store.ErrRenewed{Successor: succ}
	case statusNotFound:
		s.undoIndexAddQuiet(ctx, user, id, ix)
		return store.ErrNotFound
	case statusCorrupt:
		s.undoIndexAddQuiet(ctx, user, id, ix)
		return corrupt("update", rest)
	default:
		return unexpected("update", status)
	}
	bound := str(rest, 0)
	if ch.Meta != nil {
		if bound != "" && bound != user {
			// The record is no longer bound's: drop its entry there. Best
			// effort, as the write is done: an entry naming another user's
			// session is never trusted, and DeleteUser removes it.
			_ = s.indexRemove(ctx, bound, id)
		}
		return nil
	}
	if bound == "" {
		kept = wt != nil && s.endThrough(id, ch, now, wt, rest)
		return nil
	}
	dl, err1 := strconv.ParseInt(str(rest, 1), 10, 64)
	_, err2 := strconv.ParseInt(str(rest, 2), 10, 64)
	if err1 != nil || err2 != nil {
		return unexpected("update", status)
	}
	if moved == nil || hintUser != bound || dl != deadline(now, ch.Idle, ch.ExpiresAt) {
		// The change named no user, or not the one or the deadline the
		// script found: one more round trip, to the index of the user the
		// script found, with the deadline it wrote.
		b := s.batch()
		moved = s.moveDeadline(ctx, b, bound, id, dl)
		b.exec(ctx)
	}
	if err := moved.Err(); err != nil {
		// The write is done, but the index still has the old deadline:
		// reported, so that the write is tried again (and the index with
		// it), rather than leave an entry that could be pruned while its
		// session lives.
		return failed("update: index", err)
	}
	kept = wt != nil && s.endThrough(id, ch, now, wt, rest)
	return nil
}

// Delete removes whatever is under id and reports whether a live record
// was deleted. A record is deleted, and its entry dropped from its user's
// index (best effort: the record is gone, and entries are never trusted);
// a short-lived tombstone takes its place, so that a write of it still
// being retried by go-redis cannot bring it back.
//
// A forwarding entry or the marker of a Renew without grace is followed to
// the session it names, along the chain of renewals, at most
// maxForwardHops links: a logout that loaded the session just before a
// rotation must take the rotated successor with it. A successor that is
// not there yet may be a renewal still between its round trips: Delete
// bars it with a tombstone, as DeleteUser does, so that the renewal's
// write fails. Each link is deleted once what it names is dealt with, so
// a Delete that fails half-way can be repeated and still find the
// successor.
//
// Round trips: one per link followed and one for the session itself; a
// record bound to a user or a chain of links costs one more, to drop the
// index entry and delete the links.
func (s *Store) Delete(ctx context.Context, id string) (bool, error) {
	ctx, err := begin(ctx)
	if err != nil {
		return false, err
	}
	now := millis(time.Now())
	var links []string // forwarding entries and markers walked through
	existed, user, cur, successor := false, "", id, "0"
	defer func() { s.forget(append(links, cur)...) }()
	for hop := 0; ; hop++ {
		status, rest, err := reply(deleteScript.Run(ctx, s.c, []string{s.key(cur)}, now, markerTTL.Milliseconds(), successor, s.marker(cur)))
		if err != nil {
			return false, failed("delete", err)
		}
		switch status {
		case statusNone, statusPending:
		case statusDeleted:
			user, existed = str(rest, 0), str(rest, 1) == "1"
		case statusMoved:
			links = append(links, cur)
			if hop+1 < maxForwardHops {
				cur, successor = str(rest, 0), "1"
				continue
			}
		default:
			return false, unexpected("delete", status)
		}
		break
	}
	if len(links) == 0 && user == "" {
		return existed, nil
	}
	b := s.batch()
	// One script per link: in Redis Cluster each is in a slot of its own.
	unlinked := make([]*redis.Cmd, len(links))
	for i, l := range links {
		unlinked[i] = b.script(ctx, unlinkScript, []string{s.key(l)}, s.marker(l))
	}
	if user != "" {
		// Best effort, as the record is gone: an entry naming nothing is
		// never trusted, and DeleteUser or its expiry removes it.
		b.script(ctx, indexPutScript, s.userKeys(user), indexPutArgs([]string{cur}, nil)...)
	}
	b.exec(ctx)
	for _, cmd := range unlinked {
		if err := cmd.Err(); err != nil {
			// The links are harmless now (what they name is gone or
			// barred), and a repeated Delete walks them again.
			return existed, failed("delete", err)
		}
	}
	return existed, nil
}
