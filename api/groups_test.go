package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/waypoint-portal/waypoint/api/apitest"
)

// groupWorld: wanda facilitates "Budgeting together"; alice, bob, carol and
// dan are clients of wanda's caseload; will is a worker on bob's care team
// who does not facilitate; adam is an administrator; eve is a client of no
// one here.
type groupWorld struct {
	e                           *apitest.Env
	wanda, will, adam           apitest.User
	alice, bob, carol, dan, eve apitest.User
	group                       string
}

func newGroupWorld(t *testing.T) *groupWorld {
	t.Helper()
	e := apitest.New(t)
	w := &groupWorld{e: e, wanda: e.Login("wanda", "worker"), will: e.Login("will", "worker"), adam: e.Login("adam", "admin"),
		alice: e.Login("alice", "client"), bob: e.Login("bob", "client"), carol: e.Login("carol", "client"),
		dan: e.Login("dan", "client"), eve: e.Login("eve", "client")}
	for _, c := range []apitest.User{w.alice, w.bob, w.carol, w.dan} {
		e.Do(http.MethodPut, clientURL(c)+"/care-team/"+w.wanda.PersonID.String(), w.adam.Token, nil).Want(t, http.StatusCreated)
	}
	e.Do(http.MethodPut, clientURL(w.bob)+"/care-team/"+w.will.PersonID.String(), w.adam.Token, nil).Want(t, http.StatusCreated)
	w.group = e.Do(http.MethodPost, "/v1/groups", w.wanda.Token, map[string]any{"name": "Budgeting together", "kind": "skills",
		"purpose": "Make a budget that works"}).Want(t, http.StatusCreated).Map(t)["id"].(string)
	return w
}

// invite invites c and returns the invitation id.
func (w *groupWorld) invite(t *testing.T, c apitest.User) string {
	t.Helper()
	return w.e.Do(http.MethodPost, "/v1/groups/"+w.group+"/invitations", w.wanda.Token, map[string]any{"client_id": c.ClientID}).
		Want(t, http.StatusCreated).Map(t)["id"].(string)
}

// join invites c and accepts as name.
func (w *groupWorld) join(t *testing.T, c apitest.User, name string) {
	t.Helper()
	inv := w.invite(t, c)
	w.e.Do(http.MethodPost, "/v1/group-invitations/"+inv+"/accept", c.Token, map[string]any{"display_name": name}).Want(t, http.StatusOK)
}

// nextOfType reads s until an event of type typ (skipping others) and returns its data.
func nextOfType(t *testing.T, s *stream, typ string) map[string]any {
	t.Helper()
	for {
		ev := nextEvent(s)
		if ev.Type == typ {
			var d map[string]any
			if err := json.Unmarshal(ev.Data, &d); err != nil {
				t.Fatal(err)
			}
			return d
		}
	}
}

