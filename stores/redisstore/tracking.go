package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/sessionkit/sessionkit/stores/internal/nearcache"
)

// Tracking: how Redis tells the near cache that a session changed.
//
// Every node that holds keys (the server behind a standalone or Sentinel
// client, each master of a Cluster, each shard of a Ring) gets a tracker:
// one connection of a client of its own, cloned from the node's options
// (address or Sentinel dialer, TLS, credentials), speaking RESP2. When it
// connects, it asks for its own client ID and turns tracking on with
//
//	CLIENT TRACKING ON REDIRECT <its own id> BCAST PREFIX <Prefix>0 ... PREFIX <Prefix>f
//
// then subscribes to __redis__:invalidate: a RESP2 connection in Pub/Sub
// mode that tracking redirects to receives the invalidations as messages
// on that channel. BCAST announces every change of a key under the
// prefixes, whoever made it (this process too), with no per-key state on
// the server; the sixteen prefixes are the session keys' (the prefix and
// a hex digit), not the user index's. The subscription's confirmation is
// the signal that the node is tracked: tracking was on before it.
//
// With a Cluster client that reads from replicas (ReadOnly,
// RouteByLatency, RouteRandomly), the replicas are tracked too: a replica
// announces a write when it applies it, so a fill read from a replica
// that had not yet is refused like any other.
//
// The cache serves only while every node is tracked (nearcache.Cache.SetReady).
// A connection that fails, or stays silent through two heartbeats (a PING
// each), is closed and dialled again; in between the cache is off, and
// every entry is dropped when it goes off, since the invalidations sent
// meanwhile are lost. A Cluster's or Ring's nodes are listed again every
// refresh: a master that appears (a failover, a resharding) gets a
// tracker, and the cache is off until it is tracked; one that is gone
// loses its tracker.
type tracking struct {
	cache    *nearcache.Cache
	prefix   string   // the store's
	prefixes []string // the session keys': prefix and a hex digit
	// nodes lists the clients of the nodes to track, nil for a client of
	// one server.
	nodes func(context.Context) ([]*redis.Client, error)

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	trackers map[string]*tracker
	closed   bool
	lastErr  error // why a tracker last failed, nil once it is back

	// hold, for tests: while set, a tracker cannot establish tracking (its
	// connection's setup fails), as if Redis refused it.
	hold atomic.Bool

	// tag is this store's write-through tag (marks.go). passOwn: the
	// store writes through, so an announcement of its own write-throughs
	// only is passed over; false when it does not (a prefix its markers
	// cannot share a slot under, CacheOptions.NoWriteThrough, a Cluster
	// read from replicas), and every announcement drops its keys.
	tag     string
	passOwn bool
	// distrustUntil (time since born, monotonic): until then, this
	// store's own markers explain nothing, because a write of its that
	// failed may still be applied (see distrust).
	born          time.Time
	distrustUntil atomic.Int64
}

// invalidateChannel is where Redis sends a RESP2 client's invalidations.
const invalidateChannel = "__redis__:invalidate"

// heartbeat: a tracking connection silent this long is sent a PING; one
// silent for twice this long is given up and dialled again.
const heartbeat = time.Second

// refreshEvery: how often the nodes of a Cluster or Ring are listed again
// (and the cache's stale entries swept), at most.
const refreshEvery = time.Second

// newTracking starts tracking for the nodes behind client. It returns at
// once: until every node is tracked, the cache is off.
func newTracking(client redis.UniversalClient, prefix string, cache *nearcache.Cache, tag string, writeThrough bool) (*tracking, error) {
	g := &tracking{cache: cache, prefix: prefix, trackers: map[string]*tracker{}, tag: tag, passOwn: writeThrough, born: time.Now()}
	for _, d := range "0123456789abcdef" {
		g.prefixes = append(g.prefixes, prefix+string(d))
	}
	var single *redis.Client
	switch c := client.(type) {
	case *redis.ClusterClient:
		each := c.ForEachMaster
		if o := c.Options(); o.ReadOnly || o.RouteByLatency || o.RouteRandomly {
			// Reads may go to a replica, which applies a write after its
			// master announced it: a fill from a lagging replica is
			// refused only by the replica's own announcement, even of
			// this store's own write, which must then drop the key: no
			// write-through.
			each = c.ForEachShard
			g.passOwn = false
		}
		g.nodes = func(ctx context.Context) ([]*redis.Client, error) { return nodeClients(ctx, each) }
	case *redis.Ring:
		g.nodes = func(ctx context.Context) ([]*redis.Client, error) { return nodeClients(ctx, c.ForEachShard) }
	case *redis.Client:
		single = c
	default:
		return nil, fmt.Errorf("redisstore: the near cache needs a *redis.Client (standalone or Sentinel), *redis.ClusterClient or *redis.Ring, not %T", client)
	}
	g.ctx, g.cancel = context.WithCancel(context.Background())
	if single != nil {
		g.mu.Lock()
		g.start(single.Options())
		g.mu.Unlock()
	}
	g.wg.Add(1)
	go g.maintain()
	return g, nil
}

