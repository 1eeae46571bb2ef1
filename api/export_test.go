package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/api/apitest"
	"github.com/waypoint-portal/waypoint/auth/authtest"
	"github.com/waypoint-portal/waypoint/domain"
)

// exportSectionNames are the export's sections, in document order.
var exportSectionNames = []string{"profile", "care_team", "supporters", "supporter_invitations", "consents", "goals",
	"goal_check_ins", "goal_history", "saved_services", "referrals", "conversations", "messages", "assessments", "assessment_goals", "service_feedback", "access_log"}

// exportWorld: alice and bob are clients with data in every table, and wanda
// works with both of them (so each has a conversation with the same worker).
type exportWorld struct {
	tm *team
	e  *apitest.Env
	// feedback is each client's barrier report as its POST answered.
	feedback map[uuid.UUID]any
}

func newExportWorld(t *testing.T) *exportWorld {
	t.Helper()
	tm := newTeam(t)
	seedDirectory(t, tm.e.Store)
	tm.addToTeam(t, tm.bob, tm.wanda)
	x := &exportWorld{tm: tm, e: tm.e, feedback: map[uuid.UUID]any{}}
	x.fill(t, tm.alice, tm.wanda, "alice-marker")
	x.fill(t, tm.bob, tm.wanda, "bob-marker")
	return x
}

// fill gives owner a record in every table the export reads, worker taking
// part where the care team does; marker is in the owner's own texts.
func (x *exportWorld) fill(t *testing.T, owner, worker apitest.User, marker string) {
	t.Helper()
	e := x.e
	client := "/v1/clients/" + owner.ClientID.String()
	e.Do(http.MethodPatch, client, owner.Token, map[string]any{"strengths": []string{marker},
		"contact_preferences": map[string]any{"channels": []string{"sms"}, "phone": "+1 206 555 0100"}}, "If-Match", "*").Want(t, http.StatusOK)
	var g struct {
		ID    string `json:"id"`
		Steps []struct {
			ID string `json:"id"`
		} `json:"steps"`
	}
	e.Do(http.MethodPost, client+"/goals", owner.Token, map[string]any{"title": "Home " + marker,
		"steps": []any{map[string]any{"title": "Call"}, map[string]any{"title": "Visit", "due_date": "2030-01-31"}}}).
		Want(t, http.StatusCreated).Decode(t, &g)
	e.Do(http.MethodPatch, goalPath(g.ID)+"/steps/"+g.Steps[0].ID, owner.Token, map[string]any{"done": true}, "If-Match", `"1"`).
		Want(t, http.StatusOK)
	e.Do(http.MethodPost, goalPath(g.ID)+"/check-ins", owner.Token, map[string]any{"rating": 5, "note": marker, "mood": "good"}).
		Want(t, http.StatusCreated)
	e.Do(http.MethodPost, goalPath(g.ID)+"/check-ins", worker.Token, map[string]any{"rating": 6}).Want(t, http.StatusCreated)
	e.Do(http.MethodPost, client+"/goals", worker.Token, map[string]any{"title": "Proposal " + marker}).Want(t, http.StatusCreated)
	mistake := createGoalOf(t, e, owner)
	e.Do(http.MethodPatch, goalPath(mistake.String()), owner.Token, map[string]any{"lifecycle_status": "entered-in-error"}, "If-Match", "*").
		Want(t, http.StatusOK)
	e.Do(http.MethodPut, client+"/saved-services/"+svcBallard.String(), owner.Token, nil).Want(t, http.StatusCreated)
	r := newReferral(t, e, worker, owner, map[string]any{"service_id": svcShelter.String(), "goal_id": g.ID, "note": marker})
	patchReferral(e, worker, r, map[string]any{"status": "acknowledged"}).Want(t, http.StatusOK)
	// The owner's barrier report on that referral is theirs; the worker's own on it is not.
	x.feedback[owner.ClientID] = e.Do(http.MethodPost, "/v1/services/"+svcShelter.String()+"/feedback", owner.Token,
		map[string]any{"kind": "transport", "text": marker, "referral_id": r.ID}).Want(t, http.StatusCreated).Map(t)
	e.Do(http.MethodPost, "/v1/services/"+svcShelter.String()+"/feedback", worker.Token,
		map[string]any{"kind": "eligibility", "text": "worker-marker", "referral_id": r.ID}).Want(t, http.StatusCreated)
	c := createConversation(t, e, owner, map[string]any{"worker_ids": []uuid.UUID{worker.PersonID}, "subject": marker,
		"link": map[string]any{"kind": "goal", "id": g.ID}})
	m := postMessage(t, e, owner, c.ID, "Hello from "+marker)
	postMessage(t, e, worker, c.ID, "Reply to "+marker)
	e.Do(http.MethodPost, "/v1/conversations/"+c.ID.String()+"/read", worker.Token, map[string]any{"up_to": m.ID}).Want(t, http.StatusOK)
	e.Do(http.MethodGet, goalPath(g.ID), worker.Token, nil).Want(t, http.StatusOK) // in the owner's access log
	invite := func() any {
		return e.Do(http.MethodPost, client+"/supporter-invitations", owner.Token, map[string]any{"shares": []string{"goals"}}).
			Want(t, http.StatusCreated).Map(t)["code"]
	}
	redeem(e, e.Login("sam-"+marker), invite()).Want(t, http.StatusCreated)
	invite() // still pending
	e.Do(http.MethodPut, client+"/consents/sud/"+worker.PersonID.String(), owner.Token, nil).Want(t, http.StatusCreated)
	a := e.Do(http.MethodPost, client+"/assessments", owner.Token, map[string]any{"ratings": []any{
		map[string]any{"domain": "housing", "rating": 2, "priority": true, "strengths": marker}, map[string]any{"domain": "food", "rating": 4}}}).
		Want(t, http.StatusCreated).Map(t)
	e.Do(http.MethodPost, client+"/assessments", worker.Token, map[string]any{"ratings": []any{map[string]any{"domain": "income", "rating": 3}}}).
		Want(t, http.StatusCreated)
	e.Do(http.MethodPost, "/v1/assessments/"+a["id"].(string)+"/goals", owner.Token, map[string]any{"template_id": "find-stable-housing"}).
		Want(t, http.StatusCreated)
}

