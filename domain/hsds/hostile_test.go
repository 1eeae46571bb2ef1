package hsds_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/waypoint-portal/waypoint/domain/hsds"
)

// service builds a service list item with extra members (raw JSON).
func service(id int, extra string) string {
	s := `{"id": "` + uid(id) + `", "name": "Pantry", "status": "active", "organization_id": "` + orgID + `"`
	if extra != "" {
		s += ", " + extra
	}
	return s + "}"
}

// nameOf is a read service's name ("" when there is none).
func nameOf(r hsds.Record) string {
	if r.Service == nil {
		return ""
	}
	return r.Service.Name
}

// Numbers: what float64 cannot hold is a malformed record, named by its
// path; extreme values it can hold are kept (imports are lenient about
// coordinates, the API is not).
func TestReadHostileNumbers(t *testing.T) {
	cases := []struct {
		extra string
		field string  // "" when the record is kept
		check float64 // the value kept in minimum_age, or NaN for no check
	}{
		{`"minimum_age": 1e400`, "minimum_age", 0},
		{`"minimum_age": -1e400`, "minimum_age", 0},
		{`"maximum_age": 1e309`, "maximum_age", 0},
		{`"phones": [{"number": "1", "extension": 1e999}]`, "phones[0].extension", 0},
		{`"schedules": [{"timezone": 1e400}]`, "schedules[0].timezone", 0},
		{`"minimum_age": 1e-400`, "", 0},
		{`"minimum_age": 5e-324`, "", 5e-324},
		{`"minimum_age": -0`, "", 0},
		{`"minimum_age": 1.7976931348623157e308`, "", math.MaxFloat64},
		{`"minimum_age": 123456789012345678901234567890`, "", 1.2345678901234568e29},
		{`"minimum_age": 18.000000000000000000000001`, "", 18},
		{`"service_at_locations": [{"location": {"id": "` + locID + `", "location_type": "physical", "latitude": 1e308, "longitude": -1e308}}]`, "", math.NaN()},
	}
	for _, c := range cases {
		r := readOne(t, "service_list.json", "["+service(1, c.extra)+"]")
		var fe *hsds.FieldError
		if c.field != "" {
			if !errors.As(r.Err, &fe) || fe.Field != c.field || !strings.Contains(fe.Message, "not a JSON number") {
				t.Errorf("%s: %v, want an error on %s", c.extra, r.Err, c.field)
			}
			continue
		}
		if r.Err != nil {
			t.Errorf("%s: %v", c.extra, r.Err)
			continue
		}
		if !math.IsNaN(c.check) && (r.Service.MinimumAge == nil || *r.Service.MinimumAge != c.check) {
			t.Errorf("%s: minimum_age %v, want %v", c.extra, r.Service.MinimumAge, c.check)
		}
	}
	// NaN, Infinity and leading zeros are not JSON at all: the file is broken.
	for _, v := range []string{"NaN", "Infinity", "-Infinity", "012", "+1", ".5", "0x10"} {
		_, err := hsds.Read(writeFile(t, t.TempDir(), "service_list.json", "["+service(1, `"minimum_age": `+v)+"]"),
			func(hsds.Record) error { return nil })
		if err == nil || !strings.Contains(err.Error(), "broken JSON near line 1") {
			t.Errorf("minimum_age %s: %v", v, err)
		}
	}
}

// Values of the wrong JSON type anywhere in a record are reported with
// their path, and the records around them are kept.
func TestReadWrongTypes(t *testing.T) {
	cases := map[string]string{
		`"name": ["Pantry"]`:          "name: must be a string, not a JSON array",
		`"name": {"en": "Pantry"}`:    "name: must be a string, not a JSON object",
		`"name": true`:                "name: must be a string, not a JSON bool",
		`"minimum_age": false`:        "minimum_age: must be a float64, not a JSON bool",
		`"minimum_age": [18]`:         "minimum_age: must be a float64, not a JSON array",
		`"organization_id": [1]`:      "organization_id: must be a UUID",
		`"organization_id": {}`:       "organization_id: must be a UUID",
		`"last_modified": 1700000000`: "last_modified: must be an RFC 3339 date-time like 2025-11-01T09:00:00Z",
		`"phones": "555-0100"`:        "phones: must be an array, not a JSON string",
		`"phones": [null, 5]`:         "phones[1]: must be an object, not a JSON number",
		`"organization": []`:          "organization: must be an object, not a JSON array",
		`"program": "p"`:              "program: must be an object, not a JSON string",
		`"attributes": [{"taxonomy_term": {"id": "` + termID + `", "name": "F", "taxonomy_detail": {"id": 1}}}]`:                                                                    "attributes[0].taxonomy_term.taxonomy_detail.id: must be a UUID",
		`"service_at_locations": [{"location_id": "` + locID + `"}, {"location": {"id": "` + locID + `", "location_type": "physical", "addresses": [{}, {"postal_code": 98107}]}}]`: "service_at_locations[1].location.addresses[1].postal_code: must be a string, not a JSON number",
		`"metadata": [{"last_action_date": 20250101}]`: "metadata[0].last_action_date: must be a string, not a JSON number",
	}
	items := []string{service(1, "")}
	var want []string
	i := 1
	for extra, msg := range cases {
		i++
		items = append(items, service(i, extra))
		want = append(want, msg)
		i++
		items = append(items, service(i, ""))
	}
	recs, _ := readAll(t, writeFile(t, t.TempDir(), "service_list.json", "[\n"+strings.Join(items, ",\n")+"\n]"))
	for j, r := range recs {
		if j%2 == 0 {
			if r.Err != nil || r.Service == nil {
				t.Errorf("valid record %d: %v", j, r.Err)
			}
			continue
		}
		if r.Err == nil || r.Err.Error() != want[j/2] || objects(r) != 0 {
			t.Errorf("line %d: %v, want %q", r.Line, r.Err, want[j/2])
		}
	}
}

