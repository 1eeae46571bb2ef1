package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/waypoint-portal/waypoint/api"
	"github.com/waypoint-portal/waypoint/api/apitest"
	"github.com/waypoint-portal/waypoint/domain"
)

// Sensitive records (issue #11.4, 42 CFR Part 2 in spirit): a goal or
// conversation labelled sud is visible to the client and to the care-team
// workers the client consented to, and to nobody else; responses carrying
// one have the redisclosure notice.

const redisclosureHeader = "Waypoint-Redisclosure"

func consentPath(client, worker apitest.User) string {
	return clientURL(client) + "/consents/sud/" + worker.PersonID.String()
}

// wantNotice asserts the redisclosure header is there exactly when want.
func wantNotice(t *testing.T, r *apitest.Resp, want bool, what string) {
	t.Helper()
	got := r.Header.Get(redisclosureHeader)
	switch {
	case want && got != domain.RedisclosureNotice:
		t.Fatalf("%s: redisclosure header %q, want the notice", what, got)
	case !want && got != "":
		t.Fatalf("%s: redisclosure header %q on a response without sud records", what, got)
	}
}

func consentIDs(t *testing.T, e *apitest.Env, who, client apitest.User) []string {
	t.Helper()
	var cs api.Consents
	e.Do(http.MethodGet, clientURL(client)+"/consents", who.Token, nil).Want(t, http.StatusOK).Decode(t, &cs)
	out := []string{}
	for _, c := range cs.Items {
		out = append(out, c.PersonID.String())
	}
	return out
}

