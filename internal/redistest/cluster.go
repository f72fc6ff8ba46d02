package redistest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

const (
	// ClusterSize is the number of masters in a test cluster (no replicas).
	ClusterSize = 3

	createTimeout = 60 * time.Second // redis-cli --cluster create
	// ReadyTimeout bounds how long WaitReady waits for cluster_state:ok.
	ReadyTimeout = 30 * time.Second

	// nodeTimeout is cluster-node-timeout. A node that is down for less
	// than this is only suspected (PFAIL), so the other masters keep
	// serving their slots while a fault test restarts it; longer, and the
	// whole cluster would refuse queries until the node had been back for a
	// while.
	nodeTimeout = 15 * time.Second
)

// Cluster is a Redis Cluster of ClusterSize masters started by this package.
type Cluster struct {
	nodes []*Server
}

// NewCluster starts a cluster of the test's own and stops it when the test
// ends. Use it for tests that stop or restart nodes; others should share
// one with SharedCluster.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	return newCluster(t, nil)
}

// NewClusterDurable is NewCluster with persistence on every node, as
// StandaloneDurable has it: a node stopped or killed and started again
// comes back with every write it acknowledged.
func NewClusterDurable(t testing.TB) *Cluster {
	t.Helper()
	return newCluster(t, durableArgs)
}

// newCluster starts a cluster of the test's own, its nodes with extra
// configuration, and stops it when the test ends.
func newCluster(t testing.TB, extra []string) *Cluster {
	t.Helper()
	server, cli := binary(t, "redis-server"), binary(t, "redis-cli")
	c, err := startCluster(server, cli, t.TempDir(), extra)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Error(err)
		}
	})
	return c
}

// startCluster starts ClusterSize cluster-enabled servers in subdirectories
// of dir, with extra configuration (which may be nil), joins them with
// redis-cli --cluster create and waits until every node reports the cluster
// ok. On failure it stops what it started.
func startCluster(server, cli, dir string, extra []string) (c *Cluster, err error) {
	c = &Cluster{}
	// The failure returns below hand back c, not nil, so that this can
	// stop the nodes already started.
	defer func() {
		if err != nil {
			err = errors.Join(err, c.Stop())
			c = nil
		}
	}()
	for i := 0; i < ClusterSize; i++ {
		nodeDir := filepath.Join(dir, "node"+strconv.Itoa(i))
		if err := os.MkdirAll(nodeDir, 0o755); err != nil {
			return c, err
		}
		// nodes.conf lives in the node's directory (--dir), so a node
		// restarted on its port rejoins with the same identity and slots.
		args := []string{
			"--cluster-enabled", "yes",
			"--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", strconv.Itoa(int(nodeTimeout / time.Millisecond)),
		}
		n, err := startNew(server, nodeDir, append(args, extra...), true)
		if err != nil {
			return c, err
		}
		c.nodes = append(c.nodes, n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), createTimeout)
	defer cancel()
	args := append([]string{"--cluster", "create"}, c.Addrs()...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput()
	if err != nil {
		return c, fmt.Errorf("redistest: redis-cli --cluster create: %w\n%s", err, out)
	}
	return c, c.WaitReady(ReadyTimeout)
}

// Addrs are the nodes' addresses, the seed list for a cluster client.
func (c *Cluster) Addrs() []string {
	addrs := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		addrs[i] = n.Addr()
	}
	return addrs
}

// Node returns the i-th node, to stop or restart it (on its own port, with
// its cluster identity kept in its directory; its data is lost, as
// persistence is off, unless the cluster is durable).
func (c *Cluster) Node(i int) *Server { return c.nodes[i] }

// WaitReady waits until every node reports cluster_state:ok with all
// 16384 slots served and all nodes known, or timeout passes.
func (c *Cluster) WaitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := c.ready()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redistest: cluster not ready after %v: %w", timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *Cluster) ready() error {
	for _, n := range c.nodes {
		info, err := command(n.Addr(), pingTimeout, "CLUSTER", "INFO")
		if err != nil {
			return err
		}
		want := map[string]string{
			"cluster_state":          "ok",
			"cluster_slots_assigned": "16384",
			"cluster_slots_ok":       "16384",
			"cluster_known_nodes":    strconv.Itoa(len(c.nodes)),
		}
		for field, v := range want {
			if got := infoField(info, field); got != v {
				return fmt.Errorf("%s: %s is %q, want %q", n.Addr(), field, got, v)
			}
		}
	}
	return nil
}

// Stop stops every node.
func (c *Cluster) Stop() error {
	var errs []error
	for _, n := range c.nodes {
		errs = append(errs, n.Stop())
	}
	return errors.Join(errs...)
}
