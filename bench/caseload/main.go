// Command caseload benchmarks a worker's "my clients with goals due this
// week" (GET /v1/clients?goal_due_from&goal_due_to, issue #12 target 5)
// against a real Waypoint server and PostgreSQL, on loopback.
//
// It runs the server in-process on 127.0.0.1:<free port> against its own
// database (waypoint_bench_caseload, created and migrated if missing),
// seeded once with -clients clients of 3 goals each (target dates spread
// over 120 days, a tenth of the goals completed) of which the worker has
// -caseload on their care team, prints the EXPLAIN (ANALYZE, BUFFERS) of the
// list's query, then lists the first page (20) of this week's due clients:
//
//	phase 1: one connection, closed loop, -requests requests: each request's own cost
//	phase 2: a constant -rate (50 req/s) for -duration (20 s) at 16 workers: p50, p99
//
// Load is bounded (at most 60 s). Run with `make bench-caseload`.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/google/uuid"
	vegeta "github.com/tsenart/vegeta/v12/lib"
	"gorm.io/gorm"

	"github.com/waypoint-portal/waypoint/auth/devissuer"
	"github.com/waypoint-portal/waypoint/bench/internal/load"
	"github.com/waypoint-portal/waypoint/bench/internal/seed"
	"github.com/waypoint-portal/waypoint/domain"
)

const (
	issuerURL = "https://bench.waypoint.invalid/oidc"
	audience  = "waypoint-bench"
	workers   = 16
)

func main() {
	dbURL := flag.String("db", load.EnvOr("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/waypoint_bench_caseload?sslmode=disable"), "benchmark database (created if missing)")
	clients := flag.Int("clients", 20000, "clients in the database")
	caseload := flag.Int("caseload", 1000, "clients on the worker's care team")
	requests := flag.Int("requests", 500, "requests of the one-connection phase")
	rate := flag.Int("rate", 50, "requests per second of the constant-rate phase")
	duration := flag.Duration("duration", 20*time.Second, "constant-rate phase length")
	target := flag.Duration("target-p99", 20*time.Millisecond, "p99 target")
	flag.Parse()
	if *duration > 40*time.Second {
		fmt.Fprintln(os.Stderr, "bench: the constant-rate phase is limited to 40 s")
		os.Exit(2)
	}
	if err := run(context.Background(), *dbURL, *clients, *caseload, *requests, *rate, *duration, *target); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, dbURL string, clients, caseload, requests, rate int, duration, target time.Duration) error {
	db, closeDB, err := load.OpenMigrated(ctx, dbURL)
	if err != nil {
		return err
	}
	defer closeDB()
	if err := seedCaseload(ctx, db, clients, caseload); err != nil {
		return err
	}
	store := domain.NewStore(db)
	srv, iss, err := load.Server(ctx, store, issuerURL, audience)
	if err != nil {
		return err
	}
	defer srv.Close()
	tok, err := iss.Mint(devissuer.TokenRequest{Subject: "bench-worker", Name: "Bench Worker", Roles: []string{"worker"},
		Scopes: []string{"profile:read"}, TTL: time.Hour})
	if err != nil {
		return err
	}
	// Monday to Sunday of the current week, in UTC.
	now := time.Now().UTC()
	monday := now.AddDate(0, 0, -((int(now.Weekday()) + 6) % 7))
	q := url.Values{"goal_due_from": {monday.Format(time.DateOnly)}, "goal_due_to": {monday.AddDate(0, 0, 6).Format(time.DateOnly)}}
	target1 := vegeta.Target{Method: http.MethodGet, URL: srv.URL() + "/v1/clients?" + q.Encode(),
		Header: http.Header{"Authorization": {"Bearer " + tok}}}
	if err := explain(ctx, db, q); err != nil {
		return err
	}

	var due int
	if err := db.Raw(`SELECT count(DISTINCT g.client_id) FROM goals g JOIN care_team_members m ON m.client_id = g.client_id
		JOIN people w ON w.id = m.person_id AND w.subject = 'bench-worker'
		WHERE g.target_date BETWEEN ?::date AND ?::date AND g.lifecycle_status = ANY (?::text[])`,
		q.Get("goal_due_from"), q.Get("goal_due_to"), "{"+joinStatuses()+"}").Scan(&due).Error; err != nil {
		return err
	}
	fmt.Printf("worker's caseload %d of %d clients; %d with goals due %s..%s (a page is 20)\n\n", caseload, clients, due,
		q.Get("goal_due_from"), q.Get("goal_due_to"))

	targeter := vegeta.NewStaticTargeter(target1)
	load.Attack("caseload", targeter, 50, 2*time.Second, workers, 0) // warm-up, not measured
	m1 := attackN(targeter, requests)
	m2 := load.Attack("caseload", targeter, rate, duration, workers, 0)

	fmt.Printf("%-34s %9s %8s %8s %8s %8s  %s\n", "phase", "req/s ok", "p50", "p90", "p99", "max", "status codes / errors")
	row := func(name string, m *vegeta.Metrics) {
		fmt.Printf("%-34s %9.1f %8s %8s %8s %8s  %v %v\n", name, m.Throughput, load.Ms(m.Latencies.P50), load.Ms(m.Latencies.P90),
			load.Ms(m.Latencies.P99), load.Ms(m.Latencies.Max), m.StatusCodes, m.Errors)
	}
	row("one connection, closed loop", m1)
	row(fmt.Sprintf("%d req/s, 16 workers", rate), m2)
	verdict := "met"
	if m2.Latencies.P99 >= target {
		verdict = "MISSED"
	}
	fmt.Printf("\np99 %s at %d req/s: target < %s %s\n", load.Ms(m2.Latencies.P99), rate, load.Ms(target), verdict)
	for _, m := range []*vegeta.Metrics{m1, m2} {
		if m.Success < 1 {
			return fmt.Errorf("%.1f%% success: %v", m.Success*100, m.Errors)
		}
	}
	return nil
}

