package memstore_test

import (
	"errors"
	mrand "math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/stores/memstore"
)

// loads reports whether id loads as a live record at now.
func loads(s *memstore.Store, id string, now time.Time) bool {
	rec, err := s.Load(ctx, id, store.LoadOptions{Now: now, Idle: time.Hour, TouchAfter: time.Hour})
	return err == nil && rec.Successor == ""
}

// The zero Options bound the store: a flood of anonymous creations never
// holds more than the default number of sessions.
func TestDefaultMaxSessions(t *testing.T) {
	s := memstore.New(memstore.Options{SweepInterval: -1})
	defer s.Close()
	now := time.Now()
	const extra = 1000
	var last []string
	for i := range 100_000 + extra {
		id := anon(t, s, now)
		if i >= 100_000 {
			last = append(last, id)
		}
	}
	assert.LessOrEqual(t, s.Len(), 100_000, "the default store is unbounded")
	for _, id := range last {
		require.True(t, loads(s, id, now), "a session just created was evicted")
	}
}

// The default byte bound holds too. The values alias one buffer, so the
// test accounts for far more bytes than it allocates.
func TestDefaultMaxBytes(t *testing.T) {
	s := memstore.New(memstore.Options{SweepInterval: -1})
	defer s.Close()
	now := time.Now()
	big := make([]byte, 1<<20)
	const n = 300 // 300 MiB accounted, over the 256 MiB default
	for range n {
		_, err := s.Create(ctx, newID(t), &store.Record{Meta: meta(now, ""), Values: map[string][]byte{"blob": big}},
			store.WriteOptions{Now: now, Idle: time.Hour})
		require.NoError(t, err)
	}
	assert.Less(t, s.Len(), 256, "more than 256 MiB of values held under the default bound")
	assert.Greater(t, s.Len(), 200, "the byte bound evicted far more than it had to")
}

// A flood of anonymous sessions evicts anonymous sessions only: logged-in
// users stay logged in as long as there is an anonymous one to evict.
func TestEvictionSparesLoggedIn(t *testing.T) {
	s := memstore.New(memstore.Options{MaxSessions: 100, Shards: 4, SweepInterval: -1})
	defer s.Close()
	now := time.Now()
	var users []string
	for i := range 20 {
		id := newID(t)
		_, err := s.Create(ctx, id, &store.Record{Meta: meta(now, "user"+strconv.Itoa(i))}, store.WriteOptions{Now: now, Idle: time.Hour})
		require.NoError(t, err)
		users = append(users, id)
	}
	for range 1000 {
		anon(t, s, now)
	}
	assert.Equal(t, 100, s.Len())
	for i, id := range users {
		assert.True(t, loads(s, id, now), "logged-in session %d was evicted by anonymous ones", i)
	}
	require.NoError(t, s.CheckInvariants())
}

// Within a class, eviction is least recently used by approximation: a
// session read since it was stored gets a second chance, so the oldest
// unread ones go first.
func TestEvictionSecondChance(t *testing.T) {
	s := memstore.New(memstore.Options{MaxSessions: 8, Shards: 1, SweepInterval: -1})
	defer s.Close()
	now := time.Now()
	ids := make([]string, 8)
	for i := range ids {
		ids[i] = anon(t, s, now)
	}
	require.True(t, loads(s, ids[0], now))
	require.True(t, loads(s, ids[1], now))
	anon(t, s, now)
	anon(t, s, now)
	assert.True(t, loads(s, ids[0], now), "a session read since it was stored was evicted")
	assert.True(t, loads(s, ids[1], now), "a session read since it was stored was evicted")
	assert.False(t, loads(s, ids[2], now), "the oldest unread session was kept")
	assert.False(t, loads(s, ids[3], now), "the second oldest unread session was kept")
	for _, id := range ids[4:] {
		assert.True(t, loads(s, id, now), "a newer session was evicted before an older one")
	}
	assert.Equal(t, 8, s.Len())
}

