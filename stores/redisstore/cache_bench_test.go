package redisstore_test

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/internal/redistest"
	"github.com/sessionkit/sessionkit/stores/memstore"
	"github.com/sessionkit/sessionkit/stores/redisstore"
)

// benchSessions is how many sessions the Load benchmarks spread over (a
// power of two, so that i&mask picks one).
const benchSessions = 1 << 12

// benchID is the i-th ID: 64 hex digits spread like a SHA-256, as
// memstore's benchmarks make them.
func benchID(i uint64) string {
	var b [32]byte
	binary.BigEndian.PutUint64(b[:], i*0x9E3779B97F4A7C15)
	binary.BigEndian.PutUint64(b[8:], i)
	return hex.EncodeToString(b[:])
}

// benchRecord is the record of memstore's benchmarks: a user's session
// with four small values.
func benchRecord(now time.Time, i int) *store.Record {
	return &store.Record{Meta: meta(now, "user"+strconv.Itoa(i%1000)), Values: map[string][]byte{
		"count": []byte("42"), "csrf": []byte("0123456789abcdef"), "flash": []byte("saved"), "theme": []byte("dark"),
	}}
}

// fill creates benchSessions sessions in s and returns their IDs.
func fill(b *testing.B, s store.Store, now time.Time) []string {
	b.Helper()
	ids := make([]string, benchSessions)
	for i := range ids {
		ids[i] = benchID(uint64(i))
		if _, err := s.Create(context.Background(), ids[i], benchRecord(now, i), store.WriteOptions{Now: now, Idle: time.Hour}); err != nil {
			b.Fatal(err)
		}
	}
	return ids
}

// BenchmarkCachedLoad compares, in one run, a Load served by the Redis
// store's near cache with a Load of the in-memory store, on the same
// sessions: inside the touch window, so neither writes. The cache's
// MaxStaleness is a minute here, so that every Load of the run is a hit
// (with the default second, each session is read from Redis once a
// second: a cost per session, not per Load). Each cached run reports the
// Redis round trips its Loads made per Load (none) and the hit ratio.
//
//	go test -run '^$' -bench CachedLoad -benchtime 200ms ./stores/redisstore/
func BenchmarkCachedLoad(b *testing.B) {
	now := time.Now()
	lo := store.LoadOptions{Now: now, Idle: time.Hour, TouchAfter: 15 * time.Minute}
	type target struct {
		name string
		make func(b *testing.B) (store.Store, *process)
	}
	cached := func(addrs func(testing.TB) []string) func(b *testing.B) (store.Store, *process) {
		return func(b *testing.B) (store.Store, *process) {
			p := newProcess(b, addrs(b), redistest.Prefix(b), redisstore.CacheOptions{MaxStaleness: time.Minute})
			return p.s, p
		}
	}
	targets := []target{
		{"memstore", func(b *testing.B) (store.Store, *process) {
			s := memstore.New(memstore.Options{})
			b.Cleanup(func() { s.Close() })
			return s, nil
		}},
		{"redis-standalone", cached(deployments[0].addrs)},
		{"redis-cluster", cached(deployments[1].addrs)},
	}
	for _, tg := range targets {
		for _, parallel := range []bool{false, true} {
			name := tg.name
			if parallel {
				name += "/parallel"
			}
			b.Run(name, func(b *testing.B) {
				s, p := tg.make(b)
				ids := fill(b, s, now)
				for _, id := range ids { // fill the cache
					if _, err := s.Load(context.Background(), id, lo); err != nil {
						b.Fatal(err)
					}
				}
				var before redisstore.CacheStats
				if p != nil {
					p.count.take()
					before = p.s.CacheStats()
				}
				b.ReportAllocs()
				b.ResetTimer()
				if parallel {
					var seed atomic.Uint64
					b.RunParallel(func(pb *testing.PB) {
						i := seed.Add(7919)
						for pb.Next() {
							i++
							if _, err := s.Load(context.Background(), ids[i&(benchSessions-1)], lo); err != nil {
								b.Error(err)
								return
							}
						}
					})
				} else {
					for i := 0; i < b.N; i++ {
						if _, err := s.Load(context.Background(), ids[i&(benchSessions-1)], lo); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.StopTimer()
				if p != nil {
					trips, _ := p.count.take()
					st := p.s.CacheStats()
					hits, misses := st.Hits-before.Hits, st.Misses-before.Misses+st.Bypasses-before.Bypasses
					b.ReportMetric(float64(trips)/float64(b.N), "redis-trips/op")
					b.ReportMetric(float64(hits)/float64(hits+misses), "hit-ratio")
				}
			})
		}
	}
}

// BenchmarkCrossProcess measures what another process waits to see a
// revocation: two processes (clients and stores of their own, one
// prefix); the writer revokes (Delete) a session the reader has cached.
// Each op is one such round. Two delivery times, from the moment the
// writer's Delete returned, at the median and the 99th percentile:
//
//   - inval: until the reader's cache has dropped the entry (the reader
//     waits for that on a channel, leaving the CPU to the servers), after
//     which its next Load reads Redis and finds the session gone, which
//     each round checks;
//   - seen: until a reader that loads the session in a loop, from its
//     cache, finds it gone; that reader spins, and on a machine with
//     fewer cores than servers plus trackers plus reader it takes CPU
//     time from the very processes it waits for, which its p99 shows.
//
// ns/op also counts the session's creation and the reader's fill.
//
//	go test -run '^$' -bench CrossProcess -benchtime 1000x ./stores/redisstore/
func BenchmarkCrossProcess(b *testing.B) {
	for _, d := range deployments {
		for _, mode := range []string{"inval", "seen"} {
			b.Run(d.name+"/"+mode, func(b *testing.B) {
				addrs, prefix := d.addrs(b), redistest.Prefix(b)
				co := redisstore.CacheOptions{MaxStaleness: time.Minute}
				reader, writer := newProcess(b, addrs, prefix, co), newProcess(b, addrs, prefix, co)
				dropped := make(chan string, 64)
				if mode == "inval" {
					redisstore.OnInvalidation(reader.s, func(id string) { dropped <- id })
				}
				gone := func(id string) bool {
					_, err := reader.s.Load(context.Background(), id, lo(time.Now()))
					return errors.Is(err, store.ErrNotFound)
				}
				now := time.Now()
				took := make([]time.Duration, 0, b.N)
				b.ResetTimer()
				for range b.N {
					id := create(b, writer.s, now, "", "k", "v")
					reader.cached(b, id, now)
					for len(dropped) > 0 { // the creation's
						<-dropped
					}
					if _, err := writer.s.Delete(context.Background(), id); err != nil {
						b.Fatal(err)
					}
					start := time.Now()
					if mode == "seen" {
						if _, ok := spin(5*time.Second, func() bool { return gone(id) }); !ok {
							b.Fatal("the revocation never showed")
						}
					} else {
						timeout := time.After(5 * time.Second)
					wait:
						for {
							select {
							case got := <-dropped:
								if got == id {
									break wait
								}
							case <-timeout:
								b.Fatal("no invalidation")
							}
						}
					}
					took = append(took, time.Since(start))
					if !gone(id) {
						b.Fatal("invalidated, yet the revoked session loads")
					}
				}
				b.StopTimer()
				p50, p99 := percentiles(took)
				b.ReportMetric(float64(p50.Microseconds()), "p50-µs")
				b.ReportMetric(float64(p99.Microseconds()), "p99-µs")
			})
		}
	}
}
