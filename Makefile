# certplan build, test, lint, demo and benchmarks. Everything installs itself.
GO ?= go
BIN := bin/certplan
STATICCHECK_VERSION := v0.8.2
GOBIN := $(shell $(GO) env GOPATH)/bin

.PHONY: all build test test-long lint fmt demo bench fuzz clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/certplan

# Unit and end-to-end tests (testscript drives the real binary) with the race detector.
test:
	$(GO) test -race -count=1 ./...

# Long-running reliability tests behind the `long` build tag: the real binary
# killed with SIGKILL at random instants during an apply (CI runs this too).
test-long:
	$(GO) test -count=1 -tags long -run 'TestCrash' -timeout 15m ./cmd/certplan

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

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzLoad -fuzztime 30s ./pkg/spec
	$(GO) test -run '^$$' -fuzz FuzzParseState -fuzztime 30s ./pkg/state
	$(GO) test -run '^$$' -fuzz FuzzReplay -fuzztime 30s ./pkg/state
	$(GO) test -run '^$$' -fuzz FuzzReadPlan -fuzztime 30s ./pkg/plan

clean:
	rm -rf bin
