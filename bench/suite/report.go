package main

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

type report struct {
	c        config
	m        machine
	same     []string
	results  []result
	profiles []profileFiles
	took     time.Duration
}

// stats summarise one target's rounds: medians and ranges.
type stats struct {
	rounds                   int
	rps, rpsMin, rpsMax      float64
	p50, p99, p99Min, p99Max time.Duration
	errs                     int
	deliveries, postP99      float64 // SSE
}

func statsOf(rounds []round, target string) (stats, bool) {
	var rps, del []float64
	var p50, p99, post []time.Duration
	s := stats{}
	for _, r := range rounds {
		if r.target != target {
			continue
		}
		s.rounds++
		s.errs += r.errs
		rps = append(rps, r.rps())
		del = append(del, float64(r.deliveries)/r.elapsed.Seconds())
		p50 = append(p50, pct(r.lat, 0.50))
		p99 = append(p99, pct(r.lat, 0.99))
		post = append(post, pct(r.postLat, 0.99))
	}
	if s.rounds == 0 {
		return s, false
	}
	s.rps, s.rpsMin, s.rpsMax = median(rps), slices.Min(rps), slices.Max(rps)
	s.p50, s.p99, s.p99Min, s.p99Max = median(p50), median(p99), slices.Min(p99), slices.Max(p99)
	s.deliveries, s.postP99 = median(del), float64(median(post).Microseconds())/1000
	return s, true
}

func median[T float64 | time.Duration](v []T) T {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func msf(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d.Microseconds())/1000) }

func rangeOf(lo, hi float64) string { return fmt.Sprintf("%s – %s", num(lo), num(hi)) }

