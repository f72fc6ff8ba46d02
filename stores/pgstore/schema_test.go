package pgstore_test

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/stores/pgstore"
)

// freshDatabase creates a database of the test's own on the shared server
// and returns a pool on it as user (the superuser when empty); the
// database is dropped when the test ends.
func freshDatabase(t *testing.T, user string) (*pgxpool.Pool, string) {
	t.Helper()
	srv, admin := sharedPool(t)
	name := srv.Schema(t) // a fresh name; the schema itself is not used
	ctx := context.Background()
	_, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	require.NoError(t, err)
	t.Cleanup(func() {
		_, err := admin.Exec(context.Background(), "DROP DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
		assert.NoError(t, err)
	})
	return newPool(t, srv, func(cfg *pgxpool.Config) {
		cfg.ConnConfig.Database = name
		if user != "" {
			cfg.ConnConfig.User = user
		}
	}), name
}

// smoke runs a session through s: created, updated, listed, loaded.
func smoke(t *testing.T, s *pgstore.Store) {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	id := create(t, s, now, "alice", "a", "1")
	require.NoError(t, s.Update(ctx, id, &store.Change{Now: now, Idle: idle, Set: vals("b", "2")}))
	entries, err := s.ListUser(ctx, "alice", now)
	require.NoError(t, err)
	require.Len(t, entries, 1)
	rec, err := s.Load(ctx, id, at(now))
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"a": "1", "b": "2"}, strs(rec.Values))
}

