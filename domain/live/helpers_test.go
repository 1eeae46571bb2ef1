package live_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/waypoint-portal/waypoint/api/apitest"
	"github.com/waypoint-portal/waypoint/domain"
	"github.com/waypoint-portal/waypoint/domain/live"
)

// guard bounds every wait; it only turns a hang into a failure.
const guard = 10 * time.Second

// world is one database shared by the subtests of a test (creating one
// takes about a second); each subtest casts its own people, and each hub
// starts at the present, so subtests do not see each other's events.
type world struct {
	db    *gorm.DB
	url   string
	store *domain.Store
	admin domain.Actor
}

// cast is a subtest's people: two clients (alice, with wanda on her care
// team, and bob) and a worker on no care team (will).
type cast struct {
	alice, bob, wanda, will domain.Actor
}

func newWorld(t *testing.T) *world {
	t.Helper()
	db, url := apitest.NewDB(t)
	w := &world{db: db, url: url, store: domain.NewStore(db)}
	w.admin = w.person(t, "adam", domain.RoleAdmin)
	return w
}

func (w *world) person(t *testing.T, subject string, roles ...string) domain.Actor {
	t.Helper()
	a, err := w.store.Provision(context.Background(), domain.Identity{Issuer: "https://issuer.test", Subject: subject, Name: subject, Roles: roles})
	if err != nil {
		t.Fatalf("provision %s: %v", subject, err)
	}
	return a
}

// cast provisions fresh people for the running (sub)test.
func (w *world) cast(t *testing.T) cast {
	t.Helper()
	c := cast{
		alice: w.person(t, t.Name()+"/alice", domain.RoleClient), bob: w.person(t, t.Name()+"/bob", domain.RoleClient),
		wanda: w.person(t, t.Name()+"/wanda", domain.RoleWorker), will: w.person(t, t.Name()+"/will", domain.RoleWorker),
	}
	if _, _, err := w.store.AddCareTeamMember(context.Background(), w.admin, c.alice.ClientID, c.wanda.PersonID, "case manager"); err != nil {
		t.Fatalf("care team: %v", err)
	}
	return c
}

// start runs a hub on the world's database until the test ends and waits
// until it listens.
func (w *world) start(t *testing.T, cfg live.Config) *live.Hub {
	t.Helper()
	return startOn(t, w.store, w.url, cfg)
}

func startOn(t *testing.T, store *domain.Store, url string, cfg live.Config) *live.Hub {
	t.Helper()
	cfg.DatabaseURL = url
	h := live.Start(context.Background(), store, cfg)
	t.Cleanup(h.Close)
	ready(t, h)
	return h
}

// ready waits until h listens.
func ready(t *testing.T, h *live.Hub) {
	t.Helper()
	select {
	case <-h.Ready():
	case <-time.After(guard):
		t.Fatal("hub did not start listening")
	}
}

// subscribeWithin calls Subscribe, failing the test if it does not return
// within the guard (it blocks until the hub listens).
func subscribeWithin(ctx context.Context, t *testing.T, h *live.Hub, person uuid.UUID) error {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		s, err := h.Subscribe(ctx, person)
		if s != nil {
			s.Close()
		}
		errc <- err
	}()
	select {
	case err := <-errc:
		return err
	case <-time.After(guard):
		t.Fatal("Subscribe did not return")
		return nil
	}
}

// payload is the data of the test's events: who sent it and its number.
type payload struct {
	From string `json:"from"`
	N    int    `json:"n"`
}

// emit commits n events for client in one transaction, numbered from first.
// They are referral.updated: delivery checks a goal's or conversation's own
// visibility (eventSelect), and these events name no real record.
func (w *world) emit(t *testing.T, db *gorm.DB, client uuid.UUID, from string, first, n int) {
	t.Helper()
	err := db.Transaction(func(tx *gorm.DB) error {
		for i := first; i < first+n; i++ {
			ev := domain.Event{Type: domain.EventReferralUpdated, ClientID: client, SubjectID: uuid.New(), Data: payload{from, i}}
			if err := domain.EmitEvent(tx, ev); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("emit: %v", err)
	}
	// No server runs a positioner here: position as one would after commit.
	if _, err := w.store.PositionEvents(context.Background()); err != nil {
		t.Fatalf("position: %v", err)
	}
}

// collect takes n events from sub, waiting on its wake signal; it fails if
// the hub ends the subscription or nothing arrives within the guard. It
// returns everything queued, which may be more than n.
func collect(t *testing.T, sub *live.Subscription, n int) []*domain.EventRecord {
	t.Helper()
	var got []*domain.EventRecord
	deadline := time.After(guard)
	for {
		got = append(got, sub.Take()...)
		if len(got) >= n {
			return got
		}
		select {
		case <-sub.Wake():
		case <-sub.Gone():
			got = append(got, sub.Take()...)
			t.Fatalf("subscription ended (%s) after %d of %d events", sub.Reason(), len(got), n)
		case <-deadline:
			t.Fatalf("%d of %d events after %s", len(got), n, guard)
		}
	}
}

// data decodes an event's payload.
func data(t *testing.T, ev *domain.EventRecord) payload {
	t.Helper()
	var p payload
	if err := json.Unmarshal(ev.Data, &p); err != nil {
		t.Fatalf("event %d data %s: %v", ev.Seq, ev.Data, err)
	}
	return p
}

// payloads lists events as from/n strings.
func payloads(t *testing.T, evs []*domain.EventRecord) []string {
	t.Helper()
	var out []string
	for _, ev := range evs {
		p := data(t, ev)
		out = append(out, fmt.Sprintf("%s/%d", p.From, p.N))
	}
	return out
}

// waitFor polls a condition that has no channel to wait on (listener pids,
// database rows), failing after the guard.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(guard)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// subscribe subscribes person or fails the test.
func subscribe(t *testing.T, h *live.Hub, person uuid.UUID) *live.Subscription {
	t.Helper()
	s, err := h.Subscribe(context.Background(), person)
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	return s
}

// quiet asserts that sub has nothing queued and is still open.
func quiet(t *testing.T, who string, sub *live.Subscription) {
	t.Helper()
	if evs := sub.Take(); len(evs) != 0 {
		t.Errorf("%s received %v", who, payloads(t, evs))
	}
	select {
	case <-sub.Gone():
		t.Errorf("%s's subscription ended: %s", who, sub.Reason())
	default:
	}
}
