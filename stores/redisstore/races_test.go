package redisstore_test

import (
	"context"
	"errors"
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

// interceptor is a go-redis hook that runs f (once) just before the first
// pipeline carrying a script call on key is sent, and sends it only if f
// returns nil: a way to act, from a test, between two round trips of one
// store operation.
type interceptor struct {
	key  string
	f    func() error
	once sync.Once
}

func (i *interceptor) DialHook(next redis.DialHook) redis.DialHook { return next }

func (i *interceptor) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if err := i.maybe(cmd); err != nil {
			cmd.SetErr(err)
			return err
		}
		return next(ctx, cmd)
	}
}

func (i *interceptor) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if err := i.maybe(cmds...); err != nil {
			for _, c := range cmds {
				c.SetErr(err)
			}
			return err
		}
		return next(ctx, cmds)
	}
}

func (i *interceptor) maybe(cmds ...redis.Cmder) (err error) {
	for _, c := range cmds {
		args := c.Args()
		if len(args) > 3 && (c.Name() == "evalsha" || c.Name() == "eval") && args[3] == i.key {
			i.once.Do(func() { err = i.f() })
			return err
		}
	}
	return nil
}

// hooked returns a store on a client of the shared standalone server with
// the interceptor, and a second, plain store on the same keys.
func hooked(t *testing.T, i *interceptor, prefix string) (*redisstore.Store, *redisstore.Store) {
	t.Helper()
	plain := standaloneClient(t)
	c := redis.NewClient(&redis.Options{Addr: redistest.SharedStandalone(t).Addr()})
	t.Cleanup(func() { c.Close() })
	c.AddHook(i)
	a, err := redisstore.New(c, redisstore.Options{Prefix: prefix})
	require.NoError(t, err)
	b, err := redisstore.New(plain, redisstore.Options{Prefix: prefix})
	require.NoError(t, err)
	return a, b
}

var errInjected = errors.New("injected network failure")

// duplicator is a go-redis hook that sends the first pipeline carrying a
// script call on key twice, and hands the caller the second reply: what
// go-redis does when it retries a pipeline whose reply it lost (a read
// timeout) while the server ran the first one after all.
type duplicator struct {
	key     string
	between func() // if set, runs between the two sends
	lose    bool   // no second send: the caller gets a network error
	once    sync.Once
}

func (d *duplicator) DialHook(next redis.DialHook) redis.DialHook { return next }

func (d *duplicator) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }

func (d *duplicator) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		hit := false
		for _, c := range cmds {
			args := c.Args()
			if len(args) > 3 && (c.Name() == "evalsha" || c.Name() == "eval") && args[3] == d.key {
				d.once.Do(func() { hit = true })
			}
		}
		if hit {
			_ = next(ctx, cmds) // the first run, whose reply is lost
			if d.between != nil {
				d.between()
			}
			if d.lose {
				for _, c := range cmds {
					c.SetErr(errInjected)
				}
				return errInjected
			}
		}
		return next(ctx, cmds)
	}
}

// TestRenewStepRetried: each of Renew's two round trips runs twice, as when
// go-redis retries it after a read timeout although the server ran it. The
// retried claim recognises the claim it repeats, and the retried write
// its own record: the renewal completes, with the session's values.
func TestRenewStepRetried(t *testing.T) {
	t.Parallel()
	for _, step := range []string{"Claim", "Write"} {
		for name, grace := range map[string]time.Duration{"WithGrace": time.Minute, "WithoutGrace": 0} {
			t.Run(step+name, func(t *testing.T) {
				t.Parallel()
				prefix := redistest.Prefix(t)
				old, next := newID(t), newID(t)
				d := &duplicator{key: prefix + old}
				if step == "Write" {
					d.key = prefix + next
				}
				c := redis.NewClient(&redis.Options{Addr: redistest.SharedStandalone(t).Addr()})
				t.Cleanup(func() { c.Close() })
				ctx := context.Background()
				// Cached scripts, so that the step duplicated is the script
				// itself, not a NOSCRIPT refusal before the EVAL fallback.
				require.NoError(t, redisstore.LoadScripts(ctx, c))
				c.AddHook(d)
				renewing, err := redisstore.New(c, redisstore.Options{Prefix: prefix})
				require.NoError(t, err)
				other, _ := hooked(t, &interceptor{}, prefix)
				now := time.Now()
				_, err = other.Create(ctx, old, &store.Record{Meta: meta(now, "alice"),
					Values: map[string][]byte{"a": []byte("1")}}, wopts(now))
				require.NoError(t, err)

				_, err = renewing.Renew(ctx, old, next, &store.Change{Now: now, Idle: idle, Set: map[string][]byte{"b": []byte("2")}},
					store.WriteOptions{Now: now, Idle: idle, Grace: grace})
				require.NoError(t, err, "a renewal whose %s step ran twice", step)
				rec, err := other.Load(ctx, next, store.LoadOptions{Now: now, Idle: idle, TouchAfter: idle})
				require.NoError(t, err, "the new ID")
				assert.Equal(t, map[string][]byte{"a": []byte("1"), "b": []byte("2")}, rec.Values)
				assert.Equal(t, "alice", rec.Meta.UserID)
				rec, err = other.Load(ctx, old, store.LoadOptions{Now: now, Idle: idle, TouchAfter: idle})
				if grace > 0 {
					require.NoError(t, err)
					assert.Equal(t, next, rec.Successor, "the old ID forwards to the new one")
				} else {
					require.ErrorIs(t, err, store.ErrNotFound, "the old ID after a renewal without grace")
				}
				assert.Equal(t, []string{next}, listIDs(t, other, "alice", now))
			})
		}
	}
}

