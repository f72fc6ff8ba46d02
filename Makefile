# sessionkit: common tasks. `make test` is what CI runs (see .ci/run).

GO ?= go
# Flags for `make demo`; -secure=false lets curl send the cookie over plain HTTP.
DEMO_FLAGS ?= -secure=false

.PHONY: test lint bench demo

## test: gofmt check, go vet, then every test with the race detector
test: lint
	$(GO) test -race -count=1 ./...

## lint: gofmt -l must list nothing; go vet must pass
lint:
	@unformatted="$$(gofmt -l .)"; \
	if [ -n "$$unformatted" ]; then \
		echo "gofmt: these files need formatting (run gofmt -w):"; \
		echo "$$unformatted"; \
		exit 1; \
	fi
	$(GO) vet ./...

## bench: every benchmark, no tests
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## demo: run the net/http demo on 127.0.0.1:8080 (override with DEMO_FLAGS)
demo:
	$(GO) run ./examples/nethttp $(DEMO_FLAGS)
