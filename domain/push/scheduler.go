// Package push sends reminders to clients' phones with Web Push (RFC 8030,
// payload encryption RFC 8291, VAPID RFC 8292) from inside the server
// process: one sender per deployment, elected by a PostgreSQL advisory lock
// held on a dedicated connection.
package push

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"syscall"
	"time"

	webpush "github.com/SherClockHolmes/webpush-go"

	"github.com/waypoint-portal/waypoint/domain"
)

// LeaderLock is the advisory lock key the sender holds ("waypoint push").
const LeaderLock int64 = 0x7761797075736801

// GenericMessage is what a reminder says unless the client opted in to
// previews: phones are shared, and safety comes first.
const GenericMessage = "You have a reminder from Waypoint"

// Config tunes the scheduler; zero values take the defaults.
type Config struct {
	// VAPIDPublicKey and VAPIDPrivateKey (base64url, as webpush-go and
	// browsers use them) sign every push. Without them nothing is sent.
	VAPIDPublicKey, VAPIDPrivateKey string
	// Subscriber is the VAPID contact (mailto: address or https URL) push
	// services may use to reach the operator.
	Subscriber string
	// Interval between rounds (default 30 s); Lease is how long a claimed
	// delivery is the claimer's (default 2 min: longer than a push's timeout).
	Interval, Lease time.Duration
	// Batch bounds the work of a round: items recorded and deliveries
	// claimed (default 100).
	Batch int
	// MaxAttempts before a delivery is given up (default 8); backoff doubles
	// from a minute up to six hours.
	MaxAttempts int
	// HTTPClient sends the pushes (default: 30 s timeout, refusing to dial
	// loopback, private and link-local addresses: the endpoint is the
	// client's input).
	HTTPClient webpush.HTTPClient
	Logger     *slog.Logger
}

