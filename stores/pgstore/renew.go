package pgstore

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sessionkit/sessionkit/core/store"
)

// Renew moves the live record under oldID to newID with ch applied (values
// merged, metadata replaced when ch.Meta is set, LastSeen = ch.Now), its
// deadline set from opts.Idle (ch.Idle when zero), in one round trip: one
// pipelined batch that PostgreSQL runs as one transaction, so it happens
// whole or not at all, whatever interrupts it (a cancelled context, a
// statement timeout, a crash).
//
//  0. The locks: the row's user's, shared, and its lineage's, so that a
//     DeleteUser or a Delete of the session waits for this rotation or
//     this rotation for it; neither can miss the other's work.
//  1. The claim: oldID's row, if it is a live record and newID is free,
//     becomes a forwarding entry to newID that ends after opts.Grace
//     (without grace, a marker that loads as missing and ends after a
//     minute), keeping its metadata. The row lock makes concurrent Renews
//     of oldID, in any process, wait for each other: exactly one claims
//     it, and the others find it renewed (*store.ErrRenewed naming the
//     winner) or gone (ErrNotFound).
//  2. The new row, from the old one's metadata or ch.Meta.
//  3. The values move to newID (rows moved, not copied: a concurrent Take
//     of one waits for the move and then finds nothing under oldID), less
//     those ch clears or deletes; those ch sets are written.
//  4. With opts.MaxPerUser and a user to bind to, the user's oldest live
//     sessions beyond the cap are deleted and returned. The batch then
//     starts with the user's advisory lock, as Create's does. The user is
//     known up front when ch.Meta names it (the manager always sends
//     Meta); otherwise one more round trip reads it first, and the claim
//     checks that it has not changed.
//
// Where the session has an idle timeout of its own it replaces opts.Idle:
// in the claim's liveness check the one oldID's row holds, in newID's
// deadline that of ch.Meta when set, else the old row's.
//
// Each statement after the claim runs only if this call's claim
// succeeded. A newID that is taken gets ErrExists, and nothing changes.
func (s *Store) Renew(ctx context.Context, oldID, newID string, ch *store.Change, opts store.WriteOptions) ([]string, error) {
	ctx, err := begin(ctx, "renew")
	if err != nil {
		return nil, err
	}
	if ch == nil {
		ch = &store.Change{}
	}
	defer s.forget(oldID, newID)
	now := s.clock(opts.Now)
	idle := opts.Idle
	if idle == 0 {
		idle = ch.Idle
	}
	lastSeen := now
	if !ch.Now.IsZero() {
		lastSeen = s.clock(ch.Now)
	}
	cutoff, _ := window(now, idle)
	_, until := window(lastSeen, idle)
	state, ends := stateGone, now.Add(markerTTL)
	if opts.Grace > 0 {
		state, ends = stateForward, now.Add(opts.Grace)
	}

	for attempt := 0; ; attempt++ {
		r := renewal{oldID: oldID, newID: newID, ch: ch, now: now, cutoff: cutoff, until: until,
			lastSeen: lastSeen, idle: idle, state: state, ends: ends, limit: opts.MaxPerUser}
		if r.limit > 0 {
			if ch.Meta != nil {
				r.target = ch.Meta.UserID
			} else if err := s.peekUser(ctx, &r); err != nil {
				return nil, err
			}
		}
		evicted, err := s.renew(ctx, &r)
		if errors.Is(err, errUserChanged) && attempt+1 < attempts {
			continue
		}
		return evicted, err
	}
}

// errUserChanged: the record changed user between the read that chose
// which user lock to take and the claim. Renew starts over.
var errUserChanged = errors.New("the session changed user during the renewal")

// renewal is one attempt of a Renew.
type renewal struct {
	oldID, newID                 string
	ch                           *store.Change
	now, cutoff, until, lastSeen time.Time     // until: lastSeen + idle
	idle                         time.Duration // the call's
	state                        string        // what oldID becomes
	ends                         time.Time     // and when that ends
	limit                        int           // the per-user cap
	target                       string        // the user the record ends up bound to, when limit is set
	guarded                      bool          // target was read, not given: the claim checks it
	newTaken, claimed            bool
	snap                         row // oldID's row in the claim's snapshot
	evictions                    []deleted
}

// peekUser reads which user oldID is bound to, for a Renew under a cap
// without ch.Meta, and refuses what cannot be renewed.
func (s *Store) peekUser(ctx context.Context, r *renewal) error {
	var cur row
	err := retry(func() error { return s.pool.QueryRow(ctx, s.q.status, r.oldID).Scan(cur.dest()...) })
	if err != nil {
		return &Error{Op: "renew", Err: err}
	}
	if k, _ := cur.classify(r.now, r.cutoff); k != kindLive {
		return refusal("renew", &cur, r.now, r.cutoff)
	}
	r.target, r.guarded = cur.meta().UserID, true
	return nil
}

