package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.uber.org/goleak"
	"gorm.io/gorm"

	"github.com/waypoint-portal/waypoint/api"
	"github.com/waypoint-portal/waypoint/api/apitest"
	"github.com/waypoint-portal/waypoint/auth/authtest"
	"github.com/waypoint-portal/waypoint/domain"
	"github.com/waypoint-portal/waypoint/domain/live"
)

// deadline bounds every wait for something to arrive; nothing passes or
// fails on timing, it only keeps a broken test from hanging.
const deadline = 15 * time.Second

// sseFrame is one event (or comment) read from a stream; every one was
// checked against openapi/asyncapi.yaml as it was read (apitest.EventReader).
type sseFrame = apitest.Frame

// liveEvent is the data of an event.
type liveEvent struct {
	ID        uuid.UUID       `json:"id"`
	Seq       int64           `json:"seq"`
	Type      string          `json:"type"`
	ClientID  uuid.UUID       `json:"client_id"`
	SubjectID *uuid.UUID      `json:"subject_id"`
	Data      json.RawMessage `json:"data"`
}

type stream struct {
	t      *testing.T
	frames chan sseFrame
	done   chan struct{}
	cancel context.CancelFunc
	body   io.Closer
	tr     *http.Transport
	header http.Header // of the response that opened the stream
}

// openStream connects to GET /v1/events; the handler has subscribed by the
// time the response headers arrive, so anything committed afterwards reaches it.
func openStream(t *testing.T, baseURL, token, query string, hdrs ...string) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+"/v1/events"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(hdrs); i += 2 {
		req.Header.Set(hdrs[i], hdrs[i+1])
	}
	tr := &http.Transport{DisableKeepAlives: true}
	res, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		cancel()
		t.Fatalf("open stream: %v", err)
	}
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		cancel()
		t.Fatalf("open stream: %d %s %s", res.StatusCode, res.Header.Get("Content-Type"), b)
	}
	s := &stream{t: t, frames: make(chan sseFrame, 1024), done: make(chan struct{}), cancel: cancel, body: res.Body, tr: tr, header: res.Header}
	go s.read(apitest.ReadEvents(t, res.Body))
	t.Cleanup(s.Close)
	return s
}

func (s *stream) read(r *apitest.EventReader) {
	defer close(s.done)
	defer close(s.frames)
	for {
		f, ok := r.Next()
		if !ok {
			return
		}
		s.frames <- f
	}
}

// Close disconnects and waits for the reader to finish.
func (s *stream) Close() {
	s.cancel()
	s.body.Close()
	<-s.done
	s.tr.CloseIdleConnections()
}

// Next returns the next event, skipping comments and the retry preamble.
func (s *stream) Next() (sseFrame, liveEvent) {
	s.t.Helper()
	timer := time.NewTimer(deadline)
	defer timer.Stop()
	for {
		select {
		case f, ok := <-s.frames:
			if !ok {
				s.t.Fatalf("stream ended while waiting for an event")
			}
			if f.Event == "" {
				continue
			}
			var ev liveEvent
			if f.Event != "resync" {
				if err := json.Unmarshal([]byte(f.Data), &ev); err != nil {
					s.t.Fatalf("event data %q: %v", f.Data, err)
				}
				if strconv.FormatInt(ev.Seq, 10) != f.ID || ev.Type != f.Event {
					s.t.Fatalf("frame id/event %s/%s disagree with data %s", f.ID, f.Event, f.Data)
				}
			}
			return f, ev
		case <-timer.C:
			s.t.Fatalf("no event within %s", deadline)
		}
	}
}

// Start returns the position the stream announced in its first frame.
func (s *stream) Start() int64 {
	s.t.Helper()
	select {
	case f := <-s.frames:
		n, err := strconv.ParseInt(f.ID, 10, 64)
		if f.Event != "" || f.Data != "" || err != nil {
			s.t.Fatalf("first frame %+v, want only an id", f)
		}
		return n
	case <-time.After(deadline):
		s.t.Fatalf("no first frame")
	}
	return 0
}

