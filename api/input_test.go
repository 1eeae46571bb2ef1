package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"

	"github.com/waypoint-portal/waypoint/api"
	"github.com/waypoint-portal/waypoint/api/apitest"
)

// hostileCase is a request that must be refused with a 4xx problem naming
// field (or, with field "", just a 4xx problem), never 5xx.
type hostileCase struct {
	name, method, path, body string
	headers                  []string
	status                   int
	field                    string
}

func (tc hostileCase) run(t *testing.T, e *apitest.Env, token string) {
	t.Helper()
	var body any
	if tc.body != "" {
		body = tc.body
	}
	r := e.Do(tc.method, tc.path, token, body, tc.headers...)
	if r.Status >= 500 || r.Status != tc.status {
		t.Errorf("%s: %s %s = %d, want %d: %s", tc.name, tc.method, tc.path, r.Status, tc.status, r.Body)
		return
	}
	p := r.Problem(t, tc.status) // also proves the body is JSON
	if tc.field != "" && !apitest.HasErrorAt(p, tc.field) {
		t.Errorf("%s: problem does not name %s: %s", tc.name, tc.field, r.Body)
	}
}

// TestHostileInputIsRefused covers the review's 5xx and NaN findings as a
// class: every date field, integer bound, non-finite number and text that
// cannot be stored is a 422 naming the field, and changes nothing.
func TestHostileInputIsRefused(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	e := w.e
	seedDirectory(t, e.Store)
	g := newGoal(t, w, w.alice, w.alice, map[string]any{"steps": []any{map[string]any{"title": "Call the landlord"}}})
	st := g.Steps[0]
	goal, step := goalPath(g.ID), goalPath(g.ID)+"/steps/"+st.ID
	goalIf := []string{"If-Match", fmt.Sprintf(`"%d"`, g.Version)}
	stepIf := []string{"If-Match", fmt.Sprintf(`"%d"`, st.Version)}
	var client struct{ Version int64 }
	e.Do(http.MethodGet, w.aliceURL, w.alice.Token, nil).Want(t, http.StatusOK).Decode(t, &client)
	clientIf := []string{"If-Match", fmt.Sprintf(`"%d"`, client.Version)}
	contact := func(member, v string) string { return `{"contact_preferences":{"` + member + `":"` + v + `"}}` }

	cases := append(hostileParameterCases(), []hostileCase{
		// Dates: PostgreSQL refused year 0 with a 500; the range is now 1900-9999 everywhere.
		{"goal target year 0", "POST", goalsPath(w.alice), `{"title":"x","target_date":"0000-01-01"}`, nil, 422, "body.target_date"},
		{"goal target 1899", "POST", goalsPath(w.alice), `{"title":"x","target_date":"1899-12-31"}`, nil, 422, "body.target_date"},
		{"initial step due year 0", "POST", goalsPath(w.alice), `{"title":"x","steps":[{"title":"a","due_date":"0000-01-01"}]}`, nil, 422, "body.steps[0].due_date"},
		{"patch goal target year 0", "PATCH", goal, `{"target_date":"0000-01-01"}`, goalIf, 422, "body.target_date"},
		{"new step due year 0", "POST", goal + "/steps", `{"title":"a","due_date":"0000-01-01"}`, nil, 422, "body.due_date"},
		{"patch step due year 0", "PATCH", step, `{"due_date":"0000-01-01"}`, stepIf, 422, "body.due_date"},
		// Integers beyond their integer columns.
		{"patch step position int32+1", "PATCH", step, `{"position":2147483648}`, stepIf, 422, "body.position"},
		{"patch step position int64 max", "PATCH", step, `{"position":9223372036854775807}`, stepIf, 422, "body.position"},
		{"new step position int32+1", "POST", goal + "/steps", `{"title":"a","position":2147483648}`, nil, 422, "body.position"},
		// Text PostgreSQL cannot store, named down to the member.
		{"lone high surrogate in contact preferences", "PATCH", w.aliceURL, contact("best_times", `\ud800`), clientIf, 422, "body.contact_preferences.best_times"},
		{"lone low surrogate in phone", "PATCH", w.aliceURL, contact("phone", `\udc00`), clientIf, 422, "body.contact_preferences.phone"},
		{"NUL in a strength", "PATCH", w.aliceURL, `{"strengths":["ok","\u0000"]}`, clientIf, 422, "body.strengths[1]"},
		{"lone surrogate in a title", "POST", goalsPath(w.alice), `{"title":"x\ud800y"}`, nil, 422, "body.title"},
		{"reversed pair in a title", "POST", goalsPath(w.alice), `{"title":"\udc00\ud800"}`, nil, 422, "body.title"},
		{"invalid UTF-8 in a title", "POST", goalsPath(w.alice), "{\"title\":\"x\xff\"}", nil, 422, "body.title"},
		{"lone surrogate under another +json type", "POST", goalsPath(w.alice), `{"title":"\ud800"}`, []string{"Content-Type", "application/vnd.example+json"}, 422, "body.title"},
		{"NUL in a step title", "PATCH", step, `{"title":"a\u0000"}`, stepIf, 422, "body.title"},
		// Phone numbers are one line of visible text.
		{"bell in phone", "PATCH", w.aliceURL, contact("phone", `555\u0007`), clientIf, 422, "body.contact_preferences.phone"},
		{"newline in phone", "PATCH", w.aliceURL, contact("phone", `555\n0100`), clientIf, 422, "body.contact_preferences.phone"},
		{"right-to-left override in phone", "PATCH", w.aliceURL, contact("phone", `\u202e0100 555`), clientIf, 422, "body.contact_preferences.phone"},
		// Keys match exactly, on POST as on PATCH.
		{"Title on create", "POST", goalsPath(w.alice), `{"Title":"x"}`, nil, 422, "body.Title"},
		{"Title beside title on create", "POST", goalsPath(w.alice), `{"title":"x","Title":"y"}`, nil, 422, "body.Title"},
		{"Title on patch", "PATCH", goal, `{"Title":"x"}`, goalIf, 422, "body.Title"},
		{"TITLE on step patch", "PATCH", step, `{"TITLE":"x"}`, stepIf, 422, "body.TITLE"},
	}...)
	for _, tc := range cases {
		tc.run(t, e, w.alice.Token)
	}

	// Nothing was written: the goal, its step and the client are as they were.
	after := getGoal(t, w, w.alice, g.ID)
	if after.Version != g.Version || after.Steps[0].Version != st.Version || len(after.Steps) != 1 || after.TargetDate != nil {
		t.Errorf("goal changed: version %d -> %d, steps %v", g.Version, after.Version, after.Steps)
	}
	var clientAfter struct {
		Version            int64
		ContactPreferences map[string]any `json:"contact_preferences"`
	}
	e.Do(http.MethodGet, w.aliceURL, w.alice.Token, nil).Want(t, http.StatusOK).Decode(t, &clientAfter)
	if clientAfter.Version != client.Version {
		t.Errorf("client changed: version %d -> %d (%v)", client.Version, clientAfter.Version, clientAfter.ContactPreferences)
	}
	if n := countRows(t, e, `SELECT count(*) FROM goals`); n != 1 {
		t.Errorf("%d goals, want 1", n)
	}
}

