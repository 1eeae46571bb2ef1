package api_test

import (
	"context"
	"crypto/rand"
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/api/apitest"
	"github.com/waypoint-portal/waypoint/domain"
	"github.com/waypoint-portal/waypoint/domain/geohash"
	"github.com/waypoint-portal/waypoint/domain/hsds"
	"github.com/waypoint-portal/waypoint/domain/insights"
)

var (
	termLegal   = uuid.MustParse("0193a000-0000-7000-8000-00000000a1e9")
	orgEastside = uuid.MustParse("0193a000-0000-7000-8000-0000000e0001")
	locBellevue = uuid.MustParse("0193a000-0000-7000-8000-0000000e0002")
	svcLegalAid = uuid.MustParse("0193a000-0000-7000-8000-0000000e0003")
)

// rainierValley is the geohash-5 cell of Rainier Valley, Seattle (47.55, -122.28).
var rainierValley, _ = geohash.Encode(47.55, -122.28, insights.AreaPrecision)

// seedLegalAid adds a legal aid term and a legal aid service in Bellevue
// (47.68, -122.20), about 14 km from Rainier Valley.
func seedLegalAid(t *testing.T, store *domain.Store) {
	t.Helper()
	recs := []hsds.Record{
		{TaxonomyTerm: &hsds.TaxonomyTerm{ID: termLegal, Name: "Legal Aid", Description: "Free legal help"}},
		{Organization: &hsds.Organization{ID: orgEastside, Name: "Eastside Legal Assistance", Description: "Legal aid"}},
		{Location: &hsds.Location{ID: locBellevue, OrganizationID: orgEastside, LocationType: "physical", Name: "Bellevue Office",
			Latitude: fptr(47.68), Longitude: fptr(-122.20), Timezone: "America/Los_Angeles"}},
		{Service: &hsds.Service{ID: svcLegalAid, OrganizationID: orgEastside, Name: "Eastside Legal Aid Clinic",
			Description: "Free legal advice", Status: hsds.StatusActive, LastModified: time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC),
			ServiceAtLocations: at(locBellevue), Attributes: filed(termLegal), Languages: langs("en")}},
	}
	errs, err := store.ImportBatch(context.Background(), recs)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range errs {
		if e != nil {
			t.Fatalf("record %d: %v", i, e)
		}
	}
}

// need is one row of unmet_needs; a nil member is unknown.
type need struct {
	week                  time.Time
	source                string
	term, area, lang, why *string
}

// insertNeeds inserts n distinct people (random marks) with need x.
func insertNeeds(t *testing.T, e *apitest.Env, n int, x need) {
	t.Helper()
	for range n {
		mark := make([]byte, 16)
		_, _ = rand.Read(mark)
		if err := e.DB.Exec(`INSERT INTO unmet_needs (source, week, taxonomy_term, area, language, reason, person_mark)
			VALUES (?, ?::date, ?::uuid, ?, ?, ?, ?)`, x.source, x.week.Format(time.DateOnly), x.term, x.area, x.lang, x.why, mark).Error; err != nil {
			t.Fatal(err)
		}
	}
}

// completeWeeks are the Mondays of the last n complete ISO weeks, oldest first.
func completeWeeks(n int) []time.Time {
	now := time.Now().UTC()
	monday := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	monday = monday.AddDate(0, 0, -((int(monday.Weekday()) + 6) % 7))
	out := make([]time.Time, n)
	for i := range n {
		out[n-1-i] = monday.AddDate(0, 0, -7*(i+1))
	}
	return out
}

func str(s string) *string { return &s }

