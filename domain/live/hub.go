// Package live delivers committed events to subscribers in this process.
//
// One Hub per process holds one dedicated PostgreSQL connection that LISTENs
// on domain.EventsChannel. Notifications carry only an event's position
// (seq); the hub reads the events after the last position it dispatched
// from the outbox and fans them out to the subscribers among their
// recipients. Positions follow commit order (see migration 00030), so
// "everything after the last position" is exact: after a reconnect, or a
// lost notification, the next read recovers whatever was missed.
//
// Fan-out never blocks: each subscriber has a bounded queue (empty and
// unallocated while idle, so an idle stream costs almost nothing), and one
// that falls behind by more than the bound is dropped (its stream ends; the
// client reconnects with Last-Event-ID and replays from the outbox).
package live

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/waypoint-portal/waypoint/domain"
)

// Config tunes a Hub; zero values take the defaults.
type Config struct {
	// DatabaseURL is where the listener connects (the same database as the store).
	DatabaseURL string
	Logger      *slog.Logger
	// Buffer bounds each subscriber's queue of undelivered events (default
	// 1024); a subscriber further behind is dropped. It should exceed the
	// bursts one person receives at once (BatchSize).
	Buffer int
	// PollInterval bounds how long the hub waits for a notification before it
	// checks the connection and the outbox anyway (default 10 s).
	PollInterval time.Duration
	// MinBackoff and MaxBackoff bound the reconnect delay (defaults 100 ms, 5 s).
	MinBackoff, MaxBackoff time.Duration
	// Retain is how long events stay in the outbox (default 48 h); pruning
	// runs every PruneEvery (default 10 min). Negative PruneEvery disables it.
	Retain, PruneEvery time.Duration
	// BatchSize is how many events one outbox read returns (default 500).
	BatchSize int
	// MaxPerPerson caps one person's open streams (default 10), so one token
	// cannot pin thousands of goroutines and connections.
	MaxPerPerson int
}

func (c *Config) defaults() {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Buffer <= 0 {
		c.Buffer = 1024
	}
	if c.MaxPerPerson <= 0 {
		c.MaxPerPerson = 10
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 10 * time.Second
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = 100 * time.Millisecond
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 5 * time.Second
	}
	if c.Retain <= 0 {
		c.Retain = 48 * time.Hour
	}
	if c.PruneEvery == 0 {
		c.PruneEvery = 10 * time.Minute
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 500
	}
}

// ErrStopped is returned by Subscribe once the hub has stopped.
var ErrStopped = errors.New("live: hub stopped")

// ErrTooManyStreams is returned when a person already has MaxPerPerson streams open.
var ErrTooManyStreams = errors.New("live: too many open streams for this person")

// Hub fans committed events out to this process's subscribers.
type Hub struct {
	store *domain.Store
	cfg   Config
	log   *slog.Logger

	cancel context.CancelFunc
	ready  chan struct{} // closed when the first LISTEN is up and the cursor is set
	done   chan struct{} // closed when the hub has stopped

	mu      sync.Mutex
	subs    map[uuid.UUID]map[*Subscription]struct{}
	count   int
	stopped bool
	cursor  int64 // last dispatched seq; written only by the run loop, under mu

	reconnects atomic.Int64
	dropped    atomic.Int64
	delivered  atomic.Int64
	pid        atomic.Uint32
}

// Start runs a hub until ctx ends or Close is called.
func Start(ctx context.Context, store *domain.Store, cfg Config) *Hub {
	cfg.defaults()
	ctx, cancel := context.WithCancel(ctx)
	h := &Hub{store: store, cfg: cfg, log: cfg.Logger, cancel: cancel,
		ready: make(chan struct{}), done: make(chan struct{}), subs: map[uuid.UUID]map[*Subscription]struct{}{}}
	go h.run(ctx)
	return h
}

// Close stops the hub, ends every subscription and waits for the listener to exit.
func (h *Hub) Close() {
	h.cancel()
	<-h.done
}

// Done is closed once the hub has stopped.
func (h *Hub) Done() <-chan struct{} { return h.done }

// Ready is closed once the hub listens and delivers.
func (h *Hub) Ready() <-chan struct{} { return h.ready }