// export downloads u's export as u and checks the headers every export has.
func (x *exportWorld) export(t *testing.T, u apitest.User) (*apitest.Resp, map[string]json.RawMessage) {
	t.Helper()
	r := x.e.Do(http.MethodGet, "/v1/clients/"+u.ClientID.String()+"/export", u.Token, nil).Want(t, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("content type %q", ct)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("Cache-Control %q", cc)
	}
	if !json.Valid(r.Body) {
		t.Fatalf("the export is not valid JSON: %.300s", r.Body)
	}
	if !bytes.HasSuffix(r.Body, []byte(`"complete":true}`+"\n")) {
		t.Fatalf("the export does not end with \"complete\": true: ...%s", r.Body[max(0, len(r.Body)-100):])
	}
	var doc map[string]json.RawMessage
	r.Decode(t, &doc)
	return r, doc
}

// sectionItems decodes a list section as generic JSON values.
func sectionItems(t *testing.T, doc map[string]json.RawMessage, name string) []any {
	t.Helper()
	var items []any
	if err := json.Unmarshal(doc[name], &items); err != nil {
		t.Fatalf("section %s: %v", name, err)
	}
	return items
}

// keyed maps JSON objects by the string at path (e.g. "id", "service.id").
func keyed(t *testing.T, items []any, path string) map[string]any {
	t.Helper()
	out := map[string]any{}
	for _, it := range items {
		v := it
		for _, k := range strings.Split(path, ".") {
			v = v.(map[string]any)[k]
		}
		out[v.(string)] = it
	}
	if len(out) != len(items) {
		t.Fatalf("duplicate %s among %d items", path, len(items))
	}
	return out
}

// apiItems is what a list operation answers as u, every page, as generic JSON.
func (x *exportWorld) apiItems(t *testing.T, u apitest.User, path string) []any {
	t.Helper()
	var out []any
	cursor := ""
	for {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		var page struct {
			Items      []any  `json:"items"`
			NextCursor string `json:"next_cursor"`
		}
		x.e.Do(http.MethodGet, path+sep+"limit=100&cursor="+cursor, u.Token, nil).Want(t, http.StatusOK).Decode(t, &page)
		out = append(out, page.Items...)
		if page.NextCursor == "" {
			return out
		}
		cursor = page.NextCursor
	}
}

