package main

import (
	"bytes"
	"strings"
	"testing"
)

// The PostgreSQL benchmarks' lines, as go test prints them, reach the
// report: the store's tables, the raw floors, the operations at scale, the
// targets and the chart.
const pgOutput = `postgres-version: 15.20
count: 1
pkg: github.com/sessionkit/sessionkit/bench
BenchmarkPostgres/nethttp/sessionkit/ReadOnly-2   	 1000	 100000 ns/op	 1.000 roundtrips/op	 1.000 select-stmts/op	 50.00 server-us/op	 1.000 stmts/op	 0 writes/op	 4700 B/op	 59 allocs/op
BenchmarkPostgres/nethttp/sessionkit-cache/ReadOnly-2	 100000	 4000 ns/op	 1.000 cache-hits/op	 0 cache-reads/op	 0.00001 roundtrips/op	 0 select-stmts/op	 0 server-us/op	 0.00001 stmts/op	 0.00001 writes/op	 700 B/op	 5 allocs/op
BenchmarkPostgres/nethttp/scs/ReadOnly-2          	 1000	 120000 ns/op	 1.000 roundtrips/op	 1.000 select-stmts/op	 40.00 server-us/op	 1.000 stmts/op	 0 writes/op	 10000 B/op	 223 allocs/op
BenchmarkPostgres/fiber/sessionkit/ReadOnly-2     	 1000	 110000 ns/op	 1.000 roundtrips/op	 1.000 select-stmts/op	 50.00 server-us/op	 1.000 stmts/op	 0 writes/op	 4300 B/op	 58 allocs/op
BenchmarkPostgresRaw/SELECT-2                     	 4000	 60000 ns/op	 1.000 roundtrips/op	 1.000 select-stmts/op	 30.00 server-us/op	 1.000 stmts/op	 0 writes/op	 515 B/op	 9 allocs/op
BenchmarkPostgresListUser1000-2                   	 50	 4000000 ns/op	 1.000 roundtrips/op	 1.000 select-stmts/op	 1400 server-us/op	 1.000 stmts/op	 0 writes/op	 2000000 B/op	 9000 allocs/op
BenchmarkPostgresSweep100k-2                      	 1	 3000000000 ns/op	 203.0 roundtrips/op	 33333 rows/s	 201.0 stmts/op	 48000 B/op	 1800 allocs/op
`

func TestReportPostgres(t *testing.T) {
	r, err := parse(strings.NewReader(pgOutput))
	if err != nil {
		t.Fatal(err)
	}
	var md bytes.Buffer
	report(&md, r, "bench.svg")
	for _, want := range []string{
		"| PostgreSQL | 15.20 |",
		"| PostgreSQL ReadOnly ≤ 0.5 × scs | net/http | 100.0 µs | 60.0 µs | **missed by 67%** |",
		"| PostgreSQL ReadOnly: zero writing transactions | Fiber v2 | 0 | 0 | met |",
		"| cached PostgreSQL ReadOnly ≤ 0.5 × scs | net/http | 4.00 µs | 60.0 µs | met (7% of the limit) |",
		"## PostgreSQL store",
		"| **sessionkit** | ReadOnly | 100.0 µs | 4700 | 59 | 1 | 1 | 0 | 50.0 | 1 select | 0.833× | 1.67× |",
		"## Raw pgx floors",
		"| SELECT | 60.0 µs | 515 | 9 | 1 | 30.0 |",
		"## PostgreSQL store operations (sessionkit)",
		"| PostgresListUser1000 | 4.00 ms | 2000000 | 9000 | 1 roundtrips/op, 1400 server-us/op, 1 stmts/op, 0 writes/op |",
		"| PostgresSweep100k | 3.00 s | 48000 | 1800 | 203 roundtrips/op, 33333 rows/s, 201 stmts/op |",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, md.String())
		}
	}
	var svg bytes.Buffer
	chart(&svg, r)
	for _, want := range []string{">PostgreSQL store<", ">raw pgx SELECT<"} {
		if !strings.Contains(svg.String(), want) {
			t.Errorf("the chart lacks %q", want)
		}
	}
}

