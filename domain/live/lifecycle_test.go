package live_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/goleak"

	"github.com/waypoint-portal/waypoint/domain/live"
)

// A subscriber more than Buffer events behind is dropped, not waited for:
// its subscription ends with reason "slow" (its client reconnects and
// replays from the outbox), keeps what it had queued, and frees its place;
// the prompt subscriber of the same person is unaffected.
func testSlowSubscriberIsDropped(t *testing.T, w *world) {
	c := w.cast(t)
	h := w.start(t, live.Config{Buffer: 3})
	fast, slow := subscribe(t, h, c.alice.PersonID), subscribe(t, h, c.alice.PersonID)
	w.emit(t, w.db, c.alice.ClientID, "a", 0, 3)
	collect(t, fast, 3) // slow takes nothing: its queue is full
	w.emit(t, w.db, c.alice.ClientID, "a", 3, 1)
	select {
	case <-slow.Gone():
	case <-time.After(guard):
		t.Fatal("slow subscriber not dropped")
	}
	if slow.Reason() != "slow" {
		t.Fatalf("reason %q", slow.Reason())
	}
	if got := payloads(t, collect(t, fast, 1)); !slices.Equal(got, []string{"a/3"}) {
		t.Fatalf("fast subscriber received %v", got)
	}
	if got := payloads(t, slow.Take()); !slices.Equal(got, []string{"a/0", "a/1", "a/2"}) {
		t.Fatalf("slow subscriber kept %v", got)
	}
	slow.Close() // after the hub ended it: a no-op
	if st := h.Stats(); st.Dropped != 1 || st.Subscribers != 1 || h.SubscribersOf(c.alice.PersonID) != 1 {
		t.Fatalf("stats %+v, alice's streams %d", st, h.SubscribersOf(c.alice.PersonID))
	}
	quiet(t, "the fast subscriber", fast)
}

// A burst one person receives in one commit larger than Buffer drops even a
// subscriber that reads at once (Buffer should exceed such bursts).
func testBurstBeyondBufferDrops(t *testing.T, w *world) {
	c := w.cast(t)
	h := w.start(t, live.Config{Buffer: 4, MaxPerPerson: 1})
	sub := subscribe(t, h, c.bob.PersonID)
	w.emit(t, w.db, c.bob.ClientID, "burst", 0, 5)
	select {
	case <-sub.Gone():
	case <-time.After(guard):
		t.Fatal("subscriber kept through a burst beyond its buffer")
	}
	if sub.Reason() != "slow" || len(sub.Take()) != 4 {
		t.Fatalf("reason %q", sub.Reason())
	}
	// The dropped stream's place is free again (MaxPerPerson is 1).
	again := subscribe(t, h, c.bob.PersonID)
	w.emit(t, w.db, c.bob.ClientID, "after", 0, 1)
	if got := payloads(t, collect(t, again, 1)); !slices.Equal(got, []string{"after/0"}) {
		t.Fatalf("after the drop: %v", got)
	}
}

// One person's open streams are capped (default 10); others are not
// affected, and closing a stream frees its place.
func testPerPersonCap(t *testing.T, w *world) {
	c := w.cast(t)
	h := w.start(t, live.Config{MaxPerPerson: 2})
	first := subscribe(t, h, c.alice.PersonID)
	subscribe(t, h, c.alice.PersonID)
	if _, err := h.Subscribe(context.Background(), c.alice.PersonID); !errors.Is(err, live.ErrTooManyStreams) {
		t.Fatalf("third stream: %v", err)
	}
	subscribe(t, h, c.bob.PersonID)
	first.Close()
	third := subscribe(t, h, c.alice.PersonID)
	w.emit(t, w.db, c.alice.ClientID, "a", 1, 1)
	collect(t, third, 1)
	if h.SubscribersOf(c.alice.PersonID) != 2 || h.Stats().Subscribers != 3 {
		t.Fatalf("alice %d streams, %+v", h.SubscribersOf(c.alice.PersonID), h.Stats())
	}

	def := w.start(t, live.Config{})
	for i := 0; i < 10; i++ {
		subscribe(t, def, c.wanda.PersonID)
	}
	if _, err := def.Subscribe(context.Background(), c.wanda.PersonID); !errors.Is(err, live.ErrTooManyStreams) {
		t.Fatalf("11th stream with the default cap: %v", err)
	}
}

