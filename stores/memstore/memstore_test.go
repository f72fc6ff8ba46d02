package memstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	mrand "math/rand/v2"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/stores/memstore"
	"github.com/sessionkit/sessionkit/stores/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s := memstore.New(memstore.Options{})
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// With a single shard every multi-record operation finds its records in
// one shard, the path a many-shard store takes only by chance.
func TestConformanceOneShard(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s := memstore.New(memstore.Options{Shards: 1, SweepInterval: time.Millisecond})
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// clock is an injectable Now that counts its calls.
type clock struct {
	now   atomic.Int64 // UnixNano
	calls atomic.Int64
}

func newClock(t time.Time) *clock {
	c := &clock{}
	c.now.Store(t.UnixNano())
	return c
}

func (c *clock) Now() time.Time {
	c.calls.Add(1)
	return time.Unix(0, c.now.Load())
}

func (c *clock) advance(d time.Duration) { c.now.Add(int64(d)) }

func newID(t testing.TB) string {
	var b [32]byte
	_, err := rand.Read(b[:])
	require.NoError(t, err)
	return hex.EncodeToString(b[:])
}

func meta(now time.Time, user string) store.Meta {
	return store.Meta{UserID: user, CreatedAt: now, IssuedAt: now, LastSeen: now, ExpiresAt: now.Add(24 * time.Hour)}
}

var ctx = context.Background()

// anon creates an anonymous session with one small value and returns its ID.
func anon(t testing.TB, s *memstore.Store, now time.Time) string {
	t.Helper()
	id := newID(t)
	_, err := s.Create(ctx, id, &store.Record{Meta: meta(now, ""), Values: map[string][]byte{"n": []byte("1")}},
		store.WriteOptions{Now: now, Idle: time.Hour})
	require.NoError(t, err, "Create")
	return id
}

// strvals turns values into strings, for readable comparisons.
func strvals(m map[string][]byte) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = string(v)
	}
	return out
}

func TestDefaults(t *testing.T) {
	for shards, want := range map[int]int{0: 64, -5: 64, 1: 1, 3: 4, 64: 64, 100: 128, 1 << 20: 1 << 16} {
		s := memstore.New(memstore.Options{Shards: shards, SweepInterval: -1})
		assert.Equal(t, want, s.ShardCount(), "Shards: %d", shards)
		require.NoError(t, s.Close())
	}
}

func TestJanitorRemovesExpired(t *testing.T) {
	t0 := time.Now()
	c := newClock(t0)
	s := memstore.New(memstore.Options{SweepInterval: time.Millisecond, Now: c.Now})
	defer s.Close()

	var short []string
	for range 3 {
		id := newID(t)
		short = append(short, id)
		_, err := s.Create(ctx, id, &store.Record{Meta: meta(t0, "alice")}, store.WriteOptions{Now: t0, Idle: time.Minute})
		require.NoError(t, err)
	}
	long := newID(t)
	_, err := s.Create(ctx, long, &store.Record{Meta: meta(t0, "alice")}, store.WriteOptions{Now: t0, Idle: time.Hour})
	require.NoError(t, err)
	// A forwarding entry with a 30 s grace: the janitor removes it too.
	_, err = s.Renew(ctx, short[0], newID(t), &store.Change{Now: t0, Idle: time.Minute}, store.WriteOptions{Now: t0, Idle: time.Minute, Grace: 30 * time.Second})
	require.NoError(t, err)
	require.Equal(t, 4, s.Len())
	require.Equal(t, 5, s.EntryCount())
	require.Equal(t, 4, s.UserIndexLen("alice"))

	// Let the janitor sweep a few times at t0: it must remove nothing.
	calls := c.calls.Load()
	require.Eventually(t, func() bool { return c.calls.Load() >= calls+3 }, 5*time.Second, time.Millisecond)
	require.Equal(t, 5, s.EntryCount(), "the janitor removed live entries")

	c.advance(2 * time.Minute)
	require.Eventually(t, func() bool { return s.EntryCount() == 1 }, 5*time.Second, time.Millisecond,
		"the janitor did not remove the expired entries")
	assert.Equal(t, 1, s.Len())
	assert.Equal(t, 1, s.UserIndexLen("alice"), "the janitor left the user index entries of what it removed")
	_, err = s.Load(ctx, long, store.LoadOptions{Now: c.Now(), Idle: time.Hour, TouchAfter: time.Hour})
	require.NoError(t, err)
	require.NoError(t, s.CheckInvariants())
}