// The story: Alice marks her recovery goal sud and consents for
// Wanda only; Will, also on her team, sees nothing of it.
func TestSudGoalOnlyForConsentedWorkers(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	e := tm.e
	seedDirectory(t, e.Store)
	plain := teamGoal(t, e, tm.alice, tm.alice, map[string]any{"title": "Find work", "category": "employment"})
	r := e.Do(http.MethodPost, goalsPath(tm.alice), tm.alice.Token, map[string]any{"title": "Stay in recovery", "sensitivity": "sud",
		"steps": []any{map[string]any{"title": "Weekly meeting"}}}).Want(t, http.StatusCreated)
	wantNotice(t, r, true, "creating a sud goal")
	sud := decodeGoal(t, r)
	wantNotice(t, e.Do(http.MethodPost, goalPath(sud.ID)+"/check-ins", tm.alice.Token, map[string]any{"rating": 7}).Want(t, http.StatusCreated), true, "a check-in")
	ref := newReferral(t, e, tm.alice, tm.alice, map[string]any{"service_id": svcYouth.String(), "goal_id": sud.ID})
	sw, sl := openStream(t, e.URL, tm.wanda.Token, ""), openStream(t, e.URL, tm.will.Token, "")
	sw.Start()
	sl.Start()

	// Before any consent, no worker sees it.
	for _, w := range []apitest.User{tm.wanda, tm.will} {
		goalHiddenFrom(t, e, w, tm.alice, sud.ID)
		if gid := referralGoal(t, e, w, ref.ID); gid != nil {
			t.Fatalf("%s sees the referral's sud goal", w.Subject)
		}
	}
	// Consent for Wanda: 201, then 200 (idempotent).
	var c api.Consent
	e.Do(http.MethodPut, consentPath(tm.alice, tm.wanda), tm.alice.Token, nil).Want(t, http.StatusCreated).Decode(t, &c)
	if c.Label != "sud" || c.PersonID != tm.wanda.PersonID || !c.OnCareTeam || c.DisplayName == "" {
		t.Fatalf("consent %+v", c)
	}
	e.Do(http.MethodPut, consentPath(tm.alice, tm.wanda), tm.alice.Token, nil).Want(t, http.StatusOK)

	// Wanda sees it on every read path, each with the notice.
	g := e.Do(http.MethodGet, goalPath(sud.ID), tm.wanda.Token, nil).Want(t, http.StatusOK)
	wantNotice(t, g, true, "wanda's get")
	for _, p := range []string{"/history", "/check-ins"} {
		wantNotice(t, e.Do(http.MethodGet, goalPath(sud.ID)+p, tm.wanda.Token, nil).Want(t, http.StatusOK), true, "wanda's "+p)
	}
	wantNotice(t, e.Do(http.MethodPost, goalPath(sud.ID)+"/steps", tm.wanda.Token, map[string]any{"title": "Call sponsor"}).
		Want(t, http.StatusCreated), true, "wanda's step")
	if gid := referralGoal(t, e, tm.wanda, ref.ID); gid != sud.ID {
		t.Fatalf("wanda's referral goal %v", gid)
	}
	list := e.Do(http.MethodGet, goalsPath(tm.alice), tm.wanda.Token, nil).Want(t, http.StatusOK)
	wantNotice(t, list, true, "wanda's list")
	if ids := listIDs(t, list); !slices.Equal(ids, []string{plain.ID, sud.ID}) {
		t.Fatalf("wanda's list %v", ids)
	}
	// Exactly when a sud record is in the response: not for the plain goal,
	// nor for a page without the sud goal.
	wantNotice(t, e.Do(http.MethodGet, goalPath(plain.ID), tm.wanda.Token, nil).Want(t, http.StatusOK), false, "the plain goal")
	wantNotice(t, e.Do(http.MethodGet, goalPath(plain.ID)+"/history", tm.wanda.Token, nil).Want(t, http.StatusOK), false, "the plain history")
	wantNotice(t, e.Do(http.MethodGet, goalsPath(tm.alice)+"?category=employment", tm.wanda.Token, nil).Want(t, http.StatusOK), false, "a page without it")

	// Will, on the same team without consent: nothing.
	goalHiddenFrom(t, e, tm.will, tm.alice, sud.ID)
	willList := e.Do(http.MethodGet, goalsPath(tm.alice), tm.will.Token, nil).Want(t, http.StatusOK)
	wantNotice(t, willList, false, "will's list")
	if ids := listIDs(t, willList); !slices.Equal(ids, []string{plain.ID}) {
		t.Fatalf("will's list %v", ids)
	}
	if gid := referralGoal(t, e, tm.will, ref.ID); gid != nil {
		t.Fatalf("will sees the referral's sud goal")
	}
	// Live: alice's check-in reaches wanda; will's next event is the plain goal's.
	e.Do(http.MethodPost, goalPath(sud.ID)+"/check-ins", tm.alice.Token, map[string]any{"rating": 8}).Want(t, http.StatusCreated)
	e.Do(http.MethodPost, goalPath(plain.ID)+"/check-ins", tm.alice.Token, map[string]any{"rating": 4}).Want(t, http.StatusCreated)
	// Wanda hears her own step, then both check-ins.
	for _, want := range []string{sud.ID, sud.ID, plain.ID} {
		if ev := nextEvent(sw); ev.Type != domain.EventGoalUpdated || ev.SubjectID.String() != want {
			t.Fatalf("wanda's event %+v, want goal.updated of %s", ev, want)
		}
	}
	if ev := nextEvent(sl); ev.Type != domain.EventGoalUpdated || ev.SubjectID.String() != plain.ID {
		t.Fatalf("will's next event is %+v, want the plain goal's", ev)
	}

	// Who sees which consents, and who may change them.
	if ids := consentIDs(t, e, tm.alice, tm.alice); !slices.Equal(ids, []string{tm.wanda.PersonID.String()}) {
		t.Fatalf("alice's consents %v", ids)
	}
	if ids := consentIDs(t, e, tm.wanda, tm.alice); !slices.Equal(ids, []string{tm.wanda.PersonID.String()}) {
		t.Fatalf("wanda's view of the consents %v", ids)
	}
	if ids := consentIDs(t, e, tm.will, tm.alice); len(ids) != 0 {
		t.Fatalf("will's view of the consents %v", ids)
	}
	for _, u := range []apitest.User{tm.oscar, tm.adam, tm.bob} {
		e.Do(http.MethodGet, clientURL(tm.alice)+"/consents", u.Token, nil).Problem(t, http.StatusNotFound)
		e.Do(http.MethodPut, consentPath(tm.alice, tm.will), u.Token, nil).Problem(t, http.StatusNotFound)
	}
	e.Do(http.MethodPut, consentPath(tm.alice, tm.will), tm.wanda.Token, nil).Problem(t, http.StatusForbidden)
	e.Do(http.MethodDelete, consentPath(tm.alice, tm.wanda), tm.will.Token, nil).Problem(t, http.StatusForbidden)
	// Only people on the care team can be given consent.
	for _, u := range []apitest.User{tm.oscar, tm.bob, tm.adam} {
		p := e.Do(http.MethodPut, consentPath(tm.alice, u), tm.alice.Token, nil).Problem(t, http.StatusUnprocessableEntity)
		if !apitest.HasErrorAt(p, "path.personId") {
			t.Fatalf("consent for %s: %v", u.Subject, p)
		}
	}
	if n := countRows(t, e, `SELECT count(*) FROM sensitivity_consents`); n != 1 {
		t.Fatalf("%d consents, want 1", n)
	}

	// Withdrawn: at once, for requests and the open stream.
	e.Do(http.MethodDelete, consentPath(tm.alice, tm.wanda), tm.alice.Token, nil).Want(t, http.StatusNoContent)
	e.Do(http.MethodDelete, consentPath(tm.alice, tm.wanda), tm.alice.Token, nil).Want(t, http.StatusNoContent)
	if ev := nextEvent(sw); ev.Type != domain.EventGoalHidden || eventData[api.RecordHiddenData](t, ev).GoalID.String() != sud.ID {
		t.Fatalf("wanda's event after the withdrawal %+v", ev)
	}
	goalHiddenFrom(t, e, tm.wanda, tm.alice, sud.ID)
	e.Do(http.MethodPost, goalPath(sud.ID)+"/check-ins", tm.alice.Token, map[string]any{"rating": 9}).Want(t, http.StatusCreated)
	e.Do(http.MethodPost, goalPath(plain.ID)+"/check-ins", tm.alice.Token, map[string]any{"rating": 5}).Want(t, http.StatusCreated)
	if ev := nextEvent(sw); ev.SubjectID.String() != plain.ID {
		t.Fatalf("wanda's next event is %+v, want the plain goal's", ev)
	}
	// A consent outlives a worker's time on the team but counts only on it.
	e.Do(http.MethodPut, consentPath(tm.alice, tm.will), tm.alice.Token, nil).Want(t, http.StatusCreated)
	getGoalAs(t, e, tm.will, sud.ID)
	tm.removeFromTeam(t, tm.alice, tm.will)
	var cs api.Consents
	e.Do(http.MethodGet, clientURL(tm.alice)+"/consents", tm.alice.Token, nil).Want(t, http.StatusOK).Decode(t, &cs)
	if len(cs.Items) != 1 || cs.Items[0].OnCareTeam {
		t.Fatalf("consents after will left %+v", cs.Items)
	}
	tm.addToTeam(t, tm.alice, tm.will)
	getGoalAs(t, e, tm.will, sud.ID)
}

