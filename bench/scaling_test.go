package bench

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/stores/memstore"
)

// BenchmarkScaling measures how sessionkit's costs grow: with the number of
// values in a session, the number of sessions of a user, and the number of
// sessions a memory store holds.
func BenchmarkScaling(b *testing.B) {
	b.Run("memory", func(b *testing.B) {
		scalingStore(b, func(b *testing.B) *core.Manager { return manager(b, nil) })
		b.Run("Hold1M", benchHoldMillion)
	})
	b.Run("redis", func(b *testing.B) {
		srv := startRedis(b)
		scalingStore(b, func(b *testing.B) *core.Manager {
			m, _ := sessionkitRedis(b, srv)
			return m
		})
	})
}

// scalingStore runs the store-independent scaling benchmarks on the
// managers mk returns.
func scalingStore(b *testing.B, mk func(b *testing.B) *core.Manager) {
	for _, keys := range []int{1, 100} {
		b.Run("ReadKeyOf"+strconv.Itoa(keys), func(b *testing.B) {
			benchReadKeyOf(b, mk(b), keys)
		})
	}
	for _, n := range []int{10, 1000} {
		b.Run("ListUser"+strconv.Itoa(n), func(b *testing.B) {
			benchListUser(b, mk(b), n, nil)
		})
	}
}

// benchReadKeyOf is the net/http ReadOnly request on a session holding
// keys values: valueKey and keys-1 others of 16 bytes each.
func benchReadKeyOf(b *testing.B, m *core.Manager, keys int) {
	s := nethttpSessionkit(m)
	cookie := newSession(b, s)
	ctx := context.Background()
	req := &core.Request{Cookie: []string{cookie}}
	sess, err := m.Load(ctx, req)
	if err != nil || sess.IsNew() {
		b.Fatalf("loading the session: new %v, %v", sess != nil && sess.IsNew(), err)
	}
	for i := 1; i < keys; i++ {
		if err := sess.Put("key"+strconv.Itoa(i), "0123456789abcdef"); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := m.Commit(ctx, sess); err != nil {
		b.Fatal(err)
	}
	if sess, err = m.Load(ctx, req); err != nil || len(sess.Keys()) != keys {
		b.Fatalf("the session holds %d keys (%v), want %d", len(sess.Keys()), err, keys)
	}
	r := s.runner(routeGet, cookie)
	r.run()
	if res := r.response(); res.code != 200 || res.body != valueWant {
		b.Fatalf("GET /get: %d %q", res.code, res.body)
	}
	var failed int64
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.run()
		if !r.ok() {
			failed++
		}
	}
	b.StopTimer()
	bad(b, failed)
}

// benchListUser lists the sessions of a user who has n of them, measuring
// the timed loop with mt (nil: time and allocations only). It lifts the
// per-user cap (64 by default), since it measures a user with more.
func benchListUser(b *testing.B, m *core.Manager, n int, mt *meter) {
	cfg := m.Config()
	cfg.MaxSessionsPerUser = -1
	m, err := core.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = m.Close() })
	ctx := context.Background()
	const user = "alice"
	for i := 0; i < n; i++ {
		s, err := m.Load(ctx, &core.Request{UserAgent: "bench/1.0", RemoteAddr: "192.0.2.1:1234"})
		if err != nil {
			b.Fatal(err)
		}
		s.Login(user)
		if _, err := m.Commit(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
	list, err := m.ListSessions(ctx, user)
	if err != nil || len(list) != n {
		b.Fatalf("ListSessions: %d sessions, %v; want %d", len(list), err, n)
	}
	mt.begin(b)
	for i := 0; i < b.N; i++ {
		if _, err := m.ListSessions(ctx, user); err != nil {
			b.Fatal(err)
		}
	}
	mt.end(b)
}

// ---- one million sessions in the memory store ----

const million = 1_000_000

// sweepGate is a memstore clock that lets the janitor start a sweep only
// when the benchmark allows one. The janitor reads the clock exactly once,
// at the start of each sweep, and nothing else reads it here (every call
// passes its own Now), so the moment the janitor asks again is the end of
// the sweep before.
type sweepGate struct {
	mu      sync.Mutex
	cond    *sync.Cond
	allowed int  // sweeps that may start
	waiting bool // the janitor is blocked at the start of a sweep
	open    bool // closing: let everything through
	now     time.Time
}

func newSweepGate(now time.Time) *sweepGate {
	g := &sweepGate{now: now}
	g.cond = sync.NewCond(&g.mu)
	return g
}

func (g *sweepGate) clock() time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	for g.allowed == 0 && !g.open {
		g.waiting = true
		g.cond.Broadcast()
		g.cond.Wait()
	}
	g.waiting = false
	if g.allowed > 0 {
		g.allowed--
	}
	return g.now
}

