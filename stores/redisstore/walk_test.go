package redisstore_test

import (
	"context"
	"errors"
	"strings"
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
)

// walkAll walks s at now and returns how many times each ID was shown,
// requiring fn never to be called while another call runs.
func walkAll(t *testing.T, s *redisstore.Store, now time.Time) map[string]int {
	t.Helper()
	seen := map[string]int{}
	var in atomic.Bool
	err := s.Walk(context.Background(), now, func(e store.Entry) error {
		require.True(t, in.CompareAndSwap(false, true), "fn called concurrently")
		defer in.Store(false)
		seen[e.ID]++ // unguarded: -race reports concurrent calls too
		return nil
	})
	require.NoError(t, err, "Walk")
	return seen
}

// TestWalkCluster: a walk over a three-master cluster shows the sessions
// of every master, each once (no resharding is under way), from one
// goroutine at a time.
func TestWalkCluster(t *testing.T) {
	t.Parallel()
	client := clusterClient(t)
	s, prefix := newStore(t, client)
	ctx := context.Background()
	now := time.Now()
	want := map[string]bool{}
	for i := range 60 {
		user := ""
		if i%4 == 0 {
			user = "alice"
		}
		want[create(t, s, now, user, "k", "v")] = true
	}

	cluster, ok := client.(*redis.ClusterClient)
	require.True(t, ok, "the cluster client is a %T", client)
	var mu sync.Mutex
	perMaster := map[string]int{}
	require.NoError(t, cluster.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		n := 0
		iter := m.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			if want[strings.TrimPrefix(iter.Val(), prefix)] {
				n++
			}
		}
		mu.Lock()
		defer mu.Unlock()
		perMaster[m.Options().Addr] = n
		return iter.Err()
	}))
	require.Len(t, perMaster, 3, "masters")
	for addr, n := range perMaster {
		require.Positive(t, n, "no session on master %s: the test proves nothing", addr)
	}

	seen := walkAll(t, s, now)
	assert.Len(t, seen, len(want))
	for id := range want {
		assert.Equal(t, 1, seen[id], "session %s shown %d times", id, seen[id])
	}
}

// TestWalkSkipsWhatIsNoSession: under the store's prefix, beside live
// sessions, keys of other types, a hash this package did not write and
// records whose metadata does not decode are skipped, not reported (see
// Walk's doc): the walk goes on and shows every live session. So are the
// user index keys, forwarding entries, markers, tombstones and sessions
// past their stored deadline. Load still reports the corrupt record.
func TestWalkSkipsWhatIsNoSession(t *testing.T) {
	t.Parallel()
	client := standaloneClient(t)
	s, prefix := newStore(t, client)
	ctx := context.Background()
	now := time.Now()

	want := map[string]bool{}
	for _, user := range []string{"", "alice", "alice", "bob"} {
		want[create(t, s, now, user, "k", "v")] = true
	}
	m := meta(now, "carol")
	m.Idle = 3 * idle // outlives the others' deadline
	remembered := newID(t)
	_, err := s.Create(ctx, remembered, &store.Record{Meta: m}, wopts(now))
	require.NoError(t, err)

	foreign := map[string]func(key string) error{
		"string": func(k string) error { return client.Set(ctx, k, "x", time.Hour).Err() },
		"list":   func(k string) error { return client.RPush(ctx, k, "x").Err() },
		"set":    func(k string) error { return client.SAdd(ctx, k, "x").Err() },
		"hash":   func(k string) error { return client.HSet(ctx, k, "name", "someone else's").Err() },
	}
	for _, write := range foreign {
		require.NoError(t, write(prefix+newID(t)))
	}
	var corrupt []string
	for _, field := range [][2]string{{"m:ls", "yesterday"}, {"m:md", "{}"}, {"m:idle", "-1"}} {
		id := create(t, s, now, "alice")
		require.NoError(t, client.HSet(ctx, prefix+id, field[0], field[1]).Err())
		corrupt = append(corrupt, id)
	}
	// A forwarding entry and a marker (their successors are live), a
	// tombstone, and a session whose deadline passes before the others'.
	for _, grace := range []time.Duration{time.Minute, 0} {
		old, next := create(t, s, now, "alice"), newID(t)
		_, err := s.Renew(ctx, old, next, &store.Change{Now: now, Idle: idle}, store.WriteOptions{Now: now, Idle: idle, Grace: grace})
		require.NoError(t, err)
		want[next] = true
	}
	_, err = s.Delete(ctx, create(t, s, now, "alice"))
	require.NoError(t, err)
	short := meta(now, "")
	short.ExpiresAt = now.Add(time.Minute)
	_, err = s.Create(ctx, newID(t), &store.Record{Meta: short}, wopts(now))
	require.NoError(t, err)

	seen := walkAll(t, s, now.Add(2*time.Minute))
	for id := range want {
		assert.Contains(t, seen, id)
	}
	assert.Contains(t, seen, remembered)
	assert.Len(t, seen, len(want)+1, "Walk showed what is no live session")

	// Past the call's idle timeout, only the session with its own.
	assert.Equal(t, map[string]int{remembered: 1}, walkAll(t, s, now.Add(idle+time.Minute)))

	for _, id := range corrupt {
		_, err := s.Load(ctx, id, store.LoadOptions{Now: now, Idle: idle, TouchAfter: idle})
		assert.ErrorIs(t, err, redisstore.ErrCorrupt, "Load of a record Walk skipped")
	}
}

