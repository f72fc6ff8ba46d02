package redistest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// clusterNode is one line of CLUSTER NODES.
type clusterNode struct {
	id, addr string // addr: ip:port, without the bus port
	flags    []string
	master   string // the id of its master, or "-"
	slots    bool   // it serves slots
}

func (n clusterNode) is(flag string) bool { return slices.Contains(n.flags, flag) }

// topology is CLUSTER NODES as node at addr sees it.
func topology(addr string) ([]clusterNode, error) {
	reply, err := command(addr, pingTimeout, "CLUSTER", "NODES")
	if err != nil {
		return nil, err
	}
	var nodes []clusterNode
	for _, line := range strings.Split(strings.TrimSpace(reply), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 {
			return nil, fmt.Errorf("redistest: %s: CLUSTER NODES line %q", addr, line)
		}
		a, _, _ := strings.Cut(f[1], "@")
		a, _, _ = strings.Cut(a, ",")
		nodes = append(nodes, clusterNode{
			id: f[0], addr: a, flags: strings.Split(f[2], ","), master: f[3], slots: len(f) > 8,
		})
	}
	return nodes, nil
}

// liveTopology is CLUSTER NODES as the first running node that answers
// sees it.
func (c *Cluster) liveTopology() ([]clusterNode, error) {
	var errs []error
	for _, n := range c.nodes {
		if n.Pid() == 0 {
			continue
		}
		t, err := topology(n.Addr())
		if err == nil {
			return t, nil
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("redistest: no node answers CLUSTER NODES: %w", errors.Join(errs...))
}

// server is the node at addr.
func (c *Cluster) server(addr string) (*Server, error) {
	for _, n := range c.nodes {
		if n.Addr() == addr {
			return n, nil
		}
	}
	return nil, fmt.Errorf("redistest: the cluster names %s, which is none of the nodes started", addr)
}

// Masters are the nodes that serve slots now and are not failed, as the
// first running node sees it, in the order of Nodes.
func (c *Cluster) Masters() ([]*Server, error) {
	t, err := c.liveTopology()
	if err != nil {
		return nil, err
	}
	var masters []*Server
	for _, n := range c.nodes {
		for _, tn := range t {
			if tn.addr == n.Addr() && tn.is("master") && tn.slots && !tn.is("fail") && !tn.is("fail?") {
				masters = append(masters, n)
			}
		}
	}
	return masters, nil
}

// ReplicaOf is master's replica (the first, when it has several).
func (c *Cluster) ReplicaOf(master *Server) (*Server, error) {
	t, err := c.liveTopology()
	if err != nil {
		return nil, err
	}
	id := ""
	for _, tn := range t {
		if tn.addr == master.Addr() {
			id = tn.id
		}
	}
	for _, tn := range t {
		if id != "" && tn.master == id && tn.is("slave") {
			return c.server(tn.addr)
		}
	}
	return nil, fmt.Errorf("redistest: %s has no replica", master.Addr())
}

// WaitReplicated waits until every running replica has applied every write
// its master acknowledged before the call, or timeout passes. A write
// acknowledged before it returns survives a failover; one acknowledged
// later may be lost with its master (replication is asynchronous).
func (c *Cluster) WaitReplicated(timeout time.Duration) error {
	masters, err := c.Masters()
	if err != nil {
		return err
	}
	for _, m := range masters {
		r, err := c.ReplicaOf(m)
		if err != nil {
			return err
		}
		if r.Pid() == 0 {
			continue
		}
		if err := waitReplicated(m, []*Server{r}, timeout); err != nil {
			return err
		}
	}
	return nil
}

// WaitPromoted waits, after the death of replica's master, until replica
// reports role:master and every running node reports the cluster ok, with
// all 16384 slots served, and lists replica as a master, or timeout
// passes. Take replica from ReplicaOf before the master dies.
func (c *Cluster) WaitPromoted(replica *Server, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := c.promoted(replica)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redistest: %s not promoted after %v: %w", replica.Addr(), timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (c *Cluster) promoted(replica *Server) error {
	role, err := replica.Role()
	if err != nil {
		return err
	}
	if role != "master" {
		return fmt.Errorf("%s reports role %s", replica.Addr(), role)
	}
	for _, n := range c.nodes {
		if n.Pid() == 0 {
			continue
		}
		info, err := command(n.Addr(), pingTimeout, "CLUSTER", "INFO")
		if err != nil {
			return err
		}
		for field, v := range map[string]string{"cluster_state": "ok", "cluster_slots_ok": "16384"} {
			if got := infoField(info, field); got != v {
				return fmt.Errorf("%s: %s is %q, want %q", n.Addr(), field, got, v)
			}
		}
		t, err := topology(n.Addr())
		if err != nil {
			return err
		}
		ok := false
		for _, tn := range t {
			ok = ok || (tn.addr == replica.Addr() && tn.is("master") && tn.slots)
		}
		if !ok {
			return fmt.Errorf("%s does not list %s as a master with slots yet", n.Addr(), replica.Addr())
		}
	}
	return nil
}