func (c *Config) defaults() {
	if c.Interval <= 0 {
		c.Interval = 30 * time.Second
	}
	if c.Lease <= 0 {
		c.Lease = 2 * time.Minute
	}
	if c.Batch <= 0 {
		c.Batch = 100
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 8
	}
	if c.Subscriber == "" {
		c.Subscriber = "mailto:admin@waypoint.invalid"
	}
	if c.HTTPClient == nil {
		c.HTTPClient = PublicHTTPClient(30 * time.Second)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Enabled reports whether VAPID keys are configured (push can be sent).
func (c Config) Enabled() bool { return c.VAPIDPublicKey != "" && c.VAPIDPrivateKey != "" }

// GenerateVAPIDKeys makes a new VAPID key pair (dev mode).
func GenerateVAPIDKeys() (private, public string, err error) { return webpush.GenerateVAPIDKeys() }

// PublicHTTPClient is an HTTP client that dials only public addresses: a
// push endpoint is whatever URL a client sent, and must not reach into the
// deployment's own network.
func PublicHTTPClient(timeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second, Control: func(_, address string, _ syscall.RawConn) error {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return err
		}
		ip := net.ParseIP(host)
		if ip == nil || !ip.IsGlobalUnicast() || ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() {
			return fmt.Errorf("push endpoint address %s is not public", host)
		}
		return nil
	}}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = d.DialContext
	t.Proxy = nil
	return &http.Client{Timeout: timeout, Transport: t,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Scheduler records due reminders and pushes them.
type Scheduler struct {
	store *domain.Store
	cfg   Config
}

// New makes a scheduler; Run starts it.
func New(store *domain.Store, cfg Config) *Scheduler {
	cfg.defaults()
	return &Scheduler{store: store, cfg: cfg}
}

// Run competes for leadership until ctx ends: whoever holds the advisory
// lock (on a connection of its own, so the lock lives exactly as long as
// that session) runs a round every interval; the others try again every
// interval. A leader whose connection fails stops sending at once and
// competes again; PostgreSQL has released its lock with its session.
func (s *Scheduler) Run(ctx context.Context) {
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	for {
		if err := s.lead(ctx, t.C); err != nil && ctx.Err() == nil {
			s.cfg.Logger.Warn("push scheduler", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// lead takes the lock if it is free and, while holding it, runs rounds.
func (s *Scheduler) lead(ctx context.Context, tick <-chan time.Time) error {
	conn, ok, err := s.TryLead(ctx)
	if err != nil || !ok {
		return err
	}
	defer Release(conn)
	s.cfg.Logger.Info("push scheduler: this replica sends reminders")
	for {
		if _, err := s.Round(ctx); err != nil && ctx.Err() == nil {
			s.cfg.Logger.Warn("push round", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick:
		}
		if err := conn.PingContext(ctx); err != nil {
			return fmt.Errorf("leader connection lost: %w", err)
		}
	}
}

// TryLead takes the leader lock on a new dedicated connection: ok with the
// connection (closing it releases the lock), or not ok when another session
// holds it.
func (s *Scheduler) TryLead(ctx context.Context) (*sql.Conn, bool, error) {
	db, err := s.store.DB().DB()
	if err != nil {
		return nil, false, fmt.Errorf("database handle: %w", err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("leader connection: %w", err)
	}
	var ok bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, LeaderLock).Scan(&ok); err != nil || !ok {
		Release(conn)
		return nil, false, err
	}
	return conn, true, nil
}

// Release ends a leader connection's session instead of returning it to the
// pool (where the lock would stay held by a connection doing other work):
// PostgreSQL releases the lock with the session.
func Release(conn *sql.Conn) {
	// Unlock first: the server ends a closed session a moment later, and a
	// successor should not have to wait for that.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = conn.ExecContext(ctx, `SELECT pg_advisory_unlock_all()`)
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = conn.Close()
}

// Stats says what a round did.
type Stats struct {
	Recorded, Sent, Retried, GaveUp, Dropped int
}

// Round records what came due and pushes what is claimable. Only the
// leader calls it; even two at once would not send a delivery twice while
// its lease holds (claims skip locked rows and leased ones).
func (s *Scheduler) Round(ctx context.Context) (Stats, error) {
	var st Stats
	n, err := s.store.RecordDueReminders(ctx, s.cfg.Batch)
	if err != nil {
		return st, err
	}
	st.Recorded = n
	if !s.cfg.Enabled() {
		return st, nil
	}
	ds, err := s.store.ClaimDeliveries(ctx, s.cfg.Lease, s.cfg.Batch)
	if err != nil {
		return st, err
	}
	for _, d := range ds {
		if err := s.deliver(ctx, d, &st); err != nil {
			return st, err
		}
	}
	return st, nil
}

// Payload is the JSON a reminder carries, encrypted for the browser. tag
// is the reminder's id: a service worker showing it as the notification's
// tag shows a reminder pushed twice (a retry after a crash) once.
type Payload struct {
	Title string `json:"title"`
	Body  string `json:"body"`
	Tag   string `json:"tag"`
	URL   string `json:"url"`
	// Kind and DueAt only when the client opted in to previews.
	Kind  string     `json:"kind,omitempty"`
	DueAt *time.Time `json:"due_at,omitempty"`
}

// payloadOf is what the phone may show: the generic sentence unless the
// client opted in to previews.
func payloadOf(d domain.PushDelivery) Payload {
	p := Payload{Title: "Waypoint", Body: GenericMessage, Tag: d.ReminderID.String(), URL: "/agenda"}
	if d.Previews && d.Title != "" {
		due := d.DueAt.UTC()
		p.Body, p.Kind, p.DueAt = previewText(d.Kind, d.Title), d.Kind, &due
	}
	return p
}

func previewText(kind, title string) string {
	switch kind {
	case domain.AgendaCheckInDue:
		return "Time to check in: " + title
	case domain.AgendaStepDue:
		return "Step due: " + title
	case domain.AgendaReferralFollowUp:
		return "Follow up on your referral to " + title
	case domain.AgendaGroupSession:
		return "Group session soon: " + title
	}
	return title
}

// Topic names a reminder for the push service (RFC 8030 section 5.4): a
// message pushed again under the same topic replaces the undelivered one.
func Topic(reminder fmt.Stringer) string {
	h := sha256.Sum256([]byte(reminder.String()))
	return base64.RawURLEncoding.EncodeToString(h[:24]) // 32 characters, the limit
}

func (s *Scheduler) deliver(ctx context.Context, d domain.PushDelivery, st *Stats) error {
	body, err := json.Marshal(payloadOf(d))
	if err != nil {
		return fmt.Errorf("encode push payload: %w", err)
	}
	sub := &webpush.Subscription{Endpoint: d.Endpoint, Keys: webpush.Keys{
		P256dh: base64.RawURLEncoding.EncodeToString(d.P256dh), Auth: base64.RawURLEncoding.EncodeToString(d.Auth)}}
	resp, err := webpush.SendNotificationWithContext(ctx, body, sub, &webpush.Options{
		HTTPClient: s.cfg.HTTPClient, Subscriber: s.cfg.Subscriber, Topic: Topic(d.ReminderID),
		TTL: 24 * 60 * 60, Urgency: webpush.UrgencyNormal,
		VAPIDPublicKey: s.cfg.VAPIDPublicKey, VAPIDPrivateKey: s.cfg.VAPIDPrivateKey})
	status := 0
	if err == nil {
		status = resp.StatusCode
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
	}
	switch {
	case status >= 200 && status < 300:
		st.Sent++
		return s.store.MarkDelivered(ctx, d)
	case status == http.StatusNotFound || status == http.StatusGone:
		// The browser unsubscribed: the subscription is gone for good.
		st.Dropped++
		return s.store.DropPushSubscription(ctx, d.ClientID, d.SubscriptionID)
	}
	giveUp := d.Attempts >= s.cfg.MaxAttempts
	if giveUp {
		st.GaveUp++
	} else {
		st.Retried++
	}
	s.cfg.Logger.Warn("push failed", "status", status, "err", err, "attempt", d.Attempts, "gave_up", giveUp)
	return s.store.DeferDelivery(ctx, d, Backoff(d.Attempts), giveUp)
}

// Backoff is the wait before attempt n+1: a minute, doubling, at most six hours.
func Backoff(attempts int) time.Duration {
	b := time.Minute
	for i := 1; i < attempts && b < 6*time.Hour; i++ {
		b *= 2
	}
	return min(b, 6*time.Hour)
}
