package api_test

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waypoint-portal/waypoint/api/apitest"
	"github.com/waypoint-portal/waypoint/domain"
	"github.com/waypoint-portal/waypoint/domain/push"
)

// Reminders (issue #15): the scheduler pushes due agenda items to a REAL
// Web Push endpoint: this push service checks the VAPID JWT's signature
// (RFC 8292) and decrypts the aes128gcm payload (RFC 8291) with the
// browser's private key, as a browser's push service and service worker would.

type received struct {
	Path, Topic string
	Payload     push.Payload
}

type pushService struct {
	t         testing.TB
	ts        *httptest.Server
	vapidPub  string
	mu        sync.Mutex
	got       []received
	status    map[string]int // by path; default 201
	browsers  map[string]browser
	onReceive func() // after a push is accepted
}

type browser struct {
	key  *ecdh.PrivateKey
	auth []byte
}

func newPushService(t testing.TB, vapidPub string) *pushService {
	p := &pushService{t: t, vapidPub: vapidPub, status: map[string]int{}, browsers: map[string]browser{}}
	p.ts = httptest.NewTLSServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.ts.Close)
	return p
}

// subscribe makes a browser at path and subscribes it for who.
func (p *pushService) subscribe(t *testing.T, e *apitest.Env, who apitest.User, path string) string {
	t.Helper()
	k, auth := pushKeys(t)
	p.mu.Lock()
	p.browsers[path] = browser{key: k, auth: auth}
	p.mu.Unlock()
	var sub struct{ ID string }
	e.Do(http.MethodPost, "/v1/me/push-subscriptions", who.Token, subscriptionBody(p.ts.URL+path, k, auth)).Want(t, http.StatusCreated).Decode(t, &sub)
	return sub.ID
}

func (p *pushService) received() []received {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]received(nil), p.got...)
}

// shown is what the phone shows: a service worker displays each payload as
// a notification with its tag, and a notification with the tag of one
// already shown replaces it.
func (p *pushService) shown() []received {
	seen := map[string]bool{}
	var out []received
	for _, r := range p.received() {
		if !seen[r.Payload.Tag] {
			seen[r.Payload.Tag] = true
			out = append(out, r)
		}
	}
	return out
}

func (p *pushService) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	payload, err := p.check(r, body)
	if err != nil {
		p.t.Errorf("push service refused %s: %v", r.URL.Path, err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	st, ok := p.status[r.URL.Path]
	if !ok {
		st = http.StatusCreated
		p.got = append(p.got, received{Path: r.URL.Path, Topic: r.Header.Get("Topic"), Payload: payload})
	}
	on := p.onReceive
	p.mu.Unlock()
	w.WriteHeader(st)
	if on != nil && !ok {
		on()
	}
}

func (p *pushService) check(r *http.Request, body []byte) (push.Payload, error) {
	var out push.Payload
	if r.Method != http.MethodPost || r.Header.Get("Content-Encoding") != "aes128gcm" || r.Header.Get("TTL") == "" {
		return out, fmt.Errorf("not a Web Push request: %s %v", r.Method, r.Header)
	}
	if err := p.checkVAPID(r.Header.Get("Authorization")); err != nil {
		return out, err
	}
	p.mu.Lock()
	b, ok := p.browsers[r.URL.Path]
	p.mu.Unlock()
	if !ok {
		return out, fmt.Errorf("no browser at %s", r.URL.Path)
	}
	plain, err := decryptAES128GCM(b, body)
	if err != nil {
		return out, err
	}
	if err := json.Unmarshal(plain, &out); err != nil {
		return out, fmt.Errorf("payload %q: %w", plain, err)
	}
	return out, nil
}

// checkVAPID verifies "vapid t=<JWT>, k=<public key>" (RFC 8292): k is the
// server's key, the JWT is ES256-signed by it, for this origin, unexpired.
func (p *pushService) checkVAPID(h string) error {
	var tok, k string
	for _, part := range strings.Split(strings.TrimPrefix(h, "vapid "), ",") {
		part = strings.TrimSpace(part)
		if v, ok := strings.CutPrefix(part, "t="); ok {
			tok = v
		} else if v, ok := strings.CutPrefix(part, "k="); ok {
			k = v
		}
	}
	if !strings.HasPrefix(h, "vapid ") || tok == "" || k != strings.TrimRight(p.vapidPub, "=") {
		return fmt.Errorf("authorization %q is not vapid with the server's key", h)
	}
	kb, err := base64.RawURLEncoding.DecodeString(k)
	if err != nil {
		return err
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), kb)
	if err != nil {
		return fmt.Errorf("vapid key: %w", err)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return fmt.Errorf("jwt %q", tok)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return fmt.Errorf("jwt signature: %v", err)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return fmt.Errorf("the VAPID JWT's signature does not verify")
	}
	var hdr struct{ Alg string }
	var claims struct {
		Aud, Sub string
		Exp      int64
	}
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if json.Unmarshal(hb, &hdr) != nil || json.Unmarshal(cb, &claims) != nil || hdr.Alg != "ES256" {
		return fmt.Errorf("jwt header %s claims %s", hb, cb)
	}
	if claims.Aud != p.ts.URL || claims.Exp < time.Now().Unix() || claims.Exp > time.Now().Add(24*time.Hour).Unix() ||
		!strings.HasPrefix(claims.Sub, "mailto:") {
		return fmt.Errorf("jwt claims %+v (aud must be %s)", claims, p.ts.URL)
	}
	return nil
}