// The near cache's lines (issue 14) reach the report: the cached subject
// beside sessionkit, never as a peer, its targets against the memory
// store, the Cluster table, and the cross-process latency.
const cacheOutput = `redis-version: 7.0.15
count: 1
pkg: github.com/sessionkit/sessionkit/bench
BenchmarkMemory/nethttp/sessionkit/ReadOnly-2          	 100000	 2000 ns/op	 1500 B/op	 11 allocs/op
BenchmarkMemory/nethttp/scs/ReadOnly-2                 	 100000	 3000 ns/op	 1500 B/op	 11 allocs/op
BenchmarkRedis/nethttp/sessionkit/ReadOnly-2           	 5000	 46000 ns/op	 1.000 cmds/op	 1.000 hgetall-cmds/op	 2.800 hgetall-us/op	 1.000 roundtrips/op	 15.00 server-us/op	 0 writes/op	 3585 B/op	 46 allocs/op
BenchmarkRedis/nethttp/sessionkit-cache/ReadOnly-2     	 50000	 3000 ns/op	 1.000 cache-hits/op	 0 cache-reads/op	 0 cmds/op	 0 roundtrips/op	 0.02 server-us/op	 0 writes/op	 1568 B/op	 11 allocs/op
BenchmarkRedis/nethttp/scs/ReadOnly-2                  	 5000	 40000 ns/op	 1.000 cmds/op	 1.000 get-cmds/op	 1.000 get-us/op	 1.000 roundtrips/op	 12.00 server-us/op	 0 writes/op	 3000 B/op	 40 allocs/op
BenchmarkRedisCluster/nethttp/sessionkit-cache/ReadOnly-2	 50000	 5000 ns/op	 1.000 cache-hits/op	 0 cache-reads/op	 0 cmds/op	 0 roundtrips/op	 0.1 server-us/op	 0 writes/op	 1568 B/op	 11 allocs/op
BenchmarkCrossProcess/standalone-2                	 300	 2000000 ns/op	 49.00 p50-µs	 3125 p99-µs	 37229 B/op	 420 allocs/op
`

func TestReportCache(t *testing.T) {
	r, err := parse(strings.NewReader(cacheOutput))
	if err != nil {
		t.Fatal(err)
	}
	var md bytes.Buffer
	report(&md, r, "bench.svg")
	for _, want := range []string{
		"| cached Redis ReadOnly ≤ 2 × memory ReadOnly | net/http | 3.00 µs | 4.00 µs | met (75% of the limit) |",
		"| cached Redis ReadOnly: zero Redis commands | net/http | 0 | 0 | met |",
		"| cached Redis Cluster ReadOnly ≤ 2 × memory ReadOnly | net/http | 5.00 µs | 4.00 µs | **missed by 25%** | memory store: 2.00 µs (2.50× of it) |",
		"| cached Redis ReadOnly ≤ 2 × memory ReadOnly | net/http | 3.00 µs | 4.00 µs | met (75% of the limit) | memory store: 2.00 µs (1.50× of it); uncached: 46.0 µs |",
		"| cross-process revocation p99 ≤ 50 ms (standalone) | – | 3.12 ms | 50.00 ms | met (6% of the limit) |",
		"| **sessionkit-cache** | ReadOnly | 3.00 µs | 1568 | 11 | 0 | 0 | 0 | 0.0 | – | 0.075× |",
		"## Redis Cluster store (ReadOnly)",
		"## Cross-process revocation (sessionkit, near cache)",
		"| standalone | 49.0 µs | 3.12 ms |",
		"| sessionkit-cache | sessionkit as above with the store's near cache on",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, md.String())
		}
	}
	var svg bytes.Buffer
	chart(&svg, r)
	if !strings.Contains(svg.String(), ">Redis Cluster store (ReadOnly)<") {
		t.Error("the chart lacks the Cluster panel")
	}
}