// TestWalkPrefixIsLiteral: a prefix holding glob characters is matched as
// it is written. A store whose prefix the unescaped pattern would match is
// not walked, nor is one whose prefix extends this one.
func TestWalkPrefixIsLiteral(t *testing.T) {
	t.Parallel()
	client := standaloneClient(t)
	base := redistest.Prefix(t)
	now := time.Now()
	stores := map[string]*redisstore.Store{}
	ids := map[string]string{}
	for _, p := range []string{
		`[ab]*?\:`,                          // the store walked
		`bzz!\:`,                            // matched by the pattern unescaped
		`[ab]*?\:a`, `[ab]*?\:u:`, `[ab]*?`, // longer and shorter
	} {
		s, err := redisstore.New(client, redisstore.Options{Prefix: base + p})
		require.NoError(t, err)
		stores[p] = s
		ids[p] = create(t, s, now, "alice")
	}
	for p, s := range stores {
		assert.Equal(t, map[string]int{ids[p]: 1}, walkAll(t, s, now), "prefix %q", p)
	}
}

// walkHook records what a walk sends.
type walkHook struct {
	mu        sync.Mutex
	names     map[string]int
	args      [][]any
	pipelines []int
}

func (h *walkHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *walkHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.record(cmd)
		return next(ctx, cmd)
	}
}

func (h *walkHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.mu.Lock()
		h.pipelines = append(h.pipelines, len(cmds))
		h.mu.Unlock()
		h.record(cmds...)
		return next(ctx, cmds)
	}
}

func (h *walkHook) record(cmds ...redis.Cmder) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range cmds {
		h.names[c.Name()]++
		h.args = append(h.args, c.Args())
	}
}

// TestWalkReadsMetadataInBatches: a walk sends SCANs and HMGETs of
// metadata fields only, never reading a value, in pipelines no longer than
// about a batch, and stops at fn's error and at the context's end.
func TestWalkReadsMetadataInBatches(t *testing.T) {
	t.Parallel()
	_, client, s := ownServer(t)
	ctx := context.Background()
	now := time.Now()
	const n = 3 * redisstore.WalkBatch
	seedSessions(t, client.(*redis.Client), redisstore.Options{}, "alice", n, now)

	h := &walkHook{names: map[string]int{}}
	client.AddHook(h)
	seen := walkAll(t, s, now)
	assert.Len(t, seen, n)

	h.mu.Lock()
	for name := range h.names {
		assert.Contains(t, []string{"scan", "hmget"}, name, "a walk sent %s", name)
	}
	for _, args := range h.args {
		for _, a := range args {
			if f, ok := a.(string); ok {
				assert.False(t, strings.HasPrefix(f, "v:"), "a walk read the value field %s", f)
			}
		}
	}
	assert.Greater(t, len(h.pipelines), 2, "one pipeline for all: %v", h.pipelines)
	for _, l := range h.pipelines {
		assert.LessOrEqual(t, l, 2*redisstore.WalkBatch, "a pipeline of %d", l)
	}
	h.mu.Unlock()

	// fn's error, as it is, after one call.
	calls := 0
	errStop := errors.New("enough")
	err := s.Walk(ctx, now, func(store.Entry) error { calls++; return errStop })
	assert.True(t, err == errStop, "Walk returned %v, not fn's error as it is", err)
	assert.Equal(t, 1, calls)

	// A context cancelled mid-walk ends it before the next call of fn.
	cctx, cancel := context.WithCancel(ctx)
	calls = 0
	err = s.Walk(cctx, now, func(store.Entry) error {
		calls++
		cancel()
		return nil
	})
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, calls)
}