// TestRenewClaimReplyLost: the claim runs, and its reply never arrives
// (the connection breaks; no retry). Renew cannot know whether the claim
// ran, reports the failure, and puts the session back under the old ID
// from the copy the claim kept, instead of leaving it behind a forwarding
// entry or marker to an ID that never appears.
func TestRenewClaimReplyLost(t *testing.T) {
	t.Parallel()
	for name, grace := range map[string]time.Duration{"WithGrace": time.Minute, "WithoutGrace": 0} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			prefix := redistest.Prefix(t)
			old, next := newID(t), newID(t)
			c := redis.NewClient(&redis.Options{Addr: redistest.SharedStandalone(t).Addr()})
			t.Cleanup(func() { c.Close() })
			ctx := context.Background()
			require.NoError(t, redisstore.LoadScripts(ctx, c))
			c.AddHook(&duplicator{key: prefix + old, lose: true})
			renewing, err := redisstore.New(c, redisstore.Options{Prefix: prefix})
			require.NoError(t, err)
			other, _ := hooked(t, &interceptor{}, prefix)
			now := time.Now()
			_, err = other.Create(ctx, old, &store.Record{Meta: meta(now, "alice"),
				Values: map[string][]byte{"a": []byte("1")}}, wopts(now))
			require.NoError(t, err)

			_, err = renewing.Renew(ctx, old, next, &store.Change{Now: now, Idle: idle},
				store.WriteOptions{Now: now, Idle: idle, Grace: grace})
			require.ErrorIs(t, err, errInjected)
			requireFailure(t, err, "Renew whose claim reply was lost")
			rec, err := other.Load(ctx, old, store.LoadOptions{Now: now, Idle: idle, TouchAfter: idle})
			require.NoError(t, err, "the session was lost behind the error")
			assert.Empty(t, rec.Successor)
			assert.Equal(t, map[string][]byte{"a": []byte("1")}, rec.Values)
			assert.Equal(t, "alice", rec.Meta.UserID)
			ttl := c.PTTL(ctx, prefix+old).Val()
			assert.InDelta(t, idle.Milliseconds(), ttl.Milliseconds(), 5000, "the restored TTL")
			_, err = other.Load(ctx, next, store.LoadOptions{Now: now, Idle: idle})
			require.ErrorIs(t, err, store.ErrNotFound)
			assert.Equal(t, []string{old}, listIDs(t, other, "alice", now))
		})
	}
}

