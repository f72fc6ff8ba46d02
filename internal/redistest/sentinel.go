package redistest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	// SentinelMasterName is the name under which the sentinels of
	// NewSentinel monitor their master: a Sentinel client's MasterName.
	SentinelMasterName = "sessionkit"
	// SentinelCount is how many sentinels NewSentinel starts; any
	// SentinelQuorum of them agreeing that the master is down starts a
	// failover, and a majority must authorize it.
	SentinelCount  = 3
	SentinelQuorum = 2

	// downAfter is down-after-milliseconds: a master that has not answered
	// for this long is subjectively down. failoverTimeout is
	// failover-timeout: a failover that has not completed in this long is
	// given up (and may be tried again after twice as long). Together they
	// put a promotion at some 2–4 s after a master's death.
	downAfter       = time.Second
	failoverTimeout = 5 * time.Second

	// PromotionTimeout bounds the waits for a failover, generous for a
	// loaded two-core machine: WaitFailover and Cluster.WaitPromoted are
	// given it by the tests.
	PromotionTimeout = 30 * time.Second
	// sentinelReadyTimeout bounds the wait at start until every sentinel
	// knows the master, its replica and the other sentinels (which they
	// learn from hello messages sent every 2 s).
	sentinelReadyTimeout = 30 * time.Second
)

// Sentinel is a master, its replica and SentinelCount sentinels monitoring
// them, all started by this package. After a failover the replica is the
// master. A data server started again (Start) comes back as it was first
// configured (the second one as a replica of the first), and it is the
// sentinels' job to reconfigure it, which the helpers do not wait for.
type Sentinel struct {
	nodes     []*Server // the data servers: the first master, then its replica
	sentinels []*Server
}

// NewSentinel starts a master, a replica of it (replicaof) and
// SentinelCount sentinels (redis-server <conf> --sentinel, each with a
// configuration file of its own, which it rewrites as it learns the
// topology), waits until every sentinel knows the master, the replica and
// the other sentinels, and stops all of them, by pid, when the test ends.
// Each server has a directory of its own under t.TempDir(); persistence is
// off.
func NewSentinel(t testing.TB) *Sentinel {
	t.Helper()
	bin := binary(t, "redis-server")
	s, err := startSentinel(bin, t.TempDir())
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

// startSentinel starts the servers and the sentinels in subdirectories of
// dir and waits until the sentinels are ready. On failure it stops what it
// started.
func startSentinel(bin, dir string) (s *Sentinel, err error) {
	s = &Sentinel{}
	defer func() {
		if err != nil {
			err = errors.Join(err, s.Stop())
			s = nil
		}
	}()
	subdir := func(name string) (string, error) {
		d := filepath.Join(dir, name)
		return d, os.MkdirAll(d, 0o755)
	}
	for i := 0; i < 2; i++ {
		d, err := subdir("node" + strconv.Itoa(i))
		if err != nil {
			return s, err
		}
		conf, err := emptyConf(d)
		if err != nil {
			return s, err
		}
		args := replicationArgs
		if i > 0 {
			args = append(args[:len(args):len(args)], "--replicaof", "127.0.0.1", strconv.Itoa(s.nodes[0].Port()))
		}
		n, err := startNewConf(bin, d, conf, args, false)
		if err != nil {
			return s, err
		}
		s.nodes = append(s.nodes, n)
	}
	// The sentinels find the replica in the master's INFO, which they ask
	// for as soon as they connect: it must be attached by then.
	if err := waitReplicated(s.nodes[0], s.nodes[1:], startTimeout); err != nil {
		return s, err
	}
	for i := 0; i < SentinelCount; i++ {
		d, err := subdir("sentinel" + strconv.Itoa(i))
		if err != nil {
			return s, err
		}
		conf := filepath.Join(d, "sentinel.conf")
		body := fmt.Sprintf("sentinel monitor %[1]s 127.0.0.1 %[2]d %[3]d\n"+
			"sentinel down-after-milliseconds %[1]s %[4]d\n"+
			"sentinel failover-timeout %[1]s %[5]d\n"+
			"sentinel parallel-syncs %[1]s 1\n",
			SentinelMasterName, s.nodes[0].Port(), SentinelQuorum,
			downAfter.Milliseconds(), failoverTimeout.Milliseconds())
		if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
			return s, err
		}
		n, err := startNewConf(bin, d, conf, []string{"--sentinel"}, false)
		if err != nil {
			return s, err
		}
		s.sentinels = append(s.sentinels, n)
	}
	return s, s.waitSentinelsReady(sentinelReadyTimeout)
}

// waitSentinelsReady waits until every sentinel sees the master up, knows
// its replica and the other sentinels, and can reach a quorum.
func (s *Sentinel) waitSentinelsReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := s.sentinelsReady()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redistest: sentinels not ready after %v: %w", timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *Sentinel) sentinelsReady() error {
	for _, sn := range s.sentinels {
		reply, err := command(sn.Addr(), pingTimeout, "SENTINEL", "MASTER", SentinelMasterName)
		if err != nil {
			return err
		}
		fields := pairs(reply)
		want := map[string]string{
			"flags":               "master",
			"num-slaves":          "1",
			"num-other-sentinels": strconv.Itoa(SentinelCount - 1),
		}
		for f, v := range want {
			if fields[f] != v {
				return fmt.Errorf("sentinel %s: %s is %q, want %q", sn.Addr(), f, fields[f], v)
			}
		}
		if _, err := command(sn.Addr(), pingTimeout, "SENTINEL", "CKQUORUM", SentinelMasterName); err != nil {
			return err
		}
	}
	return nil
}

