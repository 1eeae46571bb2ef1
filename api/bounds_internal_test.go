package api

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/domain"
)

// The API's own bounds (bounds.go) are as long as what it writes.
func TestOwnBoundsFitWhatIsWritten(t *testing.T) {
	t.Parallel()
	if n, _ := formatMaxLength("uuid"); n != len(uuid.New().String()) {
		t.Errorf("uuid: %d", n)
	}
	// The longest time Go writes in JSON: nine fraction digits and an offset.
	longest, _ := json.Marshal(time.Date(9999, 12, 31, 23, 59, 59, 123456789, time.FixedZone("", -(13*3600+59*60))))
	if n, _ := formatMaxLength("date-time"); n != len(longest)-2 {
		t.Errorf("date-time: %d, Go writes %s", n, longest)
	}
	if n, _ := formatMaxLength("date"); n != len("9999-12-31") {
		t.Errorf("date: %d", n)
	}
	if got, want := len(etag(domain.MaxSafeInteger)), len(`"9007199254740991"`); got != want {
		t.Errorf("etag: %d", got)
	}
	if _, ok := formatMaxLength("email"); ok {
		t.Error("email addresses have no length of their format; they name a rule")
	}
}

func TestSearchCorrectedHeader(t *testing.T) {
	t.Parallel()
	fits := strings.Repeat("ሰ", maxSearchCorrected)
	if searchCorrectedHeader(fits) != fits || searchCorrectedHeader("food pantry") != "food pantry" {
		t.Error("a correction within the bound is announced")
	}
	if searchCorrectedHeader(fits+"ሰ") != "" {
		t.Error("a correction past the bound is announced")
	}
}

func TestCut(t *testing.T) {
	t.Parallel()
	if cut("abc", 3) != "abc" || cut("ሰሰሰሰ", 3) != "ሰሰ…" || utf8.RuneCountInString(cut(strings.Repeat("é", 10), 5)) != 5 {
		t.Errorf("cut: %q %q", cut("abc", 3), cut("ሰሰሰሰ", 3))
	}
}
