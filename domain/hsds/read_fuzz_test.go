package hsds

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzFileNames decide how the reader types a file's records.
var fuzzFileNames = []string{"service_full.json", "organization_list.json", "location.json",
	"taxonomy_term_list.json", "service_at_location_full.json", "taxonomy.json", "records.ndjson", "unknown.json"}

// FuzzHSDSRead feeds the HSDS reader any file content under any of the
// names that decide the object type. It must not panic, every record must be
// either an error or exactly one object, and an accepted object must pass
// validation again (what the importer stores is what was checked).
func FuzzHSDSRead(f *testing.F) {
	for i, seed := range []string{
		`{"id":"0190a000-0c00-7000-8000-000000000001","name":"Pantry","status":"active","organization_id":"0190a000-0a00-7000-8000-000000000001"}`,
		`[{"id":"x","name":"Org","description":"d"}]`,
		`{"contents":[{"id":"0190a000-0b00-7000-8000-000000000001","location_type":"physical","latitude":91}]}`,
		`{"id":"0190a000-0f00-7000-8000-000000000001","name":"Food","description":"","parent_id":"0190a000-0f00-7000-8000-000000000001"}`,
		"{\"id\":\"a\"}\n{\"id\":\"b\",\"status\":\"active\"}\nnot json\n",
		`{"id":"0190a000-0c00-7000-8000-000000000001","name":"x","status":"active","organization_id":"0190a000-0a00-7000-8000-000000000001","schedules":[{"valid_from":"2027-01-01","valid_to":"2026-01-01"}]}`,
		`{"id":"0190a000-0c00-7000-8000-000000000001","name":"\u0000","status":"active","organization_id":"0190a000-0a00-7000-8000-000000000001","schedules":[{"opens_at":"25:00","closes_at":"09:00"}]}`,
		`{"id":"s","service":{"id":"0190a000-0c00-7000-8000-000000000001"},"location":{"id":"0190a000-0b00-7000-8000-000000000001","location_type":"virtual"}}`,
		``, `null`, `[[]]`, `{"contents":null}`,
	} {
		f.Add(uint8(i), []byte(seed))
	}
	f.Fuzz(func(t *testing.T, name uint8, data []byte) {
		path := filepath.Join(t.TempDir(), fuzzFileNames[int(name)%len(fuzzFileNames)])
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Read(path, func(r Record) error {
			objects := 0
			for _, set := range []bool{r.Taxonomy != nil, r.TaxonomyTerm != nil, r.Organization != nil, r.Location != nil,
				r.ServiceAtLocation != nil, r.Service != nil && r.ServiceAtLocation == nil} {
				if set {
					objects++
				}
			}
			if (r.Err == nil) != (objects == 1) {
				t.Fatalf("record %s: err %v with %d objects", r.Where(), r.Err, objects)
			}
			if r.Err == nil {
				if err := revalidate(r); err != nil {
					t.Fatalf("record %s passed validation once but not twice: %v", r.Where(), err)
				}
			}
			return nil
		})
		// A file that is not JSON at all stops the reading, with a reason
		// naming the file (the import reports it); it must not panic.
		if err != nil && !strings.Contains(err.Error(), path) {
			t.Fatalf("Read error does not name the file: %v", err)
		}
	})
}

func revalidate(r Record) error {
	switch {
	case r.Taxonomy != nil:
		return ValidateTaxonomy(r.Taxonomy)
	case r.TaxonomyTerm != nil:
		return ValidateTaxonomyTerm(r.TaxonomyTerm)
	case r.Organization != nil:
		return ValidateOrganization(r.Organization, false)
	case r.Location != nil:
		return ValidateLocation(r.Location, false)
	case r.ServiceAtLocation != nil:
		return ValidateServiceAtLocation(r.ServiceAtLocation, r.Service, false)
	}
	return ValidateService(r.Service, false)
}
