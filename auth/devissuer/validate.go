package devissuer

import (
	"fmt"
	"maps"
	"slices"

	"github.com/waypoint-portal/waypoint/auth"
)

// Input checks shared by Mint, the authorize page and New.

func allScopes() []string { return slices.Sorted(maps.Keys(auth.AllScopes)) }

// grantScopes intersects the requested scope parameter with Waypoint's
// scopes. A request naming none of them (e.g. "openid profile", or no scope
// at all) gets every scope: first-party front ends are trusted with all.
func grantScopes(requested []string) []string {
	var out []string
	for _, s := range allScopes() {
		if slices.Contains(requested, s) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return allScopes()
	}
	return out
}

// validScopeToken reports whether s is an RFC 6749 scope-token (NQCHAR+).
func validScopeToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c < 0x21 || c == '"' || c == '\\' || c > 0x7e {
			return false
		}
	}
	return true
}

// checkText validates a short human or identifier string: bounded, no
// control characters (they would corrupt logs and pages).
func checkText(what, s string, maxLen int, required bool) error {
	if s == "" {
		if required {
			return fmt.Errorf("%s is required", what)
		}
		return nil
	}
	if len(s) > maxLen {
		return fmt.Errorf("%s is longer than %d bytes", what, maxLen)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\uFFFD' {
			return fmt.Errorf("%s contains control or invalid characters", what)
		}
	}
	return nil
}

func checkRoles(roles []string) error {
	for _, r := range roles {
		if !validScopeToken(r) {
			return fmt.Errorf("invalid role %q", r)
		}
	}
	return nil
}

// knownRoles are the roles the custom-identity form offers.
func knownRoles() []string { return auth.KnownRoles() }
