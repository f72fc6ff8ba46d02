package pgstore_test

import (
	"context"
	"errors"
	"maps"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/internal/pgtest"
	"github.com/sessionkit/sessionkit/stores/pgstore"
)

// Bounds for failing fast: every call gets opDeadline, and must return
// within returnBound, which leaves room for a loaded machine.
const (
	opDeadline  = time.Second
	returnBound = 2 * time.Second
)

// requireFailure: a store that is down must give none of the contract's
// outcomes, or the manager would take it for an answer about the session.
func requireFailure(t *testing.T, err error, what string) {
	t.Helper()
	require.Error(t, err, "%s succeeded with the database down", what)
	var renewed *store.ErrRenewed
	for _, outcome := range []error{store.ErrNotFound, store.ErrExpired, store.ErrExists, store.ErrCorrupt} {
		require.NotErrorIs(t, err, outcome, "%s: a failure reported as an outcome", what)
	}
	require.False(t, errors.As(err, &renewed), "%s: a failure reported as ErrRenewed", what)
	var pe *pgstore.Error
	require.ErrorAs(t, err, &pe, "%s: errors are *pgstore.Error", what)
	assert.NotEmpty(t, pe.Op)
}

// operations are the Store methods, by name, as everyOperation runs them.
var operations = []string{"Load", "Create", "Update", "Renew", "Delete", "Take", "ListUser", "DeleteUser", "Walk", "Sweep"}

// everyOperation runs the operation name on the session live of user.
func everyOperation(ctx context.Context, s *pgstore.Store, name, live, user string) error {
	now := time.Now()
	switch name {
	case "Load":
		_, err := s.Load(ctx, live, store.LoadOptions{Now: now, Idle: idle})
		return err
	case "Create":
		_, err := s.Create(ctx, newID(), &store.Record{Meta: meta(now, user)}, store.WriteOptions{Now: now, Idle: idle, MaxPerUser: 2})
		return err
	case "Update":
		return s.Update(ctx, live, &store.Change{Now: now, Idle: idle, Set: vals("k", "v")})
	case "Renew":
		_, err := s.Renew(ctx, live, newID(), &store.Change{Now: now, Idle: idle}, store.WriteOptions{Now: now, Idle: idle, Grace: time.Second})
		return err
	case "Delete":
		_, err := s.Delete(ctx, live)
		return err
	case "Take":
		_, _, err := s.Take(ctx, live, "k", store.LoadOptions{Now: now, Idle: idle})
		return err
	case "ListUser":
		_, err := s.ListUser(ctx, user, now)
		return err
	case "DeleteUser":
		_, err := s.DeleteUser(ctx, user, "")
		return err
	case "Walk":
		return s.Walk(ctx, now, func(store.Entry) error { return nil })
	case "Sweep":
		_, err := s.Sweep(ctx)
		return err
	}
	panic(name)
}

// eventually retries op, each try under opDeadline, until it succeeds or
// bound passes, and fails the test with the last error then.
func eventually(t *testing.T, bound time.Duration, what string, op func(context.Context) error) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), opDeadline)
		err := op(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			require.NoError(t, err, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDatabaseDown stops the server under a store in use: every operation
// fails, fast, with an error that is not an outcome; started again on its
// port, the same store and pool work again, and the session written before
// the outage is there, untouched by the failed writes.
func TestDatabaseDown(t *testing.T) {
	srv := pgtest.New(t)
	pool, err := pgstore.NewPool(context.Background(), srv.URL())
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	s := ownStore(t, pool, pgstore.Options{})
	now := time.Now()
	live := create(t, s, now, "alice", "a", "1")

	require.NoError(t, srv.Stop())
	// The subtests run in parallel, as requests would, and the wrapping
	// t.Run waits for them before the server is started again.
	t.Run("down", func(t *testing.T) {
		for _, name := range operations {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				ctx, cancel := context.WithTimeout(context.Background(), opDeadline)
				defer cancel()
				var err error
				within(t, returnBound, name, func() { err = everyOperation(ctx, s, name, live, "alice") })
				requireFailure(t, err, name)
				assert.Contains(t, err.Error(), "pgstore:", "errors name the store")
			})
		}
	})

	require.NoError(t, srv.Start())
	// The pool's connections died with the server; each is found dead on
	// its next use and replaced, so the first calls may still fail.
	var rec *store.Record
	eventually(t, 5*time.Second, "Load after the restart", func(ctx context.Context) (err error) {
		rec, err = s.Load(ctx, live, store.LoadOptions{Now: time.Now(), Idle: idle, TouchAfter: idle})
		return err
	})
	assert.Equal(t, "alice", rec.Meta.UserID)
	assert.Equal(t, map[string]string{"a": "1"}, strs(rec.Values), "the session survived the outage, and no failed write changed it")
	for _, name := range operations {
		eventually(t, 5*time.Second, name+" after the restart", func(ctx context.Context) error {
			return everyOperation(ctx, s, name, create(t, s, time.Now(), "bob", "k", "v"), "bob")
		})
	}
}

