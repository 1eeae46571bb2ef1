package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/waypoint-portal/waypoint/api/apitest"
	"github.com/waypoint-portal/waypoint/domain"
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
	t.Parallel()
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

// The visibility matrix: member, other member, invited-not-accepted,
// former member, facilitator, worker of a member who does not facilitate,
// administrator and other client, over every group read and the group's
// events.
func TestGroupVisibilityMatrix(t *testing.T) {
	t.Parallel()
	w := newGroupWorld(t)
	e := w.e
	g := "/v1/groups/" + w.group
	w.join(t, w.alice, "Ali")
	w.join(t, w.bob, "Bob")
	w.invite(t, w.carol)    // invited, never answers
	w.join(t, w.dan, "Dan") // then leaves
	e.Do(http.MethodDelete, g+"/members/"+w.dan.PersonID.String(), w.dan.Token, nil).Want(t, http.StatusNoContent)
	goal := e.Do(http.MethodPost, g+"/goals", w.alice.Token, map[string]any{"title": "Save $50 this month"}).Want(t, http.StatusCreated).Map(t)["id"].(string)
	e.Do(http.MethodPost, "/v1/group-goals/"+goal+"/join", w.alice.Token, nil).Want(t, http.StatusOK)
	e.Do(http.MethodPost, "/v1/group-goals/"+goal+"/check-ins", w.alice.Token, map[string]any{"rating": 5}).Want(t, http.StatusCreated)
	post := e.Do(http.MethodPost, g+"/posts", w.alice.Token, map[string]any{"kind": "ask", "body": "Anyone know a landlord who takes vouchers?"}).
		Want(t, http.StatusCreated).Map(t)["id"].(string)
	session := e.Do(http.MethodPost, g+"/sessions", w.wanda.Token, map[string]any{"starts_at": "2026-12-08T18:00:00Z"}).
		Want(t, http.StatusCreated).Map(t)["id"].(string)

	type actor struct {
		name string
		u    apitest.User
		// group is the status of GET /v1/groups/{id}; content that of its members, goals, posts, sessions.
		group, content int
		listed         bool // whether GET /v1/groups lists it
	}
	actors := []actor{
		{"member", w.alice, 200, 200, true},
		{"other member", w.bob, 200, 200, true},
		{"invited, not accepted", w.carol, 404, 404, false},
		{"former member", w.dan, 404, 404, false},
		{"facilitator", w.wanda, 200, 200, true},
		{"worker of a member, not facilitating", w.will, 404, 404, false},
		{"administrator", w.adam, 200, 403, true},
		{"other client", w.eve, 404, 404, false},
	}
	reads := []string{g + "/members", g + "/goals", g + "/posts", g + "/sessions", "/v1/group-goals/" + goal,
		"/v1/group-goals/" + goal + "/check-ins", "/v1/group-posts/" + post}
	streams := map[string]*stream{}
	for _, a := range actors {
		e.Do(http.MethodGet, g, a.u.Token, nil).Want(t, a.group)
		for _, p := range reads {
			if res := e.Do(http.MethodGet, p, a.u.Token, nil); res.Status != a.content {
				t.Errorf("%s: GET %s = %d, want %d: %s", a.name, p, res.Status, a.content, res.Body)
			}
		}
		var page struct{ Items []map[string]any }
		e.Do(http.MethodGet, "/v1/groups", a.u.Token, nil).Want(t, http.StatusOK).Decode(t, &page)
		if listed := len(page.Items) == 1; listed != a.listed {
			t.Errorf("%s: GET /v1/groups lists %d groups, want listed=%v", a.name, len(page.Items), a.listed)
		}
		// Writes: only those who see the content get past 404 (the administrator 403).
		if a.content != 200 {
			want := a.content
			e.Do(http.MethodPost, g+"/posts", a.u.Token, map[string]any{"kind": "message", "body": "hi"}).Want(t, want)
			e.Do(http.MethodPost, "/v1/group-posts/"+post+"/replies", a.u.Token, map[string]any{"body": "hi"}).Want(t, want)
			e.Do(http.MethodPost, "/v1/group-posts/"+post+"/reports", a.u.Token, map[string]any{"reason": "x"}).Want(t, want)
			e.Do(http.MethodPost, g+"/goals", a.u.Token, map[string]any{"title": "x"}).Want(t, want)
			e.Do(http.MethodPost, "/v1/group-goals/"+goal+"/join", a.u.Token, nil).Want(t, want)
			e.Do(http.MethodPost, "/v1/group-goals/"+goal+"/check-ins", a.u.Token, map[string]any{"rating": 1}).Want(t, want)
			e.Do(http.MethodPut, "/v1/group-sessions/"+session+"/rsvp", a.u.Token, map[string]any{"response": "yes"}).Want(t, want)
			e.Do(http.MethodPut, "/v1/group-sessions/"+session+"/attendance/"+w.alice.PersonID.String(), a.u.Token, map[string]any{"attended": true}).Want(t, want)
			e.Do(http.MethodPost, g+"/invitations", a.u.Token, map[string]any{"client_id": w.eve.ClientID}).Want(t, want)
			e.Do(http.MethodDelete, g+"/members/"+w.alice.PersonID.String(), a.u.Token, nil, "If-Match", "*").Want(t, want)
		}
		streams[a.name] = openStream(t, e.URL, a.u.Token, "")
		streams[a.name].Start()
	}
	// A post on the board reaches the members and the facilitator, no one else.
	e.Do(http.MethodPost, g+"/posts", w.bob.Token, map[string]any{"kind": "offer", "body": "Spare bus passes"}).Want(t, http.StatusCreated)
	// Live delivery and replay read the same re-authorized outbox
	// (eventSelect): what each person may receive, the administrator included.
	e.Positioned()
	// Replay says the same for everyone, the administrator included.
	for _, a := range actors {
		rp, err := e.Store.ReplayEvents(t.Context(), domain.Actor{PersonID: a.u.PersonID}, 0, time.Hour, 1000)
		if err != nil {
			t.Fatal(err)
		}
		posts := 0
		for _, ev := range rp.Events {
			if ev.Type == "group.post.created" {
				posts++
			}
		}
		if want := map[bool]int{true: 2, false: 0}[a.content == 200]; posts != want {
			var types []string
			for _, ev := range rp.Events {
				types = append(types, ev.Type)
			}
			t.Errorf("%s: replay holds %d group.post.created, want %d (resync %v, events %v)", a.name, posts, want, rp.Resync, types)
		}
	}
}

