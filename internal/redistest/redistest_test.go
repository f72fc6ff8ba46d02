package redistest

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
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
	c, err := startCluster(server, "false", t.TempDir(), nil, 0) // the join fails
	require.Error(t, err)
	assert.Nil(t, c)
	assert.Contains(t, err.Error(), "--cluster create")
}

// setOn writes k=v on the server at addr; in a cluster, ok is false when
// the key's slot is another node's (MOVED).
func setOn(t *testing.T, addr, k, v string) (ok bool) {
	t.Helper()
	reply, err := command(addr, time.Second, "SET", k, v)
	if err != nil && strings.Contains(err.Error(), "MOVED") {
		return false
	}
	require.NoError(t, err)
	require.Equal(t, "OK", reply)
	return true
}

// readOn reads k on the server at addr, a replica too (READONLY lets a
// cluster replica answer for its master's slots).
func readOn(t *testing.T, addr, k string, cluster bool) string {
	t.Helper()
	if !cluster {
		v, err := command(addr, time.Second, "GET", k)
		require.NoError(t, err)
		return v
	}
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(time.Second)))
	_, err = fmt.Fprintf(conn, "*1\r\n$8\r\nREADONLY\r\n*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n", len(k), k)
	require.NoError(t, err)
	r := bufio.NewReader(conn)
	ok, err := readReply(r, addr, false)
	require.NoError(t, err)
	require.Equal(t, "OK", ok)
	v, err := readReply(r, addr, false)
	require.NoError(t, err)
	return v
}

// TestSentinelFailover: a master, its replica and three sentinels; a write
// replicated before the master is killed is on the replica the sentinels
// promote. When the test ends, every process is gone.
func TestSentinelFailover(t *testing.T) {
	t.Parallel() // mostly waiting, for the sentinels and the failover
	var pids []int
	t.Run("failover", func(t *testing.T) {
		s := NewSentinel(t)
		require.Len(t, s.Addrs(), SentinelCount)
		require.Len(t, s.Nodes(), 2)
		assert.Equal(t, SentinelMasterName, s.MasterName())
		for _, n := range append(s.Nodes(), s.Sentinels()...) {
			pids = append(pids, n.Pid())
			host, _, err := net.SplitHostPort(n.Addr())
			require.NoError(t, err)
			assert.Equal(t, "127.0.0.1", host)
		}
		m, err := s.Master()
		require.NoError(t, err)
		assert.Same(t, s.Nodes()[0], m, "the first node starts as master")
		r, err := s.Replica()
		require.NoError(t, err)
		assert.Same(t, s.Nodes()[1], r)
		role, err := r.Role()
		require.NoError(t, err)
		assert.Equal(t, "slave", role)

		require.True(t, setOn(t, m.Addr(), "k", "replicated"))
		require.NoError(t, s.WaitReplicated(ReplicationTimeout))
		assert.Equal(t, "replicated", readOn(t, r.Addr(), "k", false))

		killed := time.Now()
		old, err := s.KillMaster()
		require.NoError(t, err)
		assert.Same(t, m, old)
		assert.Zero(t, m.Pid())
		promoted, err := s.WaitFailover(old, PromotionTimeout)
		require.NoError(t, err)
		t.Logf("promotion %v after the SIGKILL", time.Since(killed).Round(time.Millisecond))
		assert.Same(t, r, promoted)
		now, err := s.Master()
		require.NoError(t, err)
		assert.Same(t, r, now)
		assert.Equal(t, "replicated", readOn(t, r.Addr(), "k", false), "a write replicated before the kill")
		require.True(t, setOn(t, r.Addr(), "k2", "after"), "the new master takes writes")
	})
	require.Len(t, pids, 2+SentinelCount)
	for _, pid := range pids {
		assert.False(t, alive(pid), "the test's cleanup left pid %d running", pid)
	}
}

// TestClusterWithReplicasPromotion: three masters and three replicas; a
// write replicated before its master is killed is on the replica the
// cluster promotes, and the cluster is ok again. When the test ends, every
// node is gone.
func TestClusterWithReplicasPromotion(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	t.Parallel() // mostly waiting, for the replicas and the promotion
	var pids []int
	t.Run("promotion", func(t *testing.T) {
		c := NewClusterWithReplicas(t)
		require.Len(t, c.Nodes(), 2*ClusterSize)
		for _, n := range c.Nodes() {
			pids = append(pids, n.Pid())
		}
		masters, err := c.Masters()
		require.NoError(t, err)
		require.Len(t, masters, ClusterSize)
		seen := map[*Server]bool{}
		for _, m := range masters {
			r, err := c.ReplicaOf(m)
			require.NoError(t, err)
			assert.NotContains(t, masters, r)
			assert.False(t, seen[r], "%s replicates two masters", r.Addr())
			seen[r] = true
		}

		victim := masters[1]
		replica, err := c.ReplicaOf(victim)
		require.NoError(t, err)
		var key string
		for i := 0; key == ""; i++ {
			require.Less(t, i, 1000, "no key lands on %s", victim.Addr())
			if k := "k" + strconv.Itoa(i); setOn(t, victim.Addr(), k, "replicated") {
				key = k
			}
		}
		require.NoError(t, c.WaitReplicated(ReplicationTimeout))
		assert.Equal(t, "replicated", readOn(t, replica.Addr(), key, true))

		killed := time.Now()
		require.NoError(t, victim.Kill())
		require.NoError(t, c.WaitPromoted(replica, PromotionTimeout))
		t.Logf("promotion %v after the SIGKILL", time.Since(killed).Round(time.Millisecond))
		role, err := replica.Role()
		require.NoError(t, err)
		assert.Equal(t, "master", role)
		masters, err = c.Masters()
		require.NoError(t, err)
		assert.Len(t, masters, ClusterSize)
		assert.Contains(t, masters, replica)
		assert.NotContains(t, masters, victim)
		v, err := command(replica.Addr(), time.Second, "GET", key)
		require.NoError(t, err)
		assert.Equal(t, "replicated", v, "a write replicated before the kill")
	})
	require.Len(t, pids, 2*ClusterSize)
	for _, pid := range pids {
		assert.False(t, alive(pid), "the test's cleanup left pid %d running", pid)
	}
}

// processesIn lists the pids of running processes whose working directory
// is in dir (the servers run in theirs): only ours can be. (Not their
// command lines: redis-server rewrites its own.)
func processesIn(t *testing.T, dir string) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	require.NoError(t, err)
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cwd, err := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
		if err == nil && (cwd == dir || strings.HasPrefix(cwd, dir+"/")) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// A Sentinel setup that fails half-way returns its error after stopping
// the servers it had started: here the data servers run when the first
// sentinel's directory cannot be made.
func TestStartSentinelFailureStopsItsServers(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	bin := binary(t, "redis-server")
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "sentinel0"), nil, 0o644))
	s, err := startSentinel(bin, dir)
	require.Error(t, err)
	assert.Nil(t, s)
	_, statErr := os.Stat(filepath.Join(dir, "node1", "redis-1.log"))
	require.NoError(t, statErr, "the replica was started before the failure")
	assert.Empty(t, processesIn(t, dir), "servers left running")
}
