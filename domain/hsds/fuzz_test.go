package hsds

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// The fuzz targets' seed corpora live in testdata/fuzz/<target>/ (hostile
// records and files); the official examples are added as seeds here.

var allKinds = []Kind{KindTaxonomy, KindTaxonomyTerm, KindOrganization, KindLocation, KindService, KindServiceAtLocation}

// fieldPathRe is the shape of a FieldError path: members and indexes.
var fieldPathRe = regexp.MustCompile(`^[a-z0-9_]+(\[[0-9]+\])*(\.[a-z0-9_]+(\[[0-9]+\])*)*$`)

// FuzzReadRecord decodes arbitrary bytes as one record of a given kind (or
// of a kind told by its members). Properties: it never panics; a record has
// an error or objects, never both; an error names a well-formed path; an
// accepted record's id is its object's, a UUID; and what is accepted
// encodes to JSON that decodes to an accepted record with the same JSON.
func FuzzReadRecord(f *testing.F) {
	files, _ := filepath.Glob("testdata/examples/*.json")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(kindFromName(file)), b)
	}
	f.Fuzz(func(t *testing.T, kind string, data []byte) {
		k := Kind(kind)
		if !slices.Contains(allKinds, k) {
			k = ""
		}
		rec := decodeRecord(k, data, "f.json", 3)
		checkRecord(t, rec, k)
		if rec.Err != nil {
			return
		}
		obj := recordObject(rec)
		b, err := json.Marshal(obj)
		if err != nil {
			t.Fatalf("accepted record does not encode: %v", err)
		}
		again := decodeRecord(rec.Kind, b, "f.json", 3)
		if again.Err != nil {
			t.Fatalf("re-reading what was accepted: %v\n%s", again.Err, b)
		}
		if b2, _ := json.Marshal(recordObject(again)); !bytes.Equal(b, b2) {
			t.Fatalf("round trip changed the record:\n%s\n%s", b, b2)
		}
	})
}

// FuzzReadFile reads arbitrary bytes as a file of the given name.
// Properties: it never panics; it returns an error, a skip, or records;
// every record has an error or objects and a line inside the file.
func FuzzReadFile(f *testing.F) {
	files, _ := filepath.Glob("testdata/examples/*.json")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(filepath.Base(file), b)
	}
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		name = strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r == '_' || r == '.' {
				return r
			}
			return -1
		}, name)
		if name == "" || name[0] == '.' || len(name) > 100 {
			name = "data.json"
		}
		path := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		var n int
		skipped, err := Read(path, func(r Record) error {
			n++
			if r.File != path || r.Line < 1 || r.Line > lines {
				t.Fatalf("record at %s:%d of a %d-line file", r.File, r.Line, lines)
			}
			checkRecord(t, r, kindFromName(path))
			return nil
		})
		for _, s := range skipped {
			if s.File != path || s.Reason == "" || n > 0 || err != nil {
				t.Fatalf("skip %+v after %d records, err %v", s, n, err)
			}
		}
		if err != nil && !strings.Contains(err.Error(), path) {
			t.Fatalf("error does not name the file: %v", err)
		}
	})
}

func recordObject(r Record) any {
	switch r.Kind {
	case KindTaxonomy:
		return r.Taxonomy
	case KindTaxonomyTerm:
		return r.TaxonomyTerm
	case KindOrganization:
		return r.Organization
	case KindLocation:
		return r.Location
	case KindService:
		return r.Service
	case KindServiceAtLocation:
		return r.ServiceAtLocation
	}
	return nil
}

// recordID is the id of the record's object.
func recordID(r Record) uuid.UUID {
	switch r.Kind {
	case KindTaxonomy:
		return r.Taxonomy.ID
	case KindTaxonomyTerm:
		return r.TaxonomyTerm.ID
	case KindOrganization:
		return r.Organization.ID
	case KindLocation:
		return r.Location.ID
	case KindService:
		return r.Service.ID
	}
	return r.ServiceAtLocation.ID
}

// checkRecord checks the Record contract for a record read as kind k.
func checkRecord(t *testing.T, r Record, k Kind) {
	t.Helper()
	set := 0
	for _, p := range []bool{r.Taxonomy != nil, r.TaxonomyTerm != nil, r.Organization != nil,
		r.Location != nil, r.Service != nil, r.ServiceAtLocation != nil} {
		if p {
			set++
		}
	}
	if k != "" && r.Kind != k {
		t.Fatalf("kind %q read as %q", k, r.Kind)
	}
	if r.Err != nil {
		if set != 0 {
			t.Fatalf("record with error %v carries %d objects", r.Err, set)
		}
		var fe *FieldError
		if errors.As(r.Err, &fe) && (!fieldPathRe.MatchString(fe.Field) || fe.Message == "") {
			t.Fatalf("malformed field error %q: %q", fe.Field, fe.Message)
		}
		return
	}
	want := 1
	if r.Kind == KindServiceAtLocation && r.Service != nil {
		want = 2 // the embedded service travels with its link
	}
	if set != want || recordObject(r) == nil || reflectNil(recordObject(r)) {
		t.Fatalf("accepted %s record carries %d objects", r.Kind, set)
	}
	id, err := uuid.Parse(r.ID)
	if err != nil || id == uuid.Nil || id != recordID(r) {
		t.Fatalf("record id %q, object id %s", r.ID, recordID(r))
	}
}

// reflectNil reports a typed nil pointer inside an interface.
func reflectNil(v any) bool {
	switch p := v.(type) {
	case *Taxonomy:
		return p == nil
	case *TaxonomyTerm:
		return p == nil
	case *Organization:
		return p == nil
	case *Location:
		return p == nil
	case *Service:
		return p == nil
	case *ServiceAtLocation:
		return p == nil
	}
	return true
}
