package redisstore_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/internal/redistest"
	"github.com/sessionkit/sessionkit/stores/redisstore"
)

// A request that reads and writes a cached session is one round trip: the
// Load is a hit, and the Update leaves its result in the cache, so the
// next Load is a hit too, with the value just written. Redis runs one
// script per request and no read at all (INFO commandstats), although its
// tracking announces each of these writes to this process.
func TestCachedReadWriteIsOneRoundTrip(t *testing.T) {
	for _, d := range ownDeployments {
		t.Run(d.name, func(t *testing.T) {
			addrs := d.addrs(t)
			p, ids, now := cachedProcess(t, addrs, 10, "0")
			before := commandCalls(t, addrs)
			stats := p.s.CacheStats()
			const requests = 500
			for i := range requests {
				id := ids[i%len(ids)]
				p.count.take()
				rec, err := p.s.Load(context.Background(), id, lo(now))
				require.NoError(t, err)
				require.Equal(t, strconv.Itoa(i/len(ids)), string(rec.Values["k"]), "request %d read", i)
				require.NoError(t, p.s.Update(context.Background(), id, &store.Change{
					Now: now, Idle: idle, Set: map[string][]byte{"k": []byte(strconv.Itoa(i/len(ids) + 1))},
				}))
				trips, cmds := p.count.take()
				require.Equal(t, 1, trips, "request %d sent %v", i, cmds)
			}
			after := commandCalls(t, addrs)
			got := p.s.CacheStats()
			assert.Equal(t, stats.Hits+requests, got.Hits)
			assert.Equal(t, stats.Misses, got.Misses)
			assert.Equal(t, before["hgetall"], after["hgetall"], "reads Redis ran")
			assert.Equal(t, int64(requests), after["evalsha"]-before["evalsha"], "scripts Redis ran")
			t.Logf("%d read-write requests: commands by name before %v, after %v", requests, before, after)
		})
	}
}

// An announcement that folds another process's write of a session into
// this process's own (Redis announces the changes of one event-loop pass
// together) drops the record this process wrote through: an Update of
// one session marked as this process's and, in the same pipeline, a
// write marked as another's (an Update, a Delete) leave this process
// reading the other's at once, not its own write, which it would
// otherwise serve until MaxStaleness (a minute here). So does a change
// of this process's own that does not write through (its Delete), and,
// with NoWriteThrough, a change that nobody marked.
func TestCacheFoldedAnnouncement(t *testing.T) {
	for _, d := range deployments {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			addrs, prefix := d.addrs(t), redistest.Prefix(t)
			a := newProcess(t, addrs, prefix, redisstore.CacheOptions{MaxStaleness: time.Minute})
			plain := newProcess(t, addrs, prefix, redisstore.CacheOptions{MaxStaleness: time.Minute, NoWriteThrough: true})
			const other = "00000000000000ff"
			mine := map[string][]byte{"k": []byte("mine")}
			theirs := map[string][]byte{"k": []byte("theirs")}
			gone := "error: " + store.ErrNotFound.Error()
			for _, c := range []struct {
				name   string
				p      *process
				writes []redisstore.Folded
				want   string
			}{
				{"another's Update", a, []redisstore.Folded{{Set: mine}, {Tag: other, Set: theirs}}, "theirs"},
				{"another's Delete", a, []redisstore.Folded{{Set: mine}, {Tag: other, Delete: true}}, gone},
				{"another's Update first", a, []redisstore.Folded{{Tag: other, Set: theirs}, {Set: mine}}, "mine"},
				// As a Delete of this process's would be announced if it
				// failed here (a timeout) and then landed: dropped, as
				// nothing in this process dropped it after.
				{"its own Delete, failed", a, []redisstore.Folded{{Set: mine}, {Tag: "plain", Delete: true}}, gone},
				{"an unmarked Delete, NoWriteThrough", plain, []redisstore.Folded{{Set: mine}, {Tag: "-", Delete: true}}, gone},
			} {
				for round := range 10 {
					p := c.p
					id := create(t, p.s, time.Now(), "", "k", "v0")
					now := time.Now()
					p.cached(t, id, now)
					p.set(t, id, "k", "v1", now)
					require.Equal(t, "v1", string(p.cached(t, id, now).Values["k"]), "%s, round %d: the write", c.name, round)
					require.NoError(t, redisstore.FoldedWrites(context.Background(), p.client, p.s, id, now, c.writes))
					took, ok := until(5*time.Second, func() bool { return p.value(t, id, "k", now) == c.want })
					require.True(t, ok, "%s, round %d: still %q after %v", c.name, round, p.value(t, id, "k", now), took)
					assert.Less(t, took, time.Second, "%s, round %d", c.name, round)
				}
			}
		})
	}
}

