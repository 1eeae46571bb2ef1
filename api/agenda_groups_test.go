package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/waypoint-portal/waypoint/api/apitest"
)

// A group's session is on each member's agenda, and on the facilitator's
// for the members of their caseload; a worker on a member's care team who
// does not facilitate the group learns nothing of it there, a former member
// loses it at once, and a facilitator's sighting is in the member's access log.
func TestAgendaGroupSessions(t *testing.T) {
	t.Parallel()
	w := newGroupWorld(t)
	e := w.e
	w.join(t, w.alice, "Ali")
	w.join(t, w.bob, "Bob") // bob is also on will's caseload; will does not facilitate
	starts := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	session := e.Do(http.MethodPost, "/v1/groups/"+w.group+"/sessions", w.wanda.Token, map[string]any{
		"starts_at": starts.Format(time.RFC3339), "place": "Library, room 2"}).Want(t, http.StatusCreated).Map(t)["id"].(string)
	sessionsOf := func(who apitest.User) []string {
		t.Helper()
		p, _ := agenda(t, e, who, "")
		var out []string
		for _, it := range p.Items {
			if it.Kind == "group_session" && it.Ref.ID == session {
				if it.Ref.Type != "group_session" || it.Ref.ID != session || !it.DueAt.Equal(starts) || it.Title != "Budgeting together" || it.Overdue {
					t.Fatalf("%s's group session item: %+v", who.Subject, it)
				}
				out = append(out, it.ClientID)
			}
		}
		slices.Sort(out)
		return out
	}
	both := []string{w.alice.ClientID.String(), w.bob.ClientID.String()}
	slices.Sort(both)
	if got := sessionsOf(w.alice); !slices.Equal(got, []string{w.alice.ClientID.String()}) {
		t.Fatalf("alice's agenda sessions: %v", got)
	}
	if got := sessionsOf(w.wanda); !slices.Equal(got, both) {
		t.Fatalf("the facilitator's agenda sessions: %v, want alice's and bob's", got)
	}
	for _, u := range []apitest.User{w.will, w.adam, w.carol} {
		if got := sessionsOf(u); len(got) != 0 {
			t.Fatalf("%s sees group sessions on their agenda: %v", u.Subject, got)
		}
	}
	if n := countRows(t, e, `SELECT count(*) FROM access_log WHERE client_id = ? AND actor_person_id = ? AND resource = 'group_membership'
		AND resource_id = ?`, w.alice.ClientID, w.wanda.PersonID, w.group); n == 0 {
		t.Fatal("the facilitator's agenda sighting of alice's session is not in alice's access log")
	}
	// A session within the hour is reminded now, to each member alone
	// (bob's care team learns nothing of his groups from the stream); the
	// one in two days is not due yet.
	soon := e.Do(http.MethodPost, "/v1/groups/"+w.group+"/sessions", w.wanda.Token, map[string]any{
		"starts_at": time.Now().Add(30 * time.Minute).UTC().Format(time.RFC3339), "place": "Library, room 2"}).
		Want(t, http.StatusCreated).Map(t)["id"].(string)
	if n, err := e.Store.RecordDueReminders(context.Background(), 100); err != nil || n != 2 {
		t.Fatalf("reminders recorded for the session in 30 minutes: %d, %v; want one per member", n, err)
	}
	var recipients []string
	if err := e.DB.Raw(`SELECT unnest(recipients)::text FROM events WHERE type = 'agenda.due' AND subject_id = ? ORDER BY 1`, soon).
		Scan(&recipients).Error; err != nil {
		t.Fatal(err)
	}
	members := []string{w.alice.PersonID.String(), w.bob.PersonID.String()}
	slices.Sort(members)
	if !slices.Equal(recipients, members) {
		t.Fatalf("agenda.due for the session reached %v, want the two members alone %v", recipients, members)
	}
	if n := countRows(t, e, `SELECT count(*) FROM reminders WHERE ref_id = ?`, session); n != 0 {
		t.Fatalf("the session in two days was reminded already (%d)", n)
	}
	e.Do(http.MethodDelete, "/v1/groups/"+w.group+"/members/"+w.bob.PersonID.String(), w.bob.Token, nil, "If-Match", "*").
		Want(t, http.StatusNoContent)
	if got := sessionsOf(w.bob); len(got) != 0 {
		t.Fatalf("a former member still has the session: %v", got)
	}
	if got := sessionsOf(w.wanda); !slices.Equal(got, []string{w.alice.ClientID.String()}) {
		t.Fatalf("the facilitator's agenda after bob left: %v", got)
	}
}

// A group's events reach a member's stream opened through an app only while
// that member has not revoked the app; another member's revocation is theirs.
func TestGroupEventsHonourTheMembersRevocations(t *testing.T) {
	t.Parallel()
	w := newGroupWorld(t)
	e := w.e
	w.join(t, w.alice, "Ali")
	w.join(t, w.bob, "Bob")
	aliceToken := appToken(t, e, w.alice, []string{"client"}, budgetApp)
	e.Do(http.MethodGet, clientURL(w.alice), aliceToken, nil).Want(t, http.StatusOK) // the app acted on her data
	aliceApp := openStream(t, e.URL, aliceToken, "")
	aliceApp.Start()
	bobApp := openStream(t, e.URL, appToken(t, e, w.bob, []string{"client"}, budgetApp), "")
	bobApp.Start()
	e.Do(http.MethodDelete, clientURL(w.alice)+"/apps/"+budgetApp, w.alice.Token, nil).Want(t, http.StatusNoContent)
	e.Do(http.MethodPost, "/v1/groups/"+w.group+"/posts", w.bob.Token, map[string]any{"kind": "message", "body": "after"}).
		Want(t, http.StatusCreated)
	nextOfType(t, bobApp, "group.post.created") // bob did not revoke it
	// Marker: an event keyed by alice's client alone; had the post reached
	// her revoked app's stream, it would come first.
	e.Do(http.MethodPut, clientURL(w.alice)+"/apps/"+budgetApp, w.alice.Token, nil).Want(t, http.StatusOK)
	again := e.Do(http.MethodPost, "/v1/groups/"+w.group+"/posts", w.bob.Token, map[string]any{"kind": "message", "body": "allowed again"}).
		Want(t, http.StatusCreated).Map(t)["id"].(string)
	ev := nextEvent(aliceApp)
	var data struct {
		PostID string `json:"post_id"`
	}
	if err := json.Unmarshal(ev.Data, &data); err != nil || ev.Type != "group.post.created" || data.PostID != again {
		t.Fatalf("alice's app stream: %s %s first, want the post made after she allowed the app again (%s)", ev.Type, ev.Data, again)
	}
	var n int64
	if err := e.DB.Raw(`SELECT count(*) FROM events WHERE type = 'group.post.created'`).Scan(&n).Error; err != nil || n != 2 {
		t.Fatalf("%d posts' events (%v)", n, err)
	}
}
