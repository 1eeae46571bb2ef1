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

// Email reports whether s is an address as the contract's "email" format
// reads it (JSON Schema, after RFC 5321's Mailbox): a local part of at most
// 64 characters, a dot-atom (letters, digits and !#$%&'*+-/=?^_`{|}~, dots
// only between them); an @; a domain of dot-separated labels (letters, digits
// and inner hyphens, at most 63 each); at most 254 characters in all.
// net/mail reads more (display names, quoted local parts, other scripts),
// which a client's contract check would refuse when the API sends it back.
func Email(s string) bool {
	at := strings.LastIndexByte(s, '@')
	if len(s) > 254 || at < 1 || at > 64 {
		return false
	}
	local, domain := s[:at], s[at+1:]
	if strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, "..") {
		return false
	}
	for _, r := range local {
		if !isAlnum(r) && !strings.ContainsRune(".!#$%&'*+-/=?^_`{|}~", r) {
			return false
		}
	}
	if domain == "" || len(domain) > 253 {
		return false
	}
	for _, label := range strings.Split(domain, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !isAlnum(r) && r != '-' {
				return false
			}
		}
	}
	return true
}

func isAlnum(r rune) bool {
	return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
}
