package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/api/apitest"
	"github.com/waypoint-portal/waypoint/auth/authtest"
	"github.com/waypoint-portal/waypoint/domain"
	"github.com/waypoint-portal/waypoint/domain/demo"
)

type searchPage struct {
	TotalItems int  `json:"total_items"`
	TotalPages int  `json:"total_pages"`
	PageNumber int  `json:"page_number"`
	Size       int  `json:"size"`
	FirstPage  bool `json:"first_page"`
	LastPage   bool `json:"last_page"`
	Empty      bool `json:"empty"`
	Contents   []struct {
		ID         uuid.UUID `json:"id"`
		Name       string    `json:"name"`
		DistanceKM *float64  `json:"distance_km"`
	} `json:"contents"`
}

func (p searchPage) names() []string {
	out := []string{}
	for _, c := range p.Contents {
		out = append(out, c.Name)
	}
	return out
}

func search(t *testing.T, e *apitest.Env, token string, q url.Values) (searchPage, *apitest.Resp) {
	t.Helper()
	r := e.Do(http.MethodGet, "/v1/services?"+q.Encode(), token, nil).Want(t, http.StatusOK)
	var p searchPage
	r.Decode(t, &p)
	return p, r
}

func names(ids ...uuid.UUID) []string {
	out := []string{}
	for _, id := range ids {
		out = append(out, serviceByName[id])
	}
	return out
}

// Wednesday 4 June 2025, 18:00 UTC: 11:00 in Seattle, 14:00 in New York, 08:00 in Honolulu.
const wednesdayNoonish = "2025-06-04T18:00:00Z"

