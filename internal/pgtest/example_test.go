package pgtest_test

import (
	"context"
	"fmt"
	"sort"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sessionkit/sessionkit/internal/pgtest"
)

// A test that stops or crashes its database starts one of its own on a
// free loopback port; it is stopped, and its directory removed, when the
// test ends. The helpers need the testing.TB that go test makes, so this
// example is compiled, not run.
func ExampleNew() {
	restartSurvives := func(t *testing.T) {
		srv := pgtest.New(t)
		pool, err := pgxpool.New(context.Background(), srv.URL())
		if err != nil {
			t.Fatal(err)
		}
		defer pool.Close()
		if err := srv.Crash(); err != nil { // SIGQUIT; Stop is a fast shutdown
			t.Fatal(err)
		}
		if err := srv.Start(); err != nil { // the same port, the same data
			t.Fatal(err)
		}
	}
	_ = restartSurvives
}

// The configuration every test server runs with (postgres -c), besides its
// port and socket directory.
func ExampleSettings() {
	names := make([]string, 0, len(pgtest.Settings))
	for name := range pgtest.Settings {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Printf("%s = %s\n", name, pgtest.Settings[name])
	}
	// Output:
	// fsync = off
	// full_page_writes = off
	// listen_addresses = 127.0.0.1
	// logging_collector = off
	// max_connections = 200
	// shared_buffers = 32MB
}
