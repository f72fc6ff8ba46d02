package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/internal/redistest"
	"github.com/sessionkit/sessionkit/stores/redisstore"
	"github.com/sessionkit/sessionkit/stores/storetest"
)

// The README and NewClient's doc claim Sentinel and Cluster: these tests
// run the conformance suite through a client built exactly as they say
// (NewClient with the sentinels' addresses and MasterName; NewClient with
// the cluster's addresses), then kill a master under a store in use and
// follow the failover. Each topology is the test's own, as a failover
// changes who is master: the conformance suite runs first, the failover
// last, on the same processes.

// TestSentinel: a master, its replica and three sentinels.
func TestSentinel(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a master, a replica and three sentinels, and fails over")
	}
	t.Parallel() // mostly waiting; with the other parallel tests, after the sequential ones
	sn := redistest.NewSentinel(t)
	client, err := redisstore.NewClient(sn.Addrs(), 0, func(o *redis.UniversalOptions) { o.MasterName = sn.MasterName() })
	require.NoError(t, err)
	t.Cleanup(func() { client.Close() })
	_, ok := client.(*redis.Client)
	require.True(t, ok, "MasterName: a failover client, got %T", client)
	// The same, built directly, as NewClient's doc says it may be.
	direct := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: sn.MasterName(), SentinelAddrs: sn.Addrs()})
	t.Cleanup(func() { direct.Close() })

	t.Run("Conformance", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.Store {
			s, _ := newStore(t, client)
			return s
		})
	})
	t.Run("Failover", func(t *testing.T) {
		var old *redistest.Server
		f := &failover{
			client:     client,
			others:     []redis.UniversalClient{direct},
			replicated: func() error { return sn.WaitReplicated(redistest.ReplicationTimeout) },
			kill: func() (err error) {
				old, err = sn.KillMaster()
				return err
			},
			promoted: func() error {
				_, err := sn.WaitFailover(old, redistest.PromotionTimeout)
				return err
			},
		}
		f.run(t)
	})
}

// TestClusterReplicas: three masters, each with a replica. The
// conformance suite and the failover run through NewClient's client.
// go-redis v9.23 reloads a cluster's slot map on MOVED, ASK and READONLY
// replies and every ClusterStateReloadInterval (60 s by default, which
// UniversalOptions cannot set), not when a master stops answering; before
// NewClient set the interval to ClusterReloadInterval, its client kept
// sending the promoted replica's slots to the dead master for up to a
// minute (57 s measured), and this test's Load after the promotion failed
// with "dial tcp ... connection refused". A second client reloads only
// hourly when nothing fails, so NewClient's reload on a failing command
// alone must bring it to the promoted replica.
func TestClusterReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster of six nodes, and fails one over")
	}
	t.Parallel()
	c := redistest.NewClusterWithReplicas(t)
	client, err := redisstore.NewClient(c.Addrs(), 0)
	require.NoError(t, err)
	t.Cleanup(func() { client.Close() })
	cc, ok := client.(*redis.ClusterClient)
	require.True(t, ok, "several addresses: a cluster client, got %T", client)

	t.Run("Conformance", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.Store {
			s, _ := newStore(t, client)
			return s
		})
	})
	t.Run("Failover", func(t *testing.T) {
		fc := cc
		masters, err := c.Masters()
		require.NoError(t, err)
		victim := masters[1]
		replica, err := c.ReplicaOf(victim)
		require.NoError(t, err)
		// A session on the victim's slots, read through NewClient's client
		// before the kill and after the promotion.
		plain, prefix := newStore(t, client)
		var onVictim string
		for onVictim == "" {
			id := create(t, plain, time.Now(), "dave")
			node, err := cc.MasterForKey(context.Background(), redisstore.Options{Prefix: prefix}.SessionKey(id))
			require.NoError(t, err)
			if node.Options().Addr == victim.Addr() {
				onVictim = id
			}
		}
		// A cluster client built as NewClient builds one, but reloading
		// its slot map only hourly when nothing fails: it follows the
		// promotion because its commands failed against the dead master.
		hourly := redisstore.NewClusterClientEvery(&redis.ClusterOptions{Addrs: c.Addrs(), ContextTimeoutEnabled: true, DialerRetries: 1}, time.Hour)
		t.Cleanup(func() { hourly.Close() })
		f := &failover{
			client:     fc,
			others:     []redis.UniversalClient{hourly},
			replicated: func() error { return c.WaitReplicated(redistest.ReplicationTimeout) },
			kill:       victim.Kill,
			promoted:   func() error { return c.WaitPromoted(replica, redistest.PromotionTimeout) },
			// Only the victim's slots fail over; the other masters serve
			// throughout. Which slots those are is asked of a client made
			// after the promotion, not of the one under test, whose view
			// is what the test is about.
			affected: func(ctx context.Context, key string) bool {
				node, err := freshView(t, replica.Addr()).MasterForKey(ctx, key)
				return err == nil && node.Options().Addr == replica.Addr()
			},
		}
		f.run(t)

		// The session written before the kill, on the victim's slots, is
		// read through the promoted replica.
		ctx, cancel := context.WithTimeout(context.Background(), opDeadline)
		defer cancel()
		_, err = plain.Load(ctx, onVictim, store.LoadOptions{Now: time.Now(), Idle: idle, TouchAfter: idle})
		assert.NoError(t, err, "NewClient's cluster client did not follow the promotion")
		node, _ := cc.MasterForKey(ctx, redisstore.Options{Prefix: prefix}.SessionKey(onVictim))
		if assert.NotNil(t, node) {
			assert.Equal(t, replica.Addr(), node.Options().Addr, "NewClient's cluster client routes to the promoted replica")
		}
	})
}