// Clearing a goal's sud label shares the goal from then on, not its past:
// history rows written while it was labelled (its creation, edits, the
// label's own change) stay for the client and consented workers, with the
// notice; the rest of the care team sees only what came after.
func TestSudGoalHistoryStaysAfterTheLabelIsCleared(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	e := tm.e
	g := decodeGoal(t, e.Do(http.MethodPost, goalsPath(tm.alice), tm.alice.Token,
		map[string]any{"title": "Stay on my program", "sensitivity": "sud"}).Want(t, http.StatusCreated))
	e.Do(http.MethodPut, consentPath(tm.alice, tm.wanda), tm.alice.Token, nil).Want(t, http.StatusCreated)
	for _, body := range []map[string]any{{"title": "Methadone taper"}, {"sensitivity": nil}, {"title": "Keep my job"}} {
		patchTeamGoal(t, e, tm.alice, g.ID, body).Want(t, http.StatusOK)
	}
	history := func(u apitest.User) (fields []string, body string, r *apitest.Resp) {
		r = e.Do(http.MethodGet, goalPath(g.ID)+"/history?limit=100", u.Token, nil).Want(t, http.StatusOK)
		var p api.Page[struct {
			Field string `json:"field"`
		}]
		r.Decode(t, &p)
		for _, h := range p.Items {
			fields = append(fields, h.Field)
		}
		return fields, string(r.Body), r
	}
	all, _, r := history(tm.alice)
	if !slices.Equal(all, []string{"goal", "title", "sensitivity", "title"}) {
		t.Fatalf("alice's history %v", all)
	}
	wantNotice(t, r, true, "alice's history")
	if f, _, r := history(tm.wanda); !slices.Equal(f, all) {
		t.Fatalf("consented wanda's history %v", f)
	} else {
		wantNotice(t, r, true, "wanda's history")
	}
	f, body, r := history(tm.will)
	if !slices.Equal(f, []string{"title"}) || strings.Contains(body, "sud") || strings.Contains(body, "Methadone") ||
		strings.Contains(body, "Stay on my program") {
		t.Fatalf("will (no consent) sees %v: %s", f, body)
	}
	wantNotice(t, r, false, "will's history")
}