// TestRevokedBetweenRetries: a renewal's write lands, its reply is lost,
// the new session is revoked (it is in the user's index, so DeleteUser
// finds it, and ListUser lists it for a RevokeSession), and then go-redis
// sends the write again. The revocation left a tombstone, so the repeated
// write cannot bring the session back.
func TestRevokedBetweenRetries(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"DeleteUser", "Delete"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			prefix := redistest.Prefix(t)
			old, next := newID(t), newID(t)
			other, _ := hooked(t, &interceptor{}, prefix)
			ctx := context.Background()
			var revokeErr error
			d := &duplicator{key: prefix + next, between: func() {
				if how == "DeleteUser" {
					_, revokeErr = other.DeleteUser(ctx, "alice", "")
				} else {
					_, revokeErr = other.Delete(ctx, next)
				}
			}}
			c := redis.NewClient(&redis.Options{Addr: redistest.SharedStandalone(t).Addr()})
			t.Cleanup(func() { c.Close() })
			require.NoError(t, redisstore.LoadScripts(ctx, c))
			c.AddHook(d)
			renewing, err := redisstore.New(c, redisstore.Options{Prefix: prefix})
			require.NoError(t, err)
			now := time.Now()
			_, err = other.Create(ctx, old, &store.Record{Meta: meta(now, "alice"),
				Values: map[string][]byte{"a": []byte("1")}}, wopts(now))
			require.NoError(t, err)

			_, err = renewing.Renew(ctx, old, next, &store.Change{Now: now, Idle: idle},
				store.WriteOptions{Now: now, Idle: idle, Grace: time.Minute})
			require.NoError(t, revokeErr)
			require.ErrorIs(t, err, store.ErrNotFound, "a renewal revoked while it was retried")
			_, err = other.Load(ctx, next, store.LoadOptions{Now: now, Idle: idle})
			require.ErrorIs(t, err, store.ErrNotFound, "a revoked session came back")
			assert.Empty(t, listIDs(t, other, "alice", now))
		})
	}
}

// TestRequestDuringRotation: a request that arrives while a rotation is
// between its two round trips finds the forwarding entry before the
// successor exists. Load waits for the successor, so the manager's
// follow-up Load of it succeeds and the session is not lost.
func TestRequestDuringRotation(t *testing.T) {
	t.Parallel()
	prefix := redistest.Prefix(t)
	next := newID(t)
	reached := make(chan struct{})
	i := &interceptor{key: prefix + next, f: func() error {
		close(reached)
		time.Sleep(150 * time.Millisecond) // the second round trip is slow
		return nil
	}}
	rotating, other := hooked(t, i, prefix)
	ctx := context.Background()
	now := time.Now()
	old := create(t, other, now, "alice", "a", "1")

	done := make(chan error, 1)
	go func() {
		_, err := rotating.Renew(ctx, old, next, &store.Change{Now: now, Idle: idle},
			store.WriteOptions{Now: now, Idle: idle, Grace: 5 * time.Second})
		done <- err
	}()
	<-reached // the claim is done, the successor not written yet

	rec, err := other.Load(ctx, old, store.LoadOptions{Now: now, Idle: idle, TouchAfter: idle})
	require.NoError(t, err)
	require.Equal(t, next, rec.Successor)
	rec, err = other.Load(ctx, next, store.LoadOptions{Now: now, Idle: idle, TouchAfter: idle})
	require.NoError(t, err, "the successor a forwarding entry named was not there")
	assert.Equal(t, "1", string(rec.Values["a"]))
	require.NoError(t, <-done)
}

// TestRenewOntoIDTakenMeanwhile: the new ID is free when Renew checks it
// but taken before its record is written (a concurrent Create of the same
// ID). Renew reports ErrExists and puts the old session back, index entry
// included.
func TestRenewOntoIDTakenMeanwhile(t *testing.T) {
	t.Parallel()
	prefix := redistest.Prefix(t)
	next := newID(t)
	var other *redisstore.Store
	now := time.Now()
	i := &interceptor{key: prefix + next, f: func() error {
		_, err := other.Create(context.Background(), next, &store.Record{Meta: meta(now, "mallory")}, wopts(now))
		return err
	}}
	var renewing *redisstore.Store
	renewing, other = hooked(t, i, prefix)
	ctx := context.Background()
	old := create(t, other, now, "alice", "a", "1")

	_, err := renewing.Renew(ctx, old, next, &store.Change{Now: now, Idle: idle, Set: map[string][]byte{"b": []byte("2")}},
		store.WriteOptions{Now: now, Idle: idle, Grace: time.Minute})
	require.ErrorIs(t, err, store.ErrExists)

	rec, err := other.Load(ctx, old, store.LoadOptions{Now: now, Idle: idle, TouchAfter: idle})
	require.NoError(t, err, "the old session was not put back")
	assert.Empty(t, rec.Successor)
	assert.Equal(t, map[string][]byte{"a": []byte("1")}, rec.Values)
	rec, err = other.Load(ctx, next, store.LoadOptions{Now: now, Idle: idle, TouchAfter: idle})
	require.NoError(t, err)
	assert.Equal(t, "mallory", rec.Meta.UserID, "the record that took the ID is untouched")
	ids := listIDs(t, other, "alice", now)
	assert.Equal(t, []string{old}, ids)
}