func TestCloseStopsJanitor(t *testing.T) {
	c := newClock(time.Now())
	s := memstore.New(memstore.Options{SweepInterval: time.Millisecond, Now: c.Now})
	// Each sweep reads the clock once (the store is empty, so nothing else
	// does): calls counting up means the janitor is running.
	require.Eventually(t, func() bool { return c.calls.Load() >= 3 }, 5*time.Second, time.Millisecond)
	require.NoError(t, s.Close())
	stopped := c.calls.Load()
	// Close waited for the janitor to exit, so no sweep can follow; give a
	// surviving one twenty intervals to show itself.
	time.Sleep(20 * time.Millisecond)
	assert.Equal(t, stopped, c.calls.Load(), "the janitor swept after Close returned")
	require.NoError(t, s.Close(), "second Close")

	// The store still answers after Close.
	now := time.Now()
	id := newID(t)
	_, err := s.Create(ctx, id, &store.Record{Meta: meta(now, "")}, store.WriteOptions{Now: now, Idle: time.Hour})
	require.NoError(t, err)
	_, err = s.Load(ctx, id, store.LoadOptions{Now: now, Idle: time.Hour, TouchAfter: time.Hour})
	require.NoError(t, err)
}

func TestCloseWithoutJanitor(t *testing.T) {
	s := memstore.New(memstore.Options{SweepInterval: -1})
	require.NoError(t, s.Close())
	require.NoError(t, s.Close())
}

// Load hands out the stored map itself until a write replaces it.
func TestLoadSharesStoredMap(t *testing.T) {
	s := memstore.New(memstore.Options{})
	defer s.Close()
	now := time.Now()
	id := newID(t)
	_, err := s.Create(ctx, id, &store.Record{Meta: meta(now, ""), Values: map[string][]byte{"a": []byte("1")}}, store.WriteOptions{Now: now, Idle: time.Hour})
	require.NoError(t, err)
	lo := store.LoadOptions{Now: now, Idle: time.Hour, TouchAfter: time.Hour}
	load := func() map[string][]byte {
		rec, err := s.Load(ctx, id, lo)
		require.NoError(t, err)
		return rec.Values
	}
	m1, m2 := load(), load()
	assert.Equal(t, reflect.ValueOf(m1).UnsafePointer(), reflect.ValueOf(m2).UnsafePointer(), "Load copied the values")

	require.NoError(t, s.Update(ctx, id, &store.Change{Now: now, Idle: time.Hour, Set: map[string][]byte{"b": []byte("2")}}))
	m3 := load()
	assert.NotEqual(t, reflect.ValueOf(m1).UnsafePointer(), reflect.ValueOf(m3).UnsafePointer(), "Update wrote into a handed-out map")
	assert.Len(t, m1, 1)
	assert.Len(t, m3, 2)
}

func TestLoadAllocatesOnlyTheRecord(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	s := memstore.New(memstore.Options{})
	defer s.Close()
	now := time.Now()
	id := newID(t)
	_, err := s.Create(ctx, id, &store.Record{Meta: meta(now, "alice"), Values: map[string][]byte{"a": []byte("1")}}, store.WriteOptions{Now: now, Idle: time.Hour})
	require.NoError(t, err)
	lo := store.LoadOptions{Now: now, Idle: time.Hour, TouchAfter: time.Hour}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := s.Load(ctx, id, lo); err != nil {
			panic(err)
		}
	})
	assert.Equal(t, 1.0, allocs)
}

// TestLoadIntoAllocatesNothing: LoadInto writes the record into the
// caller's and returns the store's own ID string, the same as the one
// asked for.
func TestLoadIntoAllocatesNothing(t *testing.T) {
	s := memstore.New(memstore.Options{})
	defer s.Close()
	now := time.Now()
	id := newID(t)
	_, err := s.Create(ctx, id, &store.Record{Meta: meta(now, "alice"), Values: map[string][]byte{"a": []byte("1")}}, store.WriteOptions{Now: now, Idle: time.Hour})
	require.NoError(t, err)
	lo := store.LoadOptions{Now: now, Idle: time.Hour, TouchAfter: time.Hour}
	asked := []byte(id) // a buffer of the caller's, as the manager's is
	var rec store.Record
	var kept string
	allocs := testing.AllocsPerRun(100, func() {
		var err error
		if kept, err = s.LoadInto(ctx, unsafe.String(&asked[0], len(asked)), lo, &rec); err != nil {
			panic(err)
		}
	})
	if !raceEnabled {
		assert.Zero(t, allocs)
	}
	assert.Equal(t, id, kept)
	assert.Equal(t, "alice", rec.Meta.UserID)
	assert.Equal(t, []byte("1"), rec.Values["a"])
	clear(asked) // the kept ID is the store's, not the caller's buffer
	assert.Equal(t, id, kept)
	_, err = s.LoadInto(ctx, "missing", lo, &rec)
	assert.ErrorIs(t, err, store.ErrNotFound)
	assert.Equal(t, "alice", rec.Meta.UserID, "an error leaves the record as it was")
}

