package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/waypoint-portal/waypoint/api/apitest"
	"github.com/waypoint-portal/waypoint/auth/authtest"
)

// directoryWrites are one call of every directory write operation against
// the seeded directory (tests of refusals: the bodies are valid).
func directoryWrites() []struct{ method, path, ifMatch string } {
	return []struct{ method, path, ifMatch string }{
		{http.MethodPost, "/v1/organizations", ""},
		{http.MethodPut, "/v1/organizations/" + orgNY.String(), `"1"`},
		{http.MethodDelete, "/v1/organizations/" + orgNY.String(), `"1"`},
		{http.MethodPost, "/v1/locations", ""},
		{http.MethodPut, "/v1/locations/" + locBrooklyn.String(), `"1"`},
		{http.MethodDelete, "/v1/locations/" + locBrooklyn.String(), `"1"`},
		{http.MethodPost, "/v1/services", ""},
		{http.MethodPut, "/v1/services/" + svcBrooklyn.String(), `"1"`},
		{http.MethodDelete, "/v1/services/" + svcBrooklyn.String(), `"1"`},
	}
}

func directoryWriteBody(method, path string) any {
	switch {
	case method == http.MethodDelete:
		return nil
	case strings.HasPrefix(path, "/v1/organizations"):
		return map[string]any{"name": "Scam Pantry", "description": "Call 555-0100 and pay a fee"}
	case strings.HasPrefix(path, "/v1/locations"):
		return map[string]any{"location_type": "physical", "name": "Nowhere", "organization_id": orgNY.String()}
	default:
		return map[string]any{"organization_id": orgNY.String(), "name": "Brooklyn Food Pantry", "status": "active",
			"description": "Call 555-0100 and pay a fee first"}
	}
}

// Finding 1: a token whose person holds no Waypoint role (a fresh signup, a
// provider-only role, a role revoked at the provider, roles under a claim
// the server does not read, a machine client given no role) may read its own
// person and the public directory, and nothing else: every directory write
// is a 403 problem that says why, and changes nothing.
func TestRolelessTokenHasNoRights(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	seedDirectory(t, e.Store)
	e.Login("rita", "admin") // later revoked at the provider
	state := newDBState(t, e)
	roleless := map[string]string{
		"no roles claim":  e.Issuer.Token(t, "fresh-signup", nil),
		"provider role":   e.Issuer.Token(t, "gus", []string{"guest"}),
		"revoked":         e.Issuer.Token(t, "rita", []string{}),
		"roles elsewhere": e.Issuer.Token(t, "kc-admin", nil, authtest.WithClaim("realm_access", map[string]any{"roles": []string{"admin"}})),
		"machine client": e.Issuer.Token(t, "partner-sync", nil, authtest.WithScopes("directory:write", "services:read"),
			authtest.WithClaim("azp", "partner-sync")),
	}
	for name, tok := range roleless {
		t.Run(name, func(t *testing.T) {
			// What it may do. The first call also records the person's (empty) roles.
			if name != "machine client" {
				me := e.Do(http.MethodGet, "/v1/me", tok, nil).Want(t, http.StatusOK)
				if roles := me.Map(t)["roles"].([]any); len(roles) != 0 {
					t.Fatalf("roles %v", roles)
				}
				e.Do(http.MethodPatch, "/v1/me", tok, map[string]any{"pronouns": "they/them"}, "If-Match", me.Header.Get("ETag")).Want(t, http.StatusOK)
			}
			for _, p := range []string{"/v1/services?search=pantry", "/v1/services/" + svcBrooklyn.String(),
				"/v1/organizations/" + orgNY.String(), "/v1/locations/" + locBrooklyn.String(), "/v1/taxonomy_terms"} {
				e.Do(http.MethodGet, p, tok, nil).Want(t, http.StatusOK)
			}
			before := state.snapshot(t, e)
			for _, w := range directoryWrites() {
				r := e.Do(w.method, w.path, tok, directoryWriteBody(w.method, w.path), "If-Match", w.ifMatch)
				p := r.Problem(t, http.StatusForbidden)
				if d, _ := p["detail"].(string); !strings.Contains(d, "role") {
					t.Errorf("%s %s: 403 does not say which role is needed: %q", w.method, w.path, d)
				}
			}
			// Nothing about clients either (the matrix test covers every operation).
			for _, p := range []string{"/v1/clients", "/v1/conversations", "/v1/people"} {
				e.Do(http.MethodGet, p, tok, nil).Problem(t, http.StatusForbidden)
			}
			if ch := changedTables(before, state.snapshot(t, e)); len(ch) > 0 {
				t.Fatalf("refused calls changed %v", ch)
			}
		})
	}
}

// Directory writes need the admin or directory_editor role and the
// directory:write scope; clients and workers are refused even with the scope.
func TestDirectoryEditorRole(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	seedDirectory(t, e.Store)
	state := newDBState(t, e)
	editor := e.Login("ed", "directory_editor")
	machine := e.Issuer.Token(t, "partner-sync", []string{"directory_editor"}, authtest.WithScopes("directory:write"),
		authtest.WithClaim("azp", "partner-sync"))
	editorNoScope := e.Issuer.Token(t, "ed", []string{"directory_editor"}, authtest.WithScopes("services:read", "profile:read"))
	client := e.Login("alice", "client")
	worker := e.Login("wanda", "worker")

	before := state.snapshot(t, e)
	for _, tok := range []string{client.Token, worker.Token} {
		p := e.Do(http.MethodPost, "/v1/organizations", tok, directoryWriteBody(http.MethodPost, "/v1/organizations")).Problem(t, http.StatusForbidden)
		mustContainAll(t, p["detail"].(string), "admin", "directory_editor")
	}
	r := e.Do(http.MethodPost, "/v1/organizations", editorNoScope, directoryWriteBody(http.MethodPost, "/v1/organizations"))
	r.Problem(t, http.StatusForbidden)
	if !strings.Contains(r.Header.Get("WWW-Authenticate"), `error="insufficient_scope"`) {
		t.Fatalf("WWW-Authenticate %q", r.Header.Get("WWW-Authenticate"))
	}
	if ch := changedTables(before, state.snapshot(t, e)); len(ch) > 0 {
		t.Fatalf("refused calls changed %v", ch)
	}

	// A person maintaining listings, and a machine client whose only scope is
	// directory:write (which implies services:read, so it reads what it wrote).
	for _, tok := range []string{editor.Token, machine} {
		id := e.Do(http.MethodPost, "/v1/organizations", tok, map[string]any{"name": "Fremont Food Bank", "description": "Groceries"}).
			Want(t, http.StatusCreated).Map(t)["id"].(string)
		e.Do(http.MethodGet, "/v1/organizations/"+id, tok, nil).Want(t, http.StatusOK)
		e.Do(http.MethodPut, "/v1/organizations/"+id, tok, map[string]any{"name": "Fremont Food Bank", "description": "Groceries, Tuesdays"},
			"If-Match", `"1"`).Want(t, http.StatusOK)
		e.Do(http.MethodDelete, "/v1/organizations/"+id, tok, nil, "If-Match", `"2"`).Want(t, http.StatusNoContent)
	}
	// The editor role reaches no client data.
	e.Do(http.MethodGet, "/v1/clients/"+client.ClientID.String(), editor.Token, nil).Problem(t, http.StatusNotFound)
	e.Do(http.MethodGet, "/v1/clients/"+client.ClientID.String()+"/goals", editor.Token, nil).Problem(t, http.StatusNotFound)
}