// nodeClients lists the clients each calls fn with (go-redis calls it
// concurrently).
func nodeClients(ctx context.Context, each func(context.Context, func(context.Context, *redis.Client) error) error) ([]*redis.Client, error) {
	var mu sync.Mutex
	var out []*redis.Client
	err := each(ctx, func(_ context.Context, c *redis.Client) error {
		mu.Lock()
		defer mu.Unlock()
		out = append(out, c)
		return nil
	})
	return out, err
}

// maintain sweeps the cache's stale entries (every MaxStaleness, from
// every 50 ms to every second) and, for a Cluster or Ring, keeps a
// tracker on every node (listing them every refreshEvery).
func (g *tracking) maintain() {
	defer g.wg.Done()
	t := time.NewTicker(max(min(refreshEvery, g.cache.MaxAge()), 50*time.Millisecond))
	defer t.Stop()
	var listed time.Time
	for {
		if g.nodes != nil && time.Since(listed) >= refreshEvery {
			g.refresh()
			listed = time.Now()
		}
		select {
		case <-g.ctx.Done():
			return
		case <-t.C:
		}
		g.cache.Sweep()
	}
}

// refresh lists the nodes and starts or stops trackers to match. A
// listing that fails changes nothing: each tracker watches its own
// connection.
func (g *tracking) refresh() {
	ctx, cancel := context.WithTimeout(g.ctx, 5*time.Second)
	defer cancel()
	nodes, err := g.nodes(ctx)
	if err != nil || len(nodes) == 0 {
		return
	}
	var gone []*tracker
	defer func() {
		// Outside g.mu: a tracker takes it on its way out.
		for _, t := range gone {
			t.stop()
		}
	}()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return
	}
	seen := map[string]bool{}
	for _, n := range nodes {
		o := n.Options()
		seen[o.Addr] = true
		if g.trackers[o.Addr] == nil {
			g.start(o)
		}
	}
	for addr, t := range g.trackers {
		if !seen[addr] {
			delete(g.trackers, addr)
			gone = append(gone, t)
		}
	}
	g.updateLocked()
}

// start starts a tracker on the node of o. Caller holds g.mu.
func (g *tracking) start(o *redis.Options) {
	t := &tracker{g: g, addr: o.Addr}
	t.client = redis.NewClient(g.trackerOptions(o, t))
	t.ctx, t.cancel = context.WithCancel(g.ctx)
	t.done = make(chan struct{})
	g.trackers[o.Addr] = t
	g.updateLocked()
	go t.run()
}

// trackerOptions are a node's client options for its tracker: the same
// way to reach and authenticate to the node, one connection, RESP2 (for
// Pub/Sub redirection), none of go-redis's own caching or notifications,
// and tracking turned on as the connection is set up.
func (g *tracking) trackerOptions(node *redis.Options, t *tracker) *redis.Options {
	o := *node
	o.Protocol = 2
	o.PoolSize = 1
	o.MinIdleConns = 0
	o.MaxIdleConns = 0
	o.MaxActiveConns = 0
	o.ConnMaxIdleTime = -1
	o.ConnMaxLifetime = 0
	o.PipelinePoolSize = -1
	o.AutoPipelineOptions = nil
	o.PushNotificationProcessor = nil
	o.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	o.ClientSideCacheConfig = nil
	o.ClientSideCache = nil
	o.ClientSideCacheRefreshOnInvalidate = false
	o.ClientSideCacheCoalesceMisses = false
	o.ClientSideCacheInvalidationBatchWindow = 0
	if o.ClientName == "" {
		o.ClientName = "sessionkit-tracking"
	} else {
		o.ClientName += "-tracking"
	}
	user := node.OnConnect
	o.OnConnect = func(ctx context.Context, cn *redis.Conn) error {
		if user != nil {
			if err := user(ctx, cn); err != nil {
				return err
			}
		}
		if g.hold.Load() {
			return errTrackingHeld
		}
		id, err := cn.ClientID(ctx).Result()
		if err != nil {
			return err
		}
		err = cn.ClientTrackingOn(ctx, &redis.ClientTrackingOptions{Redirect: id, Bcast: true, Prefixes: g.prefixes}).Err()
		if err != nil {
			return err
		}
		t.id.Store(id)
		return nil
	}
	return &o
}

var errTrackingHeld = errors.New("redisstore: tracking held (test)")

// failed records why the tracker of addr lost or could not establish
// tracking (nil: it is tracked again), for CacheStats.
func (g *tracking) failed(addr string, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err != nil {
		g.lastErr = fmt.Errorf("redisstore: tracking %s: %w", addr, err)
	} else if g.cache.Ready() {
		g.lastErr = nil
	}
}

// err is why tracking last failed, if it is not yet back.
func (g *tracking) err() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.lastErr
}

