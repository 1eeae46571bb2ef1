// Command goals benchmarks goal reads and goal PATCHes against a real
// Waypoint server and PostgreSQL, on loopback.
//
// It runs the server in-process on 127.0.0.1:<free port> against its own
// database (waypoint_bench_goals, created and migrated if missing), seeds
// 10,000 clients with 5 goals each (3 steps and 4 check-ins per goal) with
// set-based SQL on the first run (bench/internal/seed), then drives constant-rate load with vegeta:
//
//	GET /v1/goals/{id} as the goal's client     (-get-rate for -get-duration)
//	GET /v1/goals/{id} as a care team worker    (-worker-rate for -worker-duration; also writes the access log)
//	PATCH /v1/goals/{id} with If-Match          (-patch-rate for -patch-duration; one history row each)
//
// and prints req/s, latency percentiles, status codes and errors. The whole
// load is bounded (40 s by default). Run with `make bench-goals`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	vegeta "github.com/tsenart/vegeta/v12/lib"
	"gorm.io/gorm"

	"github.com/waypoint-portal/waypoint/auth/devissuer"
	"github.com/waypoint-portal/waypoint/bench/internal/load"
	"github.com/waypoint-portal/waypoint/bench/internal/seed"
	"github.com/waypoint-portal/waypoint/domain"
)

// The bench's tokens come from an in-process dev issuer under a fixed name,
// so the seeded people (keyed by issuer and subject) match on every run.
const (
	issuerURL = "https://bench.waypoint.invalid/oidc"
	audience  = "waypoint-bench"
	clients   = 10000
	goalsPer  = 5
)

type config struct {
	dbURL          string
	getRate        int
	getDuration    time.Duration
	workerRate     int
	workerDuration time.Duration
	patchRate      int
	patchDuration  time.Duration
	sample         int
	cpuProfile     string
	targetP99      time.Duration
}

