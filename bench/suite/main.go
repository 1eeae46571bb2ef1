// Command suite is `make bench` and `make bench-smoke`: every scenario of
// issue #12 against Waypoint (built by api/server.New, the constructor
// `waypoint serve` uses) and, where one exists, against the hand-written
// floor (bench/floor), both in this process on loopback, on one database.
//
// Each scenario runs closed loop (each connection sends its next request as
// soon as it has read the previous answer) with 16 connections, in rounds
// that alternate Waypoint and the floor (3 each by default), bounded in
// time and in requests. Before measuring, a same-work check sends each
// floored call to both and requires the same answer and the same rows
// written. The report (bench/REPORT.md) gives the machine, every figure
// absolute and as a ratio to the floor, and the method; -profile writes
// pprof CPU and allocation profiles of an extra, unmeasured round per
// target. -smoke is the same driver on a small dataset for seconds: it
// asserts nothing about speed, only that every scenario ran without errors.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"
)

type config struct {
	dbURL                    string
	out                      string
	note                     string
	rounds, conns, requests  int
	duration, warmup         time.Duration
	timeout                  time.Duration
	clients, services        int
	sseWorkers, ssePerPerson int
	profileDir               string
	tokenCache               bool
	smoke                    bool
	only                     string
}

func main() {
	var c config
	flag.StringVar(&c.dbURL, "db", envOr("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/waypoint_bench?sslmode=disable"), "benchmark database (created, migrated and seeded if missing)")
	flag.StringVar(&c.out, "out", "bench/REPORT.md", "write the report here (empty: stdout only)")
	flag.StringVar(&c.note, "note", os.Getenv("BENCH_NOTE"), "a note for the report's header (say if the machine was busy)")
	flag.IntVar(&c.rounds, "rounds", 3, "measured rounds per target")
	flag.IntVar(&c.conns, "conns", 16, "connections (closed loop)")
	flag.IntVar(&c.requests, "requests", 200000, "at most this many requests per round")
	flag.DurationVar(&c.duration, "duration", 5*time.Second, "at most this long per round")
	flag.DurationVar(&c.warmup, "warmup", 2*time.Second, "unmeasured warm-up per scenario and target")
	flag.DurationVar(&c.timeout, "timeout", 30*time.Minute, "the whole run, seeding included, must end within this")
	flag.IntVar(&c.clients, "clients", 10000, "seeded clients (5 goals each)")
	flag.IntVar(&c.services, "services", 100000, "directory size")
	flag.IntVar(&c.sseWorkers, "sse-workers", 24, "workers on the SSE client's care team")
	flag.IntVar(&c.ssePerPerson, "sse-streams", 4, "event streams per person in the SSE fan-out (at most 10, the hub's per-person cap)")
	flag.StringVar(&c.profileDir, "profile", "", "write CPU and allocation profiles of an extra round per scenario and target here")
	flag.BoolVar(&c.tokenCache, "floor-token-cache", true, "let the floor cache verified tokens until exp, as the product does (auth's token cache); false: the floor verifies every request")
	flag.StringVar(&c.only, "only", "", "run only the scenarios whose key matches this regular expression (e.g. 'goal-read|message')")
	flag.BoolVar(&c.smoke, "smoke", false, "CI smoke run: small dataset, 1 round of 1 s per target, no report file; fails on any error or zero throughput")
	flag.Parse()
	if c.smoke {
		smokeDefaults(&c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	if err := run(ctx, c); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// smokeDefaults shrinks every flag the command line did not set.
func smokeDefaults(c *config) {
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	defaults := map[string]func(){
		"db": func() {
			c.dbURL = envOr("BENCH_SMOKE_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/waypoint_bench_smoke?sslmode=disable")
		},
		"out":         func() { c.out = "" },
		"rounds":      func() { c.rounds = 1 },
		"requests":    func() { c.requests = 500 },
		"duration":    func() { c.duration = time.Second },
		"warmup":      func() { c.warmup = 200 * time.Millisecond },
		"timeout":     func() { c.timeout = 3 * time.Minute },
		"clients":     func() { c.clients = 60 },
		"services":    func() { c.services = 500 },
		"sse-workers": func() { c.sseWorkers = 2 },
		"sse-streams": func() { c.ssePerPerson = 1 },
	}
	for name, apply := range defaults {
		if !set[name] {
			apply()
		}
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}
