package redisstore_test

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/internal/redistest"
	"github.com/sessionkit/sessionkit/stores/redisstore"
)

// trackTimeout bounds the wait for tracking to be established, generous
// for a loaded two-core machine.
const trackTimeout = 10 * time.Second

// deployment is a Redis to run a cache test on: how to build a client of
// it, as each process of an application builds its own.
type deployment struct {
	name  string
	addrs func(t testing.TB) []string
}

var deployments = []deployment{
	{"Standalone", func(t testing.TB) []string { return []string{redistest.SharedStandalone(t).Addr()} }},
	{"Cluster", func(t testing.TB) []string { return redistest.SharedCluster(t).Addrs() }},
}

// process is one application process: a client of its own, counting the
// commands it sends, and a store on it with the near cache on.
type process struct {
	prefix string
	client redis.UniversalClient
	count  *counter
	s      *redisstore.Store
}

// newProcess builds a process on addrs with the given key prefix and cache
// options, and waits until its tracking is established. Its store and
// client are closed when the test ends.
func newProcess(t testing.TB, addrs []string, prefix string, co redisstore.CacheOptions) *process {
	t.Helper()
	client, err := redisstore.NewClient(addrs, 0)
	require.NoError(t, err)
	return newProcessOn(t, client, prefix, co)
}

// newProcessOn is newProcess on a client of the caller's, which it
// closes when the test ends.
func newProcessOn(t testing.TB, client redis.UniversalClient, prefix string, co redisstore.CacheOptions) *process {
	t.Helper()
	t.Cleanup(func() { client.Close() })
	var err error
	p := &process{prefix: prefix, client: client, count: &counter{}}
	client.AddHook(p.count)
	p.s, err = redisstore.New(client, redisstore.Options{Prefix: prefix, Cache: &co})
	require.NoError(t, err)
	t.Cleanup(func() { p.s.Close() })
	require.True(t, redisstore.WaitTracking(p.s, trackTimeout), "tracking not established")
	require.NoError(t, redisstore.LoadScripts(context.Background(), client))
	p.count.take()
	return p
}

// lo are Load options with no touch due for a long while.
func lo(now time.Time) store.LoadOptions {
	return store.LoadOptions{Now: now, Idle: idle, TouchAfter: 15 * time.Minute}
}

// value loads id and returns its value under key ("" when absent), or
// the Load's error as "error: ...".
func (p *process) value(t testing.TB, id, key string, now time.Time) string {
	t.Helper()
	rec, err := p.s.Load(context.Background(), id, lo(now))
	if err != nil {
		return "error: " + err.Error()
	}
	return string(rec.Values[key])
}

// cached loads id until a Load is a hit that sent no command, and returns
// that Load's record. (The first Load fills the entry, unless an
// invalidation of the key, such as that of its creation, arrives while it
// reads: then the next one does.)
func (p *process) cached(t testing.TB, id string, now time.Time) *store.Record {
	t.Helper()
	for try := 0; ; try++ {
		before := p.s.CacheStats().Hits
		p.count.take()
		rec, err := p.s.Load(context.Background(), id, lo(now))
		require.NoError(t, err)
		trips, cmds := p.count.take()
		if p.s.CacheStats().Hits == before+1 {
			require.Zero(t, trips, "a cached Load sent %v", cmds)
			return rec
		}
		require.Less(t, try, 100, "Loads of %s are never served from the cache", id)
	}
}

// cachedAll fills p's cache with every one of ids and waits until none
// is dropped any more by a late invalidation (that of its creation).
func (p *process) cachedAll(t testing.TB, ids []string, now time.Time) {
	t.Helper()
	stable := 0
	_, ok := until(10*time.Second, func() bool {
		for _, id := range ids {
			p.cached(t, id, now)
		}
		if p.s.CacheStats().Entries >= len(ids) {
			stable++
		} else {
			stable = 0
		}
		return stable >= 3
	})
	require.True(t, ok, "the cache never held all %d sessions", len(ids))
}

// set writes key=value into id through p, as a manager's Update does.
func (p *process) set(t testing.TB, id, key, value string, now time.Time) {
	t.Helper()
	require.NoError(t, p.s.Update(context.Background(), id, &store.Change{
		Now: now, Idle: idle, Set: map[string][]byte{key: []byte(value)},
	}))
}

// until polls f every millisecond until it is true or d passes, and
// reports how long it took.
func until(d time.Duration, f func() bool) (time.Duration, bool) {
	start := time.Now()
	for {
		if f() {
			return time.Since(start), true
		}
		if time.Since(start) > d {
			return time.Since(start), false
		}
		time.Sleep(time.Millisecond)
	}
}