// A group goal's aggregate stays null while fewer than 3 take part or have
// checked in; then it counts improving, steady and worsening between each
// participant's last two check-ins and gives the mean of their latest.
func TestGroupGoalAggregateSuppressedBelowThree(t *testing.T) {
	t.Parallel()
	w := newGroupWorld(t)
	e := w.e
	for _, c := range []struct {
		u    apitest.User
		name string
	}{{w.alice, "Ali"}, {w.bob, "Bob"}, {w.carol, "Carol"}, {w.dan, "Dan"}} {
		w.join(t, c.u, c.name)
	}
	gg := "/v1/group-goals/" + e.Do(http.MethodPost, "/v1/groups/"+w.group+"/goals", w.wanda.Token, map[string]any{"title": "Cook at home"}).
		Want(t, http.StatusCreated).Map(t)["id"].(string)
	progress := func() (float64, map[string]any) {
		g := e.Do(http.MethodGet, gg, w.dan.Token, nil).Want(t, http.StatusOK).Map(t)
		return g["participants"].(float64), g["progress"].(map[string]any)
	}
	null := func(when string) {
		_, p := progress()
		for k, v := range p {
			if v != nil {
				t.Fatalf("%s: progress.%s = %v, want null", when, k, v)
			}
		}
	}
	checkIn := func(u apitest.User, r int) {
		e.Do(http.MethodPost, gg+"/check-ins", u.Token, map[string]any{"rating": r}).Want(t, http.StatusCreated)
	}
	// dan does not take part: he is not counted, and his view is the group's.
	for _, u := range []apitest.User{w.alice, w.bob} {
		e.Do(http.MethodPost, gg+"/join", u.Token, nil).Want(t, http.StatusOK)
	}
	checkIn(w.alice, 3)
	checkIn(w.bob, 5)
	null("2 taking part")
	e.Do(http.MethodPost, gg+"/join", w.carol.Token, nil).Want(t, http.StatusOK)
	if n, _ := progress(); n != 3 {
		t.Fatalf("participants = %v, want 3", n)
	}
	null("3 taking part, 2 checked in")
	checkIn(w.carol, 8)
	checkIn(w.alice, 6) // improving
	checkIn(w.bob, 2)   // worsening; carol has one check-in: steady
	_, p := progress()
	if p["improving"] != 1.0 || p["worsening"] != 1.0 || p["steady"] != 1.0 || p["mean_latest_rating"] != 5.3 {
		t.Fatalf("progress with 3 reporting: %v", p)
	}
	// One leaves the goal: below 3 again, hidden again.
	e.Do(http.MethodPost, gg+"/leave", w.carol.Token, nil).Want(t, http.StatusOK)
	null("carol left the goal")
	// One leaves the group: the same.
	e.Do(http.MethodPost, gg+"/join", w.carol.Token, nil).Want(t, http.StatusOK)
	e.Do(http.MethodDelete, "/v1/groups/"+w.group+"/members/"+w.carol.PersonID.String(), w.carol.Token, nil).Want(t, http.StatusNoContent)
	null("carol left the group")
	if n, _ := progress(); n != 2 {
		t.Fatalf("participants after carol left the group = %v, want 2", n)
	}
	// Nobody's ratings are visible without share_my_progress.
	var page struct{ Items []map[string]any }
	e.Do(http.MethodGet, gg+"/check-ins", w.dan.Token, nil).Want(t, http.StatusOK).Decode(t, &page)
	if len(page.Items) != 0 {
		t.Fatalf("dan sees %v", page.Items)
	}
}

