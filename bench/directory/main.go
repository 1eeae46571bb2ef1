// Command directory benchmarks resource directory search against a real
// Waypoint server and PostgreSQL, on loopback.
//
// It runs the server in-process on 127.0.0.1:<free port> against its own
// database (waypoint_bench_directory, created and migrated if missing), fills
// it with -services generated services (100,000 by default; the demo
// generator, set-based SQL, only what is missing) and prints the EXPLAIN of
// the benchmark query. Then it drives searches that combine text, a point and
// radius and open_now, varied over eight cities, with vegeta at 16 workers:
//
//	phase 1: a constant -rate (200 req/s) for -duration (20 s): p50, p99, errors
//	phase 2: as fast as 16 workers go for -max-duration (10 s): capacity in req/s
//
// Load is bounded (at most 90 s). Run with `make bench-directory`.
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"gorm.io/gorm"

	"github.com/waypoint-portal/waypoint/auth/devissuer"
	"github.com/waypoint-portal/waypoint/bench/internal/load"
	"github.com/waypoint-portal/waypoint/domain"
	"github.com/waypoint-portal/waypoint/domain/demo"
)

const (
	issuerURL = "https://bench.waypoint.invalid/oidc"
	audience  = "waypoint-bench"
	workers   = 16
)

type config struct {
	dbURL       string
	services    int
	rate        int
	duration    time.Duration
	maxDuration time.Duration
	targetP99   time.Duration
	cpuProfile  string
	// scales runs the constant-rate phase on each size, one database each
	scales string
	// fresh recreates the database, seeds it and measures two runs in a row
	fresh bool
	// skipRefresh leaves out the statistics refresh after seeding (with fresh:
	// the database as a bulk load left it before `hsds import` and `demo seed` refreshed it)
	skipRefresh bool
	// dense seeds every size in the 100,000-service metro areas (density
	// grows with the directory) instead of widening them (constant density)
	dense bool
	// explain prints EXPLAIN (ANALYZE, BUFFERS) of representative searches
	// on each size before measuring it (with scales)
	explain bool
}

