// Package load holds what the constant-rate benchmarks share: settings from
// the environment, vegeta phases and latency formatting.
package load

import (
	"context"
	"fmt"
	"os"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"gorm.io/gorm"

	"github.com/waypoint-portal/waypoint/domain"
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
