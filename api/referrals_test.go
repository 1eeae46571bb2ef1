package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/api/apitest"
	"github.com/waypoint-portal/waypoint/auth/authtest"
)

func savedPath(u apitest.User, svc uuid.UUID) string {
	return "/v1/clients/" + u.ClientID.String() + "/saved-services/" + svc.String()
}

func TestSavedServices(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	e := w.e
	seedDirectory(t, e.Store)
	list := func(who apitest.User, owner apitest.User) []string {
		t.Helper()
		var page struct {
			Items []struct {
				Service struct {
					ID           uuid.UUID `json:"id"`
					Name         string    `json:"name"`
					Organization struct {
						Name string `json:"name"`
					} `json:"organization"`
				} `json:"service"`
				SavedBy uuid.UUID `json:"saved_by"`
			} `json:"items"`
		}
		e.Do(http.MethodGet, "/v1/clients/"+owner.ClientID.String()+"/saved-services", who.Token, nil).Want(t, http.StatusOK).Decode(t, &page)
		out := []string{}
		for _, it := range page.Items {
			out = append(out, it.Service.Name+" ("+it.Service.Organization.Name+")")
		}
		return out
	}
	// Idempotent membership: 201 then 200, one row; no If-Match needed.
	r := e.Do(http.MethodPut, savedPath(w.alice, svcBallard), w.alice.Token, nil).Want(t, http.StatusCreated)
	if r.Map(t)["service"].(map[string]any)["name"] != "Ballard Food Pantry" {
		t.Fatalf("saved: %s", r.Body)
	}
	e.Do(http.MethodPut, savedPath(w.alice, svcBallard), w.alice.Token, nil).Want(t, http.StatusOK)
	// Her worker saves one for her too.
	e.Do(http.MethodPut, savedPath(w.alice, svcShelter), w.wanda.Token, nil).Want(t, http.StatusCreated)
	if got := list(w.alice, w.alice); !slices.Equal(got, []string{"Ballard Food Pantry (Seattle Neighbors)", "Georgetown Night Shelter (Seattle Neighbors)"}) {
		t.Fatalf("alice's list %v", got)
	}
	if got := list(w.wanda, w.alice); len(got) != 2 {
		t.Fatalf("wanda sees %v", got)
	}
	// Unknown service: 404 naming the path; nothing saved.
	p := e.Do(http.MethodPut, savedPath(w.alice, uuid.New()), w.alice.Token, nil).Problem(t, http.StatusNotFound)
	if !apitest.HasErrorAt(p, "path.serviceId") {
		t.Fatalf("unknown service: %v", p)
	}
	// BOLA: another client, a worker off the team and an admin get 404, read or write.
	for _, who := range []apitest.User{w.bob, w.will, w.adam} {
		e.Do(http.MethodGet, "/v1/clients/"+w.alice.ClientID.String()+"/saved-services", who.Token, nil).Problem(t, http.StatusNotFound)
		e.Do(http.MethodPut, savedPath(w.alice, svcBrooklyn), who.Token, nil).Problem(t, http.StatusNotFound)
		e.Do(http.MethodDelete, savedPath(w.alice, svcBallard), who.Token, nil).Problem(t, http.StatusNotFound)
	}
	// Writing needs profile:write.
	ro := e.Issuer.Token(t, "alice", []string{"client"}, authtest.WithScopes("services:read", "profile:read"))
	e.Do(http.MethodPut, savedPath(w.alice, svcBrooklyn), ro, nil).Problem(t, http.StatusForbidden)
	if got := list(w.alice, w.alice); len(got) != 2 {
		t.Fatalf("refused writes changed the list: %v", got)
	}
	// Delete is idempotent.
	e.Do(http.MethodDelete, savedPath(w.alice, svcBallard), w.alice.Token, nil).Want(t, http.StatusNoContent)
	e.Do(http.MethodDelete, savedPath(w.alice, svcBallard), w.alice.Token, nil).Want(t, http.StatusNoContent)
	if got := list(w.alice, w.alice); !slices.Equal(got, []string{"Georgetown Night Shelter (Seattle Neighbors)"}) {
		t.Fatalf("after delete %v", got)
	}
	// Wanda's read and write are in alice's access log; alice's own are not.
	if n := countRows(t, e, `SELECT count(*) FROM access_log WHERE client_id = ? AND resource = 'saved_service' AND actor_person_id = ?`,
		w.alice.ClientID, w.wanda.PersonID); n != 2 {
		t.Fatalf("wanda's saved-services access logged %d times, want 2", n)
	}
	if n := countRows(t, e, `SELECT count(*) FROM access_log WHERE client_id = ? AND actor_person_id = ?`, w.alice.ClientID, w.alice.PersonID); n != 0 {
		t.Fatalf("alice's own access logged %d times", n)
	}
}

