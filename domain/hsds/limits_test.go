package hsds_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/waypoint-portal/waypoint/domain/hsds"
)

// limitCase is one bounded member reached from a record's root: the path of
// struct fields and list items (-1: an item) that leads to it.
type limitCase struct {
	path  []string // JSON names, "[0]" for a list item
	field []int    // field indexes, -1 for a list item
	limit hsds.Limit
}

// limitCases lists every member of t (and of what t embeds, along paths that
// do not repeat a type) that names a length or count limit.
func limitCases(t reflect.Type) []limitCase {
	limits := map[string]hsds.Limit{}
	for _, l := range hsds.Limits() {
		limits[l.Name] = l
	}
	var out []limitCase
	var walk func(t reflect.Type, path []string, field []int, seen map[reflect.Type]bool)
	walk = func(t reflect.Type, path []string, field []int, seen map[reflect.Type]bool) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() == reflect.Slice {
			walk(t.Elem(), append(path, "[0]"), append(field, -1), seen)
			return
		}
		if t.Kind() != reflect.Struct || seen[t] {
			return
		}
		seen = withType(seen, t)
		for i := range t.NumField() {
			f := t.Field(i)
			name := strings.Split(f.Tag.Get("json"), ",")[0]
			p, fi := append(append([]string{}, path...), name), append(append([]int{}, field...), i)
			if l, ok := limits[f.Tag.Get("rule")]; ok {
				out = append(out, limitCase{path: p, field: fi, limit: l})
			}
			walk(f.Type, p, fi, seen)
		}
	}
	walk(t, nil, nil, map[reflect.Type]bool{})
	return out
}

func withType(m map[reflect.Type]bool, t reflect.Type) map[reflect.Type]bool {
	out := map[reflect.Type]bool{t: true}
	for k := range m {
		out[k] = true
	}
	return out
}

// set builds, inside root (a pointer to a struct), the path of c and puts
// v into its last member (a string, or a list of n zero items).
func (c limitCase) set(root reflect.Value, text string, n int) {
	v := root.Elem()
	for _, i := range c.field {
		for v.Kind() == reflect.Pointer {
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		if i == -1 {
			if v.Len() == 0 {
				v.Set(reflect.MakeSlice(v.Type(), 1, 1))
			}
			v = v.Index(0)
			continue
		}
		v = v.Field(i)
	}
	for v.Kind() == reflect.Pointer {
		v.Set(reflect.New(v.Type().Elem()))
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(text)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), n, n))
	}
}

// jsonPath is how a FieldError names c's member.
func (c limitCase) jsonPath() string {
	return strings.ReplaceAll(strings.Join(c.path, "."), ".[", "[")
}

// TestValidateHoldsEveryMemberToItsLimit: for every text and list member of
// every kind of record (reached through what it embeds), a value exactly at
// its limit is not refused for its length, and one character or item more is
// refused naming the member, before anything else is checked. Imports and
// the API run the same Validate*, so the directory never holds (or serves)
// more than the contract says. Lengths count characters: the text is made
// of a 3-byte character.
func TestValidateHoldsEveryMemberToItsLimit(t *testing.T) {
	kinds := []struct {
		name     string
		new      func() any
		validate func(any) error
	}{
		{"service", func() any { return &hsds.Service{} }, func(v any) error { return hsds.ValidateService(v.(*hsds.Service), true) }},
		{"organization", func() any { return &hsds.Organization{} }, func(v any) error { return hsds.ValidateOrganization(v.(*hsds.Organization), true) }},
		{"location", func() any { return &hsds.Location{} }, func(v any) error { return hsds.ValidateLocation(v.(*hsds.Location), true) }},
		{"taxonomy_term", func() any { return &hsds.TaxonomyTerm{} }, func(v any) error { return hsds.ValidateTaxonomyTerm(v.(*hsds.TaxonomyTerm)) }},
		{"taxonomy", func() any { return &hsds.Taxonomy{} }, func(v any) error { return hsds.ValidateTaxonomy(v.(*hsds.Taxonomy)) }},
		{"service_at_location", func() any { return &hsds.ServiceAtLocation{} }, func(v any) error {
			return hsds.ValidateServiceAtLocation(v.(*hsds.ServiceAtLocation), nil, true)
		}},
	}
	checked := map[string]bool{}
	for _, k := range kinds {
		cases := limitCases(reflect.TypeOf(k.new()))
		if len(cases) == 0 {
			t.Fatalf("%s: no limited members found", k.name)
		}
		for _, c := range cases {
			checked[c.limit.Name] = true
			size := c.limit.MaxLen
			if size == 0 {
				size = c.limit.MaxItems
			}
			isLimitErr := func(err error) bool {
				var fe *hsds.FieldError
				return errors.As(err, &fe) && fe.Field == c.jsonPath() && strings.Contains(fe.Message, "at most")
			}
			at, over := k.new(), k.new()
			c.set(reflect.ValueOf(at), strings.Repeat("长", size), size)
			c.set(reflect.ValueOf(over), strings.Repeat("长", size+1), size+1)
			where := fmt.Sprintf("%s %s (%s)", k.name, c.jsonPath(), c.limit.Name)
			if err := k.validate(at); isLimitErr(err) {
				t.Errorf("%s: %d refused: %v", where, size, err)
			}
			err := k.validate(over)
			switch {
			case c.limit.Listed:
				if isLimitErr(err) {
					t.Errorf("%s: a list reads bound (Listed) is refused on write: %v", where, err)
				}
			case !isLimitErr(err):
				t.Errorf("%s: %d accepted or refused otherwise: %v", where, size+1, err)
			}
		}
	}
	for _, l := range hsds.Limits() {
		if !checked[l.Name] {
			t.Errorf("limit %s bounds no member of any record", l.Name)
		}
	}
}

// TestTrimListed: reads show the first MaxListed of the lists no write can
// bound, and leave the others alone.
func TestTrimListed(t *testing.T) {
	o := hsds.Organization{
		Locations: make([]hsds.Location, hsds.MaxListed+5),
		Services:  []hsds.Service{{ServiceAtLocations: make([]hsds.ServiceAtLocation, hsds.MaxListed+1)}},
		Phones:    make([]hsds.Phone, hsds.MaxListItems+1), // bounded on write, never cut on read
	}
	o.Locations[0].Name = "first"
	hsds.TrimListed(&o)
	if len(o.Locations) != hsds.MaxListed || o.Locations[0].Name != "first" {
		t.Errorf("locations: %d, first %q", len(o.Locations), o.Locations[0].Name)
	}
	if n := len(o.Services[0].ServiceAtLocations); n != hsds.MaxListed {
		t.Errorf("nested service_at_locations: %d", n)
	}
	if len(o.Phones) != hsds.MaxListItems+1 {
		t.Errorf("phones cut to %d", len(o.Phones))
	}
}
