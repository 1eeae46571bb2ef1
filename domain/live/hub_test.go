package live_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/domain"
	"github.com/waypoint-portal/waypoint/domain/live"
)

// TestHub runs the hub's tests on one shared database.
func TestHub(t *testing.T) {
	w := newWorld(t)
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, *world)
	}{
		{"SubscribeDelivers", testSubscribeDelivers},
		{"StartsAtThePresent", testHubStartsAtThePresent},
		{"DeliveryOrder", testDeliveryOrder},
		{"DeliveryOrderUnderConcurrentCommits", testDeliveryOrderUnderConcurrentCommits},
		{"FanOut", testFanOut},
		{"LeavingTheCareTeamStopsDelivery", testLeavingTheCareTeamStopsDelivery},
		{"ReplicaReceivesEvents", testReplicaReceivesEvents},
		{"BatchesLargerThanBatchSize", testBatchesLargerThanBatchSize},
		{"SlowSubscriberIsDropped", testSlowSubscriberIsDropped},
		{"BurstBeyondBufferDrops", testBurstBeyondBufferDrops},
		{"PerPersonCap", testPerPersonCap},
		{"UnsubscribeFreesResources", testUnsubscribeFreesResources},
		{"SubscribeAndCloseUnderLoad", testSubscribeAndCloseUnderLoad},
		{"ContextEndStopsHub", testContextEndStopsHub},
		{"UnreachableDatabase", testUnreachableDatabase},
		{"ReconnectRecoversFromOutbox", testReconnectRecoversFromOutbox},
		{"LostNotificationRecoveredByPoll", testLostNotificationRecoveredByPoll},
		{"PrunesOutbox", testPrunesOutbox},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, w) })
	}
}

// A committed event reaches its recipient's subscription whole: type,
// client, subject, data, its position, and the recipients still entitled.
func testSubscribeDelivers(t *testing.T, w *world) {
	c := w.cast(t)
	h := w.start(t, live.Config{})
	sub := subscribe(t, h, c.alice.PersonID)
	defer sub.Close()
	w.emit(t, w.db, c.alice.ClientID, "alice", 1, 1)
	evs := collect(t, sub, 1)
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	ev := evs[0]
	if ev.Type != domain.EventReferralUpdated || ev.ClientID != c.alice.ClientID || ev.SubjectID == nil || ev.Seq <= 0 || ev.ID == uuid.Nil ||
		data(t, ev) != (payload{"alice", 1}) || ev.CreatedAt.IsZero() {
		t.Fatalf("event %+v", ev)
	}
	r := ev.Recipients.V
	if len(r) != 2 || !slices.Contains(r, c.alice.PersonID) || !slices.Contains(r, c.wanda.PersonID) {
		t.Fatalf("recipients %v, want alice and wanda", r)
	}
	if st := h.Stats(); st.Cursor != ev.Seq || st.Delivered != 1 || st.Subscribers != 1 || st.Dropped != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// The hub starts at the present: what was committed before it listened is
// for subscribers to replay from the outbox, not delivered live.
func testHubStartsAtThePresent(t *testing.T, w *world) {
	c := w.cast(t)
	w.emit(t, w.db, c.alice.ClientID, "before", 1, 3)
	last, err := w.store.LastEventSeq(context.Background())
	if err != nil || last == 0 {
		t.Fatalf("last seq %d, %v", last, err)
	}
	h := w.start(t, live.Config{})
	if st := h.Stats(); st.Cursor != last {
		t.Fatalf("cursor %d at start, want the last position %d", st.Cursor, last)
	}
	sub := subscribe(t, h, c.alice.PersonID)
	w.emit(t, w.db, c.alice.ClientID, "after", 1, 1)
	if got := payloads(t, collect(t, sub, 1)); !slices.Equal(got, []string{"after/1"}) {
		t.Fatalf("delivered %v", got)
	}
}

// Events arrive in commit order, across transactions and within one.
func testDeliveryOrder(t *testing.T, w *world) {
	c := w.cast(t)
	h := w.start(t, live.Config{})
	sub := subscribe(t, h, c.alice.PersonID)
	for i := 0; i < 3; i++ {
		w.emit(t, w.db, c.alice.ClientID, "a", i, 1)
	}
	w.emit(t, w.db, c.alice.ClientID, "a", 3, 5)
	evs := collect(t, sub, 8)
	want := []string{"a/0", "a/1", "a/2", "a/3", "a/4", "a/5", "a/6", "a/7"}
	if got := payloads(t, evs); !slices.Equal(got, want) {
		t.Fatalf("order %v", got)
	}
	for i := 1; i < len(evs); i++ {
		if evs[i].Seq <= evs[i-1].Seq {
			t.Fatalf("seq %d after %d", evs[i].Seq, evs[i-1].Seq)
		}
	}
}

// Concurrent writers: every event arrives exactly once, positions strictly
// increase, and each writer's events keep that writer's commit order.
func testDeliveryOrderUnderConcurrentCommits(t *testing.T, w *world) {
	c := w.cast(t)
	h := w.start(t, live.Config{})
	sub := subscribe(t, h, c.alice.PersonID)
	const writers, each = 6, 10
	var wg sync.WaitGroup
	for g := 0; g < writers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if i%3 == 2 {
					w.emit(t, w.db, c.alice.ClientID, fmt.Sprint(g), i, 1)
				} else { // some events for bob in between
					w.emit(t, w.db, c.bob.ClientID, "bob", i, 1)
					w.emit(t, w.db, c.alice.ClientID, fmt.Sprint(g), i, 1)
				}
			}
		}()
	}
	wg.Wait()
	evs := collect(t, sub, writers*each)
	if len(evs) != writers*each {
		t.Fatalf("%d events, want %d", len(evs), writers*each)
	}
	next := map[string]int{}
	for i, ev := range evs {
		if i > 0 && ev.Seq <= evs[i-1].Seq {
			t.Fatalf("seq %d after %d", ev.Seq, evs[i-1].Seq)
		}
		p := data(t, ev)
		if p.N != next[p.From] {
			t.Fatalf("writer %s: event %d arrived where %d was due", p.From, p.N, next[p.From])
		}
		next[p.From]++
	}
}

