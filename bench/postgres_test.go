package bench

import (
	"bytes"
	"context"
	"database/sql"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/internal/pgtest"
	"github.com/sessionkit/sessionkit/stores/pgstore"
)

// Every PostgreSQL benchmark talks to a server that it started itself
// (internal/pgtest: Debian's binaries, run as the postgres user when the
// benchmark runs as root, on a free loopback port), never to one already
// running on the machine. Each subject gets a schema of its own on it,
// empty, dropped when the subject is done.

// TestMain lets internal/pgtest keep one initdb'd template for every
// server this binary starts, and remove it at the end.
func TestMain(m *testing.M) { pgtest.Main(m) }

// pgSettings are the benchmark server's settings beyond pgtest's (fsync
// off, loopback only). Autovacuum is off so that nothing but the subjects
// spends transaction IDs: writes/op counts them (see pgServer.meter). Every
// subject starts on empty tables, and no timed loop is long enough for
// autovacuum to have mattered.
var pgSettings = []string{"autovacuum=off"}

// BenchmarkPostgres runs the four scenarios for sessionkit on pgstore, on
// each framework, without and with pgstore's near cache (sessionkit-cache:
// its defaults, LISTEN/NOTIFY invalidation), and for the peers that have a PostgreSQL store: scs
// (alexedwards/scs/postgresstore) on net/http, gin-contrib/sessions/postgres
// on Gin, echo-contrib's session with antonlindstrom/pgstore (the gorilla
// PostgreSQL store gin-contrib wraps) on Echo v4 and v5. Fiber's session
// middleware has none here: gofiber/storage/postgres is not on the module
// proxy. Every library talks to PostgreSQL through pgx v5: sessionkit
// through pgxpool, the others through database/sql with pgx's stdlib
// driver.
func BenchmarkPostgres(b *testing.B) {
	pg := startPostgres(b)
	sessionkit := func(mk func(*core.Manager) *subject) factory {
		return factory{"sessionkit", func(b *testing.B) *subject {
			m, c := sessionkitPostgres(b, pg)
			return withPg(mk(m), c)
		}}
	}
	cached := func(mk func(*core.Manager) *subject) factory {
		return factory{"sessionkit-cache", func(b *testing.B) *subject {
			m, c, st := sessionkitPostgresCached(b, pg)
			s := withPg(mk(m), c)
			s.pgCache = st.CacheStats
			return s
		}}
	}
	runSubjects(b, "nethttp", []factory{
		sessionkit(nethttpSessionkit),
		cached(nethttpSessionkit),
		{"scs", func(b *testing.B) *subject { return scsPostgres(b, pg, 0) }},
		{"scs-idle", func(b *testing.B) *subject { return scsPostgres(b, pg, 30*time.Minute) }},
	}, false, pg.meter)
	runSubjects(b, "gin", []factory{
		sessionkit(ginSessionkit),
		cached(ginSessionkit),
		{"gin-sessions", func(b *testing.B) *subject { return ginSessionsPostgres(b, pg) }},
	}, false, pg.meter)
	runSubjects(b, "echo", []factory{
		sessionkit(echoSessionkit),
		cached(echoSessionkit),
		{"echo-session", func(b *testing.B) *subject { return echoSessionPostgres(b, pg) }},
	}, false, pg.meter)
	runSubjects(b, "echov5", []factory{
		sessionkit(echov5Sessionkit),
		cached(echov5Sessionkit),
		{"echov5-session", func(b *testing.B) *subject { return echov5SessionPostgres(b, pg) }},
	}, false, pg.meter)
	runSubjects(b, "fiber", []factory{sessionkit(fiberSessionkit), cached(fiberSessionkit)}, false, pg.meter)
	runSubjects(b, "fiberv3", []factory{sessionkit(fiberv3Sessionkit), cached(fiberv3Sessionkit)}, false, pg.meter)
}