// With no anonymous session left, the least recently used logged-in one
// goes, and its user-index entry with it.
func TestEvictionFallsBackToLoggedIn(t *testing.T) {
	s := memstore.New(memstore.Options{MaxSessions: 3, Shards: 1, SweepInterval: -1})
	defer s.Close()
	now := time.Now()
	var ids []string
	for _, u := range []string{"alice", "bob", "carol"} {
		id := newID(t)
		_, err := s.Create(ctx, id, &store.Record{Meta: meta(now, u)}, store.WriteOptions{Now: now, Idle: time.Hour})
		require.NoError(t, err)
		ids = append(ids, id)
	}
	require.True(t, loads(s, ids[0], now))
	newest := anon(t, s, now)
	assert.True(t, loads(s, ids[0], now), "alice's session was read, yet evicted")
	assert.False(t, loads(s, ids[1], now), "bob's session, the least recently used, was kept")
	assert.True(t, loads(s, ids[2], now))
	assert.True(t, loads(s, newest, now))
	assert.Zero(t, s.UserIndexLen("bob"), "the evicted session is still in bob's index")
	require.NoError(t, s.CheckInvariants())
}

// A forwarding entry left by Renew is not a session: it takes no room
// under MaxSessions.
func TestForwardingIsNotASession(t *testing.T) {
	var ev evictions
	s := memstore.New(memstore.Options{MaxSessions: 2, SweepInterval: -1, OnEvict: ev.OnEvict})
	defer s.Close()
	now := time.Now()
	a, a2 := anon(t, s, now), newID(t)
	_, err := s.Renew(ctx, a, a2, nil, store.WriteOptions{Now: now, Idle: time.Hour, Grace: time.Hour})
	require.NoError(t, err)
	b := anon(t, s, now)
	assert.Empty(t, ev.list(), "a forwarding entry took a session's room")
	assert.True(t, loads(s, a2, now))
	assert.True(t, loads(s, b, now))
	rec, err := s.Load(ctx, a, store.LoadOptions{Now: now, Idle: time.Hour})
	require.NoError(t, err)
	assert.Equal(t, a2, rec.Successor)
	assert.Equal(t, 2, s.Len())
	require.NoError(t, s.CheckInvariants())
}

// Expired sessions go before live ones, whatever their class.
func TestEvictionTakesExpiredFirst(t *testing.T) {
	t0 := time.Now()
	c := newClock(t0)
	s := memstore.New(memstore.Options{MaxSessions: 3, Shards: 1, SweepInterval: -1, Now: c.Now})
	defer s.Close()
	create := func(user string, idle time.Duration) string {
		id := newID(t)
		_, err := s.Create(ctx, id, &store.Record{Meta: meta(t0, user)}, store.WriteOptions{Now: t0, Idle: idle})
		require.NoError(t, err)
		return id
	}
	a := create("", time.Hour)
	b := create("alice", time.Minute)
	d := create("", time.Hour)
	c.advance(2 * time.Minute)
	later := c.Now()
	_, err := s.Create(ctx, newID(t), &store.Record{Meta: meta(later, "")}, store.WriteOptions{Now: later, Idle: time.Hour})
	require.NoError(t, err, "expired records kept the store full")
	lo := store.LoadOptions{Now: later, Idle: time.Hour, TouchAfter: time.Hour}
	_, err = s.Load(ctx, a, lo)
	assert.NoError(t, err, "a live session was evicted while an expired one was held")
	_, err = s.Load(ctx, d, lo)
	assert.NoError(t, err, "a live session was evicted while an expired one was held")
	_, err = s.Load(ctx, b, lo)
	assert.ErrorIs(t, err, store.ErrNotFound)
	assert.Equal(t, 3, s.Len())
	assert.Zero(t, s.UserIndexLen("alice"))
	require.NoError(t, s.CheckInvariants())
}