// TestDatabaseCrash: an immediate shutdown (SIGQUIT, no checkpoint) loses
// nothing that was acknowledged, and the store works again after recovery.
func TestDatabaseCrash(t *testing.T) {
	srv := pgtest.New(t)
	pool := newPool(t, srv)
	s := ownStore(t, pool, pgstore.Options{})
	now := time.Now()
	ctx := context.Background()
	ids := make([]string, 20)
	for i := range ids {
		ids[i] = create(t, s, now, "alice", "a", "1")
		require.NoError(t, s.Update(ctx, ids[i], &store.Change{Now: now, Idle: idle, Set: vals("b", "2")}))
	}
	require.NoError(t, srv.Crash())
	require.NoError(t, srv.Start())
	eventually(t, 5*time.Second, "ListUser after the crash", func(ctx context.Context) error {
		entries, err := s.ListUser(ctx, "alice", now)
		if err == nil && len(entries) != len(ids) {
			return errors.New("sessions lost in the crash")
		}
		return err
	})
	for _, id := range ids {
		rec, err := s.Load(ctx, id, at(now))
		require.NoError(t, err)
		assert.Equal(t, map[string]string{"a": "1", "b": "2"}, strs(rec.Values), "an acknowledged write lost in the crash")
	}
}

// TestStalledServer: a server that accepts connections and never answers.
// The context's deadline bounds the wait.
func TestStalledServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				<-stop
				conn.Close()
			}()
		}
	}()
	pool, err := pgstore.NewPool(context.Background(), "postgres://postgres@"+l.Addr().String()+"/postgres?sslmode=disable")
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	s, err := pgstore.New(context.Background(), pool, pgstore.Options{JanitorInterval: -1})
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	within(t, returnBound, "Load from a stalled server", func() {
		_, err = s.Load(ctx, newID(), store.LoadOptions{Now: time.Now(), Idle: idle})
	})
	requireFailure(t, err, "Load")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

// blockValue locks one value row from a transaction of its own until the
// returned function is called: a write of the store that reaches that row
// waits there, halfway through its transaction.
func blockValue(t *testing.T, pool *pgxpool.Pool, schema, id, key string) (release func()) {
	t.Helper()
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	_, values := pgstore.Options{Schema: schema}.Tables()
	var n int
	require.NoError(t, tx.QueryRow(ctx, "SELECT count(*) FROM (SELECT 1 FROM "+values+
		" WHERE session_id = $1 AND key = $2 FOR UPDATE) x", id, []byte(key)).Scan(&n))
	require.Equal(t, 1, n, "the value row to block")
	released := false
	release = func() {
		if !released {
			released = true
			require.NoError(t, tx.Rollback(ctx))
		}
	}
	t.Cleanup(release)
	return release
}

// interrupted is a write stopped halfway: its first statements have run,
// and one later in its transaction waits for a lock.
type interrupted struct {
	name  string
	write func(ctx context.Context, s *pgstore.Store, id, next string) error
	// done and notDone look at the session once the blocker is gone (they
	// probe, and fail nothing): the write happened entirely, or not at all.
	done, notDone func(t *testing.T, s *pgstore.Store, id, next string) bool
}

