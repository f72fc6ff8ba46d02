package redisstore_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

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
	for _, d := range []struct {
		name  string
		nodes func(t *testing.T) []string
	}{
		{"Standalone", func(t *testing.T) []string { return []string{redistest.Standalone(t).Addr()} }},
		{"Cluster", func(t *testing.T) []string { return redistest.NewCluster(t).Addrs() }},
	} {
		t.Run(d.name, func(t *testing.T) {
			addrs := d.nodes(t)
			p := newProcess(t, addrs, redistest.Prefix(t), redisstore.CacheOptions{MaxStaleness: time.Minute})
			now := time.Now()
			var ids []string
			for range 10 {
				ids = append(ids, create(t, p.s, now, "", "k", "0"))
			}
			p.cachedAll(t, ids, now)
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
// together) drops the record this process wrote through: two Updates of
// one session in one pipeline, the first marked as this process's, the
// second as another's, leave this process reading the second's value at
// once, not its own first write's, which it would otherwise serve until
// MaxStaleness (a minute here).
func TestCacheFoldedAnnouncement(t *testing.T) {
	for _, d := range deployments {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			addrs, prefix := d.addrs(t), redistest.Prefix(t)
			a := newProcess(t, addrs, prefix, redisstore.CacheOptions{MaxStaleness: time.Minute})
			now := time.Now()
			for round := range 20 {
				id := create(t, a.s, now, "", "k", "v0")
				a.cached(t, id, now)
				a.set(t, id, "k", "v1", now)
				assert.Equal(t, "v1", string(a.cached(t, id, now).Values["k"]), "round %d: the write through", round)
				require.NoError(t, redisstore.FoldedUpdates(context.Background(), a.client, a.s, id, now,
					[]string{"", "00000000000000ff"},
					[]map[string][]byte{{"k": []byte("mine")}, {"k": []byte("theirs")}}))
				took, ok := until(5*time.Second, func() bool { return a.value(t, id, "k", now) == "theirs" })
				require.True(t, ok, "round %d: still %q after %v", round, a.value(t, id, "k", now), took)
				assert.Less(t, took, time.Second, "round %d", round)
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
