package redistest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
)

// shared holds the servers every test of the binary shares. They are
// started on first use and stopped by Main.
var shared struct {
	mu     sync.Mutex
	inMain bool
	dir    string

	standalone    *Server
	standaloneErr error
	cluster       *Cluster
	clusterErr    error
}

// Main runs the tests of a binary that uses SharedStandalone or
// SharedCluster, then calls each of beforeStop (to close clients while
// their servers still answer), stops the shared servers and exits with the
// tests' status. Call it from TestMain:
//
//	func TestMain(m *testing.M) { redistest.Main(m) }
func Main(m *testing.M, beforeStop ...func()) {
	shared.mu.Lock()
	shared.inMain = true
	shared.mu.Unlock()
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

// SharedStandalone returns the binary's shared standalone server, starting
// it on first use. Tests must not stop it, and keep their keys apart with a
// Prefix of their own. It requires Main in TestMain.
func SharedStandalone(t testing.TB) *Server {
	t.Helper()
	bin := binary(t, "redis-server")
	shared.mu.Lock()
	defer shared.mu.Unlock()
	dir := sharedDir(t)
	if shared.standalone == nil && shared.standaloneErr == nil {
		shared.standalone, shared.standaloneErr = startNew(bin, dir, nil, false)
	}
	if shared.standaloneErr != nil {
		t.Fatal(shared.standaloneErr)
	}
	return shared.standalone
}

// SharedCluster returns the binary's shared cluster, starting it on first
// use. Tests must not stop its nodes, and keep their keys apart with a
// Prefix of their own. It requires Main in TestMain.
func SharedCluster(t testing.TB) *Cluster {
	t.Helper()
	server, cli := binary(t, "redis-server"), binary(t, "redis-cli")
	shared.mu.Lock()
	defer shared.mu.Unlock()
	dir := sharedDir(t)
	if shared.cluster == nil && shared.clusterErr == nil {
		sub, err := os.MkdirTemp(dir, "cluster-")
		if err != nil {
			t.Fatal(err)
		}
		shared.cluster, shared.clusterErr = startCluster(server, cli, sub, nil, 0)
	}
	if shared.clusterErr != nil {
		t.Fatal(shared.clusterErr)
	}
	return shared.cluster
}

// sharedDir returns the directory of the shared servers, which outlive any
// one test's TempDir. Caller holds shared.mu.
func sharedDir(t testing.TB) string {
	t.Helper()
	if !shared.inMain {
		t.Fatal("redistest: shared servers need TestMain to call redistest.Main(m), which stops them")
	}
	if shared.dir == "" {
		dir, err := os.MkdirTemp("", "redistest-")
		if err != nil {
			t.Fatal(err)
		}
		shared.dir = dir
	}
	return shared.dir
}

func stopShared() error {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	var errs []error
	if shared.standalone != nil {
		errs = append(errs, shared.standalone.Stop())
	}
	if shared.cluster != nil {
		errs = append(errs, shared.cluster.Stop())
	}
	if shared.dir != "" {
		errs = append(errs, os.RemoveAll(shared.dir))
	}
	return errors.Join(errs...)
}

// Prefix returns a key prefix no other test uses ("t" + 16 random hex
// digits + ":"), for tests sharing a server.
func Prefix(t testing.TB) string {
	t.Helper()
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return "t" + hex.EncodeToString(b[:]) + ":"
}
