package floor

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// The product positions events after commit (domain/outbox.go): a write
// only inserts its event, then wakes the process's positioner, which numbers
// committed events in batches under its own advisory lock and notifies once
// per batch. The floor does the same work the same way, so the event's cost
// is in both sides of every write ratio.

// wakePositioner asks RunPositioner to position committed events; never blocks.
func (f *Floor) wakePositioner() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// RunPositioner positions committed events until ctx ends: after every
// write that emitted one (after gathering for 5 ms) and every second, as
// the product's does.
func (f *Floor) RunPositioner(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		for {
			n, err := f.positionBatch(ctx)
			if err != nil || n < positionBatch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-f.wake:
			// As the product's: gather the events committed in the next
			// 5 ms into the same batch (domain.PositionerConfig.Gather).
			select {
			case <-ctx.Done():
				return
			case <-time.After(5 * time.Millisecond):
			}
		case <-t.C:
		}
	}
}

func (f *Floor) positionBatch(ctx context.Context) (int, error) {
	var pending bool
	if err := f.pool.QueryRow(ctx, pendingEventsSQL).Scan(&pending); err != nil || !pending {
		return 0, err
	}
	n := 0
	err := pgx.BeginFunc(ctx, f.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, positionLockSQL, positionLock); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, positionEventsSQL, positionBatch)
		if err != nil {
			return err
		}
		seqs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil || len(seqs) == 0 {
			return err
		}
		n = len(seqs)
		_, err = tx.Exec(ctx, notifySQL, "waypoint_events", strconv.FormatInt(maxOf(seqs), 10))
		return err
	})
	return n, err
}

func maxOf(s []int64) int64 {
	m := s[0]
	for _, v := range s[1:] {
		m = max(m, v)
	}
	return m
}
