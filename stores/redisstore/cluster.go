package redisstore

import (
	"context"
	"errors"
	"io"
	"net"
	"time"

	"github.com/redis/go-redis/v9"
)

// ClusterReloadInterval is how often a Cluster client of NewClient's or
// NewClientURL's reloads its slot map even when nothing fails: the longest
// a topology change that no command runs into goes unseen.
const ClusterReloadInterval = time.Second

// newClient builds the client o describes, by redis.NewUniversalClient's
// rule, except that a Cluster client follows failovers (newClusterClient).
func newClient(o *redis.UniversalOptions) redis.UniversalClient {
	if o.MasterName == "" && (len(o.Addrs) > 1 || o.IsClusterMode) {
		return newClusterClient(o.Cluster())
	}
	return redis.NewUniversalClient(o)
}

// newClusterClient builds a Cluster client that notices a master's
// failure. go-redis v9.23 reloads a cluster's slot map on MOVED, ASK and
// READONLY replies and every ClusterStateReloadInterval (60 s by default),
// not when a master stops answering: a dead master cannot say MOVED, so
// its slots kept going to it after its replica's promotion. Here a
// command that fails with a connection error also asks for a reload,
// which go-redis coalesces and spaces 200 ms apart: while the master is
// down that is one CLUSTER SLOTS every 200 ms at most, and once its
// replica is promoted the next failing command brings the new map.
func newClusterClient(co *redis.ClusterOptions) *redis.ClusterClient {
	co.ClusterStateReloadInterval = ClusterReloadInterval
	c := redis.NewClusterClient(co)
	c.AddHook(reloadOnFailure{c})
	return c
}

// reloadOnFailure is the hook by which a Cluster client reloads its slot
// map when a command or pipeline fails with a connection error.
type reloadOnFailure struct{ c *redis.ClusterClient }

func (h reloadOnFailure) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h reloadOnFailure) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if err != nil && nodeFailed(err) {
			h.c.ReloadState(ctx)
		}
		return err
	}
}

func (h reloadOnFailure) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		if err != nil && nodeFailed(err) {
			h.c.ReloadState(ctx)
		}
		return err
	}
}

// nodeFailed reports whether err says the node did not answer (refused,
// reset, closed or timed out), rather than that it answered with an error
// or that the caller gave up.
func nodeFailed(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}