// apiObject is what a single read answers as u, as generic JSON.
func (x *exportWorld) apiObject(t *testing.T, u apitest.User, path string) map[string]any {
	t.Helper()
	return x.e.Do(http.MethodGet, path, u.Token, nil).Want(t, http.StatusOK).Map(t)
}

// Every section holds every one of the client's rows, each exactly as the API
// shows that record, in the documented order.
func TestExportIsCompleteAndMatchesTheAPI(t *testing.T) {
	t.Parallel()
	x := newExportWorld(t)
	alice := x.tm.alice
	_, doc := x.export(t, alice)

	var keys []string
	for k := range doc {
		keys = append(keys, k)
	}
	want := append([]string{"format", "format_version", "client_id", "exported_at", "redisclosure_notice", "complete"}, exportSectionNames...)
	if !sameStrings(keys, want) {
		t.Fatalf("members %v, want %v", keys, want)
	}
	var head struct {
		Format             string  `json:"format"`
		FormatVersion      int     `json:"format_version"`
		ClientID           string  `json:"client_id"`
		RedisclosureNotice *string `json:"redisclosure_notice"`
	}
	if err := json.Unmarshal(mustJSON(t, doc), &head); err != nil || head.Format != "waypoint.client-export" || head.FormatVersion != 1 ||
		head.ClientID != alice.ClientID.String() || head.RedisclosureNotice != nil {
		t.Fatalf("head %+v, %v", head, err)
	}

	// Completeness: as many rows as the database holds for alice, in every section.
	for name, table := range map[string]string{"care_team": "care_team_members", "supporters": "supporters",
		"supporter_invitations": "supporter_invitations WHERE used_at IS NULL AND", "consents": "sensitivity_consents",
		"goals": "goals", "goal_check_ins": "goal_check_ins",
		"goal_history": "goal_history", "saved_services": "saved_services", "referrals": "referrals",
		"conversations": "conversations", "messages": "messages", "assessments": "assessments",
		"assessment_goals": "assessment_goals", "access_log": "access_log", "service_feedback": "service_feedback"} {
		where := " WHERE"
		if strings.HasSuffix(table, " AND") {
			where = ""
		}
		n := countRows(t, x.e, `SELECT count(*) FROM `+table+where+` client_id = ?`, alice.ClientID)
		if got := len(sectionItems(t, doc, name)); n == 0 || int64(got) != n {
			t.Errorf("section %s has %d rows; the database holds %d of alice's", name, got, n)
		}
	}

	// Each record as the API shows it.
	x.sameAsTheAPI(t, alice, doc)

	// The documented order: oldest first (ids are UUIDv7), messages by conversation.
	for _, name := range []string{"supporter_invitations", "goals", "goal_check_ins", "goal_history", "referrals", "conversations", "assessments",
		"service_feedback", "access_log"} {
		if ids := fieldOf(sectionItems(t, doc, name), "id"); !slices.IsSorted(ids) {
			t.Errorf("section %s is not oldest first: %v", name, ids)
		}
	}
	msgKeys := []string{}
	for _, m := range sectionItems(t, doc, "messages") {
		msgKeys = append(msgKeys, m.(map[string]any)["conversation_id"].(string)+"/"+m.(map[string]any)["id"].(string))
	}
	if !slices.IsSorted(msgKeys) {
		t.Errorf("messages are not grouped by conversation, oldest first: %v", msgKeys)
	}

	// The parts the fixtures made sure exist.
	for _, s := range []string{`"done":true`, `"lifecycle_status":"entered-in-error"`, `"lifecycle_status":"proposed"`,
		`"to_status":"acknowledged"`, `"read_by":["` + x.tm.wanda.PersonID.String() + `"]`, `"action":"export"`, `"action":"read"`} {
		if !strings.Contains(string(mustJSON(t, doc)), s) {
			t.Errorf("the export has no %s", s)
		}
	}
}