// The story: wanda refers alice to a pantry for her housing goal;
// alice sees it and every status change, and so does the goal's history.
func TestReferralFlow(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	e := w.e
	seedDirectory(t, e.Store)
	goal := newGoal(t, w, w.alice, w.alice, map[string]any{"title": "Keep food on the table while I find housing", "category": "housing"})
	refs := "/v1/clients/" + w.alice.ClientID.String() + "/referrals"

	// Bad input: unknown service, inactive service, someone else's goal.
	bobGoal := newGoal(t, w, w.bob, w.bob, map[string]any{"title": "bob's"})
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"service_id": uuid.NewString()}, "body.service_id"},
		{map[string]any{"service_id": svcClosed.String()}, "body.service_id"},
		{map[string]any{"service_id": svcBallard.String(), "goal_id": bobGoal.ID}, "body.goal_id"},
	} {
		p := e.Do(http.MethodPost, refs, w.wanda.Token, tc.body).Problem(t, http.StatusUnprocessableEntity)
		if !apitest.HasErrorAt(p, tc.field) {
			t.Fatalf("%v: %v", tc.body, p)
		}
	}
	if n := countRows(t, e, `SELECT count(*) FROM referrals`); n != 0 {
		t.Fatalf("refused referrals wrote %d rows", n)
	}

	r := e.Do(http.MethodPost, refs, w.wanda.Token, map[string]any{"service_id": svcBallard.String(), "goal_id": goal.ID,
		"note": "Ask for Maria"}, "Idempotency-Key", "ref-1").Want(t, http.StatusCreated)
	var ref referralView
	r.Decode(t, &ref)
	if ref.Status != "sent" || ref.Version != 1 || ref.Service.Name != "Ballard Food Pantry" || r.Header.Get("ETag") != `"1"` ||
		r.Header.Get("Location") != "/v1/referrals/"+ref.ID || len(ref.StatusHistory) != 1 ||
		ref.StatusHistory[0].FromStatus != nil || ref.StatusHistory[0].ActorRole != "worker" || ref.StatusHistory[0].ChangedBy != w.wanda.PersonID.String() {
		t.Fatalf("created referral: %s", r.Body)
	}

	// Alice sees it in her list and on its own.
	var list struct {
		Items []referralView `json:"items"`
	}
	e.Do(http.MethodGet, refs, w.alice.Token, nil).Want(t, http.StatusOK).Decode(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != ref.ID {
		t.Fatalf("alice's referrals %+v", list)
	}

	// The flow: sent -> acknowledged (alice) -> accepted (wanda) -> completed (alice).
	steps := []struct {
		who apitest.User
		to  string
	}{{w.alice, "acknowledged"}, {w.wanda, "accepted"}, {w.alice, "completed"}}
	for _, st := range steps {
		r := patchReferral(e, st.who, ref, map[string]any{"status": st.to}).Want(t, http.StatusOK)
		r.Decode(t, &ref)
		if ref.Status != st.to {
			t.Fatalf("status %s, want %s", ref.Status, st.to)
		}
	}
	// Final: no way out, 409 naming both states; stale and missing If-Match checked after authorization.
	p := patchReferral(e, w.alice, ref, map[string]any{"status": "cancelled"}).Problem(t, http.StatusConflict)
	mustContainAll(t, p["detail"].(string), "completed", "cancelled")
	e.Do(http.MethodPatch, "/v1/referrals/"+ref.ID, w.alice.Token, map[string]any{"note": "x"}).Problem(t, http.StatusPreconditionRequired)
	e.Do(http.MethodPatch, "/v1/referrals/"+ref.ID, w.alice.Token, map[string]any{"note": "x"}, "If-Match", `"1"`).Problem(t, http.StatusPreconditionFailed)

	// History: who, when, from -> to, visible to the client.
	e.Do(http.MethodGet, "/v1/referrals/"+ref.ID, w.alice.Token, nil).Want(t, http.StatusOK).Decode(t, &ref)
	var got []string
	for _, h := range ref.StatusHistory {
		from := "-"
		if h.FromStatus != nil {
			from = *h.FromStatus
		}
		got = append(got, from+">"+h.ToStatus+" by "+h.ActorRole+" "+h.ChangedByName)
		if h.ChangedAt == "" || !strings.HasSuffix(h.ChangedAt, "Z") {
			t.Fatalf("changed_at %q", h.ChangedAt)
		}
	}
	want := []string{"->sent by worker Test wanda", "sent>acknowledged by client Test alice",
		"acknowledged>accepted by worker Test wanda", "accepted>completed by client Test alice"}
	if !slices.Equal(got, want) {
		t.Fatalf("status history %v, want %v", got, want)
	}

	// The goal's history shows each step as referral[<id>].status.
	var refFields []string
	for _, h := range history(t, w, w.alice, goal.ID) {
		if h.Field == "referral["+ref.ID+"].status" {
			refFields = append(refFields, string(h.OldValue)+">"+string(h.NewValue))
		}
	}
	if !slices.Equal(refFields, []string{`null>"sent"`, `"sent">"acknowledged"`, `"acknowledged">"accepted"`, `"accepted">"completed"`}) {
		t.Fatalf("goal history of the referral: %v", refFields)
	}

	// Every change was announced to alice and her care team (not to will).
	var evs []struct {
		Status     string
		Recipients string
	}
	e.Positioned()
	e.DB.Raw(`SELECT data->>'status' AS status, recipients::text AS recipients FROM events WHERE type = 'referral.updated' AND subject_id = ? ORDER BY seq`, ref.ID).Scan(&evs)
	var statuses []string
	for _, ev := range evs {
		statuses = append(statuses, ev.Status)
		if !strings.Contains(ev.Recipients, w.alice.PersonID.String()) || !strings.Contains(ev.Recipients, w.wanda.PersonID.String()) ||
			strings.Contains(ev.Recipients, w.will.PersonID.String()) {
			t.Fatalf("event addressed to %s", ev.Recipients)
		}
	}
	if !slices.Equal(statuses, []string{"sent", "acknowledged", "accepted", "completed"}) {
		t.Fatalf("events %v", statuses)
	}
	// Wanda's reads and writes are in alice's access log.
	if n := countRows(t, e, `SELECT count(*) FROM access_log WHERE client_id = ? AND actor_person_id = ? AND resource = 'referral' AND action = 'write'`,
		w.alice.ClientID, w.wanda.PersonID); n != 2 {
		t.Fatalf("wanda's referral writes logged %d times, want 2", n)
	}

	// A referral in progress can be cancelled; skipping a step is 409.
	r = e.Do(http.MethodPost, refs, w.alice.Token, map[string]any{"service_id": svcDowntown.String()}).Want(t, http.StatusCreated)
	var second referralView
	r.Decode(t, &second)
	p = patchReferral(e, w.alice, second, map[string]any{"status": "completed"}).Problem(t, http.StatusConflict)
	mustContainAll(t, p["detail"].(string), "sent", "completed", "acknowledged")
	patchReferral(e, w.alice, second, map[string]any{"status": "cancelled"}).Want(t, http.StatusOK)
	// Linking a goal later is recorded in that goal's history.
	second.Version = 2
	patchReferral(e, w.wanda, second, map[string]any{"goal_id": goal.ID, "note": "for the housing plan"}).Want(t, http.StatusOK)
	found := false
	for _, h := range history(t, w, w.alice, goal.ID) {
		if h.Field == "referral["+second.ID+"]" && string(h.OldValue) == "null" && string(h.NewValue) == `{"status":"cancelled"}` {
			found = true
		}
	}
	if !found {
		t.Fatalf("linking not in the goal's history")
	}
	// The service alice was referred to cannot be deleted while the referral exists.
	sv := e.Do(http.MethodGet, "/v1/services/"+svcBallard.String(), w.adam.Token, nil).Want(t, http.StatusOK)
	e.Do(http.MethodDelete, "/v1/services/"+svcBallard.String(), w.adam.Token, nil, "If-Match", sv.Header.Get("ETag")).Problem(t, http.StatusConflict)
}

