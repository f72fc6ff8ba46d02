package redisstore_test

import (
	"context"
	"os"
	"slices"
	"strconv"
	"strings"
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

// seedSessions writes n live sessions of user straight into Redis, laid
// out as Create lays them out (the record and its two index entries), in
// pipelines of a thousand: a Create per session would take seconds.
func seedSessions(t *testing.T, c *redis.Client, o redisstore.Options, user string, n int, now time.Time) []string {
	t.Helper()
	ctx := context.Background()
	index, expiry := o.UserKeys(user)
	ms := now.UnixMilli()
	ids := make([]string, n)
	for from := 0; from < n; from += 1000 {
		pipe := c.Pipeline()
		for i := from; i < min(from+1000, n); i++ {
			id := newID(t)
			ids[i] = id
			key := o.SessionKey(id)
			pipe.HSet(ctx, key, "m:uid", user, "m:ct", ms, "m:it", ms, "m:exp", ms+lifetime.Milliseconds(),
				"m:ua", "test-agent", "m:ip", "192.0.2.1", "m:ls", ms, "m:dl", ms+idle.Milliseconds())
			pipe.PExpire(ctx, key, idle)
			pipe.ZAdd(ctx, index, redis.Z{Score: float64(ms), Member: id})
			pipe.ZAdd(ctx, expiry, redis.Z{Score: float64(ms + lifetime.Milliseconds()), Member: id})
		}
		_, err := pipe.Exec(ctx)
		require.NoError(t, err)
	}
	for _, k := range []string{index, expiry} {
		require.NoError(t, c.PExpire(ctx, k, lifetime+time.Hour).Err())
	}
	return ids
}

// scriptSizes is a go-redis hook that records the largest script call
// sent (its argument count: EVALSHA, the SHA, the key count, keys, ARGV).
type scriptSizes struct {
	mu      sync.Mutex
	largest int
	calls   int
}

func (h *scriptSizes) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *scriptSizes) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.record(cmd)
		return next(ctx, cmd)
	}
}

func (h *scriptSizes) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.record(cmds...)
		return next(ctx, cmds)
	}
}

func (h *scriptSizes) record(cmds ...redis.Cmder) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range cmds {
		if c.Name() == "evalsha" || c.Name() == "eval" {
			h.calls++
			h.largest = max(h.largest, len(c.Args()))
		}
	}
}

// maxBatch is the most session IDs one script call of DeleteUser may
// carry: Redis runs one script at a time, and every other client waits
// for it.
const maxBatch = 256