// sameAsTheAPI compares every section of u's export with what the API
// answers u for the same records.
func (x *exportWorld) sameAsTheAPI(t *testing.T, u apitest.User, doc map[string]json.RawMessage) {
	t.Helper()
	alice, client := u, "/v1/clients/"+u.ClientID.String()
	var profile map[string]any
	if err := json.Unmarshal(doc["profile"], &profile); err != nil {
		t.Fatal(err)
	}
	me := x.apiObject(t, alice, "/v1/me")
	delete(me, "supporting") // the clients alice supports are theirs, not in her export
	sameJSON(t, "profile.person", profile["person"], me)
	sameJSON(t, "profile.client", profile["client"], x.apiObject(t, alice, client))
	sameJSON(t, "service_feedback", sectionItems(t, doc, "service_feedback"), []any{x.feedback[u.ClientID]})
	sameJSON(t, "care_team", keyed(t, sectionItems(t, doc, "care_team"), "person_id"),
		keyed(t, x.apiObject(t, alice, client+"/care-team")["members"].([]any), "person_id"))
	sameJSON(t, "supporters", keyed(t, sectionItems(t, doc, "supporters"), "person_id"),
		keyed(t, x.apiItems(t, alice, client+"/supporters"), "person_id"))
	sameJSON(t, "supporter_invitations", keyed(t, sectionItems(t, doc, "supporter_invitations"), "id"),
		keyed(t, x.apiItems(t, alice, client+"/supporter-invitations"), "id"))
	sameJSON(t, "consents", sectionItems(t, doc, "consents"), x.apiObject(t, alice, client+"/consents")["items"])
	goals := x.apiItems(t, alice, client+"/goals?lifecycle_status="+strings.Join(lifecycleStatuses, ","))
	sameJSON(t, "goals", keyed(t, sectionItems(t, doc, "goals"), "id"), keyed(t, goals, "id"))
	var checkIns, hist []any
	for id := range keyed(t, goals, "id") {
		checkIns = append(checkIns, x.apiItems(t, alice, goalPath(id)+"/check-ins")...)
		hist = append(hist, x.apiItems(t, alice, goalPath(id)+"/history")...)
	}
	sameJSON(t, "goal_check_ins", keyed(t, sectionItems(t, doc, "goal_check_ins"), "id"), keyed(t, checkIns, "id"))
	sameJSON(t, "goal_history", keyed(t, sectionItems(t, doc, "goal_history"), "id"), keyed(t, hist, "id"))
	sameJSON(t, "saved_services", keyed(t, sectionItems(t, doc, "saved_services"), "service.id"),
		keyed(t, x.apiItems(t, alice, client+"/saved-services"), "service.id"))
	sameJSON(t, "referrals", keyed(t, sectionItems(t, doc, "referrals"), "id"), keyed(t, x.apiItems(t, alice, client+"/referrals"), "id"))
	convs := x.apiItems(t, alice, "/v1/conversations")
	sameJSON(t, "conversations", keyed(t, sectionItems(t, doc, "conversations"), "id"), keyed(t, convs, "id"))
	var msgs []any
	for id := range keyed(t, convs, "id") {
		msgs = append(msgs, x.apiItems(t, alice, "/v1/conversations/"+id+"/messages")...)
	}
	sameJSON(t, "messages", keyed(t, sectionItems(t, doc, "messages"), "id"), keyed(t, msgs, "id"))
	sameJSON(t, "assessments", keyed(t, sectionItems(t, doc, "assessments"), "id"), keyed(t, x.apiItems(t, alice, client+"/assessments"), "id"))
}

// Nothing of bob's is in alice's export, though both work with wanda and both
// have a record in every table; and the other way round.
func TestExportHoldsNothingOfAnotherClient(t *testing.T) {
	t.Parallel()
	x := newExportWorld(t)
	for _, c := range []struct {
		who, other apitest.User
		marker     string
	}{{x.tm.alice, x.tm.bob, "bob-marker"}, {x.tm.bob, x.tm.alice, "alice-marker"}} {
		r, doc := x.export(t, c.who)
		foreign := append(x.idsOf(t, c.other), c.marker, c.other.PersonID.String(), c.other.ClientID.String())
		for _, s := range foreign {
			if bytes.Contains(r.Body, []byte(s)) {
				t.Errorf("%s's export contains %s's %q", c.who.Subject, c.other.Subject, s)
			}
		}
		for _, name := range exportSectionNames[1:] {
			if len(sectionItems(t, doc, name)) == 0 {
				t.Errorf("%s's export has no %s", c.who.Subject, name)
			}
		}
	}
}

