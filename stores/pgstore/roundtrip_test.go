package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/internal/pgtest"
	"github.com/sessionkit/sessionkit/stores/pgstore"
)

// wire counts round trips on the connections it wraps: one each time the
// client writes after having read (or first writes), however many writes
// and reads an exchange takes. A pipelined batch is one; a statement that
// must be prepared first is two.
type wire struct {
	mu    sync.Mutex
	trips int
	sql   []string // what the tracer saw sent, by first word
}

type wiredConn struct {
	net.Conn
	w       *wire
	writing bool
}

func (c *wiredConn) Write(b []byte) (int, error) {
	c.w.mu.Lock()
	if !c.writing {
		c.w.trips++
		c.writing = true
	}
	c.w.mu.Unlock()
	return c.Conn.Write(b)
}

func (c *wiredConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.w.mu.Lock()
		c.writing = false
		c.w.mu.Unlock()
	}
	return n, err
}

// The tracer side: which statements each round trip carried.
func (w *wire) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	w.note("query " + firstWords(d.SQL))
	return ctx
}
func (w *wire) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (w *wire) TraceBatchStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	var parts []string
	for _, q := range d.Batch.QueuedQueries {
		parts = append(parts, firstWords(q.SQL))
	}
	w.note("batch [" + strings.Join(parts, "; ") + "]")
	return ctx
}
func (w *wire) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (w *wire) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

func (w *wire) note(s string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.sql = append(w.sql, s)
}

func (w *wire) take() (int, []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, sql := w.trips, w.sql
	w.trips, w.sql = 0, nil
	return n, sql
}

// firstWords shortens a statement to its first two words, after a WITH
// its first data-modifying word too.
func firstWords(sql string) string {
	f := strings.Fields(sql)
	out := f[:min(2, len(f))]
	if len(f) > 0 && f[0] == "WITH" {
		for _, w := range f[2:] {
			if w == "(" || w == "AS" || w == "RECURSIVE" {
				continue
			}
			out = append(out, w)
			break
		}
	}
	return strings.Join(out, " ")
}

// xidNext is the next transaction ID the server will hand out, read
// without taking one: an operation that writes (or locks) anything takes
// one per transaction.
func xidNext(t *testing.T, c *pgx.Conn) uint64 {
	t.Helper()
	var next uint64
	require.NoError(t, c.QueryRow(context.Background(),
		"SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint").Scan(&next))
	return next
}

type measured struct {
	trips, xids int
	sql         []string
}

