package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/waypoint-portal/waypoint/domain"
)

// AccessLogConfig tunes the access log's retention; zero values take the defaults.
type AccessLogConfig struct {
	// Retention is how long entries are kept (default 7 years of 365 days,
	// WAYPOINT_ACCESS_LOG_RETENTION).
	Retention time.Duration
	// PruneEvery is how often older entries are deleted (default 1 h; the
	// first run is a minute after start). Negative disables pruning.
	PruneEvery time.Duration
	// Batch is how many entries one transaction deletes (default 10,000).
	Batch int
}

func (c *AccessLogConfig) defaults() {
	if c.Retention <= 0 {
		c.Retention = domain.DefaultAccessLogRetention
	}
	if c.PruneEvery == 0 {
		c.PruneEvery = time.Hour
	}
	if c.Batch <= 0 {
		c.Batch = 10_000
	}
}

// pruneAccessLog deletes access-log entries past their retention, and the
// keys of insight weeks long over, until ctx ends. Every replica runs it; their batches skip each other's rows.
func pruneAccessLog(ctx context.Context, store *domain.Store, c AccessLogConfig, log *slog.Logger) {
	c.defaults()
	t := time.NewTimer(min(time.Minute, c.PruneEvery))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := store.PruneAccessLog(ctx, c.Retention, c.Batch)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("prune access log", "error", err.Error(), "rows", n)
		case n > 0:
			log.Info("pruned access log", "rows", n, "retention", c.Retention.String())
		}
		if k, err := store.DeleteExpiredWeekKeys(ctx, time.Now()); err != nil && ctx.Err() == nil {
			log.Warn("delete expired insight week keys", "error", err.Error())
		} else if k > 0 {
			log.Info("deleted expired insight week keys", "keys", k)
		}
		t.Reset(c.PruneEvery)
	}
}