func TestCacheOptions(t *testing.T) {
	c := standaloneClient(t)
	for _, bad := range []redisstore.CacheOptions{
		{MaxBytes: -1},
		{MaxStaleness: -time.Millisecond},
		{MaxStaleness: time.Minute + time.Millisecond},
	} {
		s, err := redisstore.New(c, redisstore.Options{Cache: &bad})
		assert.Error(t, err, "%+v", bad)
		assert.Nil(t, s)
	}
	s, err := redisstore.New(c, redisstore.Options{Cache: &redisstore.CacheOptions{MaxStaleness: time.Minute}})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close twice")

	// A client the cache cannot find the nodes of.
	s, err = redisstore.New(wrapped{c}, redisstore.Options{Cache: &redisstore.CacheOptions{}})
	assert.ErrorContains(t, err, "near cache needs")
	assert.Nil(t, s)

	// A Sentinel client is a *redis.Client whose dialer asks the
	// sentinels for the master: its tracker dials the same way, and with
	// no sentinel to answer, tracking stays off and says why.
	failover := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: "mymaster", SentinelAddrs: []string{"127.0.0.1:1"}, DialerRetries: 1})
	defer failover.Close()
	s, err = redisstore.New(failover, redisstore.Options{Cache: &redisstore.CacheOptions{}})
	require.NoError(t, err)
	_, ok := until(trackTimeout, func() bool { return s.CacheStats().TrackingError != nil })
	assert.True(t, ok, "no tracking error without a sentinel")
	assert.False(t, s.CacheStats().Tracking)
	require.NoError(t, s.Close())

	// Without a cache: no stats, Close does nothing.
	s, err = redisstore.New(c, redisstore.Options{})
	require.NoError(t, err)
	assert.Equal(t, redisstore.CacheStats{}, s.CacheStats())
	require.NoError(t, s.Close())
}

// wrapped is a UniversalClient of a type the cache does not know.
type wrapped struct{ redis.UniversalClient }

// A Load served from the cache sends no command: none leaves the client
// (its hook sees nothing) and none reaches the servers (INFO commandstats
// on each, against servers of the test's own, so that no other test's
// traffic counts). The background's own commands (the tracking
// connection's PING, a Cluster's periodic CLUSTER SLOTS) are not Loads'
// and are left out of the count.
func TestCachedLoadSendsNoCommand(t *testing.T) {
	for _, d := range ownDeployments {
		t.Run(d.name, func(t *testing.T) {
			addrs := d.addrs(t)
			p, ids, now := cachedProcess(t, addrs, 20, "v")
			p.count.take()
			before := commandCalls(t, addrs)
			stats := p.s.CacheStats()
			const loads = 10000
			for i := range loads {
				rec, err := p.s.Load(context.Background(), ids[i%len(ids)], lo(now))
				require.NoError(t, err)
				require.Equal(t, "v", string(rec.Values["k"]))
			}
			after := commandCalls(t, addrs)
			trips, cmds := p.count.take()
			assert.Zero(t, trips, "the client sent %v", cmds)
			assert.Equal(t, before, after, "commands the servers ran during %d cached Loads", loads)
			got := p.s.CacheStats()
			assert.Equal(t, stats.Hits+loads, got.Hits)
			assert.Equal(t, stats.Misses, got.Misses)
			t.Logf("%d cached Loads: %d round trips from the client; server commands by name before %v, after %v", loads, trips, before, after)
		})
	}
}

// ownDeployments are the deployments of the tests that count what the
// servers ran (INFO commandstats): servers of the test's own, which no
// other test sends anything.
var ownDeployments = []deployment{
	{"Standalone", func(t testing.TB) []string { return []string{redistest.Standalone(t).Addr()} }},
	{"Cluster", func(t testing.TB) []string { return redistest.NewCluster(t).Addrs() }},
}

// cachedProcess starts a process on addrs with n new sessions, each
// holding k = v, and returns it once all of them are cached, with their
// IDs and the time they were made at.
func cachedProcess(t *testing.T, addrs []string, n int, v string) (*process, []string, time.Time) {
	t.Helper()
	p := newProcess(t, addrs, redistest.Prefix(t), redisstore.CacheOptions{MaxStaleness: time.Minute})
	now := time.Now()
	var ids []string
	for range n {
		ids = append(ids, create(t, p.s, now, "", "k", v))
	}
	p.cachedAll(t, ids, now)
	return p, ids, now
}

// background are the commands of the cache's and go-redis's own
// background work, which no Load sends.
var background = map[string]bool{
	"ping": true, "info": true, "cluster|slots": true, "cluster|shards": true, "cluster|info": true,
	"cluster|nodes": true, "client|id": true, "client|tracking": true, "client|setinfo": true,
	"hello": true, "subscribe": true,
}

