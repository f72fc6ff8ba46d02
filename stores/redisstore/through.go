package redisstore

import (
	"maps"
	"strconv"
	"time"

	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/stores/internal/nearcache"
)

// through is an Update that may write through the near cache: it applies
// its change to the record the cache holds and puts the result back,
// once Redis has acknowledged it, its script has marked it with this
// store's write-through tag (marks.go), so that the announcement of it
// drops nothing, and the script's reply says the record it changed was
// the one cached.
type through struct {
	tk    nearcache.Ticket
	prior *store.Record // the cached record: read-only
	born  time.Time
}

// beginThrough starts a write through of id, nil when there is nothing to
// write through to: no cache, no cached record, or a store that does not
// write through (tracking.passOwn).
func (s *Store) beginThrough(id string) *through {
	if s.cache == nil || !s.tracking.passOwn {
		return nil
	}
	tk, prior, born := s.cache.BeginWrite(id)
	if prior == nil {
		return nil
	}
	return &through{tk: tk, prior: prior, born: born}
}

// endThrough puts the record ch made of wt's into the cache, once the
// Update succeeded whole, its script having replied OK with rest (the user
// it found, the deadline it wrote, the absolute expiry, whether it
// marked), and reports whether it did. A change that went unmarked, a
// reply that does not match the cached record (another process changed
// its user or lifetime since the cache read it), or a record the script
// deleted as past its deadline, is not cached: the caller drops it.
func (s *Store) endThrough(id string, ch *store.Change, now time.Time, wt *through, rest []any) bool {
	dl, err1 := strconv.ParseInt(str(rest, 1), 10, 64)
	exp, err2 := strconv.ParseInt(str(rest, 2), 10, 64)
	ls := millis(now)
	m := &wt.prior.Meta
	if err1 != nil || err2 != nil || str(rest, 3) != "1" || dl <= ls || str(rest, 0) != m.UserID ||
		exp != millis(m.ExpiresAt) || dl != deadline(now, idleFor(m, ch.Idle), m.ExpiresAt) {
		return false
	}
	rec := *wt.prior
	rec.Meta.LastSeen = time.UnixMilli(ls)
	rec.Values = ch.ApplyValues(wt.prior.Values)
	if ch.Clear || len(wt.prior.Values) == 0 {
		// ApplyValues handed back ch.Set itself: the cache keeps a map
		// of its own, whatever the caller does with its change later.
		rec.Values = maps.Clone(rec.Values)
	}
	return s.cache.Written(wt.tk, wt.born, id, &rec, nearcache.Times{
		LastSeen: ls, Expires: exp, Deadline: dl, Idle: idleMillis(m.Idle),
	})
}
