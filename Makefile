# Waypoint — common tasks. `make run` serves the API in dev mode; `make test` runs the tests.
GO ?= go
PKGS := ./...

.PHONY: run test test-long check fmt vet openapi lint-openapi lint-asyncapi test-clients build docker tools examples

## run: dev mode against local PostgreSQL (embedded OIDC issuer, seeded personas)
run:
	$(GO) run . serve --dev

## test: the full test suite against local PostgreSQL (127.0.0.1:5432, user postgres); the api tests run 4 at a time
## (-parallel 4 whatever the core count: they wait on PostgreSQL more than on the CPU, and 4 × a pool of 8 stays far from max_connections)
test:
	$(GO) test -race -count=1 -timeout 20m -parallel 4 $(PKGS)

## test-long: the slow checks after make test: authorization matrix, fuzzing (FUZZTIME per target, default 10s), fault injection; one summary (scripts/test-long.sh)
test-long:
	scripts/test-long.sh

## check: formatting, vet and staticcheck (also of the -tags long tests), contract drift (OpenAPI 3.1 and 3.0, AsyncAPI) and lint of all three (CI runs it before the tests)
check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) vet -tags long $(PKGS)
	$(GO) tool staticcheck $(PKGS)
	$(GO) tool staticcheck -tags long $(PKGS)
	@$(GO) run . openapi | cmp -s - openapi/openapi.yaml || { echo "openapi/openapi.yaml is stale: run make openapi"; exit 1; }
	@$(GO) run . openapi --oas 3.0 | cmp -s - openapi/openapi-3.0.yaml || { echo "openapi/openapi-3.0.yaml is stale: run make openapi"; exit 1; }
	@$(GO) run . asyncapi | cmp -s - openapi/asyncapi.yaml || { echo "openapi/asyncapi.yaml is stale: run make openapi"; exit 1; }
	$(MAKE) lint-openapi
	$(MAKE) lint-asyncapi

## examples: the third-party guide's examples still compile (docs/third-party-guide.md): Go with go vet + go build, TypeScript with the pinned tsc --noEmit (strict; npm ci from package-lock.json)
examples:
	$(GO) vet ./examples/go/
	$(GO) build -o /dev/null ./examples/go/
	cd examples/ts && npm ci --no-audit --no-fund && npx --no-install tsc --noEmit -p .

fmt:
	gofmt -w $$(git ls-files '*.go')

vet:
	$(GO) vet $(PKGS)

## openapi: regenerate the committed contracts from the code (REST: openapi.yaml, and the same downgraded to 3.0; live events: asyncapi.yaml)
openapi:
	$(GO) run . openapi > openapi/openapi.yaml
	$(GO) run . openapi --oas 3.0 > openapi/openapi-3.0.yaml
	$(GO) run . asyncapi > openapi/asyncapi.yaml

CONTRACT_TOOLS := tools/contract
SPECTRAL := $(CONTRACT_TOOLS)/node_modules/.bin/spectral

# The pinned npm tools (tools/contract/package-lock.json); npm ci only when the lock changed.
$(CONTRACT_TOOLS)/node_modules/.installed: $(CONTRACT_TOOLS)/package-lock.json
	cd $(CONTRACT_TOOLS) && npm ci --no-audit --no-fund
	touch $@

## lint-openapi: Spectral (spectral:oas + OWASP API Security ruleset, openapi/.spectral.yaml) on both documents; fails on any warning
lint-openapi: $(CONTRACT_TOOLS)/node_modules/.installed
	$(SPECTRAL) lint --fail-severity=warn -r openapi/.spectral.yaml openapi/openapi.yaml openapi/openapi-3.0.yaml

## lint-asyncapi: Spectral's AsyncAPI ruleset (spectral:asyncapi, openapi/.spectral-asyncapi.yaml) on the event contract; fails on any warning
lint-asyncapi: $(CONTRACT_TOOLS)/node_modules/.installed
	$(SPECTRAL) lint --fail-severity=warn -r openapi/.spectral-asyncapi.yaml openapi/asyncapi.yaml

## test-clients: generate a TypeScript (openapi-typescript + openapi-fetch) and a Go (oapi-codegen) client from the committed contract, compile them, and run a smoke program with each against a dev server on a fresh database (scripts/test-clients.sh)
test-clients: $(CONTRACT_TOOLS)/node_modules/.installed
	scripts/test-clients.sh

## build: a static binary in ./bin
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags="-s -w" -o bin/waypoint .

docker:
	docker build -t waypoint:dev .

.PHONY: bench bench-smoke
## bench: every scenario of issue #12 against Waypoint and the hand-written floor (bench/floor), closed loop, 16 connections, 3 alternating rounds each; writes bench/REPORT.md (database waypoint_bench, seeded on first use; about 10 minutes; PROFILE=1 adds pprof profiles in bench/profiles/; BENCH_NOTE="..." heads the report)
bench:
	$(GO) run ./bench/suite $(if $(PROFILE),-profile bench/profiles)

## bench-smoke: the same driver on a small dataset for seconds (database waypoint_bench_smoke); fails on any error or zero throughput, asserts nothing about speed (CI runs it)
bench-smoke:
	$(GO) run ./bench/suite -smoke

.PHONY: bench-events
## bench-events: RSS per idle SSE stream at 1,000 and 10,000 streams, post->deliver p50/p99 at 50 msg/s with 10,000 streams open (same replica and across two), slow readers alongside; results go in bench/REPORT-events.md by hand (loopback, database waypoint_bench_events, ~3 min)
bench-events:
	$(GO) run ./bench/events

.PHONY: bench-writes
## bench-writes: is there a global write ceiling? 50 clients each patching their own goals, total PATCH/s at 1, 8 and 32 concurrent writers, closed loop (loopback, database waypoint_bench_writes, 10 s per level); see bench/REPORT-writes.md
bench-writes:
	$(GO) run ./bench/writes

.PHONY: bench-goals
## bench-goals: goal GET/PATCH load on loopback against its own database (waypoint_bench_goals; at most 60 s of load)
bench-goals:
	$(GO) run ./bench/goals

.PHONY: bench-directory
## bench-directory: directory search (text + point + radius + open now) on 100,000 services at 200 req/s and at full speed, 16 workers (loopback, database waypoint_bench_directory; at most 90 s of load)
bench-directory:
	$(GO) run ./bench/directory

.PHONY: bench-directory-scale
## bench-directory-scale: directory search at 200 req/s on 10,000, 100,000 and 1,000,000 services (databases waypoint_bench_directory_10k/_100k/_1m, each seeded once: the 1M one takes long and ~6 GB; at most 20 s of load each); the table for bench/REPORT-directory.md
bench-directory-scale:
	$(GO) run ./bench/directory -scales 10000,100000,1000000 -max-duration 0

.PHONY: bench-caseload
## bench-caseload: a worker with 1,000 clients lists "my clients with goals due this week" (GET /v1/clients?goal_due_from&goal_due_to): one connection, then 50 req/s (loopback, database waypoint_bench_caseload; at most 25 s of load)
bench-caseload:
	$(GO) run ./bench/caseload

.PHONY: bench-export
## bench-export: download the export of a client with 100,000 messages from the real binary; server RSS growth (budget < 50 MB) and time (loopback, database waypoint_bench_export; at most 10 minutes)
bench-export:
	$(GO) run ./bench/export