// commandCalls sums, over the servers at addrs, the calls of each command
// (INFO commandstats) but the background's.
func commandCalls(t *testing.T, addrs []string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, a := range addrs {
		c := redis.NewClient(&redis.Options{Addr: a})
		info, err := c.Info(context.Background(), "commandstats").Result()
		c.Close()
		require.NoError(t, err)
		for _, line := range strings.Split(info, "\n") {
			name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
			name, found := strings.CutPrefix(name, "cmdstat_")
			if !ok || !found || background[name] {
				continue
			}
			for _, kv := range strings.Split(rest, ",") {
				if v, ok := strings.CutPrefix(kv, "calls="); ok {
					n, err := strconv.ParseInt(v, 10, 64)
					require.NoError(t, err)
					out[name] += n
				}
			}
		}
	}
	return out
}

// Read-your-writes in one process: after each write this process makes
// (Update, Take, Renew, Delete, DeleteUser, an eviction by Create), its
// next Load reads the new state, although Redis's invalidations are
// thrown away: the write itself dropped the cached record.
func TestCacheReadYourWrites(t *testing.T) {
	for _, d := range deployments {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			p := newProcess(t, d.addrs(t), redistest.Prefix(t), redisstore.CacheOptions{MaxStaleness: time.Minute})
			redisstore.DropInvalidations(p.s, true)
			ctx := context.Background()
			now := time.Now()

			id := create(t, p.s, now, "", "k", "v0")
			p.cached(t, id, now)
			p.set(t, id, "k", "v1", now)
			assert.Equal(t, "v1", p.value(t, id, "k", now), "after Update")

			p.cached(t, id, now)
			v, ok, err := p.s.Take(ctx, id, "k", lo(now))
			require.NoError(t, err)
			require.True(t, ok)
			assert.Equal(t, "v1", string(v))
			assert.Equal(t, "", p.value(t, id, "k", now), "after Take")

			p.set(t, id, "k", "v2", now)
			p.cached(t, id, now)
			next := newID(t)
			_, err = p.s.Renew(ctx, id, next, &store.Change{Now: now, Idle: idle}, store.WriteOptions{Now: now, Idle: idle})
			require.NoError(t, err)
			assert.Equal(t, "error: "+store.ErrNotFound.Error(), p.value(t, id, "k", now), "the old ID after Renew")
			assert.Equal(t, "v2", p.value(t, next, "k", now), "the new ID after Renew")

			p.cached(t, next, now)
			existed, err := p.s.Delete(ctx, next)
			require.NoError(t, err)
			require.True(t, existed)
			assert.Equal(t, "error: "+store.ErrNotFound.Error(), p.value(t, next, "k", now), "after Delete")

			// Delete through a forwarding entry drops the successor too.
			a := create(t, p.s, now, "", "k", "a")
			b := newID(t)
			p.cached(t, a, now)
			_, err = p.s.Renew(ctx, a, b, &store.Change{Now: now, Idle: idle}, store.WriteOptions{Now: now, Idle: idle, Grace: time.Minute})
			require.NoError(t, err)
			p.cached(t, b, now)
			_, err = p.s.Delete(ctx, a)
			require.NoError(t, err)
			assert.Equal(t, "error: "+store.ErrNotFound.Error(), p.value(t, b, "k", now), "the successor after Delete of the old ID")

			// A revocation of every session of a user.
			u1 := create(t, p.s, now, "alice", "k", "1")
			u2 := create(t, p.s, now, "alice", "k", "2")
			p.cached(t, u1, now)
			p.cached(t, u2, now)
			gone, err := p.s.DeleteUser(ctx, "alice", u2)
			require.NoError(t, err)
			assert.Equal(t, []string{u1}, gone)
			assert.Equal(t, "error: "+store.ErrNotFound.Error(), p.value(t, u1, "k", now), "after DeleteUser")
			assert.Equal(t, "2", p.value(t, u2, "k", now), "the session DeleteUser kept")

			// An eviction under the per-user cap.
			old := create(t, p.s, now, "bob", "k", "old")
			p.cached(t, old, now)
			later := now.Add(time.Second)
			evicted, err := p.s.Create(ctx, newID(t), &store.Record{Meta: meta(later, "bob"), Values: map[string][]byte{}},
				store.WriteOptions{Now: later, Idle: idle, MaxPerUser: 1})
			require.NoError(t, err)
			assert.Equal(t, []string{old}, evicted)
			assert.Equal(t, "error: "+store.ErrNotFound.Error(), p.value(t, old, "k", later), "after its eviction")
			assert.Zero(t, p.s.CacheStats().Invalidations, "no invalidation from Redis was used")
		})
	}
}