var interruptions = []interrupted{
	{
		name: "Renew",
		write: func(ctx context.Context, s *pgstore.Store, id, next string) error {
			_, err := s.Renew(ctx, id, next, &store.Change{Now: time.Now(), Idle: idle, Set: vals("c", "3")},
				store.WriteOptions{Now: time.Now(), Idle: idle, Grace: time.Hour})
			return err
		},
		notDone: func(t *testing.T, s *pgstore.Store, id, next string) bool {
			rec, err := s.Load(context.Background(), id, at(time.Now()))
			_, nerr := s.Load(context.Background(), next, at(time.Now()))
			return err == nil && rec.Successor == "" && maps.Equal(map[string]string{"a": "1", "b": "2"}, strs(rec.Values)) &&
				errors.Is(nerr, store.ErrNotFound)
		},
		done: func(t *testing.T, s *pgstore.Store, id, next string) bool {
			rec, err := s.Load(context.Background(), id, at(time.Now()))
			nrec, nerr := s.Load(context.Background(), next, at(time.Now()))
			return err == nil && rec.Successor == next && nerr == nil &&
				maps.Equal(map[string]string{"a": "1", "b": "2", "c": "3"}, strs(nrec.Values))
		},
	},
	{
		name: "Update",
		write: func(ctx context.Context, s *pgstore.Store, id, _ string) error {
			// The session row's update runs; the upsert of b and z waits.
			return s.Update(ctx, id, &store.Change{Now: time.Now().Add(time.Minute), Idle: idle, Set: vals("b", "20", "z", "26")})
		},
		notDone: func(t *testing.T, s *pgstore.Store, id, _ string) bool {
			rec, err := s.Load(context.Background(), id, at(time.Now()))
			return err == nil && maps.Equal(map[string]string{"a": "1", "b": "2"}, strs(rec.Values)) &&
				time.Since(rec.Meta.LastSeen) > 0
		},
		done: func(t *testing.T, s *pgstore.Store, id, _ string) bool {
			rec, err := s.Load(context.Background(), id, at(time.Now()))
			return err == nil && maps.Equal(map[string]string{"a": "1", "b": "20", "z": "26"}, strs(rec.Values)) &&
				time.Since(rec.Meta.LastSeen) < 0
		},
	},
}

// TestInterruptedWritesAreWhole stops writes halfway through their
// transaction (a value row they need is locked) and lets their context
// end, or a statement timeout fire: the store reports a failure, and the
// session is left as it was or entirely written, never in between. With a
// statement timeout, or the pool NewPool builds (which asks the server to
// cancel), the write is rolled back; pgx's default pool only stops
// waiting, and the server finishes (and commits) the transaction once the
// lock is released: whole either way.
func TestInterruptedWritesAreWhole(t *testing.T) {
	srv := pgtest.Shared(t)
	schema := srv.Schema(t)
	plain := newPool(t, srv)
	canceling, err := pgstore.NewPool(context.Background(), srv.URL())
	require.NoError(t, err)
	t.Cleanup(canceling.Close)
	timeout := newPool(t, srv, func(cfg *pgxpool.Config) {
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = "200ms"
	})
	stores := map[*pgxpool.Pool]*pgstore.Store{}
	for _, p := range []*pgxpool.Pool{plain, canceling, timeout} {
		stores[p] = ownStore(t, p, pgstore.Options{Schema: schema})
	}
	for _, w := range interruptions {
		for _, c := range []struct {
			name       string
			pool       *pgxpool.Pool
			ctx        time.Duration
			rolledBack bool // the write must not have happened
		}{
			{"ContextDeadline", plain, 300 * time.Millisecond, false},
			{"ContextDeadlineCancelRequest", canceling, 300 * time.Millisecond, true},
			{"StatementTimeout", timeout, 10 * time.Second, true},
		} {
			t.Run(w.name+"/"+c.name, func(t *testing.T) {
				s := stores[c.pool]
				id, next := create(t, s, time.Now(), "alice", "a", "1", "b", "2"), newID()
				release := blockValue(t, plain, schema, id, "b")
				ctx, cancel := context.WithTimeout(context.Background(), c.ctx)
				defer cancel()
				var err error
				within(t, returnBound, w.name, func() { err = w.write(ctx, s, id, next) })
				requireFailure(t, err, w.name)
				release()
				// What the server does once the lock is free takes a moment.
				deadline := time.Now().Add(3 * time.Second)
				for {
					done, notDone := w.done(t, s, id, next), w.notDone(t, s, id, next)
					require.False(t, done && notDone)
					if c.rolledBack {
						require.False(t, done, "a write rolled back happened")
						if notDone {
							return
						}
					} else if done || notDone {
						t.Logf("whole; happened: %v", done)
						return
					}
					require.True(t, time.Now().Before(deadline), "the session is half written")
					time.Sleep(50 * time.Millisecond)
				}
			})
		}
	}
}

// TestCancelledBeforeTheCall: every operation, Sweep included, refuses a
// context that is already done, with its error.
func TestCancelledBeforeTheCall(t *testing.T) {
	s, _, _ := newStore(t, pgstore.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, name := range operations {
		err := everyOperation(ctx, s, name, newID(), "alice")
		assert.ErrorIs(t, err, context.Canceled, name)
	}
}
