package pgtest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { Main(m) }

// query runs sql on s over a connection of its own and returns the first
// column of each row, as text.
func query(t *testing.T, s *Server, sql string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgconn.Connect(ctx, s.DSN())
	require.NoError(t, err)
	defer conn.Close(context.Background())
	res, err := conn.Exec(ctx, sql).ReadAll()
	require.NoError(t, err, sql)
	var out []string
	for _, r := range res {
		for _, row := range r.Rows {
			out = append(out, string(row[0]))
		}
	}
	return out
}

// alive reports whether a process with pid exists and is not a zombie (a
// server whose parent died is reaped by whoever adopts it, maybe late).
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return runtime.GOOS != "linux"
	}
	// pid (comm) state ...: comm may hold spaces, so look after the last ')'.
	rest := string(b[strings.LastIndexByte(string(b), ')')+1:])
	return !strings.HasPrefix(strings.TrimSpace(rest), "Z")
}

// uidOf reads a process's real uid from /proc.
func uidOf(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "Uid:"); ok {
			uid, err := strconv.Atoi(strings.Fields(rest)[0])
			require.NoError(t, err)
			return uid
		}
	}
	t.Fatal("no Uid line")
	return -1
}

func TestServerConfiguration(t *testing.T) {
	s := New(t)
	assert.NotEqual(t, 5432, s.Port(), "never the machine's own default port")
	assert.Equal(t, []string{"127.0.0.1"}, query(t, s, "SHOW listen_addresses"), "listens on loopback only")
	assert.Equal(t, []string{"off"}, query(t, s, "SHOW fsync"))
	assert.Equal(t, []string{s.SocketDir()}, query(t, s, "SHOW unix_socket_directories"))
	assert.Equal(t, []string{strconv.Itoa(s.Port())}, query(t, s, "SHOW port"))
	// Trust, for the server's own socket and 127.0.0.1 only.
	assert.Equal(t, []string{"local/", "host/127.0.0.1"},
		query(t, s, "SELECT type || '/' || coalesce(address, '') FROM pg_hba_file_rules ORDER BY line_number"))
	assert.Equal(t, []string{"trust", "trust"}, query(t, s, "SELECT auth_method FROM pg_hba_file_rules ORDER BY line_number"))
	assert.Equal(t, []string{User}, query(t, s, "SELECT current_user"))
	assert.Contains(t, s.URL(), "@127.0.0.1:"+strconv.Itoa(s.Port())+"/")

	if runtime.GOOS == "linux" && os.Geteuid() == 0 {
		acct, err := serverAccount()
		require.NoError(t, err)
		assert.Equal(t, acct.uid, uidOf(t, s.Pid()), "the server runs as %s, and its pid is the server's own", serverUser)
		assert.NotZero(t, acct.uid)
	}
	// The settings given to New override the defaults.
	o := New(t, "autovacuum=off", "fsync=on")
	assert.Equal(t, []string{"off"}, query(t, o, "SHOW autovacuum"))
	assert.Equal(t, []string{"on"}, query(t, o, "SHOW fsync"))
}

