package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// shared holds what every test of the binary shares: the shared server
// and a template data directory, both made on first use and removed by
// the function Setup returned.
var shared struct {
	startMu sync.Mutex // held while the shared server starts
	mu      sync.Mutex
	active  bool   // Setup has run, and its stop will clean up
	dir     string // holds the template

	template    string
	templateErr error

	server    *Server
	serverErr error
}

// Main runs the tests of a binary that uses Shared, then calls each of
// beforeStop (to close pools while the server still answers), stops the
// shared server and exits with the tests' status. Call it from TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// A binary whose TestMain belongs to another helper calls Setup instead.
func Main(m *testing.M, beforeStop ...func()) {
	start()
	code := m.Run()
	for _, f := range beforeStop {
		f()
	}
	if err := stopShared(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// Setup enables Shared for a binary whose TestMain is another helper's,
// and returns what stops the shared server once the tests are done, for
// that helper to call (it reports a failure to stop on stderr):
//
//	func TestMain(m *testing.M) { redistest.Main(m, pgtest.Setup()) }
func Setup() (stop func()) {
	start()
	return func() {
		if err := stopShared(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
}

func start() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	shared.active = true
}

// Shared returns the binary's shared server, starting it on first use.
// Tests must not stop it, and keep apart in a schema of their own
// (Server.Schema). It requires Main or Setup in TestMain.
func Shared(t testing.TB) *Server {
	t.Helper()
	bins, acct := prerequisites(t)
	// One server start at a time; shared.mu stays free for the template
	// the start asks for.
	shared.startMu.Lock()
	defer shared.startMu.Unlock()
	shared.mu.Lock()
	active, srv, err := shared.active, shared.server, shared.serverErr
	shared.mu.Unlock()
	if !active {
		t.Fatal("pgtest: the shared server needs TestMain to call pgtest.Main(m) or pgtest.Setup(), which stop it")
	}
	if srv == nil && err == nil {
		srv, err = newServer(bins, acct, nil)
		shared.mu.Lock()
		shared.server, shared.serverErr = srv, err
		shared.mu.Unlock()
	}
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// template returns a data directory fresh from initdb for new servers to
// copy, making it on first use; ok is false when no Setup has run, as
// nothing would remove it then. Copying takes a fraction of initdb's
// time.
func template(bins binaries, acct account) (dir string, ok bool, err error) {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if !shared.active {
		return "", false, nil
	}
	if shared.template == "" && shared.templateErr == nil {
		shared.template, shared.templateErr = makeTemplate(bins, acct)
	}
	return shared.template, shared.templateErr == nil, shared.templateErr
}

// makeTemplate runs initdb once for the binary. Caller holds shared.mu.
func makeTemplate(bins binaries, acct account) (string, error) {
	dir, err := os.MkdirTemp("", "pgtest-template-")
	if err != nil {
		return "", fmt.Errorf("pgtest: %w", err)
	}
	shared.dir = dir
	if err := acct.own(dir); err != nil {
		return "", fmt.Errorf("pgtest: %w", err)
	}
	data := filepath.Join(dir, "data")
	if err := initdb(bins, acct, dir, data); err != nil {
		return "", err
	}
	return data, nil
}

func stopShared() error {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	var errs []error
	if shared.server != nil {
		errs = append(errs, shared.server.remove())
		shared.server = nil
	}
	if shared.dir != "" {
		errs = append(errs, os.RemoveAll(shared.dir))
		shared.dir, shared.template = "", ""
	}
	shared.active = false
	return errors.Join(errs...)
}

// Schema creates a schema of the test's own on the server, named "t_" and
// 16 random hex digits, and drops it (with everything in it) when the test
// ends, after the cleanups the test registers later, which close its
// pools. Tests sharing a server keep apart in one each.
func (s *Server) Schema(t testing.TB) string {
	t.Helper()
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (Go 1.24 and later)
	name := "t_" + hex.EncodeToString(b[:])
	quoted := pgx.Identifier{name}.Sanitize()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.exec(ctx, "CREATE SCHEMA "+quoted); err != nil {
		t.Fatalf("pgtest: create schema %s: %v", name, err)
	}
	t.Cleanup(func() {
		if s.Pid() == 0 {
			return // stopped by the test; its directory goes anyway
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		// A lock timeout rather than a hang, should something still hold
		// a lock in the schema.
		if err := s.exec(ctx, "SET lock_timeout = '5s'; DROP SCHEMA IF EXISTS "+quoted+" CASCADE"); err != nil {
			t.Logf("pgtest: drop schema %s: %v", name, err)
		}
	})
	return name
}