// Concurrent creations at the bound all succeed by eviction, and the bound
// holds at every moment a creation returns.
func TestMaxSessionsConcurrent(t *testing.T) {
	const limit, n = 10, 50
	s := memstore.New(memstore.Options{MaxSessions: limit})
	defer s.Close()
	now := time.Now()
	var over atomic.Int32
	var wg group
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			_, err := s.Create(ctx, newID(t), &store.Record{Meta: meta(now, "")}, store.WriteOptions{Now: now, Idle: time.Hour})
			if err != nil {
				t.Error(err)
			}
			if s.Len() > limit {
				over.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	assert.Zero(t, over.Load(), "Len exceeded MaxSessions")
	assert.Equal(t, limit, s.Len())
	require.NoError(t, s.CheckInvariants())
}

// evictions records OnEvict's calls.
type evictions struct {
	mu    sync.Mutex
	calls [][2]string // id, user
}

func (ev *evictions) OnEvict(id, user string) {
	ev.mu.Lock()
	ev.calls = append(ev.calls, [2]string{id, user})
	ev.mu.Unlock()
}

func (ev *evictions) list() [][2]string {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	return slices.Clone(ev.calls)
}

// OnEvict hears of every live session evicted, with its user, and of
// nothing else: not expired entries, not the per-user cap's victims.
func TestOnEvict(t *testing.T) {
	t0 := time.Now()
	c := newClock(t0)
	var ev evictions
	s := memstore.New(memstore.Options{MaxSessions: 3, Shards: 1, SweepInterval: -1, Now: c.Now, OnEvict: ev.OnEvict})
	defer s.Close()
	create := func(user string, idle time.Duration, max int) (string, []string) {
		id := newID(t)
		now := c.Now()
		m := meta(now, user)
		m.CreatedAt = now.Add(time.Duration(len(user)) * time.Nanosecond)
		capped, err := s.Create(ctx, id, &store.Record{Meta: m}, store.WriteOptions{Now: now, Idle: idle, MaxPerUser: max})
		require.NoError(t, err)
		return id, capped
	}
	short, _ := create("", time.Minute, 0)
	a1, _ := create("alice", time.Hour, 0)
	b1, _ := create("bob", time.Hour, 0)
	c.advance(2 * time.Minute)

	// The expired one makes room, unreported.
	x, _ := create("", time.Hour, 0)
	assert.Empty(t, ev.list(), "OnEvict heard of an expired session")
	_, err := s.Load(ctx, short, store.LoadOptions{Now: c.Now(), Idle: time.Hour})
	require.ErrorIs(t, err, store.ErrNotFound)

	// A live anonymous one goes next, reported with no user.
	y, _ := create("", time.Hour, 0)
	assert.Equal(t, [][2]string{{x, ""}}, ev.list())

	// The per-user cap's victim is Create's result, not an eviction.
	a2, capped := create("alice", time.Hour, 1)
	assert.Equal(t, []string{a1}, capped)
	assert.Equal(t, [][2]string{{x, ""}}, ev.list(), "OnEvict heard of the per-user cap's victim")
	assert.Equal(t, 3, s.Len())

	// With no anonymous session left, a logged-in one goes, reported with
	// its user.
	_, err = s.Delete(ctx, y)
	require.NoError(t, err)
	create("carol", time.Hour, 0)
	z, _ := create("", time.Hour, 0)
	assert.Equal(t, [][2]string{{x, ""}, {b1, "bob"}}, ev.list(), "not the least recently used logged-in session")
	assert.True(t, loads(s, a2, c.Now()))
	assert.True(t, loads(s, z, c.Now()))
	require.NoError(t, s.CheckInvariants())
}

// OnEvict runs with no lock held: a callback that uses the store, even one
// that makes it evict again, does not deadlock.
func TestOnEvictMayUseTheStore(t *testing.T) {
	now := time.Now()
	var s *memstore.Store
	var depth atomic.Int32
	var calls atomic.Int32
	s = memstore.New(memstore.Options{MaxSessions: 4, Shards: 2, SweepInterval: -1, OnEvict: func(id, user string) {
		calls.Add(1)
		if _, err := s.Load(ctx, id, store.LoadOptions{Now: now, Idle: time.Hour}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the evicted session loads: %v", err)
		}
		if _, err := s.ListUser(ctx, "alice", now); err != nil {
			t.Error(err)
		}
		_, _ = s.Delete(ctx, newID(t))
		if depth.Add(1) == 1 { // one level of eviction from inside the callback
			anon(t, s, now)
		}
		depth.Add(-1)
	}})
	defer s.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 20 {
			anon(t, s, now)
		}
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("a Create whose OnEvict uses the store did not return: deadlock")
	}
	assert.GreaterOrEqual(t, calls.Load(), int32(16))
	assert.LessOrEqual(t, s.Len(), 4)
	require.NoError(t, s.CheckInvariants())
}