func TestStopCrashStartSamePort(t *testing.T) {
	s := New(t)
	query(t, s, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('before-stop')")

	pid := s.Pid()
	require.NotZero(t, pid)
	require.NoError(t, s.Stop())
	assert.Zero(t, s.Pid())
	assert.False(t, alive(pid), "pid %d still alive after Stop", pid)
	assert.Error(t, s.probe(), "a stopped server answered")
	require.NoError(t, s.Stop(), "stopping twice is a no-op")

	port := s.Port()
	require.NoError(t, s.Start())
	assert.Equal(t, port, s.Port())
	assert.NotEqual(t, pid, s.Pid())
	assert.Error(t, s.Start(), "starting a running server")
	assert.Equal(t, []string{"before-stop"}, query(t, s, "SELECT v FROM kept"), "data survives a restart")

	// An immediate shutdown loses nothing committed: recovery replays it.
	query(t, s, "INSERT INTO kept VALUES ('before-crash')")
	pid = s.Pid()
	require.NoError(t, s.Crash())
	assert.False(t, alive(pid), "pid %d still alive after Crash", pid)
	require.NoError(t, s.Start())
	assert.Equal(t, []string{"before-crash", "before-stop"}, query(t, s, "SELECT v FROM kept ORDER BY v"))
	log, err := os.ReadFile(s.log)
	require.NoError(t, err)
	assert.Contains(t, string(log), "not properly shut down", "the start after Crash ran crash recovery")

	pid = s.Pid()
	require.NoError(t, s.Restart())
	assert.NotEqual(t, pid, s.Pid())
	assert.Equal(t, port, s.Port())
	assert.Len(t, query(t, s, "SELECT v FROM kept"), 2)
}

func TestCleanupStopsServerAndRemovesDir(t *testing.T) {
	var pid int
	var dir string
	t.Run("inner", func(t *testing.T) {
		s := New(t)
		pid, dir = s.Pid(), s.SocketDir()
		require.True(t, alive(pid))
		require.DirExists(t, dir)
	})
	require.NotZero(t, pid)
	assert.False(t, alive(pid), "the test's cleanup left pid %d running", pid)
	assert.NoDirExists(t, dir)
}

func TestSharedAndSchema(t *testing.T) {
	a, b := Shared(t), Shared(t)
	assert.Same(t, a, b)
	var name string
	t.Run("inner", func(t *testing.T) {
		name = a.Schema(t)
		assert.Regexp(t, `^t_[0-9a-f]{16}$`, name)
		assert.NotEqual(t, name, a.Schema(t))
		query(t, a, "CREATE TABLE "+name+".x (v int)")
		assert.Equal(t, []string{"1"}, query(t, a, "SELECT count(*) FROM pg_namespace WHERE nspname = '"+name+"'"))
	})
	assert.Equal(t, []string{"0"}, query(t, a, "SELECT count(*) FROM pg_namespace WHERE nspname = '"+name+"'"),
		"the schema is dropped when its test ends")
}

// tb records a Skip or Fatal instead of ending the real test.
type tb struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (r *tb) Helper() {}
func (r *tb) Skipf(format string, args ...any) {
	r.skipped, r.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *tb) Fatalf(format string, args ...any) {
	r.failed, r.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func lookup(t *testing.T) *tb {
	r := &tb{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		prerequisites(r)
	}()
	<-done
	return r
}

func TestMissingBinaries(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	saved := searchDirs
	t.Cleanup(func() { searchDirs = saved })
	searchDirs = func() []string { return []string{t.TempDir()} }

	t.Setenv("CI", "")
	r := lookup(t)
	assert.True(t, r.skipped, "without CI missing binaries skip")
	assert.False(t, r.failed)
	assert.Contains(t, r.msg, "POSTGRESQL TESTS NOT RUN")

	t.Setenv("CI", "true")
	r = lookup(t)
	assert.True(t, r.failed, "under CI=true missing binaries fail")
	assert.False(t, r.skipped)
	assert.Contains(t, r.msg, "initdb")
}

// TestBinariesFromDebiansDirectory: with nothing on PATH, the binaries are
// found where Debian's package puts them.
func TestBinariesFromDebiansDirectory(t *testing.T) {
	if _, err := findBinaries(); err != nil {
		t.Skip(err) // the other tests skip or fail loudly on this
	}
	dirs := searchDirs()
	found := ""
	for _, d := range dirs {
		if executable(filepath.Join(d, "postgres")) {
			found = d
			break
		}
	}
	if found == "" {
		t.Skip("no /usr/lib/postgresql/*/bin here: the binaries are on PATH only")
	}
	t.Setenv("PATH", t.TempDir())
	b, err := findBinaries()
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(found, "initdb"), b.initdb)
	assert.Equal(t, found, b.dir)
}

// helperEnv makes the test binary, run again by TestParentDeathStopsServer,
// start a server and wait to be killed.
const helperEnv = "PGTEST_PDEATHSIG_HELPER"

func TestHelperServerUntilKilled(t *testing.T) {
	if os.Getenv(helperEnv) == "" {
		t.Skip("run by TestParentDeathStopsServer")
	}
	s := New(t)
	fmt.Printf("server %d %s %s\n", s.Pid(), s.SocketDir(), shared.dir)
	time.Sleep(time.Minute) // killed long before
}

// TestParentDeathStopsServer kills a test binary (SIGKILL: no cleanup
// runs) that has a server running: the server goes too.
func TestParentDeathStopsServer(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("PR_SET_PDEATHSIG is Linux's")
	}
	prerequisites(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperServerUntilKilled$", "-test.v")
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	var pid int
	var dirs []string
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		if f := strings.Fields(lines.Text()); len(f) >= 3 && f[0] == "server" {
			pid, err = strconv.Atoi(f[1])
			require.NoError(t, err)
			dirs = f[2:]
			break
		}
	}
	require.NotZero(t, pid, "the helper never reported its server")
	t.Cleanup(func() {
		for _, d := range dirs {
			_ = os.RemoveAll(d)
		}
	})
	require.True(t, alive(pid))

	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	deadline := time.Now().Add(crashTimeout)
	for alive(pid) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	assert.False(t, alive(pid), "postgres pid %d outlived its killed test binary", pid)
}
