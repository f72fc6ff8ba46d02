package redisstore_test

import (
	"context"
	"fmt"
	"maps"
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

// commandstats reads INFO commandstats as command -> calls.
func commandstats(t *testing.T, c *redis.Client) map[string]int {
	t.Helper()
	info, err := c.Info(context.Background(), "commandstats").Result()
	require.NoError(t, err)
	out := map[string]int{}
	for _, line := range strings.Split(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		name, found := strings.CutPrefix(name, "cmdstat_")
		if !ok || !found {
			continue
		}
		calls, _, _ := strings.Cut(strings.TrimPrefix(rest, "calls="), ",")
		n, err := strconv.Atoi(calls)
		require.NoError(t, err, line)
		out[name] = n
	}
	return out
}

// measure runs op and returns its round trips, the commands the client
// sent, and the server's commandstats delta (scripts' inner commands
// included, the INFO that reads it excluded).
type measure struct {
	t     *testing.T
	count *counter
	stats *redis.Client // a connection of its own, outside the count
}

type measured struct {
	trips int
	sent  []string
	delta map[string]int
}

func (m measured) String() string {
	names := slices.Sorted(maps.Keys(m.delta))
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s=%d", n, m.delta[n])
	}
	return fmt.Sprintf("round trips %d; commands sent %v; server commandstats delta {%s}",
		m.trips, m.sent, strings.Join(parts, " "))
}

func (m *measure) run(what string, op func()) measured {
	m.t.Helper()
	before := commandstats(m.t, m.stats)
	m.count.take()
	op()
	trips, sent := m.count.take()
	after := commandstats(m.t, m.stats)
	delta := map[string]int{}
	for name, n := range after {
		if d := n - before[name]; d > 0 {
			delta[name] = d
		}
	}
	delta["info"]-- // the INFO of the snapshot itself
	if delta["info"] == 0 {
		delete(delta, "info")
	}
	res := measured{trips, sent, delta}
	m.t.Logf("%-34s %v", what+":", res)
	return res
}

// writes are the write commands a script may run.
var writes = []string{"hset", "hdel", "del", "pexpire", "pexpireat", "zadd", "zrem", "sadd", "srem", "expire", "set"}

func wrote(delta map[string]int) []string {
	var w []string
	for _, c := range writes {
		if delta[c] > 0 {
			w = append(w, c)
		}
	}
	return w
}

