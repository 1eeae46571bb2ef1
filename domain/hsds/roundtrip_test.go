package hsds_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/domain/hsds"
)

// listNames are the files export writes, one per kind (and the
// service-at-location list, which the reader accepts too).
var listNames = map[hsds.Kind]string{
	hsds.KindTaxonomy: "taxonomy_list.json", hsds.KindTaxonomyTerm: "taxonomy_term_list.json",
	hsds.KindOrganization: "organization_list.json", hsds.KindLocation: "location_list.json",
	hsds.KindService: "service_list.json", hsds.KindServiceAtLocation: "service_at_location_list.json",
}

// writeLists writes every record's object to dir, one list per kind, as
// export does, and returns how many items each list got.
func writeLists(t *testing.T, dir string, recs []hsds.Record) map[hsds.Kind]int {
	t.Helper()
	writers := map[hsds.Kind]*hsds.ListWriter{}
	for k, name := range listNames {
		w, err := hsds.CreateList(dir, name)
		if err != nil {
			t.Fatal(err)
		}
		writers[k] = w
	}
	for _, r := range recs {
		if err := writers[r.Kind].Add(object(r)); err != nil {
			t.Fatalf("%s: %v", r.Where(), err)
		}
	}
	counts := map[hsds.Kind]int{}
	for k, w := range writers {
		counts[k] = w.Count()
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return counts
}

// byKind lists records' objects by kind, in the order read.
func byKind(t *testing.T, recs []hsds.Record) map[hsds.Kind][]any {
	t.Helper()
	out := map[hsds.Kind][]any{}
	for _, r := range recs {
		if r.Err != nil {
			t.Fatalf("%s: %v", r.Where(), r.Err)
		}
		out[r.Kind] = append(out[r.Kind], object(r))
	}
	return out
}

// What a list writer writes, the reader reads back identically: the
// official examples and a synthetic directory with the members the
// examples leave out survive write → read unchanged, and a second write is
// byte for byte the first.
func TestWriteReadRoundTrip(t *testing.T) {
	first, _ := readAll(t, examples)
	first = append(first, syntheticDirectory(t)...)
	dir1, dir2 := t.TempDir(), t.TempDir()
	counts := writeLists(t, dir1, first)
	second, skipped := readAll(t, dir1)
	if len(skipped) != 0 || len(second) != len(first) {
		t.Fatalf("read back %d records (skipped %v), wrote %d (%v)", len(second), skipped, len(first), counts)
	}
	want, got := byKind(t, first), byKind(t, second)
	for k, ws := range want {
		if len(got[k]) != len(ws) || counts[k] != len(ws) {
			t.Errorf("%s: wrote %d, read back %d", k, len(ws), len(got[k]))
			continue
		}
		for i, w := range ws {
			if !reflect.DeepEqual(w, got[k][i]) {
				t.Errorf("%s %d changed:\nwrote %s\nread  %s", k, i, mustJSON(t, w), mustJSON(t, got[k][i]))
			}
		}
	}
	writeLists(t, dir2, second)
	for _, name := range listNames {
		a, _ := os.ReadFile(filepath.Join(dir1, name))
		b, _ := os.ReadFile(filepath.Join(dir2, name))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between the first and second write", name)
		}
	}
}

// syntheticDirectory is a record of every kind, read from JSON, with the
// members and values the official examples do not exercise: the timezone
// extension, text at the edges of Unicode, extreme and negative-zero
// numbers, time zones other than UTC, and an overnight schedule.
func syntheticDirectory(t *testing.T) []hsds.Record {
	t.Helper()
	text := "Ça va? 食物 🍲 👩🏽‍⚕️ e\u0301 عربى <b>&amp;</b> \"quoted\" back\\slash \u2028\u2029 tab\there \x7f \u0000 end"
	doc := map[string]any{
		"id": uid(1), "name": text, "status": "temporarily closed", "organization_id": orgID,
		"description": strings.Repeat("long ", hsds.MaxDescription/5), "minimum_age": 0.1, "maximum_age": 1.7976931348623157e308,
		"last_modified": "2025-03-30T01:59:59.123456789-07:00",
		"schedules": []any{map[string]any{"byday": "FR,SA", "opens_at": "22:00", "closes_at": "02:00", "timezone": -9.5, "count": math.Copysign(0, -1),
			"valid_from": "2024-02-29", "valid_to": "2028-02-29"}},
		"cost_options": []any{map[string]any{"amount": 5e-324, "currency": "EUR"}},
		"service_at_locations": []any{map[string]any{"id": uid(2), "location": map[string]any{
			"id": uid(3), "location_type": "physical", "timezone": "Pacific/Chatham", "latitude": math.Copysign(0, -1), "longitude": 180,
			"addresses": []any{map[string]any{"address_1": text, "city": "Zürich", "state_province": "ZH", "postal_code": "8001", "country": "CH", "address_type": "postal"}},
		}}},
		"languages": []any{map[string]any{"code": "zh-Hant-TW", "name": "繁體中文"}},
	}
	path := writeFile(t, t.TempDir(), "service_list.json", "["+string(mustJSON(t, doc))+"]")
	recs, _ := readAll(t, path)
	if len(recs) != 1 || recs[0].Err != nil {
		t.Fatalf("synthetic service: %+v", recs)
	}
	if recs[0].Service.Name != text {
		t.Fatalf("name changed in reading: %q", recs[0].Service.Name)
	}
	return recs
}

