package bench

import (
	"bufio"
	"context"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	redigo "github.com/gomodule/redigo/redis"
	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/internal/redistest"
	"github.com/sessionkit/sessionkit/stores/redisstore"
)

// Every Redis benchmark talks to a redis-server that this benchmark started
// on a free loopback port (internal/redistest), never to one already
// running on the machine.

// sessionkitOn is sessionkit's adapter for each framework, serving the
// three routes through a manager.
var sessionkitOn = []struct {
	fw   string
	make func(*core.Manager) *subject
}{
	{"nethttp", nethttpSessionkit},
	{"gin", ginSessionkit},
	{"echo", echoSessionkit},
	{"echov5", echov5Sessionkit},
	{"fiber", fiberSessionkit},
	{"fiberv3", fiberv3Sessionkit},
}

// BenchmarkRedis runs the four scenarios for sessionkit, sessionkit with
// redisstore's near cache on (sessionkit-cache), and the peers on each
// framework, every library on Redis.
func BenchmarkRedis(b *testing.B) {
	srv := startRedis(b)
	peers := map[string][]factory{
		"nethttp": {
			{"scs", func(b *testing.B) *subject { return scsRedis(b, srv) }},
			{"scs-idle", func(b *testing.B) *subject { return scsRedisIdle(b, srv) }},
		},
		"gin":     {{"gin-sessions", func(b *testing.B) *subject { return ginSessionsRedis(b, srv) }}},
		"echo":    {{"echo-session", func(b *testing.B) *subject { return echoSessionRedis(b, srv) }}},
		"echov5":  {{"echov5-session", func(b *testing.B) *subject { return echov5SessionRedis(b, srv) }}},
		"fiber":   {{"fiber-session", func(b *testing.B) *subject { return fiberSessionRedis(b, srv) }}},
		"fiberv3": {{"fiberv3-session", func(b *testing.B) *subject { return fiberv3SessionRedis(b, srv) }}},
	}
	for _, a := range sessionkitOn {
		runSubjects(b, a.fw, append(sessionkitFactories(srv, a.make), peers[a.fw]...), false, srv.meter)
	}
}

// BenchmarkRedisCluster is the ReadOnly scenario of sessionkit, without
// and with the near cache, on each framework, on a three-master Redis
// Cluster of the benchmark's own. The peers have no Cluster support
// (redigo-based stores) or are not measured there.
func BenchmarkRedisCluster(b *testing.B) {
	srv := startRedisCluster(b)
	readOnly := []scenario{{"ReadOnly", benchReadOnly}}
	for _, a := range sessionkitOn {
		runScenarios(b, a.fw, sessionkitFactories(srv, a.make), readOnly, false, srv.meter)
	}
}

// sessionkitFactories are sessionkit on srv through the adapter made by
// adapter: with redisstore's defaults ("sessionkit") and with its near
// cache on, at its defaults ("sessionkit-cache").
func sessionkitFactories(srv *redisServer, adapter func(*core.Manager) *subject) []factory {
	return []factory{
		{ours, func(b *testing.B) *subject {
			m, rt := sessionkitRedis(b, srv)
			return withRoundTrips(adapter(m), rt)
		}},
		{ours + "-cache", func(b *testing.B) *subject {
			m, rt, st := sessionkitRedisCached(b, srv)
			s := withRoundTrips(adapter(m), rt)
			s.cache = st.CacheStats
			return s
		}},
	}
}

// ours is sessionkit's library label.
const ours = "sessionkit"