func TestDirectorySearchFilters(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	seedDirectory(t, e.Store)
	alice := e.Login("alice", "client")
	near := url.Values{"lat": {"47.61"}, "lon": {"-122.33"}}

	for _, tc := range []struct {
		name string
		q    url.Values
		want []string
	}{
		// default: active services by name; the inactive one is left out
		{"all active", url.Values{}, names(svcBallard, svcBrooklyn, svcDowntown, svcShelter, svcHonolulu, svcYouth)},
		{"inactive on request", url.Values{"status": {"inactive"}}, names(svcClosed)},
		// full text: stemming finds "groceries" in descriptions; "pantry" in names
		{"text", url.Values{"search": {"pantry"}, "sort": {"name"}}, names(svcBallard, svcBrooklyn, svcDowntown, svcHonolulu)},
		{"text phrase and exclusion", url.Values{"search": {`groceries -weekday`}}, names(svcDowntown)},
		// point and radius, nearest first; the two downtown services tie on distance and go by name
		{"within 5 km", with(near, "radius_km", "5"), names(svcDowntown, svcYouth)},
		{"within 10 km by distance", with(near, "radius_km", "10"), names(svcDowntown, svcYouth, svcShelter, svcBallard)},
		{"language es matches spa", url.Values{"language": {"es"}}, names(svcBallard, svcBrooklyn, svcDowntown)},
		{"language spa matches es", url.Values{"language": {"spa"}}, names(svcBallard, svcBrooklyn, svcDowntown)},
		{"language so", url.Values{"language": {"so"}}, names(svcYouth)},
		{"age 30 excludes youth", url.Values{"age": {"30"}}, names(svcBallard, svcBrooklyn, svcDowntown, svcShelter, svcHonolulu)},
		{"age 15 excludes adults-only", url.Values{"age": {"15"}}, names(svcBallard, svcBrooklyn, svcDowntown, svcHonolulu, svcYouth)},
		{"taxonomy includes descendants", url.Values{"taxonomy_term_id": {termFood.String()}}, names(svcBallard, svcBrooklyn, svcDowntown, svcHonolulu)},
		{"taxonomy leaf", url.Values{"taxonomy_term_id": {termMobile.String()}}, names(svcDowntown)},
		{"organization", url.Values{"organization_id": {orgNY.String()}}, names(svcBrooklyn)},
		{"modified after", url.Values{"modified_after": {"2025-03-01T00:00:00Z"}, "taxonomy_term_id": {termPantries.String()}},
			names(svcBrooklyn, svcDowntown, svcHonolulu)},
		// open now, each place in its own zone: Seattle 11:00 (Ballard open, Wednesday-evening pantry
		// not yet), New York 14:00 (open), Honolulu 08:00 (same hours, not open yet)
		{"open now across zones", url.Values{"open_now": {"true"}, "at": {wednesdayNoonish}}, names(svcBallard, svcBrooklyn)},
		// Wednesday 17:30 in Seattle (evening pantry open, weekday one just closed), 20:30 in New York, 14:30 in Honolulu
		{"open in the evening", url.Values{"open_now": {"true"}, "at": {"2025-06-05T00:30:00Z"}}, names(svcDowntown, svcHonolulu)},
		// overnight: Thursday 06:30 in Seattle is inside Wednesday's 20:00-08:00 night
		{"overnight spill", url.Values{"open_now": {"true"}, "at": {"2025-06-05T13:30:00Z"}}, names(svcBrooklyn, svcShelter)},
		// Monday 07:00 in Seattle is inside Sunday night's shelter hours (week wrap)
		{"sunday night into monday", url.Values{"open_now": {"true"}, "at": {"2025-06-09T14:00:00Z"}, "organization_id": {orgSeattle.String()}}, names(svcShelter)},
		{"combined", with(with(with(with(near, "radius_km", "10"), "search", "pantry"), "open_now", "true"), "language", "es"),
			nil}, // needs at; filled below
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			if tc.name == "combined" {
				q.Set("at", wednesdayNoonish)
				tc.want = names(svcBallard)
			}
			p, _ := search(t, e, alice.Token, q)
			if !reflect.DeepEqual(p.names(), tc.want) {
				t.Fatalf("got %v, want %v", p.names(), tc.want)
			}
			if p.TotalItems != len(tc.want) {
				t.Fatalf("total_items %d, want %d", p.TotalItems, len(tc.want))
			}
		})
	}

	// Distances are reported, nearest first, in km.
	p, _ := search(t, e, alice.Token, with(near, "radius_km", "10"))
	want := []float64{0.3, 0.3, 7.0, 7.7}
	for i, c := range p.Contents {
		if c.DistanceKM == nil || *c.DistanceKM < want[i]-0.1 || *c.DistanceKM > want[i]+0.1 {
			t.Fatalf("%s distance %v, want about %v", c.Name, *c.DistanceKM, want[i])
		}
	}
	// Without a point there is no distance.
	if p, _ := search(t, e, alice.Token, url.Values{"search": {"shelter"}}); len(p.Contents) != 1 || p.Contents[0].DistanceKM != nil {
		t.Fatalf("shelter search: %+v", p)
	}
}

func with(q url.Values, k, v string) url.Values {
	out := url.Values{}
	for kk, vv := range q {
		out[kk] = append([]string(nil), vv...)
	}
	out.Set(k, v)
	return out
}

// A misspelt search that finds nothing is corrected from the directory's words.
func TestDirectorySearchTypo(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	seedDirectory(t, e.Store)
	alice := e.Login("alice", "client")
	p, r := search(t, e, alice.Token, url.Values{"search": {"food pantyr"}, "sort": {"name"}})
	if !reflect.DeepEqual(p.names(), names(svcBallard, svcBrooklyn, svcHonolulu)) {
		t.Fatalf("typo search found %v", p.names())
	}
	if r.Header.Get("Search-Corrected") != "food pantry" {
		t.Fatalf("Search-Corrected %q", r.Header.Get("Search-Corrected"))
	}
	// A word close to nothing stays a miss.
	if p, _ := search(t, e, alice.Token, url.Values{"search": {"xylophone"}}); p.TotalItems != 0 || !p.Empty || len(p.Contents) != 0 {
		t.Fatalf("nonsense search: %+v", p)
	}
}

