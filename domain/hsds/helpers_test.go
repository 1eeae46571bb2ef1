package hsds_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	"github.com/waypoint-portal/waypoint/domain/hsds"
)

// examples holds the official HSDS 3.0 examples (CC BY-SA 4.0, Open Referral).
const examples = "testdata/examples"

// writeFile writes content to dir/name (creating parent directories) and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// readAll reads path and fails the test if the walk itself fails.
func readAll(t *testing.T, path string) ([]hsds.Record, []hsds.Skipped) {
	t.Helper()
	var recs []hsds.Record
	skipped, err := hsds.Read(path, func(r hsds.Record) error {
		recs = append(recs, r)
		return nil
	})
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return recs, skipped
}

// readOne reads a single-record document written to a file named name.
func readOne(t *testing.T, name, doc string) hsds.Record {
	t.Helper()
	recs, skipped := readAll(t, writeFile(t, t.TempDir(), name, doc))
	if len(recs) != 1 || len(skipped) != 0 {
		t.Fatalf("%s: %d records, skipped %v; want one record", name, len(recs), skipped)
	}
	return recs[0]
}

// object returns the record's decoded object (nil when it has none).
func object(r hsds.Record) any {
	switch {
	case r.ServiceAtLocation != nil:
		return r.ServiceAtLocation
	case r.Service != nil:
		return r.Service
	case r.Organization != nil:
		return r.Organization
	case r.Location != nil:
		return r.Location
	case r.TaxonomyTerm != nil:
		return r.TaxonomyTerm
	case r.Taxonomy != nil:
		return r.Taxonomy
	}
	return nil
}

// objects counts the object pointers a record carries.
func objects(r hsds.Record) int {
	n := 0
	for _, set := range []bool{r.Taxonomy != nil, r.TaxonomyTerm != nil, r.Organization != nil,
		r.Location != nil, r.Service != nil, r.ServiceAtLocation != nil} {
		if set {
			n++
		}
	}
	return n
}

// decoded is JSON decoded into plain Go values.
func decoded(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %.80s: %v", b, err)
	}
	return v
}

// missing lists the members of want that got lacks or holds with another
// value; members only got has are not listed.
func missing(path string, want, got any) []string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{path + ": not an object"}
		}
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var out []string
		for _, k := range keys {
			out = append(out, missing(path+"."+k, w[k], g[k])...)
		}
		return out
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return []string{fmt.Sprintf("%s: %d items, got %v", path, len(w), got)}
		}
		var out []string
		for i := range w {
			out = append(out, missing(fmt.Sprintf("%s[%d]", path, i), w[i], g[i])...)
		}
		return out
	}
	if !reflect.DeepEqual(want, got) {
		return []string{fmt.Sprintf("%s: want %v, got %v", path, want, got)}
	}
	return nil
}

// where names a record by base file name, line, kind and id.
func where(r hsds.Record) string {
	return fmt.Sprintf("%s:%d %s %s", filepath.Base(r.File), r.Line, r.Kind, r.ID)
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
