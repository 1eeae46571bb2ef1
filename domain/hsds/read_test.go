package hsds_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/domain/hsds"
)

// Every official example is read: one record per object file and per list
// item, at the line where the object starts, and the two files that carry
// no directory objects are listed as skipped with the reason.
func TestReadExamples(t *testing.T) {
	recs, skipped := readAll(t, examples)
	var got []string
	for _, r := range recs {
		if r.Err != nil {
			t.Errorf("%s: %v", r.Where(), r.Err)
		}
		if objects(r) == 0 {
			t.Errorf("%s: no object", r.Where())
		}
		got = append(got, where(r))
	}
	want := []string{
		"location.json:1 location 3a19ff88-4620-4d17-9830-ac1d859eb5d5",
		"organization_full.json:1 organization d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610",
		"organization_list.json:10 organization d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610",
		"service_at_location_full.json:1 service_at_location e94c9f38-1e8f-4564-91d4-d53501ab1765",
		"service_at_location_list.json:10 service_at_location e94c9f38-1e8f-4564-91d4-d53501ab1765",
		"service_full.json:1 service ac148810-d857-441c-9679-408f346de14b",
		"service_list.json:10 service ac148810-d857-441c-9679-408f346de14b",
		"taxonomy.json:1 taxonomy 5c4d79d7-cc55-470e-9f1f-8cad074e4892",
		"taxonomy_list.json:10 taxonomy 5c4d79d7-cc55-470e-9f1f-8cad074e4892",
		"taxonomy_term.json:1 taxonomy_term 3f7b145d-84af-42d7-8fae-eaca714b02b2",
		"taxonomy_term_list.json:10 taxonomy_term 3f7b145d-84af-42d7-8fae-eaca714b02b2",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("records\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	wantSkips := map[string]string{
		"base.json":    "HSDS API base document (no directory data)",
		"tabular.json": "HSDS tabular (CSV) form is not supported; import the JSON objects instead",
	}
	if len(skipped) != len(wantSkips) {
		t.Fatalf("skipped %v", skipped)
	}
	for _, s := range skipped {
		if wantSkips[filepath.Base(s.File)] != s.Reason {
			t.Errorf("skipped %s: %q", s.File, s.Reason)
		}
	}
}

// Nothing in the examples is lost in decoding: every member of every
// example object comes back when the decoded object is encoded again. The
// only differences are the documented normalisations: times of day become
// HH:MM:SS, and a service-at-location's embedded service travels as the
// record's Service (the link keeps its id).
func TestReadExamplesKeepEveryMember(t *testing.T) {
	recs, _ := readAll(t, examples)
	for _, r := range recs {
		b, err := os.ReadFile(r.File)
		if err != nil {
			t.Fatal(err)
		}
		src := decoded(t, b).(map[string]any)
		if c, ok := src["contents"]; ok {
			src = c.([]any)[0].(map[string]any)
		}
		if r.Kind == hsds.KindServiceAtLocation {
			svc := src["service"].(map[string]any)
			delete(src, "service")
			if d := missing("service", svc, decoded(t, mustJSON(t, r.Service))); len(d) > 0 {
				t.Errorf("%s: embedded service lost members:\n%s", where(r), strings.Join(d, "\n"))
			}
			if r.ServiceAtLocation.ServiceID.String() != svc["id"] {
				t.Errorf("%s: service_id %s, embedded service %v", where(r), r.ServiceAtLocation.ServiceID, svc["id"])
			}
		}
		d := missing("", src, decoded(t, mustJSON(t, object(r))))
		if r.Kind == hsds.KindLocation {
			want := []string{".schedules[0].closes_at: want 18:00, got 18:00:00", ".schedules[0].opens_at: want 10:00, got 10:00:00"}
			if !slices.Equal(d, want) {
				t.Errorf("%s: differences %v, want only the normalised times %v", where(r), d, want)
			}
			continue
		}
		if len(d) > 0 {
			t.Errorf("%s: lost members:\n%s", where(r), strings.Join(d, "\n"))
		}
	}
}

// What validation derives from embedded objects is filled in: the
// referenced ids of embedded taxonomy terms, taxonomies and locations.
func TestReadExamplesDerivesReferences(t *testing.T) {
	recs, _ := readAll(t, filepath.Join(examples, "service_full.json"))
	s := recs[0].Service
	if s == nil || len(s.Attributes) == 0 || len(s.ServiceAtLocations) == 0 {
		t.Fatalf("service_full: %+v", recs[0])
	}
	for i, a := range s.Attributes {
		if a.TaxonomyTerm != nil && a.TaxonomyTermID != a.TaxonomyTerm.ID {
			t.Errorf("attributes[%d]: taxonomy_term_id %s, embedded term %s", i, a.TaxonomyTermID, a.TaxonomyTerm.ID)
		}
	}
	for i, sal := range s.ServiceAtLocations {
		if sal.Location != nil && sal.LocationID != sal.Location.ID {
			t.Errorf("service_at_locations[%d]: location_id %s, embedded location %s", i, sal.LocationID, sal.Location.ID)
		}
	}
	recs, _ = readAll(t, filepath.Join(examples, "taxonomy_term.json"))
	if tt := recs[0].TaxonomyTerm; tt.TaxonomyID != tt.TaxonomyDetail.ID || tt.TaxonomyID == uuid.Nil {
		t.Errorf("taxonomy_term: taxonomy_id %s, detail %s", tt.TaxonomyID, tt.TaxonomyDetail.ID)
	}
}

const (
	svcA = `{"id": "0190a000-bbbb-7000-8000-00000000000a", "name": "Pantry", "status": "active", "organization_id": "0190a000-aaaa-7000-8000-000000000001"}`
	svcB = `{"id": "0190a000-bbbb-7000-8000-00000000000b", "name": "Meals", "status": "inactive", "organization_id": "0190a000-aaaa-7000-8000-000000000001"}`
)

// The same two services read from every file shape the reader accepts give
// the same records, each at the line where it starts.
func TestReadFileShapes(t *testing.T) {
	cases := []struct {
		name, doc string
		lines     []int
	}{
		{"service_list.json", "[\n" + svcA + ",\n" + svcB + "\n]\n", []int{2, 3}},
		{"service_list.json", "[" + svcA + "," + svcB + "]", []int{1, 1}},
		{"service_list.json", "{\n\"total_items\": 2,\n\"contents\": [\n" + svcA + ",\n\n" + svcB + "\n], \"size\": 2}\n", []int{4, 6}},
		{"service_list.json", "{\"contents\": [\n" + svcA + ",\n" + svcB + "\n]}", []int{2, 3}},
		{"services.ndjson", svcA + "\n" + svcB + "\n", []int{1, 2}},
		{"services.ndjson", "\n\n" + svcA + "\n\n" + svcB, []int{3, 5}},
		// Windows line ends and multi-byte text before a record count as one line each.
		{"service_list.json", "[\r\n" + strings.Replace(svcA, "Pantry", "Épicerie 食物 🍲", 1) + ",\r\n" + svcB + "\r\n]\r\n", []int{2, 3}},
	}
	for _, c := range cases {
		recs, skipped := readAll(t, writeFile(t, t.TempDir(), c.name, c.doc))
		if len(skipped) != 0 || len(recs) != 2 {
			t.Errorf("%q: %d records, skipped %v", c.doc, len(recs), skipped)
			continue
		}
		for i, r := range recs {
			if r.Err != nil || r.Service == nil || r.Kind != hsds.KindService {
				t.Errorf("%q: record %d: %+v", c.doc, i, r)
				continue
			}
			if r.Line != c.lines[i] {
				t.Errorf("%q: record %d at line %d, want %d", c.doc, i, r.Line, c.lines[i])
			}
		}
		if len(recs) == 2 && (recs[0].ID != "0190a000-bbbb-7000-8000-00000000000a" || recs[1].Service.Name != "Meals") {
			t.Errorf("%q: records out of order: %s, %s", c.doc, recs[0].ID, recs[1].ID)
		}
	}
}

// One document may mix object types: each is told apart by its members.
func TestReadOneDocumentOfMixedObjects(t *testing.T) {
	doc := `[
{"id": "0190a000-0000-7000-8000-000000000001", "name": "Demo taxonomy", "description": "d", "version": "1"},
{"id": "0190a000-0000-7000-8000-000000000002", "name": "Food", "description": "d", "code": "BD"},
{"id": "0190a000-0000-7000-8000-000000000003", "name": "Org", "description": "d", "website": "https://example.org"},
{"id": "0190a000-0000-7000-8000-000000000004", "location_type": "virtual"},
` + svcA + `,
{"id": "0190a000-0000-7000-8000-000000000005", "service_id": "0190a000-bbbb-7000-8000-00000000000a", "location": {"id": "0190a000-0000-7000-8000-000000000004", "location_type": "virtual"}},
{"id": "0190a000-0000-7000-8000-000000000006", "name": "Nothing to tell by"}
]`
	recs, _ := readAll(t, writeFile(t, t.TempDir(), "directory.json", doc))
	want := []hsds.Kind{hsds.KindTaxonomy, hsds.KindTaxonomyTerm, hsds.KindOrganization, hsds.KindLocation,
		hsds.KindService, hsds.KindServiceAtLocation, ""}
	if len(recs) != len(want) {
		t.Fatalf("%d records", len(recs))
	}
	for i, r := range recs {
		if r.Kind != want[i] {
			t.Errorf("record %d (line %d): kind %q, want %q", i, r.Line, r.Kind, want[i])
		}
		if i < 6 && (r.Err != nil || objects(r) != 1) {
			t.Errorf("record %d: %v, %d objects", i, r.Err, objects(r))
		}
	}
	last := recs[6]
	if last.Err == nil || !strings.Contains(last.Err.Error(), "cannot tell which HSDS object") || objects(last) != 0 {
		t.Errorf("unrecognisable record: %+v", last)
	}
	if recs[5].ServiceAtLocation.LocationID.String() != "0190a000-0000-7000-8000-000000000004" {
		t.Errorf("embedded location's id not taken as location_id: %+v", recs[5].ServiceAtLocation)
	}
}

// The file name, when it names a type, decides the type over the members.
func TestReadKindFromFileName(t *testing.T) {
	org := `{"id": "0190a000-0000-7000-8000-000000000001", "name": "Org", "description": "plain"}`
	for name, want := range map[string]hsds.Kind{
		"organization.json": hsds.KindOrganization, "organizations.json": hsds.KindOrganization,
		"Organization_List.JSON.json": hsds.KindOrganization, "organization_full.ndjson": hsds.KindOrganization,
		"taxonomy.json": hsds.KindTaxonomy, "taxonomies.json": hsds.KindTaxonomy,
		"taxonomy_term.json": hsds.KindTaxonomyTerm, "taxonomy_terms.json": hsds.KindTaxonomyTerm,
		"service_at_locations.json": hsds.KindServiceAtLocation, "services.json": hsds.KindService,
		"locations.json": hsds.KindLocation, "export.json": "",
	} {
		r := readOne(t, name, org)
		if r.Kind != want {
			t.Errorf("%s: kind %q, want %q", name, r.Kind, want)
		}
	}
	// Read as an organization, the same object is valid.
	if r := readOne(t, "organizations.json", org); r.Err != nil || r.Organization.Name != "Org" {
		t.Errorf("organizations.json: %+v", r)
	}
	// A service in a location file is read as a location, and fails as one.
	r := readOne(t, "location_list.json", "["+svcA+"]")
	var fe *hsds.FieldError
	if r.Kind != hsds.KindLocation || !errors.As(r.Err, &fe) || fe.Field != "location_type" {
		t.Errorf("service in a location file: kind %q, %v", r.Kind, r.Err)
	}
}

// A directory is read recursively in path order; only .json and .ndjson files count.
func TestReadDirectory(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "b/service_list.json", "["+svcB+"]")
	writeFile(t, dir, "a/nested/services.ndjson", svcA)
	writeFile(t, dir, "c/notes.txt", "not data")
	writeFile(t, dir, "c/service_list.json.bak", "["+svcA+"]")
	recs, skipped := readAll(t, dir)
	if len(recs) != 2 || len(skipped) != 0 {
		t.Fatalf("%d records, skipped %v", len(recs), skipped)
	}
	if recs[0].ID != "0190a000-bbbb-7000-8000-00000000000a" || recs[0].File != filepath.Join(dir, "a/nested/services.ndjson") ||
		recs[1].ID != "0190a000-bbbb-7000-8000-00000000000b" {
		t.Fatalf("order: %s, %s", where(recs[0]), where(recs[1]))
	}
}