// decryptAES128GCM is RFC 8291 (with RFC 8188's header) from the browser's side.
func decryptAES128GCM(b browser, body []byte) ([]byte, error) {
	if len(body) < 21 {
		return nil, fmt.Errorf("body of %d bytes", len(body))
	}
	salt, rs, idlen := body[:16], binary.BigEndian.Uint32(body[16:20]), int(body[20])
	if idlen != 65 || len(body) < 21+idlen || rs < 18 {
		return nil, fmt.Errorf("header: rs %d idlen %d", rs, idlen)
	}
	asPub, err := ecdh.P256().NewPublicKey(body[21 : 21+idlen])
	if err != nil {
		return nil, err
	}
	ct := body[21+idlen:]
	if len(ct) > int(rs) {
		return nil, fmt.Errorf("more than one record")
	}
	secret, err := b.key.ECDH(asPub)
	if err != nil {
		return nil, err
	}
	prkKey, err := hkdf.Extract(sha256.New, secret, b.auth)
	if err != nil {
		return nil, err
	}
	ikm, err := hkdf.Expand(sha256.New, prkKey, "WebPush: info\x00"+string(b.key.PublicKey().Bytes())+string(asPub.Bytes()), 32)
	if err != nil {
		return nil, err
	}
	prk, err := hkdf.Extract(sha256.New, ikm, salt)
	if err != nil {
		return nil, err
	}
	cek, _ := hkdf.Expand(sha256.New, prk, "Content-Encoding: aes128gcm\x00", 16)
	nonce, _ := hkdf.Expand(sha256.New, prk, "Content-Encoding: nonce\x00", 12)
	blk, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(blk)
	if err != nil {
		return nil, err
	}
	plain, err := gcm.Open(nil, nonce, ct, nil)
	if err != nil {
		return nil, fmt.Errorf("decrypt: %w", err)
	}
	end := len(plain) - 1
	for end >= 0 && plain[end] == 0 {
		end--
	}
	if end < 0 || plain[end] != 2 {
		return nil, fmt.Errorf("no last-record delimiter")
	}
	return plain[:end], nil
}

// zoneAt is a fixed-offset time zone where it is now hour o'clock.
func zoneAt(hour int) string {
	o := ((hour-time.Now().UTC().Hour())%24 + 24) % 24
	if o > 14 {
		o -= 24
	}
	switch {
	case o == 0:
		return "Etc/GMT"
	case o > 0:
		return fmt.Sprintf("Etc/GMT-%d", o) // POSIX sign: GMT-5 is five hours ahead
	}
	return fmt.Sprintf("Etc/GMT+%d", -o)
}

func newScheduler(t *testing.T, e *apitest.Env, ps *pushService, priv string, client *http.Client) *push.Scheduler {
	t.Helper()
	if client == nil {
		client = ps.ts.Client()
	}
	return push.New(e.Store, push.Config{VAPIDPublicKey: ps.vapidPub, VAPIDPrivateKey: priv, Subscriber: "ops@example.org",
		HTTPClient: client, Lease: time.Minute})
}

func vapidKeys(t *testing.T) (priv, pub string) {
	t.Helper()
	priv, pub, err := push.GenerateVAPIDKeys()
	if err != nil {
		t.Fatal(err)
	}
	return priv, pub
}

