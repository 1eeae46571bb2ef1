package api_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/waypoint-portal/waypoint/api"
	"github.com/waypoint-portal/waypoint/api/apitest"
	"github.com/waypoint-portal/waypoint/domain"
)

// Private goals (issue #11.4): a goal the client makes private is the
// client's alone, on every read path, at once, open event streams included.

// teamGoal creates a goal for owner as who and returns it.
func teamGoal(t *testing.T, e *apitest.Env, who, owner apitest.User, body map[string]any) goalView {
	t.Helper()
	if _, ok := body["title"]; !ok {
		body["title"] = "Find a stable place to live"
	}
	return decodeGoal(t, e.Do(http.MethodPost, goalsPath(owner), who.Token, body).Want(t, http.StatusCreated))
}

func patchTeamGoal(t *testing.T, e *apitest.Env, who apitest.User, id string, body any) *apitest.Resp {
	t.Helper()
	var v int64
	if err := e.DB.Raw(`SELECT version FROM goals WHERE id = ?`, id).Scan(&v).Error; err != nil {
		t.Fatal(err)
	}
	return e.Do(http.MethodPatch, goalPath(id), who.Token, body, "If-Match", fmt.Sprintf(`"%d"`, v))
}

// goalListed reports whether who's list of owner's goals holds id.
func goalListed(t *testing.T, e *apitest.Env, who, owner apitest.User, id string) bool {
	t.Helper()
	return slices.Contains(listIDs(t, e.Do(http.MethodGet, goalsPath(owner)+"?limit=100", who.Token, nil).Want(t, http.StatusOK)), id)
}

// goalHiddenFrom asserts that who meets the goal nowhere: 404 on it and its
// sub-resources (reads and writes alike), and not in the client's list.
func goalHiddenFrom(t *testing.T, e *apitest.Env, who, owner apitest.User, id string) {
	t.Helper()
	for _, p := range []string{"", "/history", "/check-ins"} {
		e.Do(http.MethodGet, goalPath(id)+p, who.Token, nil).Problem(t, http.StatusNotFound)
	}
	e.Do(http.MethodPost, goalPath(id)+"/steps", who.Token, map[string]any{"title": "x"}).Problem(t, http.StatusNotFound)
	e.Do(http.MethodPost, goalPath(id)+"/check-ins", who.Token, map[string]any{"rating": 3}).Problem(t, http.StatusNotFound)
	e.Do(http.MethodPatch, goalPath(id), who.Token, map[string]any{"title": "x"}, "If-Match", "*").Problem(t, http.StatusNotFound)
	if goalListed(t, e, who, owner, id) {
		t.Fatalf("%s still lists goal %s", who.Subject, id)
	}
}

func clientURL(u apitest.User) string { return "/v1/clients/" + u.ClientID.String() }

// nextEvent reads a stream up to its next event and returns it.
func nextEvent(s *stream) liveEvent {
	s.t.Helper()
	_, ev := s.Next()
	return ev
}