// hostileParameterCases are the query parameters of the review's findings:
// integers past their bounds, non-finite numbers, out-of-range times, the nil
// UUID as a filter, unstorable text, a scalar sent twice.
func hostileParameterCases() []hostileCase {
	return []hostileCase{
		{"search page int64 max", "GET", "/v1/services?page=9223372036854775807", "", nil, 422, "query.page"},
		{"search page past the bound", "GET", "/v1/services?page=1000001", "", nil, 422, "query.page"},
		{"terms page int64 max", "GET", "/v1/taxonomy_terms?page=9223372036854775807", "", nil, 422, "query.page"},
		{"lat NaN", "GET", "/v1/services?lat=NaN&lon=0", "", nil, 422, "query.lat"},
		{"lat Infinity", "GET", "/v1/services?lat=Infinity&lon=0", "", nil, 422, "query.lat"},
		{"lon -Inf", "GET", "/v1/services?lat=0&lon=-Inf", "", nil, 422, "query.lon"},
		{"radius NaN", "GET", "/v1/services?lat=47.61&lon=-122.33&radius_km=NaN", "", nil, 422, "query.radius_km"},
		{"radius +Infinity", "GET", "/v1/services?lat=47.61&lon=-122.33&radius_km=%2BInfinity", "", nil, 422, "query.radius_km"},
		{"age NaN", "GET", "/v1/services?age=NaN", "", nil, 422, "query.age"},
		{"age nan", "GET", "/v1/services?age=nan", "", nil, 422, "query.age"},
		{"age overflow", "GET", "/v1/services?age=1e999", "", nil, 422, "query.age"},
		{"open_now at year 0", "GET", "/v1/services?open_now=true&at=0000-01-01T00:00:00Z", "", nil, 422, "query.at"},
		{"modified_after year 0", "GET", "/v1/services?modified_after=0000-01-01T00:00:00Z", "", nil, 422, "query.modified_after"},
		{"nil taxonomy term", "GET", "/v1/services?taxonomy_term_id=00000000-0000-0000-0000-000000000000", "", nil, 422, "query.taxonomy_term_id"},
		{"nil organization", "GET", "/v1/services?organization_id=00000000-0000-0000-0000-000000000000", "", nil, 422, "query.organization_id"},
		{"nil parent term", "GET", "/v1/taxonomy_terms?parent_id=00000000-0000-0000-0000-000000000000", "", nil, 422, "query.parent_id"},
		{"NUL in search", "GET", "/v1/services?search=food%00", "", nil, 422, "query.search"},
		{"invalid UTF-8 in search", "GET", "/v1/services?search=%ED%A0%80", "", nil, 422, "query.search"},
		{"NUL in a client query", "GET", "/v1/clients?q=%00", "", nil, 422, "query.q"},
		{"limit twice", "GET", "/v1/clients?limit=5&limit=6", "", nil, 422, "query.limit"},
		{"sort twice", "GET", "/v1/services?sort=name&sort=relevance", "", nil, 422, "query.sort"},
	}
}