// Closing a subscription removes it at once (Close is idempotent); it gets
// nothing more, its Gone stays open (the hub did not end it), and a stopped
// hub leaves no goroutine behind.
func testUnsubscribeFreesResources(t *testing.T, w *world) {
	c := w.cast(t)
	ignore := goleak.IgnoreCurrent()
	h := live.Start(context.Background(), w.store, live.Config{DatabaseURL: w.url})
	ready(t, h)
	var subs []*live.Subscription
	for i := 0; i < 8; i++ {
		subs = append(subs, subscribe(t, h, c.alice.PersonID), subscribe(t, h, c.wanda.PersonID))
	}
	w.emit(t, w.db, c.alice.ClientID, "a", 1, 1)
	for _, s := range subs {
		collect(t, s, 1)
	}
	gone := subs[0]
	gone.Close()
	gone.Close()
	if h.SubscribersOf(c.alice.PersonID) != 7 || h.Stats().Subscribers != 15 {
		t.Fatalf("after one close: alice %d, %+v", h.SubscribersOf(c.alice.PersonID), h.Stats())
	}
	w.emit(t, w.db, c.alice.ClientID, "a", 2, 1)
	collect(t, subs[2], 1) // another of alice's streams: the event has been dispatched
	quiet(t, "a closed subscription", gone)
	for _, s := range subs {
		s.Close()
	}
	if h.SubscribersOf(c.alice.PersonID) != 0 || h.SubscribersOf(c.wanda.PersonID) != 0 || h.Stats().Subscribers != 0 {
		t.Fatalf("after closing all: %+v", h.Stats())
	}
	h.Close()
	goleak.VerifyNone(t, ignore)
}

// Subscribing and closing concurrently with delivery is safe (run with
// -race), leaves nothing registered, and a steady subscriber meanwhile
// receives everything in order.
func testSubscribeAndCloseUnderLoad(t *testing.T, w *world) {
	c := w.cast(t)
	h := w.start(t, live.Config{})
	steady := subscribe(t, h, c.wanda.PersonID)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				s, err := h.Subscribe(context.Background(), c.alice.PersonID)
				if err != nil {
					t.Errorf("subscribe: %v", err)
					return
				}
				s.Take()
				s.Close()
			}
		}()
	}
	var want []string
	for i := 0; i < 20; i++ {
		w.emit(t, w.db, c.alice.ClientID, "a", i, 1)
		want = append(want, fmt.Sprintf("a/%d", i))
	}
	got := payloads(t, collect(t, steady, 20))
	close(stop)
	wg.Wait()
	if !slices.Equal(got, want) {
		t.Fatalf("steady subscriber received %v", got)
	}
	if h.SubscribersOf(c.alice.PersonID) != 0 || h.Stats().Subscribers != 1 {
		t.Fatalf("left registered: alice %d, %+v", h.SubscribersOf(c.alice.PersonID), h.Stats())
	}
}

// When the context the hub was started with ends, the hub stops: open
// subscriptions end with reason "stopped", new ones are refused, and no
// goroutine is left.
func testContextEndStopsHub(t *testing.T, w *world) {
	c := w.cast(t)
	ignore := goleak.IgnoreCurrent()
	ctx, cancel := context.WithCancel(context.Background())
	h := live.Start(ctx, w.store, live.Config{DatabaseURL: w.url})
	ready(t, h)
	sub := subscribe(t, h, c.alice.PersonID)
	cancel()
	select {
	case <-h.Done():
	case <-time.After(guard):
		t.Fatal("hub did not stop when its context ended")
	}
	select {
	case <-sub.Gone():
	default:
		t.Fatal("subscription outlived the hub")
	}
	if sub.Reason() != "stopped" {
		t.Fatalf("reason %q", sub.Reason())
	}
	if _, err := h.Subscribe(context.Background(), c.alice.PersonID); !errors.Is(err, live.ErrStopped) {
		t.Fatalf("subscribe after stop: %v", err)
	}
	if st := h.Stats(); st.Subscribers != 0 || h.ListenerPID() != 0 {
		t.Fatalf("after stop: %+v, listener %d", st, h.ListenerPID())
	}
	h.Close() // after the context ended: returns at once
	goleak.VerifyNone(t, ignore)
}

