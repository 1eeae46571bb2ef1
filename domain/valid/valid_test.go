package valid

import (
	"regexp"
	"strings"
	"testing"
)

func TestDate(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"2025-06-30", true}, {"1900-01-01", true}, {"9999-12-31", true},
		{"0000-01-01", false}, {"0001-01-01", false}, {"1899-12-31", false},
		{"2025-02-30", false}, {"99999-01-01", false}, {"2025-6-30", false}, {"", false},
	} {
		if _, err := Date(tc.in); (err == nil) != tc.ok {
			t.Errorf("Date(%q) error %v, want ok=%v", tc.in, err, tc.ok)
		}
	}
}

func TestText(t *testing.T) {
	for _, tc := range []struct {
		in         string
		text, line bool
	}{
		{"+1 206 555 0100", true, true}, {"Zoë, café", true, true},
		{"a\x00b", false, false}, {"a\xffb", false, false}, {"\xed\xa0\x80", false, false},
		{"tab\there", true, false}, {"bell\a", true, false}, {"new\nline", true, false},
		{"\u202e1234", true, false}, {"a\u2028b", true, false}, {"\u0085", true, false}, {"1\u200b2", true, false},
	} {
		if got := Text(tc.in); got != tc.text {
			t.Errorf("Text(%q) = %v, want %v", tc.in, got, tc.text)
		}
		if got := Line(tc.in); got != tc.line {
			t.Errorf("Line(%q) = %v, want %v", tc.in, got, tc.line)
		}
		// The schema pattern says the same as Line for valid UTF-8.
		if tc.text && regexp.MustCompile(LinePattern).MatchString(tc.in) != tc.line {
			t.Errorf("LinePattern disagrees with Line on %q", tc.in)
		}
	}
}

func TestEmail(t *testing.T) {
	local64 := strings.Repeat("a", 64)
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"alice@example.org", true}, {"a.b+tag@mail.example.org", true}, {local64 + "@example.org", true},
		{local64 + "a@example.org", false}, {local64 + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 51), true},
		{"Alice <alice@example.org>", false}, {"zoë@example.org", false}, {".a@example.org", false}, {"a..b@example.org", false},
		{"a@-example.org", false}, {"a@example..org", false}, {"a@", false}, {"@example.org", false}, {"a", false},
		{"a@" + strings.Repeat("b", 64) + ".org", false}, {local64 + "@" + strings.Repeat("b.", 94) + "org", false},
	} {
		if got := Email(tc.in); got != tc.ok {
			t.Errorf("Email(%q) = %v, want %v", tc.in, got, tc.ok)
		}
	}
}