// idsOf is every id of a row of u's in the client-scoped tables.
func (x *exportWorld) idsOf(t *testing.T, u apitest.User) []string {
	t.Helper()
	var ids []string
	for _, table := range []string{"goals", "goal_steps", "goal_check_ins", "goal_history", "saved_services", "referrals",
		"referral_status_history", "conversations", "messages", "access_log", "supporters", "supporter_invitations", "assessments"} {
		var got []string
		if err := x.e.DB.Raw(`SELECT id::text FROM `+table+` WHERE client_id = ?`, u.ClientID).Scan(&got).Error; err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			t.Fatalf("%s has no %s rows: the fixture should have made some", u.Subject, table)
		}
		ids = append(ids, got...)
	}
	var supporters []string
	if err := x.e.DB.Raw(`SELECT person_id::text FROM supporters WHERE client_id = ?`, u.ClientID).Scan(&supporters).Error; err != nil {
		t.Fatal(err)
	}
	return append(ids, supporters...)
}

// Only the client may download their data: the care team, other workers,
// other clients, administrators and the client's supporters (even with
// every share) get 404 (a supporter without any role the 403 of every
// role-less token), and a token without export:read gets 403. Only the
// client's own downloads are logged, each once.
func TestExportIsTheClientsAloneAndLoggedOnce(t *testing.T) {
	t.Parallel()
	x := newExportWorld(t)
	tm, e := x.tm, x.e
	path := "/v1/clients/" + tm.alice.ClientID.String() + "/export"
	ed, sam := e.Login("ed", "directory_editor"), e.Login("sam")
	for _, u := range []apitest.User{tm.bob, tm.will, sam} { // alice's supporters
		code := e.Do(http.MethodPost, "/v1/clients/"+tm.alice.ClientID.String()+"/supporter-invitations", tm.alice.Token,
			map[string]any{"shares": []string{"goals", "referrals", "saved_services", "assessments"}}).Want(t, http.StatusCreated).Map(t)["code"]
		redeem(e, u, code).Want(t, http.StatusCreated)
	}
	for _, u := range []apitest.User{tm.bob, tm.wanda, tm.will, tm.oscar, tm.adam, ed} {
		e.Do(http.MethodGet, path, u.Token, nil).Problem(t, http.StatusNotFound)
	}
	e.Do(http.MethodGet, path, sam.Token, nil).Problem(t, http.StatusForbidden)
	e.Do(http.MethodGet, "/v1/clients/"+uuid.Must(uuid.NewV7()).String()+"/export", tm.alice.Token, nil).Problem(t, http.StatusNotFound)
	noExport := e.Issuer.Token(t, "alice", []string{"client"}, authtest.WithScopes(allScopesBut("export:read")...))
	r := e.Do(http.MethodGet, path, noExport, nil)
	r.Problem(t, http.StatusForbidden)
	if !strings.Contains(r.Header.Get("WWW-Authenticate"), `error="insufficient_scope"`) {
		t.Fatalf("403 without insufficient_scope: %q", r.Header.Get("WWW-Authenticate"))
	}
	if n := countRows(t, e, `SELECT count(*) FROM access_log WHERE action = 'export'`); n != 0 {
		t.Fatalf("%d export entries after refused downloads", n)
	}

	before := countRows(t, e, `SELECT count(*) FROM access_log`)
	app := e.Issuer.Token(t, "alice", []string{"client"}, authtest.WithScopes("export:read"), authtest.WithClaim("azp", "backup-app"))
	_, doc := x.export(t, apitest.User{Token: app, Subject: "alice", ClientID: tm.alice.ClientID})
	if after := countRows(t, e, `SELECT count(*) FROM access_log`); after != before+1 {
		t.Fatalf("one download wrote %d access-log rows", after-before)
	}
	var entry struct {
		ID, Action, Resource, ResourceID, ActorPersonID, AppID, Relationship string
	}
	if err := e.DB.Raw(`SELECT id::text AS id, action, resource, resource_id, actor_person_id::text AS actor_person_id, app_id, relationship
		FROM access_log WHERE client_id = ? AND action = 'export'`, tm.alice.ClientID).Scan(&entry).Error; err != nil {
		t.Fatal(err)
	}
	if entry.Resource != "client" || entry.ResourceID != tm.alice.ClientID.String() || entry.ActorPersonID != tm.alice.PersonID.String() ||
		entry.AppID != "backup-app" || entry.Relationship != "self" {
		t.Fatalf("export entry %+v", entry)
	}
	// Logged before the snapshot, so the download lists itself.
	logged := keyed(t, sectionItems(t, doc, "access_log"), "id")[entry.ID]
	if logged == nil || logged.(map[string]any)["action"] != "export" || logged.(map[string]any)["app_id"] != "backup-app" {
		t.Fatalf("the export's own entry in its access_log: %v", logged)
	}
}