// Files that hold no directory objects are skipped with the reason; the
// rest of the directory is still read.
func TestReadSkipsFilesWithoutObjects(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]string{
		"empty.json":     "",
		"spaces.json":    " \n\t\r\n",
		"text.json":      "hello",
		"string.json":    `"a string"`,
		"number.json":    "42",
		"null.json":      "null",
		"bom.json":       "\ufeff[" + svcA + "]",
		"base.json":      `{"version": "3.0", "openapi_url": "https://example.org/openapi.json"}`,
		"tabular.json":   `{"services.csv": []}`,
		"z_service.json": svcA,
	}
	want := map[string]string{
		"empty.json": "empty file", "spaces.json": "empty file",
		"text.json": "not JSON", "bom.json": "not JSON",
		"string.json": "not an HSDS object or list", "number.json": "not an HSDS object or list", "null.json": "not an HSDS object or list",
		"base.json": "HSDS API base document", "tabular.json": "HSDS tabular (CSV) form is not supported",
	}
	for name, doc := range cases {
		writeFile(t, dir, name, doc)
	}
	recs, skipped := readAll(t, dir)
	if len(recs) != 1 || recs[0].Err != nil {
		t.Fatalf("records %+v", recs)
	}
	if len(skipped) != len(want) {
		t.Fatalf("skipped %v", skipped)
	}
	for _, s := range skipped {
		if w := want[filepath.Base(s.File)]; w == "" || !strings.HasPrefix(s.Reason, w) {
			t.Errorf("%s skipped for %q, want %q", filepath.Base(s.File), s.Reason, w)
		}
	}
}

