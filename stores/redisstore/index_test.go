package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/internal/redistest"
	"github.com/sessionkit/sessionkit/stores/redisstore"
)

// indexKeys are user's three index keys under prefix.
func indexKeys(prefix, user string) (index, expiry, evicting string) {
	index, expiry = redisstore.Options{Prefix: prefix}.UserKeys(user)
	return index, expiry, index + ":e"
}

// TestIndexFollowsDeadline: the expiry index holds each session's real
// deadline, the earlier of its idle and absolute deadlines, moved forward
// whenever the session's deadline moves (a touch, an Update, with or
// without this process having loaded the session first, a Renew).
func TestIndexFollowsDeadline(t *testing.T) {
	t.Parallel()
	client := standaloneClient(t)
	ctx := context.Background()
	now := time.Now()
	score := func(prefix, id string) time.Time {
		t.Helper()
		_, expiry, _ := indexKeys(prefix, "alice")
		v, err := client.ZScore(ctx, expiry, id).Result()
		require.NoError(t, err, "no expiry index entry for %s", id)
		return time.UnixMilli(int64(v))
	}
	s, prefix := newStore(t, client)
	id := create(t, s, now, "alice", "a", "1")
	assert.WithinDuration(t, now.Add(idle), score(prefix, id), time.Millisecond, "after Create")

	t1 := now.Add(20 * time.Minute)
	_, err := s.Load(ctx, id, store.LoadOptions{Now: t1, Idle: idle, TouchAfter: 15 * time.Minute})
	require.NoError(t, err)
	assert.WithinDuration(t, t1.Add(idle), score(prefix, id), time.Millisecond, "after a touch")

	t2 := t1.Add(5 * time.Minute)
	require.NoError(t, s.Update(ctx, id, &store.Change{Now: t2, Idle: idle, Set: map[string][]byte{"b": []byte("2")}}))
	assert.WithinDuration(t, t2.Add(idle), score(prefix, id), time.Millisecond, "after an Update")

	// A store (a process) that never loaded the session.
	fresh, err := redisstore.New(client, redisstore.Options{Prefix: prefix})
	require.NoError(t, err)
	t3 := t2.Add(5 * time.Minute)
	require.NoError(t, fresh.Update(ctx, id, &store.Change{Now: t3, Idle: idle, Set: map[string][]byte{"c": []byte("3")}}))
	assert.WithinDuration(t, t3.Add(idle), score(prefix, id), time.Millisecond, "after an Update by another process")

	// Never back: an older write does not lower it.
	require.NoError(t, s.Update(ctx, id, &store.Change{Now: t2, Idle: idle, Set: map[string][]byte{"d": []byte("4")}}))
	assert.WithinDuration(t, t3.Add(idle), score(prefix, id), time.Millisecond, "an earlier write moved it back")

	// Near the absolute lifetime, the deadline is that.
	m := meta(now, "alice")
	m.ExpiresAt = now.Add(10 * time.Minute)
	short := newID(t)
	_, err = s.Create(ctx, short, &store.Record{Meta: m}, wopts(now))
	require.NoError(t, err)
	assert.WithinDuration(t, m.ExpiresAt, score(prefix, short), time.Millisecond, "capped by the lifetime")

	next := newID(t)
	t4 := t3.Add(time.Minute)
	_, err = s.Renew(ctx, id, next, &store.Change{Now: t4, Idle: idle}, wopts(t4))
	require.NoError(t, err)
	assert.WithinDuration(t, t4.Add(idle), score(prefix, next), time.Millisecond, "after a Renew")
}

// TestIndexPrunedAtIdleDeadline: a session that ended by idle timeout
// leaves the user's index a margin past its deadline, not at the end of
// its absolute lifetime; until then ListUser does not read it, and
// DeleteUser writes no tombstone for it.
func TestIndexPrunedAtIdleDeadline(t *testing.T) {
	t.Parallel()
	client := standaloneClient(t)
	ctx := context.Background()
	now := time.Now()
	count := &counter{}
	c := redis.NewClient(&redis.Options{Addr: redistest.SharedStandalone(t).Addr()})
	t.Cleanup(func() { c.Close() })
	require.NoError(t, redisstore.LoadScripts(ctx, c))
	c.AddHook(count)
	prefix := redistest.Prefix(t)
	s, err := redisstore.New(c, redisstore.Options{Prefix: prefix})
	require.NoError(t, err)
	index, expiry, _ := indexKeys(prefix, "alice")

	// Idle since two hours, with an idle timeout of one: its deadline
	// passed an hour ago (its hash is gone, as Redis's TTL would have it).
	idleDead := func() string {
		then := now.Add(-2 * time.Hour)
		id := newID(t)
		_, err := s.Create(ctx, id, &store.Record{Meta: meta(then, "alice")}, wopts(then))
		require.NoError(t, err)
		require.NoError(t, client.Del(ctx, prefix+id).Err())
		return id
	}
	dead := idleDead()
	live := create(t, s, now, "alice")

	count.take()
	assert.Equal(t, []string{live}, listIDs(t, s, "alice", now))
	_, cmds := count.take()
	hmgets := 0
	for _, cmd := range cmds {
		if cmd == "hmget" {
			hmgets++
		}
	}
	assert.Equal(t, 1, hmgets, "ListUser read a session past its deadline: %v", cmds)

	// The next addition to the index prunes it.
	other := create(t, s, now, "alice")
	assert.ElementsMatch(t, []string{live, other}, client.ZRange(ctx, index, 0, -1).Val(), "index")
	assert.ElementsMatch(t, []string{live, other}, client.ZRange(ctx, expiry, 0, -1).Val(), "expiry index")

	// DeleteUser revokes the live ones and bars nothing for the dead one.
	gone := idleDead()
	deleted, err := s.DeleteUser(ctx, "alice", "")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{live, other}, deleted)
	assert.Zero(t, client.Exists(ctx, prefix+gone).Val(), "a tombstone for a session past its deadline")
	assert.Zero(t, client.Exists(ctx, prefix+dead).Val())
	assert.Zero(t, client.Exists(ctx, index, expiry).Val(), "the index after DeleteUser")
}

// TestEvictingSetEmptied: a session the cap evicted leaves the evicting
// set, and the expiry index, once its deletion is done, instead of
// lingering there (read by every ListUser, revoked again by DeleteUser)
// until its lifetime would have ended.
func TestEvictingSetEmptied(t *testing.T) {
	t.Parallel()
	client := standaloneClient(t)
	s, prefix := newStore(t, client)
	ctx := context.Background()
	now := time.Now()
	m := meta(now.Add(-time.Minute), "alice")
	oldest := newID(t)
	_, err := s.Create(ctx, oldest, &store.Record{Meta: m}, wopts(now))
	require.NoError(t, err)
	kept := newID(t)
	evicted, err := s.Create(ctx, kept, &store.Record{Meta: meta(now, "alice")},
		store.WriteOptions{Now: now, Idle: idle, MaxPerUser: 1})
	require.NoError(t, err)
	require.Equal(t, []string{oldest}, evicted)

	index, expiry, evicting := indexKeys(prefix, "alice")
	assert.Empty(t, client.SMembers(ctx, evicting).Val(), "the evicting set after the eviction")
	assert.Equal(t, []string{kept}, client.ZRange(ctx, expiry, 0, -1).Val(), "the expiry index after the eviction")
	assert.Equal(t, []string{kept}, client.ZRange(ctx, index, 0, -1).Val())
}