// One event fans out to every subscription of every recipient (a person
// may have several streams open), and to nobody else.
func testFanOut(t *testing.T, w *world) {
	c := w.cast(t)
	h := w.start(t, live.Config{})
	alice1, alice2 := subscribe(t, h, c.alice.PersonID), subscribe(t, h, c.alice.PersonID)
	wanda, will, bob := subscribe(t, h, c.wanda.PersonID), subscribe(t, h, c.will.PersonID), subscribe(t, h, c.bob.PersonID)
	w.emit(t, w.db, c.alice.ClientID, "alice", 1, 1)
	// Bob's own later event is the barrier: the hub dispatches in position
	// order, so once bob has it, alice's event has been handed out.
	w.emit(t, w.db, c.bob.ClientID, "bob", 1, 1)
	if got := payloads(t, collect(t, bob, 1)); !slices.Equal(got, []string{"bob/1"}) {
		t.Fatalf("bob received %v", got)
	}
	for name, s := range map[string]*live.Subscription{"alice 1": alice1, "alice 2": alice2, "wanda": wanda} {
		if got := payloads(t, s.Take()); !slices.Equal(got, []string{"alice/1"}) {
			t.Errorf("%s received %v", name, got)
		}
	}
	quiet(t, "will (on no care team)", will)
	if st := h.Stats(); st.Delivered != 4 || st.Subscribers != 5 || h.SubscribersOf(c.alice.PersonID) != 2 {
		t.Fatalf("stats %+v, alice's streams %d", st, h.SubscribersOf(c.alice.PersonID))
	}
}

// A worker taken off the care team stops hearing about the client.
func testLeavingTheCareTeamStopsDelivery(t *testing.T, w *world) {
	c := w.cast(t)
	h := w.start(t, live.Config{})
	alice, wanda := subscribe(t, h, c.alice.PersonID), subscribe(t, h, c.wanda.PersonID)
	w.emit(t, w.db, c.alice.ClientID, "alice", 1, 1)
	collect(t, wanda, 1)
	if err := w.store.RemoveCareTeamMember(context.Background(), w.admin, c.alice.ClientID, c.wanda.PersonID); err != nil {
		t.Fatal(err)
	}
	w.emit(t, w.db, c.alice.ClientID, "alice", 2, 1)
	if got := payloads(t, collect(t, alice, 2)); !slices.Equal(got, []string{"alice/1", "alice/2"}) {
		t.Fatalf("alice received %v", got)
	}
	quiet(t, "wanda after leaving", wanda)
}

// A replica's hub hears what another replica committed: two hubs, each
// with its own pool and listener, deliver the same events.
func testReplicaReceivesEvents(t *testing.T, w *world) {
	c := w.cast(t)
	hubA := w.start(t, live.Config{})
	dbB, err := domain.OpenDB(context.Background(), domain.DBConfig{URL: w.url, MaxOpenConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if sqlDB, err := dbB.DB(); err == nil {
			_ = sqlDB.Close()
		}
	})
	hubB := startOn(t, domain.NewStore(dbB), w.url, live.Config{})
	if hubA.ListenerPID() == 0 || hubA.ListenerPID() == hubB.ListenerPID() {
		t.Fatalf("listener pids %d and %d", hubA.ListenerPID(), hubB.ListenerPID())
	}
	onA, onB := subscribe(t, hubA, c.alice.PersonID), subscribe(t, hubB, c.wanda.PersonID)
	w.emit(t, w.db, c.alice.ClientID, "via A", 1, 2) // committed through replica A's pool
	w.emit(t, dbB, c.alice.ClientID, "via B", 1, 1)  // and through B's
	want := []string{"via A/1", "via A/2", "via B/1"}
	if got := payloads(t, collect(t, onB, 3)); !slices.Equal(got, want) {
		t.Errorf("replica B delivered %v", got)
	}
	if got := payloads(t, collect(t, onA, 3)); !slices.Equal(got, want) {
		t.Errorf("replica A delivered %v", got)
	}
	if a, b := hubA.Stats().Cursor, hubB.Stats().Cursor; a != b {
		t.Errorf("cursors %d and %d", a, b)
	}
}

// One outbox read returns at most BatchSize events; one notification makes
// the hub read batch after batch until it has caught up, in order, none
// lost. (The five silent events notify nobody, and the poll is a minute
// away: only the last event's notification tells the hub to read.)
func testBatchesLargerThanBatchSize(t *testing.T, w *world) {
	c := w.cast(t)
	h := w.start(t, live.Config{BatchSize: 2, PollInterval: time.Minute})
	sub := subscribe(t, h, c.alice.PersonID)
	insertSilently(t, w, c, 5)
	w.emit(t, w.db, c.alice.ClientID, "loud", 1, 1)
	want := []string{"silent/1", "silent/2", "silent/3", "silent/4", "silent/5", "loud/1"}
	if got := payloads(t, collect(t, sub, 6)); !slices.Equal(got, want) {
		t.Fatalf("delivered %v", got)
	}
	w.emit(t, w.db, c.alice.ClientID, "loud", 2, 5) // five notifications, batches of two
	if got := payloads(t, collect(t, sub, 5)); !slices.Equal(got, []string{"loud/2", "loud/3", "loud/4", "loud/5", "loud/6"}) {
		t.Fatalf("delivered %v", got)
	}
}