// objects lists the tables and indexes of schema, by name.
func objects(t *testing.T, pool *pgxpool.Pool, schema string) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE nspname = $1 AND relkind IN ('r', 'i') ORDER BY relname`, schema)
	require.NoError(t, err)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return names
}

var defaultObjects = []string{
	"sessionkit_sessions", "sessionkit_sessions_deadline_idx", "sessionkit_sessions_pkey",
	"sessionkit_sessions_user_id_idx", "sessionkit_values", "sessionkit_values_pkey",
}

// TestSchemaSQLAsIs: the embedded file, run by hand (twice: it is
// idempotent), makes the tables a store without CreateSchema works on; and
// New with CreateSchema on top of it changes nothing.
func TestSchemaSQLAsIs(t *testing.T) {
	pool, _ := freshDatabase(t, "")
	ctx := context.Background()
	for range 2 {
		_, err := pool.Exec(ctx, pgstore.SchemaSQL)
		require.NoError(t, err)
	}
	assert.Equal(t, defaultObjects, objects(t, pool, "public"))
	s, err := pgstore.New(ctx, pool, pgstore.Options{JanitorInterval: -1})
	require.NoError(t, err)
	smoke(t, s)
	_, err = pgstore.New(ctx, pool, pgstore.Options{CreateSchema: true, JanitorInterval: -1})
	require.NoError(t, err)
	assert.Equal(t, defaultObjects, objects(t, pool, "public"))
}

// TestSchemaSQLRendered: other names replace every default one, quoted,
// and the store works in them.
func TestSchemaSQLRendered(t *testing.T) {
	pool, _ := freshDatabase(t, "")
	o := pgstore.Options{Schema: `Odd "Schema" ünï`, TablePrefix: "app_", JanitorInterval: -1, CreateSchema: true}
	sql := o.SchemaSQL()
	// Outside comments, nothing of the default names is left.
	var code []string
	for _, line := range strings.Split(sql, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			code = append(code, line)
		}
	}
	body := strings.Join(code, "\n")
	assert.NotRegexp(t, regexp.MustCompile(`sessionkit_|public\.`), body)
	assert.Contains(t, body, `CREATE SCHEMA IF NOT EXISTS "Odd ""Schema"" ünï"`)
	assert.Contains(t, body, `"Odd ""Schema"" ünï"."app_sessions"`)
	assert.Contains(t, body, `INDEX IF NOT EXISTS "app_sessions_user_id_idx"`)

	s, err := pgstore.New(context.Background(), pool, o)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	assert.Equal(t, []string{"app_sessions", "app_sessions_deadline_idx", "app_sessions_pkey",
		"app_sessions_user_id_idx", "app_values", "app_values_pkey"}, objects(t, pool, o.Schema))
	smoke(t, s)
	assert.Empty(t, objects(t, pool, "public"), "the default names were used too")
	sessions, values := o.Tables()
	assert.Equal(t, `"Odd ""Schema"" ünï"."app_sessions"`, sessions)
	assert.Equal(t, `"Odd ""Schema"" ünï"."app_values"`, values)
}

// TestCreateSchemaConcurrently: processes starting at once all create the
// schema without tripping over each other (CREATE ... IF NOT EXISTS alone
// fails that way), and then share it.
func TestCreateSchemaConcurrently(t *testing.T) {
	pool, _ := freshDatabase(t, "")
	o := pgstore.Options{Schema: "sessions", CreateSchema: true, JanitorInterval: -1}
	const n = 6
	errs := make([]error, n)
	stores := make([]*pgstore.Store, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			stores[i], errs[i] = pgstore.New(context.Background(), pool, o)
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "process %d", i)
	}
	smoke(t, stores[n-1])
}

// TestCreateSchemaInPublicNeedsNoDatabasePrivilege: a role that may create
// tables in public but not schemas (PostgreSQL 15's default for an
// application role granted public) gets its tables created: the CREATE
// SCHEMA of an existing schema is left out, as it would need the
// database's CREATE privilege even then.
func TestCreateSchemaInPublicNeedsNoDatabasePrivilege(t *testing.T) {
	admin, db := freshDatabase(t, "")
	ctx := context.Background()
	role := "app_" + strings.TrimPrefix(db, "t_")
	_, err := admin.Exec(ctx, "CREATE ROLE "+role+" LOGIN; GRANT CREATE ON SCHEMA public TO "+role+
		"; REVOKE CREATE ON DATABASE "+pgx.Identifier{db}.Sanitize()+" FROM PUBLIC")
	require.NoError(t, err)
	t.Cleanup(func() {
		// Before the database is dropped: its tables are the role's.
		_, err := admin.Exec(context.Background(), "DROP OWNED BY "+role+"; DROP ROLE "+role)
		assert.NoError(t, err)
	})
	app, _ := freshPoolAs(t, db, role)
	_, err = app.Exec(ctx, "CREATE SCHEMA x")
	require.Error(t, err, "the control: the role may not create schemas")
	s, err := pgstore.New(ctx, app, pgstore.Options{CreateSchema: true, JanitorInterval: -1})
	require.NoError(t, err)
	smoke(t, s)
}

// freshPoolAs is a pool on database db as user.
func freshPoolAs(t *testing.T, db, user string) (*pgxpool.Pool, string) {
	t.Helper()
	srv, _ := sharedPool(t)
	return newPool(t, srv, func(cfg *pgxpool.Config) {
		cfg.ConnConfig.Database, cfg.ConnConfig.User = db, user
	}), db
}

func TestOptionsRefused(t *testing.T) {
	_, pool := sharedPool(t)
	ctx := context.Background()
	for name, o := range map[string]pgstore.Options{
		"LongSchema":    {Schema: strings.Repeat("s", 64)},
		"LongPrefix":    {TablePrefix: strings.Repeat("p", 43)},
		"NULInSchema":   {Schema: "a\x00b"},
		"NegativeBatch": {JanitorBatch: -1},
	} {
		_, err := pgstore.New(ctx, pool, o)
		assert.Error(t, err, name)
	}
	s, err := pgstore.New(ctx, pool, pgstore.Options{TablePrefix: strings.Repeat("p", 42), JanitorInterval: -1})
	require.NoError(t, err, "the longest prefix that fits")
	require.NoError(t, s.Close())
	_, err = pgstore.New(ctx, nil, pgstore.Options{})
	assert.Error(t, err, "nil pool")
}