// bigValue is an anonymous record holding n bytes of value.
func bigValue(now time.Time, n int) *store.Record {
	return &store.Record{Meta: meta(now, ""), Values: map[string][]byte{"blob": make([]byte, n)}}
}

// MaxBytes bounds the accounted bytes; a record over it on its own is
// refused with ErrFull, and evicts nothing on the way.
func TestMaxBytes(t *testing.T) {
	const limit = 32 << 10
	var ev evictions
	s := memstore.New(memstore.Options{MaxBytes: limit, Shards: 2, SweepInterval: -1, OnEvict: ev.OnEvict})
	defer s.Close()
	now := time.Now()
	wo := store.WriteOptions{Now: now, Idle: time.Hour}
	var ids []string
	for range 40 {
		id := newID(t)
		_, err := s.Create(ctx, id, bigValue(now, 2000), wo)
		require.NoError(t, err)
		ids = append(ids, id)
		require.LessOrEqual(t, s.Bytes(), int64(limit))
	}
	per := s.Bytes() / int64(s.Len())
	assert.Greater(t, per, int64(2000), "a 2,000-byte value accounted for less than its bytes")
	assert.Equal(t, int(limit/per), s.Len(), "the byte bound evicted more than it had to")
	assert.Len(t, ev.list(), 40-s.Len())
	assert.True(t, loads(s, ids[len(ids)-1], now))

	n, b := s.Len(), s.Bytes()
	_, err := s.Create(ctx, newID(t), bigValue(now, limit), wo)
	require.ErrorIs(t, err, memstore.ErrFull)
	assert.Equal(t, n, s.Len(), "a refused Create evicted sessions")
	assert.Equal(t, b, s.Bytes())
	require.NoError(t, s.CheckInvariants())
}

// An Update that grows a session past MaxBytes evicts other sessions, never
// the one it writes; one that would make the session alone too big is
// refused and changes nothing.
func TestUpdateGrowthEvicts(t *testing.T) {
	const limit = 32 << 10
	var ev evictions
	s := memstore.New(memstore.Options{MaxBytes: limit, Shards: 1, SweepInterval: -1, OnEvict: ev.OnEvict})
	defer s.Close()
	now := time.Now()
	for range 100 { // more than fit: the store is full
		anon(t, s, now)
	}
	writer := anon(t, s, now)
	n, before := s.Len(), len(ev.list())
	require.Less(t, n, 100, "the store is not full")
	err := s.Update(ctx, writer, &store.Change{Now: now, Idle: time.Hour, Set: map[string][]byte{"big": make([]byte, 8000)}})
	require.NoError(t, err)
	assert.LessOrEqual(t, s.Bytes(), int64(limit))
	assert.Less(t, s.Len(), n, "the growth evicted nothing")
	assert.True(t, loads(s, writer, now), "the growing session was evicted")
	assert.Len(t, ev.list()[before:], n-s.Len(), "OnEvict did not hear of every session the growth evicted")

	b := s.Bytes()
	err = s.Update(ctx, writer, &store.Change{Now: now, Idle: time.Hour, Set: map[string][]byte{"huge": make([]byte, limit)}})
	require.ErrorIs(t, err, memstore.ErrFull)
	assert.Equal(t, b, s.Bytes())
	rec, err := s.Load(ctx, writer, store.LoadOptions{Now: now, Idle: time.Hour, TouchAfter: time.Hour})
	require.NoError(t, err)
	assert.NotContains(t, rec.Values, "huge", "a refused Update wrote")
	require.NoError(t, s.CheckInvariants())
}

// A Renew that grows the session, or leaves a forwarding entry, is
// accounted for too, and evicts others to fit.
func TestRenewGrowthEvicts(t *testing.T) {
	const limit = 32 << 10
	s := memstore.New(memstore.Options{MaxBytes: limit, Shards: 2, SweepInterval: -1})
	defer s.Close()
	now := time.Now()
	for range 100 { // more than fit: the store is full
		anon(t, s, now)
	}
	id := anon(t, s, now)
	n := s.Len()
	require.Less(t, n, 100, "the store is not full")
	next := newID(t)
	_, err := s.Renew(ctx, id, next, &store.Change{Now: now, Idle: time.Hour, Set: map[string][]byte{"big": make([]byte, 4000)}},
		store.WriteOptions{Now: now, Idle: time.Hour, Grace: time.Minute})
	require.NoError(t, err)
	assert.LessOrEqual(t, s.Bytes(), int64(limit))
	assert.Less(t, s.Len(), n)
	assert.True(t, loads(s, next, now), "the renewed session was evicted")
	rec, err := s.Load(ctx, id, store.LoadOptions{Now: now, Idle: time.Hour})
	require.NoError(t, err)
	assert.Equal(t, next, rec.Successor, "the forwarding entry was evicted")
	require.NoError(t, s.CheckInvariants())
}