// The "Done means", over HTTP with live events on both phones.
func TestGroupsStory(t *testing.T) {
	w := newGroupWorld(t)
	e := w.e
	g := "/v1/groups/" + w.group
	aliceStream, bobStream := openStream(t, e.URL, w.alice.Token, ""), openStream(t, e.URL, w.bob.Token, "")
	aliceStream.Start()
	bobStream.Start()

	// Wanda invites Alice and Bob; each gets group.invitation.
	aliceInv, bobInv := w.invite(t, w.alice), w.invite(t, w.bob)
	if d := nextOfType(t, aliceStream, "group.invitation"); d["invitation_id"] != aliceInv || d["group_id"] != w.group {
		t.Fatalf("alice's invitation event: %v", d)
	}
	nextOfType(t, bobStream, "group.invitation")
	// Invited, not accepted: the invitation only.
	e.Do(http.MethodGet, g, w.alice.Token, nil).Want(t, http.StatusNotFound)
	var invs struct{ Items []map[string]any }
	e.Do(http.MethodGet, "/v1/group-invitations", w.alice.Token, nil).Want(t, http.StatusOK).Decode(t, &invs)
	if len(invs.Items) != 1 || invs.Items[0]["group_name"] != "Budgeting together" || invs.Items[0]["status"] != "invited" {
		t.Fatalf("alice's invitations: %v", invs.Items)
	}
	// Alice joins as "Ali"; Bob declines, then joins later.
	e.Do(http.MethodPost, "/v1/group-invitations/"+aliceInv+"/accept", w.alice.Token, map[string]any{"display_name": "Ali"}).Want(t, http.StatusOK)
	e.Do(http.MethodPost, "/v1/group-invitations/"+bobInv+"/accept", w.alice.Token, nil).Want(t, http.StatusNotFound)
	e.Do(http.MethodPost, "/v1/group-invitations/"+bobInv+"/decline", w.bob.Token, nil).Want(t, http.StatusOK)
	e.Do(http.MethodPost, "/v1/group-invitations/"+bobInv+"/accept", w.bob.Token, nil).Want(t, http.StatusConflict)
	e.Do(http.MethodGet, g, w.bob.Token, nil).Want(t, http.StatusNotFound)
	bobInv = w.invite(t, w.bob)
	e.Do(http.MethodPost, "/v1/group-invitations/"+bobInv+"/accept", w.bob.Token, map[string]any{"display_name": "Bob"}).Want(t, http.StatusOK)
	if d := nextOfType(t, aliceStream, "group.member.joined"); d["person_id"] != w.alice.PersonID.String() {
		t.Fatalf("alice saw %v join, want herself first", d)
	}
	if d := nextOfType(t, aliceStream, "group.member.joined"); d["person_id"] != w.bob.PersonID.String() {
		t.Fatalf("alice saw %v join, want bob", d)
	}
	grp := e.Do(http.MethodGet, g, w.alice.Token, nil).Want(t, http.StatusOK).Map(t)
	if grp["member_count"] != 2.0 || grp["my_role"] != "member" {
		t.Fatalf("group as alice: %v", grp)
	}
	var members struct{ Items []map[string]any }
	e.Do(http.MethodGet, g+"/members", w.bob.Token, nil).Want(t, http.StatusOK).Decode(t, &members)
	if len(members.Items) != 2 || members.Items[0]["display_name"] != "Ali" {
		t.Fatalf("members as bob: %v", members.Items)
	}
	for _, m := range members.Items {
		if _, ok := m["client_id"]; ok {
			t.Fatalf("a member sees another member's client id: %v", m)
		}
	}

	// Alice proposes the shared goal; both opt in and check in.
	goal := e.Do(http.MethodPost, g+"/goals", w.alice.Token, map[string]any{"title": "Save $50 this month"}).Want(t, http.StatusCreated).Map(t)["id"].(string)
	gg := "/v1/group-goals/" + goal
	for _, c := range []apitest.User{w.alice, w.bob} {
		e.Do(http.MethodPost, gg+"/check-ins", c.Token, map[string]any{"rating": 3}).Want(t, http.StatusConflict) // not taking part yet
		e.Do(http.MethodPost, gg+"/join", c.Token, nil).Want(t, http.StatusOK)
	}
	e.Do(http.MethodPost, gg+"/check-ins", w.alice.Token, map[string]any{"rating": 4, "note": "put $10 aside"}).Want(t, http.StatusCreated)
	e.Do(http.MethodPost, gg+"/check-ins", w.bob.Token, map[string]any{"rating": 6}).Want(t, http.StatusCreated)
	nextOfType(t, bobStream, "group.goal.progress")
	got := e.Do(http.MethodGet, gg, w.wanda.Token, nil).Want(t, http.StatusOK).Map(t)
	if got["participants"] != 2.0 {
		t.Fatalf("group goal: %v, want 2 taking part", got)
	}
	for k, v := range got["progress"].(map[string]any) {
		if v != nil {
			t.Fatalf("progress.%s = %v with 2 taking part, want null", k, v)
		}
	}
	checkIns := func(u apitest.User) []map[string]any {
		var page struct{ Items []map[string]any }
		e.Do(http.MethodGet, gg+"/check-ins", u.Token, nil).Want(t, http.StatusOK).Decode(t, &page)
		return page.Items
	}
	if ci := checkIns(w.bob); len(ci) != 1 || ci[0]["person_id"] != w.bob.PersonID.String() {
		t.Fatalf("bob sees %v before alice shares, want only his own", ci)
	}
	if ci := checkIns(w.wanda); len(ci) != 0 {
		t.Fatalf("the facilitator sees %v before anyone shares", ci)
	}
	// Alice shares hers.
	ifm := fmt.Sprintf(`"%v"`, members.Items[0]["version"])
	e.Do(http.MethodPatch, g+"/members/"+w.alice.PersonID.String(), w.alice.Token, map[string]any{"share_my_progress": true},
		"If-Match", ifm).Want(t, http.StatusOK)
	if ci := checkIns(w.bob); len(ci) != 2 || ci[0]["display_name"] != "Ali" || ci[0]["rating"] != 4.0 {
		t.Fatalf("bob sees %v after alice shares", ci)
	}

	// Bob offers a ride; Alice takes it; the offer is resolved, live on both phones.
	post := e.Do(http.MethodPost, g+"/posts", w.bob.Token, map[string]any{"kind": "offer", "body": "I can drive two people to the food bank Friday"},
		"Idempotency-Key", "ride-offer-1").Want(t, http.StatusCreated).Map(t)
	again := e.Do(http.MethodPost, g+"/posts", w.bob.Token, map[string]any{"kind": "offer", "body": "I can drive two people to the food bank Friday"},
		"Idempotency-Key", "ride-offer-1").Want(t, http.StatusCreated).Map(t)
	if again["id"] != post["id"] {
		t.Fatalf("a retried post made a second one: %v, %v", post["id"], again["id"])
	}
	postID := post["id"].(string)
	if d := nextOfType(t, aliceStream, "group.post.created"); d["post_id"] != postID {
		t.Fatalf("alice's post event: %v", d)
	}
	nextOfType(t, bobStream, "group.post.created")
	e.Do(http.MethodPost, "/v1/group-posts/"+postID+"/replies", w.alice.Token, map[string]any{"body": "Yes please, I'll take a seat!"}).Want(t, http.StatusCreated)
	res := e.Do(http.MethodGet, "/v1/group-posts/"+postID, w.bob.Token, nil).Want(t, http.StatusOK)
	e.Do(http.MethodPatch, "/v1/group-posts/"+postID, w.alice.Token, map[string]any{"resolved": true}, "If-Match", res.Header.Get("ETag")).
		Want(t, http.StatusForbidden)
	e.Do(http.MethodPatch, "/v1/group-posts/"+postID, w.bob.Token, map[string]any{"resolved": true}, "If-Match", res.Header.Get("ETag")).
		Want(t, http.StatusOK)
	for _, s := range []*stream{aliceStream, bobStream} {
		for {
			if d := nextOfType(t, s, "group.post.updated"); d["change"] == "resolved" {
				break
			}
		}
	}
	if p := e.Do(http.MethodGet, "/v1/group-posts/"+postID, w.alice.Token, nil).Want(t, http.StatusOK).Map(t); p["resolved"] != true ||
		len(p["replies"].([]any)) != 1 {
		t.Fatalf("post after resolving: %v", p)
	}

	// Wanda schedules a session and records attendance.
	sess := e.Do(http.MethodPost, g+"/sessions", w.wanda.Token, map[string]any{"starts_at": "2026-12-08T18:00:00Z", "place": "Library, room B"}).
		Want(t, http.StatusCreated).Map(t)["id"].(string)
	nextOfType(t, aliceStream, "group.session.scheduled")
	e.Do(http.MethodPut, "/v1/group-sessions/"+sess+"/rsvp", w.alice.Token, map[string]any{"response": "yes"}).Want(t, http.StatusOK)
	e.Do(http.MethodPut, "/v1/group-sessions/"+sess+"/attendance/"+w.alice.PersonID.String(), w.wanda.Token, map[string]any{"attended": true}).Want(t, http.StatusOK)
	e.Do(http.MethodPut, "/v1/group-sessions/"+sess+"/attendance/"+w.bob.PersonID.String(), w.wanda.Token, map[string]any{"attended": false}).Want(t, http.StatusOK)
	e.Do(http.MethodPut, "/v1/group-sessions/"+sess+"/attendance/"+w.bob.PersonID.String(), w.alice.Token, map[string]any{"attended": true}).Want(t, http.StatusForbidden)
	var sessions struct{ Items []map[string]any }
	e.Do(http.MethodGet, g+"/sessions", w.bob.Token, nil).Want(t, http.StatusOK).Decode(t, &sessions)
	if s := sessions.Items[0]; s["attended"] != 1.0 || s["my_attendance"] != false || s["rsvps"].(map[string]any)["yes"] != 1.0 {
		t.Fatalf("session as bob: %v", s)
	}

	// Alice leaves: her stream stops carrying the group's events, its pages 404 for her.
	e.Do(http.MethodDelete, g+"/members/"+w.alice.PersonID.String(), w.alice.Token, nil).Want(t, http.StatusNoContent)
	e.Do(http.MethodDelete, g+"/members/"+w.alice.PersonID.String(), w.alice.Token, nil).Want(t, http.StatusNoContent)
	nextOfType(t, bobStream, "group.member.left")
	e.Do(http.MethodPost, g+"/posts", w.bob.Token, map[string]any{"kind": "message", "body": "See you Tuesday"}).Want(t, http.StatusCreated)
	nextOfType(t, bobStream, "group.post.created")
	// A marker after the group's post: alice's next event must be it, not the post.
	e.Do(http.MethodPost, "/v1/groups/"+w.group+"/invitations", w.wanda.Token, map[string]any{"client_id": w.alice.ClientID}).Want(t, http.StatusCreated)
	if ev := nextEvent(aliceStream); ev.Type != "group.invitation" {
		t.Fatalf("alice's stream carried %s after she left, want the marker group.invitation next", ev.Type)
	}
	for _, p := range []string{g, g + "/members", g + "/goals", g + "/posts", g + "/sessions", gg, gg + "/check-ins", "/v1/group-posts/" + postID} {
		e.Do(http.MethodGet, p, w.alice.Token, nil).Want(t, http.StatusNotFound)
	}
	if body := string(e.Do(http.MethodGet, g+"/members", w.wanda.Token, nil).Want(t, http.StatusOK).Body); strings.Contains(body, w.alice.PersonID.String()) {
		t.Fatalf("alice still listed after leaving: %s", body)
	}
}