func TestPrivateGoalDisappearsForTheCareTeam(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	e := tm.e
	seedDirectory(t, e.Store)
	g := teamGoal(t, e, tm.alice, tm.alice, map[string]any{"title": "Leave my partner safely", "steps": []any{map[string]any{"title": "Pack a bag"}}})
	e.Do(http.MethodPost, goalPath(g.ID)+"/check-ins", tm.alice.Token, map[string]any{"rating": 5}).Want(t, http.StatusCreated)
	ref := newReferral(t, e, tm.wanda, tm.alice, map[string]any{"service_id": svcShelter.String(), "goal_id": g.ID})
	conv := createConversation(t, e, tm.alice, map[string]any{"subject": "Plan", "link": map[string]any{"kind": "goal", "id": g.ID}})
	other := teamGoal(t, e, tm.alice, tm.alice, map[string]any{"title": "Get a bank account"})
	if conv.Link == nil {
		t.Fatal("the client's own view of the conversation lost its link")
	}
	sw, sl, sa := openStream(t, e.URL, tm.wanda.Token, ""), openStream(t, e.URL, tm.will.Token, ""), openStream(t, e.URL, tm.alice.Token, "")
	sw.Start()
	sl.Start()
	sa.Start()
	e.Do(http.MethodGet, goalPath(g.ID), tm.wanda.Token, nil).Want(t, http.StatusOK)

	got := decodeGoal(t, patchTeamGoal(t, e, tm.alice, g.ID, map[string]any{"visibility": "private"}).Want(t, http.StatusOK))
	if got.Version != g.Version+2 { // the check-in bumped it once
		t.Fatalf("version %d after going private, want %d", got.Version, g.Version+2)
	}
	// The workers who saw it hear that it is gone, and nothing more.
	for _, s := range []*stream{sw, sl} {
		ev := nextEvent(s)
		if ev.Type != domain.EventGoalHidden || eventData[api.RecordHiddenData](t, ev).GoalID.String() != g.ID {
			t.Fatalf("first event after going private: %+v", ev)
		}
	}
	if ev := nextEvent(sa); ev.Type != domain.EventGoalUpdated || !slices.Contains(eventData[struct{ Fields []string }](t, ev).Fields, "visibility") {
		t.Fatalf("the client's event: %+v", ev)
	}

	for _, w := range []apitest.User{tm.wanda, tm.will} {
		goalHiddenFrom(t, e, w, tm.alice, g.ID)
		// A referral and a conversation linked to it show no link.
		if gid := referralGoal(t, e, w, ref.ID); gid != nil {
			t.Fatalf("%s sees the referral's goal %v", w.Subject, gid)
		}
		var refs api.Page[api.Referral]
		e.Do(http.MethodGet, clientURL(tm.alice)+"/referrals", w.Token, nil).Want(t, http.StatusOK).Decode(t, &refs)
		for _, r := range refs.Items {
			if r.GoalID != nil {
				t.Fatalf("%s's referral list shows goal %s", w.Subject, r.GoalID)
			}
		}
		for _, c := range listConversations(t, e, w, "").Items {
			if c.ID == conv.ID && c.Link != nil {
				t.Fatalf("%s sees the conversation's link %+v", w.Subject, c.Link)
			}
		}
		// Linking something new to it reads as "no such goal".
		p := e.Do(http.MethodPost, clientURL(tm.alice)+"/referrals", w.Token, map[string]any{"service_id": svcBallard.String(), "goal_id": g.ID}).
			Problem(t, http.StatusUnprocessableEntity)
		if !apitest.HasErrorAt(p, "body.goal_id") {
			t.Fatalf("linking a private goal: %v", p)
		}
		p = e.Do(http.MethodPost, "/v1/conversations", w.Token, map[string]any{"client_id": tm.alice.ClientID, "link": map[string]any{"kind": "goal", "id": g.ID}}).
			Problem(t, http.StatusUnprocessableEntity)
		if !apitest.HasErrorAt(p, "body.link.id") {
			t.Fatalf("linking a private goal to a conversation: %v", p)
		}
	}
	// The client still sees every link.
	if gid := referralGoal(t, e, tm.alice, ref.ID); gid != g.ID {
		t.Fatalf("the client's referral has goal %v, want %s", gid, g.ID)
	}
	for _, c := range listConversations(t, e, tm.alice, "").Items {
		if c.ID == conv.ID && (c.Link == nil || c.Link.ID.String() != g.ID) {
			t.Fatalf("the client's conversation lost its link: %+v", c.Link)
		}
	}

	// A worker's referral change: unlinking what they cannot see changes
	// nothing; relinking it elsewhere is the client's; the event names no goal.
	r := decodeReferral(t, patchReferral(e, tm.wanda, ref, map[string]any{"goal_id": nil, "note": "Call first"}).Want(t, http.StatusOK))
	p := patchReferral(e, tm.wanda, r, map[string]any{"goal_id": other.ID}).Problem(t, http.StatusForbidden)
	if !apitest.HasErrorAt(p, "body.goal_id") {
		t.Fatalf("relinking: %v", p)
	}
	if gid := referralGoal(t, e, tm.alice, ref.ID); gid != g.ID {
		t.Fatalf("a worker's patch changed the client's private link to %v", gid)
	}
	for _, s := range []*stream{sw, sl, sa} {
		if ev := nextEvent(s); ev.Type != domain.EventReferralUpdated || eventData[map[string]any](t, ev)["goal_id"] != nil {
			t.Fatalf("referral event %+v", ev)
		}
	}

	// Live: the client's changes to the private goal reach only her; a
	// message afterwards is the next thing the workers hear.
	e.Do(http.MethodPost, goalPath(g.ID)+"/check-ins", tm.alice.Token, map[string]any{"rating": 6}).Want(t, http.StatusCreated)
	postMessage(t, e, tm.alice, conv.ID, "the next thing")
	if ev := nextEvent(sa); ev.Type != domain.EventGoalUpdated || ev.SubjectID.String() != g.ID {
		t.Fatalf("the client's check-in event: %+v", ev)
	}
	for _, s := range []*stream{sw, sl} {
		if ev := nextEvent(s); ev.Type != domain.EventMessageCreated {
			t.Fatalf("a worker's next event is %+v, want the message", ev)
		}
	}
	// Replaying wanda's stream from the start: none of the goal's events,
	// not even those from before it went private.
	sr := openStream(t, e.URL, tm.wanda.Token, "", "Last-Event-ID", "0")
	for {
		ev := nextEvent(sr)
		if ev.SubjectID != nil && ev.SubjectID.String() == g.ID && ev.Type != domain.EventGoalHidden {
			t.Fatalf("replay carries %s of the private goal", ev.Type)
		}
		if ev.Type == domain.EventMessageCreated {
			break
		}
	}

	// Shared again: it is back for the team, live.
	patchTeamGoal(t, e, tm.alice, g.ID, map[string]any{"visibility": "care_team"}).Want(t, http.StatusOK)
	if ev := nextEvent(sw); ev.Type != domain.EventGoalUpdated || ev.SubjectID.String() != g.ID {
		t.Fatalf("wanda's event after sharing again: %+v", ev)
	}
	if gv := getGoalAs(t, e, tm.wanda, g.ID); gv.Title != "Leave my partner safely" {
		t.Fatalf("shared again: %+v", gv)
	}
	// Bob's worker never saw anything of alice's.
	e.Do(http.MethodGet, goalPath(g.ID), tm.oscar.Token, nil).Problem(t, http.StatusNotFound)
}