// A negative bound is no bound.
func TestNoBounds(t *testing.T) {
	s := memstore.New(memstore.Options{MaxSessions: -1, MaxBytes: -1, SweepInterval: -1})
	defer s.Close()
	now := time.Now()
	big := make([]byte, 1<<20)
	for range 300 { // 300 MiB accounted, past the default byte bound
		_, err := s.Create(ctx, newID(t), &store.Record{Meta: meta(now, ""), Values: map[string][]byte{"blob": big}},
			store.WriteOptions{Now: now, Idle: time.Hour})
		require.NoError(t, err)
	}
	assert.Equal(t, 300, s.Len())
	for range memstore.DefaultMaxSessions - 300 + 10 {
		anon(t, s, now)
	}
	assert.Equal(t, memstore.DefaultMaxSessions+10, s.Len())
}

// One eviction gives at most EvictWalk sessions their second chance, so a
// shard of sessions all read recently costs a write a bounded walk, not a
// pass over the shard.
func TestEvictionWalkIsBounded(t *testing.T) {
	const n = 4 * memstore.EvictWalk
	s := memstore.New(memstore.Options{MaxSessions: n, Shards: 1, SweepInterval: -1})
	defer s.Close()
	now := time.Now()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = anon(t, s, now)
	}
	for _, id := range ids {
		require.True(t, loads(s, id, now))
	}
	anon(t, s, now)
	for i, id := range ids {
		assert.Equal(t, i != memstore.EvictWalk, loads(s, id, now), "session %d", i)
	}
}

// A session bound to a user by Update moves to the logged-in class: a
// flood of anonymous ones no longer evicts it.
func TestUpdateBindingChangesClass(t *testing.T) {
	s := memstore.New(memstore.Options{MaxSessions: 10, Shards: 1, SweepInterval: -1})
	defer s.Close()
	now := time.Now()
	id := anon(t, s, now)
	m := meta(now, "alice")
	require.NoError(t, s.Update(ctx, id, &store.Change{Now: now, Idle: time.Hour, Meta: &m}))
	for range 100 {
		anon(t, s, now)
	}
	assert.True(t, loads(s, id, now), "a session bound to a user was evicted as an anonymous one")
	require.NoError(t, s.CheckInvariants())
}