// updateLocked turns the cache on when every node is tracked, off when
// one is not. Caller holds g.mu.
func (g *tracking) updateLocked() {
	ready := !g.closed && len(g.trackers) > 0
	for _, t := range g.trackers {
		ready = ready && t.up
	}
	if ready != g.cache.Ready() {
		g.cache.SetReady(ready)
	}
}

// close stops every tracker and turns the cache off for good.
func (g *tracking) close() {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return
	}
	g.closed = true
	g.cancel()
	ts := make([]*tracker, 0, len(g.trackers))
	for _, t := range g.trackers {
		ts = append(ts, t)
	}
	g.updateLocked()
	g.mu.Unlock()
	for _, t := range ts {
		t.stop()
	}
	g.wg.Wait()
}

// conns returns the client IDs of the tracking connections that are up,
// by node address (for tests).
func (g *tracking) conns() map[string]int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := map[string]int64{}
	for addr, t := range g.trackers {
		if t.up {
			out[addr] = t.id.Load()
		}
	}
	return out
}

// tracker keeps one node's tracking connection.
type tracker struct {
	g      *tracking
	addr   string
	client *redis.Client
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	id     atomic.Int64 // CLIENT ID of the connection last set up

	up bool // guarded by g.mu: subscribed, so every change is announced

	mu sync.Mutex
	ps *redis.PubSub // the subscription being served, if any
}

// stop ends the tracker and waits for it. Closing the subscription ends
// the read it may be blocked in (a cancelled context does not).
func (t *tracker) stop() {
	t.cancel()
	t.mu.Lock()
	if t.ps != nil {
		_ = t.ps.Close()
	}
	t.mu.Unlock()
	<-t.done
	_ = t.client.Close()
}

// run keeps a tracking connection up until the tracker is stopped,
// dialling again after a failure: soon after a connection that worked,
// with a growing pause (to a second) after one that did not.
func (t *tracker) run() {
	defer close(t.done)
	var redial nearcache.Redial
	for t.ctx.Err() == nil {
		worked, err := t.serve()
		t.setUp(false)
		if t.ctx.Err() != nil {
			return
		}
		t.g.failed(t.addr, err)
		if !redial.Wait(t.ctx, worked) {
			return
		}
	}
}

func (t *tracker) setUp(up bool) {
	g := t.g
	g.mu.Lock()
	defer g.mu.Unlock()
	if t.up == up {
		return
	}
	t.up = up
	if g.trackers[t.addr] == t {
		g.updateLocked()
	}
}

// errSilent: a tracking connection answered neither an invalidation nor
// the heartbeat's PING for two heartbeats.
var errSilent = errors.New("no reply for two heartbeats")

// serve subscribes on a new connection and hands the invalidations it
// receives to the cache, until the connection fails or falls silent. It
// reports whether the subscription was confirmed, and why it ended.
func (t *tracker) serve() (bool, error) {
	ps := t.client.Subscribe(t.ctx) // no channel yet: not connected
	t.mu.Lock()
	if t.ctx.Err() != nil {
		t.mu.Unlock()
		_ = ps.Close()
		return false, t.ctx.Err()
	}
	t.ps = ps
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		t.ps = nil
		t.mu.Unlock()
		_ = ps.Close()
	}()
	// Connects; tracking is turned on as the connection is set up.
	_ = ps.Subscribe(t.ctx, invalidateChannel)
	subscribed, silent := false, 0
	for {
		msg, err := ps.ReceiveTimeout(t.ctx, heartbeat)
		if err != nil {
			switch {
			case t.ctx.Err() != nil:
				return subscribed, t.ctx.Err()
			case subscribed && isTimeout(err):
				if silent++; silent >= 2 {
					return true, errSilent
				}
				if err := ps.Ping(t.ctx); err != nil {
					return true, err
				}
				continue
			case subscribed && strings.HasPrefix(err.Error(), "redis: unsupported pubsub message payload"):
				// A nil key list, which go-redis cannot make a Message
				// of: Redis flushed a database (FLUSHALL, FLUSHDB).
				t.g.cache.Flush()
				continue
			}
			return subscribed, err
		}
		silent = 0
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind != "subscribe" || m.Channel != invalidateChannel {
				return subscribed, fmt.Errorf("unexpected %s of %q", m.Kind, m.Channel)
			}
			subscribed = true
			t.setUp(true)
			t.g.failed(t.addr, nil)
		case *redis.Message:
			if m.Channel != invalidateChannel || t.g.cache.DropInvalidations.Load() {
				continue
			}
			t.invalidate(m)
		}
	}
}

// invalidate drops the cached records of the keys a message names, but
// those whose every change it announces was a write-through of this
// store's (marks.go).
func (t *tracker) invalidate(m *redis.Message) {
	keys := m.PayloadSlice
	if keys == nil {
		keys = []string{m.Payload}
	}
	own := t.g.ownChanges(keys)
	for _, k := range keys {
		id, ok := strings.CutPrefix(k, t.g.prefix)
		if !ok || isMarker(id) || own[id] {
			continue
		}
		t.g.cache.Forget(id, true)
	}
}

func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}