// referralGoal is the goal_id of a referral as who reads it.
func referralGoal(t *testing.T, e *apitest.Env, who apitest.User, id string) any {
	t.Helper()
	return e.Do(http.MethodGet, "/v1/referrals/"+id, who.Token, nil).Want(t, http.StatusOK).Map(t)["goal_id"]
}

func getGoalAs(t *testing.T, e *apitest.Env, who apitest.User, id string) goalView {
	t.Helper()
	return decodeGoal(t, e.Do(http.MethodGet, goalPath(id), who.Token, nil).Want(t, http.StatusOK))
}

// Only the client decides who sees their goals: a worker setting visibility
// or sensitivity is 403 naming the field, and nothing changes.
func TestOnlyTheClientSetsVisibilityAndSensitivity(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	e := tm.e
	count := func() int64 { return countRows(t, e, `SELECT count(*) FROM goals`) }
	before := count()
	for field, v := range map[string]any{"visibility": "private", "sensitivity": "sud"} {
		p := e.Do(http.MethodPost, goalsPath(tm.alice), tm.wanda.Token, map[string]any{"title": "Go to meetings", field: v}).Problem(t, http.StatusForbidden)
		if !apitest.HasErrorAt(p, "body."+field) {
			t.Fatalf("worker creating with %s: %v", field, p)
		}
	}
	if count() != before {
		t.Fatal("a refused create wrote a goal")
	}
	// A worker's proposal is shared with the care team and unlabelled.
	prop := teamGoal(t, e, tm.wanda, tm.alice, map[string]any{"title": "Go to meetings", "visibility": "care_team", "sensitivity": nil})
	if prop.LifecycleStatus != "proposed" {
		t.Fatalf("proposal %+v", prop)
	}
	var labels struct {
		Visibility  string  `json:"visibility"`
		Sensitivity *string `json:"sensitivity"`
	}
	e.Do(http.MethodGet, goalPath(prop.ID), tm.alice.Token, nil).Want(t, http.StatusOK).Decode(t, &labels)
	if labels.Visibility != "care_team" || labels.Sensitivity != nil {
		t.Fatalf("a proposal's labels: %+v", labels)
	}
	for _, body := range []map[string]any{{"visibility": "private"}, {"visibility": "care_team"}, {"sensitivity": "sud"},
		{"sensitivity": nil}, {"title": "Meetings", "visibility": "private"}} {
		field := "visibility"
		if _, ok := body["sensitivity"]; ok {
			field = "sensitivity"
		}
		p := patchTeamGoal(t, e, tm.wanda, prop.ID, body).Problem(t, http.StatusForbidden)
		if !apitest.HasErrorAt(p, "body."+field) {
			t.Fatalf("worker patching %v: %v", body, p)
		}
		// Someone who cannot see the goal gets 404, not 403.
		patchTeamGoal(t, e, tm.oscar, prop.ID, body).Problem(t, http.StatusNotFound)
	}
	if g := getGoalAs(t, e, tm.alice, prop.ID); g.Version != prop.Version || g.Title != prop.Title {
		t.Fatalf("refused patches changed the goal: %+v", g)
	}
	// The client may, on create and by patch; both are in the history.
	own := teamGoal(t, e, tm.alice, tm.alice, map[string]any{"visibility": "private", "sensitivity": "sud"})
	patchTeamGoal(t, e, tm.alice, prop.ID, map[string]any{"visibility": "private"}).Want(t, http.StatusOK)
	patchTeamGoal(t, e, tm.alice, prop.ID, map[string]any{"visibility": "care_team", "sensitivity": "sud"}).Want(t, http.StatusOK)
	patchTeamGoal(t, e, tm.alice, prop.ID, map[string]any{"sensitivity": nil}).Want(t, http.StatusOK)
	var fields []string
	for _, h := range historyOf(t, e, tm.alice, prop.ID) {
		fields = append(fields, h.Field)
	}
	if want := []string{"goal", "visibility", "visibility", "sensitivity", "sensitivity"}; !slices.Equal(fields, want) {
		t.Fatalf("history fields %v, want %v", fields, want)
	}
	goalHiddenFrom(t, e, tm.wanda, tm.alice, own.ID)
}

