package domain_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/waypoint-portal/waypoint/domain"
)

const maintenanceURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// newDBName returns a database name that does not exist yet and drops it when the test ends.
func newDBName(t *testing.T, prefix string) string {
	t.Helper()
	name := prefix + strings.ReplaceAll(uuid.NewString(), "-", "")[:12]
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, maintenanceURL)
		if err == nil {
			_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			conn.Close(ctx)
		}
	})
	return name
}

// Two processes starting on a new database (make run and dev token) both
// create it; whichever loses the race must still succeed. Several rounds,
// because one round may not overlap the CREATE DATABASE statements.
func TestEnsureDatabaseConcurrent(t *testing.T) {
	const racers = 8
	for round := range 3 {
		url := "postgres://postgres@127.0.0.1:5432/" + newDBName(t, "waypoint_race_") + "?sslmode=disable"
		start := make(chan struct{})
		errs := make([]error, racers)
		var wg sync.WaitGroup
		for i := range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = domain.EnsureDatabase(context.Background(), url)
			}()
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, racer %d: %v", round, i, err)
			}
		}
		conn, err := pgx.Connect(context.Background(), url)
		if err != nil {
			t.Fatalf("round %d: database not usable after the race: %v", round, err)
		}
		conn.Close(context.Background())
	}
}

// A connection error names the configured database, not the maintenance
// database used to create it.
func TestEnsureDatabaseErrorNamesTheDatabase(t *testing.T) {
	err := domain.EnsureDatabase(context.Background(), "postgres://postgres@127.0.0.1:1/waypoint_nowhere?sslmode=disable")
	if err == nil || !strings.Contains(err.Error(), `"waypoint_nowhere"`) || strings.Contains(err.Error(), "database=postgres") {
		t.Fatalf("error = %v; want one naming waypoint_nowhere and not the maintenance database", err)
	}
}

// Unavailable tells an outage (retry later: 503) from a failed statement.
func TestUnavailable(t *testing.T) {
	ctx := context.Background()
	down, err := pgx.Connect(ctx, "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=2")
	if err == nil {
		down.Close(ctx)
		t.Fatal("something listens on port 1")
	}
	if !domain.Unavailable(err) || !domain.Unavailable(fmt.Errorf("wrapped: %w", err)) {
		t.Fatalf("refused connection not unavailable: %v", err)
	}
	conn, err := pgx.Connect(ctx, maintenanceURL)
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, "SELEC 1")
	if err == nil || domain.Unavailable(err) {
		t.Fatalf("syntax error counted as an outage: %v", err)
	}
	// A connection the server ends (as in a restart) is an outage.
	var pid int
	if err := conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	killer, err := pgx.Connect(ctx, maintenanceURL)
	if err != nil {
		t.Fatal(err)
	}
	defer killer.Close(ctx)
	if _, err := killer.Exec(ctx, "SELECT pg_terminate_backend($1)", pid); err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, "SELECT 1")
	if err == nil || !domain.Unavailable(err) {
		t.Fatalf("terminated connection not unavailable: %v", err)
	}
	if domain.Unavailable(nil) || domain.Unavailable(domain.NotFound("goal")) {
		t.Fatal("nil or a domain error counted as an outage")
	}
}
