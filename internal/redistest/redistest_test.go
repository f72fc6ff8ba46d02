package redistest

import (
	"fmt"
	"net"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { Main(m) }

func ping(addr string) error {
	reply, err := command(addr, time.Second, "PING")
	if err == nil && reply != "PONG" {
		err = fmt.Errorf("PING answered %q", reply)
	}
	return err
}

// alive reports whether a process with pid exists.
func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

func TestStandaloneStopStartSamePort(t *testing.T) {
	s := Standalone(t)
	require.NoError(t, ping(s.Addr()))
	host, _, err := net.SplitHostPort(s.Addr())
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1", host, "servers listen on loopback only")
	assert.NotEqual(t, 6379, s.Port(), "never the machine's own default port")

	info, err := command(s.Addr(), time.Second, "INFO", "persistence")
	require.NoError(t, err)
	assert.Equal(t, "0", infoField(info, "aof_enabled"), "appendonly must be off")
	save, err := command(s.Addr(), time.Second, "CONFIG", "GET", "save")
	require.NoError(t, err)
	assert.Equal(t, "save\n", save, "RDB snapshots must be off")

	pid := s.Pid()
	require.NotZero(t, pid)
	require.NoError(t, s.Stop())
	assert.Zero(t, s.Pid())
	assert.False(t, alive(pid), "pid %d still alive after Stop", pid)
	assert.Error(t, ping(s.Addr()), "a stopped server answered")
	require.NoError(t, s.Stop(), "stopping twice is a no-op")

	port := s.Port()
	require.NoError(t, s.Start())
	assert.Equal(t, port, s.Port())
	require.NoError(t, ping(s.Addr()), "restarted on the same port")
	assert.NotEqual(t, pid, s.Pid())
	assert.Error(t, s.Start(), "starting a running server")

	pid = s.Pid()
	require.NoError(t, s.Kill())
	assert.False(t, alive(pid), "pid %d still alive after Kill", pid)
	require.NoError(t, s.Start())
	require.NoError(t, ping(s.Addr()))
}

// TestStandaloneDurable: a key written to a durable server is there after
// a SIGKILL and a restart, and after a graceful stop and a restart; the same
// steps on a Standalone server lose it, so it is the persistence that keeps
// it, not a server that was never really restarted.
func TestStandaloneDurable(t *testing.T) {
	s := StandaloneDurable(t)
	info, err := command(s.Addr(), time.Second, "INFO", "persistence")
	require.NoError(t, err)
	assert.Equal(t, "1", infoField(info, "aof_enabled"), "appendonly must be on")
	fsync, err := command(s.Addr(), time.Second, "CONFIG", "GET", "appendfsync")
	require.NoError(t, err)
	assert.Equal(t, "appendfsync\nalways", fsync, "every write fsynced before its reply")

	set := func(s *Server, v string) {
		t.Helper()
		reply, err := command(s.Addr(), time.Second, "SET", "k", v)
		require.NoError(t, err)
		require.Equal(t, "OK", reply)
	}
	get := func(s *Server) string {
		t.Helper()
		n, err := command(s.Addr(), time.Second, "EXISTS", "k")
		require.NoError(t, err)
		if n == "0" {
			return "(missing)"
		}
		v, err := command(s.Addr(), time.Second, "GET", "k")
		require.NoError(t, err)
		return v
	}

	set(s, "before-kill")
	pid := s.Pid()
	require.NoError(t, s.Kill())
	require.False(t, alive(pid), "pid %d survived SIGKILL", pid)
	require.NoError(t, s.Start())
	assert.NotEqual(t, pid, s.Pid())
	assert.Equal(t, "before-kill", get(s), "an acknowledged write lost to SIGKILL")

	set(s, "before-stop")
	require.NoError(t, s.Stop())
	require.NoError(t, s.Start())
	assert.Equal(t, "before-stop", get(s), "an acknowledged write lost to a restart")

	// The control: without persistence the same steps lose the key.
	plain := Standalone(t)
	set(plain, "volatile")
	require.Equal(t, "volatile", get(plain))
	require.NoError(t, plain.Kill())
	require.NoError(t, plain.Start())
	assert.Equal(t, "(missing)", get(plain), "a server without persistence kept its data")
}

func TestCleanupStopsServer(t *testing.T) {
	var pid int
	t.Run("inner", func(t *testing.T) {
		pid = Standalone(t).Pid()
		require.True(t, alive(pid))
	})
	require.NotZero(t, pid)
	assert.False(t, alive(pid), "the test's cleanup left pid %d running", pid)
}

func TestClusterNodeRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	c := NewCluster(t)
	require.Len(t, c.Addrs(), ClusterSize)
	require.NoError(t, c.ready())

	n := c.Node(1)
	require.NoError(t, n.Kill())
	assert.Error(t, c.ready(), "a cluster with a node down is not ready")
	require.NoError(t, n.Start())
	require.NoError(t, c.WaitReady(ReadyTimeout), "the node rejoins on its port")
}

