// Package auth verifies OIDC bearer access tokens and turns their claims into
// a Principal. It also holds the embedded development issuer (package devissuer).
package auth

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"time"
	"unicode"
	"unicode/utf8"
)

// Role names carried in the roles claim.
const (
	RoleClient = "client"
	RoleWorker = "worker"
	RoleAdmin  = "admin"
	// RoleDirectoryEditor maintains the resource directory's listings (a
	// person or a machine client); it reaches no client data.
	RoleDirectoryEditor = "directory_editor"
	// RoleProvider is staff of a directory organization (admins link them);
	// it sees the referrals to that organization, as the client shares them.
	RoleProvider = "provider"
	// RoleOrganizer reads anonymised community insights (community
	// organisers, funders, planners); it reaches no person's records.
	RoleOrganizer = "organizer"
)

// KnownRoles lists the roles Waypoint acts on. A token carrying none of them
// may only read its own person and the public directory.
func KnownRoles() []string {
	return []string{RoleClient, RoleWorker, RoleAdmin, RoleDirectoryEditor, RoleProvider, RoleOrganizer}
}

// AllScopes lists every OAuth2 scope Waypoint understands, with a description
// used in the OpenAPI document.
var AllScopes = map[string]string{
	"profile:read":      "Read the caller's person, client profiles, care teams, people and saved services",
	"profile:write":     "Change the caller's person and client profiles, saved services and care teams (implies profile:read)",
	"goals:read":        "Read goals, steps, check-ins and history",
	"goals:write":       "Create and change goals, steps and check-ins (implies goals:read)",
	"assessments:read":  "Read self-assessments, suggestions and the agenda",
	"assessments:write": "Record and confirm self-assessments (implies assessments:read)",
	"services:read":     "Search the resource directory and read its listings",
	"directory:write":   "Manage the resource directory: organizations, services, locations (implies services:read)",
	"referrals:read":    "Read referrals, their status and history",
	"referrals:write":   "Make and update referrals (implies referrals:read)",
	"messages:read":     "Read conversations, messages and live events",
	"messages:write":    "Start conversations, send messages, move read markers (implies messages:read)",
	"groups:read":       "Read groups, members, posts and sessions",
	"groups:write":      "Join and take part in groups (implies groups:read)",
	"privacy:read":      "Read the access log, connected apps, supporters and consents",
	"privacy:write":     "Revoke apps, invite supporters, give and withdraw consents (implies privacy:read)",
	"export:read":       "Download all of my data",
	"insights:read":     "Read anonymised community insights (unmet needs, directory gaps)",
}

// Principal is the verified identity behind a request. It never holds the raw token.
type Principal struct {
	Issuer  string
	Subject string
	// Name is a display name suggested by the token (name, preferred_username), may be empty.
	Name   string
	Roles  []string
	Scopes []string
	// AppID is the OAuth2 client that obtained the token (azp or client_id claim).
	AppID string
	// Expiry is the token's exp: long-lived responses (event streams) end then.
	Expiry time.Time
	// TokenHash is the SHA-256 of the exact token this principal was
	// verified from: a key for what is kept per token after verification
	// (the API's resolved person, api/actor_cache.go) without keeping the token.
	TokenHash [sha256.Size]byte
}

// HasRole reports whether the principal carries role r.
func (p *Principal) HasRole(r string) bool { return slices.Contains(p.Roles, r) }

// HasScope reports whether the token's scopes allow s (see ScopesAllow:
// a write scope implies the read scope of its family).
func (p *Principal) HasScope(s string) bool { return ScopesAllow(p.Scopes, s) }

// checkText refuses identifiers that cannot be stored or shown faithfully:
// a sub with NUL made the person lookup fail with a 500. A validly signed
// token saying such things is broken or hostile, and invalid. The display
// name is only a suggestion and is cleaned when stored instead.
func (p *Principal) checkText() error {
	fields := []struct{ name, v string }{{"iss", p.Issuer}, {"sub", p.Subject}, {"azp/client_id", p.AppID}}
	for _, r := range p.Roles {
		fields = append(fields, struct{ name, v string }{"roles", r})
	}
	for _, s := range p.Scopes {
		fields = append(fields, struct{ name, v string }{"scope", s})
	}
	for _, f := range fields {
		if !identifierText(f.v) {
			return fmt.Errorf("%s claim contains control characters or invalid UTF-8", f.name)
		}
	}
	return nil
}

// identifierText is valid UTF-8 without control characters (NUL included).
func identifierText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}