// TestRoundTrips counts, on a server of its own, the round trips and the
// commands every operation costs, and logs them (go test -v) with the
// server's INFO commandstats deltas.
func TestRoundTrips(t *testing.T) {
	srv := redistest.Standalone(t)
	count := &counter{}
	client := redis.NewClient(&redis.Options{Addr: srv.Addr(), PoolSize: 1})
	client.AddHook(count)
	t.Cleanup(func() { client.Close() })
	stats := redis.NewClient(&redis.Options{Addr: srv.Addr(), PoolSize: 1})
	t.Cleanup(func() { stats.Close() })
	s, err := redisstore.New(client, redisstore.Options{})
	require.NoError(t, err)
	ctx := context.Background()
	m := &measure{t: t, count: count, stats: stats}

	now := time.Now()
	// Warm up: the connection's handshake and the script cache are paid for
	// once, not by the operations measured.
	require.NoError(t, redisstore.LoadScripts(ctx, client))
	warm := create(t, s, now, "warm", "a", "1")
	_, err = s.Load(ctx, warm, store.LoadOptions{Now: now.Add(time.Millisecond), Idle: idle, TouchAfter: 0})
	require.NoError(t, err)
	for _, id := range []string{warm} {
		_, err := s.Renew(ctx, id, newID(t), &store.Change{Now: now, Idle: idle}, wopts(now))
		require.NoError(t, err)
	}
	_, err = s.DeleteUser(ctx, "warm", "")
	require.NoError(t, err)
	_, err = s.Delete(ctx, newID(t))
	require.NoError(t, err)
	require.NoError(t, s.Update(ctx, create(t, s, now, ""), &store.Change{Now: now, Idle: idle, Clear: true}))

	r := m.run("Create (a new session, no user)", func() {
		_, err := s.Create(ctx, newID(t), &store.Record{Meta: meta(now, ""), Values: map[string][]byte{"count": []byte("1")}}, wopts(now))
		require.NoError(t, err)
	})
	assert.Equal(t, 1, r.trips, "Create")
	// One command, as a peer's SET: RESTORE creates the hash and its TTL
	// at once, and refuses a taken ID.
	assert.Equal(t, []string{"restore"}, r.sent, "a new session is one RESTORE")
	assert.Equal(t, map[string]int{"restore": 1}, r.delta, "a new session runs no script and nothing else")

	var id string
	r = m.run("Create (bound to a user)", func() {
		id = newID(t)
		_, err := s.Create(ctx, id, &store.Record{Meta: meta(now, "alice"), Values: map[string][]byte{"count": []byte("1")}}, wopts(now))
		require.NoError(t, err)
	})
	assert.Equal(t, 1, r.trips, "Create")

	r = m.run("Load, read-only inside the window", func() {
		_, err := s.Load(ctx, id, store.LoadOptions{Now: now.Add(time.Minute), Idle: idle, TouchAfter: 15 * time.Minute})
		require.NoError(t, err)
	})
	assert.Equal(t, 1, r.trips, "Load")
	assert.Equal(t, []string{"hgetall"}, r.sent, "a read runs no script")
	assert.Empty(t, wrote(r.delta), "a read inside the touch window wrote to Redis")
	assert.Equal(t, map[string]int{"hgetall": 1}, r.delta)

	r = m.run("Load, touching", func() {
		rec, err := s.Load(ctx, id, store.LoadOptions{Now: now.Add(20 * time.Minute), Idle: idle, TouchAfter: 15 * time.Minute})
		require.NoError(t, err)
		assert.WithinDuration(t, now.Add(20*time.Minute), rec.Meta.LastSeen, time.Millisecond)
	})
	assert.Equal(t, 2, r.trips, "Load with touch: the read, then the touch")
	// The touch, and the move of the session's deadline in its user's
	// expiry index, in one round trip.
	assert.Equal(t, []string{"hgetall", "evalsha", "zadd"}, r.sent)
	// The marker of the change (marks.go) is the SET and the DEL.
	assert.ElementsMatch(t, []string{"hset", "pexpire", "set", "del", "zadd"}, wrote(r.delta), "the touch")

	r = m.run("Update (one key)", func() {
		// As the manager sends it: naming the session's user and lifetime.
		require.NoError(t, s.Update(ctx, id, &store.Change{Now: now.Add(21 * time.Minute), Idle: idle,
			UserID: "alice", ExpiresAt: now.Add(lifetime), Set: map[string][]byte{"count": []byte("2")}}))
	})
	assert.Equal(t, 1, r.trips, "Update")
	// The write, and the move of the deadline in the user's expiry index
	// (the user known from the Load before).
	assert.Equal(t, []string{"evalsha", "zadd"}, r.sent)

	var next string
	r = m.run("Renew (login: Meta, same user)", func() {
		next = newID(t)
		mt := meta(now, "alice")
		_, err := s.Renew(ctx, id, next, &store.Change{Now: now.Add(22 * time.Minute), Idle: idle, Meta: &mt},
			store.WriteOptions{Now: now.Add(22 * time.Minute), Idle: idle})
		require.NoError(t, err)
	})
	assert.LessOrEqual(t, r.trips, 2, "Renew")

	r = m.run("Renew (rotation, 5s grace)", func() {
		id, next = next, newID(t)
		_, err := s.Renew(ctx, id, next, &store.Change{Now: now.Add(23 * time.Minute), Idle: idle},
			store.WriteOptions{Now: now.Add(23 * time.Minute), Idle: idle, Grace: 5 * time.Second})
		require.NoError(t, err)
	})
	assert.LessOrEqual(t, r.trips, 2, "Renew with grace")

	r = m.run("Delete (logout)", func() {
		existed, err := s.Delete(ctx, next)
		require.NoError(t, err)
		assert.True(t, existed)
	})
	assert.LessOrEqual(t, r.trips, 2, "Delete")

	const n = 100
	for range n {
		create(t, s, now, "bob", "big", strings.Repeat("x", 1000))
	}
	r = m.run("ListUser (100 sessions)", func() {
		entries, err := s.ListUser(ctx, "bob", now)
		require.NoError(t, err)
		assert.Len(t, entries, n)
	})
	assert.LessOrEqual(t, r.trips, 2, "ListUser")
	assert.Equal(t, n, r.delta["hmget"], "one HMGET per session")
	assert.Zero(t, r.delta["hgetall"]+r.delta["hget"], "ListUser read values")
	assert.Empty(t, wrote(r.delta), "ListUser wrote")

	r = m.run("DeleteUser (100 sessions)", func() {
		deleted, err := s.DeleteUser(ctx, "bob", "")
		require.NoError(t, err)
		assert.Len(t, deleted, n)
	})
	assert.LessOrEqual(t, r.trips, 3, "DeleteUser")

	// Under a cap: a Create that evicts takes two more round trips, one to
	// delete the evicted, one to drop them from the index once deleted.
	for i := range 3 {
		_, err := s.Create(ctx, newID(t), &store.Record{Meta: meta(now.Add(time.Duration(i)*time.Second), "carol")},
			store.WriteOptions{Now: now, Idle: idle, MaxPerUser: 3})
		require.NoError(t, err)
	}
	r = m.run("Create evicting one (cap 3)", func() {
		evicted, err := s.Create(ctx, newID(t), &store.Record{Meta: meta(now.Add(time.Minute), "carol")},
			store.WriteOptions{Now: now, Idle: idle, MaxPerUser: 3})
		require.NoError(t, err)
		assert.Len(t, evicted, 1)
	})
	assert.Equal(t, 3, r.trips, "Create with an eviction")
}