// insightsWorld: a month of Spanish-speaking searches for legal aid near
// Rainier Valley that found nothing (12 people a week), a few people
// elsewhere (under k), and the legal aid service 14 km away.
func insightsWorld(t *testing.T) (*apitest.Env, []time.Time) {
	e := apitest.New(t)
	seedDirectory(t, e.Store)
	seedLegalAid(t, e.Store)
	weeks := completeWeeks(4)
	legal := termLegal.String()
	for _, w := range weeks {
		insertNeeds(t, e, 12, need{week: w, source: "search", term: &legal, area: &rainierValley, lang: str("es")})
		// Two small groups elsewhere: suppressed, together at least k.
		insertNeeds(t, e, 5, need{week: w, source: "search", term: str(termFood.String()), area: str("c23p0"), lang: str("so")})
		insertNeeds(t, e, 5, need{week: w, source: "search", term: str(termHousing.String()), area: str("c22zz"), lang: str("en")})
	}
	return e, weeks
}

// TestInsightsDoneMeans is issue #16's done-means for insights: the
// organizer sees the month in the unmet-needs table, with no cell under 10,
// and directory-gaps puts the cell beside the legal aid service 14 km away.
func TestInsightsDoneMeans(t *testing.T) {
	t.Parallel()
	e, weeks := insightsWorld(t)
	otto := e.Login("otto", "organizer")
	q := "?from=" + weeks[0].Format(time.DateOnly) + "&to=" + weeks[3].AddDate(0, 0, 6).Format(time.DateOnly)
	var got struct {
		GroupBy []string `json:"group_by"`
		K       int      `json:"k"`
		From    string   `json:"from"`
		Cells   []struct {
			Week         string                     `json:"week"`
			TaxonomyTerm *struct{ ID, Name string } `json:"taxonomy_term"`
			Area         *string                    `json:"area"`
			Language     *string                    `json:"language"`
			Count        int                        `json:"count"`
		} `json:"cells"`
		Suppressed int `json:"suppressed_cells"`
	}
	e.Do(http.MethodGet, "/v1/insights/unmet-needs"+q+"&group_by=taxonomy,area,language&source=search", otto.Token, nil).
		Want(t, http.StatusOK).Decode(t, &got)
	if strings.Join(got.GroupBy, ",") != "week,source,taxonomy,area,language" || got.K != 10 || got.From != weeks[0].Format(time.DateOnly) {
		t.Fatalf("group_by %v, k %d, from %s", got.GroupBy, got.K, got.From)
	}
	if len(got.Cells) != 4 {
		t.Fatalf("%d cells, want the 4 weeks of Rainier Valley: %+v", len(got.Cells), got.Cells)
	}
	for i, c := range got.Cells {
		y, wk := weeks[i].ISOWeek()
		if c.Count < 10 || c.Count != 12 || *c.Area != rainierValley || *c.Language != "es" || c.TaxonomyTerm.Name != "Legal Aid" ||
			c.Week != time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC).Format("2006")+"-W"+twoDigits(wk) {
			t.Errorf("cell %d: %+v", i, c)
		}
	}
	if got.Suppressed != 8 { // the two small groups, every week
		t.Errorf("suppressed_cells %d, want 8", got.Suppressed)
	}
	// No cell of any grouping is under k.
	for _, g := range []string{"taxonomy", "area", "language", "reason", "source", "week", "taxonomy,area,language,reason,source"} {
		r := e.Do(http.MethodGet, "/v1/insights/unmet-needs"+q+"&group_by="+g, otto.Token, nil).Want(t, http.StatusOK).Map(t)
		for _, c := range r["cells"].([]any) {
			if n := c.(map[string]any)["count"].(float64); n < 10 {
				t.Errorf("group_by %s: a cell of %v people: %v", g, n, c)
			}
		}
	}
	var gaps struct {
		Gaps []struct {
			TaxonomyTerm struct{ ID, Name string } `json:"taxonomy_term"`
			Area         string                    `json:"area"`
			People       int                       `json:"people"`
			Weeks        int                       `json:"weeks"`
			Nearest      []struct {
				ID         uuid.UUID `json:"id"`
				DistanceKM float64   `json:"distance_km"`
			} `json:"nearest_services"`
		} `json:"gaps"`
	}
	e.Do(http.MethodGet, "/v1/insights/directory-gaps"+q, otto.Token, nil).Want(t, http.StatusOK).Decode(t, &gaps)
	if len(gaps.Gaps) != 1 {
		t.Fatalf("gaps %+v, want Rainier Valley's legal aid only (the groups of 5 are never published)", gaps.Gaps)
	}
	g := gaps.Gaps[0]
	if g.TaxonomyTerm.ID != termLegal.String() || g.Area != rainierValley || g.People != 48 || g.Weeks != 4 ||
		len(g.Nearest) != 1 || g.Nearest[0].ID != svcLegalAid || g.Nearest[0].DistanceKM < 12 || g.Nearest[0].DistanceKM > 15 {
		t.Fatalf("gap %+v", g)
	}
	t.Logf("Rainier Valley (%s): %d people over %d weeks; nearest legal aid %.1f km", g.Area, g.People, g.Weeks, g.Nearest[0].DistanceKM)
	// The area filter keeps the cells: the same count, never a new aggregate.
	r := e.Do(http.MethodGet, "/v1/insights/unmet-needs"+q+"&area="+rainierValley[:3], otto.Token, nil).Want(t, http.StatusOK).Map(t)
	if gb := r["group_by"].([]any); len(gb) != 3 || gb[2] != "area" {
		t.Errorf("an area filter groups by area: %v", gb)
	}
	all := e.Do(http.MethodGet, "/v1/insights/unmet-needs"+q+"&group_by=taxonomy,area", otto.Token, nil).Want(t, http.StatusOK).Map(t)
	var inside []string
	for _, c := range all["cells"].([]any) {
		if a, _ := c.(map[string]any)["area"].(string); strings.HasPrefix(a, rainierValley[:3]) {
			inside = append(inside, fmt.Sprint(c))
		}
	}
	var filtered []string
	for _, c := range r["cells"].([]any) {
		filtered = append(filtered, fmt.Sprint(c))
		if a := c.(map[string]any)["area"]; a != rainierValley {
			t.Errorf("area filter %s: cell %v", rainierValley[:3], c)
		}
	}
	if len(filtered) != 4 || strings.Join(filtered, "|") != strings.Join(inside, "|") {
		t.Errorf("the filtered request's cells differ from the same cells unfiltered:\n%v\n%v", filtered, inside)
	}
}

