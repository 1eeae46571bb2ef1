package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/api"
	"github.com/waypoint-portal/waypoint/api/apitest"
)

func feedbackURL(svc uuid.UUID) string { return "/v1/services/" + svc.String() + "/feedback" }

// A client and a worker report barriers; each report is an anonymous
// barrier need; directory editors work the queue (filters, paging, ETag,
// If-Match), which never shows who reported.
func TestFeedbackReportsAndTheQueue(t *testing.T) {
	t.Parallel()
	w := newNeedsWorld(t)
	e := w.e
	ed := e.Login("ed", "directory_editor")
	setProfile(t, e, w.alice, w.alice.ClientID, map[string]any{"preferred_language": "es"}).Want(t, http.StatusOK)
	ref := newReferral(t, e, w.wanda, w.alice, map[string]any{"service_id": svcBallard.String()})
	const words = "The sign said closed on Tuesday at noon"
	r := e.Do(http.MethodPost, feedbackURL(svcBallard), w.alice.Token, map[string]any{"kind": "closed_when_listed_open",
		"text": "  " + words + " ", "referral_id": ref.ID}).Want(t, http.StatusCreated)
	var mine api.ServiceFeedback
	r.Decode(t, &mine)
	if mine.Kind != "closed_when_listed_open" || mine.Text == nil || *mine.Text != words || mine.Status != "open" ||
		mine.ReporterRole != "client" || mine.ReferralID == nil || mine.ReferralID.String() != ref.ID ||
		mine.Service.ID != svcBallard || mine.Service.Name != "Ballard Food Pantry" || mine.Version != 1 {
		t.Fatalf("report: %+v", mine)
	}
	if r.Header.Get("Location") != "/v1/directory/feedback/"+mine.ID.String() || r.Header.Get("ETag") != `"1"` {
		t.Fatalf("Location %q ETag %q", r.Header.Get("Location"), r.Header.Get("ETag"))
	}
	var theirs api.ServiceFeedback
	e.Do(http.MethodPost, feedbackURL(svcShelter), w.wanda.Token, map[string]any{"kind": "transport"}).
		Want(t, http.StatusCreated).Decode(t, &theirs)
	if theirs.Text != nil || theirs.ReporterRole != "worker" || theirs.ReferralID != nil {
		t.Fatalf("wanda's report: %+v", theirs)
	}
	// Each is a barrier need: the service's category and cell; alice's language, none for the worker.
	got := needs(t, e)
	if len(got) != 2 || got[0].Source != "barrier" || derefStr(got[0].Reason) != "closed_when_listed_open" ||
		got[0].TaxonomyTerm == nil || *got[0].TaxonomyTerm != termPantries || derefStr(got[0].Area) != "c22zp" || derefStr(got[0].Language) != "es" ||
		got[1].Source != "barrier" || derefStr(got[1].Reason) != "transport" || got[1].TaxonomyTerm == nil || *got[1].TaxonomyTerm != termHousing ||
		derefStr(got[1].Area) != "c23n2" || got[1].Language != nil {
		t.Fatalf("barrier needs: %+v", got)
	}
	assertAnonymous(t, e, []apitest.User{w.alice, w.wanda}, words)

	// The queue: newest first, both; never the reporter.
	list := func(who apitest.User, query string) api.Page[api.ServiceFeedback] {
		var p api.Page[api.ServiceFeedback]
		e.Do(http.MethodGet, "/v1/directory/feedback"+query, who.Token, nil).Want(t, http.StatusOK).Decode(t, &p)
		return p
	}
	all := e.Do(http.MethodGet, "/v1/directory/feedback", ed.Token, nil).Want(t, http.StatusOK)
	for _, who := range []apitest.User{w.alice, w.wanda} {
		if strings.Contains(string(all.Body), who.PersonID.String()) || strings.Contains(string(all.Body), who.ClientID.String()) ||
			strings.Contains(string(all.Body), who.Subject) {
			t.Fatalf("the queue names a reporter (%s): %s", who.Subject, all.Body)
		}
	}
	if p := list(ed, ""); len(p.Items) != 2 || p.Items[0].ID != theirs.ID || p.Items[1].ID != mine.ID || *p.Items[1].Text != words {
		t.Fatalf("queue: %+v", p)
	}
	if p := list(w.adam, "?kind=transport"); len(p.Items) != 1 || p.Items[0].ID != theirs.ID {
		t.Fatalf("kind=transport: %+v", p)
	}
	if p := list(ed, "?service_id="+svcBallard.String()); len(p.Items) != 1 || p.Items[0].ID != mine.ID {
		t.Fatalf("service_id: %+v", p)
	}
	first := list(ed, "?limit=1")
	if len(first.Items) != 1 || first.NextCursor == "" || first.Items[0].ID != theirs.ID {
		t.Fatalf("first page: %+v", first)
	}
	if p := list(ed, "?limit=1&cursor="+first.NextCursor); len(p.Items) != 1 || p.Items[0].ID != mine.ID || p.NextCursor != "" {
		t.Fatalf("second page: %+v", p)
	}
	e.Do(http.MethodGet, "/v1/directory/feedback?kind=rude", ed.Token, nil).Problem(t, http.StatusUnprocessableEntity)

	// Resolve with If-Match: missing 428, stale 412, then done; reopening clears who and when.
	one := "/v1/directory/feedback/" + mine.ID.String()
	e.Do(http.MethodGet, one, ed.Token, nil).Want(t, http.StatusOK)
	resolve := map[string]any{"status": "resolved", "resolution_note": "Hours corrected with the pantry"}
	e.Do(http.MethodPatch, one, ed.Token, resolve).Problem(t, http.StatusPreconditionRequired)
	e.Do(http.MethodPatch, one, ed.Token, resolve, "If-Match", `"7"`).Problem(t, http.StatusPreconditionFailed)
	e.Do(http.MethodPatch, one, ed.Token, map[string]any{"status": "done"}, "If-Match", `"1"`).Problem(t, http.StatusUnprocessableEntity)
	var done api.ServiceFeedback
	e.Do(http.MethodPatch, one, ed.Token, resolve, "If-Match", `"1"`).Want(t, http.StatusOK).Decode(t, &done)
	if done.Status != "resolved" || done.ResolutionNote != "Hours corrected with the pantry" || done.ResolvedBy == nil ||
		*done.ResolvedBy != ed.PersonID || done.ResolvedAt == nil || done.Version != 2 {
		t.Fatalf("resolved: %+v", done)
	}
	if p := list(ed, "?status=open"); len(p.Items) != 1 || p.Items[0].ID != theirs.ID {
		t.Fatalf("status=open: %+v", p)
	}
	if p := list(ed, "?status=resolved"); len(p.Items) != 1 || p.Items[0].ID != mine.ID {
		t.Fatalf("status=resolved: %+v", p)
	}
	e.Do(http.MethodPatch, one, w.adam.Token, map[string]any{"status": "open"}, "If-Match", `"2"`).Want(t, http.StatusOK).Decode(t, &done)
	if done.Status != "open" || done.ResolvedBy != nil || done.ResolvedAt != nil || done.ResolutionNote == "" {
		t.Fatalf("reopened: %+v", done)
	}
	e.Do(http.MethodGet, "/v1/directory/feedback/"+uuid.Must(uuid.NewV7()).String(), ed.Token, nil).Problem(t, http.StatusNotFound)
}