// Referrals belong to the client and their care team: everyone else gets 404.
func TestReferralVisibility(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	e := w.e
	seedDirectory(t, e.Store)
	refs := "/v1/clients/" + w.alice.ClientID.String() + "/referrals"
	var ref referralView
	e.Do(http.MethodPost, refs, w.alice.Token, map[string]any{"service_id": svcBallard.String()}).Want(t, http.StatusCreated).Decode(t, &ref)
	for _, who := range []apitest.User{w.bob, w.will, w.adam} {
		e.Do(http.MethodGet, refs, who.Token, nil).Problem(t, http.StatusNotFound)
		e.Do(http.MethodPost, refs, who.Token, map[string]any{"service_id": svcBallard.String()}).Problem(t, http.StatusNotFound)
		e.Do(http.MethodGet, "/v1/referrals/"+ref.ID, who.Token, nil).Problem(t, http.StatusNotFound)
		// 404 before the precondition: the referral's existence does not leak.
		patchReferral(e, who, ref, map[string]any{"status": "acknowledged"}).Problem(t, http.StatusNotFound)
		e.Do(http.MethodPatch, "/v1/referrals/"+ref.ID, who.Token, map[string]any{"status": "acknowledged"}).Problem(t, http.StatusNotFound)
	}
	e.Do(http.MethodGet, "/v1/referrals/"+uuid.NewString(), w.alice.Token, nil).Problem(t, http.StatusNotFound)
	// Scopes: referrals are their own family (referrals:read, referrals:write);
	// goal and directory scopes neither read nor change them.
	noRead := e.Issuer.Token(t, "alice", []string{"client"}, authtest.WithScopes("goals:write", "services:read"))
	e.Do(http.MethodGet, "/v1/referrals/"+ref.ID, noRead, nil).Problem(t, http.StatusForbidden)
	noWrite := e.Issuer.Token(t, "alice", []string{"client"}, authtest.WithScopes("referrals:read", "goals:write"))
	e.Do(http.MethodPost, refs, noWrite, map[string]any{"service_id": svcBallard.String()}).Problem(t, http.StatusForbidden)
	patchReferral(e, apitest.User{Token: noWrite}, ref, map[string]any{"status": "acknowledged"}).Problem(t, http.StatusForbidden)
	e.Do(http.MethodGet, "/v1/referrals/"+ref.ID, w.alice.Token, nil).Want(t, http.StatusOK).Decode(t, &ref)
	if ref.Status != "sent" || ref.Version != 1 || len(ref.StatusHistory) != 1 {
		t.Fatalf("refused requests changed the referral: %+v", ref)
	}
	// A worker removed from the care team loses access at once.
	e.Do(http.MethodGet, "/v1/referrals/"+ref.ID, w.wanda.Token, nil).Want(t, http.StatusOK)
	e.Do(http.MethodDelete, w.wandaOnAlice, w.adam.Token, nil).Want(t, http.StatusNoContent)
	e.Do(http.MethodGet, "/v1/referrals/"+ref.ID, w.wanda.Token, nil).Problem(t, http.StatusNotFound)
	// Bad status values are 422 naming the field.
	p := patchReferral(e, w.alice, ref, map[string]any{"status": "teleported"}).Problem(t, http.StatusUnprocessableEntity)
	if !apitest.HasErrorAt(p, "body.status") {
		t.Fatalf("bad status: %v", p)
	}
	p = patchReferral(e, w.alice, ref, `{"status": null}`).Problem(t, http.StatusUnprocessableEntity)
	if !apitest.HasErrorAt(p, "body.status") {
		t.Fatalf("null status: %v", p)
	}
}
