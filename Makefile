# certplan build, test, lint, demo and benchmarks. Everything installs itself.
GO ?= go
BIN := bin/certplan
STATICCHECK_VERSION := v0.8.2
GOBIN := $(shell $(GO) env GOPATH)/bin

.PHONY: all build test test-long test-postgres bench-postgres lint fmt demo bench fuzz clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/certplan

# Unit and end-to-end tests (testscript drives the real binary) with the race detector.
# The PostgreSQL tests run when CERTPLAN_TEST_POSTGRES names a server (see
# test-postgres) and skip otherwise; under CI=true they must run.
test:
	$(GO) test -race -count=1 ./...

# Long-running reliability tests behind the `long` build tag: the real binary
# killed with SIGKILL at random instants during an apply (CI runs this too).
test-long:
	$(GO) test -count=1 -tags long -run 'TestCrash' -timeout 25m ./cmd/certplan

# make test and test-long against a throwaway PostgreSQL server
# (scripts/pg-test-server.sh: PostgreSQL from Debian, no downloads), stopped after.
test-postgres:
	@set -e; pgenv=$$(scripts/pg-test-server.sh start); eval "$$pgenv"; \
	  trap 'scripts/pg-test-server.sh stop "$$CERTPLAN_TEST_POSTGRES_DIR"' EXIT; \
	  $(MAKE) test test-long

# The figures of the PostgreSQL backend: plan of 10,000 certificates and
# journal append latency (p50/p99), file versus PostgreSQL.
bench-postgres:
	@set -e; pgenv=$$(scripts/pg-test-server.sh start); eval "$$pgenv"; \
	  trap 'scripts/pg-test-server.sh stop "$$CERTPLAN_TEST_POSTGRES_DIR"' EXIT; \
	  $(GO) test -run '^$$' -bench 'BenchmarkPlanCommand10k' -benchtime 5x ./cmd/certplan; \
	  $(GO) test -run '^$$' -bench 'BenchmarkJournalAppend' -benchtime 2000x ./pkg/state/pgstate

lint:
	@out=$$(gofmt -l cmd internal pkg schemas); \
	  if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	$(GOBIN)/staticcheck ./...

fmt:
	gofmt -w cmd internal pkg schemas

demo: build
	./scripts/demo.sh

bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1x ./...

# Each fuzz target runs for FUZZTIME. Every new interesting input is first
# minimized, which runs the target thousands of times (the last pass is
# quadratic in the input's length) for up to -fuzzminimizetime, 60 s by
# default: with seeds of 1 to 3 KiB (state, journal, plan and manifest files)
# the first interesting input kept the workers minimizing for the whole run,
# so `make fuzz` explored at 0 to 90 executions a second. FUZZMINIMIZETIME
# bounds each minimization.
FUZZTIME ?= 30s
FUZZMINIMIZETIME ?= 2s
FUZZFLAGS = -run '^$$' -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME)

fuzz:
	$(GO) test $(FUZZFLAGS) -fuzz '^FuzzLoad$$' ./pkg/spec
	$(GO) test $(FUZZFLAGS) -fuzz '^FuzzParseState$$' ./pkg/state
	$(GO) test $(FUZZFLAGS) -fuzz '^FuzzReplay$$' ./pkg/state
	$(GO) test $(FUZZFLAGS) -fuzz '^FuzzKeyCheck$$' ./pkg/state
	$(GO) test $(FUZZFLAGS) -fuzz '^FuzzReadPlan$$' ./pkg/plan

clean:
	rm -rf bin