// TestValidInputAtTheEdges shows the limits are where the documentation puts
// them: the first and last accepted dates, a huge position (clamped to the
// end), a phone with the usual punctuation, astral characters in text.
func TestValidInputAtTheEdges(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	e := w.e
	g := newGoal(t, w, w.alice, w.alice, map[string]any{"target_date": "1900-01-01",
		"title": "Learn to cook 🍲", "steps": []any{map[string]any{"title": "a", "due_date": "9999-12-31"}}})
	if *g.TargetDate != "1900-01-01" || *g.Steps[0].DueDate != "9999-12-31" || g.Title != "Learn to cook 🍲" {
		t.Fatalf("edge values not kept: %+v", g)
	}
	e.Do(http.MethodPost, goalPath(g.ID)+"/steps", w.alice.Token, map[string]any{"title": "b"}).Want(t, http.StatusCreated)
	st := g.Steps[0]
	r := e.Do(http.MethodPatch, goalPath(g.ID)+"/steps/"+st.ID, w.alice.Token, `{"position":2147483647}`,
		"If-Match", fmt.Sprintf(`"%d"`, st.Version)).Want(t, http.StatusOK)
	if r.Map(t)["position"].(float64) != 2 {
		t.Fatalf("position past the end is last: %s", r.Body)
	}
	var c struct{ Version int64 }
	e.Do(http.MethodGet, w.aliceURL, w.alice.Token, nil).Want(t, http.StatusOK).Decode(t, &c)
	e.Do(http.MethodPatch, w.aliceURL, w.alice.Token, `{"contact_preferences":{"phone":"+1 (206) 555-0100 ext. 12"}}`,
		"If-Match", fmt.Sprintf(`"%d"`, c.Version)).Want(t, http.StatusOK)
}