// TestDeleteUserInBatches: revoking a user's thousands of sessions is
// done in batches, no script call handling more than maxBatch IDs, and
// still revokes every one. It logs the longest script call the server
// saw (SLOWLOG) and the wall time; REDISSTORE_REVOKE_SESSIONS sets the
// number of sessions (50000 for the figures in the package doc).
func TestDeleteUserInBatches(t *testing.T) {
	n := 3000
	if v := os.Getenv("REDISSTORE_REVOKE_SESSIONS"); v != "" {
		var err error
		n, err = strconv.Atoi(v)
		require.NoError(t, err)
	}
	srv := redistest.Standalone(t)
	ctx := context.Background()
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { admin.Close() })
	c := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { c.Close() })
	require.NoError(t, redisstore.LoadScripts(ctx, c))
	sizes := &scriptSizes{}
	c.AddHook(sizes)
	s, err := redisstore.New(c, redisstore.Options{})
	require.NoError(t, err)
	now := time.Now()
	ids := seedSessions(t, admin, redisstore.Options{}, "alice", n, now)
	bob := create(t, s, now, "bob", "b", "2")

	// Only calls of 200 µs or more are logged: logging every command
	// (inner ones too) would itself slow the scripts down.
	require.NoError(t, admin.ConfigSet(ctx, "slowlog-log-slower-than", "200").Err())
	require.NoError(t, admin.ConfigSet(ctx, "slowlog-max-len", strconv.Itoa(8*n+1000)).Err())
	require.NoError(t, admin.SlowLogReset(ctx).Err())
	require.NoError(t, admin.ConfigResetStat(ctx).Err())
	start := time.Now()
	deleted, err := s.DeleteUser(ctx, "alice", "")
	elapsed := time.Since(start)
	require.NoError(t, err)
	require.NoError(t, admin.ConfigSet(ctx, "slowlog-log-slower-than", "10000").Err())
	// As sets: ElementsMatch is quadratic, minutes for 50000.
	want := make(map[string]bool, n)
	for _, id := range ids {
		want[id] = true
	}
	got := make(map[string]bool, len(deleted))
	for _, id := range deleted {
		got[id] = true
	}
	assert.Len(t, deleted, n)
	assert.Equal(t, want, got, "the IDs DeleteUser reports")

	entries, err := admin.SlowLogGet(ctx, -1).Result()
	require.NoError(t, err)
	var longest, longestCmd time.Duration
	var slowest string
	for _, e := range entries {
		if len(e.Args) > 0 && (e.Args[0] == "evalsha" || e.Args[0] == "eval") {
			longest = max(longest, e.Duration)
		}
		if e.Duration > longestCmd && len(e.Args) > 0 {
			longestCmd, slowest = e.Duration, e.Args[0]
		}
	}
	// Every script's time, inner commands included (INFO commandstats).
	scripts := time.Duration(serverUsec(t, admin, "evalsha")+serverUsec(t, admin, "eval")) * time.Microsecond
	// Per script (by SHA) among the calls logged: the longest, and the
	// median, which the noise of a shared machine (a preempted server)
	// moves less.
	bySHA := map[string][]time.Duration{}
	for _, e := range entries {
		if len(e.Args) > 1 && e.Args[0] == "evalsha" {
			bySHA[e.Args[1][:8]] = append(bySHA[e.Args[1][:8]], e.Duration)
		}
	}
	for sha, ds := range bySHA {
		slices.Sort(ds)
		t.Logf("  script %s: %d calls, median %v, 99th percentile %v, longest %v",
			sha, len(ds), ds[len(ds)/2], ds[len(ds)*99/100], ds[len(ds)-1])
	}
	t.Logf("DeleteUser of %d sessions: %v wall time; %d script calls, the longest %v, %v of server time in all; the longest command %s %v",
		n, elapsed.Round(time.Millisecond), sizes.calls, longest, scripts.Round(time.Millisecond), slowest, longestCmd)
	assert.LessOrEqual(t, sizes.largest-8, maxBatch, "a script call carried more IDs than a batch")

	index, expiry := redisstore.Options{}.UserKeys("alice")
	for _, k := range []string{index, expiry, index + ":e"} {
		assert.Zero(t, admin.Exists(ctx, k).Val(), "%s left behind", k)
	}
	for _, id := range []string{ids[0], ids[n/2], ids[n-1]} {
		_, err := s.Load(ctx, id, store.LoadOptions{Now: now, Idle: idle})
		require.ErrorIs(t, err, store.ErrNotFound)
	}
	_, err = s.Load(ctx, bob, store.LoadOptions{Now: now, Idle: idle, TouchAfter: idle})
	require.NoError(t, err, "another user's session")
}

// serverUsec is the server time INFO commandstats reports for cmd since
// the last CONFIG RESETSTAT, in microseconds.
func serverUsec(t *testing.T, c *redis.Client, cmd string) int64 {
	t.Helper()
	info, err := c.Info(context.Background(), "commandstats").Result()
	require.NoError(t, err)
	for _, line := range strings.Split(info, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_"+cmd+":")
		if !ok {
			continue
		}
		for _, kv := range strings.Split(rest, ",") {
			if v, ok := strings.CutPrefix(kv, "usec="); ok {
				n, err := strconv.ParseInt(v, 10, 64)
				require.NoError(t, err, line)
				return n
			}
		}
	}
	return 0
}