// BenchmarkRedisRaw is go-redis alone, built as sessionkit's Redis client
// is (redisstore.NewClient): one GET round trip, a GET then a SET, and GETs
// from parallel goroutines.
func BenchmarkRedisRaw(b *testing.B) {
	srv := startRedis(b)
	ctx := context.Background()
	value := strings.Repeat("v", 64)
	raw := func(b *testing.B) (redis.UniversalClient, *atomic.Int64) {
		srv.flush(b)
		c, rt := srv.goRedis(b)
		if err := c.Set(ctx, "raw", value, time.Hour).Err(); err != nil {
			b.Fatal(err)
		}
		if v, err := c.Get(ctx, "raw").Result(); err != nil || v != value {
			b.Fatalf("GET raw: %q, %v", v, err)
		}
		return c, rt
	}
	b.Run("GET", func(b *testing.B) {
		c, rt := raw(b)
		m := srv.meter(b, &subject{roundTrips: rt})
		m.begin(b)
		for i := 0; i < b.N; i++ {
			if err := c.Get(ctx, "raw").Err(); err != nil {
				b.Fatal(err)
			}
		}
		m.end(b)
	})
	b.Run("GETSET", func(b *testing.B) {
		c, rt := raw(b)
		m := srv.meter(b, &subject{roundTrips: rt})
		m.begin(b)
		for i := 0; i < b.N; i++ {
			if err := c.Get(ctx, "raw").Err(); err != nil {
				b.Fatal(err)
			}
			if err := c.Set(ctx, "raw", value, time.Hour).Err(); err != nil {
				b.Fatal(err)
			}
		}
		m.end(b)
	})
	b.Run("GETParallel", func(b *testing.B) {
		c, rt := raw(b)
		m := srv.meter(b, &subject{roundTrips: rt})
		m.begin(b)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := c.Get(ctx, "raw").Err(); err != nil {
					b.Error(err)
					return
				}
			}
		})
		m.end(b)
	})
}

// redisServer is a redis-server of the benchmark's own, or the nodes of a
// Redis Cluster of its own, and a client to administer each node
// (FLUSHALL, INFO).
type redisServer struct {
	addrs  []string
	admins []*redis.Client
}

func startRedis(b *testing.B) *redisServer {
	s := redistest.Standalone(b) // skips, loudly, without redis-server
	return newRedisServer(b, []string{s.Addr()})
}

// startRedisCluster starts a Redis Cluster of three masters (no replicas).
func startRedisCluster(b *testing.B) *redisServer {
	c := redistest.NewCluster(b) // skips, loudly, without redis-server or redis-cli
	return newRedisServer(b, c.Addrs())
}

func newRedisServer(b *testing.B, addrs []string) *redisServer {
	r := &redisServer{addrs: addrs}
	for _, a := range addrs {
		admin := redis.NewClient(&redis.Options{Addr: a})
		b.Cleanup(func() { _ = admin.Close() })
		r.admins = append(r.admins, admin)
	}
	return r
}

func (r *redisServer) flush(b *testing.B) {
	for _, admin := range r.admins {
		if err := admin.FlushAll(context.Background()).Err(); err != nil {
			b.Fatal(err)
		}
	}
}

