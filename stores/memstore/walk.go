package memstore

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/core/store"
)

// walkBatch bounds one step of a Walk: the metadata of at most this many
// sessions is copied under a shard's read lock, and held while fn is
// called with it.
const walkBatch = 256

// errNilWalkFunc keeps a nil fn from becoming a panic.
var errNilWalkFunc = errors.New("memstore: nil walk function")

var _ store.Walker = (*Store)(nil)

// Walk calls fn with every session record live at now (by its stored
// deadline, as ListUser: a listing has no idle timeout of the call),
// metadata only: the values are never read, and forwarding entries never
// shown. A zero now means the store's clock. Each Entry's Meta is a copy,
// but its Metadata map is the stored one, read-only for fn as the values
// Load returns are for its caller.
//
// It goes shard by shard, and through each shard in steps, in the order
// of the IDs: a step scans the shard under its read lock for the 256
// (walkBatch) live records with the smallest IDs above the last one
// shown, copies their metadata, releases the lock, and only then calls fn
// with each. So the walk holds no lock while fn runs (fn may call the
// store, to delete what it is shown), its memory is one batch whatever
// the store holds, and a session stored under one ID for the whole walk is
// shown exactly once; one created, deleted or renewed meanwhile may or may
// not be. A step's scan costs what one of the janitor's does, and a shard
// of n sessions takes n/256+1 steps: with the default 64 shards and 100,000
// sessions, 7 scans of some 1,600 entries per shard.
//
// The walk stops at fn's first error, which Walk returns as it is, and
// when ctx is done, checked before each call of fn, with ctx's error.
func (s *Store) Walk(ctx context.Context, now time.Time, fn func(store.Entry) error) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if fn == nil {
		return errNilWalkFunc
	}
	now = s.nowOr(now)
	var w walker
	for i := range s.shards {
		sh := &s.shards[i]
		// An empty shard is skipped unlocked, as eviction skips one: a
		// record stored before the walk began is counted in its list.
		if sh.lists[anonymous].n.Load()+sh.lists[loggedIn].n.Load() == 0 {
			continue
		}
		for after, started := "", false; ; started = true {
			more := w.step(sh, now, after, started)
			for _, e := range w.batch {
				if err := ctxErr(ctx); err != nil {
					w.reset()
					return err
				}
				if err := fn(e); err != nil {
					w.reset()
					return err
				}
			}
			if !more {
				w.reset()
				break
			}
			after = w.batch[len(w.batch)-1].ID
			w.reset()
		}
	}
	return nil
}

// walker holds a Walk's batch, and the candidates a step picks it from.
// Both are reused from step to step, so a walk allocates them once.
type walker struct {
	cand  []walkCand
	batch []store.Entry
}

type walkCand struct {
	id string
	e  *entry
}

// step fills w.batch, in ascending ID order, with the metadata of the
// walkBatch live records of sh with the smallest IDs above after (above
// none unless started), and reports whether sh may hold more. Candidates
// gather up to twice the batch before the surplus is cut, so that a scan
// costs O(n log walkBatch) and its memory stays bounded.
func (w *walker) step(sh *shard, now time.Time, after string, started bool) (more bool) {
	byID := func(a, b walkCand) int { return strings.Compare(a.id, b.id) }
	cut := func() {
		slices.SortFunc(w.cand, byID)
		if len(w.cand) > walkBatch {
			w.cand = w.cand[:walkBatch]
		}
	}
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	// Room for what this shard can give, once: a walk's buffers grow to
	// their bound in one step or a few, not by doubling.
	w.cand = slices.Grow(w.cand, min(2*walkBatch, len(sh.m)))
	full, bound := false, ""
	for id, i := range sh.m {
		e := sh.at(i)
		if e.forwarding() || !e.aliveAt(now) || (started && id <= after) || (full && id > bound) {
			continue
		}
		w.cand = append(w.cand, walkCand{id, e})
		if len(w.cand) == 2*walkBatch {
			cut()
			full, bound = true, w.cand[walkBatch-1].id
		}
	}
	cut()
	w.batch = slices.Grow(w.batch, len(w.cand))
	for _, c := range w.cand {
		w.batch = append(w.batch, store.Entry{ID: c.id, Meta: c.e.meta})
	}
	return len(w.batch) == walkBatch
}

// reset empties the batch and the candidates, dropping what they point
// to, for the next step.
func (w *walker) reset() {
	clear(w.cand[:cap(w.cand)])
	w.cand = w.cand[:0]
	clear(w.batch)
	w.batch = w.batch[:0]
}
