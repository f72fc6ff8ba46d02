package redisstore

import (
	"context"
	"net"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"
)

// clusterNodes lists a Cluster's nodes to track: those each (go-redis's
// ForEachMaster or ForEachShard) calls its function with, which come
// from the client's slot map, and every live master CLUSTER NODES names
// that owns no slot. The slot map leaves such a master out, yet a slot
// may be being imported into it, and the writes sent there (ASK) must be
// announced too. Its address is written as the slot map writes the
// others' (IP or announced host name). A CLUSTER NODES that fails leaves
// the slot map's nodes.
func clusterNodes(ctx context.Context, each func(context.Context, func(context.Context, *redis.Client) error) error) ([]*redis.Options, error) {
	clients, err := nodeClients(ctx, each)
	if err != nil || len(clients) == 0 {
		return nil, err
	}
	out := optionsOf(clients)
	known := make(map[string]bool, len(out))
	for _, o := range out {
		known[o.Addr] = true
	}
	text, err := clients[0].ClusterNodes(ctx).Result()
	if err != nil {
		return out, nil
	}
	for _, addr := range slotless(liveMasters(text), known) {
		// Every node of a Cluster client is reached the same way but
		// for its address.
		o := *clients[0].Options()
		o.Addr = addr
		out = append(out, &o)
	}
	return out, nil
}

// slotless returns the addresses of the masters that own no slot and are
// not known, written as the known ones are: by announced host name when
// a master with slots is known by its name and not by its IP.
func slotless(masters []clusterMaster, known map[string]bool) []string {
	byName := false
	for _, m := range masters {
		if m.slots && m.named != "" && known[m.named] && !known[m.addr] {
			byName = true
		}
	}
	var out []string
	for _, m := range masters {
		addr := m.addr
		if byName && m.named != "" {
			addr = m.named
		}
		if !m.slots && !known[addr] && !slices.Contains(out, addr) {
			out = append(out, addr)
		}
	}
	return out
}

func optionsOf(clients []*redis.Client) []*redis.Options {
	out := make([]*redis.Options, len(clients))
	for i, c := range clients {
		out[i] = c.Options()
	}
	return out
}

// clusterMaster is a master as CLUSTER NODES lists it: its address
// (IP:port, as go-redis joins them), the same with its announced host
// name instead when it has one, and whether it owns a slot (a slot being
// imported or migrated is not owned by that).
type clusterMaster struct {
	addr, named string
	slots       bool
}

// liveMasters reads the masters of a CLUSTER NODES reply, but for those
// failed, still in handshake or without an address.
func liveMasters(text string) []clusterMaster {
	var out []clusterMaster
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) < 8 {
			continue
		}
		master, dead := false, false
		for _, fl := range strings.Split(f[2], ",") {
			switch fl {
			case "master":
				master = true
			case "fail", "fail?", "handshake", "noaddr":
				dead = true
			}
		}
		if !master || dead {
			continue
		}
		// ip:port@cport[,hostname]
		hostPort, bus, _ := strings.Cut(f[1], "@")
		i := strings.LastIndexByte(hostPort, ':')
		if i <= 0 || i == len(hostPort)-1 {
			continue
		}
		port := hostPort[i+1:]
		m := clusterMaster{addr: net.JoinHostPort(hostPort[:i], port)}
		if _, name, ok := strings.Cut(bus, ","); ok && name != "" {
			m.named = net.JoinHostPort(name, port)
		}
		for _, sl := range f[8:] {
			if !strings.HasPrefix(sl, "[") {
				m.slots = true
			}
		}
		out = append(out, m)
	}
	return out
}