// Subscription receives the events addressed to one person.
type Subscription struct {
	hub    *Hub
	person uuid.UUID
	wake   chan struct{} // one slot: "the queue has something"
	gone   chan struct{}
	// reason is set before gone is closed.
	reason string

	mu    sync.Mutex
	queue []*domain.EventRecord
	// notify, when set, is called instead of relying on a receiver waiting
	// on wake and gone: a stream with no goroutine of its own (see OnWake).
	notify func()
}

// OnWake makes the hub call f whenever events are queued or the
// subscription ends, so a subscriber needs no goroutine waiting on Wake and
// Gone. f runs under the hub's lock and must not block (start work, do not
// do it). If events are already queued or the subscription has ended, f is
// called at once.
func (s *Subscription) OnWake(f func()) {
	s.mu.Lock()
	s.notify = f
	pending := len(s.queue) > 0
	s.mu.Unlock()
	select {
	case <-s.gone:
		pending = true
	default:
	}
	if pending {
		f()
	}
}

func (s *Subscription) notifier() func() {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.notify
}

// Wake signals that Take has events.
func (s *Subscription) Wake() <-chan struct{} { return s.wake }

// Take returns the queued events in seq order and empties the queue.
func (s *Subscription) Take() []*domain.EventRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queue
	s.queue = nil
	return q
}

// push queues ev unless the subscriber is already max events behind.
func (s *Subscription) push(ev *domain.EventRecord, max int) bool {
	s.mu.Lock()
	if len(s.queue) >= max {
		s.mu.Unlock()
		return false
	}
	s.queue = append(s.queue, ev)
	notify := s.notify
	s.mu.Unlock()
	if notify != nil {
		notify()
		return true
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return true
}

// Gone is closed when the hub ends the subscription: the subscriber fell
// behind, or the hub stopped. Reason says which.
func (s *Subscription) Gone() <-chan struct{} { return s.gone }

// Reason says why the subscription ended ("slow" or "stopped"); valid after Gone.
func (s *Subscription) Reason() string { return s.reason }

// Close ends the subscription; it is safe to call more than once.
func (s *Subscription) Close() {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	h.removeLocked(s)
}

// Subscribe registers person for live events. It waits until the hub
// listens, so nothing committed after Subscribe returns can be missed.
func (h *Hub) Subscribe(ctx context.Context, person uuid.UUID) (*Subscription, error) {
	select {
	case <-h.ready:
	case <-h.done:
		return nil, ErrStopped
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	s := &Subscription{hub: h, person: person, wake: make(chan struct{}, 1), gone: make(chan struct{})}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped {
		return nil, ErrStopped
	}
	m := h.subs[person]
	if len(m) >= h.cfg.MaxPerPerson {
		return nil, ErrTooManyStreams
	}
	if m == nil {
		m = map[*Subscription]struct{}{}
		h.subs[person] = m
	}
	m[s] = struct{}{}
	h.count++
	return s, nil
}

func (h *Hub) removeLocked(s *Subscription) bool {
	m := h.subs[s.person]
	if _, ok := m[s]; !ok {
		return false
	}
	delete(m, s)
	if len(m) == 0 {
		delete(h.subs, s.person)
	}
	h.count--
	return true
}

func (h *Hub) dropLocked(s *Subscription, reason string) {
	if h.removeLocked(s) {
		s.reason = reason
		close(s.gone)
		if notify := s.notifier(); notify != nil {
			notify()
		}
	}
}

// Stats is a snapshot of the hub's state.
type Stats struct {
	Subscribers int
	Cursor      int64
	Reconnects  int64
	Dropped     int64
	Delivered   int64
}

// Stats reports the hub's counters.
func (h *Hub) Stats() Stats {
	h.mu.Lock()
	defer h.mu.Unlock()
	return Stats{Subscribers: h.count, Cursor: h.cursor, Reconnects: h.reconnects.Load(),
		Dropped: h.dropped.Load(), Delivered: h.delivered.Load()}
}

// SubscribersOf counts person's open subscriptions.
func (h *Hub) SubscribersOf(person uuid.UUID) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs[person])
}

