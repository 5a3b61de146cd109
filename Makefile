# authbot — few targets; CI (.ci/run) calls `make test`, the README's test command.
#
# The goolm tag selects mautrix's pure-Go olm/megolm, so no libolm is needed.
# Tests run with -race, which needs cgo; release builds use CGO_ENABLED=0.

GO        ?= go
TAGS      := goolm
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)

.PHONY: test build chat fmt lint staticcheck bench bench-all fuzz dendrite element-client

test: dendrite element-client
	$(GO) vet -tags $(TAGS) ./...
	$(GO) test -tags $(TAGS) -race -timeout 12m ./...

build:
	CGO_ENABLED=0 $(GO) build -tags $(TAGS) -trimpath -ldflags '$(LDFLAGS)' -o bin/authbot ./cmd/authbot

chat:
	$(GO) run ./cmd/authbot chat

fmt:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }

# staticcheck, pinned: installed into the Go path's bin on first use (and
# when the pin changes), like scripts/dendrite.sh caches Dendrite.
STATICCHECK_VERSION := v0.8.2
STATICCHECK         := $(shell $(GO) env GOPATH)/bin/staticcheck

lint: fmt staticcheck
	$(GO) vet -tags $(TAGS) ./...
	$(STATICCHECK) -tags $(TAGS) ./...

staticcheck:
	@$(STATICCHECK) -version 2>/dev/null | grep -qF '($(patsubst v%,%,$(STATICCHECK_VERSION)))' || \
		$(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

# The issue-21 figures as one benchstat table (scripts/bench.sh): COUNT=6,
# OLD=earlier-bench.txt to compare, QUICK=1 without the Telegram runs.
# bench-all is every benchmark of every package, once.
bench:
	GO=$(GO) TAGS=$(TAGS) scripts/bench.sh

bench-all:
	$(GO) test -tags $(TAGS) -run '^$$' -bench . -benchmem ./...

# Each fuzz target for a short while; found crashers land in testdata/fuzz.
# scripts/fuzz.sh tells Go's own fuzz-deadline race apart from a finding.
FUZZTIME ?= 10s
fuzz:
	GO=$(GO) TAGS=$(TAGS) FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

# Installs the pinned Dendrite the Matrix integration tests run against.
dendrite:
	@if [ -x scripts/dendrite.sh ]; then scripts/dendrite.sh install; fi

# Installs the Node test client of bots/matrix/elementtest (npm ci from its
# lockfile, once, outside the repo). Without npm the test skips, or fails
# under CI=true.
element-client:
	@if command -v npm >/dev/null 2>&1; then scripts/element-client.sh install; \
	else echo "npm not found: bots/matrix/elementtest will skip (apt-get install nodejs npm)"; fi
