package main

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/waypoint-portal/waypoint/auth/devissuer"
	"github.com/waypoint-portal/waypoint/bench/internal/load"
	"github.com/waypoint-portal/waypoint/domain"
	"github.com/waypoint-portal/waypoint/domain/demo"
)

// sizeName is 10k for 10000, 1m for 1000000.
func sizeName(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return strconv.Itoa(n/1_000_000) + "m"
	case n >= 1000 && n%1000 == 0:
		return strconv.Itoa(n/1000) + "k"
	}
	return strconv.Itoa(n)
}

// withDatabase is dbURL naming another database.
func withDatabase(dbURL, name string) (string, error) {
	u, err := url.Parse(dbURL)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

func databaseName(dbURL string) (string, error) {
	u, err := url.Parse(dbURL)
	if err != nil {
		return "", err
	}
	return strings.TrimPrefix(u.Path, "/"), nil
}

// runScales measures the constant-rate phase on each size and prints a
// Markdown table of them.
func runScales(ctx context.Context, c config) error {
	base, err := databaseName(c.dbURL)
	if err != nil {
		return err
	}
	type result struct {
		n    int
		rows int
		m    *vegeta.Metrics
	}
	var results []result
	for _, f := range strings.Split(c.scales, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return fmt.Errorf("-scales: %q is not a size", f)
		}
		name := base + "_" + sizeName(n)
		if c.dense && demo.Spread(n) > 1 {
			name += "_dense"
		}
		dbURL, err := withDatabase(c.dbURL, name)
		if err != nil {
			return err
		}
		fmt.Printf("== %d services (%s)\n", n, dbURL)
		ms, rows, err := measure(ctx, c, dbURL, n, true, 1)
		if err != nil {
			return err
		}
		results = append(results, result{n, rows, ms[0]})
	}
	fmt.Printf("\n| services | search rows | rate | p50 | p90 | p99 | max | errors |\n|---|---|---|---|---|---|---|---|\n")
	for _, r := range results {
		fmt.Printf("| %d | %d | %d req/s | %s | %s | %s | %s | %d |\n", r.n, r.rows, c.rate, load.Ms(r.m.Latencies.P50),
			load.Ms(r.m.Latencies.P90), load.Ms(r.m.Latencies.P99), load.Ms(r.m.Latencies.Max), len(r.m.Errors))
	}
	return nil
}

// runFresh recreates the database, seeds it and measures two constant-rate
// phases in a row with no warm-up: what the first users after a bulk load
// see, and the next ones.
func runFresh(ctx context.Context, c config) error {
	name, err := databaseName(c.dbURL)
	if err != nil {
		return err
	}
	admin, err := withDatabase(c.dbURL, "postgres")
	if err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return err
	}
	for _, q := range []string{`DROP DATABASE IF EXISTS ` + pgx.Identifier{name}.Sanitize() + ` WITH (FORCE)`, `CREATE DATABASE ` + pgx.Identifier{name}.Sanitize()} {
		if _, err := conn.Exec(ctx, q); err != nil {
			conn.Close(ctx)
			return err
		}
	}
	conn.Close(ctx)
	ms, _, err := measure(ctx, c, c.dbURL, c.services, false, 2)
	if err != nil {
		return err
	}
	refresh := "refreshed (VACUUM (ANALYZE))"
	if c.skipRefresh {
		refresh = "not refreshed"
	}
	fmt.Printf("\n| fresh seed of %d, statistics %s | p50 | p90 | p99 | max |\n|---|---|---|---|---|\n", c.services, refresh)
	for i, m := range ms {
		fmt.Printf("| run %d (%d req/s, %s) | %s | %s | %s | %s |\n", i+1, c.rate, c.duration, load.Ms(m.Latencies.P50),
			load.Ms(m.Latencies.P90), load.Ms(m.Latencies.P99), load.Ms(m.Latencies.Max))
	}
	return nil
}

// measure seeds dbURL to n services and runs the constant-rate phase runs
// times, after a warm-up when warm.
func measure(ctx context.Context, c config, dbURL string, n int, warm bool, runs int) ([]*vegeta.Metrics, int, error) {
	db, closeDB, err := load.OpenMigrated(ctx, dbURL)
	if err != nil {
		return nil, 0, err
	}
	defer closeDB()
	if err := seed(ctx, db, n, c); err != nil {
		return nil, 0, err
	}
	var rows int
	if err := db.Raw(`SELECT count(*) FROM service_search`).Scan(&rows).Error; err != nil {
		return nil, 0, err
	}
	store := domain.NewStore(db)
	if c.explain {
		if err := explainSearches(ctx, store); err != nil {
			return nil, 0, err
		}
	}
	srv, iss, err := load.Server(ctx, store, issuerURL, audience)
	if err != nil {
		return nil, 0, err
	}
	defer srv.Close()
	pts, err := searchPoints(db)
	if err != nil {
		return nil, 0, err
	}
	tok, err := iss.Mint(devissuer.TokenRequest{Subject: "bench-client", Name: "Bench Client", Roles: []string{"client"},
		Scopes: []string{"services:read"}, TTL: time.Hour})
	if err != nil {
		return nil, 0, err
	}
	if warm {
		load.Attack("directory", targeter(srv.URL(), tok, pts, 7), 100, 3*time.Second, workers, 0)
	}
	var out []*vegeta.Metrics
	for i := range runs {
		m := load.Attack("directory", targeter(srv.URL(), tok, pts, uint64(1+i)), c.rate, c.duration, workers, 0)
		fmt.Printf("run %d: p50 %s p99 %s max %s, %.1f%% ok %s\n", i+1, load.Ms(m.Latencies.P50), load.Ms(m.Latencies.P99),
			load.Ms(m.Latencies.Max), m.Success*100, firstErrors(m.Errors))
		out = append(out, m)
	}
	return out, rows, nil
}

// explainSearches prints what representative searches read and where their
// time goes: a common text in the densest city (Los Angeles at scale), the
// benchmark's query in Seattle, and a text in a circle wider than a city. Each
// runs twice and the second, warm, plan is printed.
func explainSearches(ctx context.Context, store *domain.Store) error {
	at := time.Now()
	for _, s := range []struct {
		title string
		f     domain.SearchFilter
	}{
		{"search=food&lat=34.05&lon=-118.24&radius_km=10&open_now=true (Los Angeles)",
			domain.SearchFilter{Search: "food", OpenNow: true, At: at, Near: &domain.Near{Lat: 34.05, Lon: -118.24, RadiusKM: 10}}},
		{"search=food pantry&lat=47.61&lon=-122.33&radius_km=5&open_now=true (Seattle)",
			domain.SearchFilter{Search: "food pantry", OpenNow: true, At: at, Near: &domain.Near{Lat: 47.61, Lon: -122.33, RadiusKM: 5}}},
		{"search=immigration&lat=40.71&lon=-74.01&radius_km=80 (New York, a circle wider than the geo-first rule)",
			domain.SearchFilter{Search: "immigration", Near: &domain.Near{Lat: 40.71, Lon: -74.01, RadiusKM: 80}}},
	} {
		s.f.Page, s.f.PerPage = 1, 20
		var plan string
		for range 2 {
			var err error
			if plan, err = store.ExplainAnalyzeSearch(ctx, s.f); err != nil {
				return fmt.Errorf("explain %s: %w", s.title, err)
			}
		}
		fmt.Printf("EXPLAIN (ANALYZE, BUFFERS) of %s, warm:\n%s\n", s.title, plan)
	}
	return nil
}
