package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pb33f/jsonschema/v6"

	"github.com/waypoint-portal/waypoint/api/apitest"
	"github.com/waypoint-portal/waypoint/domain"
	"github.com/waypoint-portal/waypoint/domain/demo"
)

// hsdsSchemas compiles the official HSDS 3.0 object schemas in
// ../shared/hsds/schema (they $ref each other by file name) and the Page
// envelope of the HSDS API's openapi.json, keyed by export file name.
func hsdsSchemas(t *testing.T) map[string]*jsonschema.Schema {
	t.Helper()
	dir, err := filepath.Abs("../../shared/hsds/schema")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "service.json")); err != nil {
		t.Fatalf("the HSDS 3.0 schemas are expected in ../shared/hsds/schema: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	url := "file://" + filepath.ToSlash(dir) + "/"
	out := map[string]*jsonschema.Schema{}
	for file, schema := range map[string]string{
		"taxonomy_list.json": "taxonomy.json", "taxonomy_term_list.json": "taxonomy_term.json",
		"organization_list.json": "organization.json", "location_list.json": "location.json",
		"service_list.json": "service.json", "page": "openapi.json#/components/schemas/Page",
	} {
		s, err := c.Compile(url + schema)
		if err != nil {
			t.Fatalf("compile %s: %v", schema, err)
		}
		out[file] = s
	}
	return out
}

// validHSDSExport fails the test unless every file hsds export wrote is an
// HSDS Page whose contents each validate against their object's schema.
func validHSDSExport(t *testing.T, dir string) int {
	t.Helper()
	schemas := hsdsSchemas(t)
	n := 0
	for file, s := range schemas {
		if file == "page" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if err := schemas["page"].Validate(doc); err != nil {
			t.Fatalf("%s is no HSDS Page: %v", file, err)
		}
		var page struct {
			Contents []json.RawMessage `json:"contents"`
		}
		if err := json.Unmarshal(b, &page); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for i, raw := range page.Contents {
			item, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Validate(item); err != nil {
				t.Fatalf("%s item %d is not valid HSDS 3.0: %v\n%s", file, i, err, raw)
			}
			n++
		}
	}
	return n
}

// hsds export writes documents the official HSDS 3.0 schemas accept: the
// official examples once imported, and a generated directory of every shape.
func TestHSDSExportMatchesTheOfficialSchemas(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := apitest.NewDB(t)
	store := domain.NewStore(db)
	if _, err := store.ImportHSDS(ctx, examplesDir(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.SeedDirectory(ctx, db, 60); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	counts, err := store.ExportHSDS(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, c := range counts {
		total += c
	}
	if n := validHSDSExport(t, dir); n != total || n < 60 {
		t.Fatalf("validated %d records, the export wrote %d (counts %v)", n, total, counts)
	}
}

// The validator must be able to fail: a service without its required
// status and with a malformed id is rejected.
func TestHSDSSchemaRejects(t *testing.T) {
	t.Parallel()
	s := hsdsSchemas(t)["service_list.json"]
	for _, bad := range []string{
		`{"id": "0190a000-bbbb-7000-8000-000000000001", "name": "No status"}`,
		`{"id": 7, "name": "Number id", "status": "active"}`,
		`{"id": "0190a000-bbbb-7000-8000-000000000001", "name": "Bad status", "status": "open"}`,
	} {
		doc, err := jsonschema.UnmarshalJSON(strings.NewReader(bad))
		if err != nil {
			t.Fatal(err)
		}
		if s.Validate(doc) == nil {
			t.Errorf("the HSDS service schema accepted %s", bad)
		}
	}
}