// Another process sees a write or a revocation within the invalidation
// delivery time: two processes (separate clients and stores, one prefix),
// one writes, the other polls with Loads that are cache hits until it
// reads the change. Delivery is measured from the moment the write
// returned to the writer; the figures are logged (go test -v) and the
// package doc quotes them. p99 must stay under 50 ms, far above what
// loopback gives, so that a loaded machine does not fail it.
func TestCacheCrossProcess(t *testing.T) {
	for _, d := range deployments {
		t.Run(d.name, func(t *testing.T) {
			addrs, prefix := d.addrs(t), redistest.Prefix(t)
			co := redisstore.CacheOptions{MaxStaleness: time.Minute}
			a, b := newProcess(t, addrs, prefix, co), newProcess(t, addrs, prefix, co)
			now := time.Now()
			const rounds = 200
			var writes, revokes []time.Duration
			for i := range rounds {
				id := create(t, b.s, now, "", "k", "v0")
				a.cached(t, id, now)
				b.set(t, id, "k", "v1", now)
				took, ok := spin(5*time.Second, func() bool { return a.value(t, id, "k", now) == "v1" })
				require.True(t, ok, "round %d: the write never showed", i)
				writes = append(writes, took)

				a.cached(t, id, now)
				_, err := b.s.Delete(context.Background(), id)
				require.NoError(t, err)
				took, ok = spin(5*time.Second, func() bool {
					_, err := a.s.Load(context.Background(), id, lo(now))
					return errors.Is(err, store.ErrNotFound)
				})
				require.True(t, ok, "round %d: the revocation never showed", i)
				revokes = append(revokes, took)
			}
			wp50, wp99 := percentiles(writes)
			rp50, rp99 := percentiles(revokes)
			t.Logf("%s: another process saw a write after p50 %v p99 %v, a revocation after p50 %v p99 %v (%d rounds)",
				d.name, wp50, wp99, rp50, rp99, rounds)
			assert.Less(t, wp99, 50*time.Millisecond)
			assert.Less(t, rp99, 50*time.Millisecond)
		})
	}
}

// spin calls f in a tight loop (yielding between calls) until it is true
// or d passes, and returns how long that took.
func spin(d time.Duration, f func() bool) (time.Duration, bool) {
	start := time.Now()
	for {
		if f() {
			return time.Since(start), true
		}
		if time.Since(start) > d {
			return time.Since(start), false
		}
		runtime.Gosched()
	}
}

func percentiles(ds []time.Duration) (p50, p99 time.Duration) {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2], s[(len(s)*99)/100]
}

// Never staler than MaxStaleness, even when invalidations are lost: the
// reader's tracker throws every invalidation away (as if lost on the
// way, with the connection still up), another process writes, and the
// reader, still served the old record at once (the proof that nothing
// told it), reads the new one once its entry is MaxStaleness old. The
// bound is checked with a margin for a loaded machine: a read at
// MaxStaleness plus 100 ms after the fill must see the write.
func TestCacheMaxStaleness(t *testing.T) {
	for _, d := range deployments {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			const staleness, margin = 300 * time.Millisecond, 100 * time.Millisecond
			addrs, prefix := d.addrs(t), redistest.Prefix(t)
			a := newProcess(t, addrs, prefix, redisstore.CacheOptions{MaxStaleness: staleness})
			b := newProcess(t, addrs, prefix, redisstore.CacheOptions{MaxStaleness: staleness})
			redisstore.DropInvalidations(a.s, true)
			now := time.Now()
			id := create(t, b.s, now, "", "k", "v0")
			// The fill's read is sent after this instant, so the entry is
			// younger than the time since.
			filled := time.Now()
			a.cached(t, id, now)
			b.set(t, id, "k", "v1", now)
			_, err := b.s.Delete(context.Background(), create(t, b.s, now, ""))
			require.NoError(t, err)
			if time.Since(filled) < staleness/2 {
				assert.Equal(t, "v0", a.value(t, id, "k", now), "invalidations are dropped: the old record is still served")
			}
			took, ok := until(staleness+margin, func() bool { return a.value(t, id, "k", now) == "v1" })
			require.True(t, ok, "still stale %v after the write", took)
			assert.LessOrEqual(t, time.Since(filled), staleness+margin+10*time.Millisecond)
			t.Logf("%s: the write showed %v after it returned, MaxStaleness %v", d.name, took, staleness)
		})
	}
}