// TestListParametersRepeated: a list filter takes a,b and x=a&x=b alike.
func TestListParametersRepeated(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	e := w.e
	seedDirectory(t, e.Store)
	active := newGoal(t, w, w.alice, w.alice, map[string]any{"category": "housing"})
	planned := newGoal(t, w, w.alice, w.alice, map[string]any{"lifecycle_status": "planned", "category": "food"})
	newGoal(t, w, w.alice, w.alice, map[string]any{"category": "health"})
	want := []string{active.ID, planned.ID}
	for _, q := range []string{
		"lifecycle_status=active,planned&category=housing,food",
		"lifecycle_status=active&lifecycle_status=planned&category=housing&category=food",
		"lifecycle_status=active,planned&category=housing&category=food",
	} {
		got := listIDs(t, e.Do(http.MethodGet, goalsPath(w.alice)+"?"+q, w.alice.Token, nil).Want(t, http.StatusOK))
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", q, got, want)
		}
	}
	// A bad value among repeated ones is named, not dropped.
	p := e.Do(http.MethodGet, goalsPath(w.alice)+"?lifecycle_status=active&lifecycle_status=bogus", w.alice.Token, nil).Problem(t, 422)
	if !apitest.HasErrorAt(p, "query.lifecycle_status[1]") {
		t.Errorf("bogus status not named: %v", p)
	}
	// The directory's status list too.
	commas, _ := search(t, e, w.alice.Token, url.Values{"status": {"active,inactive"}})
	repeated, _ := search(t, e, w.alice.Token, url.Values{"status": {"active", "inactive"}})
	if len(commas.names()) == 0 || !slices.Equal(commas.names(), repeated.names()) {
		t.Errorf("status lists differ: %v vs %v", commas.names(), repeated.names())
	}
	active1, _ := search(t, e, w.alice.Token, url.Values{"status": {"active"}})
	if len(repeated.names()) <= len(active1.names()) {
		t.Errorf("the second status was dropped: %v", repeated.names())
	}
}

// TestIntegerInputsAreBounded: every integer an operation accepts (query
// parameter or request body member) declares bounds inside PostgreSQL's
// integer, so none can overflow a column or an OFFSET. New fields are caught.
func TestIntegerInputsAreBounded(t *testing.T) {
	t.Parallel()
	oapi := api.New(api.Deps{}).API().OpenAPI()
	reg := oapi.Components.Schemas
	checked := 0
	check := func(where string, s *huma.Schema) {
		if s == nil || s.Type != huma.TypeInteger {
			return
		}
		checked++
		if s.Minimum == nil || s.Maximum == nil || *s.Minimum < -2147483648 || *s.Maximum > 2147483647 {
			t.Errorf("%s: integer input without int32 bounds (minimum %s, maximum %s)", where, bound(s.Minimum), bound(s.Maximum))
		}
	}
	var walk func(where string, s *huma.Schema, depth int)
	walk = func(where string, s *huma.Schema, depth int) {
		for s != nil && s.Ref != "" {
			s = reg.SchemaFromRef(s.Ref)
		}
		if s == nil || depth > 12 {
			return
		}
		check(where, s)
		for name, p := range s.Properties {
			walk(where+"."+name, p, depth+1)
		}
		walk(where+"[]", s.Items, depth+1)
	}
	for path, item := range oapi.Paths {
		for method, op := range map[string]*huma.Operation{"GET": item.Get, "POST": item.Post, "PUT": item.Put, "PATCH": item.Patch, "DELETE": item.Delete} {
			if op == nil {
				continue
			}
			for _, p := range op.Parameters {
				check(method+" "+path+" "+p.In+"."+p.Name, p.Schema)
				if p.Schema != nil {
					check(method+" "+path+" "+p.In+"."+p.Name+"[]", p.Schema.Items)
				}
			}
			if op.RequestBody != nil {
				for ct, m := range op.RequestBody.Content {
					walk(method+" "+path+" "+ct+" body", m.Schema, 0)
				}
			}
		}
	}
	if checked < 5 {
		t.Fatalf("only %d integer inputs found: the walk is broken", checked)
	}
}