// A sud conversation: the client and the consented workers only, on every
// path (list, messages, posting, read markers, events).
func TestSudConversation(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	e := tm.e
	// Nobody could read it without a consent.
	p := e.Do(http.MethodPost, "/v1/conversations", tm.alice.Token, map[string]any{"subject": "Recovery", "sensitivity": "sud"}).
		Problem(t, http.StatusUnprocessableEntity)
	if !apitest.HasErrorAt(p, "body.sensitivity") {
		t.Fatalf("a sud conversation nobody may read: %v", p)
	}
	// Workers do not label conversations.
	p = e.Do(http.MethodPost, "/v1/conversations", tm.wanda.Token, map[string]any{"client_id": tm.alice.ClientID, "sensitivity": "sud"}).
		Problem(t, http.StatusForbidden)
	if !apitest.HasErrorAt(p, "body.sensitivity") {
		t.Fatalf("a worker labelling a conversation: %v", p)
	}
	if n := countRows(t, e, `SELECT count(*) FROM conversations`); n != 0 {
		t.Fatalf("refused creates wrote %d conversations", n)
	}
	e.Do(http.MethodPut, consentPath(tm.alice, tm.wanda), tm.alice.Token, nil).Want(t, http.StatusCreated)
	sw, sl := openStream(t, e.URL, tm.wanda.Token, ""), openStream(t, e.URL, tm.will.Token, "")
	sw.Start()
	sl.Start()
	r := e.Do(http.MethodPost, "/v1/conversations", tm.alice.Token, map[string]any{"subject": "Recovery", "sensitivity": "sud"}).Want(t, http.StatusCreated)
	wantNotice(t, r, true, "creating a sud conversation")
	var conv api.Conversation
	r.Decode(t, &conv)
	for _, pt := range conv.Participants {
		if want := pt.PersonID != tm.will.PersonID; pt.Active != want {
			t.Fatalf("participant %s active %v, want %v", pt.DisplayName, pt.Active, want)
		}
	}
	m := postMessage(t, e, tm.alice, conv.ID, "Relapsed on Friday")
	plain := createConversation(t, e, tm.alice, map[string]any{"subject": "Rent"})

	// Wanda: everything, with the notice.
	if ev := nextEvent(sw); ev.Type != domain.EventConversationCreated || *ev.SubjectID != conv.ID {
		t.Fatalf("wanda's first event %+v", ev)
	}
	if ev := nextEvent(sw); ev.Type != domain.EventMessageCreated {
		t.Fatalf("wanda's second event %+v", ev)
	}
	lr := e.Do(http.MethodGet, "/v1/conversations/"+conv.ID.String()+"/messages", tm.wanda.Token, nil).Want(t, http.StatusOK)
	wantNotice(t, lr, true, "wanda's messages")
	wantNotice(t, e.Do(http.MethodGet, "/v1/conversations", tm.wanda.Token, nil).Want(t, http.StatusOK), true, "wanda's conversations")
	wantNotice(t, e.Do(http.MethodPost, "/v1/conversations/"+conv.ID.String()+"/messages", tm.wanda.Token, map[string]any{"body": "I'm here"}).
		Want(t, http.StatusCreated), true, "wanda's message")
	// Will: the conversation does not exist; his next event is the plain one.
	willSeesNothing := func() {
		t.Helper()
		for _, c := range listConversations(t, e, tm.will, "").Items {
			if c.ID == conv.ID {
				t.Fatal("will lists the sud conversation")
			}
		}
		wantNotice(t, e.Do(http.MethodGet, "/v1/conversations", tm.will.Token, nil).Want(t, http.StatusOK), false, "will's conversations")
		base := "/v1/conversations/" + conv.ID.String()
		e.Do(http.MethodGet, base+"/messages", tm.will.Token, nil).Problem(t, http.StatusNotFound)
		e.Do(http.MethodPost, base+"/messages", tm.will.Token, map[string]any{"body": "hi"}).Problem(t, http.StatusNotFound)
		e.Do(http.MethodPost, base+"/read", tm.will.Token, map[string]any{"up_to": m.ID}).Problem(t, http.StatusNotFound)
		e.Do(http.MethodPatch, base, tm.will.Token, map[string]any{"sensitivity": nil}).Problem(t, http.StatusNotFound)
	}
	willSeesNothing()
	if ev := nextEvent(sl); ev.Type != domain.EventConversationCreated || *ev.SubjectID != plain.ID {
		t.Fatalf("will's next event is %+v, want the plain conversation", ev)
	}
	wantNotice(t, e.Do(http.MethodGet, "/v1/conversations/"+plain.ID.String()+"/messages", tm.will.Token, nil).Want(t, http.StatusOK), false, "plain messages")

	// Only the client changes the label.
	p = e.Do(http.MethodPatch, "/v1/conversations/"+conv.ID.String(), tm.wanda.Token, map[string]any{"sensitivity": nil}).Problem(t, http.StatusForbidden)
	if !apitest.HasErrorAt(p, "body.sensitivity") {
		t.Fatalf("wanda clearing the label: %v", p)
	}
	e.Do(http.MethodPatch, "/v1/conversations/"+conv.ID.String(), tm.adam.Token, map[string]any{"sensitivity": nil}).Problem(t, http.StatusNotFound)
	cleared := e.Do(http.MethodPatch, "/v1/conversations/"+conv.ID.String(), tm.alice.Token, map[string]any{"sensitivity": nil}).Want(t, http.StatusOK)
	wantNotice(t, cleared, false, "the cleared conversation")
	e.Do(http.MethodGet, "/v1/conversations/"+conv.ID.String()+"/messages", tm.will.Token, nil).Want(t, http.StatusOK)
	// Labelled again: will hears it is gone, and is back to nothing.
	e.Do(http.MethodPatch, "/v1/conversations/"+conv.ID.String(), tm.alice.Token, map[string]any{"sensitivity": "sud"}).Want(t, http.StatusOK)
	if ev := nextEvent(sl); ev.Type != domain.EventConversationHidden || *eventData[api.RecordHiddenData](t, ev).ConversationID != conv.ID {
		t.Fatalf("will's event after the label %+v", ev)
	}
	willSeesNothing()
	// Withdrawing wanda's consent: gone for her too, live.
	e.Do(http.MethodDelete, consentPath(tm.alice, tm.wanda), tm.alice.Token, nil).Want(t, http.StatusNoContent)
	for ev := nextEvent(sw); ev.Type != domain.EventConversationHidden; ev = nextEvent(sw) {
		if ev.Type != domain.EventMessageCreated && ev.Type != domain.EventConversationCreated {
			t.Fatalf("wanda's event before conversation.hidden: %+v", ev)
		}
	}
	e.Do(http.MethodGet, "/v1/conversations/"+conv.ID.String()+"/messages", tm.wanda.Token, nil).Problem(t, http.StatusNotFound)
	postMessage(t, e, tm.alice, conv.ID, "still here")
	postMessage(t, e, tm.alice, plain.ID, "about rent")
	if ev := nextEvent(sw); *ev.SubjectID != plain.ID {
		t.Fatalf("wanda's next event is %+v, want the plain conversation's", ev)
	}
	// The client sees it all along.
	wantNotice(t, e.Do(http.MethodGet, "/v1/conversations/"+conv.ID.String()+"/messages", tm.alice.Token, nil).Want(t, http.StatusOK), true, "alice's messages")
}