// The manager never sends these, but the store must not panic on them.
func TestOddInputs(t *testing.T) {
	s := memstore.New(memstore.Options{Shards: 4})
	defer s.Close()
	now := time.Now()
	wo := store.WriteOptions{Now: now, Idle: time.Hour}
	lo := store.LoadOptions{Now: now, Idle: time.Hour, TouchAfter: time.Hour}

	for _, id := range []string{"", "x", "ZZZZ", "ab", "ключ-ключ", newID(t) + "tail"} {
		_, err := s.Create(ctx, id, &store.Record{Meta: meta(now, "u")}, wo)
		require.NoError(t, err, "Create(%q)", id)
		require.NoError(t, s.Update(ctx, id, &store.Change{Now: now, Idle: time.Hour, Set: map[string][]byte{"k": nil}}))
		_, err = s.Load(ctx, id, lo)
		require.NoError(t, err)
		next := id + "-next"
		_, err = s.Renew(ctx, id, next, nil, wo)
		require.NoError(t, err, "Renew(%q) with a nil change", id)
		existed, err := s.Delete(ctx, next)
		require.NoError(t, err)
		assert.True(t, existed)
	}

	_, err := s.Create(ctx, newID(t), nil, wo)
	require.Error(t, err, "Create with a nil record")

	id := newID(t)
	require.ErrorIs(t, s.Update(ctx, id, nil), store.ErrNotFound, "nil change, missing record")
	_, err = s.Create(ctx, id, &store.Record{Meta: meta(now, "")}, wo)
	require.NoError(t, err)
	require.NoError(t, s.Update(ctx, id, nil), "nil change, live record")
	require.NoError(t, s.Update(ctx, id, &store.Change{Now: now, Idle: time.Hour, Clear: true, Del: []string{"nope"}}))

	var nilCtx context.Context
	_, err = s.Load(nilCtx, id, lo)
	require.NoError(t, err, "nil context")
	_, err = s.ListUser(nilCtx, "u", time.Time{})
	require.NoError(t, err, "nil context, zero time")
	require.NoError(t, s.Walk(nilCtx, time.Time{}, func(store.Entry) error { return nil }), "Walk: nil context, zero time")
	require.Error(t, s.Walk(ctx, now, nil), "Walk with a nil function")

	_, err = s.Renew(ctx, id, id, nil, wo)
	require.ErrorIs(t, err, store.ErrExists, "Renew onto itself")
	_, err = s.Load(ctx, id, lo)
	require.NoError(t, err, "the record after Renew onto itself")
	require.NoError(t, s.CheckInvariants())
}

// Zero times mean the store's clock rather than the year 1.
func TestZeroNowUsesStoreClock(t *testing.T) {
	t0 := time.Now()
	c := newClock(t0)
	s := memstore.New(memstore.Options{Now: c.Now, SweepInterval: -1})
	defer s.Close()
	id := newID(t)
	_, err := s.Create(ctx, id, &store.Record{Meta: meta(t0, "alice")}, store.WriteOptions{Idle: time.Minute})
	require.NoError(t, err)
	_, err = s.Load(ctx, id, store.LoadOptions{Idle: time.Minute, TouchAfter: time.Hour})
	require.NoError(t, err)
	entries, err := s.ListUser(ctx, "alice", time.Time{})
	require.NoError(t, err)
	assert.Len(t, entries, 1)
	walked := 0
	require.NoError(t, s.Walk(ctx, time.Time{}, func(store.Entry) error { walked++; return nil }))
	assert.Equal(t, 1, walked, "Walk at a zero time")

	c.advance(2 * time.Minute)
	_, err = s.Load(ctx, id, store.LoadOptions{Idle: time.Minute})
	require.ErrorIs(t, err, store.ErrExpired)
	entries, err = s.ListUser(ctx, "alice", time.Time{})
	require.NoError(t, err)
	assert.Empty(t, entries)
	require.NoError(t, s.Walk(ctx, time.Time{}, func(store.Entry) error { walked++; return nil }))
	assert.Equal(t, 1, walked, "Walk at a zero time showed an expired session")
}

// Every operation at once, on few shards and few IDs, so that multi-shard
// locking, user moves, evictions and the janitor collide constantly. A
// deadlock fails the test by timeout; afterwards the user index must still
// cover every bound record.
func TestStressLockOrder(t *testing.T) {
	stress(t, memstore.Options{Shards: 2, SweepInterval: time.Millisecond})
}