// When the tracking connection drops, the cache is dropped and bypassed
// until tracking is back: the test kills the reader's tracking
// connection (CLIENT KILL ID), holding its reconnection off; every Load
// then reads Redis (a bypass, never a hit) and so sees another process's
// write, which no invalidation could have announced. Once tracking is
// back, records are cached again, and invalidations reach the new
// connection.
func TestCacheTrackingLost(t *testing.T) {
	for _, d := range deployments {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			addrs, prefix := d.addrs(t), redistest.Prefix(t)
			co := redisstore.CacheOptions{MaxStaleness: time.Minute}
			a, b := newProcess(t, addrs, prefix, co), newProcess(t, addrs, prefix, co)
			now := time.Now()
			ids := make([]string, 10) // on every node of a cluster, likely
			for i := range ids {
				ids[i] = create(t, b.s, now, "", "k", "v0")
			}
			a.cachedAll(t, ids, now)

			redisstore.HoldTracking(a.s, true)
			killTracking(t, a, addrs)
			_, ok := until(trackTimeout, func() bool { return !a.s.CacheStats().Tracking })
			require.True(t, ok, "the cache still serves with a tracking connection killed")
			assert.Zero(t, a.s.CacheStats().Entries, "entries dropped with tracking")
			_, ok = until(trackTimeout, func() bool { return a.s.CacheStats().TrackingError != nil })
			assert.True(t, ok, "the failure to set tracking up again is reported")

			for _, id := range ids {
				b.set(t, id, "k", "v1", now)
			}
			stats := a.s.CacheStats()
			for range 3 {
				for _, id := range ids {
					assert.Equal(t, "v1", a.value(t, id, "k", now))
				}
			}
			got := a.s.CacheStats()
			assert.Equal(t, stats.Hits, got.Hits, "no hit while tracking is down")
			assert.Equal(t, stats.Bypasses+3*uint64(len(ids)), got.Bypasses)
			assert.False(t, got.Tracking)

			redisstore.HoldTracking(a.s, false)
			require.True(t, redisstore.WaitTracking(a.s, trackTimeout), "tracking never came back")
			_, ok = until(time.Second, func() bool { return a.s.CacheStats().TrackingError == nil })
			assert.True(t, ok, "TrackingError cleared: %v", a.s.CacheStats().TrackingError)
			for _, id := range ids {
				assert.Equal(t, "v1", string(a.cached(t, id, now).Values["k"]), "cached again")
			}
			b.set(t, ids[0], "k", "v2", now)
			_, ok = until(5*time.Second, func() bool { return a.value(t, ids[0], "k", now) == "v2" })
			assert.True(t, ok, "an invalidation on the new tracking connection")
		})
	}
}

// killTracking kills p's tracking connections (one per node) with CLIENT
// KILL ID, each on its own node (IDs are the server's: another node may
// have a client of the same ID), and returns their IDs by node.
func killTracking(t *testing.T, p *process, addrs []string) map[string]int64 {
	t.Helper()
	conns := redisstore.TrackingConns(p.s)
	require.Len(t, conns, len(addrs))
	for addr, id := range conns {
		c := redis.NewClient(&redis.Options{Addr: addr})
		n, err := c.ClientKillByFilter(context.Background(), "ID", strconv.FormatInt(id, 10)).Result()
		c.Close()
		require.NoError(t, err)
		require.Equal(t, int64(1), n, "tracking connection %d on %s killed", id, addr)
	}
	return conns
}

// retracked waits until p tracks every node again on connections other
// than those killed.
func retracked(t *testing.T, p *process, killed map[string]int64) {
	t.Helper()
	_, ok := until(trackTimeout, func() bool {
		conns := redisstore.TrackingConns(p.s)
		for addr, id := range killed {
			if conns[addr] == 0 || conns[addr] == id {
				return false
			}
		}
		return p.s.CacheStats().Tracking
	})
	require.True(t, ok, "tracking never came back on new connections")
}

// A tracking connection killed and reconnected at once: no write made
// after the kill is missed, whether it landed before or after the new
// connection was set up.
func TestCacheTrackingReconnects(t *testing.T) {
	addrs, prefix := []string{redistest.SharedStandalone(t).Addr()}, redistest.Prefix(t)
	co := redisstore.CacheOptions{MaxStaleness: time.Minute}
	a, b := newProcess(t, addrs, prefix, co), newProcess(t, addrs, prefix, co)
	now := time.Now()
	id := create(t, b.s, now, "", "k", "v0")
	for i := range 20 {
		a.cached(t, id, now)
		killed := killTracking(t, a, addrs)
		want := "v" + strconv.Itoa(i+1)
		b.set(t, id, "k", want, now)
		// Whatever the tracker is doing now (noticing the kill, dialling,
		// subscribing), the write is seen without waiting for
		// MaxStaleness.
		took, ok := until(5*time.Second, func() bool { return a.value(t, id, "k", now) == want })
		require.True(t, ok, "round %d: a write after the kill was missed for %v", i, took)
		retracked(t, a, killed)
	}
}

// FLUSHALL (an invalidation with no key list) drops the whole cache,
// and tracking stays up.
func TestCacheFlushAll(t *testing.T) {
	srv := redistest.Standalone(t)
	p := newProcess(t, []string{srv.Addr()}, redistest.Prefix(t), redisstore.CacheOptions{MaxStaleness: time.Minute})
	now := time.Now()
	id := create(t, p.s, now, "", "k", "v")
	p.cached(t, id, now)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer c.Close()
	require.NoError(t, c.FlushAll(context.Background()).Err())
	_, ok := until(5*time.Second, func() bool { return p.s.CacheStats().Flushes == 1 })
	require.True(t, ok, "the flush never reached the cache")
	assert.Equal(t, "error: "+store.ErrNotFound.Error(), p.value(t, id, "k", now))
	stats := p.s.CacheStats()
	assert.True(t, stats.Tracking)
	assert.Zero(t, stats.Entries)
	id = create(t, p.s, now, "", "k", "w")
	assert.Equal(t, "w", string(p.cached(t, id, now).Values["k"]), "cached again after the flush")
}

