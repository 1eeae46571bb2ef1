package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"runtime/pprof"
	"time"
)

// result is every round of one scenario, both targets.
type result struct {
	sc     scenario
	rounds []round
	// single are rounds with one connection (floored scenarios only).
	single []round
}

// target is one server the rounds alternate between.
type target struct{ name, base string }

func run(ctx context.Context, c config) error {
	if c.ssePerPerson < 1 || c.ssePerPerson > 10 || c.conns < 1 || c.rounds < 1 {
		return errors.New("need 1-10 streams per person, at least one connection and one round")
	}
	started := time.Now()
	m := machineInfo()
	logf("seeding (only what is missing) and starting Waypoint and the floor ...")
	e, err := start(ctx, c, logf)
	if e != nil {
		defer e.close()
	}
	if err != nil {
		return err
	}
	_ = e.db.WithContext(ctx).Raw(`SELECT version()`).Scan(&m.postgres).Error
	f, err := e.fixtures(ctx, c)
	if err != nil {
		return err
	}
	same, err := e.sameWork(ctx, f)
	if err != nil {
		return err
	}
	for _, s := range same {
		logf("same work: %s", s)
	}
	logf("Waypoint on %s, floor on %s; %d connections, %d rounds of at most %s / %d requests", e.product, e.floorURL,
		c.conns, c.rounds, c.duration, c.requests)
	b := &bench{c: c, e: e, cs: &clients{}}
	only, err := regexp.Compile(c.only)
	if err != nil {
		return fmt.Errorf("-only: %w", err)
	}
	var results []result
	for _, sc := range append(floored(f), directoryScenario(f)) {
		if !only.MatchString(sc.key) {
			continue
		}
		r, err := b.measure(ctx, sc)
		if err != nil {
			return err
		}
		results = append(results, r)
	}
	if only.MatchString("sse-fanout") {
		sse, err := b.measureSSE(ctx, f)
		if err != nil {
			return err
		}
		results = append(results, sse)
	}
	m.finish()
	rep := report{c: c, m: m, same: same, results: results, profiles: b.profiles, took: time.Since(started)}
	text := rep.markdown()
	if c.out != "" {
		if err := os.WriteFile(c.out, []byte(text), 0o644); err != nil {
			return err
		}
		logf("wrote %s", c.out)
	}
	fmt.Print(rep.summary())
	return verify(results)
}

// verify fails the run when any round had an error or no throughput.
func verify(results []result) error {
	var errs []error
	for _, r := range results {
		for _, rd := range append(r.rounds, r.single...) {
			if rd.errs > 0 || rd.ok == 0 {
				errs = append(errs, fmt.Errorf("%s, %s round %d: %d ok, %d errors (first: %s)", r.sc.name, rd.target, rd.n, rd.ok, rd.errs, rd.firstErr))
			}
		}
	}
	return errors.Join(errs...)
}

type bench struct {
	c        config
	e        *env
	cs       *clients
	profiles []profileFiles
}

func (b *bench) limits() limits {
	return limits{conns: b.c.conns, duration: b.c.duration, requests: b.c.requests}
}

func (b *bench) targets(sc scenario) []target {
	t := []target{{"waypoint", b.e.product}}
	if sc.floor {
		t = append(t, target{"floor", b.e.floorURL})
	}
	return t
}

// measure warms each target up, then runs the rounds alternating
// Waypoint and the floor, then (with -profile) one profiled round each.
func (b *bench) measure(ctx context.Context, sc scenario) (result, error) {
	res := result{sc: sc}
	ts := b.targets(sc)
	for _, t := range ts {
		closedLoop(ctx, b.cs, sc, t.name, t.base, limits{conns: b.c.conns, duration: b.c.warmup, requests: b.c.requests})
	}
	for n := 1; n <= b.c.rounds; n++ {
		for _, t := range ts {
			var r round
			w := sampleWaits(ctx, b.c.dbURL, func() { r = closedLoop(ctx, b.cs, sc, t.name, t.base, b.limits()) })
			r.n, r.db = n, w
			logRound(sc, r)
			res.rounds = append(res.rounds, r)
		}
	}
	if sc.floor {
		res.single = b.singleRounds(ctx, sc, ts)
	}
	if b.c.profileDir != "" {
		for _, t := range ts {
			pf, err := profileRound(b.c.profileDir, sc.key, t.name, func() {
				closedLoop(ctx, b.cs, sc, t.name, t.base, b.limits())
			})
			if err != nil {
				return res, err
			}
			b.profiles = append(b.profiles, pf)
		}
	}
	return res, ctx.Err()
}

// singleRounds measures each target with one connection (half-length
// rounds, alternating): nothing queues in either server or in the
// database, so the latency is each side's own cost of one request.
func (b *bench) singleRounds(ctx context.Context, sc scenario, ts []target) []round {
	l := limits{conns: 1, duration: b.c.duration / 2, requests: b.c.requests}
	var out []round
	for n := 1; n <= b.c.rounds; n++ {
		for _, t := range ts {
			var r round
			r.db = sampleWaits(ctx, b.c.dbURL, func() { r = closedLoop(ctx, b.cs, sc, t.name, t.base, l) })
			r.n = n
			logRound(scenario{key: sc.key + " (1 conn)"}, r)
			out = append(out, r)
		}
	}
	return out
}

// measureSSE runs the fan-out rounds (Waypoint only: there is no floor for
// the event stream).
func (b *bench) measureSSE(ctx context.Context, f *fixtures) (result, error) {
	sb := newSSEBench(b.e, f, b.c.ssePerPerson)
	res := result{sc: sb.scenario()}
	if _, err := sb.round(ctx, b.cs, limits{conns: b.c.conns, duration: b.c.warmup, requests: b.c.requests}); err != nil {
		return res, err
	}
	for n := 1; n <= b.c.rounds; n++ {
		var r round
		var err error
		w := sampleWaits(ctx, b.c.dbURL, func() { r, err = sb.round(ctx, b.cs, b.limits()) })
		if err != nil {
			return res, err
		}
		r.n, r.db = n, w
		logRound(res.sc, r)
		res.rounds = append(res.rounds, r)
	}
	if b.c.profileDir != "" {
		var rerr error
		pf, err := profileRound(b.c.profileDir, res.sc.key, "waypoint", func() { _, rerr = sb.round(ctx, b.cs, b.limits()) })
		if err = errors.Join(err, rerr); err != nil {
			return res, err
		}
		b.profiles = append(b.profiles, pf)
	}
	return res, ctx.Err()
}

func logRound(sc scenario, r round) {
	extra := ""
	if r.deliveries > 0 {
		extra = fmt.Sprintf(" (%d deliveries, %.0f/s)", r.deliveries, float64(r.deliveries)/r.elapsed.Seconds())
	}
	logf("%-18s round %d %-8s %8.0f req/s  p50 %s  p99 %s  errors %d%s  [db %s]", sc.key, r.n, r.target, r.rps(),
		ms(pct(r.lat, 0.50)), ms(pct(r.lat, 0.99)), r.errs, extra, r.db)
	if r.firstErr != "" {
		logf("  first error: %s", r.firstErr)
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

// labelDriver marks the load generator's goroutines (and those they start,
// such as the HTTP client's), so a profile can leave them out:
// go tool pprof -tagignore=bench=driver.
func labelDriver(ctx context.Context, fn func()) {
	pprof.Do(ctx, pprof.Labels("bench", "driver"), func(context.Context) { fn() })
}