// TestRoundTrips counts, on a server of its own (autovacuum off, no
// janitor, so no one else spends transaction IDs), the round trips each
// operation costs on the wire, the statements it sent, and the
// transactions that wrote. The package doc's table is these figures.
func TestRoundTrips(t *testing.T) {
	srv := pgtest.New(t, "autovacuum=off")
	w := &wire{}
	pool := newPool(t, srv, func(cfg *pgxpool.Config) {
		cfg.MaxConns, cfg.MinConns = 1, 1
		cfg.ConnConfig.Tracer = w
		cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &wiredConn{Conn: conn, w: w}, nil
		}
		// pgxpool pings a connection idle for over a second before handing
		// it out; a busy pool seldom has one. Not what is measured here.
		cfg.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return false }
	})
	s := ownStore(t, pool, pgstore.Options{})
	stats, err := pgx.Connect(context.Background(), srv.URL())
	require.NoError(t, err)
	t.Cleanup(func() { stats.Close(context.Background()) })
	ctx := context.Background()
	now := time.Now()

	measure := func(what string, op func()) measured {
		t.Helper()
		before := xidNext(t, stats)
		w.take()
		op()
		trips, sql := w.take()
		m := measured{trips: trips, xids: int(xidNext(t, stats) - before), sql: sql}
		t.Logf("%-40s round trips %d, writing transactions %d: %v", what+":", m.trips, m.xids, m.sql)
		return m
	}

	// The operations, each run once to warm up (pgx prepares a statement
	// on a connection's first use of it: one more round trip, once), then
	// measured.
	capped := store.WriteOptions{Now: now, Idle: idle, MaxPerUser: 3}
	type op struct {
		name        string
		trips, xids int
		run         func()
	}
	var id, next string
	ops := []op{
		{"Create (a new session, no user)", 1, 1, func() {
			_, err := s.Create(ctx, newID(), &store.Record{Meta: meta(now, ""), Values: vals("count", "1")}, wopts(now))
			require.NoError(t, err)
		}},
		{"Create (bound to a user, under a cap)", 1, 1, func() {
			id = newID()
			_, err := s.Create(ctx, id, &store.Record{Meta: meta(now, "alice"), Values: vals("count", "1")}, capped)
			require.NoError(t, err)
		}},
		{"Load, read-only inside the window", 1, 0, func() {
			_, err := s.Load(ctx, id, store.LoadOptions{Now: now.Add(time.Minute), Idle: idle, TouchAfter: 15 * time.Minute})
			require.NoError(t, err)
		}},
		{"Load, touching", 2, 1, func() {
			rec, err := s.Load(ctx, id, store.LoadOptions{Now: now.Add(20 * time.Minute), Idle: idle, TouchAfter: 15 * time.Minute})
			require.NoError(t, err)
			assert.WithinDuration(t, now.Add(20*time.Minute), rec.Meta.LastSeen, time.Millisecond)
		}},
		{"Update (one key)", 1, 1, func() {
			require.NoError(t, s.Update(ctx, id, &store.Change{Now: now.Add(21 * time.Minute), Idle: idle, Set: vals("count", "2")}))
		}},
		{"Update (clear, set, delete)", 1, 1, func() {
			require.NoError(t, s.Update(ctx, id, &store.Change{Now: now.Add(21 * time.Minute), Idle: idle, Clear: true,
				Set: vals("a", "1"), Del: []string{"b"}}))
		}},
		{"Take (a flash value)", 1, 1, func() {
			_, ok, err := s.Take(ctx, id, "a", at(now.Add(21*time.Minute)))
			require.NoError(t, err)
			assert.True(t, ok)
		}},
		{"Renew (login: Meta, cap)", 1, 1, func() {
			next = newID()
			m := meta(now, "alice")
			_, err := s.Renew(ctx, id, next, &store.Change{Now: now.Add(22 * time.Minute), Idle: idle, Meta: &m,
				Set: vals("count", "3")}, store.WriteOptions{Now: now.Add(22 * time.Minute), Idle: idle, MaxPerUser: 3})
			require.NoError(t, err)
		}},
		{"Renew (rotation, 5s grace)", 1, 1, func() {
			id, next = next, newID()
			m := meta(now, "alice")
			_, err := s.Renew(ctx, id, next, &store.Change{Now: now.Add(23 * time.Minute), Idle: idle, Meta: &m},
				store.WriteOptions{Now: now.Add(23 * time.Minute), Idle: idle, Grace: 5 * time.Second})
			require.NoError(t, err)
		}},
		{"Update through the old ID (ErrRenewed)", 1, 0, func() {
			err := s.Update(ctx, id, &store.Change{Now: now.Add(23 * time.Minute), Idle: idle, Set: vals("x", "1")})
			var renewed *store.ErrRenewed
			require.ErrorAs(t, err, &renewed)
		}},
		{"Delete (logout, through the old ID)", 1, 1, func() {
			existed, err := s.Delete(ctx, id)
			require.NoError(t, err)
			assert.True(t, existed)
		}},
		{"Sweep (nothing expired)", 1, 0, func() {
			_, err := s.Sweep(ctx)
			require.NoError(t, err)
		}},
	}
	// The counter's control: a statement's first use on a connection is
	// prepared in a round trip of its own.
	first := measure("Create, first use (prepare, then run)", ops[0].run)
	assert.Equal(t, 2, first.trips, "a first use is two round trips: the counter counts exchanges")
	for _, o := range ops {
		o.run() // warm-up
	}
	_, err = s.ListUser(ctx, "alice", now)
	require.NoError(t, err)
	_, err = s.DeleteUser(ctx, "alice", "")
	require.NoError(t, err)
	for _, o := range ops {
		m := measure(o.name, o.run)
		assert.Equal(t, o.trips, m.trips, "%s: round trips", o.name)
		assert.Equal(t, o.xids, m.xids, "%s: transactions that wrote", o.name)
	}

	// Under a cap of 3 with 3 sessions: one more is one round trip, and
	// the oldest goes in it.
	for range 2 {
		create(t, s, now, "carol")
	}
	oldest := newID()
	m := meta(now, "carol")
	m.CreatedAt = now.Add(-time.Hour)
	_, err = s.Create(ctx, oldest, &store.Record{Meta: m}, capped)
	require.NoError(t, err)
	r := measure("Create evicting one (cap 3)", func() {
		evicted, err := s.Create(ctx, newID(), &store.Record{Meta: meta(now, "carol")}, capped)
		require.NoError(t, err)
		assert.Equal(t, []string{oldest}, evicted)
	})
	assert.Equal(t, 1, r.trips, "Create with an eviction")
	assert.Equal(t, 1, r.xids)

	const n = 100
	for range n {
		create(t, s, now, "bob", "big", strings.Repeat("x", 1000))
	}
	r = measure(fmt.Sprintf("ListUser (%d sessions)", n), func() {
		entries, err := s.ListUser(ctx, "bob", now)
		require.NoError(t, err)
		assert.Len(t, entries, n)
	})
	assert.Equal(t, 1, r.trips, "ListUser")
	assert.Zero(t, r.xids, "ListUser wrote")
	r = measure(fmt.Sprintf("DeleteUser (%d sessions)", n), func() {
		deleted, err := s.DeleteUser(ctx, "bob", "")
		require.NoError(t, err)
		assert.Len(t, deleted, n)
	})
	assert.Equal(t, 1, r.trips, "DeleteUser")
	assert.Equal(t, 1, r.xids)

	// Walk: one round trip per batch of 500, none of them writing; a
	// walk of exactly two batches takes two (the extra row each batch
	// reads tells whether there is more), one past that three.
	walk := func() int {
		n := 0
		require.NoError(t, s.Walk(ctx, now, func(store.Entry) error { n++; return nil }))
		return n
	}
	already := walk() // warm-up
	require.LessOrEqual(t, already, 1000)
	for range 1000 - already {
		create(t, s, now, "")
	}
	for _, c := range []struct {
		add, trips int
		name       string
	}{
		{0, 2, "Walk (1000 sessions)"},
		{100, 3, "Walk (1100 sessions)"},
	} {
		for range c.add {
			create(t, s, now, "")
		}
		var n int
		r = measure(c.name, func() { n = walk() })
		assert.Equal(t, 1000+c.add, n, c.name)
		assert.Equal(t, c.trips, r.trips, "%s: round trips", c.name)
		assert.Zero(t, r.xids, "%s wrote", c.name)
	}
	r = measure("Walk stopped by fn in the first batch", func() {
		err := s.Walk(ctx, now, func(store.Entry) error { return errStop })
		assert.ErrorIs(t, err, errStop)
	})
	assert.Equal(t, 1, r.trips, "a Walk fn stopped read further batches")
}