// Many writes of one session at once, from this process (which writes
// through) and another (whose writes this one is told of): once they
// stop, this process reads exactly what Redis holds, within the
// invalidation delivery time, whatever order the writes and their
// acknowledgements came in.
func TestCacheWriteThroughUnderConcurrentWrites(t *testing.T) {
	for _, d := range deployments {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			addrs, prefix := d.addrs(t), redistest.Prefix(t)
			co := redisstore.CacheOptions{MaxStaleness: time.Minute}
			a, b := newProcess(t, addrs, prefix, co), newProcess(t, addrs, prefix, co)
			now := time.Now()
			for round := range 5 {
				id := create(t, a.s, now, "", "k", "0")
				a.cached(t, id, now)
				var wg sync.WaitGroup
				for w := range 4 {
					p := a
					if w == 3 {
						p = b
					}
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := range 150 {
							_, _ = p.s.Load(context.Background(), id, lo(now))
							// Every writer writes the same key, so that
							// the last write on the server decides it.
							err := p.s.Update(context.Background(), id, &store.Change{
								Now: now, Idle: idle,
								Set: map[string][]byte{"k": []byte(fmt.Sprintf("%d.%d", w, i)), fmt.Sprint("w", w): []byte(strconv.Itoa(i))},
							})
							if !assert.NoError(t, err) {
								return
							}
						}
					}()
				}
				wg.Wait()
				truth := newProcess(t, addrs, prefix, co) // a fresh cache: its first Load reads Redis
				want, err := truth.s.Load(context.Background(), id, lo(now))
				require.NoError(t, err)
				took, ok := until(5*time.Second, func() bool {
					got, err := a.s.Load(context.Background(), id, lo(now))
					return err == nil && assert.ObjectsAreEqual(want.Values, got.Values)
				})
				got, _ := a.s.Load(context.Background(), id, lo(now))
				require.True(t, ok, "round %d: reads %v, Redis holds %v", round, got.Values, want.Values)
				assert.Less(t, took, time.Second, "round %d", round)
			}
			st := a.s.CacheStats()
			t.Logf("%s: %d hits, %d misses, %d invalidations", d.name, st.Hits, st.Misses, st.Invalidations)
		})
	}
}

// An Update whose user index move fails (here the expiry key holds a
// string, so its ZADD is refused) reports the failure and leaves nothing
// of its own in the cache: the next Load reads Redis. The manager keeps
// a failed change's values map and may still write into it (a handler's
// late Put), which a written-through record sharing that map would then
// serve, never written to Redis.
func TestCacheFailedUpdateIsNotWrittenThrough(t *testing.T) {
	addrs := []string{redistest.SharedStandalone(t).Addr()}
	prefix := redistest.Prefix(t)
	p := newProcess(t, addrs, prefix, redisstore.CacheOptions{MaxStaleness: time.Minute})
	ctx := context.Background()
	now := time.Now()
	const user = "carol"
	id := create(t, p.s, now, user)
	rec := p.cached(t, id, now)
	require.Empty(t, rec.Values)
	_, expiry := redisstore.Options{Prefix: prefix}.UserKeys(user)
	require.NoError(t, p.client.Set(ctx, expiry, "not a sorted set", 0).Err())

	set := map[string][]byte{"k": []byte("written")}
	err := p.s.Update(ctx, id, &store.Change{Now: now, Idle: idle, UserID: user, ExpiresAt: rec.Meta.ExpiresAt, Set: set})
	require.Error(t, err)
	set["k"] = []byte("never written")
	assert.Equal(t, "written", p.value(t, id, "k", now), "what Redis holds")
}

// During a Cluster slot migration, an Update of a session in that slot
// still succeeds, unmarked (its marker, a key that is not there, may not
// be written on the migrating node), and drops the cached record rather
// than write through.
func TestCacheUpdateDuringSlotMigration(t *testing.T) {
	cl := redistest.NewCluster(t)
	p := newProcess(t, cl.Addrs(), redistest.Prefix(t), redisstore.CacheOptions{MaxStaleness: time.Minute})
	ctx := context.Background()
	now := time.Now()
	id := create(t, p.s, now, "", "k", "v0")
	p.cached(t, id, now)

	cc := p.client.(*redis.ClusterClient)
	key := redisstore.Options{Prefix: p.prefix}.SessionKey(id)
	slot, err := cc.ClusterKeySlot(ctx, key).Result()
	require.NoError(t, err)
	src, err := cc.MasterForKey(ctx, key)
	require.NoError(t, err)
	var dst *redis.Client
	for _, addr := range cl.Addrs() {
		if addr != src.Options().Addr && dst == nil {
			dst = redis.NewClient(&redis.Options{Addr: addr})
		}
	}
	require.NotNil(t, dst)
	defer dst.Close()
	srcID, err := src.Do(ctx, "cluster", "myid").Text()
	require.NoError(t, err)
	dstID, err := dst.Do(ctx, "cluster", "myid").Text()
	require.NoError(t, err)
	require.NoError(t, dst.Do(ctx, "cluster", "setslot", slot, "importing", srcID).Err())
	require.NoError(t, src.Do(ctx, "cluster", "setslot", slot, "migrating", dstID).Err())
	defer func() {
		for _, c := range []*redis.Client{src, dst} {
			assert.NoError(t, c.Do(ctx, "cluster", "setslot", slot, "stable").Err())
		}
	}()

	before := p.s.CacheStats().Hits
	p.set(t, id, "k", "v1", now)
	assert.Equal(t, "v1", p.value(t, id, "k", now))
	assert.Equal(t, before, p.s.CacheStats().Hits, "the Load after the Update read Redis")
}