// JSON that breaks inside a file stops the read with an error naming the
// file and line (a record boundary cannot be trusted after it); the records
// before the break have been delivered. A list that is cut short, or
// followed by more data, is such a break too: it must not pass for a whole
// file.
func TestReadBrokenJSON(t *testing.T) {
	cases := []struct {
		name, doc, want string
		before          int
	}{
		{"service_list.json", "[\n" + svcA + ",\n{\"id\": \n]", "broken JSON near line 3", 1},
		{"service_list.json", "[\n" + svcA + ",\n" + svcB + "\n", "list not closed", 2},
		{"service_list.json", "[\n" + svcA + ",\n" + svcB, "list not closed", 2},
		{"service_list.json", "[" + svcA + "]\n[" + svcB + "]", "unexpected data after the list near line 2", 1},
		{"service_list.json", "[" + svcA + "] x", "unexpected data after the list", 1},
		{"service_list.json", "[" + svcA + ", NaN]", "broken JSON", 1},
		{"service_list.json", "[" + svcA + ", Infinity]", "broken JSON", 1},
		{"service_list.json", `{"contents": [` + svcA + "]", "service_list.json", 1},
		{"service_list.json", `{"contents": [` + svcA + `]}` + "\n" + `{"contents": [` + svcB + `]}`, "unexpected data after the list near line 2", 1},
		{"service_list.json", `{"contents": {"id": "x"}}`, "contents must be an array", 0},
		{"service_list.json", `{"total_items": 1, "contents": [` + svcA + `], "size": }`, "broken JSON", 1},
		{"services.ndjson", svcA + "\n" + svcB + "\n{\"id\": ", "broken JSON near line 3", 2},
		{"services.ndjson", svcA + "\n{\"name\": \"x\",}", "broken JSON near line 2", 1},
	}
	for _, c := range cases {
		var n int
		path := writeFile(t, t.TempDir(), c.name, c.doc)
		_, err := hsds.Read(path, func(r hsds.Record) error {
			n++
			return nil
		})
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%q: error %v, want one naming the file and %q", c.doc, err, c.want)
		}
		if n != c.before {
			t.Errorf("%q: %d records before the error, want %d", c.doc, n, c.before)
		}
	}
}