// freshView is a cluster client that learns the topology from addr, once,
// the first time it is asked for (after the promotion).
var freshViews sync.Map

func freshView(t *testing.T, addr string) *redis.ClusterClient {
	if c, ok := freshViews.Load(addr); ok {
		return c.(*redis.ClusterClient)
	}
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{addr}})
	if old, loaded := freshViews.LoadOrStore(addr, c); loaded {
		c.Close()
		return old.(*redis.ClusterClient)
	}
	t.Cleanup(func() { freshViews.Delete(addr); c.Close() })
	return c
}

// failover is one master kill under a store in use.
type failover struct {
	client redis.UniversalClient
	// others are more clients of the same servers, each of which must
	// serve again after the failover.
	others []redis.UniversalClient
	// replicated waits until the replicas have every write acknowledged
	// before it was called; kill kills the master; promoted waits until a
	// replica has taken over.
	replicated, kill, promoted func() error
	// affected reports, once the failover is over, whether key is on the
	// master that failed over; nil: every key is.
	affected func(ctx context.Context, key string) bool
}

// write is one Create the writer sent.
type write struct {
	id         string
	start, end time.Time
	err        error
}

// run kills the master under a store in use: a writer creating sessions
// and a reader loading sessions stored before, both running throughout,
// every call under opDeadline. It checks that
//
//   - every session acknowledged before the replication caught up (the
//     replicated step, which samples the master's replication offset and
//     waits for the replica to reach it) is there after the failover, with
//     its values and in its user's index, through every client;
//   - during the failover a call either works or fails with an error that
//     is not an outcome: a session stored before is never reported
//     missing or expired, so the manager would never serve a new one;
//   - the store serves again once a replica is promoted, within a bound;
//   - every session acknowledged after the promotion is kept;
//
// and reports the sessions acknowledged between the replication sample and
// the promotion (the window asynchronous replication may lose), how many
// of them were kept, and the Creates refused.
func (f *failover) run(t *testing.T) {
	ctx := context.Background()
	s, prefix := newStore(t, f.client)
	keyOf := redisstore.Options{Prefix: prefix}.SessionKey
	now := time.Now()
	type stored struct {
		id string
		s  store.Store
	}
	var before []stored
	stores := []store.Store{s}
	for _, c := range f.others {
		o, err := redisstore.New(c, redisstore.Options{Prefix: prefix})
		require.NoError(t, err)
		stores = append(stores, o)
	}
	for i := 0; i < 60; i++ {
		st := stores[i%len(stores)]
		before = append(before, stored{create(t, st, now, "alice", "n", fmt.Sprint(i)), st})
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var (
		mu     sync.Mutex
		writes []write
	)
	wg.Add(1)
	go func() { // the writer
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			id, start := randomID(), time.Now()
			opCtx, cancel := context.WithTimeout(ctx, opDeadline)
			_, err := s.Create(opCtx, id, &store.Record{Meta: meta(start, "bob"),
				Values: map[string][]byte{"id": []byte(id)}}, wopts(start))
			cancel()
			mu.Lock()
			writes = append(writes, write{id: id, start: start, end: time.Now(), err: err})
			mu.Unlock()
			time.Sleep(2 * time.Millisecond)
		}
	}()
	var readOK, readErr atomic.Int64
	var readBad atomic.Value // the first wrong answer
	wg.Add(1)
	go func() { // the reader
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			b := before[i%len(before)]
			opCtx, cancel := context.WithTimeout(ctx, opDeadline)
			rec, err := b.s.Load(opCtx, b.id, store.LoadOptions{Now: time.Now(), Idle: idle, TouchAfter: idle})
			cancel()
			switch {
			case err == nil && string(rec.Values["n"]) == fmt.Sprint(i%len(before)):
				readOK.Add(1)
			case err == nil:
				readBad.CompareAndSwap(nil, fmt.Sprintf("session %d read back as %q", i%len(before), rec.Values["n"]))
			case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrExpired):
				readBad.CompareAndSwap(nil, fmt.Sprintf("session %d reported as an outcome: %v", i%len(before), err))
			default:
				readErr.Add(1)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	stopped := false
	halt := func() {
		if !stopped {
			stopped = true
			close(stop)
			wg.Wait()
		}
	}
	defer halt()

	time.Sleep(200 * time.Millisecond) // under load
	sampled := time.Now()
	require.NoError(t, f.replicated(), "waiting for the replica")
	killed := time.Now()
	require.NoError(t, f.kill(), "killing the master")
	require.NoError(t, f.promoted(), "waiting for the promotion")
	promoted := time.Now()
	t.Logf("replication caught up %v after the sample; promotion %v after the SIGKILL",
		killed.Sub(sampled).Round(time.Microsecond), promoted.Sub(killed).Round(time.Millisecond))

	// The store serves again: a Create and a Load on the failed-over
	// master's slots work through every client within a bound.
	for i, st := range stores {
		deadline := time.Now().Add(10 * time.Second)
		for {
			require.True(t, time.Now().Before(deadline), "client %d never served again", i)
			id := randomID()
			if f.affected != nil && !f.affected(ctx, keyOf(id)) {
				continue // not on the failed-over master's slots
			}
			opCtx, cancel := context.WithTimeout(ctx, opDeadline)
			_, err := st.Create(opCtx, id, &store.Record{Meta: meta(time.Now(), "carol")}, wopts(time.Now()))
			if err == nil {
				_, err = st.Load(opCtx, id, store.LoadOptions{Now: time.Now(), Idle: idle, TouchAfter: idle})
			}
			cancel()
			if err == nil {
				t.Logf("client %d served again %v after the promotion, %v after the SIGKILL", i,
					time.Since(promoted).Round(time.Millisecond), time.Since(killed).Round(time.Millisecond))
				break
			}
			requireFailure(t, err, "a call after the promotion")
			require.True(t, time.Now().Before(deadline), "client %d never served again: %v", i, err)
			time.Sleep(20 * time.Millisecond)
		}
	}
	time.Sleep(300 * time.Millisecond) // a few writes after the promotion
	halt()
	if bad := readBad.Load(); bad != nil {
		t.Errorf("during the failover: %s", bad)
	}
	t.Logf("loads of sessions stored before: %d answered, %d failed with an error", readOK.Load(), readErr.Load())
	assert.NotZero(t, readErr.Load(), "no load failed: the master was never down")

	// What the failover kept.
	for i, b := range before {
		for j, st := range stores {
			var rec *store.Record
			eventually(t, 5*time.Second, "a session stored before", func(ctx context.Context) (err error) {
				rec, err = st.Load(ctx, b.id, store.LoadOptions{Now: time.Now(), Idle: idle, TouchAfter: idle})
				return err
			})
			assert.Equal(t, fmt.Sprint(i), string(rec.Values["n"]), "session %d through client %d", i, j)
		}
	}
	entries, err := s.ListUser(ctx, "alice", time.Now())
	require.NoError(t, err)
	assert.Len(t, entries, len(before), "alice's index after the failover")

	var beforeSample, inWindow, windowKept, afterPromotion, refused, refusedLanded int
	var lost []string
	for _, w := range writes {
		rec, err := s.Load(ctx, w.id, store.LoadOptions{Now: time.Now(), Idle: idle, TouchAfter: idle})
		kept := err == nil && string(rec.Values["id"]) == w.id
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("reading back: %v", err)
		}
		onVictim := f.affected == nil || f.affected(ctx, keyOf(w.id))
		switch {
		case w.err != nil:
			requireFailure(t, w.err, "a Create during the failover")
			refused++
			if kept {
				refusedLanded++
			}
		case w.end.Before(sampled):
			beforeSample++
			assert.True(t, kept, "a session acknowledged before the replication sample was lost: %s", w.id[:16])
		case w.end.After(promoted):
			afterPromotion++
			assert.True(t, kept, "a session acknowledged after the promotion was lost: %s", w.id[:16])
		case onVictim:
			inWindow++
			if kept {
				windowKept++
			} else {
				lost = append(lost, fmt.Sprintf("%s (acknowledged %v after the sample)", w.id[:16], w.end.Sub(sampled).Round(time.Microsecond)))
			}
		default:
			assert.True(t, kept, "a session on a master that never failed was lost: %s", w.id[:16])
		}
	}
	t.Logf("Creates: %d acknowledged before the replication sample, all kept; %d acknowledged on the failed master "+
		"between the sample and the promotion (the window replication may lose): %d kept, %d lost %v; "+
		"%d acknowledged after the promotion, all kept; %d refused with an error (%d of them had landed)",
		beforeSample, inWindow, windowKept, inWindow-windowKept, lost, afterPromotion, refused, refusedLanded)
	assert.NotZero(t, beforeSample)
	assert.NotZero(t, refused, "no Create failed: the master was never down")
	assert.NotZero(t, afterPromotion, "no Create worked after the promotion")
}
