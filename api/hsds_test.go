package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/waypoint-portal/waypoint/api/apitest"
	"github.com/waypoint-portal/waypoint/domain"
	"github.com/waypoint-portal/waypoint/domain/hsds"
)

// examplesDir holds the official HSDS 3.0 examples (CC BY-SA 4.0, Open Referral).
func examplesDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../domain/hsds/testdata/examples")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func readJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

// exportedContents reads one exported list file's items.
func exportedContents(t *testing.T, dir, name string) []any {
	t.Helper()
	m := readJSON(t, filepath.Join(dir, name))
	items, _ := m["contents"].([]any)
	if int(m["total_items"].(float64)) != len(items) {
		t.Fatalf("%s: total_items %v, contents %d", name, m["total_items"], len(items))
	}
	return items
}

// Importing an HSDS example and exporting it gives the example back, member
// for member: the service_full example (organization, locations, schedules,
// phones, languages, taxonomy terms, cost options, contacts, funding, ...).
func TestHSDSServiceFullRoundTrip(t *testing.T) {
	t.Parallel()
	ex := examplesDir(t)
	db, _ := apitest.NewDB(t)
	store := domain.NewStore(db)
	ctx := context.Background()

	tmp := t.TempDir()
	src := filepath.Join(tmp, "in")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(ex, "service_full.json"))
	if err := os.WriteFile(filepath.Join(src, "service_full.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := store.ImportHSDS(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failed) != 0 || rep.Imported[hsds.KindService] != 1 {
		var buf bytes.Buffer
		rep.Print(&buf)
		t.Fatalf("import report:\n%s", buf.String())
	}
	out := filepath.Join(tmp, "out")
	if _, err := store.ExportHSDS(ctx, out); err != nil {
		t.Fatal(err)
	}
	services := exportedContents(t, out, "service_list.json")
	if len(services) != 1 {
		t.Fatalf("exported %d services", len(services))
	}
	want := readJSON(t, filepath.Join(ex, "service_full.json"))
	if diff := jsonDiff("", want, services[0]); diff != "" {
		t.Fatalf("service_full.json does not round-trip:\n%s", diff)
	}
	// The organization, exported on its own, is organization_full's organization
	// minus the services it embeds (those are in service_list.json).
	orgs := exportedContents(t, out, "organization_list.json")
	if len(orgs) != 1 {
		t.Fatalf("exported %d organizations", len(orgs))
	}
	wantOrg := want["organization"].(map[string]any)
	if diff := jsonDiff("organization", wantOrg, orgs[0]); diff != "" {
		t.Fatalf("organization does not round-trip:\n%s", diff)
	}
	terms := exportedContents(t, out, "taxonomy_term_list.json")
	wantTerm := readJSON(t, filepath.Join(ex, "taxonomy_term.json"))
	if len(terms) != 1 || jsonDiff("taxonomy_term", wantTerm, terms[0]) != "" {
		t.Fatalf("taxonomy terms %v, want [%v]", terms, wantTerm)
	}
}

// The whole example directory imports (the tabular CSV form and the API base
// document are reported as skipped, not failed), and export -> import ->
// export is byte-identical: the importer reads the exporter's output back to
// the same directory. Importing twice changes nothing (upsert by HSDS id).
func TestHSDSDirectoryRoundTrip(t *testing.T) {
	t.Parallel()
	ex := examplesDir(t)
	ctx := context.Background()
	dbA, _ := apitest.NewDB(t)
	a := domain.NewStore(dbA)
	rep, err := a.ImportHSDS(ctx, ex)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	rep.Print(&buf)
	t.Logf("import report:\n%s", buf.String())
	if len(rep.Failed) != 0 {
		t.Fatalf("records failed:\n%s", buf.String())
	}
	if len(rep.Skipped) != 2 || !strings.Contains(buf.String(), "base.json") || !strings.Contains(buf.String(), "tabular.json") {
		t.Fatalf("want base.json and tabular.json skipped:\n%s", buf.String())
	}
	// organization_full, organization_list, 2 x service_at_location, service_full,
	// service_list, location, taxonomy, taxonomy_list, taxonomy_term, taxonomy_term_list
	if rep.Imported[hsds.KindService] != 2 || rep.Imported[hsds.KindOrganization] != 2 || rep.Imported[hsds.KindServiceAtLocation] != 2 ||
		rep.Imported[hsds.KindLocation] != 1 || rep.Imported[hsds.KindTaxonomy] != 2 || rep.Imported[hsds.KindTaxonomyTerm] != 2 {
		t.Fatalf("unexpected counts:\n%s", buf.String())
	}
	var counts [3]int64
	for i, tbl := range []string{"services", "organizations", "locations"} {
		dbA.Raw("SELECT count(*) FROM " + tbl).Scan(&counts[i])
	}
	if counts != [3]int64{1, 1, 1} {
		t.Fatalf("services, organizations, locations = %v, want one each (ids repeat across files)", counts)
	}

	tmp := t.TempDir()
	x, y := filepath.Join(tmp, "x"), filepath.Join(tmp, "y")
	if _, err := a.ExportHSDS(ctx, x); err != nil {
		t.Fatal(err)
	}
	// Importing the same data again is a no-op for the content.
	if rep2, err := a.ImportHSDS(ctx, x); err != nil || len(rep2.Failed) != 0 {
		t.Fatalf("re-import: %v %v", err, rep2.Failed)
	}
	x2 := filepath.Join(tmp, "x2")
	if _, err := a.ExportHSDS(ctx, x2); err != nil {
		t.Fatal(err)
	}
	sameDirs(t, x, x2)

	dbB, _ := apitest.NewDB(t)
	b := domain.NewStore(dbB)
	rep, err = b.ImportHSDS(ctx, x)
	if err != nil || len(rep.Failed) != 0 || len(rep.Skipped) != 0 {
		t.Fatalf("import of export: %v %+v", err, rep)
	}
	if _, err := b.ExportHSDS(ctx, y); err != nil {
		t.Fatal(err)
	}
	sameDirs(t, x, y)
}