// BenchmarkPostgresRaw is pgx alone, on a pool built as sessionkit's is
// (pgstore.NewPool): one SELECT of a 64-byte value by primary key, a
// SELECT then an UPDATE of it, and SELECTs from parallel goroutines. These
// are the floors of the PostgreSQL scenarios: one round trip for a read,
// two for a read and a write.
func BenchmarkPostgresRaw(b *testing.B) {
	pg := startPostgres(b)
	ctx := context.Background()
	value := bytes.Repeat([]byte("v"), 64)
	raw := func(b *testing.B) (*pgxpool.Pool, *pgCount, string) {
		table := pgx.Identifier{pg.srv.Schema(b), "raw"}.Sanitize()
		c := new(pgCount)
		pool := pg.pool(b, c)
		if _, err := pool.Exec(ctx, "CREATE TABLE "+table+" (id text PRIMARY KEY, data bytea NOT NULL)"); err != nil {
			b.Fatal(err)
		}
		if _, err := pool.Exec(ctx, "INSERT INTO "+table+" VALUES ('raw', $1)", value); err != nil {
			b.Fatal(err)
		}
		return pool, c, table
	}
	read := func(b testing.TB, pool *pgxpool.Pool, sel string) {
		var v []byte
		if err := pool.QueryRow(ctx, sel, "raw").Scan(&v); err != nil || !bytes.Equal(v, value) {
			b.Fatalf("SELECT: %q, %v", v, err)
		}
	}
	b.Run("SELECT", func(b *testing.B) {
		pool, c, table := raw(b)
		sel := "SELECT data FROM " + table + " WHERE id = $1"
		read(b, pool, sel)
		m := pg.meter(b, &subject{pg: c})
		m.begin(b)
		for i := 0; i < b.N; i++ {
			read(b, pool, sel)
		}
		m.end(b)
	})
	b.Run("SELECTUPDATE", func(b *testing.B) {
		pool, c, table := raw(b)
		sel := "SELECT data FROM " + table + " WHERE id = $1"
		upd := "UPDATE " + table + " SET data = $2 WHERE id = $1"
		read(b, pool, sel)
		m := pg.meter(b, &subject{pg: c})
		m.begin(b)
		for i := 0; i < b.N; i++ {
			read(b, pool, sel)
			if _, err := pool.Exec(ctx, upd, "raw", value); err != nil {
				b.Fatal(err)
			}
		}
		m.end(b)
	})
	b.Run("SELECTParallel", func(b *testing.B) {
		pool, c, table := raw(b)
		sel := "SELECT data FROM " + table + " WHERE id = $1"
		read(b, pool, sel)
		m := pg.meter(b, &subject{pg: c})
		m.begin(b)
		b.RunParallel(func(pb *testing.PB) {
			var v []byte
			for pb.Next() {
				if err := pool.QueryRow(ctx, sel, "raw").Scan(&v); err != nil {
					b.Error(err)
					return
				}
			}
		})
		m.end(b)
	})
}

// BenchmarkPostgresListUser1000 is Manager.ListSessions for a user with
// 1,000 sessions on pgstore (the per-user cap lifted, as in
// BenchmarkScaling's ListUserN).
func BenchmarkPostgresListUser1000(b *testing.B) {
	pg := startPostgres(b)
	m, c := sessionkitPostgres(b, pg)
	benchListUser(b, m, 1000, pg.meter(b, &subject{pg: c}))
}