func main() {
	var c config
	flag.StringVar(&c.dbURL, "db", load.EnvOr("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/waypoint_bench_goals?sslmode=disable"), "benchmark database (created if missing)")
	flag.IntVar(&c.getRate, "get-rate", 500, "client GET requests per second")
	flag.DurationVar(&c.getDuration, "get-duration", 20*time.Second, "client GET phase length")
	flag.IntVar(&c.workerRate, "worker-rate", 500, "worker GET requests per second")
	flag.DurationVar(&c.workerDuration, "worker-duration", 10*time.Second, "worker GET phase length")
	flag.IntVar(&c.patchRate, "patch-rate", 100, "PATCH requests per second")
	flag.DurationVar(&c.patchDuration, "patch-duration", 10*time.Second, "PATCH phase length")
	flag.IntVar(&c.sample, "clients", 1000, "how many of the seeded clients send requests (one token each)")
	flag.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the client GET phase here")
	flag.DurationVar(&c.targetP99, "target-p99", 5*time.Millisecond, "client GET p99 target")
	flag.Parse()
	if total := c.getDuration + c.workerDuration + c.patchDuration; total > 60*time.Second {
		fmt.Fprintf(os.Stderr, "bench: %s of load is more than the 60 s this bench allows itself\n", total)
		os.Exit(2)
	}
	if err := run(context.Background(), c); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c config) error {
	db, closeDB, err := load.OpenMigrated(ctx, c.dbURL)
	if err != nil {
		return err
	}
	defer closeDB()
	start := time.Now()
	seeded, err := seed.Goals{Issuer: issuerURL, Clients: clients, GoalsPer: goalsPer, Caseload: 1000}.Seed(ctx, db)
	if err != nil {
		return err
	}
	if seeded {
		fmt.Printf("seeded %d clients x %d goals in %s\n", clients, goalsPer, time.Since(start).Round(time.Millisecond))
	}

	srv, iss, err := load.Server(ctx, domain.NewStore(db), issuerURL, audience)
	if err != nil {
		return err
	}
	defer srv.Close()
	base := srv.URL()

	w, err := loadWork(ctx, db, iss, c.sample)
	if err != nil {
		return err
	}
	fmt.Printf("server on %s; %d clients sending, %d goals; worker on %d caseload goals\n\n", base, c.sample, len(w.goals), len(w.workerGoals))

	// Warm up connections, caches and the provisioning path (not measured).
	load.Attack("goals", getTargeter(base, w.goals, 7), 200, 2*time.Second, 16, 0)

	var results []phaseResult
	var stopProfile func()
	if c.cpuProfile != "" {
		f, err := os.Create(c.cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		stopProfile = func() { pprof.StopCPUProfile(); _ = f.Close() }
	}
	results = append(results, phaseResult{"GET /v1/goals/{id} (client)", c.getRate, load.Attack("goals", getTargeter(base, w.goals, 1), c.getRate, c.getDuration, 16, 0)})
	if stopProfile != nil {
		stopProfile()
	}
	results = append(results, phaseResult{"GET /v1/goals/{id} (worker)", c.workerRate, load.Attack("goals", getTargeter(base, w.workerGoals, 2), c.workerRate, c.workerDuration, 16, 0)})
	var patched atomic.Int64
	results = append(results, phaseResult{"PATCH /v1/goals/{id} (client)", c.patchRate, load.Attack("goals", patchTargeter(base, w.goals, &patched), c.patchRate, c.patchDuration, 16, 0)})

	fmt.Printf("%-32s %8s %9s %8s %8s %8s %8s  %s\n", "operation", "rate", "req/s ok", "p50", "p90", "p99", "max", "status codes / errors")
	for _, r := range results {
		m := r.m
		fmt.Printf("%-32s %8d %9.1f %8s %8s %8s %8s  %v %s\n", r.name, r.rate, m.Throughput,
			load.Ms(m.Latencies.P50), load.Ms(m.Latencies.P90), load.Ms(m.Latencies.P99), load.Ms(m.Latencies.Max), m.StatusCodes, strings.Join(m.Errors, "; "))
	}
	got := results[0].m.Latencies.P99
	verdict := "met"
	if got >= c.targetP99 {
		verdict = "MISSED"
	}
	fmt.Printf("\nclient GET p99 %s at %d req/s: target < %s %s\n", load.Ms(got), c.getRate, load.Ms(c.targetP99), verdict)
	for _, r := range results {
		if r.m.Success < 1 || len(r.m.Errors) > 0 {
			return fmt.Errorf("%s: %.1f%% success, errors %v", r.name, r.m.Success*100, r.m.Errors)
		}
	}
	return nil
}

type phaseResult struct {
	name string
	rate int
	m    *vegeta.Metrics
}

// benchGoal is a goal and the token of someone who may read it.
type benchGoal struct {
	id      uuid.UUID
	token   string
	version int64
}

type work struct {
	goals       []benchGoal // with the owning client's token
	workerGoals []benchGoal // with the worker's token
}

// getTargeter cycles through goals in a shuffled order; vegeta calls it from
// many goroutines.
func getTargeter(base string, goals []benchGoal, seed uint64) vegeta.Targeter {
	order := rand.New(rand.NewPCG(seed, seed)).Perm(len(goals))
	var n atomic.Uint64
	return func(t *vegeta.Target) error {
		g := goals[order[int(n.Add(1)-1)%len(order)]]
		t.Method, t.URL = http.MethodGet, base+"/v1/goals/"+g.id.String()
		t.Header = http.Header{"Authorization": {"Bearer " + g.token}}
		return nil
	}
}

// patchTargeter edits each goal at most once per run, with the version read
// before the run: every PATCH should succeed (200), none should be 412.
func patchTargeter(base string, goals []benchGoal, n *atomic.Int64) vegeta.Targeter {
	return func(t *vegeta.Target) error {
		i := int(n.Add(1) - 1)
		if i >= len(goals) {
			return vegeta.ErrNoTargets
		}
		g := goals[i]
		t.Method, t.URL = http.MethodPatch, base+"/v1/goals/"+g.id.String()
		t.Header = http.Header{"Authorization": {"Bearer " + g.token}, "Content-Type": {"application/merge-patch+json"},
			"If-Match": {fmt.Sprintf(`"%d"`, g.version)}}
		t.Body = []byte(fmt.Sprintf(`{"title":"Bench edit %d","priority":"high"}`, time.Now().UnixNano()))
		return nil
	}
}

// loadWork picks sample clients, mints their tokens and reads their goals'
// current versions (so PATCHes carry a fresh If-Match).
func loadWork(ctx context.Context, db *gorm.DB, iss *devissuer.Issuer, sample int) (work, error) {
	var rows []struct {
		Subject    string
		ClientID   uuid.UUID
		GoalID     uuid.UUID
		Version    int64
		OnCaseload bool
	}
	err := db.WithContext(ctx).Raw(`
		WITH pick AS (SELECT c.id, p.subject FROM clients c JOIN people p ON p.id = c.person_id
			WHERE p.issuer = ? AND p.subject LIKE 'bench-client-%' ORDER BY c.id LIMIT ?)
		SELECT pick.subject, pick.id AS client_id, g.id AS goal_id, g.version,
			EXISTS (SELECT 1 FROM care_team_members m JOIN people w ON w.id = m.person_id
				WHERE m.client_id = pick.id AND w.issuer = ? AND w.subject = 'bench-worker') AS on_caseload
		FROM pick JOIN goals g ON g.client_id = pick.id ORDER BY g.id`, issuerURL, sample, issuerURL).Scan(&rows).Error
	if err != nil {
		return work{}, fmt.Errorf("load sample: %w", err)
	}
	if len(rows) == 0 {
		return work{}, errors.New("no seeded goals found")
	}
	workerTok, err := iss.Mint(devissuer.TokenRequest{Subject: "bench-worker", Name: "Bench Worker", Roles: []string{"worker"}, TTL: time.Hour})
	if err != nil {
		return work{}, err
	}
	tokens := map[string]string{}
	var w work
	for _, r := range rows {
		tok, ok := tokens[r.Subject]
		if !ok {
			if tok, err = iss.Mint(devissuer.TokenRequest{Subject: r.Subject, Roles: []string{"client"}, TTL: time.Hour}); err != nil {
				return work{}, err
			}
			tokens[r.Subject] = tok
		}
		w.goals = append(w.goals, benchGoal{id: r.GoalID, token: tok, version: r.Version})
		if r.OnCaseload {
			w.workerGoals = append(w.workerGoals, benchGoal{id: r.GoalID, token: workerTok, version: r.Version})
		}
	}
	// PATCH in an order unrelated to the GET phases.
	rand.New(rand.NewPCG(3, 3)).Shuffle(len(w.goals), func(i, j int) { w.goals[i], w.goals[j] = w.goals[j], w.goals[i] })
	w.goals = slices.Clip(w.goals)
	if len(w.workerGoals) == 0 {
		return work{}, errors.New("the bench worker has no caseload")
	}
	return w, nil
}
