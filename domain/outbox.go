package domain

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"gorm.io/gorm"
)

// How events get their positions (migration 00044).
//
// A writing transaction inserts its event with seq NULL and takes no shared
// lock, so writers never queue behind each other for the outbox. After
// commit, PositionEvents numbers the committed, unnumbered events in batches.
// Positioning transactions are serialised by one advisory lock (taken by the
// positioner only, never by a writer), and each takes its numbers from
// events_seq after the lock is held and commits before releasing it. So:
//   - every number a reader can see was assigned in a committed batch, and
//     all earlier batches committed before it: a reader that has seen N can
//     never later find a committed position below N, and "seq > last seen"
//     (Last-Event-ID, the hub's cursor) misses nothing and reorders nothing;
//   - an event whose writer commits late (a long transaction) is simply
//     positioned later, above everything already visible;
//   - several processes may position at once (replicas): they take turns.
// The cost is one short transaction per batch instead of one lock per write.

// PositionLock is the advisory lock key that serialises positioning
// transactions across every process on the database.
const PositionLock = 7263100044

// positionBatch bounds the events one positioning transaction numbers.
const positionBatch = 1000

// emitMark records, for one Store.tx, that the transaction wrote an event,
// so the positioner is woken once it has committed.
type emitMark struct{ emitted atomic.Bool }

type emitMarkKey struct{}

// markEmitted notes on tx's context that it wrote an event (a no-op outside Store.tx).
func markEmitted(tx *gorm.DB) {
	if m, ok := tx.Statement.Context.Value(emitMarkKey{}).(*emitMark); ok {
		m.emitted.Store(true)
	}
}

// WakePositioner asks this store's positioner (RunPositioner) to position
// committed events now. Code that commits an event outside the store's own
// transactions calls it after commit; it never blocks.
func (s *Store) WakePositioner() {
	select {
	case s.wake <- struct{}{}:
	default: // a wake is already pending; that run covers this commit too
	}
}

// PositionEvents positions every event committed before it was called (and
// any committed meanwhile), a batch per transaction, and notifies
// EventsChannel with the highest position of each batch. It is safe to call
// from any number of goroutines and processes at once. It returns how many
// events it positioned; tests call it to settle positions after a write.
func (s *Store) PositionEvents(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := s.positionBatch(ctx)
		total += n
		if err != nil || n < positionBatch {
			return total, err
		}
	}
}

func (s *Store) positionBatch(ctx context.Context) (int, error) {
	var pending bool
	// An idle poll costs one index probe, not a transaction and a lock.
	if err := s.db.WithContext(ctx).Raw(`SELECT EXISTS (SELECT 1 FROM events WHERE seq IS NULL)`).Scan(&pending).Error; err != nil {
		return 0, fmt.Errorf("look for unpositioned events: %w", err)
	}
	if !pending {
		return 0, nil
	}
	var seqs []int64
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(`SELECT pg_advisory_xact_lock(?)`, PositionLock).Error; err != nil {
			return fmt.Errorf("take the position lock: %w", err)
		}
		// A statement of its own, after the lock: its snapshot includes every
		// batch committed before, so nothing is numbered twice, and its
		// numbers are above all of theirs. SKIP LOCKED: never wait on pruning.
		err := tx.Raw(`WITH batch AS (SELECT id FROM events WHERE seq IS NULL ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED),
			numbered AS (SELECT id, nextval('events_seq') AS seq FROM (SELECT id FROM batch ORDER BY id) o)
			UPDATE events e SET seq = numbered.seq FROM numbered WHERE e.id = numbered.id RETURNING e.seq`, positionBatch).Scan(&seqs).Error
		if err != nil {
			return fmt.Errorf("position events: %w", err)
		}
		if len(seqs) == 0 {
			return nil
		}
		// One notification per batch, sent at commit; listeners read the
		// outbox after their cursor, so the highest position is enough.
		return tx.Exec(`SELECT pg_notify(?, ?)`, EventsChannel, strconv.FormatInt(slices.Max(seqs), 10)).Error
	})
	if err != nil {
		return 0, err
	}
	return len(seqs), nil
}

// PositionerConfig tunes RunPositioner; zero values take the defaults.
type PositionerConfig struct {
	// Interval is how often the positioner looks for events without being
	// woken (default 1 s): events committed by another process that runs no
	// positioner, or whose wake was lost with a crash, wait at most this long.
	Interval time.Duration
	// Gather is how long the positioner waits after a wake before it
	// positions (default 5 ms): the events committed meanwhile join the
	// batch, so a busy server commits one positioning transaction (a WAL
	// flush) per few writes instead of one per write. Negative: none.
	Gather time.Duration
	Logger *slog.Logger
}

// RunPositioner positions committed events until ctx ends: whenever a
// transaction of this store that emitted an event commits (WakePositioner),
// and every Interval. Run one per process; more are safe, only wasteful.
func (s *Store) RunPositioner(ctx context.Context, c PositionerConfig) {
	if c.Interval <= 0 {
		c.Interval = time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Gather == 0 {
		c.Gather = 5 * time.Millisecond
	}
	t := time.NewTicker(c.Interval)
	defer t.Stop()
	for {
		if _, err := s.PositionEvents(ctx); err != nil && ctx.Err() == nil {
			c.Logger.Warn("position events", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
			if c.Gather > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(c.Gather):
				}
			}
		case <-t.C:
		}
	}
}
