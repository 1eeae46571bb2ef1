package main

import (
	"fmt"
	"strings"
)

func (r report) method(b *strings.Builder) {
	c := r.c
	fmt.Fprintf(b, `## Method

- **Servers.** One process (`+"`bench/suite`"+`) runs Waypoint as `+"`waypoint serve`"+` builds it (`+"`api/server.New`"+`: every
  middleware, the JSON request log formatted and then discarded, metrics, the live event hub), with tokens from an in-process dev
  issuer, and the floor (`+"`bench/floor`"+`, see its README) on another loopback port. Both use the same database
  (`+"`%s`"+`), a pool of 20 connections with a 10 s statement timeout, the same RS256 key and the same tokens. The floor verifies
  every token's signature, iss, aud and exp as the product does%s.
- **Data.** %s clients with 5 goals each (3 steps and 4 self-ratings per goal), a worker with the first 1,000 of them on their caseload,
  a directory of %s services (the demo generator), conversations for the posting scenarios, a client with %d workers on its care team for
  the fan-out. Seeded once with set-based SQL (statement timeout lifted for the seeding transaction), then `+"`ANALYZE`"+`; later runs reuse it.
- **Load.** Closed loop: %d connections (one keep-alive TCP connection each); each sends its next request as soon as it has read the
  previous answer. A round ends after %s or %s requests, whichever comes first. Each target gets an unmeasured warm-up (%s) before its
  first round.
- **Alternation.** Round 1 runs Waypoint then the floor, round 2 again, %d rounds each, so drift (tables growing, other load on the
  machine) reaches both alike. The tables give the median round and the range.
- **Same inputs.** Reads send the same goal (or client) and the same token to both. Each PATCH connection edits its own client's goal,
  sending the ETag of its previous answer as If-Match, with a new title each time (so each PATCH writes one history row and one event).
  Each posting connection posts to its own conversation, with a new Idempotency-Key each time.
- **Figures.** Latency runs from sending the request to reading the whole answer; p50 and p99 are nearest-rank over every request of the
  round. req/s counts successful answers over the round's wall time. Errors are transport errors, unexpected statuses, and (fan-out)
  deliveries that did not arrive within 5 s of the last post. Any error fails the run.
- **Ratios.** Waypoint's median over the floor's median: throughput (higher is better) and p99 (lower is better), against issue #12's
  target (≥ 0.80 and ≤ 1.5×).
- **No floor** for the directory search and the event stream: their reference figures are absolute (p99 at a rate, deliveries per
  second); see `+"`make bench-directory`"+` and `+"`make bench-events`"+` for the issue's other targets (a million services; 10,000 streams).
- **Profiles.** `+"`make bench PROFILE=1`"+` (or `+"`-profile DIR`"+`) runs, after the measured rounds, one extra unmeasured round per
  scenario and target under the CPU profiler and writes allocation profiles before and after it, to `+"`bench/profiles/`"+`
  (not committed): `+"`<scenario>-<target>.cpu.pprof`"+`, `+"`.allocs-base.pprof`"+`, `+"`.allocs.pprof`"+`. The load generator runs in
  the same process; its goroutines carry the label `+"`bench=driver`"+`. Read them with
  `+"`go tool pprof -tagignore=bench=driver -top bench/profiles/goal-read-client-waypoint.cpu.pprof`"+` and
  `+"`go tool pprof -sample_index=alloc_space -base bench/profiles/goal-read-client-waypoint.allocs-base.pprof bench/profiles/goal-read-client-waypoint.allocs.pprof`"+`.

`, dbName(c.dbURL), cacheNote(c), num(float64(c.clients)), num(float64(c.services)), c.sseWorkers, c.conns, c.duration,
		num(float64(c.requests)), c.warmup, c.rounds)
}

func cacheNote(c config) string {
	if c.tokenCache {
		return " — both keep a verified token (the product keyed by its hash, until the earlier of exp and one minute; the floor until exp: `-floor-token-cache`)"
	}
	return " — the floor on every request (`-floor-token-cache=false`), while the product keeps a verified token until the earlier of its exp and one minute"
}

func dbName(url string) string {
	rest := url[strings.LastIndex(url, "/")+1:]
	name, _, _ := strings.Cut(rest, "?")
	return name
}

// profileSection shows where Waypoint's time and allocations go in the
// floored scenarios, when profiles were taken.
func (r report) profileSection(b *strings.Builder) {
	if len(r.profiles) == 0 {
		return
	}
	b.WriteString("## Profiles\n\nWaypoint during the profiled round of each floored scenario: CPU by cumulative time (the load " +
		"generator and the Go runtime's own frames left out), then allocated bytes by function. Percentages are of the process's samples; " +
		"PostgreSQL's time is not in them. The floor's profiles are in the same directory.\n\n")
	for _, p := range r.profiles {
		if p.target != "waypoint" || p.scenario == "directory-search" || p.scenario == "sse-fanout" {
			continue
		}
		fmt.Fprintf(b, "### %s\n\n```\n%s\n```\n\n```\n%s\n```\n\n", p.scenario, top(30, "-cum", `-hide=^runtime\.|^internal/runtime|^syscall\.`, p.cpu),
			top(12, "-sample_index=alloc_space", "-base", p.allocsBase, p.allocs))
	}
}