// TestRevokeDuringRenew: DeleteUser runs while a login (Renew) is between
// its round trips. It follows the forwarding entry to the successor, so the
// renewal cannot bring the revoked session back under its new ID.
func TestRevokeDuringRenew(t *testing.T) {
	t.Parallel()
	for name, grace := range map[string]time.Duration{"WithGrace": time.Minute, "WithoutGrace": 0} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			prefix := redistest.Prefix(t)
			next := newID(t)
			var other *redisstore.Store
			var revoked []string
			i := &interceptor{key: prefix + next, f: func() error {
				var err error
				revoked, err = other.DeleteUser(context.Background(), "alice", "")
				return err
			}}
			var renewing *redisstore.Store
			renewing, other = hooked(t, i, prefix)
			ctx := context.Background()
			now := time.Now()
			old := create(t, other, now, "alice", "a", "1")
			bystander := create(t, other, now, "alice")

			_, err := renewing.Renew(ctx, old, next, &store.Change{Now: now, Idle: idle},
				store.WriteOptions{Now: now, Idle: idle, Grace: grace})
			require.ErrorIs(t, err, store.ErrNotFound, "a renewal of a revoked session")
			assert.ElementsMatch(t, []string{bystander}, revoked)
			for _, id := range []string{old, next, bystander} {
				_, err := other.Load(ctx, id, store.LoadOptions{Now: now, Idle: idle})
				require.ErrorIs(t, err, store.ErrNotFound, "a revoked session came back")
			}
			assert.Empty(t, listIDs(t, other, "alice", now))
		})
	}
}

// TestDeleteDuringRenew: a logout (Delete of the old ID) runs while a
// rotation or login is between its round trips: the old ID holds the
// forwarding entry (with grace) or the marker (without), and the successor
// is not written yet. Delete follows the entry to the successor and bars
// it, so the renewal's write fails and the logged-out session does not
// come back under its new ID.
func TestDeleteDuringRenew(t *testing.T) {
	t.Parallel()
	for name, grace := range map[string]time.Duration{"WithGrace": time.Minute, "WithoutGrace": 0} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			prefix := redistest.Prefix(t)
			next := newID(t)
			var other *redisstore.Store
			var old string
			var existed bool
			i := &interceptor{key: prefix + next, f: func() error {
				var err error
				existed, err = other.Delete(context.Background(), old)
				return err
			}}
			var renewing *redisstore.Store
			renewing, other = hooked(t, i, prefix)
			ctx := context.Background()
			now := time.Now()
			old = create(t, other, now, "alice", "a", "1")

			_, err := renewing.Renew(ctx, old, next, &store.Change{Now: now, Idle: idle},
				store.WriteOptions{Now: now, Idle: idle, Grace: grace})
			require.ErrorIs(t, err, store.ErrNotFound, "a renewal of a deleted session")
			assert.False(t, existed, "no record was there to delete: the session was in flight")
			for _, id := range []string{old, next} {
				_, err := other.Load(ctx, id, store.LoadOptions{Now: now, Idle: idle})
				require.ErrorIs(t, err, store.ErrNotFound, "a deleted session came back")
			}
			assert.Empty(t, listIDs(t, other, "alice", now))
		})
	}
}

// TestRenewInterrupted: a Renew whose second round trip fails loses the
// session and reports the failure; it never leaves two live copies.
func TestRenewInterrupted(t *testing.T) {
	t.Parallel()
	prefix := redistest.Prefix(t)
	next := newID(t)
	i := &interceptor{key: prefix + next, f: func() error { return errInjected }}
	renewing, other := hooked(t, i, prefix)
	ctx := context.Background()
	now := time.Now()
	old := create(t, other, now, "alice", "a", "1")

	_, err := renewing.Renew(ctx, old, next, &store.Change{Now: now, Idle: idle},
		store.WriteOptions{Now: now, Idle: idle, Grace: time.Minute})
	require.ErrorIs(t, err, errInjected)
	_, err = other.Load(ctx, next, store.LoadOptions{Now: now, Idle: idle})
	require.ErrorIs(t, err, store.ErrNotFound)
	rec, err := other.Load(ctx, old, store.LoadOptions{Now: now, Idle: idle})
	require.NoError(t, err)
	assert.Equal(t, next, rec.Successor, "the old ID forwards to where the session was going")
	assert.Empty(t, listIDs(t, other, "alice", now), "nothing live is listed")
}

