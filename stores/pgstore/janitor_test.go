package pgstore_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/stores/pgstore"
)

// rowCount counts the rows of the sessions table in schema.
func rowCount(t *testing.T, schema string) int {
	t.Helper()
	_, pool := sharedPool(t)
	sessions, _ := pgstore.Options{Schema: schema}.Tables()
	var n int
	require.NoError(t, pool.QueryRow(context.Background(), "SELECT count(*) FROM "+sessions).Scan(&n))
	return n
}

// expired creates n sessions whose deadline has passed by the real clock,
// with values (which go with them), and a forwarding entry past its grace.
func expired(t *testing.T, s store.Store, n int) {
	t.Helper()
	ctx := context.Background()
	past := time.Now().Add(-2 * idle)
	for range n {
		create(t, s, past, "alice", "a", "1")
	}
	old := create(t, s, time.Now(), "", "a", "1")
	_, err := s.Renew(ctx, old, newID(), &store.Change{Now: time.Now(), Idle: idle},
		store.WriteOptions{Now: time.Now().Add(-time.Hour), Idle: idle, Grace: time.Second})
	require.NoError(t, err)
}

// TestSweep deletes exactly the rows past their deadline, in batches,
// however many processes sweep at once, and each row once.
func TestSweep(t *testing.T) {
	ps := processes(t, 3)
	s := ps[0]
	ctx := context.Background()
	expired(t, s, 25)
	var live []string
	for range 5 {
		live = append(live, create(t, s, time.Now(), "bob", "b", "2"))
	}

	// Three processes at once.
	counts := make([]int, len(ps))
	var wg sync.WaitGroup
	for i, p := range ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := p.Sweep(ctx)
			assert.NoError(t, err)
			counts[i] = n
		}()
	}
	wg.Wait()
	total := 0
	for _, n := range counts {
		total += n
	}
	// 25 sessions, and the forwarding entry past its grace. (The renewed
	// session itself is live.)
	assert.Equal(t, 26, total, "every expired row deleted once: %v", counts)
	entries, err := s.ListUser(ctx, "bob", time.Now())
	require.NoError(t, err)
	assert.Len(t, entries, len(live), "a live session was swept")
	for _, id := range live {
		_, err := s.Load(ctx, id, at(time.Now()))
		assert.NoError(t, err)
	}
	n, err := s.Sweep(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "a second sweep finds nothing")
}

// TestSweepSkipsLockedRows: a row a request holds is left alone, without
// waiting, and deleted by a later sweep.
func TestSweepSkipsLockedRows(t *testing.T) {
	s, pool, schema := newStore(t, pgstore.Options{JanitorInterval: -1})
	ctx := context.Background()
	past := time.Now().Add(-2 * idle)
	id := create(t, s, past, "", "a", "1")
	create(t, s, past, "", "a", "1")
	sessions, _ := pgstore.Options{Schema: schema}.Tables()
	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, "SELECT 1 FROM "+sessions+" WHERE id = $1 FOR UPDATE", id)
	require.NoError(t, err)

	var n int
	within(t, time.Second, "a sweep past a locked row", func() { n, err = s.Sweep(ctx) })
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the unlocked expired row only")
	require.NoError(t, tx.Rollback(ctx))
	n, err = s.Sweep(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the row, once let go")
	assert.Zero(t, rowCount(t, schema))
}

// TestJanitor: the janitor sweeps by itself, stops on Close, and runs
// nowhere its interval is negative.
func TestJanitor(t *testing.T) {
	withJanitor, _, schema := newStore(t, pgstore.Options{JanitorInterval: 20 * time.Millisecond, JanitorBatch: 2})
	expired(t, withJanitor, 5)
	require.Eventually(t, func() bool { return rowCount(t, schema) == 1 }, 5*time.Second, 20*time.Millisecond,
		"the janitor left expired rows (the renewed session stays)")

	require.NoError(t, withJanitor.Close())
	require.NoError(t, withJanitor.Close(), "Close twice")
	expired(t, withJanitor, 1)
	time.Sleep(200 * time.Millisecond)
	assert.Equal(t, 4, rowCount(t, schema), "swept after Close")

	without, _, schema2 := newStore(t, pgstore.Options{JanitorInterval: -1})
	expired(t, without, 1)
	time.Sleep(200 * time.Millisecond)
	assert.Equal(t, 3, rowCount(t, schema2), "a store without a janitor swept")
	n, err := without.Sweep(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 2, n, "Sweep still works where the janitor does not run")
}
