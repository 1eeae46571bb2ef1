package domain

import (
	"testing"
	"time"
)

func TestNeedLanguageIsThePrimarySubtag(t *testing.T) {
	for in, want := range map[string]string{"es": "es", "es-MX": "es", "ZH-Hant-TW": "zh", " so ": "so", "spa": "spa",
		"": "", "x-klingon": "", "i-navajo": "", "english": "", "e": "", "1a": ""} {
		got := needLanguage(in)
		if (got == nil) != (want == "") || got != nil && *got != want {
			t.Errorf("needLanguage(%q) = %v, want %q", in, got, want)
		}
	}
}

func TestIsoWeekIsTheMondayInUTC(t *testing.T) {
	for in, want := range map[string]string{
		"2026-12-02T03:00:00Z":      "2026-11-30", // a Wednesday
		"2026-11-30T00:00:00Z":      "2026-11-30", // Monday itself
		"2026-12-06T23:59:59Z":      "2026-11-30", // Sunday night
		"2026-12-07T00:30:00+02:00": "2026-11-30", // still Sunday in UTC
		"2027-01-01T12:00:00Z":      "2026-12-28", // across the year
	} {
		at, err := time.Parse(time.RFC3339, in)
		if err != nil {
			t.Fatal(err)
		}
		if got := isoWeek(at).Format(time.DateOnly); got != want {
			t.Errorf("isoWeek(%s) = %s, want %s", in, got, want)
		}
	}
}
