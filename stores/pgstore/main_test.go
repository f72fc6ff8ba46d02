package pgstore_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/internal/pgtest"
	"github.com/sessionkit/sessionkit/stores/pgstore"
)

func TestMain(m *testing.M) { pgtest.Main(m, closeShared) }

// The binary's pool on the shared server, made on first use and closed by
// TestMain before the server stops. Tests keep apart by schema.
var shared struct {
	mu   sync.Mutex
	pool *pgxpool.Pool
}

func closeShared() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.pool != nil {
		shared.pool.Close()
	}
}

// sharedPool is a pool on the shared server.
func sharedPool(t testing.TB) (*pgtest.Server, *pgxpool.Pool) {
	t.Helper()
	srv := pgtest.Shared(t)
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.pool == nil {
		cfg, err := pgxpool.ParseConfig(srv.URL())
		require.NoError(t, err)
		// The conformance suite runs its tests in parallel, some of them
		// with 16 or 32 goroutines on one session.
		cfg.MaxConns = 32
		shared.pool, err = pgxpool.NewWithConfig(context.Background(), cfg)
		require.NoError(t, err)
	}
	return srv, shared.pool
}

// quiet is a logger that discards everything.
func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newStore is a store of its own (a fresh schema, created by the store) on
// the shared server, closed when the test ends.
func newStore(t testing.TB, opts pgstore.Options) (*pgstore.Store, *pgxpool.Pool, string) {
	t.Helper()
	srv, pool := sharedPool(t)
	opts.Schema = srv.Schema(t)
	opts.CreateSchema = true
	if opts.Logger == nil {
		opts.Logger = quiet()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := pgstore.New(ctx, pool, opts)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s, pool, opts.Schema
}
