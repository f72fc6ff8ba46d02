package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Bounds on every wait, generous for a loaded two-core machine.
const (
	startTimeout = 30 * time.Second // until a started server answers; crash recovery included
	stopTimeout  = 30 * time.Second // after SIGINT (fast shutdown: a checkpoint), before SIGQUIT
	crashTimeout = 10 * time.Second // after SIGQUIT, before SIGKILL
	killTimeout  = 5 * time.Second  // after SIGKILL
	probeTimeout = time.Second      // one readiness probe
	startRetries = 5                // fresh ports tried when one is taken
)

// User and Database are what every server's URL names: the superuser
// initdb creates, and its default database.
const (
	User     = "postgres"
	Database = "postgres"
)

// Settings are the configuration every server runs with, as postgres -c
// name=value, besides its port and socket directory. fsync off makes
// commits cheap: what PostgreSQL acknowledged survives a crash of the
// server (Crash), which is all a test needs, though not one of the
// machine. Settings given to New override them.
var Settings = map[string]string{
	"listen_addresses":  "127.0.0.1", // loopback only
	"fsync":             "off",
	"full_page_writes":  "off",
	"max_connections":   "200", // parallel tests, each with a pool of its own
	"shared_buffers":    "32MB",
	"logging_collector": "off", // the log goes to the file the test reads
}

// errPortTaken: the server could not bind its port (someone took it between
// freePort and the start); the caller may retry on another port.
var errPortTaken = errors.New("pgtest: port taken")

// Server is one PostgreSQL server started by this package, with a data
// directory of its own. Stop, Crash and Start may be called in any order,
// from any goroutine; Start always reuses the port the server was first
// given, so a pool configured with URL reconnects to the restarted
// process, which finds its data where it left it.
type Server struct {
	bins     binaries
	acct     account
	dir      string   // the server's directory: data/, its socket, its logs
	settings []string // postgres -c arguments
	port     int

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed once cmd has exited
	logN int           // how many starts wrote a log, for their names
	log  string        // the current start's log
}

// New starts a server of the test's own and stops it, removing its
// directory, when the test ends. Use it for tests that stop, crash or
// restart the server, or that look at the whole database (a dump); tests
// that only need a database should share one with Shared. settings
// ("name=value") are added to Settings, or override them.
func New(t testing.TB, settings ...string) *Server {
	t.Helper()
	bins, acct := prerequisites(t)
	s, err := newServer(bins, acct, settings)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.remove(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// newServer makes a data directory (a copy of the binary's template when
// there is one, else a fresh initdb) and starts a server on it, trying
// other ports when the chosen one turns out to be taken.
func newServer(bins binaries, acct account, settings []string) (*Server, error) {
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	s := &Server{bins: bins, acct: acct, dir: dir, settings: configArgs(settings)}
	if err := s.initData(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	var last error
	for attempt := 0; attempt < startRetries; attempt++ {
		if s.port, err = freePort(); err != nil {
			break
		}
		if err = s.Start(); err == nil {
			return s, nil
		}
		last = err
		if !errors.Is(err, errPortTaken) {
			break
		}
	}
	_ = os.RemoveAll(dir)
	return nil, errors.Join(last, err)
}

// configArgs turns Settings, overridden by extra, into postgres -c
// arguments, in a stable order.
func configArgs(extra []string) []string {
	all := make(map[string]string, len(Settings)+len(extra))
	for k, v := range Settings {
		all[k] = v
	}
	for _, kv := range extra {
		k, v, _ := strings.Cut(kv, "=")
		all[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	names := make([]string, 0, len(all))
	for k := range all {
		names = append(names, k)
	}
	sort.Strings(names)
	args := make([]string, 0, 2*len(names))
	for _, k := range names {
		args = append(args, "-c", k+"="+all[k])
	}
	return args
}

// hba lets in the loopback address and this server's own socket, nothing
// else, without a password: the server listens on nothing else anyway.
const hba = "local all all trust\nhost all all 127.0.0.1/32 trust\n"

// initData fills s.dir: data/ (owned by the account), and pg_hba.conf.
func (s *Server) initData() error {
	if err := s.acct.own(s.dir); err != nil {
		return fmt.Errorf("pgtest: hand %s to the server's user: %w", s.dir, err)
	}
	data := s.dataDir()
	if tmpl, ok, err := template(s.bins, s.acct); err != nil {
		return err
	} else if ok {
		// As the caller (root, say): cp -a keeps the owner.
		if out, err := exec.Command("cp", "-a", tmpl, data).CombinedOutput(); err != nil {
			return fmt.Errorf("pgtest: copy the template data directory: %w: %s", err, out)
		}
	} else if err := initdb(s.bins, s.acct, s.dir, data); err != nil {
		return err
	}
	path := filepath.Join(data, "pg_hba.conf")
	if err := os.WriteFile(path, []byte(hba), 0o600); err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	return s.acct.own(path)
}

// initdb creates a data directory at data, working in dir.
func initdb(bins binaries, acct account, dir, data string) error {
	cmd := exec.Command(bins.initdb, "-D", data, "-U", User, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
	cmd.Dir = dir
	cmd.Env = serverEnv()
	cmd.SysProcAttr = sysProcAttr(acct)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pgtest: %s: %w:\n%s", bins.initdb, err, tail(out))
	}
	return nil
}

// serverEnv is the environment of the server processes: the caller's,
// without the PG* variables that would point them elsewhere and without a
// locale they might not have.
func serverEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "PG") || strings.HasPrefix(name, "LC_") || name == "LANG" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LC_ALL=C")
}

func (s *Server) dataDir() string { return filepath.Join(s.dir, "data") }

// Port is the server's TCP port on 127.0.0.1; it never changes across
// restarts.
func (s *Server) Port() int { return s.port }

// Addr is the server's address, 127.0.0.1:port.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// SocketDir is the directory holding the server's unix socket.
func (s *Server) SocketDir() string { return s.dir }

// URL is a libpq connection URL for the server's default database, as
// the superuser, over TCP on loopback.
func (s *Server) URL() string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", User, s.port, Database)
}

// DSN is URL in libpq's keyword=value form.
func (s *Server) DSN() string {
	return fmt.Sprintf("host=127.0.0.1 port=%d user=%s dbname=%s sslmode=disable", s.port, User, Database)
}

// Bin returns the path of a program installed beside the server's postgres
// (pg_dump, psql), so that client and server are of one version.
func (s *Server) Bin(name string) string { return filepath.Join(s.bins.dir, name) }

// Pid is the process id of the running server (the postmaster), or 0 when
// it is stopped.
func (s *Server) Pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.runningLocked() {
		return 0
	}
	return s.cmd.Process.Pid
}

// Start starts the server on its port and waits until it answers a query.
// After Crash the server first recovers. It is an error to start a running
// server.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.runningLocked() {
		return fmt.Errorf("pgtest: server on %s is already running", s.Addr())
	}
	s.logN++
	s.log = filepath.Join(s.dir, fmt.Sprintf("postgres-%d.log", s.logN))
	logf, err := os.Create(s.log)
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	defer logf.Close() // the server has its own descriptor
	args := append([]string{"-D", s.dataDir(),
		"-c", "port=" + strconv.Itoa(s.port),
		"-c", "unix_socket_directories=" + s.dir,
	}, s.settings...)
	cmd := exec.Command(s.bins.postgres, args...)
	cmd.Dir = s.dir
	cmd.Env = serverEnv()
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = sysProcAttr(s.acct)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("pgtest: start %s: %w", s.bins.postgres, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	s.cmd, s.done = cmd, done
	if err := s.waitReady(); err != nil {
		_ = s.signalLocked(syscall.SIGKILL, killTimeout)
		return err
	}
	return nil
}