func TestDirectorySearchPaginationAndNDJSON(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	seedDirectory(t, e.Store)
	alice := e.Login("alice", "client")
	all := names(svcBallard, svcBrooklyn, svcDowntown, svcShelter, svcHonolulu, svcYouth)
	var got []string
	for page := 1; page <= 3; page++ {
		p, _ := search(t, e, alice.Token, url.Values{"per_page": {"4"}, "page": {itoa(page)}})
		wantSize := []int{4, 2, 0}[page-1]
		if p.TotalItems != 6 || p.TotalPages != 2 || p.PageNumber != page || p.Size != wantSize ||
			p.FirstPage != (page == 1) || p.LastPage != (page >= 2) || p.Empty != (wantSize == 0) {
			t.Fatalf("page %d: %+v", page, p)
		}
		got = append(got, p.names()...)
	}
	if !reflect.DeepEqual(got, all) {
		t.Fatalf("pages gave %v, want %v", got, all)
	}

	// ndjson: every match, one service per line, no pagination.
	r := e.Do(http.MethodGet, "/v1/services?format=ndjson&per_page=1&search=pantry&sort=name", alice.Token, nil).Want(t, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Fatalf("content type %q", ct)
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(r.Body))
	for sc.Scan() {
		var s struct {
			Name         string `json:"name"`
			Organization struct {
				Name string `json:"name"`
			} `json:"organization"`
		}
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		if s.Organization.Name == "" {
			t.Fatalf("line without organization: %s", sc.Text())
		}
		lines = append(lines, s.Name)
	}
	if !reflect.DeepEqual(lines, names(svcBallard, svcBrooklyn, svcDowntown, svcHonolulu)) {
		t.Fatalf("ndjson lines %v", lines)
	}
	// Bad parameters fail before the stream starts, as problem+json.
	e.Do(http.MethodGet, "/v1/services?format=ndjson&taxonomy_term_id="+uuid.NewString(), alice.Token, nil).Problem(t, http.StatusUnprocessableEntity)
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

func TestDirectorySearchBadParameters(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	seedDirectory(t, e.Store)
	alice := e.Login("alice", "client")
	for _, tc := range []struct {
		query, field string
		status       int
	}{
		{"lat=200&lon=0", "query.lat", 422},
		{"lat=47&lon=-190", "query.lon", 422},
		{"lat=47&lon=-122&radius_km=-1", "query.radius_km", 422},
		{"lat=47&lon=-122&radius_km=0", "query.radius_km", 422},
		{"lat=47", "query.lon", 422},
		{"radius_km=5", "query.lat", 422},
		{"per_page=10000", "query.per_page", 422},
		{"page=0", "query.page", 422},
		{"taxonomy_term_id=" + uuid.NewString(), "query.taxonomy_term_id", 422},
		{"taxonomy_term_id=not-a-uuid", "query.taxonomy_term_id", 422},
		{"sort=distance", "query.sort", 422},
		{"sort=relevance", "query.sort", 422},
		{"sort=random", "query.sort", 422},
		{"format=xml", "query.format", 422},
		{"language=spanish!", "query.language", 422},
		{"age=-3", "query.age", 422},
		{"at=yesterday&open_now=true", "query.at", 422},
		{"at=2025-06-04T18:00:00Z", "query.at", 422},
		{"open_now=maybe", "query.open_now", 422},
		{"status=closed", "query.status[0]", 422},
		{"modified_after=2025-13-01", "query.modified_after", 422},
	} {
		r := e.Do(http.MethodGet, "/v1/services?"+tc.query, alice.Token, nil)
		p := r.Problem(t, tc.status)
		if !apitest.HasErrorAt(p, tc.field) {
			t.Errorf("%s: problem does not name %s: %s", tc.query, tc.field, r.Body)
		}
	}
	// Reading needs services:read.
	tok := e.Issuer.Token(t, "carol", []string{"client"}, authtest.WithScopes("profile:read"))
	r := e.Do(http.MethodGet, "/v1/services", tok, nil)
	r.Problem(t, http.StatusForbidden)
	if !strings.Contains(r.Header.Get("WWW-Authenticate"), `error="insufficient_scope"`) {
		t.Fatalf("WWW-Authenticate %q", r.Header.Get("WWW-Authenticate"))
	}
}

func TestDirectoryReadServiceOrganizationTaxonomy(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	seedDirectory(t, e.Store)
	bob := e.Login("bob", "client")
	r := e.Do(http.MethodGet, "/v1/services/"+svcBallard.String(), bob.Token, nil).Want(t, http.StatusOK)
	if r.Header.Get("ETag") != `"1"` {
		t.Fatalf("ETag %q", r.Header.Get("ETag"))
	}
	m := r.Map(t)
	org := m["organization"].(map[string]any)
	sal := m["service_at_locations"].([]any)[0].(map[string]any)
	loc := sal["location"].(map[string]any)
	term := m["attributes"].([]any)[0].(map[string]any)["taxonomy_term"].(map[string]any)
	sched := m["schedules"].([]any)[0].(map[string]any)
	if org["name"] != "Seattle Neighbors" || loc["name"] != "Ballard Hall" || loc["timezone"] != "America/Los_Angeles" ||
		term["name"] != "Food Pantries" || term["parent_id"] != termFood.String() ||
		sched["opens_at"] != "09:00:00" || sched["byday"] != "MO,TU,WE,TH,FR" || len(m["languages"].([]any)) != 2 ||
		m["version"].(float64) != 1 || m["last_modified"] != "2025-01-01T00:00:00Z" {
		t.Fatalf("service detail: %s", r.Body)
	}
	e.Do(http.MethodGet, "/v1/services/"+uuid.NewString(), bob.Token, nil).Problem(t, http.StatusNotFound)

	o := e.Do(http.MethodGet, "/v1/organizations/"+orgNY.String(), bob.Token, nil).Want(t, http.StatusOK).Map(t)
	if o["name"] != "Brooklyn Aid" || len(o["services"].([]any)) != 1 || len(o["locations"].([]any)) != 1 {
		t.Fatalf("organization: %v", o)
	}
	e.Do(http.MethodGet, "/v1/organizations/"+uuid.NewString(), bob.Token, nil).Problem(t, http.StatusNotFound)

	// Taxonomy: top level, then down the hierarchy.
	var terms struct {
		TotalItems int `json:"total_items"`
		Contents   []struct {
			ID       uuid.UUID `json:"id"`
			Name     string    `json:"name"`
			ParentID uuid.UUID `json:"parent_id"`
		} `json:"contents"`
	}
	e.Do(http.MethodGet, "/v1/taxonomy_terms?top_only=true", bob.Token, nil).Want(t, http.StatusOK).Decode(t, &terms)
	if terms.TotalItems != 2 || terms.Contents[0].Name != "Food" || terms.Contents[1].Name != "Housing" {
		t.Fatalf("top terms %+v", terms)
	}
	e.Do(http.MethodGet, "/v1/taxonomy_terms?parent_id="+termFood.String(), bob.Token, nil).Want(t, http.StatusOK).Decode(t, &terms)
	if terms.TotalItems != 1 || terms.Contents[0].ID != termPantries || terms.Contents[0].ParentID != termFood {
		t.Fatalf("children of Food %+v", terms)
	}
	e.Do(http.MethodGet, "/v1/taxonomy_terms?per_page=2&page=2", bob.Token, nil).Want(t, http.StatusOK).Decode(t, &terms)
	if terms.TotalItems != 4 || len(terms.Contents) != 2 || terms.Contents[0].Name != "Housing" {
		t.Fatalf("page 2 %+v", terms)
	}
}

// Directory administration: the role and scope matrix, ETag/If-Match, and
// that every write is searchable at once.
func TestDirectoryAdminCRUD(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	seedDirectory(t, e.Store)
	adam := e.Login("adam", "admin")
	alice := e.Login("alice", "client")
	// An integration (a machine client holding the directory_editor role) with directory:write.
	app := e.Issuer.Token(t, "partner-sync", []string{"directory_editor"}, authtest.WithScopes("directory:write", "services:read"), authtest.WithClaim("azp", "partner-sync"))
	// A worker whose token lacks directory:write, and one whose token has it.
	workerNoScope := e.Issuer.Token(t, "wanda", []string{"worker"}, authtest.WithScopes("services:read", "profile:read"))
	workerAllScopes := e.Issuer.Token(t, "wanda", []string{"worker"})

	org := map[string]any{"name": "Fremont Food Bank", "description": "Groceries for Fremont"}
	e.Do(http.MethodPost, "/v1/organizations", workerNoScope, org).Problem(t, http.StatusForbidden)
	e.Do(http.MethodPost, "/v1/organizations", workerAllScopes, org).Problem(t, http.StatusForbidden)
	e.Do(http.MethodPost, "/v1/organizations", alice.Token, org).Problem(t, http.StatusForbidden)
	r := e.Do(http.MethodPost, "/v1/organizations", adam.Token, org).Want(t, http.StatusCreated)
	orgID := r.Map(t)["id"].(string)
	if r.Header.Get("Location") != "/v1/organizations/"+orgID || r.Header.Get("ETag") != `"1"` {
		t.Fatalf("create organization headers: %v", r.Header)
	}

	loc := map[string]any{"location_type": "physical", "name": "Fremont Hall", "organization_id": orgID,
		"latitude": 47.6510, "longitude": -122.3505, "timezone": "America/Los_Angeles",
		"addresses": []any{map[string]any{"address_1": "3400 Fremont Ave N", "city": "Seattle", "state_province": "WA",
			"postal_code": "98103", "country": "US", "address_type": "physical"}}}
	bad := with2(loc, "timezone", "Mars/Olympus")
	p := e.Do(http.MethodPost, "/v1/locations", app, bad).Problem(t, http.StatusUnprocessableEntity)
	if !apitest.HasErrorAt(p, "body.timezone") {
		t.Fatalf("bad timezone: %v", p)
	}
	e.Do(http.MethodPost, "/v1/locations", app, with2(loc, "latitude", 95)).Problem(t, http.StatusUnprocessableEntity)
	locID := e.Do(http.MethodPost, "/v1/locations", app, loc).Want(t, http.StatusCreated).Map(t)["id"].(string)

	svc := map[string]any{"organization_id": orgID, "name": "Fremont Evening Pantry", "status": "active",
		"description": "Groceries after work", "service_at_locations": []any{map[string]any{"location_id": locID}},
		"schedules":  []any{map[string]any{"byday": "TU,TH", "opens_at": "17:00", "closes_at": "20:00"}},
		"languages":  []any{map[string]any{"code": "es", "name": "Spanish"}},
		"attributes": []any{map[string]any{"taxonomy_term_id": termPantries.String()}}}
	p = e.Do(http.MethodPost, "/v1/services", app, with2(svc, "organization_id", uuid.NewString())).Problem(t, http.StatusUnprocessableEntity)
	if !apitest.HasErrorAt(p, "body.organization_id") {
		t.Fatalf("unknown organization: %v", p)
	}
	p = e.Do(http.MethodPost, "/v1/services", app, with2(svc, "schedules", []any{map[string]any{"opens_at": "9am", "closes_at": "17:00"}})).Problem(t, http.StatusUnprocessableEntity)
	if !apitest.HasErrorAt(p, "body.schedules[0].opens_at") {
		t.Fatalf("bad time: %v", p)
	}
	e.Do(http.MethodPost, "/v1/services", app, with2(svc, "unknown_member", 1)).Problem(t, http.StatusUnprocessableEntity)
	e.Do(http.MethodPost, "/v1/services", workerAllScopes, svc).Problem(t, http.StatusForbidden)
	r = e.Do(http.MethodPost, "/v1/services", app, svc, "Idempotency-Key", "create-fremont-1").Want(t, http.StatusCreated)
	created := r.Map(t)
	svcID := created["id"].(string)
	// A retry with the same key replays the first response; no second service.
	r2 := e.Do(http.MethodPost, "/v1/services", app, svc, "Idempotency-Key", "create-fremont-1").Want(t, http.StatusCreated)
	if r2.Map(t)["id"] != svcID || r2.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %s", r2.Body)
	}
	if _, err := uuid.Parse(svcID); err != nil || uuid.MustParse(svcID).Version() != 7 {
		t.Fatalf("service id %q is not a UUIDv7", svcID)
	}

	// Searchable at once: Tuesday 18:00 in Seattle, Spanish, near Fremont.
	q := url.Values{"search": {"evening pantry"}, "lat": {"47.65"}, "lon": {"-122.35"}, "radius_km": {"2"},
		"open_now": {"true"}, "at": {"2025-06-04T01:00:00Z"}, "language": {"es"}}
	if p, _ := search(t, e, alice.Token, q); !reflect.DeepEqual(p.names(), []string{"Fremont Evening Pantry"}) {
		t.Fatalf("new service not searchable: %v", p.names())
	}

	// PUT needs If-Match: missing 428, stale 412 (with the current ETag), right 200.
	upd := with2(svc, "name", "Fremont Late Pantry")
	e.Do(http.MethodPut, "/v1/services/"+svcID, adam.Token, upd).Problem(t, http.StatusPreconditionRequired)
	r = e.Do(http.MethodPut, "/v1/services/"+svcID, adam.Token, upd, "If-Match", `"7"`)
	r.Problem(t, http.StatusPreconditionFailed)
	if r.Header.Get("ETag") != `"1"` {
		t.Fatalf("412 ETag %q", r.Header.Get("ETag"))
	}
	e.Do(http.MethodPut, "/v1/services/"+svcID, workerAllScopes, upd, "If-Match", `"1"`).Problem(t, http.StatusForbidden)
	e.Do(http.MethodPut, "/v1/services/"+uuid.NewString(), adam.Token, upd, "If-Match", `"1"`).Problem(t, http.StatusNotFound)
	r = e.Do(http.MethodPut, "/v1/services/"+svcID, adam.Token, upd, "If-Match", `"1"`).Want(t, http.StatusOK)
	if r.Header.Get("ETag") != `"2"` || r.Map(t)["name"] != "Fremont Late Pantry" {
		t.Fatalf("put: %v %s", r.Header, r.Body)
	}
	if p, _ := search(t, e, alice.Token, url.Values{"search": {"late pantry"}}); !reflect.DeepEqual(p.names(), []string{"Fremont Late Pantry"}) {
		t.Fatalf("renamed service: %v", p.names())
	}
	// Moving the location re-indexes its services in the same transaction.
	moved := with2(with2(loc, "latitude", 40.7), "longitude", -74.0)
	e.Do(http.MethodPut, "/v1/locations/"+locID, adam.Token, with2(moved, "timezone", "America/New_York"), "If-Match", `"1"`).Want(t, http.StatusOK)
	if p, _ := search(t, e, alice.Token, url.Values{"search": {"late pantry"}, "lat": {"47.65"}, "lon": {"-122.35"}}); p.TotalItems != 0 {
		t.Fatalf("moved service still found in Seattle: %v", p.names())
	}

	// DELETE: organization with services is 409; service with If-Match 204, then 404.
	e.Do(http.MethodDelete, "/v1/organizations/"+orgID, adam.Token, nil, "If-Match", `"1"`).Problem(t, http.StatusConflict)
	e.Do(http.MethodDelete, "/v1/services/"+svcID, adam.Token, nil).Problem(t, http.StatusPreconditionRequired)
	e.Do(http.MethodDelete, "/v1/services/"+svcID, adam.Token, nil, "If-Match", `"1"`).Problem(t, http.StatusPreconditionFailed)
	e.Do(http.MethodDelete, "/v1/services/"+svcID, workerNoScope, nil, "If-Match", `"2"`).Problem(t, http.StatusForbidden)
	e.Do(http.MethodDelete, "/v1/services/"+svcID, adam.Token, nil, "If-Match", `"2"`).Want(t, http.StatusNoContent)
	e.Do(http.MethodGet, "/v1/services/"+svcID, alice.Token, nil).Problem(t, http.StatusNotFound)
	if p, _ := search(t, e, alice.Token, url.Values{"search": {"late pantry"}}); p.TotalItems != 0 {
		t.Fatalf("deleted service still found")
	}
	e.Do(http.MethodDelete, "/v1/locations/"+locID, adam.Token, nil, "If-Match", `"2"`).Want(t, http.StatusNoContent)
	e.Do(http.MethodDelete, "/v1/organizations/"+orgID, adam.Token, nil, "If-Match", `"1"`).Want(t, http.StatusNoContent)
	e.Do(http.MethodGet, "/v1/organizations/"+orgID, alice.Token, nil).Problem(t, http.StatusNotFound)
}