// Bad reports are 422 naming the member (or 404 for an unknown service),
// and nothing is stored, no need counted.
func TestFeedbackValidation(t *testing.T) {
	t.Parallel()
	w := newNeedsWorld(t)
	e := w.e
	bobs := newReferral(t, e, w.bob, w.bob, map[string]any{"service_id": svcBallard.String()})
	alicesShelter := newReferral(t, e, w.alice, w.alice, map[string]any{"service_id": svcShelter.String()})
	for _, c := range []struct {
		who    apitest.User
		svc    uuid.UUID
		body   map[string]any
		status int
		at     string
	}{
		{w.alice, svcBallard, map[string]any{"kind": "rude"}, http.StatusUnprocessableEntity, "body.kind"},
		{w.alice, svcBallard, map[string]any{}, http.StatusUnprocessableEntity, "body"},
		{w.alice, svcBallard, map[string]any{"kind": "cost", "text": strings.Repeat("é", 2001)}, http.StatusUnprocessableEntity, "body.text"},
		{w.alice, svcBallard, map[string]any{"kind": "cost", "reporter_person_id": w.bob.PersonID}, http.StatusUnprocessableEntity, "body.reporter_person_id"},
		// Another client's referral, and her own to another service.
		{w.alice, svcBallard, map[string]any{"kind": "cost", "referral_id": bobs.ID}, http.StatusUnprocessableEntity, "body.referral_id"},
		{w.alice, svcBallard, map[string]any{"kind": "cost", "referral_id": alicesShelter.ID}, http.StatusUnprocessableEntity, "body.referral_id"},
		// Will is on nobody's care team.
		{w.will, svcBallard, map[string]any{"kind": "cost", "referral_id": bobs.ID}, http.StatusUnprocessableEntity, "body.referral_id"},
		{w.alice, uuid.Must(uuid.NewV7()), map[string]any{"kind": "cost"}, http.StatusNotFound, ""},
	} {
		before := dbFingerprint(t, e)
		p := e.Do(http.MethodPost, feedbackURL(c.svc), c.who.Token, c.body).Problem(t, c.status)
		if c.at != "" && !apitest.HasErrorAt(p, c.at) {
			t.Errorf("%v: the problem does not name %s: %v", c.body, c.at, p)
		}
		if dbFingerprint(t, e) != before {
			t.Errorf("%v: refused, yet the database changed", c.body)
		}
	}
	// At the bound it is taken, counted in characters.
	e.Do(http.MethodPost, feedbackURL(svcBallard), w.alice.Token, map[string]any{"kind": "cost", "text": strings.Repeat("é", 2000)}).
		Want(t, http.StatusCreated)
}