// sweep lets n sweeps run and waits until they are done: the janitor is
// back at the gate with nothing allowed.
func (g *sweepGate) sweep(n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for !g.waiting { // the janitor reached the gate before
		g.cond.Wait()
	}
	g.allowed = n
	g.cond.Broadcast()
	for g.allowed > 0 || !g.waiting {
		g.cond.Wait()
	}
}

func (g *sweepGate) release() {
	g.mu.Lock()
	g.open = true
	g.cond.Broadcast()
	g.mu.Unlock()
}

// sessionID is the i-th test ID: hex SHA-256, as the manager makes them.
func sessionID(i uint64) string {
	var in [8]byte
	binary.BigEndian.PutUint64(in[:], i)
	sum := sha256.Sum256(in[:])
	return hex.EncodeToString(sum[:])
}

// record is an anonymous session as the manager creates it: the four
// timestamps and one small value (an int, two bytes encoded).
func record(now time.Time) *store.Record {
	return &store.Record{
		Meta:   store.Meta{CreatedAt: now, IssuedAt: now, LastSeen: now, ExpiresAt: now.Add(core.DefaultLifetime)},
		Values: map[string][]byte{counterKey: {'i', 2}},
	}
}

func heapInUse() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// benchHoldMillion fills a memstore with a million sessions and reports
// what each takes in memory (bytes/session: heap after a GC, store and IDs
// included) and what a janitor sweep costs: ms/sweep for a sweep that finds
// nothing expired (the usual case: a read-locked scan of every shard), and
// ms/sweep-expire-10pct for one that removes 100,000 expired sessions.
// ns/op is the Create cost while filling.
func benchHoldMillion(b *testing.B) {
	ctx := context.Background()
	now := time.Now()
	gate := newSweepGate(now)
	before := heapInUse()
	// SweepInterval 1ns: the janitor is always due, and the gate decides.
	// No bounds: this measures a store that holds a million sessions, ten
	// times the default bound, which would evict all but 100,000.
	st := memstore.New(memstore.Options{MaxSessions: -1, MaxBytes: -1, SweepInterval: time.Nanosecond, Now: gate.clock})
	defer func() { gate.release(); _ = st.Close() }()
	idle := core.DefaultIdleTimeout
	wo := store.WriteOptions{Now: now.Add(-time.Minute), Idle: idle}
	ids := make([]string, million)
	for i := range ids {
		ids[i] = sessionID(uint64(i))
	}
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	b.ResetTimer()
	start := time.Now()
	for i, id := range ids {
		if _, err := st.Create(ctx, id, record(wo.Now), wo); err != nil {
			b.Fatal(err)
		}
		ids[i] = ""
	}
	fill := time.Since(start)
	b.StopTimer()
	runtime.ReadMemStats(&ms1)
	allocated := runtime.MemStats{TotalAlloc: ms1.TotalAlloc - ms0.TotalAlloc, Mallocs: ms1.Mallocs - ms0.Mallocs}
	ids = nil
	if st.Len() != million {
		b.Fatalf("store holds %d sessions, want %d", st.Len(), million)
	}
	held := heapInUse()
	b.ReportMetric(float64(held-before)/million, "bytes/session")
	// The per-op figures are per Create, whatever b.N.
	b.ReportMetric(float64(fill.Nanoseconds())/million, "ns/op")
	b.ReportMetric(float64(allocated.TotalAlloc)/million, "B/op")
	b.ReportMetric(float64(allocated.Mallocs)/million, "allocs/op")

	// Sweeps that find nothing to remove.
	const sweeps = 5
	t0 := time.Now()
	gate.sweep(sweeps)
	b.ReportMetric(float64(time.Since(t0).Microseconds())/1000/sweeps, "ms/sweep")
	if st.Len() != million {
		b.Fatalf("a sweep removed live sessions: %d left", st.Len())
	}

	// A sweep that removes 100,000 sessions whose idle deadline passed:
	// created 31 minutes before the gate's clock with the default 30m idle.
	const expiring = million / 10
	old := store.WriteOptions{Now: now.Add(-31 * time.Minute), Idle: idle}
	for i := 0; i < expiring; i++ {
		if _, err := st.Create(ctx, sessionID(uint64(million+i)), record(old.Now), old); err != nil {
			b.Fatal(err)
		}
	}
	if st.Len() != million+expiring {
		b.Fatalf("store holds %d sessions, want %d", st.Len(), million+expiring)
	}
	t0 = time.Now()
	gate.sweep(1)
	b.ReportMetric(float64(time.Since(t0).Microseconds())/1000, "ms/sweep-expire-10pct")
	if st.Len() != million {
		b.Fatalf("after the sweep the store holds %d sessions, want %d", st.Len(), million)
	}
	runtime.KeepAlive(st)
}
