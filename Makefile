# Waypoint — common tasks. `make run` serves the API in dev mode; `make test` runs the tests.
GO ?= go
PKGS := ./...

.PHONY: run test test-long check fmt vet openapi build docker tools

## run: dev mode against local PostgreSQL (embedded OIDC issuer, seeded personas)
run:
	$(GO) run . serve --dev

## test: the full test suite against local PostgreSQL (127.0.0.1:5432, user postgres)
test:
	$(GO) test -race -count=1 -timeout 8m $(PKGS)

## test-long: the slow checks after make test: authorization matrix, fuzzing (FUZZTIME per target, default 10s), fault injection; one summary (scripts/test-long.sh)
test-long:
	scripts/test-long.sh

## check: formatting, vet and staticcheck (also of the -tags long tests), OpenAPI drift (CI runs it before the tests)
check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) vet -tags long $(PKGS)
	$(GO) tool staticcheck $(PKGS)
	$(GO) tool staticcheck -tags long $(PKGS)
	@$(GO) run . openapi | cmp -s - openapi/openapi.yaml || { echo "openapi/openapi.yaml is stale: run make openapi"; exit 1; }

fmt:
	gofmt -w $$(git ls-files '*.go')

vet:
	$(GO) vet $(PKGS)

## openapi: regenerate the committed contract from the code
openapi:
	$(GO) run . openapi > openapi/openapi.yaml

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
## bench-events: 1,000 idle SSE streams (RSS per stream) and post->deliver latency at 50 msg/s across two replicas (loopback, database waypoint_bench_events, ~40 s)
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

.PHONY: bench-export
## bench-export: download the export of a client with 100,000 messages from the real binary; server RSS growth (budget < 50 MB) and time (loopback, database waypoint_bench_export; at most 10 minutes)
bench-export:
	$(GO) run ./bench/export