// renew runs one attempt: the batch, then its outcome.
func (s *Store) renew(ctx context.Context, r *renewal) ([]string, error) {
	evict := r.limit > 0 && r.target != ""
	ch := r.ch
	b := &pgx.Batch{}
	if evict {
		b.Queue(s.q.lock, userParam(r.target))
	}
	b.Queue(s.q.lockRenewalUser, r.oldID)
	b.Queue(s.q.lockLineage, []string{r.oldID})
	locks := b.Len()
	if r.guarded {
		b.Queue(s.q.claimUser, r.oldID, r.newID, r.state, r.now, r.cutoff, r.ends, userParam(r.target))
	} else {
		b.Queue(s.q.claim, r.oldID, r.newID, r.state, r.now, r.cutoff, r.ends)
	}
	if m := ch.Meta; m != nil {
		b.Queue(s.q.moveNewMeta, append([]any{r.oldID, r.newID, r.lastSeen, untilFor(r.lastSeen, m, r.idle),
			userParam(m.UserID), m.CreatedAt, m.IssuedAt, m.ExpiresAt, text(m.UserAgent), text(m.IP)}, loginArgs(m)...)...)
	} else {
		b.Queue(s.q.moveNew, r.oldID, r.newID, r.lastSeen, r.until)
	}
	b.Queue(s.q.moveValues, r.oldID, r.newID, ch.Clear, keyList(ch.Del), setKeys(ch.Set))
	b.Queue(s.q.dropValues, r.oldID, r.newID)
	if len(ch.Set) > 0 {
		keys, vals := valueLists(ch.Set)
		b.Queue(s.q.insertValues, r.oldID, r.newID, keys, vals)
	}
	if evict {
		b.Queue(s.q.evictRenew, userParam(r.target), r.now, r.limit-1, r.newID, r.oldID)
	}

	err := s.run(ctx, b, func(br pgx.BatchResults) error {
		for range locks {
			if _, err := br.Exec(); err != nil {
				return err
			}
		}
		var n int64
		if err := br.QueryRow().Scan(append([]any{&n, &r.newTaken}, r.snap.dest()...)...); err != nil {
			return err
		}
		r.claimed = n == 1
		rest := b.Len() - locks - 1
		if evict {
			rest-- // the eviction, read below
		}
		for range rest {
			if _, err := br.Exec(); err != nil {
				return err
			}
		}
		if evict {
			var err error
			r.evictions, err = scanDeleted(br)
			return err
		}
		return nil
	})
	s.forgetDeleted(r.evictions)
	switch {
	case err != nil && s.takenID(err):
		// newID was created by someone else while the claim ran: the
		// transaction, claim included, is rolled back.
		return nil, store.ErrExists
	case err != nil:
		return nil, &Error{Op: "renew", Err: err}
	case r.claimed:
		return s.finishEvictions(ctx, "renew", r.target, r.now, r.evictions, []string{r.newID})
	}
	return nil, s.renewRefused(ctx, r)
}

// renewRefused explains a claim that did not happen.
func (s *Store) renewRefused(ctx context.Context, r *renewal) error {
	if k, _ := r.snap.classify(r.now, r.cutoff); k != kindLive {
		return refusal("renew", &r.snap, r.now, r.cutoff)
	}
	if r.newTaken {
		return store.ErrExists
	}
	// The snapshot showed a live record and a free newID, so the claim
	// waited for a lock and found the row changed, or (guarded) bound to
	// another user now: look at it as it is.
	var cur row
	err := retry(func() error { return s.pool.QueryRow(ctx, s.q.status, r.oldID).Scan(cur.dest()...) })
	if err != nil {
		return &Error{Op: "renew", Err: err}
	}
	if k, _ := cur.classify(r.now, r.cutoff); k != kindLive {
		return refusal("renew", &cur, r.now, r.cutoff)
	}
	if r.guarded && cur.meta().UserID != r.target {
		return errUserChanged
	}
	return &Error{Op: "renew", Err: errors.New("the record changed under the renewal")}
}

// refusal is the outcome of a write that found r not live at now: a
// forwarding entry names its successor, corrupt data is ErrCorrupt, and
// anything else (missing, expired, a marker) is ErrNotFound: a write never
// tells expired from gone, so the manager drops it either way.
func refusal(op string, r *row, now, cutoff time.Time) error {
	switch k, why := r.classify(now, cutoff); k {
	case kindForward:
		return &store.ErrRenewed{Successor: r.successor.String}
	case kindCorrupt:
		return corrupt(op, "%s", why)
	}
	return store.ErrNotFound
}