// Ended waits until the server ends the stream.
func (s *stream) Ended() {
	s.t.Helper()
	timer := time.NewTimer(deadline)
	defer timer.Stop()
	for {
		select {
		case _, ok := <-s.frames:
			if !ok {
				return
			}
		case <-timer.C:
			s.t.Fatalf("stream still open after %s", deadline)
		}
	}
}

func eventData[T any](t *testing.T, ev liveEvent) T {
	t.Helper()
	var d T
	if err := json.Unmarshal(ev.Data, &d); err != nil {
		t.Fatalf("decode %s data: %v", ev.Type, err)
	}
	return d
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(deadline)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestEventsDelivery(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	e := tm.e
	sa := openStream(t, e.URL, tm.alice.Token, "")
	sw := openStream(t, e.URL, tm.wanda.Token, "")
	sl := openStream(t, e.URL, tm.will.Token, "")
	so := openStream(t, e.URL, tm.oscar.Token, "")

	c := createConversation(t, e, tm.alice, map[string]any{"worker_ids": []uuid.UUID{tm.wanda.PersonID}, "subject": "private"})
	for _, s := range []*stream{sa, sw} {
		f, ev := s.Next()
		d := eventData[api.ConversationCreatedData](t, ev)
		if f.Event != "conversation.created" || d.ConversationID != c.ID || d.CreatedBy != tm.alice.PersonID ||
			ev.ClientID != tm.alice.ClientID || ev.SubjectID == nil || *ev.SubjectID != c.ID {
			t.Fatalf("event %+v %s", f, ev.Data)
		}
		if strings.Contains(f.Data, "private") {
			t.Fatalf("event carries the subject text: %s", f.Data)
		}
	}
	m := postMessage(t, e, tm.wanda, c.ID, "Your appointment is at 3pm")
	for _, s := range []*stream{sa, sw} {
		f, ev := s.Next()
		d := eventData[api.MessageCreatedData](t, ev)
		if f.Event != "message.created" || d.MessageID != m.ID || d.ConversationID != c.ID || d.SenderID != tm.wanda.PersonID ||
			!d.CreatedAt.Equal(m.CreatedAt) {
			t.Fatalf("event %+v", f)
		}
		if strings.Contains(f.Data, "3pm") {
			t.Fatalf("event carries message text: %s", f.Data)
		}
	}
	e.Do(http.MethodPost, "/v1/conversations/"+c.ID.String()+"/read", tm.alice.Token, map[string]any{"up_to": m.ID}).Want(t, http.StatusOK)
	f, ev := sw.Next()
	if d := eventData[api.MessageReadData](t, ev); f.Event != "message.read" || d.PersonID != tm.alice.PersonID || d.UpTo != m.ID {
		t.Fatalf("read event %+v", f)
	}
	// Will was not in that conversation: his first event is the next one he is in.
	c2 := createConversation(t, e, tm.alice, map[string]any{"worker_ids": []uuid.UUID{tm.will.PersonID}})
	if _, ev := sl.Next(); ev.Type != "conversation.created" || eventData[api.ConversationCreatedData](t, ev).ConversationID != c2.ID {
		t.Fatalf("will's first event %+v", ev)
	}
	// Oscar supports bob only: his first event is bob's.
	cb := createConversation(t, e, tm.bob, map[string]any{})
	if _, ev := so.Next(); ev.ClientID != tm.bob.ClientID || eventData[api.ConversationCreatedData](t, ev).ConversationID != cb.ID {
		t.Fatalf("oscar's first event %+v", ev)
	}

	// Authentication, scope, bad input.
	e.Do(http.MethodGet, "/v1/events", "", nil).Problem(t, http.StatusUnauthorized)
	tok := e.Issuer.Token(t, "alice", []string{"client"}, authtest.WithScopes("profile:read"))
	e.Do(http.MethodGet, "/v1/events", tok, nil).Problem(t, http.StatusForbidden)
	p := e.Do(http.MethodGet, "/v1/events", tm.alice.Token, nil, "Last-Event-ID", "abc").Problem(t, http.StatusUnprocessableEntity)
	if !apitest.HasErrorAt(p, "header.Last-Event-ID") {
		t.Fatalf("problem %v", p)
	}
	e.Do(http.MethodGet, "/v1/events?last_event_id=-1", tm.alice.Token, nil).Problem(t, http.StatusUnprocessableEntity)
}

func TestEventsResume(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	e := tm.e
	c := createConversation(t, e, tm.alice, map[string]any{})
	// A stream starts at the present and says where: a client that drops
	// before any event arrives resumes from there without a gap.
	var now int64
	e.Positioned()
	e.DB.Raw(`SELECT max(seq) FROM events`).Scan(&now)
	s0 := openStream(t, e.URL, tm.alice.Token, "")
	if start := s0.Start(); start != now {
		t.Fatalf("stream starts at %d, want %d", start, now)
	}
	s0.Close()
	m0 := postMessage(t, e, tm.wanda, c.ID, "zero")
	s0 = openStream(t, e.URL, tm.alice.Token, "", "Last-Event-ID", strconv.FormatInt(now, 10))
	if _, ev := s0.Next(); eventData[api.MessageCreatedData](t, ev).MessageID != m0.ID {
		t.Fatalf("resumed from the start position: %+v", ev)
	}
	s0.Close()

	sa := openStream(t, e.URL, tm.alice.Token, "")
	m1 := postMessage(t, e, tm.wanda, c.ID, "one")
	_, ev1 := sa.Next()
	if eventData[api.MessageCreatedData](t, ev1).MessageID != m1.ID {
		t.Fatalf("first event %+v", ev1)
	}
	sa.Close()

	// Missed while away.
	m2 := postMessage(t, e, tm.wanda, c.ID, "two")
	m3 := postMessage(t, e, tm.will, c.ID, "three")
	sa = openStream(t, e.URL, tm.alice.Token, "", "Last-Event-ID", strconv.FormatInt(ev1.Seq, 10))
	_, ev2 := sa.Next()
	_, ev3 := sa.Next()
	m4 := postMessage(t, e, tm.wanda, c.ID, "four") // live after the replay
	_, ev4 := sa.Next()
	got := []uuid.UUID{}
	for _, ev := range []liveEvent{ev2, ev3, ev4} {
		got = append(got, eventData[api.MessageCreatedData](t, ev).MessageID)
	}
	if want := []uuid.UUID{m2.ID, m3.ID, m4.ID}; fmt.Sprint(got) != fmt.Sprint(want) || !(ev1.Seq < ev2.Seq && ev2.Seq < ev3.Seq && ev3.Seq < ev4.Seq) {
		t.Fatalf("resumed %v (seq %d %d %d), want %v", got, ev2.Seq, ev3.Seq, ev4.Seq, want)
	}
	// Nothing doubled: the next event is a new one.
	m5 := postMessage(t, e, tm.wanda, c.ID, "five")
	if _, ev := sa.Next(); eventData[api.MessageCreatedData](t, ev).MessageID != m5.ID {
		t.Fatalf("after live event: %+v", ev)
	}

	// The query parameter does the same for polyfills; the header wins over it.
	sq := openStream(t, e.URL, tm.alice.Token, "?last_event_id="+strconv.FormatInt(ev1.Seq, 10))
	if _, ev := sq.Next(); ev.Seq != ev2.Seq {
		t.Fatalf("query resume starts at %d, want %d", ev.Seq, ev2.Seq)
	}
	sh := openStream(t, e.URL, tm.alice.Token, "?last_event_id=0", "Last-Event-ID", strconv.FormatInt(ev3.Seq, 10))
	if _, ev := sh.Next(); ev.Seq != ev4.Seq {
		t.Fatalf("header resume starts at %d, want %d", ev.Seq, ev4.Seq)
	}
}

// A gap larger than the replay window starts with resync, then continues live.
func TestEventsResync(t *testing.T) {
	t.Parallel()
	tm := newTeam(t, apitest.WithEvents(api.EventsConfig{ReplayMax: 2}))
	e := tm.e
	c := createConversation(t, e, tm.alice, map[string]any{})
	for i := 0; i < 3; i++ {
		postMessage(t, e, tm.wanda, c.ID, "missed")
	}
	var last int64
	e.Positioned()
	e.DB.Raw(`SELECT max(seq) FROM events`).Scan(&last)
	s := openStream(t, e.URL, tm.alice.Token, "", "Last-Event-ID", "0")
	f, _ := s.Next()
	var rd api.ResyncData
	if err := json.Unmarshal([]byte(f.Data), &rd); err != nil || f.Event != "resync" || rd.Seq != last || f.ID != strconv.FormatInt(last, 10) {
		t.Fatalf("first frame %+v (last seq %d)", f, last)
	}
	m := postMessage(t, e, tm.wanda, c.ID, "live")
	if _, ev := s.Next(); eventData[api.MessageCreatedData](t, ev).MessageID != m.ID {
		t.Fatalf("after resync: %+v", ev)
	}
	// A position beyond the present (say, after a database restore) cannot
	// be continued from without skipping events: resync too.
	s3 := openStream(t, e.URL, tm.alice.Token, "", "Last-Event-ID", "999999")
	if f, _ := s3.Next(); f.Event != "resync" || f.ID != strconv.FormatInt(last+1, 10) {
		t.Fatalf("first frame after a future id %+v, want resync at %d", f, last+1)
	}
	// Two missed events fit the window: replayed, no resync.
	s2 := openStream(t, e.URL, tm.alice.Token, "", "Last-Event-ID", strconv.FormatInt(last-1, 10))
	if f, _ := s2.Next(); f.Event != "message.created" || f.ID != strconv.FormatInt(last, 10) {
		t.Fatalf("first replayed frame %+v", f)
	}
}

// The story of the issue: alice's phone sends one message twice with one
// key; her worker on another replica sees it once, live; alice sees it read;
// a reconnect after a drop (to the other replica) misses nothing.
func TestEventsAcrossReplicas(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	e1 := tm.e
	e2 := e1.Replica()
	c := createConversation(t, e1, tm.alice, map[string]any{"worker_ids": []uuid.UUID{tm.wanda.PersonID}})
	sa := openStream(t, e1.URL, tm.alice.Token, "")
	sw := openStream(t, e2.URL, tm.wanda.Token, "")

	path := "/v1/conversations/" + c.ID.String() + "/messages"
	r1 := e1.Do(http.MethodPost, path, tm.alice.Token, `{"body":"Did my application go through?"}`, "Idempotency-Key", "phone-1").Want(t, http.StatusCreated)
	r2 := e1.Do(http.MethodPost, path, tm.alice.Token, `{"body":"Did my application go through?"}`, "Idempotency-Key", "phone-1").Want(t, http.StatusCreated)
	if string(r1.Body) != string(r2.Body) {
		t.Fatalf("retry differs")
	}
	var m api.Message
	r1.Decode(t, &m)
	_, ev := sw.Next()
	if ev.Type != "message.created" || eventData[api.MessageCreatedData](t, ev).MessageID != m.ID {
		t.Fatalf("wanda's event %+v", ev)
	}
	p := listMessages(t, e2, tm.wanda, c.ID, "")
	if len(p.Items) != 1 || p.Items[0].ID != m.ID {
		t.Fatalf("wanda sees %d messages", len(p.Items))
	}
	e2.Do(http.MethodPost, "/v1/conversations/"+c.ID.String()+"/read", tm.wanda.Token, map[string]any{"up_to": m.ID}).Want(t, http.StatusOK)
	if _, ev := sa.Next(); ev.Type != "message.created" { // her own message, first
		t.Fatalf("alice's first event %+v", ev)
	}
	_, ev = sa.Next()
	if d := eventData[api.MessageReadData](t, ev); ev.Type != "message.read" || d.PersonID != tm.wanda.PersonID || d.UpTo != m.ID {
		t.Fatalf("alice's read event %+v", ev)
	}
	if p := listMessages(t, e1, tm.alice, c.ID, ""); len(p.Items[0].ReadBy) != 1 || p.Items[0].ReadBy[0] != tm.wanda.PersonID {
		t.Fatalf("read_by %v", p.Items[0].ReadBy)
	}
	// The next event wanda gets is a new message, so the retry was not delivered twice.
	lastSeen := ev.Seq
	sw.Close()
	m2 := postMessage(t, e1, tm.alice, c.ID, "Also, can we meet Friday?")
	sw = openStream(t, e1.URL, tm.wanda.Token, "", "Last-Event-ID", strconv.FormatInt(lastSeen, 10))
	if _, ev := sw.Next(); eventData[api.MessageCreatedData](t, ev).MessageID != m2.ID {
		t.Fatalf("wanda's resumed event %+v", ev)
	}
}

// Events are authorized again when delivered: one emitted while the worker
// was on the team but committed after she left does not reach her.
func TestEventsStopAfterLeavingCareTeam(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	e := tm.e
	tm.addToTeam(t, tm.bob, tm.wanda)
	c := createConversation(t, e, tm.alice, map[string]any{})
	g := e.Do(http.MethodPost, goalsPath(tm.alice), tm.alice.Token, map[string]any{"title": "Find work"}).Want(t, http.StatusCreated).Map(t)
	gid := uuid.MustParse(g["id"].(string))
	sw := openStream(t, e.URL, tm.wanda.Token, "")
	sl := openStream(t, e.URL, tm.will.Token, "")

	tx := e.DB.Begin()
	if err := domain.EmitEvent(tx, domain.Event{Type: domain.EventGoalUpdated, ClientID: tm.alice.ClientID, SubjectID: gid,
		Data: domain.GoalEventData{GoalID: gid, Version: 2, Change: domain.GoalChangeUpdated, Fields: []string{"title"}}}); err != nil {
		t.Fatal(err)
	}
	tm.removeFromTeam(t, tm.alice, tm.wanda)
	if err := tx.Commit().Error; err != nil {
		t.Fatal(err)
	}
	postMessage(t, e, tm.alice, c.ID, "after wanda left")
	cb := createConversation(t, e, tm.bob, map[string]any{})

	// Will gets both of alice's events; wanda's first event is bob's.
	if _, ev := sl.Next(); ev.Type != "goal.updated" {
		t.Fatalf("will's first %+v", ev)
	}
	if _, ev := sl.Next(); ev.Type != "message.created" {
		t.Fatalf("will's second %+v", ev)
	}
	if _, ev := sw.Next(); ev.ClientID != tm.bob.ClientID || eventData[api.ConversationCreatedData](t, ev).ConversationID != cb.ID {
		t.Fatalf("wanda's first event %+v", ev)
	}
	// A replay from the start holds nothing of alice's any more.
	sr := openStream(t, e.URL, tm.wanda.Token, "", "Last-Event-ID", "0")
	if _, ev := sr.Next(); ev.ClientID != tm.bob.ClientID {
		t.Fatalf("replayed %+v", ev)
	}
}

// Event positions follow commit order, not insert order: an event whose
// transaction commits late is positioned above everything already visible.
func TestEventSeqFollowsCommitOrder(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	e := tm.e
	emit := func(tx *gorm.DB, tag string) {
		if err := domain.EmitEvent(tx, domain.Event{Type: domain.EventGoalUpdated, ClientID: tm.alice.ClientID, Data: map[string]string{"tag": tag}}); err != nil {
			t.Fatal(err)
		}
	}
	a := e.DB.Begin()
	emit(a, "inserted first, committed last")
	b := e.DB.Begin()
	emit(b, "inserted second, committed first")
	if err := b.Commit().Error; err != nil {
		t.Fatal(err)
	}
	e.Positioned() // b is visible to readers before a commits
	if err := a.Commit().Error; err != nil {
		t.Fatal(err)
	}
	e.Positioned()
	var tags []string
	e.DB.Raw(`SELECT data->>'tag' FROM events ORDER BY seq`).Scan(&tags)
	if len(tags) != 2 || tags[0] != "inserted second, committed first" {
		t.Fatalf("seq order %v", tags)
	}
}

// Long streams outlive the server's read and write timeouts; heartbeats flow.
func TestStreamOutlivesServerTimeouts(t *testing.T) {
	tm := newTeam(t, apitest.WithServerTimeouts(200*time.Millisecond, 200*time.Millisecond),
		apitest.WithEvents(api.EventsConfig{Heartbeat: 40 * time.Millisecond}))
	e := tm.e
	c := createConversation(t, e, tm.alice, map[string]any{})
	s := openStream(t, e.URL, tm.alice.Token, "")
	start := time.Now()
	beats := 0
	timer := time.NewTimer(deadline)
	defer timer.Stop()
	for beats < 15 { // ≥ 600 ms of heartbeats: past both timeouts
		select {
		case f, ok := <-s.frames:
			if !ok {
				t.Fatalf("stream closed after %s and %d heartbeats", time.Since(start), beats)
			}
			if f.Comment == "heartbeat" {
				beats++
			}
		case <-timer.C:
			t.Fatalf("only %d heartbeats", beats)
		}
	}
	m := postMessage(t, e, tm.wanda, c.ID, "still there?")
	if _, ev := s.Next(); eventData[api.MessageCreatedData](t, ev).MessageID != m.ID {
		t.Fatalf("event %+v", ev)
	}
}

// openSlowStream opens an event stream as token on a raw connection with a
// tiny receive buffer, which the caller never reads: a slow reader.
func openSlowStream(t *testing.T, baseURL, token string) net.Conn {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 2048) })
		if err != nil {
			return err
		}
		return serr
	}}
	conn, err := d.Dial("tcp", strings.TrimPrefix(baseURL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "GET /v1/events HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer %s\r\n\r\n", token)
	return conn
}