// TestClusterDurableNodeRestart: a key on a node of a durable cluster is
// there after the node is killed (SIGKILL) and started again.
func TestClusterDurableNodeRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	c := NewClusterDurable(t)
	for _, addr := range c.Addrs() {
		info, err := command(addr, time.Second, "INFO", "persistence")
		require.NoError(t, err)
		assert.Equal(t, "1", infoField(info, "aof_enabled"), "%s: appendonly must be on", addr)
	}
	n := c.Node(1)
	// A key whose slot this node serves: the others answer MOVED.
	var key string
	for i := 0; key == ""; i++ {
		require.Less(t, i, 1000, "no key lands on %s", n.Addr())
		k := "k" + strconv.Itoa(i)
		reply, err := command(n.Addr(), time.Second, "SET", k, "kept")
		if err != nil {
			require.Contains(t, err.Error(), "MOVED")
			continue
		}
		require.Equal(t, "OK", reply)
		key = k
	}
	require.NoError(t, n.Kill())
	require.NoError(t, n.Start())
	require.NoError(t, c.WaitReady(ReadyTimeout))
	v, err := command(n.Addr(), time.Second, "GET", key)
	require.NoError(t, err)
	assert.Equal(t, "kept", v, "an acknowledged write lost to SIGKILL")
}

func TestShared(t *testing.T) {
	a, b := SharedStandalone(t), SharedStandalone(t)
	assert.Same(t, a, b)
	require.NoError(t, ping(a.Addr()))
	p, q := Prefix(t), Prefix(t)
	assert.NotEqual(t, p, q)
	assert.Regexp(t, `^t[0-9a-f]{16}:$`, p)
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

func lookup(t *testing.T, name string) *tb {
	r := &tb{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		binary(r, name)
	}()
	<-done
	return r
}

func TestMissingBinary(t *testing.T) {
	t.Setenv("PATH", t.TempDir())

	t.Setenv("CI", "")
	r := lookup(t, "redis-server")
	assert.True(t, r.skipped, "without CI a missing redis-server skips")
	assert.False(t, r.failed)
	assert.Contains(t, r.msg, "REDIS TESTS NOT RUN")

	t.Setenv("CI", "true")
	r = lookup(t, "redis-server")
	assert.True(t, r.failed, "under CI=true a missing redis-server fails")
	assert.False(t, r.skipped)
	assert.True(t, strings.Contains(r.msg, "redis-server"))
}

// A cluster that fails to form returns its error, after its cleanup has
// stopped the nodes it had started (a cleanup that lost the cluster to a
// nil return would panic here).
func TestStartClusterFailureStopsItsNodes(t *testing.T) {
	server := binary(t, "redis-server")
	c, err := startCluster(server, "false", t.TempDir(), nil) // the join fails
	require.Error(t, err)
	assert.Nil(t, c)
	assert.Contains(t, err.Error(), "--cluster create")
}