// BenchmarkPostgresSweep100k is one pgstore.Sweep (the janitor's pass)
// over 100,000 expired sessions of one value each, in the default batches
// of 500 rows. The rows are made outside the timer: one session through
// the manager, then copies of its row and its value's row by one INSERT ...
// SELECT each, then VACUUM ANALYZE, as autovacuum would have left the
// tables. They expire by the clock of the store that sweeps (48 hours
// ahead), not by waiting. It reports rows/s, the rows deleted per second
// of Sweep, and the round trips of one sweep.
func BenchmarkPostgresSweep100k(b *testing.B) {
	const rows = 100_000
	ctx := context.Background()
	pg := startPostgres(b)
	c := new(pgCount)
	pool := pg.pool(b, c)
	opts := pgstore.Options{Schema: pg.srv.Schema(b), CreateSchema: true, JanitorInterval: -1, Logger: quietLogger}
	st, err := pgstore.New(ctx, pool, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	m := manager(b, st)
	sweepOpts := opts
	sweepOpts.CreateSchema = false
	sweepOpts.Now = func() time.Time { return time.Now().Add(48 * time.Hour) }
	sweeper, err := pgstore.New(ctx, pool, sweepOpts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = sweeper.Close() })
	fill := pg.sessionCloner(b, opts)

	var swept, roundTrips, stmts int64
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		fill(m, rows)
		rt0, st0 := c.roundTrips.Load(), c.stmts.Load()
		b.StartTimer()
		n, err := sweeper.Sweep(ctx)
		b.StopTimer()
		if err != nil || n != rows {
			b.Fatalf("Sweep: %d rows, %v; want %d", n, err, rows)
		}
		swept += int64(n)
		roundTrips += c.roundTrips.Load() - rt0
		stmts += c.stmts.Load() - st0
	}
	b.ReportMetric(float64(swept)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(roundTrips)/float64(b.N), "roundtrips/op")
	b.ReportMetric(float64(stmts)/float64(b.N), "stmts/op")
}

// sessionCloner returns what fills the empty tables of a store with n
// sessions, each with the value /set stores: one made through the manager,
// then n-1 copies of its rows, made by one INSERT ... SELECT for the
// sessions table and one for the values table, over the admin pool (not
// counted). The copies go through jsonb so that they depend on no column
// but the two keys, which the catalog names: the sessions table's primary
// key, given a fresh 64-hex-digit ID in each copy, and the values table's
// foreign key to it.
func (p *pgServer) sessionCloner(b *testing.B, opts pgstore.Options) func(m *core.Manager, n int) {
	ctx := context.Background()
	sessions, values := opts.Tables()
	var id, fk string
	err := p.admin.QueryRow(ctx, `SELECT a.attname FROM pg_index i
		JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
		WHERE i.indrelid = $1::regclass AND i.indisprimary`, sessions).Scan(&id)
	if err != nil {
		b.Fatalf("the primary key of %s: %v", sessions, err)
	}
	err = p.admin.QueryRow(ctx, `SELECT a.attname FROM pg_constraint c
		JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
		WHERE c.conrelid = $1::regclass AND c.confrelid = $2::regclass AND c.contype = 'f'
		AND cardinality(c.conkey) = 1`, values, sessions).Scan(&fk)
	if err != nil {
		b.Fatalf("the foreign key of %s to %s: %v", values, sessions, err)
	}
	idName, fkName := id, fk
	id, fk = pgx.Identifier{id}.Sanitize(), pgx.Identifier{fk}.Sanitize()
	copySessions := `INSERT INTO ` + sessions + ` SELECT (jsonb_populate_record(NULL::` + sessions + `,
		to_jsonb(t) || jsonb_build_object($2::text, encode(sha256(convert_to(t.` + id + ` || ':' || g, 'UTF8')), 'hex')))).*
		FROM ` + sessions + ` t, generate_series(1, $1::int) g`
	copyValues := `INSERT INTO ` + values + ` SELECT (jsonb_populate_record(NULL::` + values + `,
		to_jsonb(v) || jsonb_build_object($1::text, s.` + id + `))).*
		FROM ` + values + ` v JOIN ` + sessions + ` s ON s.` + id + ` <> v.` + fk
	count := func(table string) int {
		var n int
		if err := p.admin.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			b.Fatal(err)
		}
		return n
	}
	return func(m *core.Manager, n int) {
		if k := count(sessions); k != 0 {
			b.Fatalf("%s holds %d rows before the fill, want none", sessions, k)
		}
		s, err := m.Load(ctx, &core.Request{UserAgent: "bench/1.0", RemoteAddr: "192.0.2.1:1234"})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Put(valueKey, valueWant); err != nil {
			b.Fatal(err)
		}
		if _, err := m.Commit(ctx, s); err != nil {
			b.Fatal(err)
		}
		for _, q := range []struct {
			sql  string
			args []any
		}{{copySessions, []any{n - 1, idName}}, {copyValues, []any{fkName}}, {"VACUUM ANALYZE " + sessions, nil}, {"VACUUM ANALYZE " + values, nil}} {
			if _, err := p.admin.Exec(ctx, q.sql, q.args...); err != nil {
				b.Fatalf("%s: %v", q.sql, err)
			}
		}
		if k, v := count(sessions), count(values); k != n || v != n {
			b.Fatalf("after the fill: %d sessions and %d values, want %d of each", k, v, n)
		}
	}
}

