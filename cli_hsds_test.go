package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// hsds import exits 1 when it left data out, naming each skipped file and
// record (file:line kind id: why) on stderr; the rest is imported. The API
// base document holds no directory data: skipping it alone is exit 0.
func TestHSDSImportExitCodes(t *testing.T) {
	db := env(map[string]string{"DATABASE_URL": freshDatabase(t)})
	dir := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("base.json", `{"version": "3.0", "profile": "https://openreferral.org", "openapi_url": "https://example.org/openapi.json"}`)
	write("organization_list.json", `[{"id": "0190a000-aaaa-7000-8000-000000000001", "name": "Good Org", "description": "fine"}]`)
	if r := runCLI(db, "hsds", "import", dir); r.code != exitOK || !strings.Contains(r.stdout, "imported 1 record(s): organization 1") ||
		!strings.Contains(r.stderr, "skipped file "+filepath.Join(dir, "base.json")) {
		t.Fatalf("a clean import: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}

	write("organization_list.json", `[
{"id": "0190a000-aaaa-7000-8000-000000000001", "name": "Good Org", "description": "fine"},
{"id": "0190a000-aaaa-7000-8000-000000000003", "name": "", "description": "no name"}
]`)
	write("notes.json", `this is not JSON`)
	r := runCLI(db, "hsds", "import", dir)
	wantErr := []string{
		"skipped file " + filepath.Join(dir, "notes.json") + ": not JSON",
		"organization_list.json:3 organization 0190a000-aaaa-7000-8000-000000000003: name: is required",
		"waypoint: hsds import: skipped 1 malformed record(s) and 1 file(s); the rest was imported",
	}
	for _, w := range wantErr {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr lacks %q", w)
		}
	}
	if r.code != exitRuntime || !strings.Contains(r.stdout, "imported 1 record(s): organization 1") || t.Failed() {
		t.Fatalf("a partial import: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}