// goRedis is a go-redis client built as sessionkit's demos build theirs,
// counting its round trips.
func (r *redisServer) goRedis(b *testing.B) (redis.UniversalClient, *atomic.Int64) {
	c, err := redisstore.NewClient(r.addrs, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	rt := new(atomic.Int64)
	c.AddHook(roundTripHook{rt})
	return c, rt
}

// sessionkitRedis is a sessionkit manager with its defaults on redisstore
// (default options: prefix "session:"), on an empty server.
func sessionkitRedis(b *testing.B, srv *redisServer) (*core.Manager, *atomic.Int64) {
	srv.flush(b)
	c, rt := srv.goRedis(b)
	st, err := redisstore.New(c, redisstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return manager(b, st), rt
}

// sessionkitRedisCached is sessionkitRedis with redisstore's near cache on,
// at its defaults (64 MiB, MaxStaleness 1s), once its tracking is up: until
// then every Load reads Redis. The store is the manager's, returned for
// its counters.
func sessionkitRedisCached(b *testing.B, srv *redisServer) (*core.Manager, *atomic.Int64, *redisstore.Store) {
	srv.flush(b)
	c, rt := srv.goRedis(b)
	st, err := redisstore.New(c, redisstore.Options{Cache: &redisstore.CacheOptions{}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() }) // before the client's Close (cleanups run last first)
	waitTracking(b, st)
	return manager(b, st), rt, st
}

// waitTracking waits until every node of st's near cache is tracked.
func waitTracking(b *testing.B, st *redisstore.Store) {
	deadline := time.Now().Add(10 * time.Second)
	for !st.CacheStats().Tracking {
		if time.Now().After(deadline) {
			b.Fatalf("the near cache's tracking is not up after 10s: %v", st.CacheStats().TrackingError)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func withRoundTrips(s *subject, rt *atomic.Int64) *subject {
	s.roundTrips = rt
	return s
}

// roundTripHook counts go-redis round trips: a command, or a pipeline.
type roundTripHook struct{ n *atomic.Int64 }

func (h roundTripHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h roundTripHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}

func (h roundTripHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmds)
	}
}

// redigoPool is a redigo pool of up to 10 idle connections whose round
// trips are counted. pingOnBorrow is boj/redistore's TestOnBorrow, which
// NewRediStore (and so gin-contrib/sessions/redis.NewStore) installs: a
// PING every time a connection is taken from the pool.
func (r *redisServer) redigoPool(b *testing.B, pingOnBorrow bool) (*redigo.Pool, *atomic.Int64) {
	rt := new(atomic.Int64)
	p := &redigo.Pool{
		MaxIdle: 10,
		Dial: func() (redigo.Conn, error) {
			c, err := redigo.Dial("tcp", r.addrs[0])
			if err != nil {
				return nil, err
			}
			return &countingConn{Conn: c, n: rt}, nil
		},
	}
	if pingOnBorrow {
		p.IdleTimeout = 240 * time.Second
		p.TestOnBorrow = func(c redigo.Conn, _ time.Time) error {
			_, err := c.Do("PING")
			return err
		}
	}
	b.Cleanup(func() { _ = p.Close() })
	return p, rt
}

// countingConn counts the round trips of a redigo connection: each Do of a
// command, or of "" with commands sent before it, and each Flush of sent
// commands.
type countingConn struct {
	redigo.Conn
	n    *atomic.Int64
	sent int
}

func (c *countingConn) Do(cmd string, args ...any) (any, error) {
	if cmd != "" || c.sent > 0 {
		c.n.Add(1)
	}
	c.sent = 0
	return c.Conn.Do(cmd, args...)
}

func (c *countingConn) Send(cmd string, args ...any) error {
	c.sent++
	return c.Conn.Send(cmd, args...)
}

func (c *countingConn) Flush() error {
	if c.sent > 0 {
		c.n.Add(1)
		c.sent = 0
	}
	return c.Conn.Flush()
}

// ---- counting commands ----

// Commands a client sends to set up a connection, not to serve a request.
// A Cluster client's reload of the slot map (CLUSTER SLOTS, once a second
// with redisstore.NewClient) is one of them.
var setupCommands = map[string]bool{"hello": true, "client": true, "auth": true, "select": true, "command": true, "info": true, "cluster": true}

// Write commands, as far as any library here uses them.
var writeCommands = map[string]bool{
	"set": true, "setex": true, "psetex": true, "setnx": true, "getex": true, "getdel": true, "getset": true,
	"expire": true, "pexpire": true, "expireat": true, "pexpireat": true, "persist": true,
	"del": true, "unlink": true, "hset": true, "hmset": true, "hsetnx": true, "hdel": true, "hincrby": true,
	"zadd": true, "zrem": true, "zremrangebyscore": true, "sadd": true, "srem": true, "incr": true, "incrby": true,
	"rename": true, "copy": true, "restore": true, "flushall": true, "flushdb": true,
}

// cmdStat is one command's line of INFO commandstats.
type cmdStat struct{ calls, usec int64 }

// commandStats is INFO commandstats by command name, summed over the
// nodes.
func (r *redisServer) commandStats(b *testing.B) map[string]cmdStat {
	out := map[string]cmdStat{}
	for _, admin := range r.admins {
		info, err := admin.Info(context.Background(), "commandstats").Result()
		if err != nil {
			b.Fatal(err)
		}
		addCommandStats(b, out, info)
	}
	return out
}

// addCommandStats adds the lines of an INFO commandstats reply to out.
func addCommandStats(b *testing.B, out map[string]cmdStat, info string) {
	sc := bufio.NewScanner(strings.NewReader(info))
	for sc.Scan() {
		// cmdstat_get:calls=12,usec=34,...  (subcommands: cmdstat_client|setinfo)
		line, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "cmdstat_")
		if !ok {
			continue
		}
		name, rest, _ := strings.Cut(line, ":")
		name, _, _ = strings.Cut(name, "|")
		st := out[name]
		for _, field := range strings.Split(rest, ",") {
			k, v, _ := strings.Cut(field, "=")
			n, err := strconv.ParseInt(v, 10, 64)
			switch {
			case k != "calls" && k != "usec":
				continue
			case err != nil:
				b.Fatalf("INFO commandstats line %q: %v", sc.Text(), err)
			case k == "calls":
				st.calls += n
			default:
				st.usec += n
			}
		}
		out[name] = st
	}
}

// mainThreadCPU is the CPU time, in seconds, the server's main thread has
// used (INFO cpu): everything the server does for a request, reading and
// parsing it, running its commands or script or transaction, replying.
// Commandstats cannot give that total: the commands a script or a
// MULTI/EXEC runs are counted both on their own and in the wrapper's time,
// and nothing tells them from the same commands sent on their own. On a
// Cluster it is the sum over the nodes.
func (r *redisServer) mainThreadCPU(b *testing.B) float64 {
	var total float64
	for _, admin := range r.admins {
		info, err := admin.Info(context.Background(), "cpu").Result()
		if err != nil {
			b.Fatal(err)
		}
		total += mainThreadCPU(b, info)
	}
	return total
}

// mainThreadCPU is the main thread's CPU time in an INFO cpu reply.
func mainThreadCPU(b *testing.B, info string) float64 {
	var total float64
	found := 0
	sc := bufio.NewScanner(strings.NewReader(info))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":")
		if !ok || (k != "used_cpu_sys_main_thread" && k != "used_cpu_user_main_thread") {
			continue
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			b.Fatalf("INFO cpu line %q: %v", sc.Text(), err)
		}
		total += f
		found++
	}
	if found != 2 {
		b.Fatalf("INFO cpu has no main-thread CPU times (Redis 6.2 or later needed):\n%s", info)
	}
	return total
}

