package redisstore

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/core/store"
	"github.com/sessionkit/sessionkit/internal/redistest"
)

// Scripts to weigh updateScript against, for BenchmarkUpdateVariants:
// the least an update could do (three calls, no checks), nothing at all,
// the preamble every script of the package runs (luaStatuses, luaLib,
// luaFields), the preamble with updateScript's read of the fields (one
// HMGET of 13), that HMGET alone, and the read with the check.
var benchMinimalUpdate = redis.NewScript(`
local h = redis.call('HMGET', KEYS[1], 'm:ls', 'm:exp', 'm:dl')
if not h[1] then return {'NOTFOUND'} end
redis.call('HSET', KEYS[1], 'm:ls', ARGV[1], 'm:dl', ARGV[2], ARGV[10], ARGV[11])
redis.call('PEXPIRE', KEYS[1], 3600000)
return {'OK', '', ARGV[2], ARGV[2]}
`)

var benchEmptyScript = redis.NewScript(`return {'OK'}`)

var benchPreamble = redis.NewScript(luaStatuses + luaLib + luaFields + `return {OK}`)

var benchFieldsOnly = redis.NewScript(luaStatuses + luaLib + luaFields + `
local f, any = fields(KEYS[1], 'm:uid')
return {OK}`)

var benchHMGET13 = redis.NewScript(`
local h = redis.call('HMGET', KEYS[1], 'm:next', 'm:gend', 'm:at', 'm:gone', 'm:rev', 'm:ls', 'm:exp', 'm:dl', 'm:ct', 'm:it', 'm:idle', 'm:rem', 'm:uid')
return {'OK'}`)

var benchFieldsCheck = redis.NewScript(luaStatuses + luaLib + luaFields + `
local f, any = fields(KEYS[1], 'm:uid')
local out, ls, exp, own = check(f, tonumber(ARGV[1]), tonumber(ARGV[2]), NOTFOUND)
return {OK}`)

// BenchmarkUpdateVariants runs updateScript, as Update sends it for one
// changed key of a new session, and the scripts above, interleaved, each
// on a server of its own so that INFO commandstats tells their EVALSHAs
// apart: srv-µs/op is the server's time per call, what the script runs
// included.
//
//	go test -run '^$' -bench UpdateVariants -count 5 ./stores/redisstore/
func BenchmarkUpdateVariants(b *testing.B) {
	ctx := context.Background()
	newClient := func() *redis.Client {
		srv := redistest.Standalone(b)
		c := redis.NewClient(&redis.Options{Addr: srv.Addr(), PoolSize: 1})
		b.Cleanup(func() { c.Close() })
		return c
	}
	now := time.Now()
	m := store.Meta{CreatedAt: now, IssuedAt: now, LastSeen: now, ExpiresAt: now.Add(24 * time.Hour), IP: "192.0.2.1"}
	key := "session:" + strings.Repeat("ab", 32)
	dl := deadline(now, time.Hour, m.ExpiresAt)
	// The marker of the change (marks.go), as a store with the default
	// prefix would send it.
	marker := markerKey(DefaultPrefix, key, newTag())
	args := []any{millis(now), time.Hour.Milliseconds(), "0", "", "", 0, 0, 2, "v:count", "2", marker}
	type variant struct {
		name string
		c    *redis.Client
		sc   *redis.Script
		args []any
	}
	variants := []variant{
		{"updateScript", newClient(), updateScript, args},
		{"minimal", newClient(), benchMinimalUpdate, []any{millis(now), dl, "0", "", "", 0, 0, 2, 0, "v:count", "2"}},
		{"empty", newClient(), benchEmptyScript, nil},
		{"preamble", newClient(), benchPreamble, nil},
		{"fieldsonly", newClient(), benchFieldsOnly, nil},
		{"hmget13", newClient(), benchHMGET13, nil},
		{"fieldscheck", newClient(), benchFieldsCheck, args},
	}
	for _, v := range variants {
		if err := v.c.HSet(ctx, key, recordArgs(&m, dl, map[string][]byte{"count": []byte("1")})...).Err(); err != nil {
			b.Fatal(err)
		}
		v.c.PExpire(ctx, key, time.Hour)
		if err := v.sc.Load(ctx, v.c).Err(); err != nil {
			b.Fatal(err)
		}
		if err := v.c.ConfigResetStat(ctx).Err(); err != nil {
			b.Fatal(err)
		}
	}
	spent := make([]time.Duration, len(variants))
	b.ResetTimer()
	for i := range b.N {
		for j := range variants {
			k := (i + j) % len(variants)
			start := time.Now()
			if err := variants[k].sc.EvalSha(ctx, variants[k].c, []string{key}, variants[k].args...).Err(); err != nil {
				b.Fatal(err)
			}
			spent[k] += time.Since(start)
		}
	}
	b.StopTimer()
	for i, v := range variants {
		b.ReportMetric(float64(spent[i].Nanoseconds())/float64(b.N), v.name+"-ns/op")
		b.ReportMetric(serverUsec(b, v.c, []string{"evalsha"})/float64(b.N), v.name+"-srv-µs/op")
	}
}