// Every kind of change is accounted for exactly what it changes: after
// each, CheckInvariants recomputes every entry's size from its contents.
func TestAccountingOfChanges(t *testing.T) {
	s := memstore.New(memstore.Options{Shards: 1, SweepInterval: -1})
	defer s.Close()
	now := time.Now()
	id := newID(t)
	_, err := s.Create(ctx, id, &store.Record{Meta: meta(now, ""), Values: map[string][]byte{"a": []byte("1"), "b": []byte("22")}},
		store.WriteOptions{Now: now, Idle: time.Hour})
	require.NoError(t, err)
	many := make([]string, 0, 40)
	for i := range 20 {
		many = append(many, "m"+strconv.Itoa(i), "m"+strconv.Itoa(i)) // each twice
	}
	bound := meta(now, "someone-with-a-long-user-id")
	bound.UserAgent, bound.IP = "Mozilla/5.0", "2001:db8::1"
	details := rememberedMeta(now, "someone-with-a-long-user-id") // label, binding, metadata
	big := bound
	big.Metadata = map[string]string{}
	for i := range 16 { // past the map's first group
		big.Metadata["k"+strconv.Itoa(i)] = strconv.Itoa(i)
	}
	changes := []store.Change{
		{Set: map[string][]byte{"a": []byte("111111"), "c": []byte("3")}},
		{Del: []string{"b", "b", "missing"}},
		{Set: map[string][]byte{"b": []byte("2")}, Del: []string{"b"}},
		{Set: func() map[string][]byte {
			m := map[string][]byte{}
			for i := range 20 {
				m["m"+strconv.Itoa(i)] = []byte(strconv.Itoa(i))
			}
			return m
		}()},
		{Del: many},
		{Meta: &bound},
		{Meta: &details, Set: map[string][]byte{"d": []byte("4")}},
		{Del: []string{"d"}}, // metadata kept, as it was accounted for
		{Meta: &big},
		{Meta: &bound},
		{Clear: true, Set: map[string][]byte{"z": []byte("26")}, Del: []string{"z", "a"}},
		{Clear: true},
		{Set: map[string][]byte{"": nil}},
	}
	for i, ch := range changes {
		ch.Now, ch.Idle = now, time.Hour
		require.NoError(t, s.Update(ctx, id, &ch), "change %d", i)
		require.NoError(t, s.CheckInvariants(), "after change %d", i)
	}
	lo := store.LoadOptions{Now: now, Idle: time.Hour}
	require.NoError(t, s.Update(ctx, id, &store.Change{Now: now, Idle: time.Hour, Set: map[string][]byte{"f": []byte("flash")}}))
	for _, k := range []string{"f", "", "f"} { // a value, the last value, a missing one
		_, _, err := s.Take(ctx, id, k, lo)
		require.NoError(t, err)
		require.NoError(t, s.CheckInvariants(), "after Take(%q)", k)
	}
	next := newID(t)
	_, err = s.Renew(ctx, id, next, &store.Change{Now: now, Idle: time.Hour, Meta: &details, Set: map[string][]byte{"r": []byte("1")}, Del: []string{""}},
		store.WriteOptions{Now: now, Idle: time.Hour, Grace: time.Minute})
	require.NoError(t, err)
	require.NoError(t, s.CheckInvariants(), "after Renew")
	_, err = s.Delete(ctx, id)
	require.NoError(t, err)
	_, err = s.Delete(ctx, next)
	require.NoError(t, err)
	assert.Zero(t, s.Bytes(), "an empty store accounts for bytes")
	require.NoError(t, s.CheckInvariants())
}

// At the bounds a Create reuses the entry its eviction freed: the store
// allocates nothing of its own for it (the record's map, values and ID are
// the caller's).
func TestCreateWhenFullAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	const n = 1000
	s := memstore.New(memstore.Options{MaxSessions: n, SweepInterval: -1})
	defer s.Close()
	now := time.Now()
	for range n {
		anon(t, s, now)
	}
	const runs = 200
	ids := make([]string, runs+1)
	recs := make([]*store.Record, runs+1)
	for i := range ids {
		ids[i] = newID(t)
		recs[i] = &store.Record{Meta: meta(now, ""), Values: map[string][]byte{"n": []byte("1")}}
	}
	wo := store.WriteOptions{Now: now, Idle: time.Hour}
	i := 0
	allocs := testing.AllocsPerRun(runs, func() {
		if _, err := s.Create(ctx, ids[i], recs[i], wo); err != nil {
			panic(err)
		}
		i++
	})
	assert.Zero(t, allocs)
	assert.Equal(t, n, s.Len())
	require.NoError(t, s.CheckInvariants())
}

// A write is accounted for from the keys its change names; for random
// changes of every kind (keys set and deleted, deleted twice, missing,
// cleared, on empty and full maps) that is exactly what counting the
// resulting values gives.
func TestAccountingOfRandomChanges(t *testing.T) {
	r := mrand.New(mrand.NewPCG(1, 2))
	key := func() string { return "k" + strconv.Itoa(r.IntN(12)) }
	val := func() []byte { return make([]byte, r.IntN(40)) }
	for i := range 3000 {
		old := map[string][]byte{}
		for range r.IntN(10) {
			old[key()] = val()
		}
		ch := &store.Change{Clear: r.IntN(6) == 0}
		if r.IntN(3) > 0 {
			ch.Set = map[string][]byte{}
			for range r.IntN(6) {
				ch.Set[key()] = val()
			}
		}
		for range r.IntN(25) {
			ch.Del = append(ch.Del, key())
		}
		require.Equal(t, memstore.ValuesSize(ch.ApplyValues(old)), memstore.AppliedSize(old, ch), "case %d: %+v on %v", i, ch, old)
	}
}
