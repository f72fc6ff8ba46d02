package demotest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/internal/pgtest"
	"github.com/sessionkit/sessionkit/stores/pgstore"
)

// RunPostgres runs the whole contract again with every app's sessions in
// PostgreSQL: the test binary's shared server, started by pgtest on a free
// loopback port, each test in a schema of its own that the store creates
// its tables in, on a pool of its own built as the demo builds it
// (pgstore.NewPool). The store-failure case keeps its own failing store.
// The test binary's TestMain must call pgtest.Main, or pgtest.Setup.
func RunPostgres(t *testing.T, start Start) {
	Run(t, onPostgres(start))
}

// onPostgres wraps start so that the manager it is given keeps its
// settings but stores its sessions in PostgreSQL.
func onPostgres(start Start) Start {
	return func(t *testing.T, m *core.Manager, useTLS bool) Target {
		cfg := m.Config()
		if cfg.Store != nil {
			return start(t, m, useTLS) // a case that brings its own store
		}
		srv := pgtest.Shared(t)
		schema := srv.Schema(t)
		ctx := context.Background()
		pool, err := pgstore.NewPool(ctx, srv.URL())
		require.NoError(t, err)
		st, err := pgstore.New(ctx, pool, pgstore.Options{Schema: schema, CreateSchema: true, Logger: Quiet()})
		if err != nil {
			pool.Close()
			require.NoError(t, err)
		}
		cfg.Store = st
		onPG, err := core.New(cfg)
		require.NoError(t, err)
		// Registered before start's cleanups, so they run after the server
		// has stopped, and after the schema's cleanup, so before its drop.
		t.Cleanup(func() {
			require.NoError(t, onPG.Close())
			require.NoError(t, st.Close())
			pool.Close()
		})
		return start(t, onPG, useTLS)
	}
}
