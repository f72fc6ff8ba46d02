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
	// ClusterSize is the number of masters in a test cluster. NewCluster's
	// have no replicas; NewClusterWithReplicas gives each one replica.
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

	// replicaNodeTimeout is cluster-node-timeout in a cluster with
	// replicas, where a master that has been unreachable this long is
	// failed over to its replica: short, so that a promotion takes some
	// 2–4 s, yet long enough that a node of a loaded machine is not taken
	// for dead.
	replicaNodeTimeout = 1500 * time.Millisecond
)

// Cluster is a Redis Cluster of ClusterSize masters, and of a replica of
// each with NewClusterWithReplicas, started by this package.
type Cluster struct {
	nodes    []*Server
	replicas int // per master
}

// NewCluster starts a cluster of the test's own and stops it when the test
// ends. Use it for tests that stop or restart nodes; others should share
// one with SharedCluster.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	return newCluster(t, nil, 0)
}

// NewClusterWithReplicas starts a cluster of the test's own with
// ClusterSize masters and a replica of each (redis-cli --cluster create
// --cluster-replicas 1), waits until every replica has synced with its
// master, and stops every node when the test ends. A master that dies is
// failed over to its replica within seconds (cluster-node-timeout is
// 1.5 s, and a replica fails over however long it was disconnected):
// see ReplicaOf and WaitPromoted. Which nodes start as masters is
// redis-cli's choice: ask Masters.
func NewClusterWithReplicas(t testing.TB) *Cluster {
	t.Helper()
	return newCluster(t, nil, 1)
}

// NewClusterDurable is NewCluster with persistence on every node, as
// StandaloneDurable has it: a node stopped or killed and started again
// comes back with every write it acknowledged.
func NewClusterDurable(t testing.TB) *Cluster {
	t.Helper()
	return newCluster(t, durableArgs, 0)
}

// newCluster starts a cluster of the test's own, its nodes with extra
// configuration and each master with replicas, and stops it when the test
// ends.
func newCluster(t testing.TB, extra []string, replicas int) *Cluster {
	t.Helper()
	server, cli := binary(t, "redis-server"), binary(t, "redis-cli")
	c, err := startCluster(server, cli, t.TempDir(), extra, replicas)
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

// startCluster starts ClusterSize cluster-enabled servers, and replicas
// more for each, in subdirectories of dir, with extra configuration (which
// may be nil), joins them with redis-cli --cluster create and waits until
// every node reports the cluster ok (and every replica has synced). On
// failure it stops what it started.
func startCluster(server, cli, dir string, extra []string, replicas int) (c *Cluster, err error) {
	c = &Cluster{replicas: replicas}
	// The failure returns below hand back c, not nil, so that this can
	// stop the nodes already started.
	defer func() {
		if err != nil {
			err = errors.Join(err, c.Stop())
			c = nil
		}
	}()
	timeout := nodeTimeout
	if replicas > 0 {
		timeout = replicaNodeTimeout
		// A replica fails over however long ago it last heard from its
		// master, and its first sync starts at once.
		extra = append(append([]string{"--cluster-replica-validity-factor", "0"}, replicationArgs...), extra...)
	}
	for i := 0; i < ClusterSize*(1+replicas); i++ {
		nodeDir := filepath.Join(dir, "node"+strconv.Itoa(i))
		if err := os.MkdirAll(nodeDir, 0o755); err != nil {
			return c, err
		}
		// nodes.conf lives in the node's directory (--dir), so a node
		// restarted on its port rejoins with the same identity and slots.
		args := []string{
			"--cluster-enabled", "yes",
			"--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", strconv.Itoa(int(timeout / time.Millisecond)),
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
	args = append(args, "--cluster-replicas", strconv.Itoa(replicas), "--cluster-yes")
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
// persistence is off, unless the cluster is durable). In a cluster with
// replicas, which are masters is told by Masters.
func (c *Cluster) Node(i int) *Server { return c.nodes[i] }

// Nodes are every node, masters and replicas.
func (c *Cluster) Nodes() []*Server { return c.nodes }

// WaitReady waits until every node reports cluster_state:ok with all
// 16384 slots served and all nodes known (and, with replicas, ClusterSize
// masters and every replica's link to its master up), or timeout passes.
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
	if c.replicas == 0 {
		return nil
	}
	masters := 0
	for _, n := range c.nodes {
		info, err := command(n.Addr(), pingTimeout, "INFO", "replication")
		if err != nil {
			return err
		}
		switch infoField(info, "role") {
		case "master":
			masters++
		case "slave":
			if st := infoField(info, "master_link_status"); st != "up" {
				return fmt.Errorf("replica %s: master link %s", n.Addr(), st)
			}
		}
	}
	if masters != ClusterSize {
		return fmt.Errorf("%d masters, want %d", masters, ClusterSize)
	}
	// Every node knows who replicates whom (gossip spreads it), so that
	// Masters and ReplicaOf may ask any of them.
	for _, n := range c.nodes {
		t, err := topology(n.Addr())
		if err != nil {
			return err
		}
		withSlots, replicas := 0, 0
		for _, tn := range t {
			switch {
			case tn.is("master") && tn.slots:
				withSlots++
			case tn.is("slave") && tn.master != "-":
				replicas++
			}
		}
		if withSlots != ClusterSize || replicas != ClusterSize*c.replicas {
			return fmt.Errorf("%s knows %d masters with slots and %d replicas, want %d and %d",
				n.Addr(), withSlots, replicas, ClusterSize, ClusterSize*c.replicas)
		}
	}
	return nil
}

// Stop stops every node.
func (c *Cluster) Stop() error { return stopAll(c.nodes) }
