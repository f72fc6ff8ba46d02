package pgstore_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/stores/pgstore"
)

// processes returns n stores on the same tables, each with a pool of its
// own: as many processes of one application would be.
func processes(t *testing.T, n int) []*pgstore.Store {
	t.Helper()
	srv, _ := sharedPool(t)
	schema := srv.Schema(t)
	out := make([]*pgstore.Store, n)
	for i := range out {
		pool := newPool(t, srv, func(cfg *pgxpool.Config) { cfg.MaxConns = 8 })
		out[i] = ownStore(t, pool, pgstore.Options{Schema: schema})
	}
	return out
}

// TestRenewOneWinnerAcrossProcesses races 16 Renews of one ID, spread over
// two processes, round after round: exactly one wins each time, and every
// loser is told who did (with grace) or that the ID is gone.
func TestRenewOneWinnerAcrossProcesses(t *testing.T) {
	ps := processes(t, 2)
	ctx := context.Background()
	for round := range 10 {
		grace := time.Duration(round%2) * time.Hour // with and without
		now := time.Now()
		old := create(t, ps[0], now, "alice", "a", "1")
		const n = 16
		ids, errs := make([]string, n), make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			ids[i] = newID()
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[i] = ps[i%2].Renew(ctx, old, ids[i], &store.Change{Now: now, Idle: idle, Set: vals("w", ids[i])},
					store.WriteOptions{Now: now, Idle: idle, Grace: grace, MaxPerUser: 5})
			}()
		}
		close(start)
		wg.Wait()
		winner := ""
		for i, err := range errs {
			if err == nil {
				require.Empty(t, winner, "round %d: two Renews of one ID succeeded", round)
				winner = ids[i]
			}
		}
		for i, err := range errs {
			var renewed *store.ErrRenewed
			switch {
			case err == nil:
			case errors.As(err, &renewed):
				assert.Equal(t, winner, renewed.Successor, "round %d: a loser's ErrRenewed", round)
			case errors.Is(err, store.ErrNotFound):
				assert.Zero(t, grace, "round %d: with grace a loser learns the winner", round)
			default:
				t.Fatalf("round %d: loser %d: %v", round, i, err)
			}
		}
		require.NotEmpty(t, winner, "round %d: no Renew succeeded: %v", round, errs)
		rec, err := ps[1].Load(ctx, winner, at(now))
		require.NoError(t, err)
		assert.Equal(t, map[string]string{"a": "1", "w": winner}, strs(rec.Values), "round %d: the winner's own change, and only it", round)
		for _, id := range ids {
			if id != winner {
				_, err := ps[0].Load(ctx, id, at(now))
				assert.ErrorIs(t, err, store.ErrNotFound, "round %d: a loser's new ID exists", round)
			}
		}
		_, err = ps[0].DeleteUser(ctx, "alice", "")
		require.NoError(t, err)
	}
}

// TestCapAcrossProcesses: logins and new sessions of one user, from two
// processes at once, under a cap of 3: never more than 3 live, every
// session reported evicted is gone, and none vanished unreported.
func TestCapAcrossProcesses(t *testing.T) {
	ps := processes(t, 2)
	ctx := context.Background()
	const n, limit = 24, 3
	ids := make([]string, n)
	evictions := make([][]string, n)
	errs := make([]error, n)
	anon := make([]string, n)
	for i := range n {
		if i%2 == 1 {
			anon[i] = create(t, ps[0], time.Now(), "")
		}
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		ids[i] = newID()
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			now := time.Now()
			opts := store.WriteOptions{Now: now, Idle: idle, MaxPerUser: limit}
			s := ps[i%2]
			if anon[i] == "" {
				evictions[i], errs[i] = s.Create(ctx, ids[i], &store.Record{Meta: meta(now, "alice")}, opts)
				return
			}
			m := meta(now, "alice") // a login: an anonymous session bound to the user
			evictions[i], errs[i] = s.Renew(ctx, anon[i], ids[i], &store.Change{Now: now, Idle: idle, Meta: &m}, opts)
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "write %d", i)
	}
	entries, err := ps[1].ListUser(ctx, "alice", time.Now())
	require.NoError(t, err)
	listed := map[string]bool{}
	for _, e := range entries {
		listed[e.ID] = true
	}
	assert.LessOrEqual(t, len(listed), limit, "more sessions than the cap")
	assert.NotEmpty(t, listed)
	evicted := map[string]bool{}
	for _, ev := range evictions {
		for _, id := range ev {
			assert.False(t, evicted[id], "%s reported evicted twice", id)
			evicted[id] = true
			_, err := ps[0].Load(ctx, id, at(time.Now()))
			assert.ErrorIs(t, err, store.ErrNotFound, "reported evicted, still there")
		}
	}
	for _, id := range ids {
		assert.True(t, listed[id] != evicted[id], "%s: listed %v, reported evicted %v", id, listed[id], evicted[id])
	}
}