// TestEvictionInterrupted: when deleting the sessions the cap evicted
// fails, they are still the user's to list and revoke: the index script
// moved them to the evicting set, not out of sight.
func TestEvictionInterrupted(t *testing.T) {
	t.Parallel()
	prefix := redistest.Prefix(t)
	_, other := hooked(t, &interceptor{}, prefix)
	ctx := context.Background()
	now := time.Now()
	oldest := newID(t)
	m := meta(now, "alice")
	m.CreatedAt = now.Add(-time.Hour)
	_, err := other.Create(ctx, oldest, &store.Record{Meta: m}, wopts(now))
	require.NoError(t, err)
	second := create(t, other, now, "alice")

	capped, _ := hooked(t, &interceptor{key: prefix + oldest, f: func() error { return errInjected }}, prefix)
	_, err = capped.Create(ctx, newID(t), &store.Record{Meta: meta(now, "alice")},
		store.WriteOptions{Now: now, Idle: idle, MaxPerUser: 2})
	require.ErrorIs(t, err, errInjected)

	ids := listIDs(t, other, "alice", now)
	assert.Contains(t, ids, oldest, "a session whose eviction failed is out of sight")
	assert.Contains(t, ids, second)
	deleted, err := other.DeleteUser(ctx, "alice", "")
	require.NoError(t, err)
	assert.Contains(t, deleted, oldest)
	_, err = other.Load(ctx, oldest, store.LoadOptions{Now: now, Idle: idle})
	require.ErrorIs(t, err, store.ErrNotFound)
}

// TestRevokedBeforeCreated: in Redis Cluster a session's index entry may
// land before its record. A DeleteUser or an eviction that meets such an
// entry bars the ID, so the record, when it arrives, is revoked on arrival
// instead of living on outside the index.
func TestRevokedBeforeCreated(t *testing.T) {
	t.Parallel()
	client := standaloneClient(t)
	ctx := context.Background()
	now := time.Now()
	// indexFirst writes the index entry of id, as Create's index script
	// would, with the record not there yet.
	indexFirst := func(prefix, id string, created time.Time) {
		index, expiry := redisstore.Options{Prefix: prefix}.UserKeys("alice")
		require.NoError(t, client.ZAdd(ctx, index, redis.Z{Score: float64(created.UnixMilli()), Member: id}).Err())
		require.NoError(t, client.ZAdd(ctx, expiry, redis.Z{Score: float64(now.Add(lifetime).UnixMilli()), Member: id}).Err())
	}
	arrives := func(t *testing.T, s store.Store, id string) {
		evicted, err := s.Create(ctx, id, &store.Record{Meta: meta(now, "alice"), Values: map[string][]byte{"a": []byte("1")}}, wopts(now))
		require.NoError(t, err, "Create whose ID was revoked in flight")
		assert.Empty(t, evicted)
		_, err = s.Load(ctx, id, store.LoadOptions{Now: now, Idle: idle})
		require.ErrorIs(t, err, store.ErrNotFound, "a session revoked in flight came to life")
		assert.NotContains(t, listIDs(t, s, "alice", now), id)
	}

	t.Run("DeleteUser", func(t *testing.T) {
		t.Parallel()
		s, prefix := newStore(t, client)
		id := newID(t)
		indexFirst(prefix, id, now)
		_, err := s.DeleteUser(ctx, "alice", "")
		require.NoError(t, err)
		arrives(t, s, id)
	})
	t.Run("Eviction", func(t *testing.T) {
		t.Parallel()
		s, prefix := newStore(t, client)
		id := newID(t)
		indexFirst(prefix, id, now.Add(-time.Hour)) // the oldest: the victim
		kept := create(t, s, now, "alice")
		evicted, err := s.Create(ctx, newID(t), &store.Record{Meta: meta(now, "alice")},
			store.WriteOptions{Now: now, Idle: idle, MaxPerUser: 2})
		require.NoError(t, err)
		assert.Equal(t, []string{id}, evicted, "an ID barred before it arrived is reported evicted")
		arrives(t, s, id)
		assert.Contains(t, listIDs(t, s, "alice", now), kept)
	})
}

