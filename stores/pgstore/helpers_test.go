package pgstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/internal/pgtest"
	"github.com/sessionkit/sessionkit/stores/pgstore"
)

const (
	idle     = time.Hour
	lifetime = 24 * time.Hour
)

// newID is a store ID: 64 lowercase hex digits, random.
func newID() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails (Go 1.24 and later)
	return hex.EncodeToString(b[:])
}

func meta(now time.Time, user string) store.Meta {
	return store.Meta{
		UserID: user, CreatedAt: now, IssuedAt: now, LastSeen: now,
		ExpiresAt: now.Add(lifetime), UserAgent: "test-agent", IP: "192.0.2.1",
	}
}

func wopts(now time.Time) store.WriteOptions { return store.WriteOptions{Now: now, Idle: idle} }

func at(now time.Time) store.LoadOptions {
	return store.LoadOptions{Now: now, Idle: idle, TouchAfter: lifetime}
}

// create stores a session for user with the given values and returns its ID.
func create(t testing.TB, s store.Store, now time.Time, user string, kv ...string) string {
	t.Helper()
	id := newID()
	v := map[string][]byte{}
	for i := 0; i+1 < len(kv); i += 2 {
		v[kv[i]] = []byte(kv[i+1])
	}
	_, err := s.Create(context.Background(), id, &store.Record{Meta: meta(now, user), Values: v}, wopts(now))
	require.NoError(t, err)
	return id
}

// vals is a values map from key, value pairs.
func vals(kv ...string) map[string][]byte {
	m := map[string][]byte{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = []byte(kv[i+1])
	}
	return m
}

// strs turns values into strings, for readable comparisons.
func strs(m map[string][]byte) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = string(v)
	}
	return out
}

// newPool is a pool on srv's database, closed when the test ends.
// configure adjusts it first.
func newPool(t testing.TB, srv *pgtest.Server, configure ...func(*pgxpool.Config)) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(srv.URL())
	require.NoError(t, err)
	for _, f := range configure {
		f(cfg)
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return pool
}

// ownStore is a store, with its janitor off unless opts says otherwise,
// on a pool of its own on srv, in the default schema and tables.
func ownStore(t testing.TB, pool *pgxpool.Pool, opts pgstore.Options) *pgstore.Store {
	t.Helper()
	opts.CreateSchema = true
	if opts.JanitorInterval == 0 {
		opts.JanitorInterval = -1
	}
	if opts.Logger == nil {
		opts.Logger = quiet()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := pgstore.New(ctx, pool, opts)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// within runs f and requires it to return within d.
func within(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not return within %v", what, d)
	}
	t.Logf("%s returned in %v", what, time.Since(start).Round(time.Millisecond))
}