// A facilitator removes a member with a reason: access ends at once
// (requests and the open stream), and the member sees the reason.
func TestGroupRemovalCutsAccessAtOnce(t *testing.T) {
	t.Parallel()
	w := newGroupWorld(t)
	e := w.e
	g := "/v1/groups/" + w.group
	w.join(t, w.alice, "Ali")
	w.join(t, w.bob, "Bob")
	s := openStream(t, e.URL, w.bob.Token, "")
	s.Start()
	e.Do(http.MethodDelete, g+"/members/"+w.bob.PersonID.String(), w.alice.Token, nil, "If-Match", "*").Want(t, http.StatusForbidden)
	e.Do(http.MethodDelete, g+"/members/"+w.bob.PersonID.String(), w.wanda.Token, nil).Want(t, http.StatusUnprocessableEntity)
	e.Do(http.MethodPost, g+"/posts", w.alice.Token, map[string]any{"kind": "message", "body": "before"}).Want(t, http.StatusCreated)
	nextOfType(t, s, "group.post.created")
	// A post written before the removal but not yet delivered is not delivered after it either.
	e.Do(http.MethodDelete, g+"/members/"+w.bob.PersonID.String()+"?reason=Shared+someone%27s+address", w.wanda.Token, nil).
		Want(t, http.StatusNoContent)
	e.Do(http.MethodPost, g+"/posts", w.alice.Token, map[string]any{"kind": "message", "body": "after"}).Want(t, http.StatusCreated)
	for _, p := range []string{g, g + "/members", g + "/posts", g + "/goals", g + "/sessions"} {
		e.Do(http.MethodGet, p, w.bob.Token, nil).Want(t, http.StatusNotFound)
	}
	e.Do(http.MethodPost, g+"/posts", w.bob.Token, map[string]any{"kind": "message", "body": "hello?"}).Want(t, http.StatusNotFound)
	var invs struct{ Items []map[string]any }
	e.Do(http.MethodGet, "/v1/group-invitations", w.bob.Token, nil).Want(t, http.StatusOK).Decode(t, &invs)
	if len(invs.Items) != 1 || invs.Items[0]["status"] != "removed" || invs.Items[0]["removed_reason"] != "Shared someone's address" {
		t.Fatalf("bob's invitations after removal: %v", invs.Items)
	}
	// Marker: a new invitation (keyed by bob's client id) is the next thing bob hears.
	e.Do(http.MethodPost, g+"/invitations", w.wanda.Token, map[string]any{"client_id": w.bob.ClientID}).Want(t, http.StatusCreated)
	if ev := nextEvent(s); ev.Type != "group.invitation" {
		t.Fatalf("bob's stream carried %s after his removal, want the marker group.invitation", ev.Type)
	}
}