// Deadlines are checked on every cached read, against the caller's Now:
// a record past its idle or absolute deadline, or its own idle timeout,
// is never served from the cache (Redis answers, ErrExpired); one due for
// a touch goes to Redis, which extends its idle deadline.
func TestCacheDeadlines(t *testing.T) {
	for _, d := range deployments {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			p := newProcess(t, d.addrs(t), redistest.Prefix(t), redisstore.CacheOptions{MaxStaleness: time.Minute})
			ctx := context.Background()
			now := time.Now()
			id := create(t, p.s, now, "", "k", "v")
			p.cached(t, id, now)
			miss := func(o store.LoadOptions) error {
				t.Helper()
				stats := p.s.CacheStats()
				p.count.take()
				_, err := p.s.Load(ctx, id, o)
				_, cmds := p.count.take()
				assert.Contains(t, cmds, "hgetall", "Load with %+v read Redis", o)
				assert.Equal(t, stats.Hits, p.s.CacheStats().Hits, "not a hit")
				return err
			}
			// Past the idle deadline of the call, and past the absolute one.
			assert.ErrorIs(t, miss(store.LoadOptions{Now: now.Add(idle), Idle: idle, TouchAfter: lifetime}), store.ErrExpired)
			assert.ErrorIs(t, miss(store.LoadOptions{Now: now.Add(lifetime), Idle: 2 * lifetime, TouchAfter: 2 * lifetime}), store.ErrExpired)
			// A shorter idle timeout of the call than the stored deadline.
			assert.ErrorIs(t, miss(store.LoadOptions{Now: now.Add(time.Minute), Idle: time.Minute, TouchAfter: lifetime}), store.ErrExpired)
			p.cached(t, id, now) // still live at now

			// A session with an idle timeout of its own (a remembered
			// login's) expires by it, whatever the call's.
			own := newID(t)
			m := meta(now, "")
			m.Idle = 10 * time.Minute
			_, err := p.s.Create(ctx, own, &store.Record{Meta: m, Values: map[string][]byte{}}, wopts(now))
			require.NoError(t, err)
			p.cached(t, own, now)
			p.count.take()
			_, err = p.s.Load(ctx, own, store.LoadOptions{Now: now.Add(10 * time.Minute), Idle: idle, TouchAfter: lifetime})
			assert.ErrorIs(t, err, store.ErrExpired)
			_, cmds := p.count.take()
			assert.Contains(t, cmds, "hgetall")

			// Due for a touch: Redis extends the idle deadline.
			later := now.Add(20 * time.Minute)
			p.count.take()
			rec, err := p.s.Load(ctx, id, store.LoadOptions{Now: later, Idle: idle, TouchAfter: 15 * time.Minute})
			require.NoError(t, err)
			_, cmds = p.count.take()
			// Less the handshake of a connection go-redis may dial on the
			// way: the touch is the client's first pipeline, which has a
			// pool of its own (go-redis v9.23), once a new session is one
			// RESTORE and no transaction.
			cmds = slices.DeleteFunc(cmds, func(c string) bool { return background[c] || c == "client" })
			assert.Equal(t, []string{"hgetall", "evalsha"}, cmds, "the touch script ran")
			assert.Equal(t, later.UnixMilli(), rec.Meta.LastSeen.UnixMilli())
			ls, err := p.client.HGet(ctx, redisstore.Options{Prefix: p.prefix}.SessionKey(id), "m:ls").Result()
			require.NoError(t, err)
			assert.Equal(t, strconv.FormatInt(later.UnixMilli(), 10), ls, "LastSeen moved in Redis")
			// The touched record is what the cache serves next.
			got := p.cached(t, id, later)
			assert.Equal(t, later.UnixMilli(), got.Meta.LastSeen.UnixMilli())
		})
	}
}