// ---- the server and the subjects ----

// pgServer is a PostgreSQL server of the benchmark's own, with a pool to
// administer it (reading counters, preparing rows), which is not counted.
type pgServer struct {
	srv   *pgtest.Server
	admin *pgxpool.Pool
}

// startPostgres starts the server; pgtest skips, loudly, without the
// PostgreSQL binaries (and fails under CI=true).
func startPostgres(tb testing.TB) *pgServer {
	srv := pgtest.New(tb, pgSettings...)
	admin, err := pgxpool.New(context.Background(), srv.URL())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(admin.Close)
	return &pgServer{srv: srv, admin: admin}
}

// pool is a pool built by pgstore.NewPool, as an application builds
// sessionkit's (its defaults: at most max(4, GOMAXPROCS) connections),
// counting what it sends in c.
func (p *pgServer) pool(tb testing.TB, c *pgCount) *pgxpool.Pool {
	pool, err := pgstore.NewPool(context.Background(), p.srv.URL(), func(cfg *pgxpool.Config) {
		c.configure(cfg.ConnConfig)
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close)
	return pool
}

// sqlDB is a database/sql handle on pgx's stdlib driver with
// database/sql's defaults, its search_path the schema (where the peers,
// which name their tables unqualified, find theirs), counting what it
// sends in c.
func (p *pgServer) sqlDB(tb testing.TB, schema string, c *pgCount) *sql.DB {
	cfg, err := pgx.ParseConfig(p.srv.URL())
	if err != nil {
		tb.Fatal(err)
	}
	cfg.RuntimeParams["search_path"] = schema
	c.configure(cfg)
	db := stdlib.OpenDB(*cfg)
	tb.Cleanup(func() { _ = db.Close() })
	return db
}

// sessionkitPostgres is a sessionkit manager with its defaults on pgstore
// with its defaults (pgstore.NewPool's pool, default table names), in a
// schema of its own that the store creates. The store's janitor is off
// (JanitorInterval -1): a sweep every minute would land in some timed
// loop, and the scenarios expire nothing.
func sessionkitPostgres(tb testing.TB, p *pgServer) (*core.Manager, *pgCount) {
	c := new(pgCount)
	pool := p.pool(tb, c)
	st, err := pgstore.New(context.Background(), pool, pgstore.Options{
		Schema: p.srv.Schema(tb), CreateSchema: true, JanitorInterval: -1, Logger: quietLogger,
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	return manager(tb, st), c
}

// sessionkitPostgresCached is sessionkitPostgres with pgstore's near
// cache on, at its defaults (64 MiB, MaxStaleness 1s), once it serves:
// until then every Load reads the database. The store is the manager's,
// returned for its counters. The listening connection is dialled with the
// pool's configuration, so its heartbeats (one statement, and one
// transaction ID, a quarter second) count in roundtrips/op and writes/op.
func sessionkitPostgresCached(tb testing.TB, p *pgServer) (*core.Manager, *pgCount, *pgstore.Store) {
	c := new(pgCount)
	pool := p.pool(tb, c)
	st, err := pgstore.New(context.Background(), pool, pgstore.Options{
		Schema: p.srv.Schema(tb), CreateSchema: true, JanitorInterval: -1, Logger: quietLogger,
		Cache: &pgstore.CacheOptions{},
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = st.Close() }) // before the pool's Close (cleanups run last first)
	deadline := time.Now().Add(10 * time.Second)
	for !st.CacheStats().Listening {
		if time.Now().After(deadline) {
			tb.Fatalf("pgstore's near cache is not on after 10s: %v", st.CacheStats().ListenError)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return manager(tb, st), c, st
}

func withPg(s *subject, c *pgCount) *subject {
	s.pg = c
	return s
}

// ---- counting what a library sends ----

// pgCount counts what one library's connections send: round trips on the
// wire (turnConn) and statements (the pgx tracer), by their first keyword.
// The same two counters serve every library, since all of them run on pgx
// (sessionkit on pgxpool, the peers on database/sql over pgx's stdlib
// driver, which calls the same pgx.Conn and so the same tracer).
type pgCount struct {
	roundTrips atomic.Int64
	stmts      atomic.Int64
	verbs      [len(pgVerbs)]atomic.Int64
}

// pgVerbs are the first keywords statements are counted by; "other"
// takes the rest.
var pgVerbs = [...]string{"select", "insert", "update", "delete", "with", "other"}

// configure makes the connections of cfg count in c.
func (c *pgCount) configure(cfg *pgx.ConnConfig) {
	cfg.Tracer = c
	cfg.DialFunc = c.dial
}

// dial is pgconn's default dialer (keepalive 5 minutes), its connections
// counting round trips.
func (c *pgCount) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := (&net.Dialer{KeepAlive: 5 * time.Minute}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &turnConn{Conn: conn, n: &c.roundTrips}, nil
}

// statement counts one statement sent, by its first keyword.
func (c *pgCount) statement(sql string) {
	c.stmts.Add(1)
	verb := firstKeyword(sql)
	for i, v := range pgVerbs[:len(pgVerbs)-1] {
		if v == verb {
			c.verbs[i].Add(1)
			return
		}
	}
	c.verbs[len(pgVerbs)-1].Add(1)
}

// firstKeyword is the lowercase first word of sql, past white space and
// comments.
func firstKeyword(sql string) string {
	for {
		sql = strings.TrimLeft(sql, " \t\r\n(")
		switch {
		case strings.HasPrefix(sql, "--"):
			if i := strings.IndexByte(sql, '\n'); i >= 0 {
				sql = sql[i+1:]
				continue
			}
			return ""
		case strings.HasPrefix(sql, "/*"):
			if i := strings.Index(sql, "*/"); i >= 0 {
				sql = sql[i+2:]
				continue
			}
			return ""
		}
		end := strings.IndexFunc(sql, func(r rune) bool { return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') })
		if end < 0 {
			end = len(sql)
		}
		return strings.ToLower(sql[:end])
	}
}

// pgx.QueryTracer (Query, QueryRow, Exec) and pgx.BatchTracer (each
// statement of a batch, which travels in one round trip).
func (c *pgCount) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	c.statement(d.SQL)
	return ctx
}

func (c *pgCount) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c *pgCount) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

func (c *pgCount) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	c.statement(d.SQL)
}

func (c *pgCount) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// turnConn counts round trips: a write after the server last sent
// something (or the first write) starts one; more writes before the answer
// are the same round trip. pgx may read on a goroutine of its own while
// it writes, hence the atomic.
type turnConn struct {
	net.Conn
	n       *atomic.Int64
	writing atomic.Bool
}

func (c *turnConn) Write(p []byte) (int, error) {
	if !c.writing.Swap(true) {
		c.n.Add(1)
	}
	return c.Conn.Write(p)
}

func (c *turnConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.writing.Store(false)
	}
	return n, err
}

// nextXID is the next transaction ID the server will assign. PostgreSQL
// gives a transaction an ID only when it writes (a row inserted, updated,
// deleted or locked); a read-only one spends none, and reading this spends
// none either.
func (p *pgServer) nextXID(tb testing.TB) int64 {
	var x int64
	if err := p.admin.QueryRow(context.Background(), "SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint").Scan(&x); err != nil {
		tb.Fatal(err)
	}
	return x
}

// serverCPU is the CPU time, in seconds, that the server's processes have
// used: the postmaster's own and its children's, live (their utime and
// stime in /proc) and exited (the postmaster's cutime and cstime). ok is
// false when /proc cannot tell.
func (p *pgServer) serverCPU() (seconds float64, ok bool) {
	pid := p.srv.Pid()
	if pid == 0 {
		return 0, false
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0, false
	}
	self := strconv.Itoa(pid)
	var ticks int64
	for _, e := range ents {
		name := e.Name()
		if name[0] < '0' || name[0] > '9' {
			continue
		}
		data, err := os.ReadFile("/proc/" + name + "/stat")
		if err != nil {
			continue // exited meanwhile
		}
		// pid (comm) state ppid ... utime stime cutime cstime: the fields
		// after the command, which may hold anything, are 3 to 17.
		i := bytes.LastIndexByte(data, ')')
		if i < 0 || i+2 > len(data) {
			continue
		}
		f := strings.Fields(string(data[i+2:]))
		if len(f) < 15 {
			continue
		}
		var use []string
		switch {
		case name == self:
			ok = true
			use = f[11:15] // utime stime cutime cstime
		case f[1] == self:
			use = f[11:13] // utime stime
		}
		for _, v := range use {
			n, _ := strconv.ParseInt(v, 10, 64)
			ticks += n
		}
	}
	// /proc counts in USER_HZ, 100 per second on Linux.
	return float64(ticks) / 100, ok
}

// meter counts, over the timed loop, the library's round trips and
// statements (pgCount), the transaction IDs the server assigned (writes:
// every writing transaction takes exactly one; see nextXID), and the
// server's CPU time (serverCPU). It reports roundtrips/op, stmts/op,
// VERB-stmts/op for each first keyword seen, writes/op and server-us/op.
// The server runs nothing but the benchmark (autovacuum off), so the IDs
// and the CPU time are the subject's.
func (p *pgServer) meter(b *testing.B, s *subject) *meter {
	var rt0, st0, xid0 int64
	var verbs0 [len(pgVerbs)]int64
	var cpu0 float64
	var cpuOK bool
	var cache0 pgstore.CacheStats
	return &meter{
		start: func(b *testing.B) {
			if s.pgCache != nil {
				cache0 = s.pgCache()
			}
			xid0 = p.nextXID(b)
			cpu0, cpuOK = p.serverCPU()
			rt0, st0 = s.pg.roundTrips.Load(), s.pg.stmts.Load()
			for i := range verbs0 {
				verbs0[i] = s.pg.verbs[i].Load()
			}
		},
		stop: func(b *testing.B, n int) {
			per := func(x int64) float64 { return float64(x) / float64(n) }
			b.ReportMetric(per(s.pg.roundTrips.Load()-rt0), "roundtrips/op")
			b.ReportMetric(per(s.pg.stmts.Load()-st0), "stmts/op")
			for i, v := range pgVerbs {
				if d := s.pg.verbs[i].Load() - verbs0[i]; d != 0 {
					b.ReportMetric(per(d), v+"-stmts/op")
				}
			}
			if cpu, ok := p.serverCPU(); ok && cpuOK {
				b.ReportMetric((cpu-cpu0)*1e6/float64(n), "server-us/op")
			}
			b.ReportMetric(per(p.nextXID(b)-xid0), "writes/op")
			if s.pgCache != nil {
				// Loads the near cache served, and Loads that read the
				// database (a miss, or a bypass while it was off).
				c := s.pgCache()
				b.ReportMetric(per(int64(c.Hits-cache0.Hits)), "cache-hits/op")
				b.ReportMetric(per(int64(c.Misses-cache0.Misses+c.Bypasses-cache0.Bypasses)), "cache-reads/op")
			}
		},
	}
}