// Without a database the hub keeps retrying and never claims to be ready:
// Subscribe waits, gives up with its context, and ends with ErrStopped
// when the hub is closed meanwhile.
func testUnreachableDatabase(t *testing.T, w *world) {
	c := w.cast(t)
	ignore := goleak.IgnoreCurrent()
	for _, dbURL := range []string{"postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=2", "not a :// url"} {
		h := live.Start(context.Background(), w.store, live.Config{DatabaseURL: dbURL, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
		waitFor(t, "reconnect attempts", func() bool { return h.Stats().Reconnects >= 3 })
		select {
		case <-h.Ready():
			t.Fatal("ready without a database")
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		if err := subscribeWithin(ctx, t, h, c.alice.PersonID); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("subscribe with a deadline: %v", err)
		}
		cancel()
		ctx, cancel = context.WithCancel(context.Background())
		cancel()
		if err := subscribeWithin(ctx, t, h, c.alice.PersonID); !errors.Is(err, context.Canceled) {
			t.Fatalf("subscribe with a cancelled context: %v", err)
		}
		errc := make(chan error, 1)
		go func() {
			_, err := h.Subscribe(context.Background(), c.alice.PersonID)
			errc <- err
		}()
		h.Close()
		select {
		case err := <-errc:
			if !errors.Is(err, live.ErrStopped) {
				t.Fatalf("waiting subscribe: %v", err)
			}
		case <-time.After(guard):
			t.Fatal("waiting subscribe not released by Close")
		}
	}
	goleak.VerifyNone(t, ignore)
}

// When the listener connection dies, the hub reconnects and delivers from
// the outbox what was committed while nobody listened (its notification is
// lost); open subscriptions survive.
func testReconnectRecoversFromOutbox(t *testing.T, w *world) {
	c := w.cast(t)
	h := w.start(t, live.Config{MinBackoff: time.Second})
	sub := subscribe(t, h, c.alice.PersonID)
	pid := h.ListenerPID()
	if err := w.db.Exec(`SELECT pg_terminate_backend(?)`, pid).Error; err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the hub to notice", func() bool { return h.ListenerPID() == 0 })
	w.emit(t, w.db, c.alice.ClientID, "gap", 1, 1)
	if h.ListenerPID() != 0 {
		t.Fatal("the hub reconnected before the commit, within its 1 s backoff: the notification was not lost")
	}
	if got := payloads(t, collect(t, sub, 1)); !slices.Equal(got, []string{"gap/1"}) {
		t.Fatalf("after reconnect: %v", got)
	}
	if st := h.Stats(); st.Reconnects != 1 || h.ListenerPID() == 0 || h.ListenerPID() == pid {
		t.Fatalf("stats %+v, listener %d (was %d)", st, h.ListenerPID(), pid)
	}
}

// A notification that never comes (here: an event written with triggers
// off, so nothing notifies) is recovered by the read every PollInterval;
// quiet periods do not cost the listener its connection.
func testLostNotificationRecoveredByPoll(t *testing.T, w *world) {
	c := w.cast(t)
	h := w.start(t, live.Config{PollInterval: 50 * time.Millisecond})
	sub := subscribe(t, h, c.alice.PersonID)
	insertSilently(t, w, c, 1)
	if got := payloads(t, collect(t, sub, 1)); !slices.Equal(got, []string{"silent/1"}) {
		t.Fatalf("delivered %v", got)
	}
	if st := h.Stats(); st.Reconnects != 0 {
		t.Fatalf("quiet polls cost %d reconnects", st.Reconnects)
	}
}

// insertSilently writes n events for alice (silent/1..n) as the database
// superuser with triggers disabled for the session: they get their
// positions but notify nobody.
func insertSilently(t *testing.T, w *world, c cast, n int) {
	t.Helper()
	u, err := url.Parse(w.url)
	if err != nil {
		t.Fatal(err)
	}
	user := os.Getenv("PGUSER")
	if user == "" {
		user = "postgres"
	}
	u.User = url.UserPassword(user, os.Getenv("PGPASSWORD"))
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO events (id, client_id, type, recipients, data, seq)
			SELECT gen_random_uuid(), $1, 'goal.updated', ARRAY[$2::uuid], jsonb_build_object('from', 'silent', 'n', i), nextval('events_seq')
			FROM generate_series(1, $3) i ORDER BY i`,
			c.alice.ClientID.String(), c.alice.PersonID.String(), n)
		return err
	})
	if err != nil {
		t.Fatalf("insert without notification: %v", err)
	}
}

// The hub prunes the outbox when a listener session starts (and every
// PruneEvery): events past Retain go, recent ones stay; a negative
// PruneEvery turns pruning off.
func testPrunesOutbox(t *testing.T, w *world) {
	c := w.cast(t)
	w.emit(t, w.db, c.alice.ClientID, "old", 1, 1)
	if err := w.db.Exec(`UPDATE events SET created_at = now() - interval '49 hours' WHERE client_id = ? AND data->>'from' = 'old'`,
		c.alice.ClientID).Error; err != nil {
		t.Fatal(err)
	}
	count := func(from string) (n int64) {
		w.db.Raw(`SELECT count(*) FROM events WHERE client_id = ? AND data->>'from' = ?`, c.alice.ClientID, from).Scan(&n)
		return n
	}
	// A delivered event is the barrier: the hub prunes before it waits for
	// its first notification.
	off := w.start(t, live.Config{PruneEvery: -1})
	s := subscribe(t, off, c.alice.PersonID)
	w.emit(t, w.db, c.alice.ClientID, "recent", 1, 1)
	collect(t, s, 1)
	if count("old") != 1 {
		t.Fatal("pruned although pruning is off")
	}
	off.Close()
	on := w.start(t, live.Config{})
	s = subscribe(t, on, c.alice.PersonID)
	w.emit(t, w.db, c.alice.ClientID, "recent", 2, 1)
	collect(t, s, 1)
	if count("old") != 0 || count("recent") != 2 {
		t.Fatalf("after pruning: %d old, %d recent events", count("old"), count("recent"))
	}
}
