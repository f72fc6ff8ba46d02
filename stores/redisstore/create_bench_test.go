package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/internal/redistest"
)

// benchCreateScript is the least a script creating a session can do: an
// EXISTS check, one HSET, one PEXPIRE. For comparison only.
var benchCreateScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
`)

// serverUsec reads INFO commandstats and returns the total usec of the
// named commands.
func serverUsec(b *testing.B, c *redis.Client, names []string) float64 {
	b.Helper()
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		b.Fatal(err)
	}
	total := 0.0
	for _, line := range strings.Split(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		for _, n := range names {
			if name != "cmdstat_"+n {
				continue
			}
			for _, kv := range strings.Split(rest, ",") {
				if v, ok := strings.CutPrefix(kv, "usec="); ok {
					u, err := strconv.ParseFloat(v, 64)
					if err != nil {
						b.Fatal(err)
					}
					total += u
				}
			}
		}
	}
	return total
}

// BenchmarkCreateVariants compares, on a server of its own, what a new
// anonymous session could cost: the client's ns/op and the server's time
// per create (srv-µs/op: INFO commandstats usec of the top-level commands,
// a transaction's EXEC and a script's EVALSHA including what they run).
//
//	go test -run '^$' -bench CreateVariants -count 5 ./stores/redisstore/
func BenchmarkCreateVariants(b *testing.B) {
	srv := redistest.Standalone(b)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr(), PoolSize: 1})
	b.Cleanup(func() { c.Close() })
	ctx := context.Background()
	now := time.Now()
	m := store.Meta{CreatedAt: now, IssuedAt: now, LastSeen: now, ExpiresAt: now.Add(24 * time.Hour),
		UserAgent: "Mozilla/5.0 (X11; Linux x86_64)", IP: "192.0.2.1"}
	dl := deadline(m.LastSeen, time.Hour, m.ExpiresAt)
	values := map[string][]byte{"count": []byte("1")}
	fields := recordArgs(&m, dl, values)
	value := strings.Repeat("x", 200)
	ttl := time.Hour
	s := &Store{c: c}
	key := func() string {
		var r [32]byte
		_, _ = rand.Read(r[:])
		return "session:" + hex.EncodeToString(r[:])
	}
	if err := benchCreateScript.Load(ctx, c).Err(); err != nil {
		b.Fatal(err)
	}
	for kind, dump := range map[string]func([]any) []byte{"hash": dumpHash, "listpack": dumpListpack} {
		b.Run(kind, func(b *testing.B) {
			type variant struct {
				name string
				top  []string
				op   func(k string) error
			}
			var variants []variant
			for _, v := range []variant{
				{"SET-NX-PX-200B", []string{"set"}, func(k string) error {
					return c.SetArgs(ctx, k, value, redis.SetArgs{Mode: "NX", TTL: ttl}).Err()
				}},
				{"MULTI-HSET-PEXPIRE-RENAMENX-DEL", []string{"multi", "exec"}, func(k string) error {
					s.noRestore.Store(true)
					_, err := s.createAnonymous(ctx, k, ttl.Milliseconds(), &m, dl, values)
					return err
				}},
				{"RESTORE-" + kind, []string{"restore"}, func(k string) error {
					return c.Restore(ctx, k, ttl, string(dump(fields))).Err()
				}},
				{"EVALSHA-EXISTS-HSET-PEXPIRE", []string{"evalsha"}, func(k string) error {
					return benchCreateScript.EvalSha(ctx, c, []string{k}, append([]any{ttl.Milliseconds()}, fields...)...).Err()
				}},
			} {
				variants = append(variants, variant{v.name, v.top, v.op})
			}
			for _, v := range variants {
				if err := v.op(key()); err != nil { // warm: the connection, the script
					b.Fatal(err)
				}
			}
			if err := c.ConfigResetStat(ctx).Err(); err != nil {
				b.Fatal(err)
			}
			keys := make([]string, b.N*len(variants))
			for i := range keys {
				keys[i] = key()
			}
			spent := make([]time.Duration, len(variants))
			b.ResetTimer()
			for i := range b.N {
				// Interleaved, so that a noisy machine spreads its noise over
				// every variant alike.
				for j := range variants {
					v := (i + j) % len(variants)
					start := time.Now()
					if err := variants[v].op(keys[i*len(variants)+j]); err != nil {
						b.Fatal(err)
					}
					spent[v] += time.Since(start)
				}
			}
			b.StopTimer()
			for i, v := range variants {
				b.ReportMetric(float64(spent[i].Nanoseconds())/float64(b.N), v.name+"-ns/op")
				b.ReportMetric(serverUsec(b, c, v.top)/float64(b.N), v.name+"-srv-µs/op")
			}

		})
	}
}