// num formats a rate with thousands separators.
func num(f float64) string {
	s := fmt.Sprintf("%.0f", f)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// markdown is bench/REPORT.md.
func (r report) markdown() string {
	var b strings.Builder
	b.WriteString("# Waypoint against the floor: benchmark report\n\n")
	if r.c.note != "" {
		fmt.Fprintf(&b, "> **Note.** %s\n\n", r.c.note)
	}
	fmt.Fprintf(&b, "Written by `make bench` (`go run ./bench/suite`) in %s. Ratios are what count; absolute figures vary "+
		"between machines. Method at the end; how to read and re-run it in [docs/benchmarks.md](../docs/benchmarks.md).\n\n", r.took.Round(time.Second))
	b.WriteString("## Machine\n\n| | |\n|---|---|\n")
	fmt.Fprintf(&b, "| date | %s |\n| cores | %d |\n| CPU | %s |\n| PostgreSQL | %s |\n| Go | %s |\n| git revision | %s |\n| load average (1/5/15 min) at start, end | %s; %s |\n\n",
		r.m.date.Format("2006-01-02 15:04 MST"), r.m.cores, r.m.cpu, r.m.postgres, r.m.goVer, r.m.revision, r.m.loadStart, r.m.loadEnd)
	r.results2(&b)
	r.targets(&b)
	r.single(&b)
	r.dbWaits(&b)
	r.sse(&b)
	b.WriteString("## Same work\n\nBefore measuring, each floored call was sent once to Waypoint and once to the floor; both answered the same " +
		"(status, `Content-Type`, `Cache-Control`, ETag, JSON body apart from fields that must differ) and wrote the same rows " +
		"(access log, goal history, outbox events, messages, idempotency records, compared by kind, actor, recipients and keys):\n\n")
	for _, s := range r.same {
		fmt.Fprintf(&b, "- %s\n", s)
	}
	b.WriteString("\n")
	r.rounds(&b)
	r.method(&b)
	r.profileSection(&b)
	return b.String()
}

func (r report) results2(b *strings.Builder) {
	fmt.Fprintf(b, "## Results\n\nClosed loop, %d connections, %d rounds per target alternating Waypoint and floor, each round at most %s "+
		"and %s requests. Medians of the rounds (range in brackets); latency in ms; ratio = Waypoint / floor.\n\n",
		r.c.conns, r.c.rounds, r.c.duration, num(float64(r.c.requests)))
	b.WriteString("| scenario | target | req/s | p50 | p99 | errors | req/s vs floor | p99 vs floor |\n|---|---|---|---|---|---|---|---|\n")
	for _, res := range r.results {
		w, _ := statsOf(res.rounds, "waypoint")
		f, hasFloor := statsOf(res.rounds, "floor")
		ratio, p99r := "no floor", "—"
		if hasFloor {
			ratio, p99r = fmt.Sprintf("**%.2f**", w.rps/f.rps), fmt.Sprintf("**%.2f×**", float64(w.p99)/float64(f.p99))
		}
		fmt.Fprintf(b, "| %s | Waypoint | %s (%s) | %s | %s (%s – %s) | %d | %s | %s |\n", res.sc.name, num(w.rps), rangeOf(w.rpsMin, w.rpsMax),
			msf(w.p50), msf(w.p99), msf(w.p99Min), msf(w.p99Max), w.errs, ratio, p99r)
		if hasFloor {
			fmt.Fprintf(b, "| | floor | %s (%s) | %s | %s (%s – %s) | %d | 1 | 1× |\n", num(f.rps), rangeOf(f.rpsMin, f.rpsMax),
				msf(f.p50), msf(f.p99), msf(f.p99Min), msf(f.p99Max), f.errs)
		}
	}
	b.WriteString("\nWhat each scenario sends:\n\n")
	for _, res := range r.results {
		fmt.Fprintf(b, "- **%s**: `%s`\n", res.sc.name, res.sc.call)
	}
	b.WriteString("\n")
}

func (r report) targets(b *strings.Builder) {
	b.WriteString("### Against the target of issue #12\n\nAt least 0.80 of the floor's throughput and a p99 at most 1.5× the floor's.\n\n" +
		"| scenario | req/s vs floor | p99 vs floor | met |\n|---|---|---|---|\n")
	for _, res := range r.results {
		w, _ := statsOf(res.rounds, "waypoint")
		f, ok := statsOf(res.rounds, "floor")
		if !ok {
			continue
		}
		tr, pr := w.rps/f.rps, float64(w.p99)/float64(f.p99)
		var short []string
		if tr < 0.80 {
			short = append(short, fmt.Sprintf("req/s must rise %.0f%%", (0.80/tr-1)*100))
		}
		if pr > 1.5 {
			short = append(short, fmt.Sprintf("p99 must fall %.0f%%", (1-1.5/pr)*100))
		}
		verdict := "yes"
		if len(short) > 0 {
			verdict = "no: " + strings.Join(short, ", ")
		}
		// A lock most backends wait on caps both sides: the ratio then
		// measures the lock, not the server.
		if k, share := mergeWaits(res.rounds, "floor").top(); strings.HasPrefix(k, "Lock:") && share > 0.5 {
			verdict += fmt.Sprintf(" (both capped: %.0f%% of the floor's backends wait on %s; see the one-connection table)", share*100, k)
		}
		fmt.Fprintf(b, "| %s | %.2f | %.2f× | %s |\n", res.sc.name, tr, pr, verdict)
	}
	b.WriteString("\n")
}

func (r report) sse(b *strings.Builder) {
	for _, res := range r.results {
		if res.sc.key != "sse-fanout" {
			continue
		}
		s, _ := statsOf(res.rounds, "waypoint")
		b.WriteString("### SSE fan-out\n\n" + res.sc.call + ". Latency is from the start of the POST to the event's arrival at each stream.\n\n")
		b.WriteString("| posts/s | deliveries/s | delivery p50 | delivery p99 | post p99 | missed deliveries + failed posts |\n|---|---|---|---|---|---|\n")
		fmt.Fprintf(b, "| %s | %s | %s | %s | %.2f | %d |\n\n", num(s.rps), num(s.deliveries), msf(s.p50), msf(s.p99), s.postP99, s.errs)
	}
}

func (r report) rounds(b *strings.Builder) {
	b.WriteString("## Every round\n\nThe last column samples `pg_stat_activity` every 100 ms during the round: the mean number of active " +
		"client backends and what they were waiting on (CPU: not waiting).\n\n" +
		"| scenario | round | target | requests | req/s | p50 | p99 | max | errors | PostgreSQL backends |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, res := range r.results {
		for i, rd := range append(res.rounds, res.single...) {
			key := res.sc.key
			if i >= len(res.rounds) {
				key += " (1 connection)"
			}
			mx := time.Duration(0)
			if len(rd.lat) > 0 {
				mx = rd.lat[len(rd.lat)-1]
			}
			fmt.Fprintf(b, "| %s | %d | %s | %d | %s | %s | %s | %s | %d | %s |\n", key, rd.n, rd.target, rd.ok+rd.errs, num(rd.rps()),
				msf(pct(rd.lat, 0.5)), msf(pct(rd.lat, 0.99)), msf(mx), rd.errs, rd.db)
		}
	}
	b.WriteString("\n")
}

// summary is the stdout table.
func (r report) summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n%-24s %10s %10s %9s %9s %7s %8s %8s\n", "scenario", "Waypoint", "floor", "p99 W", "p99 F", "errors", "ratio", "p99 x")
	for _, res := range r.results {
		w, _ := statsOf(res.rounds, "waypoint")
		f, ok := statsOf(res.rounds, "floor")
		if !ok {
			fmt.Fprintf(&b, "%-24s %10.0f %10s %9s %9s %7d %8s %8s\n", res.sc.name, w.rps, "-", msf(w.p99), "-", w.errs, "-", "-")
			continue
		}
		fmt.Fprintf(&b, "%-24s %10.0f %10.0f %9s %9s %7d %8.2f %7.2fx\n", res.sc.name, w.rps, f.rps, msf(w.p99), msf(f.p99), w.errs+f.errs,
			w.rps/f.rps, float64(w.p99)/float64(f.p99))
	}
	return b.String()
}