// A Cluster client that reads from replicas does not write through, and
// nor does a store with NoWriteThrough: the Load after an Update reads
// Redis. (A replica applies a write after its master acknowledged it,
// so only the replica's own announcement can refuse a fill it answered
// before; passing over this store's own announcements would let that
// fill stand.)
func TestCacheNoWriteThrough(t *testing.T) {
	addrs := redistest.SharedCluster(t).Addrs()
	for _, c := range []struct {
		name    string
		options redis.ClusterOptions
		cache   redisstore.CacheOptions
	}{
		{"replica reads", redis.ClusterOptions{Addrs: addrs, ReadOnly: true}, redisstore.CacheOptions{MaxStaleness: time.Minute}},
		{"NoWriteThrough", redis.ClusterOptions{Addrs: addrs}, redisstore.CacheOptions{MaxStaleness: time.Minute, NoWriteThrough: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := newProcessOn(t, redis.NewClusterClient(&c.options), redistest.Prefix(t), c.cache)
			s := p.s
			now := time.Now()
			id := create(t, s, now, "", "k", "v0")
			for i := range 5 {
				p.cached(t, id, now)
				want := "v" + strconv.Itoa(i+1)
				p.set(t, id, "k", want, now)
				before := s.CacheStats().Hits
				assert.Equal(t, want, p.value(t, id, "k", now))
				assert.Equal(t, before, s.CacheStats().Hits, "round %d: the Load after the Update was a hit", i)
			}
		})
	}
}

// Every change a Delete makes to a session key is marked, the removal
// of the forwarding entry it walked through included: a Renew's undo
// may have made that entry a live record again, whose deletion another
// process's cache must not take for its own write-through. Here a
// tracking connection of the test's own, on the prefix, collects the
// announcements of a Delete through a forwarding entry: each that names
// a session key names a marker for it.
func TestDeleteMarksEveryChange(t *testing.T) {
	addr := redistest.SharedStandalone(t).Addr()
	prefix := redistest.Prefix(t)
	ctx := context.Background()
	o := &redis.Options{Addr: addr, Protocol: 2, PoolSize: 1}
	o.OnConnect = func(ctx context.Context, cn *redis.Conn) error {
		id, err := cn.ClientID(ctx).Result()
		if err != nil {
			return err
		}
		return cn.ClientTrackingOn(ctx, &redis.ClientTrackingOptions{Redirect: id, Bcast: true, Prefixes: []string{prefix}}).Err()
	}
	tracker := redis.NewClient(o)
	t.Cleanup(func() { tracker.Close() })
	ps := tracker.Subscribe(ctx, "__redis__:invalidate")
	t.Cleanup(func() { ps.Close() })
	_, err := ps.Receive(ctx)
	require.NoError(t, err)
	// upTo writes a sentinel key under the prefix and collects the
	// announcements before its own: those of what was done before it, as
	// Redis announces in order.
	plain := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { plain.Close() })
	sentinels := 0
	upTo := func() [][]string {
		sentinels++
		sentinel := prefix + "sentinel" + strconv.Itoa(sentinels)
		require.NoError(t, plain.Set(ctx, sentinel, "", time.Minute).Err())
		var out [][]string
		for {
			msg, err := ps.ReceiveTimeout(ctx, 10*time.Second)
			require.NoError(t, err, "the sentinel's announcement never came")
			if m, ok := msg.(*redis.Message); ok {
				if slices.Contains(m.PayloadSlice, sentinel) {
					return out
				}
				out = append(out, m.PayloadSlice)
			}
		}
	}

	client, err := redisstore.NewClient([]string{addr}, 0)
	require.NoError(t, err)
	t.Cleanup(func() { client.Close() })
	s, err := redisstore.New(client, redisstore.Options{Prefix: prefix})
	require.NoError(t, err)
	now := time.Now()
	old := create(t, s, now, "", "k", "v")
	next := newID(t)
	_, err = s.Renew(ctx, old, next, &store.Change{Now: now, Idle: idle}, store.WriteOptions{Now: now, Idle: idle, Grace: time.Minute})
	require.NoError(t, err)
	upTo()

	existed, err := s.Delete(ctx, old)
	require.NoError(t, err)
	require.True(t, existed)
	got := upTo()
	require.NotEmpty(t, got, "the Delete was announced")
	keys := map[string]bool{}
	for _, keysOf := range got {
		for _, k := range keysOf {
			if !strings.Contains(k, "{") {
				keys[k] = true
				marked := false
				for _, m := range keysOf {
					marked = marked || strings.Contains(m, "{"+k+"}")
				}
				assert.True(t, marked, "%s announced without a marker in %v", k, keysOf)
			}
		}
	}
	opts := redisstore.Options{Prefix: prefix}
	assert.True(t, keys[opts.SessionKey(old)], "the forwarding entry's removal was announced")
	assert.True(t, keys[opts.SessionKey(next)], "the session's deletion was announced")
}
