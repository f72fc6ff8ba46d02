package memstore_test

import (
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/stores/memstore"
)

const benchSessions = 1 << 14 // a power of two, so i&mask picks one

// benchID makes the i-th ID: 64 hex digits spread like a SHA-256 (the
// multiplier scatters consecutive i across shards), without crypto/rand's
// cost inside the timed loop.
func benchID(i uint64) string {
	var b [32]byte
	binary.BigEndian.PutUint64(b[:], i*0x9E3779B97F4A7C15)
	binary.BigEndian.PutUint64(b[8:], i)
	return hex.EncodeToString(b[:])
}

// benchStore holds benchSessions sessions of four small values each.
func benchStore(b *testing.B, now time.Time) (*memstore.Store, []string) {
	b.Helper()
	s := memstore.New(memstore.Options{})
	b.Cleanup(func() { s.Close() })
	ids := make([]string, benchSessions)
	for i := range ids {
		ids[i] = benchID(uint64(i))
		rec := &store.Record{Meta: meta(now, "user"+strconv.Itoa(i%1000)), Values: map[string][]byte{
			"count": []byte("42"), "csrf": []byte("0123456789abcdef"), "flash": []byte("saved"), "theme": []byte("dark"),
		}}
		if _, err := s.Create(ctx, ids[i], rec, store.WriteOptions{Now: now, Idle: time.Hour}); err != nil {
			b.Fatal(err)
		}
	}
	return s, ids
}

// Load inside the touch window: a read lock and one allocation.
func BenchmarkLoad(b *testing.B) {
	now := time.Now()
	s, ids := benchStore(b, now)
	lo := store.LoadOptions{Now: now, Idle: time.Hour, TouchAfter: 15 * time.Minute}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Load(ctx, ids[i&(benchSessions-1)], lo); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadRandomOrder is BenchmarkLoad visiting the sessions in a
// random order, as requests do, rather than in the order they were made,
// which lets the hardware prefetch entries laid out in that order.
func BenchmarkLoadRandomOrder(b *testing.B) {
	now := time.Now()
	s, ids := benchStore(b, now)
	perm := rand.New(rand.NewPCG(1, 2)).Perm(len(ids))
	opts := store.LoadOptions{Now: now, Idle: time.Hour, TouchAfter: time.Hour}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Load(ctx, ids[perm[i&(benchSessions-1)]], opts); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoadParallel(b *testing.B) {
	now := time.Now()
	s, ids := benchStore(b, now)
	lo := store.LoadOptions{Now: now, Idle: time.Hour, TouchAfter: 15 * time.Minute}
	var seed atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := seed.Add(7919)
		for pb.Next() {
			i++
			if _, err := s.Load(ctx, ids[i&(benchSessions-1)], lo); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// Load that extends the idle deadline every time: the write-lock path.
func BenchmarkLoadTouch(b *testing.B) {
	now := time.Now()
	s, ids := benchStore(b, now)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		lo := store.LoadOptions{Now: now.Add(time.Duration(i+1) * time.Nanosecond), Idle: time.Hour}
		if _, err := s.Load(ctx, ids[i&(benchSessions-1)], lo); err != nil {
			b.Fatal(err)
		}
	}
}

// Update of one key: the copy-on-write map rebuild.
func BenchmarkUpdate(b *testing.B) {
	now := time.Now()
	s, ids := benchStore(b, now)
	val := []byte("43")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ch := &store.Change{Now: now, Idle: time.Hour, Set: map[string][]byte{"count": val}}
		if err := s.Update(ctx, ids[i&(benchSessions-1)], ch); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdateRandomOrder is BenchmarkUpdate over the sessions in a
// random order, as requests come, rather than in the order they were made.
func BenchmarkUpdateRandomOrder(b *testing.B) {
	now := time.Now()
	s, ids := benchStore(b, now)
	perm := rand.New(rand.NewPCG(1, 2)).Perm(len(ids))
	val := []byte("43")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ch := &store.Change{Now: now, Idle: time.Hour, Set: map[string][]byte{"count": val}}
		if err := s.Update(ctx, ids[perm[i&(benchSessions-1)]], ch); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUpdateParallel(b *testing.B) {
	now := time.Now()
	s, ids := benchStore(b, now)
	val := []byte("43")
	var seed atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := seed.Add(7919)
		for pb.Next() {
			i++
			ch := &store.Change{Now: now, Idle: time.Hour, Set: map[string][]byte{"count": val}}
			if err := s.Update(ctx, ids[i&(benchSessions-1)], ch); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// Create of an anonymous session into a store that is not full (no
// bounds, so that a long run never reaches them); the ID string is made in
// the loop.
func BenchmarkCreate(b *testing.B) {
	now := time.Now()
	s := memstore.New(memstore.Options{MaxSessions: -1, MaxBytes: -1})
	b.Cleanup(func() { s.Close() })
	wo := store.WriteOptions{Now: now, Idle: time.Hour}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rec := &store.Record{Meta: meta(now, ""), Values: map[string][]byte{"count": []byte("1")}}
		if _, err := s.Create(ctx, benchID(uint64(i)), rec, wo); err != nil {
			b.Fatal(err)
		}
	}
}

// Create for a user under a cap of 5: user index, eviction plan, several
// shard locks.
func BenchmarkCreateCapped(b *testing.B) {
	now := time.Now()
	s := memstore.New(memstore.Options{MaxSessions: -1, MaxBytes: -1})
	b.Cleanup(func() { s.Close() })
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m := meta(now, "user"+strconv.Itoa(i%1000))
		m.CreatedAt = now.Add(time.Duration(i))
		rec := &store.Record{Meta: m, Values: map[string][]byte{"count": []byte("1")}}
		if _, err := s.Create(ctx, benchID(uint64(i)), rec, store.WriteOptions{Now: now, Idle: time.Hour, MaxPerUser: 5}); err != nil {
			b.Fatal(err)
		}
	}
}

// Create of an anonymous session into a default store that is full: each
// one evicts the least recently used anonymous session. The store is
// filled with DefaultMaxSessions sessions before the timer starts, half of
// them read since (a second chance for each of those).
func BenchmarkCreateWhenFull(b *testing.B) {
	now := time.Now()
	s := memstore.New(memstore.Options{})
	b.Cleanup(func() { s.Close() })
	wo := store.WriteOptions{Now: now, Idle: time.Hour}
	lo := store.LoadOptions{Now: now, Idle: time.Hour, TouchAfter: time.Hour}
	for i := range memstore.DefaultMaxSessions {
		id := benchID(uint64(i))
		rec := &store.Record{Meta: meta(now, ""), Values: map[string][]byte{"count": []byte("1")}}
		if _, err := s.Create(ctx, id, rec, wo); err != nil {
			b.Fatal(err)
		}
		if i%2 == 0 {
			if _, err := s.Load(ctx, id, lo); err != nil {
				b.Fatal(err)
			}
		}
	}
	if s.Len() != memstore.DefaultMaxSessions {
		b.Fatalf("filled to %d sessions, want %d", s.Len(), memstore.DefaultMaxSessions)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rec := &store.Record{Meta: meta(now, ""), Values: map[string][]byte{"count": []byte("1")}}
		if _, err := s.Create(ctx, benchID(uint64(memstore.DefaultMaxSessions+i)), rec, wo); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if s.Len() != memstore.DefaultMaxSessions {
		b.Fatalf("%d sessions after the timed loop, want %d", s.Len(), memstore.DefaultMaxSessions)
	}
}