// The callback's error stops the walk at once, across files, and is returned as is.
func TestReadStopsOnCallbackError(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a/service_list.json", "["+svcA+","+svcB+"]")
	writeFile(t, dir, "b/service_list.json", "["+svcA+"]")
	stop := errors.New("stop here")
	var seen []string
	_, err := hsds.Read(dir, func(r hsds.Record) error {
		seen = append(seen, r.ID)
		if len(seen) == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || len(seen) != 2 {
		t.Fatalf("err %v after %v", err, seen)
	}
	// Also for the first object of a one-object file and inside a paginated list.
	for name, doc := range map[string]string{"service.json": svcA + "\n" + svcB, "service_list.json": `{"contents": [` + svcA + "," + svcB + `]}`} {
		n := 0
		_, err := hsds.Read(writeFile(t, t.TempDir(), name, doc), func(hsds.Record) error { n++; return stop })
		if !errors.Is(err, stop) || n != 1 {
			t.Errorf("%s: err %v after %d records", name, err, n)
		}
	}
}

func TestReadMissingPath(t *testing.T) {
	_, err := hsds.Read(filepath.Join(t.TempDir(), "nope"), func(hsds.Record) error { return nil })
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err %v", err)
	}
}

func TestRecordWhere(t *testing.T) {
	r := hsds.Record{Kind: hsds.KindService, ID: "x", File: "dir/service_list.json", Line: 7}
	if got := r.Where(); got != "dir/service_list.json:7 service x" {
		t.Errorf("Where() = %q", got)
	}
	r.ID = ""
	if got := r.Where(); got != "dir/service_list.json:7 service (no id)" {
		t.Errorf("Where() = %q", got)
	}
}
