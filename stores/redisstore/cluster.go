package redisstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// ClusterReloadInterval is how often a Cluster client of NewClient's or
// NewClientURL's reloads its slot map even when nothing fails: the longest
// a topology change that no command runs into goes unseen.
const ClusterReloadInterval = time.Second

// reloadGap is the least time between two reloads a Cluster client's
// failing commands ask for. go-redis spaces its own reloads 200 ms apart
// only after one that worked; with every node unreachable, each failing
// command would start another at once.
const reloadGap = 200 * time.Millisecond

// newClient builds the client o describes, by redis.NewUniversalClient's
// rule, except that a Cluster client follows failovers (newClusterClient)
// and a database other than 0 for one is an error.
func newClient(o *redis.UniversalOptions) (redis.UniversalClient, error) {
	if o.MasterName != "" || (len(o.Addrs) <= 1 && !o.IsClusterMode) {
		return redis.NewUniversalClient(o), nil
	}
	if o.DB != 0 {
		return nil, fmt.Errorf("redisstore: database %d requested, but Redis Cluster has only database 0", o.DB)
	}
	return newClusterClient(o.Cluster(), ClusterReloadInterval), nil
}

// newClusterClient builds a Cluster client that notices a master's
// failure, reloading its slot map every interval and when a command
// fails because a node did not answer. go-redis v9.23 reloads on MOVED,
// ASK and READONLY replies and every ClusterStateReloadInterval (60 s by
// default), not when a master stops answering: a dead master cannot say
// MOVED, so its slots kept going to it after its replica's promotion.
// The reloads the hook asks for are reloadGap apart at least: while a
// master is down, one CLUSTER SLOTS every 200 ms; once its replica is
// promoted, the next failing command brings the new map.
func newClusterClient(co *redis.ClusterOptions, interval time.Duration) *redis.ClusterClient {
	co.ClusterStateReloadInterval = interval
	c := redis.NewClusterClient(co)
	c.AddHook(&reloadOnFailure{reload: func() { c.ReloadState(context.Background()) }})
	return c
}

// reloadOnFailure is the hook by which a Cluster client reloads its slot
// map when a command, or any command of a pipeline, fails because a node
// did not answer.
type reloadOnFailure struct {
	reload func()
	last   atomic.Int64 // when reload was last called, Unix nanoseconds
}

func (h *reloadOnFailure) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *reloadOnFailure) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if err != nil && nodeFailed(err) {
			h.ask()
		}
		return err
	}
}

func (h *reloadOnFailure) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		if err != nil {
			// The pipeline's error is its first failing command's, in
			// order: a reply error from a live node may come before a
			// dead node's.
			for _, cmd := range cmds {
				if nodeFailed(cmd.Err()) {
					h.ask()
					break
				}
			}
		}
		return err
	}
}

// ask calls reload unless it was called less than reloadGap ago.
func (h *reloadOnFailure) ask() {
	now := time.Now().UnixNano()
	last := h.last.Load()
	if now-last < int64(reloadGap) || !h.last.CompareAndSwap(last, now) {
		return
	}
	h.reload()
}

// nodeFailed reports whether err says a node did not answer: the
// connection was refused, reset or closed, or timed out, or the call's
// deadline ran out waiting (with ContextTimeoutEnabled, a master that
// hangs or whose host is gone gives just that). A node's error reply, a
// nil reply and the caller's cancellation are not.
func nodeFailed(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}
