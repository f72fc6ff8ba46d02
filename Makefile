# sessionkit: common tasks. `make test` is what CI runs (see .ci/run).

GO ?= go
# The demo `make demo` runs: nethttp, gin, echo, echov5, fiber or fiberv3
# (examples/<name>).
EXAMPLE ?= nethttp
# Flags for `make demo`; -secure=false lets curl send the cookie over plain HTTP.
DEMO_FLAGS ?= -secure=false

.PHONY: test lint bench demo fuzz

## test: gofmt check, go vet, then every test with the race detector: the
## main module, then the browser test (e2e/, its own module; needs chromium)
test: lint
	$(GO) test -race -count=1 ./...
	cd e2e && $(GO) test -race -count=1 ./...

## lint: gofmt -l must list nothing; go vet must pass
lint:
	@unformatted="$$(gofmt -l .)"; \
	if [ -n "$$unformatted" ]; then \
		echo "gofmt: these files need formatting (run gofmt -w):"; \
		echo "$$unformatted"; \
		exit 1; \
	fi
	$(GO) vet ./...
	cd e2e && $(GO) vet ./...

## bench: sessionkit against the peer libraries (bench/, its own module) and
## the benchmarks of the main module (the packages that have any),
## BENCH_COUNT runs each: memory, Redis and PostgreSQL stores (the last two
## on servers the benchmarks start themselves: redis-server, and Debian's
## PostgreSQL binaries; each is skipped, loudly, when missing). Raw output
## goes to docs/bench.txt; bench/cmd/benchreport turns it into
## docs/BENCHMARKS.md and docs/bench.svg. About 14 minutes on 2 cores at BENCH_COUNT=3 BENCH_TIME=200ms
## (2026-12-03, every store and both near caches); the defaults take longer.
## BENCH=regexp narrows the run (e.g. BENCH=Memory/nethttp, BENCH=Postgres),
## BENCH_TIME and BENCH_COUNT tune it.
bench: BENCH ?= .
bench: BENCH_COUNT ?= 7
bench: BENCH_TIME ?= 400ms
bench:
	@mkdir -p docs
	@{ echo "date: $$(date -u +%Y-%m-%dT%H:%M:%SZ)"; \
	  echo "nproc: $$(nproc)"; \
	  echo "cpu-model: $$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"; \
	  echo "go-version: $$($(GO) env GOVERSION)"; \
	  echo "redis-version: $$(redis-server --version 2>/dev/null | sed -n 's/.* v=\([^ ]*\).*/\1/p')"; \
	  pg=$$({ command -v postgres || ls /usr/lib/postgresql/15/bin/postgres /usr/lib/postgresql/*/bin/postgres; } 2>/dev/null | head -n 1); \
	  echo "postgres-version: $$([ -z "$$pg" ] || "$$pg" --version | sed -n 's/^postgres (PostgreSQL) \([0-9.]*\).*/\1/p')"; \
	  echo "count: $(BENCH_COUNT)"; \
	  echo "benchtime: $(BENCH_TIME)"; \
	  echo "command: make bench BENCH='$(BENCH)' BENCH_COUNT=$(BENCH_COUNT) BENCH_TIME=$(BENCH_TIME)"; \
	} > docs/bench.txt
	@rcfile=$$(mktemp); \
	pkgs=$$(grep -rl --include='*_test.go' '^func Benchmark' . | grep -v '^\./bench/' | xargs -r -n 1 dirname | sort -u); \
	{ (cd bench && $(GO) test -run '^$$' -bench '$(BENCH)' -benchmem -count $(BENCH_COUNT) -benchtime $(BENCH_TIME) -timeout 60m . 2>&1) \
	    && { [ -z "$$pkgs" ] || $(GO) test -run '^$$' -bench '$(BENCH)' -benchmem -count $(BENCH_COUNT) -benchtime $(BENCH_TIME) -timeout 60m $$pkgs 2>&1; }; \
	  echo $$? > $$rcfile; } | tee -a docs/bench.txt; \
	rc=$$(cat $$rcfile); rm -f $$rcfile; \
	if [ "$$rc" != 0 ]; then echo "make bench: go test failed (exit $$rc); docs/bench.txt holds its output" >&2; exit $$rc; fi
	cd bench && $(GO) run ./cmd/benchreport -in ../docs/bench.txt -md ../docs/BENCHMARKS.md -svg ../docs/bench.svg

## demo: run a demo on 127.0.0.1:8080: make demo [EXAMPLE=nethttp|gin|echo|echov5|fiber|fiberv3] [DEMO_FLAGS=...]
demo:
	@case "$(EXAMPLE)" in \
	nethttp|gin|echo|echov5|fiber|fiberv3) ;; \
	*) echo "EXAMPLE=$(EXAMPLE): want nethttp, gin, echo, echov5, fiber or fiberv3"; exit 2 ;; \
	esac
	$(GO) run ./examples/$(EXAMPLE) $(DEMO_FLAGS)

## fuzz: run every fuzz target for FUZZTIME each (their seeds run in every go test).
## A run that fails without writing a failing input is Go 1.26's fuzz
## coordinator race at the deadline (golang/go#75804), so it runs once more;
## one that writes an input fails at once.
FUZZTIME ?= 30s
fuzz:
	@set -e; for target in $$(grep -rl --include='*_test.go' '^func Fuzz' . | grep -v '^./bench/' | xargs grep -ho '^func Fuzz[A-Za-z0-9_]*' | sed 's/^func //' | sort -u); do \
		pkg=$$(grep -rl --include='*_test.go' "^func $$target(" . | grep -v '^./bench/' | head -n 1 | xargs dirname); \
		echo "==> $$target ($$pkg, $(FUZZTIME))"; \
		corpus="$$pkg/testdata/fuzz/$$target"; \
		before=$$(ls "$$corpus" 2>/dev/null | wc -l); \
		if ! $(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg; then \
			after=$$(ls "$$corpus" 2>/dev/null | wc -l); \
			if [ "$$after" != "$$before" ]; then exit 1; fi; \
			echo "==> $$target failed with no failing input written (Go 1.26's fuzz coordinator race at the -fuzztime deadline, golang/go#75804): once more"; \
			$(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg; \
		fi; \
	done