// paddedGoalUpdate is the data of the i-th large goal.updated of the
// slow-reader tests: what the contract allows, its size in the fields list.
func paddedGoalUpdate(goal uuid.UUID, i int, pad string) domain.GoalEventData {
	return domain.GoalEventData{GoalID: goal, Version: int64(i + 2), Change: domain.GoalChangeUpdated, Fields: []string{"title", pad}}
}

// A client that stops reading is dropped and never holds up the others.
func TestSlowReaderIsDropped(t *testing.T) {
	t.Parallel()
	tm := newTeam(t, apitest.WithHub(live.Config{Buffer: 100}), apitest.WithEvents(api.EventsConfig{WriteTimeout: time.Minute}))
	e := tm.e
	// Wanda's client: a tiny receive buffer, and it never reads.
	conn := openSlowStream(t, e.URL, tm.wanda.Token)
	defer conn.Close()
	waitFor(t, "the slow client to subscribe", func() bool { return e.Hub.SubscribersOf(tm.wanda.PersonID) == 1 })
	fast := openStream(t, e.URL, tm.will.Token, "")

	// Bursts of 50 events of 4 KB, each read in full by the fast client
	// before the next: it never falls behind, while the slow one's socket
	// fills, its writes block and its queue passes the bound of 100.
	big := strings.Repeat("x", 4000)
	// A goal's events reach workers only while the goal exists and is shared.
	goal := uuid.MustParse(teamGoal(t, e, tm.alice, tm.alice, map[string]any{}).ID)
	_, _ = fast.Next()
	var prev int64
	// Loopback socket buffers can absorb several MB before writes block.
	bursts := 0
	for ; bursts < 200 && e.Hub.SubscribersOf(tm.wanda.PersonID) > 0; bursts++ {
		err := e.DB.Transaction(func(tx *gorm.DB) error {
			for i := 0; i < 50; i++ {
				if err := domain.EmitEvent(tx, domain.Event{Type: domain.EventGoalUpdated, ClientID: tm.alice.ClientID,
					SubjectID: goal, Data: paddedGoalUpdate(goal, i, big)}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 50; i++ {
			_, ev := fast.Next()
			if ev.Seq <= prev {
				t.Fatalf("burst %d event %d: seq %d after %d", bursts, i, ev.Seq, prev)
			}
			prev = ev.Seq
		}
	}
	t.Logf("slow client dropped after %d bursts (%d KB)", bursts, bursts*50*4)
	if e.Hub.SubscribersOf(tm.wanda.PersonID) != 0 {
		t.Fatalf("slow client still subscribed after %d bursts", bursts)
	}
	if st := e.Hub.Stats(); st.Dropped != 1 {
		t.Fatalf("stats %+v: want exactly the slow subscriber dropped by the hub", st)
	}
	if e.Hub.SubscribersOf(tm.will.PersonID) != 1 {
		t.Fatalf("the fast reader lost its subscription")
	}
}

// Closing streams frees everything they held: no goroutine outlives them.
func TestStreamsLeaveNoGoroutines(t *testing.T) {
	tm := newTeam(t)
	e := tm.e
	c := createConversation(t, e, tm.alice, map[string]any{})
	http.DefaultClient.CloseIdleConnections()
	ignore := goleak.IgnoreCurrent()

	var streams []*stream
	for i := 0; i < 10; i++ {
		streams = append(streams, openStream(t, e.URL, tm.alice.Token, ""))
	}
	m := postMessage(t, e, tm.wanda, c.ID, "to every device")
	for _, s := range streams {
		if _, ev := s.Next(); eventData[api.MessageCreatedData](t, ev).MessageID != m.ID {
			t.Fatalf("event %+v", ev)
		}
	}
	for _, s := range streams {
		s.Close()
	}
	http.DefaultClient.CloseIdleConnections()
	waitFor(t, "subscriptions to end", func() bool { return e.Hub.SubscribersOf(tm.alice.PersonID) == 0 })
	goleak.VerifyNone(t, ignore)
}

// Stopping the hub ends open streams (so graceful shutdown does not wait on
// them), refuses new ones, and leaves no goroutine behind.
func TestHubStopEndsStreams(t *testing.T) {
	tm := newTeam(t)
	e := tm.e
	ignore := goleak.IgnoreCurrent()
	h := live.Start(context.Background(), e.Store, live.Config{DatabaseURL: e.DBURL})
	<-h.Ready()
	sub, err := h.Subscribe(context.Background(), tm.alice.PersonID)
	if err != nil {
		t.Fatal(err)
	}
	h.Close()
	select {
	case <-sub.Gone():
	case <-time.After(deadline):
		t.Fatalf("subscription survived the hub")
	}
	if sub.Reason() != "stopped" {
		t.Fatalf("reason %q", sub.Reason())
	}
	if _, err := h.Subscribe(context.Background(), tm.alice.PersonID); err != live.ErrStopped {
		t.Fatalf("subscribe after stop: %v", err)
	}
	goleak.VerifyNone(t, ignore)

	// Through the server: the open stream ends, a new one is 503.
	s := openStream(t, e.URL, tm.alice.Token, "")
	e.Hub.Close()
	s.Ended()
	r := e.Do(http.MethodGet, "/v1/events", tm.alice.Token, nil)
	r.Problem(t, http.StatusServiceUnavailable)
	if r.Header.Get("Retry-After") == "" {
		t.Fatalf("503 without Retry-After")
	}
}

// When the listener connection dies, the hub reconnects and recovers from
// the outbox whatever was committed meanwhile.
func TestHubRecoversAfterReconnect(t *testing.T) {
	t.Parallel()
	tm := newTeam(t, apitest.WithHub(live.Config{MinBackoff: 300 * time.Millisecond}))
	e := tm.e
	c := createConversation(t, e, tm.alice, map[string]any{})
	s := openStream(t, e.URL, tm.alice.Token, "")
	pid := e.Hub.ListenerPID()
	if err := e.DB.Exec(`SELECT pg_terminate_backend(?)`, pid).Error; err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the hub to notice", func() bool { return e.Hub.ListenerPID() != pid })
	m := postMessage(t, e, tm.wanda, c.ID, "sent while the listener was away")
	if _, ev := s.Next(); eventData[api.MessageCreatedData](t, ev).MessageID != m.ID {
		t.Fatalf("event %+v", ev)
	}
	if st := e.Hub.Stats(); st.Reconnects < 1 {
		t.Fatalf("stats %+v", st)
	}
}

// The hub prunes the outbox: events past retention and idempotency keys past 24 h.
func TestPruneOutbox(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	e := tm.e
	c := createConversation(t, e, tm.alice, map[string]any{})
	e.Do(http.MethodPost, "/v1/conversations/"+c.ID.String()+"/messages", tm.alice.Token, `{"body":"old"}`, "Idempotency-Key", "old").Want(t, http.StatusCreated)
	e.Do(http.MethodPost, "/v1/conversations/"+c.ID.String()+"/messages", tm.alice.Token, `{"body":"new"}`, "Idempotency-Key", "new").Want(t, http.StatusCreated)
	e.Positioned()
	if err := e.DB.Exec(`UPDATE events SET created_at = now() - interval '49 hours' WHERE seq <= 2`).Error; err != nil {
		t.Fatal(err)
	}
	if err := e.DB.Exec(`UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'old'`).Error; err != nil {
		t.Fatal(err)
	}
	n, err := e.Store.PruneOutbox(context.Background(), 48*time.Hour)
	if err != nil || n != 3 {
		t.Fatalf("pruned %d rows (%v), want 2 events + 1 key", n, err)
	}
	var seqs []int64
	var keys []string
	e.DB.Raw(`SELECT seq FROM events ORDER BY seq`).Scan(&seqs)
	e.DB.Raw(`SELECT key FROM idempotency_keys`).Scan(&keys)
	if fmt.Sprint(seqs) != "[3]" || fmt.Sprint(keys) != "[new]" {
		t.Fatalf("left events %v, keys %v", seqs, keys)
	}
}

// The token is checked once, at connect: the stream must end when it expires
// (here it already has, inside the verifier's clock-skew allowance).
func TestStreamEndsWhenTokenExpires(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	e := tm.e
	tok := e.Issuer.Token(t, "wanda", []string{"worker"}, authtest.WithClaim("exp", time.Now().Add(-10*time.Second).Unix()))
	s := openStream(t, e.URL, tok, "")
	s.Start()
	s.Ended()
}

// A token without goals:read hears about conversations but not goals.
func TestStreamAppliesTokenScopes(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	e := tm.e
	tok := e.Issuer.Token(t, "wanda", []string{"worker"}, authtest.WithScopes("messages:read"))
	s := openStream(t, e.URL, tok, "")
	s.Start()
	e.Do(http.MethodPost, "/v1/clients/"+tm.alice.ClientID.String()+"/goals", tm.alice.Token, map[string]any{"title": "Find a dentist"}).
		Want(t, http.StatusCreated)
	c := createConversation(t, e, tm.alice, map[string]any{"worker_ids": []uuid.UUID{tm.wanda.PersonID}})
	f, ev := s.Next()
	if f.Event != "conversation.created" || eventData[api.ConversationCreatedData](t, ev).ConversationID != c.ID {
		t.Fatalf("first event %+v, want conversation.created (the goal event must be skipped)", f)
	}
}

// One person cannot pin unbounded streams: beyond the cap it is 429.
func TestStreamsPerPersonCapped(t *testing.T) {
	t.Parallel()
	tm := newTeam(t, apitest.WithHub(live.Config{MaxPerPerson: 2}))
	e := tm.e
	for i := 0; i < 2; i++ {
		s := openStream(t, e.URL, tm.wanda.Token, "")
		s.Start()
		defer s.Close()
	}
	r := e.Do(http.MethodGet, "/v1/events", tm.wanda.Token, nil)
	r.Problem(t, http.StatusTooManyRequests)
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	// Others are not affected.
	s := openStream(t, e.URL, tm.alice.Token, "")
	s.Start()
	s.Close()
}
