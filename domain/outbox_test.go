package domain_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/waypoint-portal/waypoint/api/apitest"
	"github.com/waypoint-portal/waypoint/domain"
)

// guard bounds every wait in these tests; it only turns a hang into a failure.
const guard = 20 * time.Second

type outboxWorld struct {
	db     *gorm.DB
	url    string
	store  *domain.Store
	client domain.Actor
}

func newOutboxWorld(t *testing.T) *outboxWorld {
	t.Helper()
	db, url := apitest.NewDB(t)
	w := &outboxWorld{db: db, url: url, store: domain.NewStore(db)}
	a, err := w.store.Provision(context.Background(), domain.Identity{Issuer: "https://issuer.test", Subject: "alice", Name: "Alice", Roles: []string{domain.RoleClient}})
	if err != nil {
		t.Fatal(err)
	}
	w.client = a
	return w
}

// replica opens a second pool and store on the same database, like another process.
func (w *outboxWorld) replica(t *testing.T) (*gorm.DB, *domain.Store) {
	t.Helper()
	db, err := domain.OpenDB(context.Background(), domain.DBConfig{URL: w.url, MaxOpenConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			_ = sqlDB.Close()
		}
	})
	return db, domain.NewStore(db)
}

// emitIn writes one event tagged tag in tx.
func (w *outboxWorld) emitIn(t *testing.T, tx *gorm.DB, tag string) {
	t.Helper()
	ev := domain.Event{Type: domain.EventReferralUpdated, ClientID: w.client.ClientID, SubjectID: uuid.New(), Data: map[string]string{"tag": tag}}
	if err := domain.EmitEvent(tx, ev); err != nil {
		t.Fatal(err)
	}
}

// commitOne commits one event tagged tag through db.
func (w *outboxWorld) commitOne(t *testing.T, db *gorm.DB, tag string) {
	t.Helper()
	err := db.Transaction(func(tx *gorm.DB) error {
		return domain.EmitEvent(tx, domain.Event{Type: domain.EventReferralUpdated, ClientID: w.client.ClientID, SubjectID: uuid.New(),
			Data: map[string]string{"tag": tag}})
	})
	if err != nil {
		t.Error(err)
	}
}