// Private and sud records are the client's: all of them are in the export,
// labelled as the API labels them, and an export holding a sud record
// carries the redisclosure notice (in full in the document, short in the
// header); an export without one carries neither.
func TestExportCarriesPrivateAndSudRecordsWithTheNotice(t *testing.T) {
	t.Parallel()
	x := newExportWorld(t)
	tm, e := x.tm, x.e
	r, doc := x.export(t, tm.alice)
	wantNotice(t, r, false, "an export without sud records")
	if string(doc["redisclosure_notice"]) != "null" {
		t.Fatalf("redisclosure_notice %s without sud records", doc["redisclosure_notice"])
	}
	private := teamGoal(t, e, tm.alice, tm.alice, map[string]any{"title": "Leave him", "visibility": "private"})
	sud := teamGoal(t, e, tm.alice, tm.alice, map[string]any{"title": "Stay in recovery", "sensitivity": "sud"})
	e.Do(http.MethodPost, goalPath(sud.ID)+"/check-ins", tm.alice.Token, map[string]any{"rating": 7}).Want(t, http.StatusCreated)
	// (fill consented wanda for sud, so she may take part in a sud conversation)
	c := createConversation(t, e, tm.alice, map[string]any{"worker_ids": []uuid.UUID{tm.wanda.PersonID}, "sensitivity": "sud"})
	postMessage(t, e, tm.wanda, c.ID, "How was the meeting?")

	r, doc = x.export(t, tm.alice)
	wantNotice(t, r, true, "an export with sud records")
	var notice string
	if err := json.Unmarshal(doc["redisclosure_notice"], &notice); err != nil || notice != domain.RedisclosureNoticeFull {
		t.Fatalf("redisclosure_notice %s, want the full notice", doc["redisclosure_notice"])
	}
	goals := keyed(t, sectionItems(t, doc, "goals"), "id")
	if g, _ := goals[private.ID].(map[string]any); g == nil || g["visibility"] != "private" {
		t.Fatalf("the private goal in the export: %v", g)
	}
	if g, _ := goals[sud.ID].(map[string]any); g == nil || g["sensitivity"] != "sud" {
		t.Fatalf("the sud goal in the export: %v", g)
	}
	if cv, _ := keyed(t, sectionItems(t, doc, "conversations"), "id")[c.ID.String()].(map[string]any); cv == nil || cv["sensitivity"] != "sud" {
		t.Fatalf("the sud conversation in the export: %v", cv)
	}
	x.sameAsTheAPI(t, tm.alice, doc)

	r, doc = x.export(t, tm.bob) // bob has no sud record: alice's label is not his notice
	wantNotice(t, r, false, "bob's export")
	if string(doc["redisclosure_notice"]) != "null" {
		t.Fatalf("bob's redisclosure_notice %s", doc["redisclosure_notice"])
	}
}

// The file name carries the client and the snapshot's date.
func TestExportIsAnAttachment(t *testing.T) {
	t.Parallel()
	x := newExportWorld(t)
	r, doc := x.export(t, x.tm.alice)
	var at time.Time
	if err := json.Unmarshal(doc["exported_at"], &at); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(`attachment; filename="waypoint-export-%s-%s.json"`, x.tm.alice.ClientID, at.UTC().Format("2006-01-02"))
	if got := r.Header.Get("Content-Disposition"); got != want {
		t.Fatalf("Content-Disposition %q, want %q", got, want)
	}
}

func sameStrings(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	sort.Strings(a)
	sort.Strings(b)
	return slices.Equal(a, b)
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sameJSON compares two generic JSON values and reports the first difference.
func sameJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s differs from the API:\n got %s\nwant %s", what, mustJSON(t, got), mustJSON(t, want))
	}
}

func fieldOf(items []any, name string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i], _ = it.(map[string]any)[name].(string)
	}
	return out
}

// holdTable locks table until the returned function is called, so that an
// export reaching a section that reads it waits there, mid-stream.
func holdTable(t *testing.T, e *apitest.Env, table string) (release func()) {
	t.Helper()
	tx := e.DB.Begin()
	if err := tx.Exec(`LOCK TABLE ` + table + ` IN ACCESS EXCLUSIVE MODE`).Error; err != nil {
		t.Fatal(err)
	}
	done := false
	release = func() {
		if !done {
			done = true
			tx.Rollback()
		}
	}
	t.Cleanup(release)
	return release
}