// rotating renews a session of alice over and over, with grace, until it
// is refused, and returns the last ID it held and how many renewals won.
func rotating(ctx context.Context, s *pgstore.Store, id string) (string, int) {
	n := 0
	for {
		next, now := newID(), time.Now()
		_, err := s.Renew(ctx, id, next, &store.Change{Now: now, Idle: idle},
			store.WriteOptions{Now: now, Idle: idle, Grace: time.Hour})
		if err != nil {
			return id, n
		}
		id = next
		n++
	}
}

// TestRevocationVersusRotation: a session rotated over and over in one
// process while another revokes it (by Delete of its first ID, which
// forwards along the chain, or by DeleteUser). When both are done nothing
// of the session is live: a rotation that landed while the revocation
// waited for its lock is followed to its successor.
func TestRevocationVersusRotation(t *testing.T) {
	ps := processes(t, 2)
	ctx := context.Background()
	revokers := map[string]func(first string) error{
		"Delete": func(first string) error {
			existed, err := ps[1].Delete(ctx, first)
			if err == nil && !existed {
				err = errors.New("Delete found nothing live")
			}
			return err
		},
		"DeleteUser": func(string) error {
			deleted, err := ps[1].DeleteUser(ctx, "alice", "")
			if err == nil && len(deleted) != 1 {
				err = errors.New("DeleteUser did not delete exactly one session")
			}
			return err
		},
	}
	for name, revoke := range revokers {
		t.Run(name, func(t *testing.T) {
			rotations := 0
			for round := range 60 {
				first := create(t, ps[0], time.Now(), "alice", "a", "1")
				var last string
				var n int
				rctx, stop := context.WithCancel(ctx)
				done := make(chan struct{})
				go func() {
					defer close(done)
					last, n = rotating(rctx, ps[0], first)
				}()
				time.Sleep(time.Duration(round%5) * time.Millisecond)
				if err := revoke(first); err != nil {
					stop() // a rotation that outran the revocation runs on otherwise
					<-done
					require.NoError(t, err, "round %d, after %d rotations", round, n)
				}
				<-done
				stop()
				rotations += n
				_, err := ps[0].Load(ctx, last, at(time.Now()))
				require.ErrorIs(t, err, store.ErrNotFound, "round %d: the session is alive at the end of its chain after %d rotations", round, n)
				entries, err := ps[0].ListUser(ctx, "alice", time.Now())
				require.NoError(t, err)
				require.Empty(t, entries, "round %d", round)
			}
			t.Logf("%d rotations raced the revocations", rotations)
		})
	}
}

// TestTakeVersusRenew: a flash value taken through the old ID while the
// session is renewed is shown once, wherever it ends up.
func TestTakeVersusRenew(t *testing.T) {
	ps := processes(t, 2)
	ctx := context.Background()
	for round := range 30 {
		now := time.Now()
		old, next := create(t, ps[0], now, "", "flash", "once"), newID()
		var got atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if _, ok, err := ps[i%2].Take(ctx, old, "flash", at(now)); err == nil && ok {
					got.Add(1)
				}
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := ps[1].Renew(ctx, old, next, &store.Change{Now: now, Idle: idle},
				store.WriteOptions{Now: now, Idle: idle, Grace: time.Hour})
			assert.NoError(t, err)
		}()
		close(start)
		wg.Wait()
		if _, ok, err := ps[0].Take(ctx, next, "flash", at(now)); err == nil && ok {
			got.Add(1)
		}
		require.Equal(t, int32(1), got.Load(), "round %d: the flash was shown %d times", round, got.Load())
	}
}