func (w *outboxWorld) position(t *testing.T, s *domain.Store) {
	t.Helper()
	if _, err := s.PositionEvents(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func tag(t *testing.T, ev domain.EventRecord) string {
	t.Helper()
	var d struct{ Tag string }
	if err := json.Unmarshal(ev.Data, &d); err != nil {
		t.Fatal(err)
	}
	return d.Tag
}

// tail reads positioned events after cursor, as the hub and a resuming
// stream do, and checks that positions only grow.
type tail struct {
	cursor int64
	seen   []string
}

func (r *tail) read(t *testing.T, s *domain.Store) {
	t.Helper()
	for {
		evs, err := s.EventsAfter(context.Background(), r.cursor, 100)
		if err != nil {
			t.Error(err)
			return
		}
		for _, ev := range evs {
			if ev.Seq <= r.cursor {
				t.Errorf("position %d after %d", ev.Seq, r.cursor)
			}
			r.cursor = ev.Seq
			r.seen = append(r.seen, tag(t, ev))
		}
		if len(evs) < 100 {
			return
		}
	}
}

// Writers commit through two processes' pools while both processes'
// positioners run and a reader tails the outbox by position the whole time:
// the reader ends up with every event exactly once. A position that became
// visible before a lower one was committed would be skipped by the reader's
// cursor for good.
func TestOutboxConcurrentWritersTwoPositioners(t *testing.T) {
	w := newOutboxWorld(t)
	dbB, storeB := w.replica(t)
	ctx, cancel := context.WithCancel(context.Background())
	var pos sync.WaitGroup
	for _, s := range []*domain.Store{w.store, storeB} {
		pos.Add(1)
		go func() {
			defer pos.Done()
			s.RunPositioner(ctx, domain.PositionerConfig{Interval: time.Millisecond})
		}()
	}
	const writers, each = 8, 40
	var wg sync.WaitGroup
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, s := w.db, w.store
			if g%2 == 1 {
				db, s = dbB, storeB
			}
			for i := range each {
				w.commitOne(t, db, fmt.Sprintf("%d/%d", g, i))
				s.WakePositioner()
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var r tail
	deadline := time.After(guard)
	for running := true; running; {
		select {
		case <-done:
			running = false
		case <-deadline:
			t.Fatal("writers did not finish")
		default:
			r.read(t, w.store)
		}
	}
	cancel()
	pos.Wait()
	w.position(t, w.store)
	r.read(t, w.store)
	if len(r.seen) != writers*each {
		t.Fatalf("the reader saw %d events, %d were written", len(r.seen), writers*each)
	}
	slices.Sort(r.seen)
	if i := slices.Compact(slices.Clone(r.seen)); len(i) != len(r.seen) {
		t.Fatalf("the reader saw %d distinct events of %d", len(i), len(r.seen))
	}
	var unpositioned int64
	w.db.Raw(`SELECT count(*) FROM events WHERE seq IS NULL`).Scan(&unpositioned)
	if unpositioned != 0 {
		t.Fatalf("%d events left without a position", unpositioned)
	}
}

// A transaction that commits late gets its position after everything
// already visible, so a reader (or a stream resuming from Last-Event-ID)
// that has gone past the others still receives it.
func TestOutboxLateCommit(t *testing.T) {
	w := newOutboxWorld(t)
	ctx := context.Background()
	long := w.db.Begin()
	defer long.Rollback()
	w.emitIn(t, long, "long")
	w.commitOne(t, w.db, "quick")
	w.position(t, w.store) // the long transaction's event is not committed: left alone
	var r tail
	r.read(t, w.store)
	if !slices.Equal(r.seen, []string{"quick"}) {
		t.Fatalf("before the late commit the reader saw %v", r.seen)
	}
	quick := r.cursor
	if err := long.Commit().Error; err != nil {
		t.Fatal(err)
	}
	// Committed but not positioned: not visible yet, and no resync either.
	rp, err := w.store.ReplayEvents(ctx, w.client, quick, time.Hour, 100)
	if err != nil || rp.Resync || len(rp.Events) != 0 {
		t.Fatalf("replay before positioning: %+v, %v", rp, err)
	}
	w.position(t, w.store)
	r.read(t, w.store)
	if !slices.Equal(r.seen, []string{"quick", "long"}) || r.cursor <= quick {
		t.Fatalf("after the late commit the reader saw %v (cursor %d after %d)", r.seen, r.cursor, quick)
	}
	// A stream resuming from the quick event's position gets the late one.
	rp, err = w.store.ReplayEvents(ctx, w.client, quick, time.Hour, 100)
	if err != nil || rp.Resync || len(rp.Events) != 1 || tag(t, rp.Events[0]) != "long" {
		t.Fatalf("replay from %d: %+v, %v", quick, rp, err)
	}
}

// Two positioners race: while one holds the position lock with numbers
// taken but not committed, the other waits for it, so no reader sees a
// higher position before the lower ones are committed.
func TestOutboxPositionersTakeTurns(t *testing.T) {
	w := newOutboxWorld(t)
	_, storeB := w.replica(t)
	ctx := context.Background()
	w.commitOne(t, w.db, "first")
	// Positioner A, by hand, stopped before its commit.
	a := w.db.Begin()
	defer a.Rollback()
	if err := a.Exec(`SELECT pg_advisory_xact_lock(?)`, domain.PositionLock).Error; err != nil {
		t.Fatal(err)
	}
	if err := a.Exec(`UPDATE events SET seq = nextval('events_seq') WHERE seq IS NULL`).Error; err != nil {
		t.Fatal(err)
	}
	w.commitOne(t, w.db, "second")
	bDone := make(chan error, 1)
	go func() { _, err := storeB.PositionEvents(ctx); bDone <- err }()
	// Wait until B is blocked on the lock, not merely late.
	for start := time.Now(); ; time.Sleep(10 * time.Millisecond) {
		var waiting int64
		w.db.Raw(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'`).Scan(&waiting)
		if waiting == 1 {
			break
		}
		select {
		case err := <-bDone:
			t.Fatalf("positioner B finished (%v) while A held the lock", err)
		default:
		}
		if time.Since(start) > guard {
			t.Fatal("positioner B never waited for the lock")
		}
	}
	var r tail
	r.read(t, w.store)
	if len(r.seen) != 0 {
		t.Fatalf("a reader saw %v while A had not committed", r.seen)
	}
	if err := a.Commit().Error; err != nil {
		t.Fatal(err)
	}
	if err := <-bDone; err != nil {
		t.Fatal(err)
	}
	r.read(t, w.store)
	if !slices.Equal(r.seen, []string{"first", "second"}) {
		t.Fatalf("the reader saw %v", r.seen)
	}
}
