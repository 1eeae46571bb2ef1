package auth

import "slices"

// ScopeFamily is one row of the scope table in DESIGN.md ("Who may do
// what"): the read scope and, when the family has one, the write scope that
// implies it.
type ScopeFamily struct {
	Name, Read, Write string
}

// ScopeFamilies is the scope table. It is the one place that says which
// write scope implies which read scope.
func ScopeFamilies() []ScopeFamily {
	return []ScopeFamily{
		{"profile", "profile:read", "profile:write"},
		{"goals", "goals:read", "goals:write"},
		{"assessments", "assessments:read", "assessments:write"},
		{"services", "services:read", "directory:write"},
		{"referrals", "referrals:read", "referrals:write"},
		{"messages", "messages:read", "messages:write"},
		{"groups", "groups:read", "groups:write"},
		{"privacy", "privacy:read", "privacy:write"},
		{"export", "export:read", ""},
		{"insights", "insights:read", ""},
	}
}

// ScopesAllow reports whether a token granted scopes may use an operation
// that needs scope need: it was granted need, or need is a read scope and
// the token holds its family's write scope (whoever may change something may
// read what they changed, so write-only grants cannot exist). Every scope
// check goes through here: the operations' and the event stream's.
func ScopesAllow(scopes []string, need string) bool {
	if slices.Contains(scopes, need) {
		return true
	}
	for _, f := range ScopeFamilies() {
		if f.Read == need && f.Write != "" {
			return slices.Contains(scopes, f.Write)
		}
	}
	return false
}