func twoDigits(n int) string { return string([]byte{byte('0' + n/10), byte('0' + n%10)}) }

func TestInsightsCSV(t *testing.T) {
	t.Parallel()
	e, weeks := insightsWorld(t)
	otto := e.Login("otto", "organizer")
	q := "?from=" + weeks[0].Format(time.DateOnly) + "&to=" + weeks[3].Format(time.DateOnly) + "&group_by=taxonomy,area,language"
	res := e.Do(http.MethodGet, "/v1/insights/unmet-needs"+q, otto.Token, nil, "Accept", "text/csv").Want(t, http.StatusOK)
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") || res.Header.Get("Vary") != "Accept" {
		t.Fatalf("Content-Type %q, Vary %q", ct, res.Header.Get("Vary"))
	}
	recs, err := csv.NewReader(strings.NewReader(string(res.Body))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := "week,week_start,taxonomy_term_id,taxonomy_term_name,area,language,count"
	if len(recs) != 5 || strings.Join(recs[0], ",") != want {
		t.Fatalf("csv %q", res.Body)
	}
	for i, r := range recs[1:] {
		if r[1] != weeks[i].Format(time.DateOnly) || r[2] != termLegal.String() || r[3] != "Legal Aid" || r[4] != rainierValley ||
			r[5] != "es" || r[6] != "12" {
			t.Errorf("row %d: %v", i+1, r)
		}
	}
	// JSON stays the default, and wins when preferred.
	for _, accept := range []string{"", "*/*", "application/json, text/csv;q=0.5"} {
		r := e.Do(http.MethodGet, "/v1/insights/unmet-needs"+q, otto.Token, nil, "Accept", accept).Want(t, http.StatusOK)
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			t.Errorf("Accept %q: %s", accept, r.Header.Get("Content-Type"))
		}
	}
}

