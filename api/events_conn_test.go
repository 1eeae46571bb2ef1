package api_test

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/waypoint-portal/waypoint/api"
	"github.com/waypoint-portal/waypoint/api/apitest"
	"github.com/waypoint-portal/waypoint/domain"
	"github.com/waypoint-portal/waypoint/domain/live"
)

// newDetachedTeam is newTeam that also hands back the API server, to see
// its hijacked streams.
func newDetachedTeam(t *testing.T, opts ...apitest.Option) (*team, *api.Server) {
	t.Helper()
	var srv *api.Server
	tm := newTeam(t, append(opts, apitest.Extend(func(s *api.Server) { srv = s }))...)
	return tm, srv
}

// HTTP/1.1 streams go on after the handler returns, on the hijacked
// connection: delivery in order to every stream, and the client leaving.
// (Every other events test runs over HTTP/1.1 too, so on hijacked
// connections: resume, resync, care team, consent, scopes, expiry.)
func TestStreamOnHijackedConnection(t *testing.T) {
	t.Parallel()
	tm, srv := newDetachedTeam(t)
	e := tm.e
	c := createConversation(t, e, tm.alice, map[string]any{"worker_ids": []uuid.UUID{tm.wanda.PersonID}})
	a := openStream(t, e.URL, tm.alice.Token, "")
	a.Start()
	w := openStream(t, e.URL, tm.wanda.Token, "")
	w.Start()
	waitFor(t, "both streams to be handed off", func() bool { return srv.DetachedStreams() == 2 })

	m1 := postMessage(t, e, tm.wanda, c.ID, "one")
	m2 := postMessage(t, e, tm.alice, c.ID, "two")
	for _, s := range []*stream{a, w} {
		var prev int64
		for _, want := range []uuid.UUID{m1.ID, m2.ID} {
			f, ev := s.Next()
			if f.Event != "message.created" || eventData[api.MessageCreatedData](t, ev).MessageID != want || ev.Seq <= prev {
				t.Fatalf("event %+v %+v, want message %s after seq %d", f, ev, want, prev)
			}
			prev = ev.Seq
		}
	}
	// The client hangs up: the server notices without writing to it.
	a.Close()
	waitFor(t, "the closed stream to be freed", func() bool {
		return srv.DetachedStreams() == 1 && e.Hub.SubscribersOf(tm.alice.PersonID) == 0
	})
}

// One shared ticker writes heartbeats to every hijacked stream.
func TestHeartbeatOnHijackedStreams(t *testing.T) {
	t.Parallel()
	tm, srv := newDetachedTeam(t, apitest.WithEvents(api.EventsConfig{Heartbeat: 30 * time.Millisecond}))
	e := tm.e
	streams := []*stream{openStream(t, e.URL, tm.alice.Token, ""), openStream(t, e.URL, tm.wanda.Token, ""),
		openStream(t, e.URL, tm.will.Token, "")}
	waitFor(t, "the streams to be handed off", func() bool { return srv.DetachedStreams() == 3 })
	for i, s := range streams {
		beats := 0
		timer := time.NewTimer(deadline)
		for beats < 3 {
			select {
			case f, ok := <-s.frames:
				if !ok {
					t.Fatalf("stream %d ended after %d heartbeats", i, beats)
				}
				if f.Comment == "heartbeat" {
					beats++
				}
			case <-timer.C:
				t.Fatalf("stream %d: only %d heartbeats", i, beats)
			}
		}
		timer.Stop()
	}
}

