package auth_test

import (
	"slices"
	"testing"

	"github.com/waypoint-portal/waypoint/auth"
)

// The scope table and the scope list agree, and the implication rule is
// exactly "a family's write scope implies its read scope".
func TestScopeFamilies(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range auth.ScopeFamilies() {
		for _, s := range []string{f.Read, f.Write} {
			if s == "" {
				continue
			}
			if _, ok := auth.AllScopes[s]; !ok {
				t.Errorf("family %s: %s is not in AllScopes", f.Name, s)
			}
			if seen[s] {
				t.Errorf("%s is in two families", s)
			}
			seen[s] = true
		}
	}
	for s := range auth.AllScopes {
		if !seen[s] {
			t.Errorf("%s belongs to no family", s)
		}
	}
	for _, tc := range []struct {
		granted []string
		need    string
		want    bool
	}{
		{[]string{"goals:read"}, "goals:read", true},
		{[]string{"goals:write"}, "goals:read", true},
		{[]string{"goals:write"}, "goals:write", true},
		{[]string{"goals:read"}, "goals:write", false},
		{[]string{"directory:write"}, "services:read", true},
		{[]string{"services:read"}, "directory:write", false},
		{[]string{"referrals:write"}, "referrals:read", true},
		{[]string{"goals:write"}, "referrals:read", false},
		{[]string{"services:read"}, "referrals:read", false},
		{[]string{"profile:write"}, "messages:read", false},
		{[]string{"messages:write", "profile:read"}, "messages:read", true},
		{nil, "profile:read", false},
		{[]string{"export:read"}, "export:read", true},
	} {
		if got := auth.ScopesAllow(tc.granted, tc.need); got != tc.want {
			t.Errorf("ScopesAllow(%v, %s) = %v, want %v", tc.granted, tc.need, got, tc.want)
		}
		p := auth.Principal{Scopes: tc.granted}
		if p.HasScope(tc.need) != tc.want {
			t.Errorf("Principal.HasScope disagrees with ScopesAllow for %v, %s", tc.granted, tc.need)
		}
	}
	if !slices.Contains(auth.KnownRoles(), auth.RoleDirectoryEditor) {
		t.Error("directory_editor is not a known role")
	}
}