func bound(f *float64) string {
	if f == nil {
		return "none"
	}
	return fmt.Sprint(*f)
}

// TestDirectoryPeriodsAndIDs: a schedule or cost option that ends before it
// starts is 422, as are out-of-range dates and the nil UUID as a reference.
func TestDirectoryPeriodsAndIDs(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	seedDirectory(t, e.Store)
	adam := e.Login("adam", "admin")
	svc := func(extra string) string {
		return `{"organization_id":"` + orgSeattle.String() + `","name":"Evening pantry","status":"active"` + extra + `}`
	}
	hours := func(from, to string) string {
		return `,"schedules":[{"valid_from":"` + from + `","valid_to":"` + to + `","byday":"MO","opens_at":"09:00","closes_at":"12:00"}]`
	}
	for _, tc := range []hostileCase{
		{"schedule ends before it starts", "POST", "/v1/services", svc(hours("2027-01-01", "2026-12-31")), nil, 422, "body.schedules[0].valid_to"},
		{"schedule from year 0", "POST", "/v1/services", svc(hours("0000-01-01", "2026-12-31")), nil, 422, "body.schedules[0].valid_from"},
		{"cost option ends before it starts", "POST", "/v1/services", svc(`,"cost_options":[{"valid_from":"2026-02-01","valid_to":"2026-01-01","amount":5}]`), nil, 422, "body.cost_options[0].valid_to"},
		{"all-zero taxonomy term", "POST", "/v1/services", svc(`,"attributes":[{"taxonomy_term_id":"00000000-0000-0000-0000-000000000000"}]`), nil, 422, "body.attributes[0].taxonomy_term_id"},
		{"all-zero program", "POST", "/v1/services", svc(`,"program_id":"00000000-0000-0000-0000-000000000000"`), nil, 422, "body.program_id"},
		{"all-zero organization of a location", "POST", "/v1/locations", `{"location_type":"physical","organization_id":"00000000-0000-0000-0000-000000000000"}`, nil, 422, "body.organization_id"},
	} {
		tc.run(t, e, adam.Token)
	}
	if n := countRows(t, e, `SELECT count(*) FROM services WHERE name = 'Evening pantry'`); n != 0 {
		t.Fatalf("%d refused services were stored", n)
	}
	// A one-day period is fine.
	e.Do(http.MethodPost, "/v1/services", adam.Token, svc(hours("2026-12-24", "2026-12-24"))).Want(t, http.StatusCreated)
}

// TestTokenWithNULSubject: a validly signed token whose sub contains NUL is
// 401 (it was a 500 from the person lookup), and provisions nobody.
func TestTokenWithNULSubject(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	for _, sub := range []string{"mallory\x00", "\x00", "mal\u0007lory"} {
		r := e.Do(http.MethodGet, "/v1/me", e.Issuer.Token(t, sub, []string{"client"}), nil)
		r.Problem(t, http.StatusUnauthorized)
		if !strings.Contains(r.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Errorf("sub %q: WWW-Authenticate %q", sub, r.Header.Get("WWW-Authenticate"))
		}
	}
	if n := countPeople(t, e); n != 0 {
		t.Fatalf("%d people provisioned from tokens with unstorable subjects", n)
	}
}
