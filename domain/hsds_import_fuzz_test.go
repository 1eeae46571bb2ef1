package domain_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/waypoint-portal/waypoint/api/apitest"
	"github.com/waypoint-portal/waypoint/domain"
)

var importFileNames = []string{"service_full.json", "organization_full.json", "location.json",
	"taxonomy_term_list.json", "service_at_location_full.json", "taxonomy.json"}

// FuzzHSDSImport imports any file content into a real database. Malformed
// records must be reported and skipped: the import as a whole may fail only
// when the file is not JSON (reported with its name), never because of what
// a record says, and it must not panic.
func FuzzHSDSImport(f *testing.F) {
	org := `{"id":"0190a000-0a00-7000-8000-000000000001","name":"Neighbors","description":"Mutual aid"}`
	for i, seed := range []string{
		org,
		`{"id":"0190a000-0c00-7000-8000-000000000001","name":"Pantry","status":"active","organization":` + org + `,` +
			`"schedules":[{"byday":"MO","opens_at":"09:00","closes_at":"17:00","valid_from":"2025-01-01","valid_to":"2026-01-01"}]}`,
		`{"id":"0190a000-0b00-7000-8000-000000000001","location_type":"physical","latitude":47.6,"longitude":-122.3,"timezone":"America/Los_Angeles"}`,
		`[{"id":"0190a000-0f00-7000-8000-000000000001","name":"Food","description":"Food"},{"id":"0190a000-0f00-7000-8000-000000000002","name":"Pantries","description":"","parent_id":"0190a000-0f00-7000-8000-000000000009"}]`,
		`{"id":"0190a000-0c00-7000-8000-000000000002","name":"\u0000","status":"active","organization_id":"0190a000-0a00-7000-8000-000000000001"}`,
		`{"id":"0190a000-0c00-7000-8000-000000000003","name":"x","status":"active","organization_id":"0190a000-0a00-7000-8000-000000000001","minimum_age":1e308,"cost_options":[{"amount":-1e308}]}`,
		`{"id":"0190a000-0b00-7000-8000-000000000002","location_type":"physical","latitude":1e300,"longitude":1e300}`,
		`{"id":"0190a000-0c00-7000-8000-000000000004","name":"x","status":"active","organization_id":"0190a000-0a00-7000-8000-000000000001","schedules":[{"valid_from":"0001-01-01","timezone":14}]}`,
	} {
		f.Add(uint8(i), []byte(seed))
	}
	db, _ := apitest.NewDB(f)
	store := domain.NewStore(db)
	f.Fuzz(func(t *testing.T, name uint8, data []byte) {
		path := filepath.Join(t.TempDir(), importFileNames[int(name)%len(importFileNames)])
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		rep, err := store.ImportHSDS(context.Background(), path)
		// The reader's own errors start with the file's path; anything else
		// (a batch the database refused as a whole) is a failure.
		if err != nil && !strings.HasPrefix(err.Error(), path+":") {
			t.Fatalf("import failed as a whole (report %+v): %v", rep, err)
		}
	})
}