func sameDirs(t *testing.T, x, y string) {
	t.Helper()
	for _, name := range []string{"taxonomy_list.json", "taxonomy_term_list.json", "organization_list.json", "location_list.json", "service_list.json"} {
		bx, err := os.ReadFile(filepath.Join(x, name))
		if err != nil {
			t.Fatal(err)
		}
		by, err := os.ReadFile(filepath.Join(y, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(bx, by) {
			t.Fatalf("%s differs after a round trip:\n%s\n---\n%s", name, bx, by)
		}
	}
}

// A malformed record is reported with its file, line and id and skipped;
// the records around it are imported.
func TestHSDSImportSkipsMalformedRecords(t *testing.T) {
	t.Parallel()
	db, _ := apitest.NewDB(t)
	store := domain.NewStore(db)
	dir := t.TempDir()
	doc := `{
  "total_items": 4, "total_pages": 1, "page_number": 1, "size": 4,
  "contents": [
    {"id": "0190a000-aaaa-7000-8000-000000000001", "name": "Good Org", "description": "fine"},
    {"id": "0190a000-aaaa-7000-8000-000000000002",
     "name": "Bad Year Org", "description": "year is text", "year_incorporated": "nineteen"},
    {"id": "0190a000-aaaa-7000-8000-000000000003", "name": "", "description": "no name"},
    {"id": "0190a000-aaaa-7000-8000-000000000004", "name": "Also Good", "description": "fine"}
  ]
}
`
	if err := os.WriteFile(filepath.Join(dir, "organization_list.json"), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	services := `[
{"id": "0190a000-bbbb-7000-8000-000000000001", "name": "Orphan", "status": "active", "organization_id": "0190a000-aaaa-7000-8000-0000000000ff"},
{"id": "0190a000-bbbb-7000-8000-000000000002", "name": "Pantry", "status": "open", "organization_id": "0190a000-aaaa-7000-8000-000000000001"},
{"id": "0190a000-bbbb-7000-8000-000000000003", "name": "Pantry", "status": "active", "organization_id": "0190a000-aaaa-7000-8000-000000000001",
 "schedules": [{"id": "0190a000-cccc-7000-8000-000000000001", "byday": "MO", "opens_at": "25:00", "closes_at": "26:00"}]},
{"id": "0190a000-bbbb-7000-8000-000000000004", "name": "Meals", "status": "active", "organization_id": "0190a000-aaaa-7000-8000-000000000004"}
]`
	if err := os.WriteFile(filepath.Join(dir, "service_list.json"), []byte(services), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := store.ImportHSDS(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	rep.Print(&buf)
	t.Log(buf.String())
	if rep.Imported[hsds.KindOrganization] != 2 || rep.Imported[hsds.KindService] != 1 || len(rep.Failed) != 5 {
		t.Fatalf("report:\n%s", buf.String())
	}
	wantLines := []string{
		"organization_list.json:5 organization 0190a000-aaaa-7000-8000-000000000002: year_incorporated: must be a float64, not a JSON string",
		"organization_list.json:7 organization 0190a000-aaaa-7000-8000-000000000003: name: is required",
		"service_list.json:2 service 0190a000-bbbb-7000-8000-000000000001: insert or update on table \"services\" violates foreign key constraint",
		"service_list.json:3 service 0190a000-bbbb-7000-8000-000000000002: status: must be one of",
		"service_list.json:4 service 0190a000-bbbb-7000-8000-000000000003: schedules[0].opens_at: must be a time of day",
	}
	for _, w := range wantLines {
		if !strings.Contains(buf.String(), w) {
			t.Errorf("report lacks %q", w)
		}
	}
	var names []string
	db.Raw("SELECT name FROM organizations ORDER BY name").Scan(&names)
	if !reflect.DeepEqual(names, []string{"Also Good", "Good Org"}) {
		t.Fatalf("organizations %v", names)
	}
	db.Raw("SELECT name FROM services ORDER BY name").Scan(&names)
	if !reflect.DeepEqual(names, []string{"Meals"}) {
		t.Fatalf("services %v", names)
	}
}

// jsonDiff lists the members where got differs from want (both decoded JSON).
func jsonDiff(path string, want, got any) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return path + ": not an object\n"
		}
		var out strings.Builder
		for k, wv := range w {
			out.WriteString(jsonDiff(path+"."+k, wv, g[k]))
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				out.WriteString(path + "." + k + ": unexpected member\n")
			}
		}
		return out.String()
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return path + ": array length differs\n"
		}
		var out strings.Builder
		for i := range w {
			out.WriteString(jsonDiff(path+"["+string(rune('0'+i))+"]", w[i], g[i]))
		}
		return out.String()
	default:
		if !reflect.DeepEqual(want, got) {
			b1, _ := json.Marshal(want)
			b2, _ := json.Marshal(got)
			return path + ": want " + string(b1) + ", got " + string(b2) + "\n"
		}
		return ""
	}
}
