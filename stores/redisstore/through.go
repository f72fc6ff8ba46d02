package redisstore

import (
	"strconv"
	"time"

	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/stores/internal/nearcache"
)

// through is an Update that may write through the near cache: it applies
// its change to the record the cache holds and puts the result back,
// once Redis has acknowledged it and said (in the script's reply) that
// the record it changed was the one cached. Its script marks the change
// as this store's (marks.go), so that the announcement of it drops
// nothing.
type through struct {
	tk     nearcache.Ticket
	prior  *store.Record // the cached record: read-only
	born   time.Time
	marker string
}

// beginThrough starts a write through of id, nil when there is nothing to
// write through to (no cache, no cached record, or markers that cannot
// share the session's slot).
func (s *Store) beginThrough(id string) *through {
	if s.cache == nil || !s.tracking.marks {
		return nil
	}
	tk, prior, born := s.cache.BeginWrite(id)
	if prior == nil {
		return nil
	}
	return &through{tk: tk, prior: prior, born: born, marker: markerKey(s.opts.prefix(), s.key(id), s.tracking.tag)}
}

// endThrough puts the record ch made of wt's into the cache, after the
// update script replied OK with rest (the user it found, the deadline it
// wrote and the absolute expiry), and reports whether it did. A reply
// that does not match the cached record (another process changed the
// user or the lifetime since the cache read it), or a record the script
// deleted as past its deadline, is not cached.
func (s *Store) endThrough(id string, ch *store.Change, now time.Time, wt *through, rest []any) bool {
	dl, err1 := strconv.ParseInt(str(rest, 1), 10, 64)
	exp, err2 := strconv.ParseInt(str(rest, 2), 10, 64)
	ls := millis(now)
	m := &wt.prior.Meta
	if err1 != nil || err2 != nil || dl <= ls || str(rest, 0) != m.UserID || exp != millis(m.ExpiresAt) ||
		dl != deadline(now, idleFor(m, ch.Idle), m.ExpiresAt) {
		s.cache.Written(wt.tk, wt.born, id, wt.prior, nearcache.Times{}) // drops it
		return false
	}
	rec := *wt.prior
	rec.Meta.LastSeen = time.UnixMilli(ls)
	rec.Values = ch.ApplyValues(wt.prior.Values)
	return s.cache.Written(wt.tk, wt.born, id, &rec, nearcache.Times{
		LastSeen: ls, Expires: exp, Deadline: dl, Idle: idleMillis(m.Idle),
	})
}