// TestScriptCacheFlushed: a server that lost its script cache (restart,
// failover, SCRIPT FLUSH) gets the scripts by EVAL, in pipelines too.
func TestScriptCacheFlushed(t *testing.T) {
	t.Parallel()
	srv := redistest.Standalone(t)
	count := &counter{}
	client := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { client.Close() })
	client.AddHook(count)
	s, err := redisstore.New(client, redisstore.Options{})
	require.NoError(t, err)
	ctx := context.Background()
	now := time.Now()

	for round := range 2 {
		require.NoError(t, client.ScriptFlush(ctx).Err())
		count.take()
		id := create(t, s, now, "alice", "a", "1") // a pipeline of two scripts
		_, cmds := count.take()
		assert.Contains(t, cmds, "eval", "round %d: no EVAL fallback in a pipeline", round)
		require.NoError(t, client.ScriptFlush(ctx).Err())
		rec, err := s.Load(ctx, id, store.LoadOptions{Now: now, Idle: idle, TouchAfter: idle})
		require.NoError(t, err)
		assert.Equal(t, "1", string(rec.Values["a"]))
		_, err = s.Renew(ctx, id, newID(t), &store.Change{Now: now, Idle: idle}, wopts(now))
		require.NoError(t, err)
	}
}

func listIDs(t *testing.T, s store.Store, user string, now time.Time) []string {
	t.Helper()
	entries, err := s.ListUser(context.Background(), user, now)
	require.NoError(t, err)
	ids := []string{}
	for _, e := range entries {
		ids = append(ids, e.ID)
	}
	return ids
}

// TestTouchRechecksTheRecord: a Load past the touch window reads, then
// touches in a second step. Whatever happened to the session in between
// wins: a revocation makes the Load ErrNotFound (the touch never brings
// the record back), a rotation makes it a forwarding entry, and a later
// touch by another request is never moved back.
func TestTouchRechecksTheRecord(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Now()
	late := store.LoadOptions{Now: now.Add(20 * time.Minute), Idle: idle, TouchAfter: 15 * time.Minute}

	t.Run("revoked in between", func(t *testing.T) {
		prefix := redistest.Prefix(t)
		var other *redisstore.Store
		var id string
		i := &interceptor{f: func() error { _, err := other.Delete(ctx, id); return err }}
		loading, o := hooked(t, i, prefix)
		other = o
		id = create(t, other, now, "alice", "a", "1")
		i.key = prefix + id

		_, err := loading.Load(ctx, id, late)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = other.Load(ctx, id, late)
		require.ErrorIs(t, err, store.ErrNotFound, "the touch brought a deleted session back")
	})

	t.Run("rotated in between", func(t *testing.T) {
		prefix := redistest.Prefix(t)
		var other *redisstore.Store
		var id string
		next := newID(t)
		i := &interceptor{f: func() error {
			_, err := other.Renew(ctx, id, next, &store.Change{Now: late.Now, Idle: idle},
				store.WriteOptions{Now: late.Now, Idle: idle, Grace: 5 * time.Second})
			return err
		}}
		loading, o := hooked(t, i, prefix)
		other = o
		id = create(t, other, now, "alice", "a", "1")
		i.key = prefix + id

		rec, err := loading.Load(ctx, id, late)
		require.NoError(t, err)
		assert.Equal(t, next, rec.Successor)
	})

	t.Run("touched later by another request", func(t *testing.T) {
		prefix := redistest.Prefix(t)
		var other *redisstore.Store
		var id string
		later := late
		later.Now = late.Now.Add(time.Minute)
		i := &interceptor{f: func() error { _, err := other.Load(ctx, id, later); return err }}
		loading, o := hooked(t, i, prefix)
		other = o
		id = create(t, other, now, "alice", "a", "1")
		i.key = prefix + id

		rec, err := loading.Load(ctx, id, late)
		require.NoError(t, err)
		assert.Equal(t, "1", string(rec.Values["a"]))
		rec, err = other.Load(ctx, id, store.LoadOptions{Now: later.Now, Idle: idle, TouchAfter: idle})
		require.NoError(t, err)
		assert.Equal(t, later.Now.UnixMilli(), rec.Meta.LastSeen.UnixMilli(), "an earlier touch moved LastSeen back")
	})
}