// ListenerPID is the backend pid of the listener connection (0 while disconnected).
func (h *Hub) ListenerPID() uint32 { return h.pid.Load() }

func (h *Hub) run(ctx context.Context) {
	defer func() {
		h.mu.Lock()
		h.stopped = true
		for _, m := range h.subs {
			for s := range m {
				h.dropLocked(s, "stopped")
			}
		}
		h.mu.Unlock()
		close(h.done)
	}()
	backoff := h.cfg.MinBackoff
	started := false
	for {
		err := h.session(ctx, &started, &backoff)
		if ctx.Err() != nil {
			return
		}
		h.reconnects.Add(1)
		h.log.Warn("event listener disconnected; reconnecting", "error", err.Error(), "backoff", backoff.String())
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(backoff*2, h.cfg.MaxBackoff)
	}
}

// session is one listener connection's life: connect, LISTEN, catch up from
// the outbox, then read after every notification (and every PollInterval).
func (h *Hub) session(ctx context.Context, started *bool, backoff *time.Duration) error {
	pcfg, err := pgx.ParseConfig(h.cfg.DatabaseURL)
	if err != nil {
		return err
	}
	pcfg.RuntimeParams["application_name"] = "waypoint-listener"
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.ConnectConfig(cctx, pcfg)
	cancel()
	if err != nil {
		return err
	}
	defer func() {
		h.pid.Store(0)
		cctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = conn.Close(cctx)
		cancel()
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{domain.EventsChannel}.Sanitize()); err != nil {
		return err
	}
	h.pid.Store(conn.PgConn().PID())
	if !*started {
		// Subscribers replay what happened before they subscribed from the
		// outbox themselves; the hub starts at the present.
		seq, err := h.store.LastEventSeq(ctx)
		if err != nil {
			return err
		}
		h.mu.Lock()
		h.cursor = seq
		h.mu.Unlock()
		*started = true
		close(h.ready)
	} else {
		h.log.Info("event listener reconnected", "cursor", h.cursor)
	}
	*backoff = h.cfg.MinBackoff
	nextPrune := time.Now()
	for {
		if err := h.catchUp(ctx); err != nil {
			return err
		}
		if h.cfg.PruneEvery > 0 && time.Now().After(nextPrune) {
			nextPrune = time.Now().Add(h.cfg.PruneEvery)
			if n, err := h.store.PruneOutbox(ctx, h.cfg.Retain); err != nil {
				h.log.Warn("prune outbox", "error", err.Error())
			} else if n > 0 {
				h.log.Info("pruned outbox", "rows", n)
			}
		}
		for {
			wctx, cancel := context.WithTimeout(ctx, h.cfg.PollInterval)
			n, err := conn.WaitForNotification(wctx)
			cancel()
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				if pgconn.Timeout(err) {
					// Quiet period: make sure the connection still works, then
					// read the outbox anyway in case a notification went missing.
					if err := conn.Ping(ctx); err != nil {
						return err
					}
					break
				}
				return err
			}
			// Notifications queued behind one already read are covered by
			// that read: skip what the cursor has passed.
			if seq, perr := strconv.ParseInt(n.Payload, 10, 64); perr != nil || seq > h.lastDispatched() {
				break
			}
		}
	}
}

func (h *Hub) lastDispatched() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.cursor
}

// catchUp reads and dispatches every event after the cursor.
func (h *Hub) catchUp(ctx context.Context) error {
	for {
		evs, err := h.store.EventsAfter(ctx, h.lastDispatched(), h.cfg.BatchSize)
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			return nil
		}
		h.dispatch(evs)
		if len(evs) < h.cfg.BatchSize {
			return nil
		}
	}
}

// dispatch hands events to their recipients' subscriptions without
// blocking: a full queue drops that subscriber.
func (h *Hub) dispatch(evs []domain.EventRecord) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := range evs {
		ev := &evs[i]
		for _, p := range ev.Recipients.V {
			for s := range h.subs[p] {
				if s.push(ev, h.cfg.Buffer) {
					h.delivered.Add(1)
				} else {
					h.dropped.Add(1)
					h.dropLocked(s, "slow")
				}
			}
		}
		h.cursor = ev.Seq
	}
}
