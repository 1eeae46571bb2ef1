package domain

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

// Codes are 12 symbols of the alphabet in groups of four, and as typed by a
// person they normalize to what is hashed.
func TestInvitationCodes(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 2000; i++ {
		display, norm := newInvitationCode()
		if len(display) != 14 || display[4] != '-' || display[9] != '-' || strings.ReplaceAll(display, "-", "") != norm {
			t.Fatalf("code %q / %q", display, norm)
		}
		if got, ok := normalizeCode(display); !ok || got != norm {
			t.Fatalf("normalizeCode(%q) = %q, %v", display, got, ok)
		}
		if seen[norm] {
			t.Fatalf("code %q drawn twice in %d", norm, i)
		}
		seen[norm] = true
	}
	// Every symbol turns up: the draw is not stuck on part of the alphabet.
	all := strings.Join(slices.Collect(maps.Keys(seen)), "")
	for _, r := range codeAlphabet {
		if !strings.ContainsRune(all, r) {
			t.Fatalf("symbol %q never drawn", r)
		}
	}
	for in, want := range map[string]string{
		"7kq2-m9xd-4htb":    "7KQ2M9XD4HTB",
		" 7KQ2 M9XD 4HTB ":  "7KQ2M9XD4HTB",
		"OIL0-0000-0000":    "011000000000",
		"7KQ2M9XD4HTB":      "7KQ2M9XD4HTB",
		"7KQ2-M9XD-4HT":     "",
		"7KQ2-M9XD-4HTBB":   "",
		"7KQ2-M9XD-4HTU":    "",
		"7KQ2_M9XD_4HTB":    "",
		"7KQ2-M9XD-4HT\x00": "",
		"ＡＢＣＤ-EFGH-JKMN":    "",
		"":                  "",
	} {
		got, ok := normalizeCode(in)
		if got != want || ok != (want != "") {
			t.Errorf("normalizeCode(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}