// The same at tight bounds, so that nearly every write evicts, and with an
// OnEvict that reads the store: eviction collides with everything else.
func TestStressWithEviction(t *testing.T) {
	var s *memstore.Store
	var evicted atomic.Int64
	stress(t, memstore.Options{Shards: 2, SweepInterval: time.Millisecond, MaxSessions: 12, MaxBytes: 12 << 10,
		OnEvict: func(id, user string) {
			evicted.Add(1)
			_, _ = s.Load(ctx, id, store.LoadOptions{Idle: time.Hour})
			_, _ = s.ListUser(ctx, user, time.Time{})
		}}, &s)
	assert.NotZero(t, evicted.Load(), "nothing was evicted: the bounds were not reached")
	assert.LessOrEqual(t, s.Len(), 12)
	assert.LessOrEqual(t, s.Bytes(), int64(12<<10))
}

func stress(t *testing.T, o memstore.Options, out ...**memstore.Store) {
	c := newClock(time.Now())
	o.Now = c.Now
	s := memstore.New(o)
	defer s.Close()
	for _, p := range out {
		*p = s
	}
	ids := make([]string, 48)
	for i := range ids {
		ids[i] = newID(t)
	}
	users := []string{"", "u0", "u1", "u2"}
	const workers, ops = 8, 3000
	const idle = 50 * time.Millisecond // of the fake clock, advanced 1 ms per op by worker 0

	outcome := func(err error) bool {
		var renewed *store.ErrRenewed
		return err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrExists) ||
			errors.Is(err, store.ErrExpired) || errors.As(err, &renewed)
	}
	var failures atomic.Int32
	done := make(chan struct{})
	go func() {
		defer close(done)
		var wg group
		for w := range workers {
			wg.Go(func() {
				r := mrand.New(mrand.NewPCG(uint64(w), 42))
				pick := func() string { return ids[r.IntN(len(ids))] }
				for i := range ops {
					if w == 0 {
						c.advance(time.Millisecond)
					}
					now := c.Now()
					m := meta(now, users[r.IntN(len(users))])
					m.CreatedAt = now.Add(-time.Duration(r.IntN(1000)) * time.Millisecond)
					if r.IntN(3) == 0 { // a login's details, its own idle timeout longer
						m.Idle, m.Label, m.Metadata = 2*idle, "l"+strconv.Itoa(w), map[string]string{"w": strconv.Itoa(w)}
					}
					wo := store.WriteOptions{Now: now, Idle: idle, MaxPerUser: r.IntN(4), Grace: time.Duration(r.IntN(2)) * 10 * time.Millisecond}
					var err error
					switch r.IntN(10) {
					case 0:
						_, err = s.Create(ctx, pick(), &store.Record{Meta: m, Values: map[string][]byte{"w": []byte(strconv.Itoa(w))}}, wo)
					case 1:
						_, err = s.Renew(ctx, pick(), pick(), &store.Change{Now: now, Idle: idle, Meta: &m}, wo)
					case 2:
						_, err = s.Renew(ctx, pick(), pick(), &store.Change{Now: now, Idle: idle, Set: map[string][]byte{"r": nil}}, wo)
					case 3:
						var ch store.Change
						ch.Now, ch.Idle, ch.Set = now, idle, map[string][]byte{"i": []byte(strconv.Itoa(i))}
						if r.IntN(2) == 0 {
							ch.Meta = &m
						}
						err = s.Update(ctx, pick(), &ch)
					case 4:
						_, err = s.Delete(ctx, pick())
					case 5:
						_, err = s.DeleteUser(ctx, users[r.IntN(len(users))], pick())
					case 6:
						_, err = s.ListUser(ctx, users[r.IntN(len(users))], now)
					case 7:
						_, err = s.Load(ctx, pick(), store.LoadOptions{Now: now, Idle: idle, TouchAfter: time.Duration(r.IntN(20)) * time.Millisecond})
					case 8:
						_, _, err = s.Take(ctx, pick(), []string{"w", "i", "r"}[r.IntN(3)], store.LoadOptions{Now: now, Idle: idle})
					case 9:
						err = s.Walk(ctx, now, func(e store.Entry) error {
							if r.IntN(32) == 0 {
								_, err := s.Delete(ctx, e.ID)
								return err
							}
							return nil
						})
					}
					if !outcome(err) {
						t.Errorf("worker %d op %d: %v", w, i, err)
						failures.Add(1)
						return
					}
				}
			})
		}
		wg.Wait()
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("operations did not finish: deadlock")
	}
	require.Zero(t, failures.Load())
	require.NoError(t, s.CheckInvariants())
}

// group is sync.WaitGroup.Go for a module that predates Go 1.25.
type group struct{ wg sync.WaitGroup }

func (g *group) Go(f func()) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		f()
	}()
}

func (g *group) Wait() { g.wg.Wait() }