// A Cluster node that fails takes the cache down with it until it is
// tracked again, and what it held is never served afterwards: a master
// stopped (its tracking connection drops) turns the cache off, Loads of
// sessions on the other masters read Redis and succeed, and once the node
// is back, empty (no persistence), its sessions load as missing although
// they had been cached.
func TestCacheClusterNodeRestart(t *testing.T) {
	c := redistest.NewCluster(t)
	p := newProcess(t, c.Addrs(), redistest.Prefix(t), redisstore.CacheOptions{MaxStaleness: time.Minute})
	cc := p.client.(*redis.ClusterClient)
	ctx := context.Background()
	victim := c.Node(0)
	now := time.Now()
	var onVictim, elsewhere []string
	for len(onVictim) < 3 || len(elsewhere) < 3 {
		id := create(t, p.s, now, "", "k", "v")
		node, err := cc.MasterForKey(ctx, redisstore.Options{Prefix: p.prefix}.SessionKey(id))
		require.NoError(t, err)
		if node.Options().Addr == victim.Addr() {
			onVictim = append(onVictim, id)
		} else {
			elsewhere = append(elsewhere, id)
		}
	}
	for _, id := range append(slices.Clone(onVictim), elsewhere...) {
		p.cached(t, id, now)
	}

	require.NoError(t, victim.Stop())
	_, ok := until(trackTimeout, func() bool { return !p.s.CacheStats().Tracking })
	require.True(t, ok, "the cache still serves with a master down")
	stats := p.s.CacheStats()
	for _, id := range elsewhere {
		assert.Equal(t, "v", p.value(t, id, "k", now), "a session on a master that is up")
	}
	for _, id := range onVictim {
		opCtx, cancel := context.WithTimeout(ctx, opDeadline)
		_, err := p.s.Load(opCtx, id, lo(now))
		cancel()
		assert.Error(t, err, "a session on the stopped master is not served from the cache")
	}
	got := p.s.CacheStats()
	assert.Equal(t, stats.Hits, got.Hits, "no hit while a master is untracked")

	require.NoError(t, victim.Start())
	require.NoError(t, c.WaitReady(redistest.ReadyTimeout))
	require.True(t, redisstore.WaitTracking(p.s, trackTimeout), "tracking never came back")
	for _, id := range onVictim {
		_, ok := until(15*time.Second, func() bool {
			return p.value(t, id, "k", now) == "error: "+store.ErrNotFound.Error()
		})
		assert.True(t, ok, "a session the restarted master lost")
	}
	for _, id := range elsewhere {
		assert.Equal(t, "v", string(p.cached(t, id, now).Values["k"]))
	}
}

// The byte bound: however many sessions are read, the cache's estimate
// stays within MaxBytes, entries are evicted (and counted), and a record
// read between insertions survives a sweep of insertions that evicts
// records read once.
func TestCacheMaxBytes(t *testing.T) {
	const maxBytes = 64 << 10 // one shard
	p := newProcess(t, []string{redistest.SharedStandalone(t).Addr()}, redistest.Prefix(t),
		redisstore.CacheOptions{MaxBytes: maxBytes, MaxStaleness: time.Minute})
	now := time.Now()
	value := strings.Repeat("x", 500)
	hot := create(t, p.s, now, "", "k", value)
	p.cached(t, hot, now)
	var ids []string
	for range 400 {
		ids = append(ids, create(t, p.s, now, "", "k", value))
	}
	for _, id := range ids {
		_, err := p.s.Load(context.Background(), id, lo(now))
		require.NoError(t, err)
		stats := p.s.CacheStats()
		require.LessOrEqual(t, stats.Bytes, int64(maxBytes))
		_, err = p.s.Load(context.Background(), hot, lo(now))
		require.NoError(t, err)
	}
	stats := p.s.CacheStats()
	t.Logf("%d sessions of ~%d bytes read: %d entries, %d bytes, %d evictions", len(ids), len(value), stats.Entries, stats.Bytes, stats.Evictions)
	assert.Positive(t, stats.Evictions)
	assert.Less(t, stats.Entries, len(ids))
	assert.Greater(t, stats.Bytes, int64(maxBytes/2), "the bound is used, not just respected")
	before := stats.Hits
	_, err := p.s.Load(context.Background(), hot, lo(now))
	require.NoError(t, err)
	assert.Equal(t, before+1, p.s.CacheStats().Hits, "the record read all along is still cached")
}

// Close turns the cache off for good (Loads read Redis and still work)
// and leaves no goroutine or connection of the cache behind. Not
// parallel: it counts the process's goroutines.
func TestCacheClose(t *testing.T) {
	for _, d := range deployments {
		t.Run(d.name, func(t *testing.T) {
			addrs := d.addrs(t)
			client, err := redisstore.NewClient(addrs, 0)
			require.NoError(t, err)
			defer client.Close()
			plain, _ := newStore(t, client)
			create(t, plain, time.Now(), "") // the client's own goroutines start
			before := runtime.NumGoroutine()
			s, err := redisstore.New(client, redisstore.Options{Prefix: redistest.Prefix(t), Cache: &redisstore.CacheOptions{}})
			require.NoError(t, err)
			require.True(t, redisstore.WaitTracking(s, trackTimeout))
			now := time.Now()
			id := create(t, s, now, "", "k", "v")
			require.NoError(t, s.Close())
			assert.False(t, s.CacheStats().Tracking)
			rec, err := s.Load(context.Background(), id, lo(now))
			require.NoError(t, err)
			assert.Equal(t, "v", string(rec.Values["k"]))
			_, ok := until(5*time.Second, func() bool { return runtime.NumGoroutine() <= before })
			assert.True(t, ok, "goroutines: %d before, %d after Close", before, runtime.NumGoroutine())
		})
	}
}

