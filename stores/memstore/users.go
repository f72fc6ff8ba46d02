package memstore

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/sessionkit/sessionkit/core/store"
)

// userShard is one slice of the user index: user ID -> set of session IDs.
type userShard struct {
	mu sync.Mutex
	m  map[string]map[string]struct{}
	_  [128 - unsafe.Sizeof(sync.Mutex{}) - unsafe.Sizeof(map[string]map[string]struct{}(nil))]byte
}

// userShard picks by hash: user IDs are the application's, not random hex.
func (s *Store) userShard(u string) *userShard { return &s.users[fnv32(u)&s.mask] }

// Caller holds us.mu for the three index helpers below.

func (us *userShard) add(u, id string) {
	set := us.m[u]
	if set == nil {
		set = make(map[string]struct{}, 1)
		us.m[u] = set
	}
	set[id] = struct{}{}
}

func (us *userShard) remove(u, id string) {
	set := us.m[u]
	delete(set, id)
	if len(set) == 0 {
		delete(us.m, u)
	}
}

// shardsOf returns the record shards holding u's indexed sessions, plus
// extra, for lockShards.
func (s *Store) shardsOf(us *userShard, u string, extra ...string) []uint32 {
	idx := make([]uint32, 0, len(us.m[u])+len(extra))
	for id := range us.m[u] {
		idx = append(idx, s.shardIndex(id))
	}
	for _, id := range extra {
		idx = append(idx, s.shardIndex(id))
	}
	return idx
}

// bound returns the record under id if it is a session record bound to u;
// index entries are never trusted. Caller holds a lock on id's shard.
func (s *Store) bound(u, id string) *entry {
	e := s.shard(id).get(id)
	if e == nil || e.forwarding() || e.meta.UserID != u {
		return nil
	}
	return e
}

// prune drops u's index entry for id if it no longer names a record bound
// to u. Removals are lazy like this so that deleting a record never needs
// the user lock, which would have to come before the shard lock.
func (s *Store) prune(u, id string) {
	us := s.userShard(u)
	us.mu.Lock()
	defer us.mu.Unlock()
	if _, ok := us.m[u][id]; !ok {
		return
	}
	sh := s.shard(id)
	sh.mu.RLock()
	stale := s.bound(u, id) == nil
	sh.mu.RUnlock()
	if stale {
		us.remove(u, id)
	}
}

// evictionPlan works out what must go for u to hold one more session under
// a cap of limit: its expired records (dropped silently) and its oldest live
// ones beyond limit-1 by CreatedAt (reported as evicted). skip lists IDs not
// to count (the one being added, the one being renewed away). It changes no
// record, so the caller can still refuse the write; it does drop stale index
// entries. Caller holds us.mu and the write locks of the shards of every ID
// in u's index.
func (s *Store) evictionPlan(us *userShard, u string, limit int, now time.Time, skip ...string) (victims, dead []string) {
	type cand struct {
		id      string
		created time.Time
	}
	var live []cand
	for id := range us.m[u] {
		if slices.Contains(skip, id) {
			continue
		}
		e := s.bound(u, id)
		switch {
		case e == nil:
			us.remove(u, id)
		case !e.aliveAt(now):
			dead = append(dead, id)
		default:
			live = append(live, cand{id, e.meta.CreatedAt})
		}
	}
	over := len(live) - (limit - 1)
	if over <= 0 {
		return nil, dead
	}
	slices.SortFunc(live, func(a, b cand) int {
		if c := a.created.Compare(b.created); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	victims = make([]string, over)
	for i := range victims {
		victims[i] = live[i].id
	}
	return victims, dead
}

// removeBound deletes the records at ids (all bound to u) and their index
// entries. The caller accounts for them (sizeOf) and holds us.mu and the
// ids' shard write locks.
func (s *Store) removeBound(us *userShard, u string, ids []string) {
	for _, id := range ids {
		sh := s.shard(id)
		e := sh.get(id)
		s.remove(sh, e)
		sh.recycle(e)
		us.remove(u, id)
	}
}

// sizeOf is the accounted bytes of the entries at ids, which all exist.
// Caller holds the ids' shard locks.
func (s *Store) sizeOf(ids []string) int64 {
	var n int64
	for _, id := range ids {
		n += s.shard(id).get(id).size
	}
	return n
}

// ListUser returns userID's sessions that are live at now, metadata only.
// A zero now means the store's clock.
func (s *Store) ListUser(ctx context.Context, userID string, now time.Time) ([]store.Entry, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	now = s.nowOr(now)
	us := s.userShard(userID)
	us.mu.Lock()
	defer us.mu.Unlock()
	var out []store.Entry
	for id := range us.m[userID] {
		sh := s.shard(id)
		sh.mu.RLock()
		e := s.bound(userID, id)
		// ListUser has no idle timeout to apply; the stored deadline
		// already includes the absolute one.
		if e != nil && e.aliveAt(now) {
			out = append(out, store.Entry{ID: id, Meta: e.meta})
		}
		sh.mu.RUnlock()
		if e == nil {
			us.remove(userID, id)
		}
	}
	return out, nil
}

// DeleteUser deletes every session bound to userID except keepID and
// returns the IDs of those that were live. It holds the user's index lock
// and the write locks of all the shards involved, so a session created for
// the user concurrently is either deleted or created after it returns.
func (s *Store) DeleteUser(ctx context.Context, userID, keepID string) ([]string, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	now := s.now()
	us := s.userShard(userID)
	us.mu.Lock()
	defer us.mu.Unlock()
	idx := s.lockShards(s.shardsOf(us, userID))
	defer s.unlockShards(idx)
	var deleted []string
	for id := range us.m[userID] {
		if id == keepID {
			continue
		}
		e := s.bound(userID, id)
		us.remove(userID, id)
		if e == nil {
			continue
		}
		sh := s.shard(id)
		s.discard(sh, e)
		if e.aliveAt(now) {
			deleted = append(deleted, id)
		}
		sh.recycle(e)
	}
	return deleted, nil
}
