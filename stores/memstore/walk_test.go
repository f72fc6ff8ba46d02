package memstore_test

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/stores/memstore"
)

// Walk calls fn with no lock held: fn may write to the very shard it is
// being shown, here deleting every session (a bulk purge), over several
// batches of a single shard.
func TestWalkHoldsNoLockForFn(t *testing.T) {
	s := memstore.New(memstore.Options{Shards: 1, SweepInterval: -1})
	defer s.Close()
	now := time.Now()
	n := 2*memstore.WalkBatch + 7
	for range n {
		anon(t, s, now)
	}
	seen := map[string]int{}
	done := make(chan error, 1)
	go func() {
		done <- s.Walk(ctx, now, func(e store.Entry) error {
			seen[e.ID]++
			_, err := s.Delete(ctx, e.ID)
			return err
		})
	}()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("Walk did not finish: fn ran under the shard's lock")
	}
	assert.Len(t, seen, n)
	for id, k := range seen {
		assert.Equal(t, 1, k, "%.8s shown %d times", id, k)
	}
	assert.Zero(t, s.Len())
	require.NoError(t, s.CheckInvariants())
}

// While other sessions are created, written, renewed and deleted, in the
// walk's shards and by fn itself, a session stored for the whole walk is
// shown exactly once, and a forwarding entry never.
func TestWalkUnderWrites(t *testing.T) {
	s := memstore.New(memstore.Options{Shards: 2, SweepInterval: -1})
	defer s.Close()
	now := time.Now()
	const stable = 1500
	want := make(map[string]bool, stable)
	for range stable {
		want[anon(t, s, now)] = true
	}
	forwarding := map[string]bool{}
	for range 50 {
		old := anon(t, s, now)
		next := newID(t)
		_, err := s.Renew(ctx, old, next, nil, store.WriteOptions{Now: now, Idle: time.Hour, Grace: time.Hour})
		require.NoError(t, err)
		forwarding[old] = true
	}
	stableIDs := make([]string, 0, stable)
	for id := range want {
		stableIDs = append(stableIDs, id)
	}

	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				id := anon(t, s, now)
				if i%2 == 0 {
					next := newID(t)
					_, err := s.Renew(ctx, id, next, nil, store.WriteOptions{Now: now, Idle: time.Hour})
					assert.NoError(t, err)
					id = next
				}
				// Writes to the stable sessions replace their values map,
				// not their place.
				u := stableIDs[(i*7+w)%len(stableIDs)]
				assert.NoError(t, s.Update(ctx, u, &store.Change{Now: now, Idle: time.Hour, Set: map[string][]byte{"i": nil}}))
				_, err := s.Delete(ctx, id)
				assert.NoError(t, err)
				runtime.Gosched()
			}
		}()
	}
	seen := map[string]int{}
	err := s.Walk(ctx, now, func(e store.Entry) error {
		seen[e.ID]++
		if len(seen)%97 == 0 {
			anon(t, s, now) // fn writes too
		}
		runtime.Gosched()
		return nil
	})
	stop.Store(true)
	wg.Wait()
	require.NoError(t, err)
	for id := range want {
		assert.Equal(t, 1, seen[id], "stable session %.8s shown %d times", id, seen[id])
	}
	for id := range forwarding {
		assert.Zero(t, seen[id], "forwarding entry %.8s shown", id)
	}
	require.NoError(t, s.CheckInvariants())
}

// A walk's memory is one batch, whatever the store holds: walking 20,000
// sessions in one shard allocates no more than walking 600.
func TestWalkMemoryIsBounded(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	alloc := func(n int) uint64 {
		s := memstore.New(memstore.Options{Shards: 1, MaxSessions: -1, SweepInterval: -1})
		defer s.Close()
		now := time.Now()
		for range n {
			anon(t, s, now)
		}
		var before, after runtime.MemStats
		shown := 0
		runtime.ReadMemStats(&before)
		require.NoError(t, s.Walk(ctx, now, func(store.Entry) error { shown++; return nil }))
		runtime.ReadMemStats(&after)
		require.Equal(t, n, shown)
		return after.TotalAlloc - before.TotalAlloc
	}
	small, large := alloc(600), alloc(20_000)
	t.Logf("Walk allocates %d bytes for 600 sessions, %d for 20,000", small, large)
	assert.LessOrEqual(t, large, small+4096, "Walk's memory grows with the store")
	assert.Less(t, large, uint64(96<<10), "Walk allocates more than a batch (256 entries of metadata and twice as many candidates: 68 KB)")
}