// errStop is what a Walk's fn returns to stop it.
var errStop = errors.New("stop")

// TestTouchIsASecondStep is why the idle extension is a statement of its
// own, run once per touch window, rather than part of every read: a read
// that may write must be a data-modifying statement, which PostgreSQL
// refuses in a read-only transaction (a hot standby, a read-only role)
// even when it would change nothing, and which costs more to run. Here the
// store's reads work on a pool whose transactions are all read-only; the
// read with the touch folded in (a CTE that updates nothing) is refused
// there; and on a normal pool it is timed against the plain read.
func TestTouchIsASecondStep(t *testing.T) {
	srv := pgtest.Shared(t)
	schema := srv.Schema(t)
	rw := newPool(t, srv)
	s := ownStore(t, rw, pgstore.Options{Schema: schema})
	now := time.Now()
	id := create(t, s, now, "alice", "a", "1")

	ro := newPool(t, srv, func(cfg *pgxpool.Config) {
		cfg.ConnConfig.RuntimeParams["default_transaction_read_only"] = "on"
	})
	reader, err := pgstore.New(context.Background(), ro, pgstore.Options{Schema: schema, JanitorInterval: -1})
	require.NoError(t, err)
	ctx := context.Background()
	rec, err := reader.Load(ctx, id, store.LoadOptions{Now: now.Add(time.Minute), Idle: idle, TouchAfter: 15 * time.Minute})
	require.NoError(t, err, "a read inside the touch window runs in a read-only transaction")
	assert.Equal(t, map[string]string{"a": "1"}, strs(rec.Values))
	_, err = reader.Load(ctx, id, store.LoadOptions{Now: now.Add(20 * time.Minute), Idle: idle, TouchAfter: 15 * time.Minute})
	assert.Error(t, err, "the touch, a write, is refused there: the control")

	sessions, values := pgstore.Options{Schema: schema}.Tables()
	plain := `SELECT s.state, s.last_seen, v.keys, v.vals FROM ` + sessions + ` s
LEFT JOIN LATERAL (SELECT array_agg(key ORDER BY key) AS keys, array_agg(value ORDER BY key) AS vals
	FROM ` + values + ` WHERE session_id = s.id) v ON true WHERE s.id = $1`
	folded := `WITH t AS (UPDATE ` + sessions + ` SET last_seen = $2 WHERE id = $1 AND last_seen < $2::timestamptz - interval '15 minutes'
	RETURNING 1) ` + plain
	var keys, vs [][]byte
	var state string
	var seen time.Time
	_, err = ro.Exec(ctx, folded, id, now.Add(time.Minute))
	assert.ErrorContains(t, err, "read-only transaction", "a read with the touch folded in is a write, even when it touches nothing")

	timeIt := func(sql string, args ...any) time.Duration {
		const n = 200
		start := time.Now()
		for range n {
			require.NoError(t, rw.QueryRow(ctx, sql, args...).Scan(&state, &seen, &keys, &vs))
		}
		return time.Since(start) / n
	}
	timeIt(plain, id) // warm up both statements
	timeIt(folded, id, now.Add(time.Minute))
	p, f := timeIt(plain, id), timeIt(folded, id, now.Add(time.Minute))
	t.Logf("per read, client to server and back: plain SELECT %v, with the touch folded in (touching nothing) %v", p, f)
}