// A list is one HSDS page holding everything, one item per line, with the
// totals after the contents; the reader reports each item's line.
func TestListWriterFormat(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []int{0, 1, 1500} {
		name := fmt.Sprintf("service_list_%d.json", n)
		w, err := hsds.CreateList(dir, name)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < n; i++ {
			s := hsds.Service{ID: uuid.MustParse(uid(i + 1)), Name: fmt.Sprintf("Service %d", i), Status: hsds.StatusActive,
				OrganizationID: uuid.MustParse(orgID)}
			if err := w.Add(s); err != nil {
				t.Fatal(err)
			}
		}
		if w.Count() != n {
			t.Fatalf("Count() = %d, want %d", w.Count(), n)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		var page hsds.Page[json.RawMessage]
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&page); err != nil {
			t.Fatalf("%d items: not an HSDS page: %v\n%.300s", n, err, b)
		}
		want := hsds.Page[json.RawMessage]{TotalItems: n, TotalPages: 1, PageNumber: 1, Size: n, FirstPage: true, LastPage: true, Empty: n == 0}
		page.Contents, want.Contents = nil, nil
		if !reflect.DeepEqual(page, want) {
			t.Errorf("%d items: page %+v, want %+v", n, page, want)
		}
		if lines := bytes.Count(b, []byte("\n")); lines != n+2 {
			t.Errorf("%d items on %d lines, want one per line plus two", n, lines)
		}
		recs, skipped := readAll(t, filepath.Join(dir, name))
		if len(recs) != n || len(skipped) != 0 {
			t.Fatalf("%d items: read %d records, skipped %v", n, len(recs), skipped)
		}
		for i, r := range recs {
			if r.Line != i+2 || r.Err != nil || r.Service.Name != fmt.Sprintf("Service %d", i) {
				t.Fatalf("item %d: line %d, %v", i, r.Line, r.Err)
			}
		}
	}
}

// A value JSON cannot carry (NaN, ±Inf) is refused by Add, and nothing of
// it reaches the file: the list stays valid and holds the other items.
func TestListWriterRefusesUnencodableValues(t *testing.T) {
	dir := t.TempDir()
	w, err := hsds.CreateList(dir, "service_list.json")
	if err != nil {
		t.Fatal(err)
	}
	ok := func(i int) hsds.Service {
		return hsds.Service{ID: uuid.MustParse(uid(i)), Name: "S", Status: hsds.StatusActive, OrganizationID: uuid.MustParse(orgID)}
	}
	if err := w.Add(ok(1)); err != nil {
		t.Fatal(err)
	}
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		s := ok(2)
		s.MinimumAge = &v
		if err := w.Add(s); err == nil || !strings.Contains(err.Error(), "service_list.json") {
			t.Errorf("Add with minimum_age %v: %v", v, err)
		}
	}
	if err := w.Add(map[string]any{"c": make(chan int)}); err == nil {
		t.Error("Add of a channel succeeded")
	}
	if err := w.Add(ok(3)); err != nil {
		t.Fatal(err)
	}
	if w.Count() != 2 {
		t.Errorf("Count() = %d after refused items", w.Count())
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	recs, _ := readAll(t, filepath.Join(dir, "service_list.json"))
	if len(recs) != 2 || recs[0].ID != uid(1) || recs[1].ID != uid(3) || recs[1].Line != 3 {
		t.Fatalf("records %v", recs)
	}
}

func TestCreateListInMissingDirectory(t *testing.T) {
	_, err := hsds.CreateList(filepath.Join(t.TempDir(), "missing"), "service_list.json")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err %v", err)
	}
}

// Times keep their instant and offset through a round trip.
func TestRoundTripKeepsTimes(t *testing.T) {
	in := "2025-03-30T01:59:59.123456789-07:00"
	r := readOne(t, "service.json", `{"id": "`+uid(1)+`", "name": "S", "status": "active", "organization_id": "`+orgID+`", "last_modified": "`+in+`"}`)
	want, _ := time.Parse(time.RFC3339Nano, in)
	if !r.Service.LastModified.Equal(want) {
		t.Fatalf("last_modified %v", r.Service.LastModified)
	}
	if got := string(mustJSON(t, r.Service.LastModified)); got != `"`+in+`"` {
		t.Fatalf("written as %s", got)
	}
}