// meter counts, over the timed loop, the commands the server ran (INFO
// commandstats deltas; commands run by a Lua script count too) and, when
// the subject counts them, the client's round trips. It reports cmds/op,
// writes/op, roundtrips/op, NAME-cmds/op and NAME-us/op (the server's time
// in it, by commandstats) for each command, and server-us/op: the CPU time
// of the server's main thread per request (mainThreadCPU).
func (r *redisServer) meter(b *testing.B, s *subject) *meter {
	var before map[string]cmdStat
	var rt0 int64
	var cpu0 float64
	var cache0 redisstore.CacheStats
	return &meter{
		start: func(b *testing.B) {
			before = r.commandStats(b)
			cpu0 = r.mainThreadCPU(b)
			if s.roundTrips != nil {
				rt0 = s.roundTrips.Load()
			}
			if s.cache != nil {
				cache0 = s.cache()
			}
		},
		stop: func(b *testing.B, n int) {
			if s.roundTrips != nil {
				b.ReportMetric(float64(s.roundTrips.Load()-rt0)/float64(n), "roundtrips/op")
			}
			if s.cache != nil {
				// Loads the near cache served, and Loads that read Redis
				// (a miss, or a bypass while tracking was down).
				c := s.cache()
				hits := c.Hits - cache0.Hits
				reads := c.Misses - cache0.Misses + c.Bypasses - cache0.Bypasses
				b.ReportMetric(float64(hits)/float64(n), "cache-hits/op")
				b.ReportMetric(float64(reads)/float64(n), "cache-reads/op")
			}
			after := r.commandStats(b)
			var total, writes int64
			names := make([]string, 0, len(after))
			for name := range after {
				names = append(names, name)
			}
			sort.Strings(names)
			for _, name := range names {
				d := after[name].calls - before[name].calls
				if d == 0 || setupCommands[name] {
					continue
				}
				du := after[name].usec - before[name].usec
				total += d
				if writeCommands[name] {
					writes += d
				}
				b.ReportMetric(float64(d)/float64(n), name+"-cmds/op")
				b.ReportMetric(float64(du)/float64(n), name+"-us/op")
			}
			b.ReportMetric(float64(total)/float64(n), "cmds/op")
			b.ReportMetric(float64(writes)/float64(n), "writes/op")
			b.ReportMetric((r.mainThreadCPU(b)-cpu0)*1e6/float64(n), "server-us/op")
		},
	}
}