// attackN sends n requests one after the other on one connection.
func attackN(t vegeta.Targeter, n int) *vegeta.Metrics {
	a := vegeta.NewAttacker(vegeta.Workers(1), vegeta.MaxWorkers(1), vegeta.Connections(1))
	var m vegeta.Metrics
	for r := range a.Attack(t, vegeta.ConstantPacer{Freq: 0}, 0, "caseload-1") {
		m.Add(r)
		if m.Requests >= uint64(n) {
			a.Stop()
		}
	}
	m.Close()
	return &m
}

func joinStatuses() string {
	s := ""
	for i, v := range domain.GoalOpenStatuses() {
		if i > 0 {
			s += ","
		}
		s += v
	}
	return s
}

// seedCaseload seeds once (bench/internal/seed), then spreads the goals'
// target dates over 120 days around today and completes a tenth of them,
// so "due this week" selects a realistic share.
func seedCaseload(ctx context.Context, db *gorm.DB, clients, caseload int) error {
	created, err := seed.Goals{Issuer: issuerURL, Clients: clients, GoalsPer: 3, Caseload: caseload}.Seed(ctx, db)
	if err != nil || !created {
		return err
	}
	err = db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(`SET LOCAL statement_timeout = 0`).Error; err != nil {
			return err
		}
		return tx.Exec(`UPDATE goals SET target_date = current_date - 30 + abs(hashtext(id::text)) % 120,
			lifecycle_status = CASE WHEN abs(hashtext(id::text || 'x')) % 10 = 0 THEN 'completed' ELSE lifecycle_status END`).Error
	})
	if err != nil {
		return fmt.Errorf("spread goal dates: %w", err)
	}
	return seed.Analyze(ctx, db)
}

// explain prints the plan of the list's query as the worker runs it.
func explain(ctx context.Context, db *gorm.DB, q url.Values) error {
	var id string
	if err := db.Raw(`SELECT id::text FROM people WHERE issuer = ? AND subject = 'bench-worker'`, issuerURL).Scan(&id).Error; err != nil {
		return err
	}
	worker := domain.Actor{PersonID: uuid.MustParse(id), Roles: []string{domain.RoleWorker}}
	from, _ := time.Parse(time.DateOnly, q.Get("goal_due_from"))
	to, _ := time.Parse(time.DateOnly, q.Get("goal_due_to"))
	plan, err := domain.NewStore(db).ExplainListClients(ctx, worker, domain.ClientFilter{GoalDueFrom: from, GoalDueTo: to, Limit: 20})
	if err != nil {
		return err
	}
	fmt.Printf("EXPLAIN (ANALYZE, BUFFERS) of the worker's list, goals due %s..%s:\n%s\n", q.Get("goal_due_from"), q.Get("goal_due_to"), plan)
	return nil
}