func with2(m map[string]any, k string, v any) map[string]any {
	out := map[string]any{}
	for kk, vv := range m {
		out[kk] = vv
	}
	out[k] = v
	return out
}

// EXPLAIN shows an index for every search filter. The plans come from the
// demo generator's data (25,000 services in eight cities), large enough that
// PostgreSQL prefers the indexes on its own: no planner settings are changed.
func TestDirectorySearchUsesIndexes(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("seeds 25,000 services")
	}
	db, _ := apitest.NewDB(t)
	store := domain.NewStore(db)
	ctx := context.Background()
	if _, err := demo.SeedDirectory(ctx, db, 25000); err != nil {
		t.Fatal(err)
	}
	if err := db.Exec("ANALYZE").Error; err != nil {
		t.Fatal(err)
	}
	someTerm := uuid.MustParse("0190a000-0005-7000-8000-000000000009") // Dental Care
	someOrg := uuid.MustParse("0190a000-0002-7000-8000-000000000007")
	// Sunday 04:00 in Chicago: only overnight shelters are open anywhere.
	sundayNight := time.Date(2025, 6, 8, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		f     domain.SearchFilter
		index string
	}{
		{"text", domain.SearchFilter{Search: "kalihi"}, "service_search_document_idx"},
		{"point and radius", domain.SearchFilter{Near: &domain.Near{Lat: 47.61, Lon: -122.33, RadiusKM: 2}}, "service_search_earth_idx"},
		{"open now", domain.SearchFilter{OpenNow: true, At: sundayNight}, "service_search_open_idx"},
		{"language", domain.SearchFilter{Language: "am"}, "service_search_languages_idx"},
		{"taxonomy", domain.SearchFilter{TaxonomyTermID: someTerm}, "service_search_terms_idx"},
		{"organization", domain.SearchFilter{OrganizationID: someOrg}, "service_search_organization_idx"},
		{"modified after", domain.SearchFilter{ModifiedAfter: time.Date(2025, 12, 30, 0, 0, 0, 0, time.UTC)}, "service_search_modified_idx"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan, err := store.ExplainSearch(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(plan, tc.index) {
				t.Fatalf("plan does not use %s:\n%s", tc.index, plan)
			}
		})
	}
	// Age is the exception, and rightly: most services have no age limit, so
	// any age matches most rows and a scan is cheaper than the GiST index on
	// ages; the planner applies it as a row filter.
	plan, err := store.ExplainSearch(ctx, domain.SearchFilter{Age: fptr(13)})
	if err != nil || !strings.Contains(plan, "ages @>") {
		t.Fatalf("age plan (%v):\n%s", err, plan)
	}
	// The benchmark's query: text, point, radius and open now together use the
	// text and geographic indexes (and filter the hours row by row).
	plan, err = store.ExplainSearch(ctx, domain.SearchFilter{Search: "food pantry", OpenNow: true,
		At: time.Date(2025, 6, 4, 18, 0, 0, 0, time.UTC), Near: &domain.Near{Lat: 47.61, Lon: -122.33, RadiusKM: 5}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan, "service_search_earth_idx") {
		t.Fatalf("combined plan:\n%s", plan)
	}
	// "food" is in a fifth of the directory: around a point the circle drives
	// and the words are tested on its places, not read from the text index.
	if strings.Contains(plan, "service_search_document_idx") || !strings.Contains(plan, "ts_match_vq") {
		t.Fatalf("a common text around a point reads the text index:\n%s", plan)
	}
	t.Logf("combined plan:\n%s", plan)
	// A rare text around a point is the planner's choice, and a common one in
	// a circle wider than a city too: both keep the indexable operator.
	for _, f := range []domain.SearchFilter{
		{Search: "kalihi", Near: &domain.Near{Lat: 21.31, Lon: -157.86, RadiusKM: 5}},
		{Search: "food pantry", Near: &domain.Near{Lat: 47.61, Lon: -122.33, RadiusKM: 80}},
	} {
		plan, err := store.ExplainSearch(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(plan, "@@") || strings.Contains(plan, "ts_match_vq") {
			t.Fatalf("%q within %g km does not use the text operator:\n%s", f.Search, f.Near.RadiusKM, plan)
		}
	}

	// The estimate behind that choice, from ANALYZE's statistics.
	for _, tc := range []struct {
		text     string
		min, max float64 // NaN: no estimate (NULL)
	}{
		{"food pantry", 0.02, 1},
		{"food", 0.02, 1},
		{"kalihi", 1e-9, 0.02},
		{"zzzqqqxx", 0, 0},
		{"the", math.NaN(), math.NaN()},
		{"-food", math.NaN(), math.NaN()},
	} {
		var share *float64
		if err := db.Raw(`SELECT directory_text_share(websearch_to_tsquery('english', ?))`, tc.text).Scan(&share).Error; err != nil {
			t.Fatal(err)
		}
		switch {
		case math.IsNaN(tc.min) && share != nil:
			t.Errorf("share of %q = %g, want no estimate", tc.text, *share)
		case !math.IsNaN(tc.min) && (share == nil || *share < tc.min || *share > tc.max):
			t.Errorf("share of %q = %v, want %g..%g", tc.text, share, tc.min, tc.max)
		}
	}
	var food, negated float64
	if err := db.Raw(`SELECT directory_text_share(websearch_to_tsquery('english', 'shelter')),
		directory_text_share(websearch_to_tsquery('english', 'shelter -kalihi'))`).Row().Scan(&food, &negated); err != nil {
		t.Fatal(err)
	}
	if food != negated {
		t.Errorf("a negated word narrows the estimate: %g vs %g", negated, food)
	}

	// Either way the search finds the same services: the geo-first form
	// against the operator, counted independently.
	near := &domain.Near{Lat: 47.61, Lon: -122.33, RadiusKM: 12}
	res, err := store.SearchServices(ctx, domain.SearchFilter{Search: "food pantry", Near: near, Sort: domain.SortName, Page: 1, PerPage: 100})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	if err := db.Raw(`SELECT DISTINCT ON (name, service_id) service_id::text FROM service_search
		WHERE status = 'active' AND document @@ websearch_to_tsquery('english', 'food pantry')
		  AND earth_distance(ll_to_earth(47.61, -122.33), earth) <= 12000
		ORDER BY name, service_id`).Scan(&want).Error; err != nil {
		t.Fatal(err)
	}
	if res.Total != len(want) || len(want) < 20 {
		t.Fatalf("geo-first search found %d, the operator %d (want at least 20 to compare)", res.Total, len(want))
	}
	for i, h := range res.Hits {
		if i < len(want) && h.ID.String() != want[i] {
			t.Fatalf("hit %d is %s, the operator's is %s", i, h.ID, want[i])
		}
	}
}
