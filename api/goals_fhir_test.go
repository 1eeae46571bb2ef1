package api_test

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/jsonschema/v6"

	"github.com/waypoint-portal/waypoint/api/apitest"
)

// The official FHIR R4 (4.0.1) JSON schema, vendored gzipped (see
// testdata/fhir/README.md for its source and licence).
const fhirSchemaURL = "http://hl7.org/fhir/json-schema/4.0"

var fhirSchemaOnce = sync.OnceValues(func() (*jsonschema.Schema, error) {
	f, err := os.Open("testdata/fhir/fhir.schema.json.gz")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(zr)
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(fhirSchemaURL, doc); err != nil {
		return nil, err
	}
	return c.Compile(fhirSchemaURL)
})

// validFHIR fails the test unless body is a valid FHIR R4 resource.
func validFHIR(t *testing.T, body []byte) {
	t.Helper()
	s, err := fhirSchemaOnce()
	if err != nil {
		t.Fatalf("FHIR schema: %v", err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	if err := s.Validate(doc); err != nil {
		t.Fatalf("not a valid FHIR R4 resource: %v\n%s", err, body)
	}
}

type fhirCoding struct{ System, Code string }

type fhirGoalView struct {
	ResourceType    string `json:"resourceType"`
	ID              string `json:"id"`
	Meta            struct{ VersionID string }
	LifecycleStatus string `json:"lifecycleStatus"`
	Category        []struct{ Coding []fhirCoding }
	Description     struct{ Text string }
	Subject         struct{ Reference string }
	ExpressedBy     struct{ Reference string } `json:"expressedBy"`
	Target          []struct{ DueDate string } `json:"target"`
	Note            []struct{ Text string }
	Addresses       []struct{ Display string }
}

type fhirBundleView struct {
	ResourceType, Type string
	Link               []struct{ Relation, URL string }
	Entry              []struct {
		FullURL  string `json:"fullUrl"`
		Resource fhirGoalView
	}
}

func (b fhirBundleView) link(rel string) string {
	for _, l := range b.Link {
		if l.Relation == rel {
			return l.URL
		}
	}
	return ""
}

func getFHIR(t *testing.T, e *apitest.Env, path, token string) *apitest.Resp {
	t.Helper()
	r := e.Do(http.MethodGet, path, token, nil, "Accept", "application/fhir+json")
	if r.Status == http.StatusOK {
		if ct := r.Header.Get("Content-Type"); ct != "application/fhir+json" {
			t.Fatalf("Content-Type %q, want application/fhir+json", ct)
		}
		validFHIR(t, r.Body)
	}
	return r
}

func TestFHIRGoal(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	e := w.e
	mine := newGoal(t, w, w.alice, w.alice, map[string]any{"title": "Move into my own apartment", "category": "housing",
		"description": "Near the school", "why_it_matters": "A place that is ours", "strengths_used": []string{"persistent"},
		"target_date": "2031-09-30", "priority": "high"})
	proposed := newGoal(t, w, w.wanda, w.alice, map[string]any{"title": "Talk to a lawyer", "category": "legal"})

	before := logCount(t, e, w.alice.ClientID)
	r := getFHIR(t, e, goalPath(mine.ID), w.wanda.Token).Want(t, http.StatusOK)
	if got := logCount(t, e, w.alice.ClientID) - before; got != 1 {
		t.Fatalf("a worker's FHIR read wrote %d access-log entries, want 1 (as the JSON read)", got)
	}
	jsonRead := e.Do(http.MethodGet, goalPath(mine.ID), w.wanda.Token, nil).Want(t, http.StatusOK)
	if r.Header.Get("ETag") == "" || r.Header.Get("ETag") != jsonRead.Header.Get("ETag") {
		t.Fatalf("ETag %q, JSON's %q: both are the goal's version", r.Header.Get("ETag"), jsonRead.Header.Get("ETag"))
	}
	if r.Header.Get("Vary") != "Accept" || !strings.HasPrefix(jsonRead.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("Vary %q, JSON Content-Type %q", r.Header.Get("Vary"), jsonRead.Header.Get("Content-Type"))
	}
	var g fhirGoalView
	r.Decode(t, &g)
	sdoh := "http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes"
	if g.ResourceType != "Goal" || g.ID != mine.ID || g.LifecycleStatus != "active" || g.Description.Text != mine.Title ||
		g.Subject.Reference != "Patient/"+w.alice.ClientID.String() || g.ExpressedBy.Reference != g.Subject.Reference ||
		len(g.Target) != 1 || g.Target[0].DueDate != "2031-09-30" || len(g.Note) != 3 || g.Meta.VersionID == "" ||
		len(g.Category) != 2 || g.Category[0].Coding[0] != (fhirCoding{sdoh, "housing-instability"}) ||
		len(g.Addresses) != 1 || g.Addresses[0].Display != "Housing Instability" {
		t.Fatalf("FHIR goal: %+v", g)
	}

	// A worker's proposal: expressed by a Practitioner; legal has no SDOH category.
	var p fhirGoalView
	getFHIR(t, e, goalPath(proposed.ID), w.alice.Token).Want(t, http.StatusOK).Decode(t, &p)
	if p.LifecycleStatus != "proposed" || p.ExpressedBy.Reference != "Practitioner/"+w.wanda.PersonID.String() ||
		len(p.Category) != 1 || p.Category[0].Coding[0].Code != "legal" || len(p.Addresses) != 0 {
		t.Fatalf("proposed FHIR goal: %+v", p)
	}

	// Same rules as JSON: strangers get 404 problem+json; a private goal is the client's alone.
	getFHIR(t, e, goalPath(mine.ID), w.bob.Token).Problem(t, http.StatusNotFound)
	getFHIR(t, e, goalPath(mine.ID), w.adam.Token).Problem(t, http.StatusNotFound)
	e.Do(http.MethodPatch, goalPath(mine.ID), w.alice.Token, map[string]any{"visibility": "private"}, "If-Match", "*").
		Want(t, http.StatusOK)
	getFHIR(t, e, goalPath(mine.ID), w.wanda.Token).Problem(t, http.StatusNotFound)
	var wb fhirBundleView
	getFHIR(t, e, w.aliceURL+"/goals", w.wanda.Token).Want(t, http.StatusOK).Decode(t, &wb)
	if len(wb.Entry) != 1 || wb.Entry[0].Resource.ID != proposed.ID {
		t.Fatalf("the care team's Bundle: %+v", wb)
	}
	getFHIR(t, e, w.aliceURL+"/goals", w.bob.Token).Problem(t, http.StatusNotFound)

	// A plain JSON or wildcard Accept keeps the JSON representation.
	for _, accept := range []string{"application/json", "*/*", "application/json, application/fhir+json;q=0.5"} {
		r := e.Do(http.MethodGet, goalPath(proposed.ID), w.alice.Token, nil, "Accept", accept).Want(t, http.StatusOK)
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || r.Map(t)["title"] != proposed.Title {
			t.Fatalf("Accept %q: %s %s", accept, r.Header.Get("Content-Type"), r.Body)
		}
	}
}

func TestFHIRGoalBundlePages(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	e := w.e
	var want []string
	for _, title := range []string{"Find housing", "Get a job", "Open a bank account", "Learn to drive", "Finish my GED"} {
		want = append(want, newGoal(t, w, w.alice, w.alice, map[string]any{"title": title, "category": "employment"}).ID)
	}
	var got []string
	next, pages := w.aliceURL+"/goals?limit=2&category=employment", 0
	for next != "" {
		var b fhirBundleView
		getFHIR(t, e, next, w.wanda.Token).Want(t, http.StatusOK).Decode(t, &b)
		if b.ResourceType != "Bundle" || b.Type != "searchset" || b.link("self") == "" || len(b.Entry) > 2 {
			t.Fatalf("page %d: %+v", pages, b)
		}
		for _, en := range b.Entry {
			if en.FullURL != goalPath(en.Resource.ID) {
				t.Fatalf("fullUrl %q for goal %s", en.FullURL, en.Resource.ID)
			}
			got = append(got, en.Resource.ID)
		}
		next = b.link("next")
		if next != "" && !strings.Contains(next, "category=employment") {
			t.Fatalf("next link %q lost the filter", next)
		}
		if pages++; pages > 5 {
			t.Fatal("the next links never end")
		}
	}
	if !slices.Equal(got, want) || pages != 3 {
		t.Fatalf("%d pages of %v, want 3 pages of %v", pages, got, want)
	}
}

func TestFHIRGoalSupporter(t *testing.T) {
	t.Parallel()
	c := newCircle(t)
	goals := c.supporter(t, "sam", nil, "goals")
	nothing := c.supporter(t, "nell", nil, "referrals")
	getFHIR(t, c.e, goalPath(c.goal.ID), goals.Token).Want(t, http.StatusOK)
	getFHIR(t, c.e, goalPath(c.goal.ID), nothing.Token).Problem(t, http.StatusNotFound)
	var b fhirBundleView
	getFHIR(t, c.e, c.aliceURL+"/goals", goals.Token).Want(t, http.StatusOK).Decode(t, &b)
	if len(b.Entry) != 1 || b.Entry[0].Resource.ID != c.goal.ID {
		t.Fatalf("the supporter's Bundle: %+v", b)
	}
}

// The schema check itself must be able to fail.
func TestFHIRSchemaRejects(t *testing.T) {
	t.Parallel()
	s, err := fhirSchemaOnce()
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{
		`{"resourceType":"Goal","lifecycleStatus":"done","description":{"text":"x"},"subject":{"reference":"Patient/1"}}`,
		`{"resourceType":"Goal","lifecycleStatus":"active","description":{"text":"x"},"subject":{"reference":"Patient/1"},"target":[{"dueDate":"30/09/2031"}]}`,
		`{"resourceType":"Goal","lifecycleStatus":"active","description":{"text":"x"},"colour":"blue"}`,
	} {
		doc, err := jsonschema.UnmarshalJSON(strings.NewReader(bad))
		if err != nil {
			t.Fatal(err)
		}
		if s.Validate(doc) == nil {
			t.Errorf("the FHIR schema accepted %s", bad)
		}
	}
}