// A reader that cannot keep up is disconnected without holding up anyone;
// reconnecting with the last id it got recovers every event, in order.
func TestSlowReaderResumes(t *testing.T) {
	t.Parallel()
	tm, srv := newDetachedTeam(t, apitest.WithHub(live.Config{Buffer: 100}),
		apitest.WithEvents(api.EventsConfig{WriteTimeout: time.Minute, ReplayMax: 100000}))
	e := tm.e
	conn := openSlowStream(t, e.URL, tm.wanda.Token)
	defer conn.Close()
	waitFor(t, "the slow stream to be handed off", func() bool {
		return e.Hub.SubscribersOf(tm.wanda.PersonID) == 1 && srv.DetachedStreams() == 1
	})
	fast := openStream(t, e.URL, tm.will.Token, "")
	goal := uuid.MustParse(teamGoal(t, e, tm.alice, tm.alice, map[string]any{}).ID)
	_, created := fast.Next()

	big := strings.Repeat("x", 4000)
	all := []int64{created.Seq} // every event, as the fast reader saw them
	for bursts := 0; bursts < 200 && e.Hub.SubscribersOf(tm.wanda.PersonID) > 0; bursts++ {
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
			all = append(all, ev.Seq)
		}
	}
	if e.Hub.SubscribersOf(tm.wanda.PersonID) != 0 {
		t.Fatalf("slow client still subscribed after %d events", len(all))
	}
	waitFor(t, "the slow stream's connection to be closed", func() bool { return srv.DetachedStreams() == 1 })

	// What the slow client did receive: complete frames up to the cut.
	_ = conn.SetReadDeadline(time.Now().Add(deadline))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	// The reader returns complete frames only (ended by their blank line),
	// each checked against the contract.
	var got []int64
	rd := apitest.ReadEvents(t, res.Body)
	for f, ok := rd.Next(); ok; f, ok = rd.Next() {
		if f.Event != "" {
			id, err := strconv.ParseInt(f.ID, 10, 64)
			if err != nil {
				t.Fatalf("frame %+v", f)
			}
			got = append(got, id)
		}
	}
	// It got events in order (the goal's creation first, then a prefix of the bursts).
	resumeFrom := all[0] - 1
	for _, seq := range got {
		if seq <= resumeFrom {
			t.Fatalf("slow client got seq %d after %d", seq, resumeFrom)
		}
		resumeFrom = seq
	}
	var want []int64
	for _, seq := range all {
		if seq > resumeFrom {
			want = append(want, seq)
		}
	}
	if len(want) == 0 {
		t.Fatalf("the slow client got everything (%d events): it was not slow", len(got))
	}
	t.Logf("slow client got %d events before it was cut off; %d to resume", len(got), len(want))

	s := openStream(t, e.URL, tm.wanda.Token, "", "Last-Event-ID", strconv.FormatInt(resumeFrom, 10))
	s.Start()
	for _, seq := range want {
		if f, ev := s.Next(); ev.Seq != seq {
			t.Fatalf("resumed stream: %s seq %d, want %d", f.Event, ev.Seq, seq)
		}
	}
}

// Stopping the hub (the start of a graceful shutdown) ends hijacked streams
// with a proper end of response, and CloseStreams waits for them.
func TestShutdownEndsHijackedStreams(t *testing.T) {
	t.Parallel()
	tm, srv := newDetachedTeam(t)
	e := tm.e
	var ends []chan error
	for _, u := range []apitest.User{tm.alice, tm.wanda, tm.will} {
		req, _ := http.NewRequest(http.MethodGet, e.URL+"/v1/events", nil)
		req.Header.Set("Authorization", "Bearer "+u.Token)
		tr := &http.Transport{DisableKeepAlives: true}
		defer tr.CloseIdleConnections()
		res, err := (&http.Client{Transport: tr}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		end := make(chan error, 1)
		go func() {
			rd := apitest.ReadEvents(t, res.Body)
			for _, ok := rd.Next(); ok; _, ok = rd.Next() {
			}
			res.Body.Close()
			end <- rd.Err()
		}()
		ends = append(ends, end)
	}
	waitFor(t, "the streams to be handed off", func() bool { return srv.DetachedStreams() == 3 })
	e.Hub.Close()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	if err := srv.CloseStreams(ctx); err != nil {
		t.Fatalf("CloseStreams: %v", err)
	}
	if n := srv.DetachedStreams(); n != 0 {
		t.Fatalf("%d streams left", n)
	}
	for i, end := range ends {
		select {
		case err := <-end:
			if err != nil {
				t.Fatalf("stream %d ended with %v, want a clean end of response", i, err)
			}
		case <-time.After(deadline):
			t.Fatalf("stream %d still open", i)
		}
	}
}

// HTTP/2 streams cannot be hijacked: they keep a goroutine each and work the same.
func TestStreamOverHTTP2(t *testing.T) {
	t.Parallel()
	tm, srv := newDetachedTeam(t)
	e := tm.e
	h2 := httptest.NewUnstartedServer(e.Server.Config.Handler)
	h2.EnableHTTP2 = true
	h2.StartTLS()
	t.Cleanup(h2.Close)
	c := createConversation(t, e, tm.alice, map[string]any{})

	req, _ := http.NewRequest(http.MethodGet, h2.URL+"/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+tm.alice.Token)
	res, err := h2.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.ProtoMajor != 2 || res.StatusCode != http.StatusOK {
		t.Fatalf("%s %d", res.Proto, res.StatusCode)
	}
	frames := make(chan apitest.Frame, 64)
	rd := apitest.ReadEvents(t, res.Body)
	go func() {
		defer close(frames)
		for f, ok := rd.Next(); ok; f, ok = rd.Next() {
			frames <- f
		}
	}()
	waitFor(t, "the subscription", func() bool { return e.Hub.SubscribersOf(tm.alice.PersonID) == 1 })
	if n := srv.DetachedStreams(); n != 0 {
		t.Fatalf("an HTTP/2 stream was hijacked (%d)", n)
	}
	m := postMessage(t, e, tm.wanda, c.ID, "over h2")
	timer := time.NewTimer(deadline)
	defer timer.Stop()
	for {
		select {
		case f, ok := <-frames:
			if !ok {
				t.Fatal("stream ended")
			}
			if f.Event == "message.created" && strings.Contains(f.Data, m.ID.String()) {
				return
			}
		case <-timer.C:
			t.Fatal("no event over HTTP/2")
		}
	}
}