// pairs reads a flat array of names and values, as SENTINEL MASTER
// replies, from command's newline-joined text.
func pairs(reply string) map[string]string {
	m := map[string]string{}
	f := strings.Split(reply, "\n")
	for i := 0; i+1 < len(f); i += 2 {
		m[f[i]] = f[i+1]
	}
	return m
}

// MasterName is the name the sentinels know the master by
// (SentinelMasterName): a Sentinel client's MasterName.
func (s *Sentinel) MasterName() string { return SentinelMasterName }

// Addrs are the sentinels' addresses: a Sentinel client's addresses.
func (s *Sentinel) Addrs() []string {
	addrs := make([]string, len(s.sentinels))
	for i, sn := range s.sentinels {
		addrs[i] = sn.Addr()
	}
	return addrs
}

// Sentinels are the sentinel processes, to stop or restart one.
func (s *Sentinel) Sentinels() []*Server { return s.sentinels }

// Nodes are the data servers: the first master, then its replica.
func (s *Sentinel) Nodes() []*Server { return s.nodes }

// Master is the data server the sentinels name as master now (SENTINEL
// get-master-addr-by-name, asked of the first sentinel that answers).
func (s *Sentinel) Master() (*Server, error) {
	var errs []error
	for _, sn := range s.sentinels {
		addr, err := masterAddr(sn)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		return s.node(addr)
	}
	return nil, fmt.Errorf("redistest: no sentinel names the master: %w", errors.Join(errs...))
}

// Replica is the data server that is not the master the sentinels name now
// (it may be stopped: after a failover, it is the old master).
func (s *Sentinel) Replica() (*Server, error) {
	m, err := s.Master()
	if err != nil {
		return nil, err
	}
	for _, n := range s.nodes {
		if n != m {
			return n, nil
		}
	}
	panic("not reached")
}

// masterAddr asks sentinel sn for the master's address.
func masterAddr(sn *Server) (string, error) {
	reply, err := command(sn.Addr(), pingTimeout, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", SentinelMasterName)
	if err != nil {
		return "", err
	}
	host, port, ok := strings.Cut(reply, "\n")
	if !ok {
		return "", fmt.Errorf("redistest: sentinel %s: master address %q", sn.Addr(), reply)
	}
	return net.JoinHostPort(host, port), nil
}

// node is the data server at addr.
func (s *Sentinel) node(addr string) (*Server, error) {
	for _, n := range s.nodes {
		if n.Addr() == addr {
			return n, nil
		}
	}
	return nil, fmt.Errorf("redistest: the sentinels name %s, which is none of the servers started", addr)
}

// WaitReplicated waits until the replica has applied every write the master
// acknowledged before the call, or timeout passes. A write acknowledged
// before it returns survives a failover; one acknowledged later may be lost
// with the master (replication is asynchronous).
func (s *Sentinel) WaitReplicated(timeout time.Duration) error {
	m, err := s.Master()
	if err != nil {
		return err
	}
	var replicas []*Server
	for _, n := range s.nodes {
		if n != m && n.Pid() != 0 {
			replicas = append(replicas, n)
		}
	}
	return waitReplicated(m, replicas, timeout)
}

// KillMaster kills the current master (SIGKILL, a crash) and returns it.
// The sentinels then fail over to the replica: see WaitFailover.
func (s *Sentinel) KillMaster() (*Server, error) {
	m, err := s.Master()
	if err != nil {
		return nil, err
	}
	return m, m.Kill()
}

// StopMaster stops the current master gracefully (SIGTERM: Redis waits a
// moment for its replica to catch up before it exits) and returns it.
func (s *Sentinel) StopMaster() (*Server, error) {
	m, err := s.Master()
	if err != nil {
		return nil, err
	}
	return m, m.Stop()
}

// WaitFailover waits until every running sentinel names a master other than
// old (SENTINEL get-master-addr-by-name) and that server reports
// role:master, or timeout passes, and returns the new master.
func (s *Sentinel) WaitFailover(old *Server, timeout time.Duration) (*Server, error) {
	deadline := time.Now().Add(timeout)
	for {
		m, err := s.promoted(old)
		if err == nil {
			return m, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("redistest: no failover from %s after %v: %w", old.Addr(), timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *Sentinel) promoted(old *Server) (*Server, error) {
	var named string
	for _, sn := range s.sentinels {
		if sn.Pid() == 0 {
			continue
		}
		addr, err := masterAddr(sn)
		if err != nil {
			return nil, err
		}
		switch {
		case addr == old.Addr():
			return nil, fmt.Errorf("sentinel %s still names %s", sn.Addr(), addr)
		case named != "" && addr != named:
			return nil, fmt.Errorf("the sentinels name %s and %s", named, addr)
		}
		named = addr
	}
	if named == "" {
		return nil, errors.New("no sentinel is running")
	}
	m, err := s.node(named)
	if err != nil {
		return nil, err
	}
	role, err := m.Role()
	if err != nil {
		return nil, err
	}
	if role != "master" {
		return nil, fmt.Errorf("%s, named master, reports role %s", named, role)
	}
	return m, nil
}

// Stop stops the sentinels, then the data servers (the sentinels first, so
// that stopping the master starts no failover).
func (s *Sentinel) Stop() error { return stopAll(s.sentinels, s.nodes) }
