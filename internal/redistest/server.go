package redistest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Bounds on every wait, generous for a loaded two-core machine.
const (
	startTimeout = 15 * time.Second // until a started server answers PING
	stopTimeout  = 10 * time.Second // after SIGTERM, before SIGKILL
	killTimeout  = 5 * time.Second  // after SIGKILL
	pingTimeout  = time.Second      // one readiness probe
	startRetries = 5                // fresh ports tried when one is taken
)

// errPortTaken: the server could not bind its port (someone took it between
// freePort and the start); the caller may retry on another port.
var errPortTaken = errors.New("redistest: port taken")

// Server is one redis-server process started by this package. Stop, Kill
// and Start may be called in any order, from any goroutine; Start always
// reuses the port the server was first given, so clients configured with
// Addr reconnect to the restarted process.
type Server struct {
	bin   string
	dir   string
	port  int
	conf  string   // a configuration file, given first (sentinels), or ""
	extra []string // extra configuration (cluster mode, persistence)

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed once cmd has exited
	logN int           // how many starts wrote to the log, for messages
}

// Standalone starts a redis-server of the test's own and stops it when the
// test ends. Use it for tests that stop, restart or inspect the server
// (INFO commandstats); tests that only need a Redis should share one with
// SharedStandalone.
func Standalone(t testing.TB) *Server {
	t.Helper()
	return standalone(t, nil)
}

// durableArgs turn persistence on: every write goes to an append-only file
// in the server's directory, fsynced before the client gets its reply
// (--appendfsync always), so a write a client saw acknowledged survives
// Stop, Kill and Start. Start appends them after its defaults, which they
// override.
var durableArgs = []string{"--appendonly", "yes", "--appendfsync", "always"}

// StandaloneDurable is Standalone with persistence on: a write is on disk
// before the server acknowledges it, and the server reloads its data when
// it is started again after Stop or Kill (SIGKILL, as a crash). Use it for
// fault tests that restart the server and then expect every acknowledged
// write to be there. Each write costs an fsync, so it is slower than
// Standalone.
func StandaloneDurable(t testing.TB) *Server {
	t.Helper()
	return standalone(t, durableArgs)
}

// standalone starts a server of the test's own with extra configuration and
// stops it when the test ends.
func standalone(t testing.TB, extra []string) *Server {
	t.Helper()
	bin := binary(t, "redis-server")
	s, err := startNew(bin, t.TempDir(), extra, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// startNew starts a server in dir on a free port, trying other ports when
// the chosen one turns out to be taken.
func startNew(bin, dir string, extra []string, bus bool) (*Server, error) {
	return startNewConf(bin, dir, "", extra, bus)
}

// startNewConf is startNew for a server that reads a configuration file
// (conf, which may be "") before its command-line configuration.
func startNewConf(bin, dir, conf string, extra []string, bus bool) (*Server, error) {
	var last error
	for attempt := 0; attempt < startRetries; attempt++ {
		port, err := freePort(bus)
		if err != nil {
			return nil, err
		}
		s := &Server{bin: bin, dir: dir, port: port, conf: conf, extra: extra}
		err = s.Start()
		if err == nil {
			return s, nil
		}
		if !errors.Is(err, errPortTaken) {
			return nil, err
		}
		last = err
	}
	return nil, last
}

// Addr is the server's address, 127.0.0.1:port.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// Port is the server's port; it never changes across restarts.
func (s *Server) Port() int { return s.port }

// Pid is the process id of the running server, or 0 when it is stopped.
func (s *Server) Pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.runningLocked() {
		return 0
	}
	return s.cmd.Process.Pid
}

// Start starts the server on its port and waits until it answers PING. It
// is an error to start a running server.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.runningLocked() {
		return fmt.Errorf("redistest: server on %s is already running", s.Addr())
	}
	s.logN++
	logPath := filepath.Join(s.dir, fmt.Sprintf("redis-%d.log", s.logN))
	var args []string
	if s.conf != "" {
		args = append(args, s.conf) // redis-server wants it first
	}
	args = append(args,
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--dir", s.dir,
		"--save", "",
		"--appendonly", "no",
		"--daemonize", "no",
		"--logfile", logPath,
	)
	cmd := exec.Command(s.bin, append(args, s.extra...)...)
	cmd.Dir = s.dir
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("redistest: start %s: %w", s.bin, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	s.cmd, s.done = cmd, done
	if err := s.waitReady(logPath); err != nil {
		s.killLocked()
		return err
	}
	return nil
}

// waitReady polls PING until the server answers, it exits, or startTimeout
// passes. Caller holds s.mu.
func (s *Server) waitReady(logPath string) error {
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-s.done:
			log, _ := os.ReadFile(logPath)
			if strings.Contains(string(log), "Address already in use") {
				return fmt.Errorf("%w: %s", errPortTaken, s.Addr())
			}
			return fmt.Errorf("redistest: redis-server on %s exited at start; log:\n%s", s.Addr(), tail(log))
		default:
		}
		reply, err := command(s.Addr(), pingTimeout, "PING")
		if err == nil && reply == "PONG" || answeredNoAuth(err) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redistest: redis-server on %s not ready after %v: %v", s.Addr(), startTimeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop stops the server gracefully (SIGTERM, then SIGKILL if it lingers)
// and waits for the process to exit. Stopping a stopped server is a no-op.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.runningLocked() {
		return nil
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	if waitClosed(s.done, stopTimeout) {
		return nil
	}
	return s.killLocked()
}

// Kill stops the server abruptly (SIGKILL), as a crash would, and waits for
// the process to exit.
func (s *Server) Kill() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.runningLocked() {
		return nil
	}
	return s.killLocked()
}

func (s *Server) killLocked() error {
	_ = s.cmd.Process.Kill()
	if waitClosed(s.done, killTimeout) {
		return nil
	}
	return fmt.Errorf("redistest: redis-server pid %d did not exit", s.cmd.Process.Pid)
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
	const n = 2000
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