func main() {
	var c config
	flag.StringVar(&c.dbURL, "db", load.EnvOr("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/waypoint_bench_directory?sslmode=disable"), "benchmark database (created if missing)")
	flag.IntVar(&c.services, "services", 100000, "directory size")
	flag.IntVar(&c.rate, "rate", 200, "searches per second in the constant-rate phase")
	flag.DurationVar(&c.duration, "duration", 20*time.Second, "constant-rate phase length")
	flag.DurationVar(&c.maxDuration, "max-duration", 10*time.Second, "as-fast-as-possible phase length (0 skips it)")
	flag.DurationVar(&c.targetP99, "target-p99", 50*time.Millisecond, "p99 target of the constant-rate phase")
	flag.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the constant-rate phase here")
	flag.StringVar(&c.scales, "scales", "", "comma-separated directory sizes: the constant-rate phase on each, in databases named after -db with _10k, _100k, _1m... (seeded once each)")
	flag.BoolVar(&c.fresh, "fresh", false, "drop and recreate the database, seed -services, then two constant-rate phases in a row without warm-up (first run after a bulk load vs the next)")
	flag.BoolVar(&c.skipRefresh, "skip-refresh", false, "do not refresh statistics after seeding (shows what a bulk load without it leaves)")
	flag.BoolVar(&c.dense, "dense", false, "seed past 100,000 services into the same metro areas (services per km² grow with the directory; databases get a _dense suffix) instead of widening them")
	flag.BoolVar(&c.explain, "explain", false, "with -scales: print EXPLAIN (ANALYZE, BUFFERS) of representative searches on each size first")
	flag.Parse()
	if total := c.duration + c.maxDuration; total > 90*time.Second {
		fmt.Fprintf(os.Stderr, "bench: %s of load is more than the 90 s this bench allows itself\n", total)
		os.Exit(2)
	}
	if err := run(context.Background(), c); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// point is a place people search from.
type point struct{ lat, lon float64 }

var texts = []string{"food pantry", "food", "shelter", "legal aid", "dental", "counseling", "meals", "rent assistance",
	"immigration", "tax help", "job training", "clinic", "benefits snap"}

func run(ctx context.Context, c config) error {
	switch {
	case c.scales != "":
		return runScales(ctx, c)
	case c.fresh:
		return runFresh(ctx, c)
	}
	db, closeDB, err := load.OpenMigrated(ctx, c.dbURL)
	if err != nil {
		return err
	}
	defer closeDB()
	if err := seed(ctx, db, c.services, c); err != nil {
		return err
	}

	store := domain.NewStore(db)
	plan, err := store.ExplainSearch(ctx, domain.SearchFilter{Search: "food pantry", OpenNow: true,
		Near: &domain.Near{Lat: 47.61, Lon: -122.33, RadiusKM: 5}, Page: 1, PerPage: 20})
	if err != nil {
		return err
	}
	fmt.Printf("EXPLAIN of search=food pantry&lat=47.61&lon=-122.33&radius_km=5&open_now=true:\n%s\n", plan)

	srv, iss, err := load.Server(ctx, store, issuerURL, audience)
	if err != nil {
		return err
	}
	defer srv.Close()
	base := srv.URL()
	pts, err := searchPoints(db)
	if err != nil {
		return err
	}
	tok, err := iss.Mint(devissuer.TokenRequest{Subject: "bench-client", Name: "Bench Client", Roles: []string{"client"},
		Scopes: []string{"services:read"}, TTL: time.Hour})
	if err != nil {
		return err
	}
	fmt.Printf("server on %s; %d workers\n\n", base, workers)

	load.Attack("directory", targeter(base, tok, pts, 7), 100, 3*time.Second, workers, 0) // warm-up, not measured
	if c.cpuProfile != "" {
		f, err := os.Create(c.cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer f.Close()
	}
	m1 := load.Attack("directory", targeter(base, tok, pts, 1), c.rate, c.duration, workers, 0)
	if c.cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	var m2 *vegeta.Metrics
	if c.maxDuration > 0 {
		m2 = load.Attack("directory", targeter(base, tok, pts, 2), 0, c.maxDuration, workers, workers)
	}

	return report(c, m1, m2)
}

// seed fills the directory up to want services (a larger one is kept) and
// prints its size; refresh ends the load as `demo seed` does.
func seed(ctx context.Context, db *gorm.DB, want int, c config) error {
	var have int
	if err := db.Raw(`SELECT count(*) FROM services`).Scan(&have).Error; err != nil {
		return err
	}
	if have < want {
		start := time.Now()
		spread := demo.Spread(want)
		if c.dense {
			spread = 1
		}
		added, err := demo.SeedDirectorySpread(ctx, db, want, spread)
		if err != nil {
			return err
		}
		fmt.Printf("seeded %d services (metro areas %.2f× as wide as at 100,000) in %s\n", added, spread, time.Since(start).Round(time.Millisecond))
		if !c.skipRefresh {
			start = time.Now()
			if err := domain.NewStore(db).RefreshDirectoryStatistics(ctx); err != nil {
				return err
			}
			fmt.Printf("refreshed statistics (VACUUM (ANALYZE)) in %s\n", time.Since(start).Round(time.Millisecond))
		}
	}
	var rows int
	db.Raw(`SELECT count(*) FROM service_search`).Scan(&rows)
	fmt.Printf("directory: %d services (%d search rows)\n\n", max(have, want), rows)
	return nil
}

// searchPoints are places to search from: random locations of the
// directory, so busy cities get more searches.
func searchPoints(db *gorm.DB) ([]point, error) {
	var pts []point
	rows2, err := db.Raw(`SELECT latitude, longitude FROM locations WHERE latitude IS NOT NULL ORDER BY md5(id::text) LIMIT 5000`).Rows()
	if err != nil {
		return nil, err
	}
	for rows2.Next() {
		var p point
		if err := rows2.Scan(&p.lat, &p.lon); err != nil {
			rows2.Close()
			return nil, err
		}
		pts = append(pts, p)
	}
	rows2.Close()
	return pts, nil
}

// report prints both phases and fails the run on errors; the p99 target
// is reported, not enforced.
func report(c config, m1, m2 *vegeta.Metrics) error {
	fmt.Printf("%-28s %8s %9s %8s %8s %8s %8s %8s  %s\n", "phase", "rate", "req/s ok", "p50", "p90", "p99", "max", "KB/req", "status codes / errors")
	row := func(name string, rate string, m *vegeta.Metrics) {
		fmt.Printf("%-28s %8s %9.1f %8s %8s %8s %8s %8.1f  %v %s\n", name, rate, m.Throughput, load.Ms(m.Latencies.P50), load.Ms(m.Latencies.P90),
			load.Ms(m.Latencies.P99), load.Ms(m.Latencies.Max), float64(m.BytesIn.Total)/float64(max(m.Requests, 1))/1000, m.StatusCodes, firstErrors(m.Errors))
	}
	row("search (constant rate)", strconv.Itoa(c.rate), m1)
	if m2 != nil {
		row("search (16 workers, max)", "max", m2)
	}
	fmt.Println("(KB/req: response size per request)")
	verdict := "met"
	if m1.Latencies.P99 >= c.targetP99 {
		verdict = "MISSED"
	}
	fmt.Printf("\np99 %s at %d req/s: target < %s %s\n", load.Ms(m1.Latencies.P99), c.rate, load.Ms(c.targetP99), verdict)
	for _, m := range []*vegeta.Metrics{m1, m2} {
		if m != nil && (m.Success < 1 || len(m.Errors) > 0) {
			return fmt.Errorf("%.1f%% success, errors %s", m.Success*100, firstErrors(m.Errors))
		}
	}
	return nil
}

func firstErrors(errs []string) string {
	if len(errs) > 3 {
		return strings.Join(errs[:3], "; ") + fmt.Sprintf("; ... (%d distinct errors)", len(errs))
	}
	return strings.Join(errs, "; ")
}

// targeter varies the search: a text, a point within a few km of a random
// directory location, a radius of 2-10 km, open now; the first page of 20.
func targeter(base, token string, pts []point, seed uint64) vegeta.Targeter {
	rng := rand.New(rand.NewPCG(seed, 42))
	hdr := http.Header{"Authorization": {"Bearer " + token}}
	return func(t *vegeta.Target) error {
		c := pts[rng.IntN(len(pts))]
		q := url.Values{
			"search":    {texts[rng.IntN(len(texts))]},
			"lat":       {strconv.FormatFloat(c.lat+(rng.Float64()-0.5)*0.05, 'f', 4, 64)},
			"lon":       {strconv.FormatFloat(c.lon+(rng.Float64()-0.5)*0.07, 'f', 4, 64)},
			"radius_km": {strconv.Itoa(2 + rng.IntN(9))},
			"open_now":  {"true"},
		}
		t.Method, t.URL, t.Header = http.MethodGet, base+"/v1/services?"+q.Encode(), hdr
		return nil
	}
}
