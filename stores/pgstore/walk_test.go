package pgstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/stores/pgstore"
)

// TestWalkHoldsNothing: a walk holds no connection while fn runs, so fn
// may use the store on a pool of one connection (a bulk purge deleting
// every session it is shown, across batches), and it never reads the
// values: it goes through with the values table locked against everyone.
func TestWalkHoldsNothing(t *testing.T) {
	t.Parallel()
	srv, admin := sharedPool(t)
	schema := srv.Schema(t)
	pool := newPool(t, srv, func(cfg *pgxpool.Config) { cfg.MaxConns = 1 })
	s := ownStore(t, pool, pgstore.Options{Schema: schema})
	ctx := context.Background()
	now := time.Now()
	const n = 1100 // three batches
	for i := range n {
		user := ""
		if i%2 == 0 {
			user = "alice"
		}
		create(t, s, now, user, "secret", "never walked")
	}

	tx, err := admin.Begin(ctx)
	require.NoError(t, err)
	_, values := pgstore.Options{Schema: schema}.Tables()
	_, err = tx.Exec(ctx, "LOCK TABLE "+values+" IN ACCESS EXCLUSIVE MODE")
	require.NoError(t, err)
	seen := 0
	within(t, 10*time.Second, "Walk with the values locked", func() {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		assert.NoError(t, s.Walk(wctx, now, func(store.Entry) error { seen++; return nil }))
	})
	assert.Equal(t, n, seen)
	require.NoError(t, tx.Rollback(ctx))

	seen = 0
	within(t, 30*time.Second, "Walk deleting what it is shown, on one connection", func() {
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		assert.NoError(t, s.Walk(wctx, now, func(e store.Entry) error {
			seen++
			existed, err := s.Delete(wctx, e.ID)
			if err == nil && !existed {
				t.Errorf("Walk showed %s, which Delete did not find live", e.ID)
			}
			return err
		}))
	})
	assert.Equal(t, n, seen)
	require.NoError(t, s.Walk(ctx, now, func(e store.Entry) error {
		t.Errorf("%s survived the purge", e.ID)
		return nil
	}))
}
