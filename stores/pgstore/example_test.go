package pgstore_test

import (
	"context"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/stores/pgstore"
)

// A manager keeping its sessions in PostgreSQL, the store creating its
// tables on first start. Compiled, not run: it needs a database.
func Example() {
	ctx := context.Background()
	pool, err := pgstore.NewPool(ctx, "postgres://app@127.0.0.1:5432/app?sslmode=disable")
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close() // after the manager's last use
	if err := pool.Ping(ctx); err != nil {
		log.Fatal(err) // fail at startup, not on every request
	}

	st, err := pgstore.New(ctx, pool, pgstore.Options{Schema: "auth", CreateSchema: true})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close() // stops the janitor
	m, err := core.New(core.Config{Store: st, IdleTimeout: 30 * time.Minute})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	// Hand m to an adapter, e.g. sessionhttp.New(m)(mux).
}

// A manager whose PostgreSQL store keeps a near cache: Loads of a session
// read in the last second (MaxStaleness) send no query, and the tables'
// triggers (created here with the schema) drop a record as soon as any
// process changes or revokes it. The Store holds a connection of its own
// then: close it before the pool. Compiled, not run: it needs a database.
func Example_nearCache() {
	ctx := context.Background()
	pool, err := pgstore.NewPool(ctx, "postgres://app@127.0.0.1:5432/app?sslmode=disable")
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close() // runs last

	st, err := pgstore.New(ctx, pool, pgstore.Options{
		CreateSchema: true, // the tables, and the cache's triggers
		Cache: &pgstore.CacheOptions{
			MaxBytes:     64 << 20,    // an estimate of the records' heap
			MaxStaleness: time.Second, // the bound when notifications are lost
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close() // before pool.Close

	m, err := core.New(core.Config{Store: st, IdleTimeout: 30 * time.Minute})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	// Hand m to an adapter. st.CacheStats() has the hits, misses,
	// invalidations and whether the cache is listening, for a metrics
	// endpoint.
}

// The schema for a migration tool, in the names an application chose.
func ExampleOptions_SchemaSQL() {
	sql := pgstore.Options{Schema: "auth", TablePrefix: "web_"}.SchemaSQL()
	for _, line := range strings.Split(sql, "\n") {
		if strings.HasPrefix(line, "CREATE") {
			fmt.Println(line)
		}
	}
	// Output:
	// CREATE SCHEMA IF NOT EXISTS "auth";
	// CREATE TABLE IF NOT EXISTS "auth"."web_sessions" (
	// CREATE INDEX IF NOT EXISTS "web_sessions_user_id_idx"
	// CREATE INDEX IF NOT EXISTS "web_sessions_deadline_idx"
	// CREATE TABLE IF NOT EXISTS "auth"."web_values" (
}

// Where the sessions are, for a look with psql.
func ExampleOptions_Tables() {
	sessions, values := pgstore.Options{}.Tables()
	fmt.Println(sessions)
	fmt.Println(values)
	// Output:
	// "public"."sessionkit_sessions"
	// "public"."sessionkit_values"
}

// The janitor in only some processes: the others run none, and a job (or
// one process's janitor) sweeps for all of them.
func ExampleStore_Sweep() {
	run := func(ctx context.Context, st *pgstore.Store) {
		n, err := st.Sweep(ctx)
		if err != nil {
			log.Print(err)
			return
		}
		log.Printf("swept %d expired rows", n)
	}
	_ = run
	_ = pgstore.Options{JanitorInterval: -1} // in the processes that do not sweep
}