func historyOf(t *testing.T, e *apitest.Env, who apitest.User, id string) []historyView {
	t.Helper()
	var page struct {
		Items []historyView `json:"items"`
	}
	e.Do(http.MethodGet, goalPath(id)+"/history?limit=100", who.Token, nil).Want(t, http.StatusOK).Decode(t, &page)
	return page.Items
}

// An Idempotency-Key replay of a worker's proposal is re-authorized: once
// the client made the goal private, the replay is 404 like a fresh read.
func TestReplayOfAGoalNowPrivateIsRefused(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	e := tm.e
	body := map[string]any{"title": "Open a savings account"}
	var g goalView
	e.Do(http.MethodPost, goalsPath(tm.alice), tm.wanda.Token, body, "Idempotency-Key", "prop-1").Want(t, http.StatusCreated).Decode(t, &g)
	if r := e.Do(http.MethodPost, goalsPath(tm.alice), tm.wanda.Token, body, "Idempotency-Key", "prop-1").Want(t, http.StatusCreated); r.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatal("not a replay")
	}
	patchTeamGoal(t, e, tm.alice, g.ID, map[string]any{"visibility": "private"}).Want(t, http.StatusOK)
	e.Do(http.MethodPost, goalsPath(tm.alice), tm.wanda.Token, body, "Idempotency-Key", "prop-1").Problem(t, http.StatusNotFound)
}

// Hostile and malformed values of the new fields are 422 naming the field,
// never 5xx, and write nothing.
func TestVisibilityAndSensitivityInputIsChecked(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	e := tm.e
	g := teamGoal(t, e, tm.alice, tm.alice, map[string]any{})
	// Raw JSON values: wrong codes and case, NUL, a lone surrogate, other
	// types, a huge string.
	bad := []string{`"PRIVATE"`, `"secret"`, `""`, `"private\u0000"`, `"\ud800"`, `7`, `true`, `["private"]`, `{}`,
		`"` + strings.Repeat("a", 70000) + `"`}
	before := countRows(t, e, `SELECT count(*) FROM goals`)
	for _, field := range []string{"visibility", "sensitivity"} {
		for _, v := range bad {
			p := e.Do(http.MethodPost, goalsPath(tm.alice), tm.alice.Token, `{"title":"x","`+field+`":`+v+`}`).Problem(t, http.StatusUnprocessableEntity)
			if !apitest.HasErrorAt(p, "body."+field) {
				t.Fatalf("create with %s=%.20s: %v", field, v, p)
			}
			patchTeamGoal(t, e, tm.alice, g.ID, `{"`+field+`":`+v+`}`).Problem(t, http.StatusUnprocessableEntity)
		}
	}
	patchTeamGoal(t, e, tm.alice, g.ID, map[string]any{"visibility": nil}).Problem(t, http.StatusUnprocessableEntity)
	for _, v := range []any{"SUD", "hiv", 1} {
		e.Do(http.MethodPost, "/v1/conversations", tm.alice.Token, map[string]any{"sensitivity": v}).Problem(t, http.StatusUnprocessableEntity)
	}
	if countRows(t, e, `SELECT count(*) FROM goals`) != before || countRows(t, e, `SELECT count(*) FROM conversations`) != 0 {
		t.Fatal("refused input wrote something")
	}
	if got := getGoalAs(t, e, tm.alice, g.ID); got.Version != g.Version {
		t.Fatalf("refused patches changed the goal: %+v", got)
	}
	// Path parameters of the consent operations.
	for _, p := range []string{"/consents/sud/not-a-uuid", "/consents/sud/00000000-0000-0000-0000-000000000000", "/consents/hiv/" + tm.wanda.PersonID.String()} {
		r := e.Do(http.MethodPut, clientURL(tm.alice)+p, tm.alice.Token, nil)
		if r.Status != http.StatusUnprocessableEntity && r.Status != http.StatusNotFound {
			t.Fatalf("PUT %s: %d %s", p, r.Status, r.Body)
		}
	}
	if n := countRows(t, e, `SELECT count(*) FROM sensitivity_consents`); n != 0 {
		t.Fatalf("%d consents after refused calls", n)
	}
}