// dueCheckIn gives owner an active goal whose weekly check-in came due an hour ago.
func dueCheckIn(t *testing.T, e *apitest.Env, owner apitest.User, body map[string]any) goalView {
	t.Helper()
	g := teamGoal(t, e, owner, owner, body)
	patchTeamGoal(t, e, owner, g.ID, map[string]any{"check_in_every": "P1W"}).Want(t, http.StatusOK)
	execSQL(t, e, `UPDATE goals SET check_in_since = now() - interval '7 days 1 hour' WHERE id = ?`, g.ID)
	return g
}

func round(t *testing.T, s *push.Scheduler) push.Stats {
	t.Helper()
	st, err := s.Round(context.Background())
	if err != nil {
		t.Fatalf("round: %v", err)
	}
	return st
}

// The "Done means", follow-up part: Alice sets a weekly check-in; a
// week later her phone shows "You have a reminder from Waypoint" (no
// details), once, and not at 2 a.m.; Wanda's agenda lists Alice's overdue
// referral.
func TestFollowUpDoneMeans(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	e := tm.e
	seedDirectory(t, e.Store)
	priv, pub := vapidKeys(t)
	ps := newPushService(t, pub)
	ps.subscribe(t, e, tm.alice, "/alice-phone")
	// It is 2 a.m. where Alice is (default quiet hours: 21:00 to 08:00).
	setContact(e, tm.alice, tm.alice, map[string]any{"time_zone": zoneAt(2)}).Want(t, http.StatusOK)
	sa := openStream(t, e.URL, tm.alice.Token, "")
	sa.Start()
	g := dueCheckIn(t, e, tm.alice, map[string]any{"title": "Find stable housing"})
	s := newScheduler(t, e, ps, priv, nil)
	if st := round(t, s); st.Recorded != 1 || st.Sent != 0 {
		t.Fatalf("at 2 a.m.: %+v, want the reminder recorded and nothing sent", st)
	}
	ev := nextEvent(sa)
	for i := 0; i < 5 && ev.Type != domain.EventAgendaDue; i++ {
		ev = nextEvent(sa) // her goal's own events first
	}
	if ev.Type != domain.EventAgendaDue || eventData[agendaDueData](t, ev).Ref.ID != g.ID {
		t.Fatalf("alice's stream: %+v", ev)
	}
	if len(ps.received()) != 0 {
		t.Fatalf("pushed at 2 a.m.: %+v", ps.received())
	}
	// The morning: it is 10 a.m. where she is.
	setContact(e, tm.alice, tm.alice, map[string]any{"time_zone": zoneAt(10)}).Want(t, http.StatusOK)
	if st := round(t, s); st.Sent != 1 {
		t.Fatalf("in the morning: %+v, want one push", st)
	}
	for range 3 {
		round(t, s)
	}
	got := ps.received()
	if len(got) != 1 || got[0].Payload.Body != "You have a reminder from Waypoint" || got[0].Payload.Kind != "" ||
		got[0].Payload.DueAt != nil || strings.Contains(fmt.Sprint(got[0].Payload), "housing") {
		t.Fatalf("alice's phone got %+v, want once the generic reminder", got)
	}
	// Wanda's agenda lists Alice's overdue referral.
	ref := newReferral(t, e, tm.wanda, tm.alice, map[string]any{"service_id": svcShelter.String()})
	execSQL(t, e, `UPDATE referrals SET updated_at = now() - interval '15 days' WHERE id = ?`, ref.ID)
	p, _ := agenda(t, e, tm.wanda, "")
	found := false
	for _, it := range p.Items {
		if it.Kind == "referral_follow_up" && it.Ref.ID == ref.ID && it.Overdue && it.ClientID == tm.alice.ClientID.String() {
			found = true
		}
	}
	if !found {
		t.Fatalf("wanda's agenda %v lacks alice's overdue referral %s", agendaRefs(p), ref.ID)
	}
}

type agendaDueData struct {
	Kind string `json:"kind"`
	Ref  struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	} `json:"ref"`
}

