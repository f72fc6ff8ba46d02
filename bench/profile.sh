#!/bin/sh
# profile.sh: CPU and allocation profiles of sessionkit's hot paths, with
# the top entries of each. Usage, from bench/:
#
#	./profile.sh [out-dir] [benchmark regexp ...]
#
# Default: the memory-store ReadOnly and ReadWrite requests on net/http and
# Fiber. Profiles and their `go tool pprof -top` listings go to out-dir
# (default: a new temporary directory); open one with
# `go tool pprof -http=: out-dir/bench.test out-dir/NAME.cpu`.
set -eu
cd "$(dirname "$0")"
out=${1:-$(mktemp -d)}
if [ $# -gt 0 ]; then shift; fi
mkdir -p "$out"
if [ $# -eq 0 ]; then
	set -- 'Memory/nethttp/sessionkit/ReadOnly$' 'Memory/nethttp/sessionkit/ReadWrite$' \
		'Memory/fiber/sessionkit/ReadOnly$' 'Memory/fiber/sessionkit/ReadWrite$'
fi
go test -c -o "$out/bench.test" .
for re in "$@"; do
	name=$(printf '%s' "$re" | tr -c 'A-Za-z0-9\n' '_' | sed 's/_*$//')
	# Two runs: recording every allocation (memprofilerate 1) would skew
	# the CPU profile.
	"$out/bench.test" -test.run '^$' -test.bench "$re" -test.benchmem -test.benchtime "${BENCH_TIME:-3s}" \
		-test.cpuprofile "$out/$name.cpu" | grep '^Benchmark'
	"$out/bench.test" -test.run '^$' -test.bench "$re" -test.benchmem -test.benchtime "${BENCH_TIME:-3s}" \
		-test.memprofile "$out/$name.mem" -test.memprofilerate 1 >/dev/null
	go tool pprof -top -nodecount 30 "$out/bench.test" "$out/$name.cpu" > "$out/$name.cpu.txt" 2>/dev/null
	go tool pprof -top -cum -nodecount 45 "$out/bench.test" "$out/$name.cpu" > "$out/$name.cpu-cum.txt" 2>/dev/null
	go tool pprof -top -sample_index=alloc_space -nodecount 30 "$out/bench.test" "$out/$name.mem" > "$out/$name.alloc_space.txt" 2>/dev/null
	go tool pprof -top -sample_index=alloc_objects -nodecount 30 "$out/bench.test" "$out/$name.mem" > "$out/$name.alloc_objects.txt" 2>/dev/null
done
echo "profiles and listings in $out"