func (r report) dbWaits(b *strings.Builder) {
	b.WriteString("### Where PostgreSQL spent the rounds\n\nActive client backends of the bench database, sampled every 100 ms " +
		"during the measured rounds (`pg_stat_activity`): their mean number and what they waited on (CPU: not waiting). " +
		"When most of them wait on one lock, that lock bounds the scenario for any server.\n\n" +
		"| scenario | Waypoint | floor |\n|---|---|---|\n")
	for _, res := range r.results {
		f := "—"
		if res.sc.floor {
			f = mergeWaits(res.rounds, "floor").String()
		}
		fmt.Fprintf(b, "| %s | %s | %s |\n", res.sc.name, mergeWaits(res.rounds, "waypoint"), f)
	}
	b.WriteString("\n")
}

func (r report) single(b *strings.Builder) {
	fmt.Fprintf(b, "### One connection\n\nEach floored scenario again with a single connection (%d rounds of %s per target, alternating): "+
		"nothing queues in either server or in the database, so this is each side's own cost of one request, apart from "+
		"contention (a lock every writer takes, the machine's other load).\n\n"+
		"| scenario | Waypoint p50 | floor p50 | p50 vs floor | Waypoint req/s | floor req/s |\n|---|---|---|---|---|---|\n", r.c.rounds, r.c.duration/2)
	for _, res := range r.results {
		w, ok1 := statsOf(res.single, "waypoint")
		f, ok2 := statsOf(res.single, "floor")
		if !ok1 || !ok2 {
			continue
		}
		fmt.Fprintf(b, "| %s | %s | %s | %.2f× | %s | %s |\n", res.sc.name, msf(w.p50), msf(f.p50), float64(w.p50)/float64(f.p50), num(w.rps), num(f.rps))
	}
	b.WriteString("\n")
}