func TestReminderPreviewsAndAudience(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	e := tm.e
	priv, pub := vapidKeys(t)
	ps := newPushService(t, pub)
	ps.subscribe(t, e, tm.alice, "/a1")
	ps.subscribe(t, e, tm.alice, "/a2") // two devices: one push each
	setContact(e, tm.alice, tm.alice, map[string]any{"time_zone": zoneAt(12), "push_previews": true}).Want(t, http.StatusOK)
	shared := dueCheckIn(t, e, tm.alice, map[string]any{"title": "Find stable housing"})
	private := dueCheckIn(t, e, tm.alice, map[string]any{"title": "Leave safely", "visibility": "private"})
	s := newScheduler(t, e, ps, priv, nil)
	if st := round(t, s); st.Recorded != 2 || st.Sent != 4 {
		t.Fatalf("round %+v, want 2 recorded and 4 pushes", st)
	}
	bodies := map[string]int{}
	for _, r := range ps.received() {
		bodies[r.Payload.Body]++
		if r.Payload.Kind != "check_in_due" || r.Payload.DueAt == nil || len(r.Topic) == 0 || len(r.Topic) > 32 {
			t.Fatalf("preview %+v", r)
		}
	}
	if bodies["Time to check in: Find stable housing"] != 2 || bodies["Time to check in: Leave safely"] != 2 {
		t.Fatalf("previews %v", bodies)
	}
	// agenda.due reaches the care team for the shared goal only.
	recipients := func(goal string) int64 {
		return countRows(t, e, `SELECT cardinality(recipients) FROM events WHERE type = 'agenda.due' AND subject_id = ?`, goal)
	}
	if recipients(shared.ID) != 3 || recipients(private.ID) != 1 {
		t.Fatalf("agenda.due recipients: shared %d, private %d", recipients(shared.ID), recipients(private.ID))
	}
}

func TestReminderQuietHoursAndGoneSubscriptions(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	e := tm.e
	priv, pub := vapidKeys(t)
	ps := newPushService(t, pub)
	gone := ps.subscribe(t, e, tm.alice, "/gone")
	ps.subscribe(t, e, tm.alice, "/phone")
	ps.mu.Lock()
	ps.status["/gone"] = http.StatusGone
	ps.mu.Unlock()
	// Her own quiet hours, across midnight, cover the present hour in UTC.
	h := time.Now().UTC()
	start, end := h.Add(-time.Hour).Format("15:04"), h.Add(time.Hour).Format("15:04")
	setContact(e, tm.alice, tm.alice, map[string]any{"time_zone": "UTC", "quiet_hours": map[string]any{"start": start, "end": end}}).Want(t, http.StatusOK)
	dueCheckIn(t, e, tm.alice, map[string]any{"title": "x"})
	s := newScheduler(t, e, ps, priv, nil)
	if st := round(t, s); st.Recorded != 1 || st.Sent+st.Dropped != 0 {
		t.Fatalf("in quiet hours: %+v", st)
	}
	setContact(e, tm.alice, tm.alice, map[string]any{"quiet_hours": map[string]any{"start": h.Add(2 * time.Hour).Format("15:04"),
		"end": h.Add(3 * time.Hour).Format("15:04")}}).Want(t, http.StatusOK)
	if st := round(t, s); st.Sent != 1 || st.Dropped != 1 {
		t.Fatalf("after quiet hours: %+v, want one sent and the gone subscription dropped", st)
	}
	if n := countRows(t, e, `SELECT count(*) FROM push_subscriptions WHERE id = ?`, gone); n != 0 {
		t.Fatal("a subscription answering 410 is still there")
	}
	// A push service failing: retried with backoff, not at once.
	ps.mu.Lock()
	ps.status["/phone"] = http.StatusServiceUnavailable
	ps.mu.Unlock()
	dueCheckIn(t, e, tm.alice, map[string]any{"title": "y"})
	if st := round(t, s); st.Retried != 1 {
		t.Fatalf("failing push service: %+v", st)
	}
	if st := round(t, s); st.Retried+st.Sent != 0 {
		t.Fatalf("retried before its backoff: %+v", st)
	}
	if n := countRows(t, e, `SELECT count(*) FROM push_deliveries WHERE sent_at IS NULL AND attempts = 1 AND lease_until > now() + interval '50 seconds'`); n != 1 {
		t.Fatalf("%d deliveries waiting out a backoff", n)
	}
}