// waitersOn lists the backends waiting for a lock on table. pg_locks shows
// the whole server's locks, and every test database is a clone of one
// template (same table oids): only this database's count.
func waitersOn(t *testing.T, e *apitest.Env, table string) []int64 {
	t.Helper()
	var pids []int64
	if err := e.DB.Raw(`SELECT pid FROM pg_locks WHERE NOT granted AND relation = ?::regclass
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`, table).Scan(&pids).Error; err != nil {
		t.Fatal(err)
	}
	return pids
}

// startExport sends the request and returns once the headers are in.
func startExport(t *testing.T, e *apitest.Env, u apitest.User) *http.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.URL+"/v1/clients/"+u.ClientID.String()+"/export", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+u.Token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

// A database failure after the 200 has started leaves a document the client
// can tell is incomplete: the connection drops, the JSON ends early and there
// is no "complete" member.
func TestExportFailingMidStreamIsIncomplete(t *testing.T) {
	t.Parallel()
	x := newExportWorld(t)
	release := holdTable(t, x.e, "messages")
	defer release()
	res := startExport(t, x.e, x.tm.alice)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	var pids []int64
	waitFor(t, "the export to wait for the messages table", func() bool {
		pids = waitersOn(t, x.e, "messages")
		return len(pids) == 1
	})
	var ok bool
	if err := x.e.DB.Raw(`SELECT pg_terminate_backend(?)`, pids[0]).Scan(&ok).Error; err != nil || !ok {
		t.Fatalf("terminate the export's backend: %v", err)
	}
	body, err := io.ReadAll(res.Body)
	if err == nil {
		t.Fatalf("the body ended cleanly after a database failure: ...%s", body[max(0, len(body)-200):])
	}
	if !bytes.HasPrefix(body, []byte(`{"format":"waypoint.client-export"`)) || !bytes.Contains(body, []byte(`"referrals":[`)) {
		t.Fatalf("the export did not start as it should: %.300s", body)
	}
	if json.Valid(body) || bytes.Contains(body, []byte(`"complete"`)) {
		t.Fatalf("an interrupted export looks complete: ...%s", body[max(0, len(body)-200):])
	}
}

// At most four downloads run at once per server, one per client: a
// client's second gets 429 and a fifth client's 503, both with Retry-After,
// and the four waiting finish once they can.
func TestExportsAreBoundedPerServer(t *testing.T) {
	t.Parallel()
	x := newExportWorld(t)
	release := holdTable(t, x.e, "messages")
	running := []*http.Response{startExport(t, x.e, x.tm.alice)}
	waitFor(t, "alice's export to wait for the messages table", func() bool { return len(waitersOn(t, x.e, "messages")) == 1 })
	again := x.e.Do(http.MethodGet, "/v1/clients/"+x.tm.alice.ClientID.String()+"/export", x.tm.alice.Token, nil)
	again.Problem(t, http.StatusTooManyRequests)
	for i := 0; i < 3; i++ {
		running = append(running, startExport(t, x.e, x.e.Login(fmt.Sprintf("carol%d", i), "client")))
	}
	waitFor(t, "four exports to wait for the messages table", func() bool { return len(waitersOn(t, x.e, "messages")) == 4 })
	r := x.e.Do(http.MethodGet, "/v1/clients/"+x.tm.bob.ClientID.String()+"/export", x.tm.bob.Token, nil)
	r.Problem(t, http.StatusServiceUnavailable)
	if r.Header.Get("Retry-After") == "" || again.Header.Get("Retry-After") == "" {
		t.Fatal("a refused export without Retry-After")
	}
	release()
	for _, res := range running {
		body, err := io.ReadAll(res.Body)
		if err != nil || res.StatusCode != http.StatusOK || !json.Valid(body) || !bytes.HasSuffix(body, []byte(`"complete":true}`+"\n")) {
			t.Fatalf("a waiting export: %d %v ...%s", res.StatusCode, err, body[max(0, len(body)-200):])
		}
	}
	if n := countRows(t, x.e, `SELECT count(*) FROM access_log WHERE action = 'export' AND client_id = ?`, x.tm.bob.ClientID); n != 0 {
		t.Fatalf("the refused download was logged %d times", n)
	}
	x.export(t, x.tm.bob) // a slot is free again
}
