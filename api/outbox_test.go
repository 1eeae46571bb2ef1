package api_test

import (
	"strconv"
	"testing"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/api"
	"github.com/waypoint-portal/waypoint/domain"
)

// A stream that resumes from Last-Event-ID while an older transaction is
// still open receives that transaction's event once it commits, positioned
// after everything the stream had seen, then the later events in order; a
// second resume from the same point replays the same sequence.
func TestEventsResumeAcrossLateCommit(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	e := tm.e
	c := createConversation(t, e, tm.alice, map[string]any{})
	long := e.DB.Begin()
	defer long.Rollback()
	lateSubject := uuid.New()
	if err := domain.EmitEvent(long, domain.Event{Type: domain.EventReferralUpdated, ClientID: tm.alice.ClientID, SubjectID: lateSubject,
		Data: domain.ReferralEventData{ReferralID: lateSubject, ServiceID: uuid.New(), Status: "sent", Version: 1}}); err != nil {
		t.Fatal(err)
	}
	postMessage(t, e, tm.wanda, c.ID, "before the resume point")
	e.Positioned()
	var seen int64
	e.DB.Raw(`SELECT max(seq) FROM events`).Scan(&seen)

	s := openStream(t, e.URL, tm.alice.Token, "", "Last-Event-ID", strconv.FormatInt(seen, 10))
	if err := long.Commit().Error; err != nil {
		t.Fatal(err)
	}
	// Committed outside a store transaction: nothing woke the server's
	// positioner, which finds the event on its own (within a second).
	_, late := s.Next()
	if late.SubjectID == nil || *late.SubjectID != lateSubject || late.Seq <= seen {
		t.Fatalf("late event %+v, want subject %s above %d", late, lateSubject, seen)
	}
	m2 := postMessage(t, e, tm.wanda, c.ID, "two")
	_, ev2 := s.Next()
	if eventData[api.MessageCreatedData](t, ev2).MessageID != m2.ID || ev2.Seq <= late.Seq {
		t.Fatalf("after the late event %+v", ev2)
	}
	r := openStream(t, e.URL, tm.alice.Token, "", "Last-Event-ID", strconv.FormatInt(seen, 10))
	if _, ev := r.Next(); ev.Seq != late.Seq {
		t.Fatalf("replay starts at %d, want %d", ev.Seq, late.Seq)
	}
	if _, ev := r.Next(); ev.Seq != ev2.Seq {
		t.Fatalf("replay continues at %d, want %d", ev.Seq, ev2.Seq)
	}
}