// TestRoundTripsCluster: the same bounds hold in Redis Cluster, where a
// round trip is one pipeline fanned out to the nodes.
func TestRoundTripsCluster(t *testing.T) {
	c := redistest.SharedCluster(t)
	count := &counter{}
	client := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()})
	t.Cleanup(func() { client.Close() })
	s, _ := newStore(t, client)
	ctx := context.Background()
	now := time.Now()
	// Every node gets the scripts up front: a node's first run of a script
	// costs an EVAL fallback, which is not what is measured here.
	require.NoError(t, redisstore.LoadScripts(ctx, client))
	id := create(t, s, now, "alice")
	client.AddHook(count)

	trips := func(op func()) int {
		count.take()
		op()
		n, _ := count.take()
		return n
	}
	assert.Equal(t, 1, trips(func() {
		_, err := s.Load(ctx, id, store.LoadOptions{Now: now, Idle: idle, TouchAfter: time.Minute})
		require.NoError(t, err)
	}), "Load")
	assert.Equal(t, 1, trips(func() { create(t, s, now, "alice") }), "Create")
	assert.Equal(t, 1, trips(func() {
		require.NoError(t, s.Update(ctx, id, &store.Change{Now: now, Idle: idle,
			UserID: "alice", ExpiresAt: now.Add(lifetime), Set: map[string][]byte{"k": []byte("v")}}))
	}), "Update")
	assert.LessOrEqual(t, trips(func() {
		_, err := s.Renew(ctx, id, newID(t), &store.Change{Now: now, Idle: idle}, wopts(now))
		require.NoError(t, err)
	}), 2, "Renew")
	for range 20 {
		create(t, s, now, "bob")
	}
	assert.LessOrEqual(t, trips(func() {
		entries, err := s.ListUser(ctx, "bob", now)
		require.NoError(t, err)
		assert.Len(t, entries, 20)
	}), 2, "ListUser")
	assert.LessOrEqual(t, trips(func() {
		deleted, err := s.DeleteUser(ctx, "bob", "")
		require.NoError(t, err)
		assert.Len(t, deleted, 20)
	}), 3, "DeleteUser")
}
