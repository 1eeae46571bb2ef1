// Package valid holds the input rules every layer shares, so the API's
// request guard, the domain and the HSDS reader cannot disagree: what counts
// as storable text and what counts as a calendar date.
package valid

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Dates (and the date part of times) must fall in these years. PostgreSQL's
// date type rejects year 0 ("0000-01-01") and RFC 3339 allows only four-digit
// years; within that, nothing a person plans or a directory publishes lies
// before 1900, so earlier years are typos, not data.
const (
	MinYear = 1900
	MaxYear = 9999
)

// DateRule describes the accepted range, for error messages and docs.
var DateRule = fmt.Sprintf("a date from %d-01-01 to %d-12-31", MinYear, MaxYear)

// Date checks a calendar date written YYYY-MM-DD (RFC 3339 full-date).
func Date(s string) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("must be %s, written like 2025-06-30", DateRule)
	}
	return t, Year(t)
}

// Year checks that t's year is in range.
func Year(t time.Time) error {
	if y := t.Year(); y < MinYear || y > MaxYear {
		return fmt.Errorf("must be %s", DateRule)
	}
	return nil
}

// Text reports whether s can be stored as text: valid UTF-8 without U+0000
// (PostgreSQL refuses NUL in text and jsonb).
func Text(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// LinePattern is Line as a schema pattern (Go regexp syntax).
const LinePattern = `^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]*$`

// Line reports whether s is storable text on one line: no control characters
// (C0, DEL, C1), format characters (bidirectional overrides, zero-width
// characters) or line and paragraph separators, which have no place in a
// phone number and can disguise one.
func Line(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) {
			return false
		}
	}
	return true
}