// No member's client record, goals or contact details are reachable
// through any group path: a member's own goal linked to a group goal, their
// profile and their goals never appear in what other members, or a
// facilitator, read there; a facilitator sees client_id only for clients
// of their own caseload, and that sighting is in the client's access log.
func TestGroupPathsCarryNoClientRecord(t *testing.T) {
	t.Parallel()
	w := newGroupWorld(t)
	e := w.e
	g := "/v1/groups/" + w.group
	secret := e.Do(http.MethodPost, clientURL(w.alice)+"/goals", w.alice.Token, map[string]any{"title": "Leave my partner safely"}).
		Want(t, http.StatusCreated).Map(t)["id"].(string)
	e.Do(http.MethodPatch, clientURL(w.alice), w.alice.Token, map[string]any{"strengths": []string{"stubborn-secret-strength"}},
		"If-Match", fmt.Sprintf(`"%v"`, e.Do(http.MethodGet, clientURL(w.alice), w.alice.Token, nil).Want(t, http.StatusOK).Map(t)["version"])).
		Want(t, http.StatusOK)
	w.join(t, w.alice, "Ali")
	w.join(t, w.bob, "Bob")
	goal := e.Do(http.MethodPost, g+"/goals", w.alice.Token, map[string]any{"title": "Save $50 this month"}).Want(t, http.StatusCreated).Map(t)["id"].(string)
	e.Do(http.MethodPost, "/v1/group-goals/"+goal+"/join", w.alice.Token, map[string]any{"goal_id": secret}).Want(t, http.StatusOK)
	e.Do(http.MethodPost, "/v1/group-goals/"+goal+"/join", w.bob.Token, map[string]any{"goal_id": secret}).Want(t, http.StatusUnprocessableEntity)
	e.Do(http.MethodPost, "/v1/group-goals/"+goal+"/check-ins", w.alice.Token, map[string]any{"rating": 4}).Want(t, http.StatusCreated)
	post := e.Do(http.MethodPost, g+"/posts", w.alice.Token, map[string]any{"kind": "offer", "body": "Rides"}).Want(t, http.StatusCreated).Map(t)["id"].(string)
	paths := []string{"/v1/groups", g, g + "/members", g + "/goals", g + "/posts", g + "/sessions", "/v1/group-goals/" + goal,
		"/v1/group-goals/" + goal + "/check-ins", "/v1/group-posts/" + post}
	for _, u := range []apitest.User{w.bob, w.wanda, w.will} {
		for _, p := range paths {
			body := string(e.Do(http.MethodGet, p, u.Token, nil).Body)
			for _, leak := range []string{secret, "Leave my partner", "stubborn-secret-strength", "alice"} {
				if strings.Contains(body, leak) {
					t.Errorf("GET %s as %s carries %q: %s", p, u.Subject, leak, body)
				}
			}
			if u.PersonID != w.wanda.PersonID && strings.Contains(body, w.alice.ClientID.String()) {
				t.Errorf("GET %s as %s carries alice's client id", p, u.Subject)
			}
		}
	}
	// The facilitator, on alice's care team, sees which client she is; alice's access log says so.
	var members struct{ Items []map[string]any }
	e.Do(http.MethodGet, g+"/members", w.wanda.Token, nil).Want(t, http.StatusOK).Decode(t, &members)
	if members.Items[0]["client_id"] != w.alice.ClientID.String() {
		t.Fatalf("the facilitator does not see alice's client id: %v", members.Items)
	}
	var log struct{ Items []map[string]any }
	e.Do(http.MethodGet, clientURL(w.alice)+"/access-log", w.alice.Token, nil).Want(t, http.StatusOK).Decode(t, &log)
	found := false
	for _, it := range log.Items {
		if it["resource"] == "group_membership" && it["action"] == "read" && it["resource_id"] == w.group {
			found = true
		}
	}
	if !found {
		t.Fatalf("alice's access log does not show the facilitator's sighting: %v", log.Items)
	}
}
