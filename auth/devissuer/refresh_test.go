package devissuer

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
)

func refreshForm(rt string) url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {testClient}}
}

// The code exchange returns a refresh token; grant_type=refresh_token trades
// it for a new access token of the same person, app and scopes (or fewer),
// and a new refresh token.
func TestRefreshTokenGrant(t *testing.T) {
	e := newEnv(t)
	verifier, challenge := pkce()
	params := authParams(challenge)
	params.Set("scope", "openid goals:read goals:write profile:read")
	code := e.authorize(t, params, url.Values{"persona": {"alice"}})
	status, first := e.token(t, tokenForm(code, verifier))
	if status != http.StatusOK || first.RefreshToken == "" {
		t.Fatalf("code exchange: %d %+v", status, first)
	}
	if h := header(t, first.RefreshToken); h.ExtraHeaders["typ"] != typRefresh {
		t.Fatalf("refresh token typ %v", h.ExtraHeaders["typ"])
	}

	_, orig := verifyAccess(t, e.iss, first.AccessToken)
	status, second := e.token(t, refreshForm(first.RefreshToken))
	if status != http.StatusOK || second.AccessToken == "" || second.RefreshToken == "" || second.IDToken != "" ||
		second.RefreshToken == first.RefreshToken || second.TokenType != "Bearer" {
		t.Fatalf("refresh: %d %+v", status, second)
	}
	_, c := verifyAccess(t, e.iss, second.AccessToken)
	if c.Azp != testClient || c.Scope != first.Scope || !slices.Equal(c.Roles, orig.Roles) || c.Jti == orig.Jti {
		t.Fatalf("refreshed claims %+v, original %+v", c, orig)
	}

	// A narrower scope is allowed; the next refresh still has the whole grant.
	form := refreshForm(second.RefreshToken)
	form.Set("scope", "goals:read")
	status, narrow := e.token(t, form)
	if status != http.StatusOK || narrow.Scope != "goals:read" {
		t.Fatalf("narrow refresh: %d %+v", status, narrow)
	}
	status, again := e.token(t, refreshForm(narrow.RefreshToken))
	if status != http.StatusOK || again.Scope != first.Scope {
		t.Fatalf("refresh after a narrow one: %d scope %q, want %q", status, again.Scope, first.Scope)
	}

	cases := []struct {
		name string
		form url.Values
		want string
	}{
		{"wider scope", func() url.Values { f := refreshForm(again.RefreshToken); f.Set("scope", "messages:read"); return f }(), "invalid_scope"},
		{"other client", func() url.Values { f := refreshForm(again.RefreshToken); f.Set("client_id", "another-app"); return f }(), "invalid_grant"},
		{"access token as refresh token", refreshForm(again.AccessToken), "invalid_grant"},
		{"code as refresh token", refreshForm(code), "invalid_grant"},
		{"garbage", refreshForm("abc"), "invalid_grant"},
		{"missing client_id", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {again.RefreshToken}}, "invalid_request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, tr := e.token(t, tc.form)
			wantTokenError(t, status, tr, tc.want)
		})
	}

	t.Run("expired", func(t *testing.T) {
		e.clock.Advance(refreshTTL)
		status, tr := e.token(t, refreshForm(again.RefreshToken))
		wantTokenError(t, status, tr, "invalid_grant")
	})
}
