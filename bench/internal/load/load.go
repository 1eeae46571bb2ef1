// Package load holds what the constant-rate benchmarks share: settings from
// the environment, vegeta phases and latency formatting.
package load

import (
	"context"
	"crypto/rsa"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"gorm.io/gorm"

	"github.com/waypoint-portal/waypoint/api"
	"github.com/waypoint-portal/waypoint/api/server"
	"github.com/waypoint-portal/waypoint/auth"
	"github.com/waypoint-portal/waypoint/auth/devissuer"
	"github.com/waypoint-portal/waypoint/domain"
	"github.com/waypoint-portal/waypoint/domain/live"
)

// EnvOr returns the environment variable k, or def when it is unset.
func EnvOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// Ms formats a latency in milliseconds.
func Ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000) }

// Attack runs one phase against loopback: rate > 0 is constant-rate with
// workers goroutines; rate 0 is as fast as maxWorkers allow.
func Attack(name string, t vegeta.Targeter, rate int, d time.Duration, workers, maxWorkers uint64) *vegeta.Metrics {
	opts := []func(*vegeta.Attacker){vegeta.KeepAlive(true), vegeta.Timeout(10 * time.Second), vegeta.Workers(workers)}
	if maxWorkers > 0 {
		opts = append(opts, vegeta.MaxWorkers(maxWorkers))
	}
	a := vegeta.NewAttacker(opts...)
	var m vegeta.Metrics
	for res := range a.Attack(t, vegeta.Rate{Freq: rate, Per: time.Second}, d, name) {
		m.Add(res)
	}
	m.Close()
	return &m
}

// OpenMigrated opens the benchmark database (created if missing) and applies
// the migrations; close releases the pool.
func OpenMigrated(ctx context.Context, url string) (db *gorm.DB, close func(), err error) {
	db, err = domain.OpenDB(ctx, domain.DBConfig{URL: url, MaxOpenConns: 20, MaxIdleConns: 20, StatementTimeout: 10 * time.Second})
	if err != nil {
		return nil, nil, err
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, nil, err
	}
	if _, err := domain.Migrate(ctx, sqlDB); err != nil {
		_ = sqlDB.Close()
		return nil, nil, err
	}
	return db, func() { _ = sqlDB.Close() }, nil
}

// Unthrottled are rate limits no benchmark reaches.
func Unthrottled() api.RateLimits {
	high := api.Limit{Requests: 1_000_000, Per: time.Second, Burst: 1_000_000}
	return api.RateLimits{Person: high, IP: high}
}

// Issuer is an in-process dev issuer under a fixed name (so seeded people,
// keyed by issuer and subject, match on every run) with a fresh RS256 key;
// the public key is returned for verifiers outside the server (bench/floor).
func Issuer(issuerURL, audience string) (*devissuer.Issuer, *rsa.PublicKey, error) {
	key, err := devissuer.GenerateKey()
	if err != nil {
		return nil, nil, err
	}
	iss, err := devissuer.New(issuerURL, audience, key, []devissuer.Persona{})
	if err != nil {
		return nil, nil, err
	}
	return iss, &key.PublicKey, nil
}

// ServerOptions are what a benchmark may set on the server beyond the
// production defaults.
type ServerOptions struct {
	// HubURL starts the live event hub (GET /v1/events) on this database.
	HubURL string
}

// Start runs Waypoint in process on a free loopback port, built by the same
// constructor as `waypoint serve` (api/server.New), trusting iss's tokens.
// Request logs are formatted as in production, then dropped.
func Start(ctx context.Context, store *domain.Store, iss *devissuer.Issuer, audience string, o ServerOptions) (*server.Server, error) {
	srv, err := server.New(ctx, server.Config{Store: store, Dev: iss,
		Auth: auth.Config{IssuerURL: iss.URL(), Audience: audience},
		Hub:  live.Config{DatabaseURL: o.HubURL},
		// The load comes from one address as a few people. The limits stay on,
		// so their cost is measured, but far above the load: what is
		// measured is the server, not a 429.
		RateLimits: Unthrottled(),
		Logger:     slog.New(slog.NewJSONHandler(io.Discard, nil)), Addr: "127.0.0.1:0"})
	if err != nil {
		return nil, err
	}
	if err := srv.Open(); err != nil {
		return nil, err
	}
	return srv, nil
}

// Server is Issuer and Start in one: Waypoint on loopback and the issuer of
// its tokens.
func Server(ctx context.Context, store *domain.Store, issuerURL, audience string) (*server.Server, *devissuer.Issuer, error) {
	iss, _, err := Issuer(issuerURL, audience)
	if err != nil {
		return nil, nil, err
	}
	srv, err := Start(ctx, store, iss, audience, ServerOptions{})
	if err != nil {
		return nil, nil, err
	}
	return srv, iss, nil
}