// The text of a report reaches administrators, directory editors and the
// reporting client's own export, nobody else: not the service's staff (in
// any referral read), not the public directory, not other clients.
func TestFeedbackTextStaysWithTheDirectoryEditors(t *testing.T) {
	t.Parallel()
	w := newNeedsWorld(t)
	e := w.e
	pia := e.Login("pia", "provider")
	e.Do(http.MethodPut, "/v1/organizations/"+orgSeattle.String()+"/staff/"+pia.PersonID.String(), w.adam.Token, nil).Want(t, http.StatusCreated)
	ref := newReferral(t, e, w.alice, w.alice, map[string]any{"service_id": svcBallard.String(),
		"shared_with_provider": []string{"name", "contact", "note", "goal_title", "preferred_language"}})
	const secret = "The intake worker laughed at my accent"
	e.Do(http.MethodPost, feedbackURL(svcBallard), w.alice.Token, map[string]any{"kind": "discrimination", "text": secret,
		"referral_id": ref.ID}).Want(t, http.StatusCreated)
	reads := []struct {
		who  apitest.User
		path string
	}{
		{pia, "/v1/referrals/" + ref.ID}, {pia, "/v1/provider/referrals"}, {pia, "/v1/services/" + svcBallard.String()},
		{w.alice, "/v1/referrals/" + ref.ID}, {w.wanda, "/v1/clients/" + w.alice.ClientID.String() + "/referrals"},
		{w.bob, "/v1/services/" + svcBallard.String()}, {e.Login("nobody"), "/v1/services?search=pantry"},
		{w.bob, "/v1/services?search=laughed"}, {pia, "/v1/organizations/" + orgSeattle.String()},
	}
	for _, r := range reads {
		body := e.Do(http.MethodGet, r.path, r.who.Token, nil).Want(t, http.StatusOK).Body
		if strings.Contains(string(body), "laughed") {
			t.Errorf("%s reads the feedback text at %s", r.who.Subject, r.path)
		}
	}
	for _, who := range []apitest.User{pia, w.bob, w.wanda, e.Login("nobody")} {
		e.Do(http.MethodGet, "/v1/directory/feedback", who.Token, nil).Problem(t, http.StatusForbidden)
	}
	if body := e.Do(http.MethodGet, "/v1/directory/feedback", w.adam.Token, nil).Want(t, http.StatusOK).Body; !strings.Contains(string(body), secret) {
		t.Fatalf("the queue lacks the text: %s", body)
	}
	export := e.Do(http.MethodGet, "/v1/clients/"+w.alice.ClientID.String()+"/export", w.alice.Token, nil).Want(t, http.StatusOK).Map(t)
	fb, _ := export["service_feedback"].([]any)
	if len(fb) != 1 || fb[0].(map[string]any)["text"] != secret || fb[0].(map[string]any)["kind"] != "discrimination" {
		t.Fatalf("alice's export: service_feedback %v", export["service_feedback"])
	}
	bobs := e.Do(http.MethodGet, "/v1/clients/"+w.bob.ClientID.String()+"/export", w.bob.Token, nil).Want(t, http.StatusOK).Map(t)
	if fb, _ := bobs["service_feedback"].([]any); len(fb) != 0 {
		t.Fatalf("bob's export holds alice's report: %v", fb)
	}
}

// A client who opted out is not counted for a barrier; a worker always is.
func TestBarrierNeedsRespectTheClientsOptOut(t *testing.T) {
	t.Parallel()
	w := newNeedsWorld(t)
	e := w.e
	setProfile(t, e, w.alice, w.alice.ClientID, map[string]any{"contact_preferences": map[string]any{"help_improve_services": false}}).
		Want(t, http.StatusOK)
	e.Do(http.MethodPost, feedbackURL(svcBallard), w.alice.Token, map[string]any{"kind": "cost"}).Want(t, http.StatusCreated)
	if got := needs(t, e); len(got) != 0 {
		t.Fatalf("counted an opted-out client's barrier: %+v", got)
	}
	e.Do(http.MethodPost, feedbackURL(svcBallard), w.wanda.Token, map[string]any{"kind": "cost"}).Want(t, http.StatusCreated)
	e.Do(http.MethodPost, feedbackURL(svcBallard), w.wanda.Token, map[string]any{"kind": "cost", "text": "again"}).Want(t, http.StatusCreated)
	if got := needs(t, e); len(got) != 1 || derefStr(got[0].Reason) != "cost" {
		t.Fatalf("the worker's barrier (once per cell and week): %+v", got)
	}
	assertAnonymous(t, e, []apitest.User{w.alice, w.wanda}, "again")
}