func TestInsightsReaders(t *testing.T) {
	t.Parallel()
	e, _ := insightsWorld(t)
	for _, u := range []struct {
		user apitest.User
		want int
	}{
		{e.Login("otto", "organizer"), 200}, {e.Login("wanda", "worker"), 200}, {e.Login("adam", "admin"), 200},
		{e.Login("alice", "client"), 403}, {e.Login("ed", "directory_editor"), 403}, {e.Login("pia", "provider"), 403},
		{e.Login("nobody"), 403},
	} {
		for _, p := range []string{"/v1/insights/unmet-needs", "/v1/insights/directory-gaps"} {
			if r := e.Do(http.MethodGet, p, u.user.Token, nil); r.Status != u.want {
				t.Errorf("%s as %s: %d, want %d", p, u.user.Subject, r.Status, u.want)
			}
		}
	}
	// An organizer is where a person without a role stands for everything else.
	otto := e.Login("otto", "organizer")
	e.Do(http.MethodGet, "/v1/clients", otto.Token, nil).Problem(t, http.StatusForbidden)
	e.Do(http.MethodGet, "/v1/me", otto.Token, nil).Want(t, http.StatusOK)
	e.Do(http.MethodGet, "/v1/services", otto.Token, nil).Want(t, http.StatusOK)
}

func TestInsightsValidation(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	otto := e.Login("otto", "organizer")
	weeks := completeWeeks(1)
	last := weeks[0].Format(time.DateOnly)
	for q, loc := range map[string]string{
		"unmet-needs?from=2026-13-01":                  "query.from",
		"unmet-needs?from=0000-01-01":                  "query.from",
		"unmet-needs?to=0000-01-01":                    "query.to",
		"unmet-needs?from=yesterday":                   "query.from",
		"unmet-needs?from=2025-03-12&to=2025-03-11":    "query.to",
		"unmet-needs?from=2024-01-01&to=2025-03-11":    "query.to",
		"unmet-needs?group_by=taxonomy,postcode":       "query.group_by[1]",
		"unmet-needs?area=c2":                          "query.area",
		"unmet-needs?area=c23a9":                       "query.area",
		"unmet-needs?area=c23n9x":                      "query.area",
		"unmet-needs?area=C23N9":                       "query.area",
		"unmet-needs?area=c23%00":                      "query.area",
		"unmet-needs?source=rumour":                    "query.source",
		"unmet-needs?from=" + strings.Repeat("9", 300): "query.from",
		"unmet-needs?from=" + time.Now().UTC().Format(time.DateOnly) + "&to=" + time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly): "query.from",
		"directory-gaps?limit=0":                       "query.limit",
		"directory-gaps?limit=101":                     "query.limit",
		"directory-gaps?limit=NaN":                     "query.limit",
		"directory-gaps?area=xyzzy1":                   "query.area",
		"directory-gaps?from=2025-03-12&to=2025-03-11": "query.to",
	} {
		p := e.Do(http.MethodGet, "/v1/insights/"+q, otto.Token, nil).Problem(t, http.StatusUnprocessableEntity)
		if !apitest.HasErrorAt(p, loc) {
			t.Errorf("%s: %v does not name %s", q, p["errors"], loc)
		}
	}
	// 53 weeks is the most; the same range is fine.
	from := weeks[0].AddDate(0, 0, -7*52).Format(time.DateOnly)
	e.Do(http.MethodGet, "/v1/insights/unmet-needs?from="+from+"&to="+last, otto.Token, nil).Want(t, http.StatusOK)
	e.Do(http.MethodGet, "/v1/insights/unmet-needs?from="+last+"&to="+last+"&group_by=week,source,taxonomy,area,language,reason",
		otto.Token, nil).Want(t, http.StatusOK)
}
