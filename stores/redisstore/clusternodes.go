package redisstore

import (
	"context"
	"net"
	"strings"

	"github.com/redis/go-redis/v9"
)

// clusterNodes lists a Cluster's nodes to track: those each (go-redis's
// ForEachMaster or ForEachShard) calls its function with, which come
// from the client's slot map, and every other live master CLUSTER NODES
// names. The slot map leaves out a master that owns no slot yet, and a
// slot may be being imported into one: the writes sent there (ASK) must
// be announced too. A CLUSTER NODES that fails leaves the slot map's.
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
	for _, addr := range liveMasters(text) {
		if !known[addr] {
			// Every node of a Cluster client is reached the same way
			// but for its address.
			o := *clients[0].Options()
			o.Addr = addr
			out = append(out, &o)
			known[addr] = true
		}
	}
	return out, nil
}

func optionsOf(clients []*redis.Client) []*redis.Options {
	out := make([]*redis.Options, len(clients))
	for i, c := range clients {
		out[i] = c.Options()
	}
	return out
}

// liveMasters reads the addresses (host:port, as go-redis joins them) of
// the masters a CLUSTER NODES reply lists, but for those failed, still
// in handshake or without an address.
func liveMasters(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) < 8 {
			continue
		}
		flags := strings.Split(f[2], ",")
		master, dead := false, false
		for _, fl := range flags {
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
		hostPort, _, _ := strings.Cut(f[1], "@")
		i := strings.LastIndexByte(hostPort, ':')
		if i <= 0 || i == len(hostPort)-1 {
			continue
		}
		out = append(out, net.JoinHostPort(hostPort[:i], hostPort[i+1:]))
	}
	return out
}
