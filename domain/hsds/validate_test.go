package hsds_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/domain/hsds"
)

// uid is a fixed, readable UUID for test objects.
func uid(n int) string { return fmt.Sprintf("0190a000-0000-7000-8000-%012d", n) }

const (
	orgID  = "0190a000-aaaa-7000-8000-000000000001"
	locID  = "0190a000-cccc-7000-8000-000000000001"
	termID = "0190a000-dddd-7000-8000-000000000001"
)

// malformed is one defect of a record and how it must be reported.
type malformed struct {
	over  map[string]any // members to set on the valid base object; nil deletes
	field string         // FieldError.Field
	msg   string         // part of FieldError.Message
}

// bad is a shorthand for a malformed case.
func bad(field, msg string, over map[string]any) malformed {
	return malformed{over: over, field: field, msg: msg}
}

// del marks a member to delete.
var del any = struct{ deleted bool }{true}

// checkMalformed writes one list file in which every malformed variant of
// base sits between two valid records, reads it, and checks that each
// malformed record is reported with its exact path and carries no object,
// while every valid record is kept.
func checkMalformed(t *testing.T, file string, kind hsds.Kind, base map[string]any, cases []malformed) {
	t.Helper()
	var items []string
	n := 0
	add := func(over map[string]any) {
		n++
		m := maps.Clone(base)
		m["id"] = uid(n)
		for k, v := range over {
			if v == del {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		items = append(items, string(mustJSON(t, m)))
	}
	add(nil)
	for _, c := range cases {
		add(c.over)
		add(nil)
	}
	recs, _ := readAll(t, writeFile(t, t.TempDir(), file, "[\n"+strings.Join(items, ",\n")+"\n]\n"))
	if len(recs) != len(items) {
		t.Fatalf("%d records from %d items", len(recs), len(items))
	}
	for i, r := range recs {
		if r.Line != i+2 || r.Kind != kind {
			t.Errorf("record %d: line %d kind %q", i, r.Line, r.Kind)
		}
		if i%2 == 0 {
			if r.Err != nil || objects(r) == 0 {
				t.Errorf("valid record %d (%s) not kept: %v", i, r.ID, r.Err)
			}
			continue
		}
		c := cases[i/2]
		var fe *hsds.FieldError
		if !errors.As(r.Err, &fe) {
			t.Errorf("%v: error %v, want %s: %s", c.over, r.Err, c.field, c.msg)
			continue
		}
		if fe.Field != c.field || !strings.Contains(fe.Message, c.msg) {
			t.Errorf("%v: %q, want %s: ...%s...", c.over, r.Err, c.field, c.msg)
		}
		if fe.Error() != fe.Field+": "+fe.Message {
			t.Errorf("Error() = %q", fe.Error())
		}
		if objects(r) != 0 {
			t.Errorf("%v: malformed record still carries an object", c.over)
		}
	}
}

func TestReadReportsMalformedServices(t *testing.T) {
	base := map[string]any{"name": "Pantry", "status": "active", "organization_id": orgID}
	sal := func(v ...any) map[string]any { return map[string]any{"service_at_locations": v} }
	sched := func(v ...any) map[string]any { return map[string]any{"schedules": v} }
	obj := func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	checkMalformed(t, "service_list.json", hsds.KindService, base, []malformed{
		bad("id", "is required", obj("id", del)),
		bad("id", "is required", obj("id", nil)),
		bad("id", "is required", obj("id", "")),
		bad("id", "must be a UUID", obj("id", 42)),
		bad("id", "must be a UUID", obj("id", "pantry-1")),
		bad("id", "must be a UUID other than the nil UUID", obj("id", uuid.Nil.String())),
		bad("name", "is required", obj("name", del)),
		bad("name", "is required", obj("name", " \t\n")),
		bad("name", "is required", obj("name", "\u00a0\u3000\u2003")),
		bad("name", "must be a string, not a JSON number", obj("name", 5)),
		bad("status", "must be one of active, inactive, defunct, temporarily closed", obj("status", "open")),
		bad("status", "must be one of", obj("status", del)),
		bad("status", "must be a string, not a JSON array", obj("status", []string{"active"})),
		bad("organization_id", "is required (or embed organization)", obj("organization_id", del)),
		bad("organization_id", "must be a UUID", obj("organization_id", "nope")),
		bad("organization_id", "must be a UUID", obj("organization_id", 7)),
		bad("organization.name", "is required", obj("organization_id", del, "organization", obj("id", orgID, "name", ""))),
		bad("organization", "must be an object, not a JSON string", obj("organization", "Org")),
		bad("organization.locations[0].location_type", "must be one of", obj("organization", obj("id", orgID, "name", "O", "locations", []any{obj("id", locID)}))),
		bad("minimum_age", "must not be negative", obj("minimum_age", -1)),
		bad("maximum_age", "must not be negative", obj("maximum_age", -0.5)),
		bad("maximum_age", "must not be below minimum_age", obj("minimum_age", 30, "maximum_age", 20)),
		bad("minimum_age", "must be a float64, not a JSON string", obj("minimum_age", "18")),
		bad("minimum_age", "not a JSON number 1e400", obj("minimum_age", json.Number("1e400"))),
		bad("last_modified", "must be an RFC 3339 date-time", obj("last_modified", "yesterday")),
		bad("schedules[1].opens_at", "must be a time of day", sched(obj(), obj("opens_at", "25:00", "closes_at", "26:00"))),
		bad("schedules[0].closes_at", "opens_at and closes_at go together", sched(obj("opens_at", "09:00"))),
		bad("schedules[0].closes_at", "must be a time of day", sched(obj("opens_at", "09:00", "closes_at", "5pm"))),
		bad("schedules[0].freq", "must be WEEKLY or MONTHLY", sched(obj("freq", "DAILY"))),
		bad("schedules[0].wkst", "weekday code", sched(obj("wkst", "XX"))),
		bad("schedules[0].byday", `(got "XX")`, sched(obj("byday", "MO,XX"))),
		bad("schedules[0].timezone", "between -14 and 14", sched(obj("timezone", 15))),
		bad("schedules[0].timezone", "between -14 and 14", sched(obj("timezone", -14.5))),
		bad("schedules[0].valid_from", "must be a date", sched(obj("valid_from", "2025-13-01"))),
		bad("schedules[0].valid_to", "must be a date", sched(obj("valid_to", "soon"))),
		bad("schedules[1].opens_at", "must be a string, not a JSON number", sched(obj(), obj("opens_at", 9))),
		bad("schedules[0].id", "must be a UUID", sched(obj("id", "x"))),
		bad("schedules[0]", "must be an object, not a JSON string", sched("MO")),
		bad("schedules", "must be an array, not a JSON object", obj("schedules", obj("byday", "MO"))),
		bad("languages[0].code", "ISO 639", obj("languages", []any{obj("code", "español")})),
		bad("phones[0].number", "is required", obj("phones", []any{obj("number", " ")})),
		bad("phones[0].number", "must be a string, not a JSON number", obj("phones", []any{obj("number", 5551234)})),
		bad("phones[0].extension", "must be a float64, not a JSON string", obj("phones", []any{obj("number", "1", "extension", "12")})),
		bad("phones[0].languages[0].code", "ISO 639", obj("phones", []any{obj("number", "1", "languages", []any{obj("code", "x1")})})),
		bad("contacts[0].phones[0].number", "must be a string, not a JSON bool", obj("contacts", []any{obj("phones", []any{obj("number", true)})})),
		bad("contacts[1].phones[0].languages[0].code", "ISO 639", obj("contacts", []any{obj("name", "A"),
			obj("phones", []any{obj("number", "1", "languages", []any{obj("code", "x1")})})})),
		bad("service_at_locations[0].contacts[0].phones[0].number", "is required",
			sal(obj("location_id", locID, "contacts", []any{obj("phones", []any{obj("number", "")})}))),
		bad("service_at_locations[0].location_id", "is required (or embed location)", sal(obj())),
		bad("service_at_locations[1].location_id", "lists the same location twice", sal(obj("location_id", locID), obj("location_id", locID))),
		bad("service_at_locations[0].location.location_type", "must be one of physical, postal, virtual", sal(obj("location", obj("id", locID, "location_type", "home")))),
		bad("service_at_locations[0].location.latitude", "must be a float64, not a JSON string",
			sal(obj("location", obj("id", locID, "location_type", "physical", "latitude", "47.6", "longitude", -122)))),
		bad("service_at_locations[0].schedules[0].byday", "weekday codes", sal(obj("location_id", locID, "schedules", []any{obj("byday", "XX")}))),
		bad("service_at_locations[0].phones[0].number", "is required", sal(obj("location_id", locID, "phones", []any{obj()}))),
		bad("attributes[0].taxonomy_term.name", "is required", obj("attributes", []any{obj("taxonomy_term", obj("id", termID, "name", ""))})),
		bad("attributes[0].taxonomy_term_id", "must be a UUID", obj("attributes", []any{obj("taxonomy_term_id", "food")})),
		bad("program.name", "is required", obj("program", obj("description", "no id, no name"))),
	})
}

func TestReadReportsMalformedOrganizations(t *testing.T) {
	base := map[string]any{"name": "Ballard Community Services", "description": "d"}
	checkMalformed(t, "organization_list.json", hsds.KindOrganization, base, []malformed{
		{map[string]any{"name": ""}, "name", "is required"},
		{map[string]any{"id": uid(3), "parent_organization_id": uid(3)}, "parent_organization_id", "cannot be the organization itself"},
		{map[string]any{"phones": []any{map[string]any{}}}, "phones[0].number", "is required"},
		{map[string]any{"contacts": []any{map[string]any{"phones": []any{map[string]any{"number": "1",
			"languages": []any{map[string]any{"code": "español"}}}}}}}, "contacts[0].phones[0].languages[0].code", "ISO 639"},
		{map[string]any{"locations": []any{map[string]any{"id": locID, "location_type": "x"}}}, "locations[0].location_type", "must be one of"},
		{map[string]any{"services": []any{map[string]any{"id": uid(99), "name": "S", "status": "gone"}}}, "services[0].status", "must be one of"},
		{map[string]any{"year_incorporated": "nineteen"}, "year_incorporated", "must be a float64, not a JSON string"},
		{map[string]any{"organization_identifiers": []any{map[string]any{"identifier": 12345}}}, "organization_identifiers[0].identifier", "must be a string, not a JSON number"},
	})
}

func TestReadReportsMalformedLocations(t *testing.T) {
	base := map[string]any{"location_type": "physical", "name": "Ballard Community Center"}
	checkMalformed(t, "location_list.json", hsds.KindLocation, base, []malformed{
		{map[string]any{"location_type": del}, "location_type", "must be one of physical, postal, virtual"},
		{map[string]any{"latitude": 47.6}, "latitude", "latitude and longitude go together"},
		{map[string]any{"longitude": -122.3}, "latitude", "latitude and longitude go together"},
		{map[string]any{"timezone": "Mars/Olympus_Mons"}, "timezone", "unknown IANA time zone"},
		{map[string]any{"timezone": "Local"}, "timezone", "not an IANA time zone name"},
		{map[string]any{"addresses": []any{map[string]any{"address_1": "1 Main St", "address_type": "home"}}}, "addresses[0].address_type", "must be one of"},
		{map[string]any{"schedules": []any{map[string]any{"opens_at": "9am", "closes_at": "5pm"}}}, "schedules[0].opens_at", "must be a time of day"},
		{map[string]any{"languages": []any{map[string]any{"code": "e"}}}, "languages[0].code", "ISO 639"},
		{map[string]any{"phones": []any{map[string]any{"number": ""}}}, "phones[0].number", "is required"},
		{map[string]any{"contacts": []any{map[string]any{"phones": []any{map[string]any{"number": "1",
			"languages": []any{map[string]any{"code": "e"}}}}}}}, "contacts[0].phones[0].languages[0].code", "ISO 639"},
		{map[string]any{"accessibility": "ramp"}, "accessibility", "must be an array, not a JSON string"},
	})
}

func TestReadReportsMalformedTaxonomies(t *testing.T) {
	checkMalformed(t, "taxonomy_term_list.json", hsds.KindTaxonomyTerm, map[string]any{"name": "Food", "description": "d"}, []malformed{
		{map[string]any{"name": "  "}, "name", "is required"},
		{map[string]any{"id": uid(3), "parent_id": uid(3)}, "parent_id", "cannot be the term itself"},
		{map[string]any{"taxonomy_detail": map[string]any{"id": uid(50), "name": " "}}, "taxonomy_detail.name", "is required"},
		{map[string]any{"taxonomy_detail": map[string]any{"id": "x", "name": "T"}}, "taxonomy_detail.id", "must be a UUID"},
		{map[string]any{"parent_id": "root"}, "parent_id", "must be a UUID"},
	})
	checkMalformed(t, "taxonomy_list.json", hsds.KindTaxonomy, map[string]any{"name": "Demo", "description": "d"}, []malformed{
		{map[string]any{"name": del}, "name", "is required"},
		{map[string]any{"version": 3}, "version", "must be a string, not a JSON number"},
	})
}

func TestReadReportsMalformedServiceAtLocations(t *testing.T) {
	base := map[string]any{"service_id": uid(90), "location_id": locID}
	checkMalformed(t, "service_at_location_list.json", hsds.KindServiceAtLocation, base, []malformed{
		{map[string]any{"service_id": del}, "service_id", "is required (or embed service)"},
		{map[string]any{"location_id": del}, "location_id", "is required (or embed location)"},
		{map[string]any{"service_id": del, "service": map[string]any{"id": uid(91), "name": "S", "status": "x", "organization_id": orgID}}, "service.status", "must be one of"},
		{map[string]any{"service": map[string]any{"id": uid(91), "name": "S", "status": "active", "organization_id": "o"}}, "service.organization_id", "must be a UUID"},
		{map[string]any{"location_id": del, "location": map[string]any{"id": locID}}, "location.location_type", "must be one of"},
		{map[string]any{"schedules": []any{map[string]any{"freq": "YEARLY"}}}, "schedules[0].freq", "must be WEEKLY or MONTHLY"},
		{map[string]any{"phones": []any{map[string]any{}}}, "phones[0].number", "is required"},
	})
}

// Validation normalises what it accepts: trimmed names, times of day as
// HH:MM:SS, byday in any case and spacing, and the references that embedded
// objects imply.
func TestValidateNormalises(t *testing.T) {
	doc := `{"id": "` + orgID + `", "name": "  Ballard Community Services \n", "description": "d",
  "services": [{"id": "` + uid(1) + `", "name": " Pantry ", "status": "temporarily closed",
    "schedules": [{"byday": " mo, Tu,we ", "opens_at": "9:00", "closes_at": "17:30"}, {"opens_at": "22:00:00", "closes_at": "06:00:05"}],
    "service_at_locations": [{"location": {"id": "` + locID + `", "location_type": "postal", "timezone": "America/Los_Angeles",
      "schedules": [{"opens_at": "0:00", "closes_at": "23:59"}]}}],
    "attributes": [{"taxonomy_term": {"id": "` + termID + `", "name": " Food ", "description": "d",
      "taxonomy_detail": {"id": "` + uid(7) + `", "name": "T", "description": "d"}}}],
    "minimum_age": 0, "maximum_age": 0}]}`
	r := readOne(t, "organization.json", doc)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	o := r.Organization
	s := o.Services[0]
	loc := s.ServiceAtLocations[0]
	term := s.Attributes[0].TaxonomyTerm
	checks := []struct {
		what      string
		got, want any
	}{
		{"organization name", o.Name, "Ballard Community Services"},
		{"service name", s.Name, "Pantry"},
		{"service organization_id", s.OrganizationID.String(), orgID},
		{"opens_at", s.Schedules[0].OpensAt, "09:00:00"},
		{"closes_at", s.Schedules[0].ClosesAt, "17:30:00"},
		{"byday kept as written", s.Schedules[0].ByDay, " mo, Tu,we "},
		{"overnight opens_at", s.Schedules[1].OpensAt, "22:00:00"},
		{"overnight closes_at", s.Schedules[1].ClosesAt, "06:00:05"},
		{"location_id", loc.LocationID.String(), locID},
		{"location schedule", loc.Location.Schedules[0].OpensAt + "-" + loc.Location.Schedules[0].ClosesAt, "00:00:00-23:59:00"},
		{"taxonomy_term_id", s.Attributes[0].TaxonomyTermID.String(), termID},
		{"term name", term.Name, "Food"},
		{"term taxonomy_id", term.TaxonomyID.String(), uid(7)},
		{"minimum_age zero kept", *s.MinimumAge, 0.0},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: %v, want %v", c.what, c.got, c.want)
		}
	}
}

// The API is strict about coordinates; imports accept the published
// examples, whose coordinates are off the globe.
func TestValidateLocationStrictness(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	cases := []struct {
		lat, lon float64
		field    string
	}{
		{47.6, -122.3, ""}, {90, 180, ""}, {-90, -180, ""},
		{90.0001, 0, "latitude"}, {-91, 0, "latitude"}, {0, 180.5, "longitude"}, {0, -1e308, "longitude"},
	}
	for _, c := range cases {
		l := hsds.Location{ID: uuid.New(), LocationType: "physical", Latitude: f(c.lat), Longitude: f(c.lon)}
		if err := hsds.ValidateLocation(&l, false); err != nil {
			t.Errorf("lenient %v,%v: %v", c.lat, c.lon, err)
		}
		err := hsds.ValidateLocation(&l, true)
		var fe *hsds.FieldError
		switch {
		case c.field == "" && err != nil:
			t.Errorf("strict %v,%v: %v", c.lat, c.lon, err)
		case c.field != "" && (!errors.As(err, &fe) || fe.Field != c.field):
			t.Errorf("strict %v,%v: %v, want an error on %s", c.lat, c.lon, err, c.field)
		}
	}
	// Strictness reaches embedded locations.
	s := hsds.Service{Name: "S", Status: hsds.StatusActive, OrganizationID: uuid.New(),
		ServiceAtLocations: []hsds.ServiceAtLocation{{Location: &hsds.Location{ID: uuid.New(), LocationType: "physical", Latitude: f(100), Longitude: f(0)}}}}
	var fe *hsds.FieldError
	if err := hsds.ValidateService(&s, true); !errors.As(err, &fe) || fe.Field != "service_at_locations[0].location.latitude" {
		t.Errorf("strict embedded location: %v", err)
	}
}

func TestParseTime(t *testing.T) {
	for in, want := range map[string]string{
		"09:00": "09:00:00", "9:00": "09:00:00", "17:30:15": "17:30:15", "00:00": "00:00:00", "23:59:59": "23:59:59",
		// RFC 3339 partial-time allows a fraction; opening hours keep whole seconds.
		"12:00:00.5": "12:00:00",
	} {
		if got, ok := hsds.ParseTime(in); !ok || got != want {
			t.Errorf("ParseTime(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "24:00", "25:00", "12:60", "12:00:60", "9am", "12", "12:00Z", " 12:00", "１２:００"} {
		if got, ok := hsds.ParseTime(in); ok {
			t.Errorf("ParseTime(%q) = %q, accepted", in, got)
		}
	}
}

func TestLoadZone(t *testing.T) {
	for _, name := range []string{"America/Los_Angeles", "Europe/Berlin", "UTC", "Asia/Kolkata"} {
		if loc, err := hsds.LoadZone(name); err != nil || loc.String() != name {
			t.Errorf("LoadZone(%q) = %v, %v", name, loc, err)
		}
	}
	for _, name := range []string{"", "Local", "Mars/Olympus_Mons", "../../etc/passwd", "America/Los_Angeles\x00"} {
		if _, err := hsds.LoadZone(name); err == nil {
			t.Errorf("LoadZone(%q) accepted", name)
		}
	}
}

func TestLanguageCodes(t *testing.T) {
	cases := map[string][]string{
		"es": {"es", "spa"}, "spa": {"spa", "es"}, "ES": {"es", "spa"}, " es-419 ": {"es", "spa"},
		"zh-Hant-TW": {"zh", "zho"}, "eng": {"eng", "en"}, "gd": {"gd"}, "": {""},
	}
	for in, want := range cases {
		if got := hsds.LanguageCodes(in); !slices.Equal(got, want) {
			t.Errorf("LanguageCodes(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestNewPage(t *testing.T) {
	cases := []struct {
		items, total, page, per int
		want                    hsds.Page[int]
	}{
		{3, 7, 1, 3, hsds.Page[int]{TotalItems: 7, TotalPages: 3, PageNumber: 1, Size: 3, FirstPage: true}},
		{1, 7, 3, 3, hsds.Page[int]{TotalItems: 7, TotalPages: 3, PageNumber: 3, Size: 1, LastPage: true}},
		{0, 7, 4, 3, hsds.Page[int]{TotalItems: 7, TotalPages: 3, PageNumber: 4, LastPage: true, Empty: true}},
		{0, 0, 1, 20, hsds.Page[int]{PageNumber: 1, FirstPage: true, LastPage: true, Empty: true}},
		{0, 5, 1, 0, hsds.Page[int]{TotalItems: 5, PageNumber: 1, FirstPage: true, LastPage: true, Empty: true}},
	}
	for _, c := range cases {
		var items []int
		for i := 0; i < c.items; i++ {
			items = append(items, i)
		}
		got := hsds.NewPage(items, c.total, c.page, c.per)
		if got.Contents == nil {
			t.Errorf("%+v: nil contents (encodes as null, not [])", c)
		}
		got.Contents = nil
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%+v: %+v, want %+v", c, got, c.want)
		}
	}
}
