package bench

import (
	"context"
	"errors"
	"math"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/stores/redisstore"
)

// BenchmarkCrossProcess measures how long another process goes on
// serving a revoked session from its near cache: two sessionkit managers,
// each on a client and a cached redisstore of its own (so two caches, two
// sets of tracking connections), on one Redis, standalone and a
// three-master Cluster. Each op is one round: the writer issues a token
// (a logged-in session), the reader validates it twice (the second from
// its cache, which the round checks), the writer revokes it
// (DestroyToken), and from the moment that returns the reader validates
// it in a loop until it is refused. p50-µs and p99-µs are that wait, at
// the median and the 99th percentile of the rounds. The reader spins
// (yielding the processor between tries), so on a machine with few cores
// it takes CPU from the server and the tracking connections it waits for.
// ns/op counts the whole round.
func BenchmarkCrossProcess(b *testing.B) {
	for _, d := range []struct {
		name string
		srv  *redisServer
	}{{"standalone", startRedis(b)}, {"cluster", startRedisCluster(b)}} {
		b.Run(d.name, func(b *testing.B) {
			srv := d.srv
			srv.flush(b)
			writer, _ := cachedManager(b, srv)
			reader, rst := cachedManager(b, srv)
			ctx := context.Background()
			client := core.Client{UserAgent: "bench/1.0", IP: "192.0.2.1"}
			took := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				token, err := writer.IssueToken(ctx, "user", core.LoginOptions{}, client)
				if err != nil {
					b.Fatal(err)
				}
				// Until the reader serves the session from its cache: a fill
				// is refused when the invalidation of the writer's own
				// Create reaches the reader during it, so the first reads
				// may all go to Redis.
				for try := 0; ; try++ {
					before := rst.CacheStats().Hits
					if _, err := reader.ValidateToken(ctx, token, client); err != nil {
						b.Fatalf("the reader does not see the new session: %v", err)
					}
					if rst.CacheStats().Hits > before {
						break
					}
					if try == 100 {
						b.Fatal("the reader's validations were never served from its cache")
					}
				}
				if err := writer.DestroyToken(ctx, token, client); err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				for {
					_, err := reader.ValidateToken(ctx, token, client)
					if errors.Is(err, core.ErrInvalidToken) {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					if time.Since(start) > 5*time.Second {
						b.Fatal("the revocation never reached the reader")
					}
					runtime.Gosched()
				}
				took = append(took, time.Since(start))
			}
			b.StopTimer()
			b.ReportMetric(percentile(took, 0.50), "p50-µs")
			b.ReportMetric(percentile(took, 0.99), "p99-µs")
		})
	}
}

// cachedManager is a sessionkit manager on a client and a redisstore with
// the near cache on (its defaults) of its own, once tracking is up.
func cachedManager(b *testing.B, srv *redisServer) (*core.Manager, *redisstore.Store) {
	c, err := redisstore.NewClient(srv.addrs, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	st, err := redisstore.New(c, redisstore.Options{Cache: &redisstore.CacheOptions{}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	waitTracking(b, st)
	return manager(b, st), st
}

// percentile is the nearest-rank p-th percentile of d, in microseconds.
func percentile(d []time.Duration, p float64) float64 {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(math.Ceil(p*float64(len(s)))) - 1
	return float64(s[max(i, 0)].Nanoseconds()) / 1e3
}