// Items that are not objects are malformed records, not a broken file.
func TestReadNonObjectItems(t *testing.T) {
	recs, skipped := readAll(t, writeFile(t, t.TempDir(), "service_list.json",
		"[1, \"svc\", null, [], true, {}, "+service(1, "")+"]"))
	if len(recs) != 7 || len(skipped) != 0 {
		t.Fatalf("%d records, skipped %v", len(recs), skipped)
	}
	want := []string{"not a JSON object", "not a JSON object", "id: is required", "not a JSON object", "not a JSON object", "id: is required"}
	for i, w := range want {
		if recs[i].Err == nil || recs[i].Err.Error() != w || objects(recs[i]) != 0 {
			t.Errorf("item %d: %v, want %q", i, recs[i].Err, w)
		}
	}
	if recs[6].Err != nil || recs[6].Service == nil {
		t.Errorf("valid item: %v", recs[6].Err)
	}
}

// Text is kept as decoded, whatever the script; what is not valid UTF-8
// becomes U+FFFD (encoding/json's rule) and the record is still read; blank
// is blank in any script.
func TestReadUnicode(t *testing.T) {
	keep := []string{
		"👩🏽‍⚕️ Clinic", "Cafe\u0301", "مركز المجتمع", "שירות", "食物銀行", "Ŝerv\u0131ce", "a\u2028b\u2029c",
		"zero\u200bwidth", "nul\u0000byte", "<script>alert(1)</script>", `"quoted" \back\`, strings.Repeat("长", hsds.MaxName),
	}
	for _, name := range keep {
		r := readOne(t, "service.json", `{"id": "`+uid(1)+`", "name": `+string(mustJSON(t, name))+`, "status": "active", "organization_id": "`+orgID+`"}`)
		if r.Err != nil || r.Service.Name != name {
			t.Errorf("%.40q: %v, name %.40q", name, r.Err, nameOf(r))
		}
	}
	// Lengths are counted in characters, whatever their bytes: one more is refused.
	for _, long := range []string{strings.Repeat("长", hsds.MaxName+1), strings.Repeat("👩🏽‍⚕️", hsds.MaxName/5+1)} {
		r := readOne(t, "service.json", `{"id": "`+uid(1)+`", "name": `+string(mustJSON(t, long))+`, "status": "active", "organization_id": "`+orgID+`"}`)
		var fe *hsds.FieldError
		if !errors.As(r.Err, &fe) || fe.Field != "name" || !strings.Contains(fe.Message, "at most 300 characters") {
			t.Errorf("name of %d characters: %v", len([]rune(long)), r.Err)
		}
	}
	replaced := map[string]string{
		`"\ud800 lone"`:              "\ufffd lone",
		`"\udc00\ud800"`:             "\ufffd\ufffd",
		`"\ud83c\udf72 pair"`:        "🍲 pair",
		"\"bad \xff\xfe bytes\"":     "bad \ufffd\ufffd bytes",
		"\"cut \xe2\x82 short\"":     "cut \ufffd\ufffd short",
		"\"overlong \xc0\xaf\"":      "overlong \ufffd\ufffd",
		"\"surrogate \xed\xa0\x80\"": "surrogate \ufffd\ufffd\ufffd",
	}
	for raw, want := range replaced {
		r := readOne(t, "service.json", `{"id": "`+uid(1)+`", "name": `+raw+`, "status": "active", "organization_id": "`+orgID+`"}`)
		if r.Err != nil || r.Service.Name != want {
			t.Errorf("%q: %v, name %q, want %q", raw, r.Err, nameOf(r), want)
		}
	}
	for _, blank := range []string{`""`, `"   "`, `"\u00a0"`, `"\u3000\u2003\t\n"`, `"\u0085"`} {
		r := readOne(t, "service.json", `{"id": "`+uid(1)+`", "name": `+blank+`, "status": "active", "organization_id": "`+orgID+`"}`)
		if r.Err == nil || r.Err.Error() != "name: is required" {
			t.Errorf("name %s: %v", blank, r.Err)
		}
	}
	// Look-alike text is not a valid enum value.
	for _, status := range []string{"ACTIVE", "аctive", "active ", "active\u200b"} {
		r := readOne(t, "service.json", `{"id": "`+uid(1)+`", "name": "S", "status": `+string(mustJSON(t, status))+`, "organization_id": "`+orgID+`"}`)
		if r.Err == nil || !strings.HasPrefix(r.Err.Error(), "status: must be one of") {
			t.Errorf("status %q: %v", status, r.Err)
		}
	}
}

// A record's reported id is the one its object gets, even when the id
// member is repeated in another case (encoding/json matches names
// case-insensitively, the last match winning).
func TestReadRepeatedIDMember(t *testing.T) {
	doc := `{"id": "` + uid(1) + `", "ID": "` + uid(2) + `", "name": "S", "status": "active", "organization_id": "` + orgID + `"}`
	for _, name := range []string{"service.json", "service_list.json"} {
		if name == "service_list.json" {
			doc = "[" + doc + "]"
		}
		r := readOne(t, name, doc)
		if r.Err != nil || r.ID != r.Service.ID.String() {
			t.Errorf("%s: reported id %s, object id %v, %v", name, r.ID, r.Service, r.Err)
		}
	}
	r := readOne(t, "service_at_location_list.json", `[{"id": "`+uid(1)+`", "Id": "00000000-0000-0000-0000-000000000000", "service_id": "`+uid(5)+`", "location_id": "`+locID+`"}]`)
	if r.Err == nil || r.Err.Error() != "id: must be a UUID other than the nil UUID" {
		t.Fatalf("nil id behind a repeated member: %v", r.Err)
	}
}

// Unknown members (extensions, other tools' fields) are ignored.
func TestReadIgnoresUnknownMembers(t *testing.T) {
	r := readOne(t, "service.json", service(1, `"x_extension": {"deep": [1, 2, {"a": null}]}, "internal_notes": 5`))
	if r.Err != nil || r.Service.Name != "Pantry" {
		t.Fatalf("%v", r.Err)
	}
}

// Nesting: JSON deeper than the decoder allows breaks the file without
// exhausting the stack; a record nested 150 levels deep (each
// service embedding an organization embedding services) with one bad value
// at the bottom is reported: the path is exact as deep as the reader looks
// (each level decodes its subtree again, so that depth is bounded) and
// continues in encoding/json's words beyond.
func TestReadDeepNesting(t *testing.T) {
	deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	if _, err := hsds.Read(writeFile(t, t.TempDir(), "service_list.json", deep), func(hsds.Record) error { return nil }); err == nil {
		t.Error("100000 nested arrays accepted")
	}
	const levels = 150
	var b strings.Builder
	for i := 0; i < levels; i++ {
		fmt.Fprintf(&b, `{"id": "%s", "name": "S%d", "status": "active", "organization": {"id": "%s", "name": "O", "services": [`, uid(i+1), i, orgID)
	}
	b.WriteString(`{"id": "` + uid(0) + `", "name": "bottom", "status": "active", "minimum_age": "old"}`)
	for i := 0; i < levels; i++ {
		b.WriteString("]}}")
	}
	r := readOne(t, "service.json", b.String())
	var fe *hsds.FieldError
	if !errors.As(r.Err, &fe) || !strings.HasPrefix(fe.Field, "organization.services[0].organization.services[0].") {
		t.Fatalf("deep record: %v", r.Err)
	}
	exact := strings.Repeat("organization.services[0].", 10) + "organization.services"
	rest := strings.Repeat(".organization.services", levels-11) + ".minimum_age"
	if fe.Field != exact+rest || fe.Message != "must be a float64, not a JSON string" {
		t.Errorf("deep record: %.200s...%s: %s", fe.Field, fe.Field[max(0, len(fe.Field)-60):], fe.Message)
	}
	// The same depth, valid, is read and validated all the way down.
	valid := strings.Replace(b.String(), `"minimum_age": "old"`, `"minimum_age": 70`, 1)
	r = readOne(t, "service.json", valid)
	if r.Err != nil {
		t.Fatalf("deep valid record: %v", r.Err)
	}
	s, n := r.Service, 0
	for s.Organization != nil {
		s, n = &s.Organization.Services[0], n+1
	}
	if s.OrganizationID.String() != orgID {
		t.Errorf("bottom service: organization_id %s not derived from the organization around it", s.OrganizationID)
	}
	if n != levels || s.Name != "bottom" {
		t.Fatalf("%d levels, bottom %q", n, s.Name)
	}
}