// waitReady probes with a query until the server answers one, it exits,
// or startTimeout passes. Caller holds s.mu.
func (s *Server) waitReady() error {
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-s.done:
			log, _ := os.ReadFile(s.log)
			if strings.Contains(string(log), "Address already in use") {
				return fmt.Errorf("%w: %s", errPortTaken, s.Addr())
			}
			return fmt.Errorf("pgtest: postgres on %s exited at start; log:\n%s", s.Addr(), tail(log))
		default:
		}
		err := s.probe()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(s.log)
			return fmt.Errorf("pgtest: postgres on %s not ready after %v: %v; log:\n%s", s.Addr(), startTimeout, err, tail(log))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// probe runs one query over a fresh connection.
func (s *Server) probe() error {
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	return s.exec(ctx, "SELECT 1")
}

// exec runs sql over a connection of its own, closed before it returns: the
// package keeps no pool, so it leaves no connections or goroutines behind.
func (s *Server) exec(ctx context.Context, sql string) error {
	conn, err := pgconn.Connect(ctx, s.DSN())
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql).ReadAll()
	return err
}

// Stop stops the server with a fast shutdown (SIGINT: sessions are ended,
// a checkpoint written) and waits for the process to exit; SIGQUIT, then
// SIGKILL, if it lingers. Stopping a stopped server is a no-op.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.runningLocked() {
		return nil
	}
	if s.signalLocked(syscall.SIGINT, stopTimeout) == nil {
		return nil
	}
	if s.signalLocked(syscall.SIGQUIT, crashTimeout) == nil {
		return nil
	}
	return s.signalLocked(syscall.SIGKILL, killTimeout)
}

// Crash stops the server with an immediate shutdown (SIGQUIT: no
// checkpoint, every backend killed at once), as a crash of the server
// would, and waits for the process to exit. The next Start recovers from
// the write-ahead log: what was committed is there.
func (s *Server) Crash() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.runningLocked() {
		return nil
	}
	if s.signalLocked(syscall.SIGQUIT, crashTimeout) == nil {
		return nil
	}
	return s.signalLocked(syscall.SIGKILL, killTimeout)
}

// Restart stops the server (fast shutdown) and starts it again on its
// port.
func (s *Server) Restart() error {
	if err := s.Stop(); err != nil {
		return err
	}
	return s.Start()
}

// signalLocked sends sig to the server and waits up to d for it to exit.
// Caller holds s.mu.
func (s *Server) signalLocked(sig syscall.Signal, d time.Duration) error {
	_ = s.cmd.Process.Signal(sig)
	if waitClosed(s.done, d) {
		return nil
	}
	return fmt.Errorf("pgtest: postgres pid %d did not exit on %v within %v", s.cmd.Process.Pid, sig, d)
}

func (s *Server) runningLocked() bool {
	if s.cmd == nil {
		return false
	}
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// remove stops the server and deletes its directory.
func (s *Server) remove() error {
	err := s.Stop()
	return errors.Join(err, os.RemoveAll(s.dir))
}

func waitClosed(c <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-c:
		return true
	case <-t.C:
		return false
	}
}

// tail keeps the end of a log for an error message.
func tail(b []byte) string {
	const n = 3000
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