// No fill outlives the write that follows it: while another process
// writes a session as fast as it can, readers in this process load it in
// a loop (filling, hitting, refusing fills raced by invalidations); once
// the last write has returned, they see it within the delivery time, not
// only once MaxStaleness (a minute here) ends an entry filled with an
// older read.
func TestCacheNoStaleFillUnderWrites(t *testing.T) {
	for _, d := range deployments {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			addrs, prefix := d.addrs(t), redistest.Prefix(t)
			co := redisstore.CacheOptions{MaxStaleness: time.Minute}
			a, b := newProcess(t, addrs, prefix, co), newProcess(t, addrs, prefix, co)
			now := time.Now()
			for round := range 5 {
				id := create(t, b.s, now, "", "n", "0")
				stop := make(chan struct{})
				done := make(chan struct{})
				for range 2 {
					go func() {
						defer func() { done <- struct{}{} }()
						for {
							select {
							case <-stop:
								return
							default:
							}
							_, _ = a.s.Load(context.Background(), id, lo(now))
						}
					}()
				}
				const writes = 300
				for i := 1; i <= writes; i++ {
					b.set(t, id, "n", strconv.Itoa(i), now)
				}
				want := strconv.Itoa(writes)
				took, ok := until(5*time.Second, func() bool { return a.value(t, id, "n", now) == want })
				close(stop)
				<-done
				<-done
				require.True(t, ok, "round %d: the last write unseen after %v", round, took)
				assert.Less(t, took, time.Second, "round %d", round)
			}
			st := a.s.CacheStats()
			t.Logf("%s: %d hits, %d misses, %d invalidations", d.name, st.Hits, st.Misses, st.Invalidations)
			assert.Positive(t, st.Hits)
		})
	}
}

// A tracking connection that falls silent (here the server pauses every
// client, so the heartbeat's PING goes unanswered, as over a dead network
// path) is given up within two heartbeats: the cache turns off, before
// MaxStaleness would have ended its entries, and tracking comes back
// when the server answers again.
func TestCacheSilentConnection(t *testing.T) {
	srv := redistest.Standalone(t)
	p := newProcess(t, []string{srv.Addr()}, redistest.Prefix(t), redisstore.CacheOptions{MaxStaleness: time.Minute})
	id := create(t, p.s, time.Now(), "", "k", "v")
	p.cached(t, id, time.Now())
	c := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer c.Close()
	const pause = 4 * time.Second
	require.NoError(t, c.Do(context.Background(), "CLIENT", "PAUSE", pause.Milliseconds(), "ALL").Err())
	took, ok := until(pause, func() bool { return !p.s.CacheStats().Tracking })
	require.True(t, ok, "a silent tracking connection was not given up")
	t.Logf("tracking given up %v into the pause", took)
	assert.Zero(t, p.s.CacheStats().Entries)
	require.True(t, redisstore.WaitTracking(p.s, trackTimeout), "tracking never came back after the pause")
}

// A Redis user without the permissions tracking needs (here no Pub/Sub
// channel, Redis 7's default for a new user) gets a store that works,
// with every Load reading Redis, and CacheStats naming the cause.
func TestCacheWithoutPermission(t *testing.T) {
	srv := redistest.Standalone(t)
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer admin.Close()
	require.NoError(t, admin.Do(context.Background(), "ACL", "SETUSER", "app", "on", ">secret", "~*", "+@all", "resetchannels").Err())
	client, err := redisstore.NewClient([]string{srv.Addr()}, 0, func(o *redis.UniversalOptions) {
		o.Username, o.Password = "app", "secret"
	})
	require.NoError(t, err)
	defer client.Close()
	s, err := redisstore.New(client, redisstore.Options{Cache: &redisstore.CacheOptions{}})
	require.NoError(t, err)
	defer s.Close()
	_, ok := until(trackTimeout, func() bool { return s.CacheStats().TrackingError != nil })
	require.True(t, ok, "no tracking error reported")
	t.Logf("TrackingError: %v", s.CacheStats().TrackingError)
	assert.ErrorContains(t, s.CacheStats().TrackingError, "NOPERM")
	now := time.Now()
	id := create(t, s, now, "", "k", "v")
	for range 3 {
		rec, err := s.Load(context.Background(), id, lo(now))
		require.NoError(t, err)
		assert.Equal(t, "v", string(rec.Values["k"]))
	}
	stats := s.CacheStats()
	assert.False(t, stats.Tracking)
	assert.Zero(t, stats.Hits)
	assert.Equal(t, uint64(3), stats.Bypasses)
}
