package api

import (
	"slices"
	"testing"

	"github.com/waypoint-portal/waypoint/domain"
)

func expect(n int64) domain.Precondition { return domain.ExpectVersion(n) }

func TestParseIfMatch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		h        string
		first    domain.Precondition
		versions []int64
		any      bool
	}{
		{"", domain.NoVersion(), nil, false},
		{"   ", domain.NoVersion(), nil, false},
		{"*", domain.AnyVersion(), nil, true},
		{` * `, domain.AnyVersion(), nil, true},
		{`"3"`, expect(3), []int64{3}, false},
		{`"3", "5"`, expect(3), []int64{3, 5}, false},
		{`"3","5" ,	"7"`, expect(3), []int64{3, 5, 7}, false},
		{`W/"3"`, expect(0), nil, false},             // weak tags never match If-Match
		{`W/"3", "4"`, expect(4), []int64{4}, false}, // the strong one can
		{`"a,b", "6"`, expect(6), []int64{6}, false}, // a comma inside a tag belongs to it
		{`"0"`, expect(0), nil, false},
		{`"-1"`, expect(0), nil, false},
		{`"03"`, expect(0), nil, false}, // not how we write a version: not ours
		{`"9223372036854775808"`, expect(0), nil, false},
		{`3`, expect(0), nil, false},
		{`"3`, expect(0), nil, false},
		{`"3" "4"`, expect(0), nil, false}, // malformed: matches nothing
		{`*, "3"`, expect(0), nil, false},  // "*" is alone or not at all
		{`"3", x`, expect(0), nil, false},  // malformed
		{`,,"8",,`, expect(8), []int64{8}, false},
	} {
		m := parseIfMatch(tc.h)
		if m.first() != tc.first || !slices.Equal(m.versions, tc.versions) || m.any != tc.any {
			t.Errorf("parseIfMatch(%q) = %+v first %v, want versions %v first %v any %v", tc.h, m, m.first(), tc.versions, tc.first, tc.any)
		}
	}
}

// FuzzIfMatch: parsing any header never panics, "*" is the only wildcard,
// and every version it extracts appears in the header as a strong tag.
func FuzzIfMatch(f *testing.F) {
	for _, s := range []string{"", "*", `"1"`, `"1", "2"`, `W/"1"`, `"a,b"`, `"1`, `""`, `W/`, `"18446744073709551616"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		m := parseIfMatch(h)
		if m.any && m.first() != domain.AnyVersion() {
			t.Fatalf("%q: any without AnyVersion", h)
		}
		for _, v := range m.versions {
			if v < 1 || !m.matches(v) {
				t.Fatalf("%q: bad version %d", h, v)
			}
		}
		if !m.sent && (m.first() != domain.NoVersion() || m.matches(1)) {
			t.Fatalf("%q: absent header matched", h)
		}
		if !m.any && len(m.versions) == 0 && m.sent && m.first() != expect(0) {
			t.Fatalf("%q: nothing matchable but first is %v", h, m.first())
		}
	})
}
