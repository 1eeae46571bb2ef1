// Command writes measures whether writes serialise globally: 50 clients,
// each patching only their own goals (no two requests touch the same row),
// total PATCH/s at 1, 8 and 32 concurrent writers, closed loop on loopback.
//
// Each PATCH emits a goal.updated event, so the outbox is on every request's
// path. Throughput that stops growing with writers while the database's
// backends wait on one lock is a global ceiling; the bench samples
// pg_stat_activity to show which. It runs Waypoint in process (api/server,
// as `waypoint serve` builds it) on its own database (waypoint_bench_writes,
// created, migrated and seeded on first use). Load is bounded: -duration per
// level (default 10 s, at most 30 s). Run with `make bench-writes`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"github.com/waypoint-portal/waypoint/auth/devissuer"
	"github.com/waypoint-portal/waypoint/bench/internal/load"
	"github.com/waypoint-portal/waypoint/bench/internal/seed"
	"github.com/waypoint-portal/waypoint/domain"
)

const (
	issuerURL = "https://bench.waypoint.invalid/oidc"
	audience  = "waypoint-bench"
	clients   = 50
	goalsPer  = 4
)

func main() {
	dbURL := flag.String("db", load.EnvOr("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/waypoint_bench_writes?sslmode=disable"), "benchmark database (created if missing)")
	duration := flag.Duration("duration", 10*time.Second, "measured time per writer count")
	levels := flag.String("writers", "1,8,32", "concurrent writer counts, comma separated")
	flag.Parse()
	if *duration > 30*time.Second {
		fmt.Fprintln(os.Stderr, "bench: at most 30 s per level")
		os.Exit(2)
	}
	var ns []int
	for _, f := range strings.Split(*levels, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 64 {
			fmt.Fprintf(os.Stderr, "bench: bad writer count %q\n", f)
			os.Exit(2)
		}
		ns = append(ns, n)
	}
	if err := run(context.Background(), *dbURL, *duration, ns); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// goal is one goal, its client's token and its current version; only one
// writer ever patches it, so the version it keeps is always current.
type goal struct {
	id      uuid.UUID
	token   string
	version int64
}

func run(ctx context.Context, dbURL string, d time.Duration, levels []int) error {
	db, closeDB, err := load.OpenMigrated(ctx, dbURL)
	if err != nil {
		return err
	}
	defer closeDB()
	if _, err := (seed.Goals{Issuer: issuerURL, Clients: clients, GoalsPer: goalsPer, Caseload: 1}).Seed(ctx, db); err != nil {
		return err
	}
	srv, iss, err := load.Server(ctx, domain.NewStore(db), issuerURL, audience)
	if err != nil {
		return err
	}
	defer srv.Close()
	byClient, err := loadGoals(ctx, db, iss)
	if err != nil {
		return err
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 10 * time.Second}
	fmt.Printf("server %s, %d clients x %d goals, %d CPUs, GOMAXPROCS %d\n", srv.URL(), len(byClient), goalsPer, runtime.NumCPU(), runtime.GOMAXPROCS(0))
	// Warm-up (not measured): connections, caches, provisioning.
	if _, err := level(ctx, client, srv.URL(), byClient, 8, 2*time.Second, ""); err != nil {
		return err
	}
	fmt.Printf("\n| writers | PATCH/s | p50 | p99 | errors | DB backends (mean active: top waits) | load avg (1 min) before → after |\n|---|---|---|---|---|---|---|\n")
	for _, n := range levels {
		before := loadAvg()
		r, err := level(ctx, client, srv.URL(), byClient, n, d, dbURL)
		if err != nil {
			return err
		}
		fmt.Printf("| %d | %.0f | %s | %s | %d | %s | %s → %s |\n", n, r.rate, load.Ms(r.p50), load.Ms(r.p99), r.errors, r.waits, before, loadAvg())
	}
	return nil
}

type result struct {
	rate     float64
	p50, p99 time.Duration
	errors   int
	waits    string
}

// level runs n writers for d: writer w owns clients w, w+n, ... and patches
// their goals in turn, each request after the previous one's answer.
func level(ctx context.Context, c *http.Client, base string, byClient [][]*goal, n int, d time.Duration, dbURL string) (result, error) {
	var mu sync.Mutex
	var lat []time.Duration
	errs := 0
	var firstErr error
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	sampler := startWaits(ctx, dbURL)
	start := time.Now()
	for w := range n {
		var mine []*goal
		for i := w; i < len(byClient); i += n {
			mine = append(mine, byClient[i]...)
		}
		if len(mine) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var local []time.Duration
			bad := 0
			var e1 error
			for i := 0; time.Now().Before(stop); i++ {
				g := mine[i%len(mine)]
				t0 := time.Now()
				err := patch(ctx, c, base, g, i)
				if err != nil {
					bad++
					if e1 == nil {
						e1 = err
					}
					continue
				}
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, local...)
			errs += bad
			if firstErr == nil {
				firstErr = e1
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	waits := sampler()
	if len(lat) == 0 {
		return result{}, fmt.Errorf("%d writers: no PATCH succeeded: %v", n, firstErr)
	}
	if firstErr != nil {
		fmt.Fprintf(os.Stderr, "%d writers: %d errors, first: %v\n", n, errs, firstErr)
	}
	slices.Sort(lat)
	return result{rate: float64(len(lat)) / elapsed.Seconds(), p50: lat[len(lat)/2], p99: lat[len(lat)*99/100], errors: errs, waits: waits}, nil
}

// patch edits g's title with If-Match and keeps the new version.
func patch(ctx context.Context, c *http.Client, base string, g *goal, i int) error {
	body := strings.NewReader(fmt.Sprintf(`{"title":"Bench write %d"}`, i))
	req, err := http.NewRequestWithContext(ctx, http.MethodPatch, base+"/v1/goals/"+g.id.String(), body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+g.token)
	req.Header.Set("Content-Type", "application/merge-patch+json")
	req.Header.Set("If-Match", `"`+strconv.FormatInt(g.version, 10)+`"`)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("PATCH %s: %s", g.id, resp.Status)
	}
	v, err := strconv.ParseInt(strings.Trim(resp.Header.Get("ETag"), `"`), 10, 64)
	if err != nil {
		return fmt.Errorf("ETag %q: %w", resp.Header.Get("ETag"), err)
	}
	g.version = v
	return nil
}

// loadGoals mints each seeded client's token and reads their goals' versions.
func loadGoals(ctx context.Context, db *gorm.DB, iss *devissuer.Issuer) ([][]*goal, error) {
	var rows []struct {
		Subject string
		GoalID  uuid.UUID
		Version int64
	}
	err := db.WithContext(ctx).Raw(`SELECT p.subject, g.id AS goal_id, g.version FROM clients c
		JOIN people p ON p.id = c.person_id JOIN goals g ON g.client_id = c.id
		WHERE p.issuer = ? AND p.subject LIKE 'bench-client-%' ORDER BY p.subject, g.id`, issuerURL).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("load goals: %w", err)
	}
	if len(rows) == 0 {
		return nil, errors.New("no seeded goals")
	}
	idx := map[string]int{}
	var out [][]*goal
	tokens := map[string]string{}
	for _, r := range rows {
		i, ok := idx[r.Subject]
		if !ok {
			tok, err := iss.Mint(devissuer.TokenRequest{Subject: r.Subject, Roles: []string{"client"}, TTL: time.Hour})
			if err != nil {
				return nil, err
			}
			tokens[r.Subject] = tok
			i = len(out)
			idx[r.Subject] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], &goal{id: r.GoalID, token: tokens[r.Subject], version: r.Version})
	}
	return out, nil
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

// startWaits samples pg_stat_activity every 100 ms until the returned
// function is called, which reports mean active backends and top waits.
func startWaits(ctx context.Context, dbURL string) func() string {
	if dbURL == "" {
		return func() string { return "" }
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return func() string { return "—" }
	}
	counts := map[string]int{}
	samples := 0
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			rows, err := conn.Query(ctx, `SELECT COALESCE(wait_event_type || ':' || wait_event, 'CPU') FROM pg_stat_activity
				WHERE datname = current_database() AND state = 'active' AND backend_type = 'client backend' AND pid <> pg_backend_pid()`)
			if err != nil {
				return
			}
			labels, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return
			}
			samples++
			for _, l := range labels {
				counts[l]++
			}
		}
	}()
	return func() string {
		close(stop)
		<-done
		_ = conn.Close(context.WithoutCancel(ctx))
		total := 0
		for _, n := range counts {
			total += n
		}
		if samples == 0 || total == 0 {
			return "—"
		}
		keys := slices.SortedFunc(maps.Keys(counts), func(a, b string) int { return counts[b] - counts[a] })
		var top []string
		for _, k := range keys[:min(3, len(keys))] {
			top = append(top, fmt.Sprintf("%s %.0f%%", k, 100*float64(counts[k])/float64(total)))
		}
		return fmt.Sprintf("%.1f: %s", float64(total)/float64(samples), strings.Join(top, ", "))
	}
}