// Exactly one sender: the advisory lock admits one scheduler at a time,
// and even rounds run at once (as during a failover) push each delivery once.
func TestReminderSingleSender(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	e := tm.e
	priv, pub := vapidKeys(t)
	ps := newPushService(t, pub)
	ps.subscribe(t, e, tm.alice, "/phone")
	setContact(e, tm.alice, tm.alice, map[string]any{"time_zone": zoneAt(12)}).Want(t, http.StatusOK)
	for i := range 5 {
		dueCheckIn(t, e, tm.alice, map[string]any{"title": fmt.Sprintf("goal %d", i)})
	}
	a, b := newScheduler(t, e, ps, priv, nil), newScheduler(t, e, ps, priv, nil)
	ctx := context.Background()
	ca, ok, err := a.TryLead(ctx)
	if err != nil || !ok {
		t.Fatalf("first scheduler: lead %v, %v", ok, err)
	}
	if cb, ok, err := b.TryLead(ctx); err != nil || ok {
		if cb != nil {
			push.Release(cb)
		}
		t.Fatalf("second scheduler led too (%v, %v)", ok, err)
	}
	push.Release(ca) // the leader's session ends: the other takes over
	cb, ok, err := b.TryLead(ctx)
	if err != nil || !ok {
		t.Fatalf("after failover: lead %v, %v", ok, err)
	}
	push.Release(cb)

	var wg sync.WaitGroup
	for _, s := range []*push.Scheduler{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Round(ctx); err != nil {
				t.Errorf("round: %v", err)
			}
		}()
	}
	wg.Wait()
	round(t, a)
	if got := ps.received(); len(got) != 5 || len(ps.shown()) != 5 {
		t.Fatalf("%d pushes (%d distinct) for 5 reminders", len(got), len(ps.shown()))
	}
	if n := countRows(t, e, `SELECT count(*) FROM reminders`); n != 5 {
		t.Fatalf("%d reminders recorded, want 5", n)
	}
	if n := countRows(t, e, `SELECT count(*) FROM events WHERE type = 'agenda.due'`); n != 5 {
		t.Fatalf("%d agenda.due events, want 5", n)
	}
}

// A crash between sending and recording: the claim was committed before the
// push, so the push is not repeated while the claim's lease holds; after it
// the reminder is pushed again (at-least-once) under the same Topic and tag,
// so the push service replaces an undelivered copy and the phone shows one.
func TestReminderCrashBetweenSendAndRecord(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	e := tm.e
	priv, pub := vapidKeys(t)
	ps := newPushService(t, pub)
	ps.subscribe(t, e, tm.alice, "/phone")
	setContact(e, tm.alice, tm.alice, map[string]any{"time_zone": zoneAt(12)}).Want(t, http.StatusOK)
	dueCheckIn(t, e, tm.alice, map[string]any{"title": "x"})

	// The sender "dies" the moment the push service accepted the push: its
	// context ends, so it cannot record it.
	ctx, crash := context.WithCancel(context.Background())
	ps.onReceive = crash
	crashing := newScheduler(t, e, ps, priv, nil)
	if _, err := crashing.Round(ctx); err == nil {
		t.Fatal("the crashed round reported success")
	}
	ps.mu.Lock()
	ps.onReceive = nil
	ps.mu.Unlock()
	if n := countRows(t, e, `SELECT count(*) FROM push_deliveries WHERE sent_at IS NULL AND attempts = 1`); n != 1 {
		t.Fatalf("the crashed delivery: %d claimed and unrecorded", n)
	}
	// The next leader: nothing while the lease holds.
	next := newScheduler(t, e, ps, priv, nil)
	if st := round(t, next); st.Sent != 0 || len(ps.received()) != 1 {
		t.Fatalf("within the lease: %+v, %d pushes", st, len(ps.received()))
	}
	// The lease runs out (as a minute later): pushed again, same topic and tag.
	execSQL(t, e, `UPDATE push_deliveries SET lease_until = now() WHERE sent_at IS NULL`)
	if st := round(t, next); st.Sent != 1 {
		t.Fatalf("after the lease: %+v", st)
	}
	round(t, next)
	got := ps.received()
	if len(got) != 2 || got[0].Topic != got[1].Topic || got[0].Payload.Tag != got[1].Payload.Tag || len(ps.shown()) != 1 {
		t.Fatalf("pushes %+v: want the same reminder twice under one topic and tag, shown once", got)
	}
	if n := countRows(t, e, `SELECT count(*) FROM push_deliveries WHERE sent_at IS NOT NULL AND attempts = 2`); n != 1 {
		t.Fatal("the delivery is not recorded as sent on its second attempt")
	}
}
