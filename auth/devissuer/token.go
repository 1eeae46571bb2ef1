package devissuer

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// The token endpoint (code exchange with PKCE) and userinfo.

type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	Scope        string `json:"scope"`
	IDToken      string `json:"id_token,omitempty"`
	RefreshToken string `json:"refresh_token"`
}

func tokenError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

// serveToken exchanges an authorization code (RFC 6749 §4.1.3, with the
// PKCE check of RFC 7636 §4.6) or a refresh token (§6) for tokens.
func (i *Issuer) serveToken(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	form, ok := readTokenForm(w, r)
	if !ok {
		return
	}
	if form.Get("grant_type") == "refresh_token" {
		i.refresh(w, form)
		return
	}
	c, desc := i.redeemCode(form)
	if desc != "" {
		tokenError(w, http.StatusBadRequest, "invalid_grant", desc)
		return
	}
	access, ac, err := i.mint(TokenRequest{
		Subject: c.Subject, Name: c.Name, Roles: c.Roles,
		Scopes: strings.Fields(c.Scope), ClientID: c.ClientID,
	})
	if err != nil {
		tokenError(w, http.StatusInternalServerError, "server_error", "could not mint the access token")
		return
	}
	idToken, err := sign(i.idSigner, idClaims{
		Issuer:          i.url,
		Subject:         c.Subject,
		Audience:        []string{c.ClientID},
		AuthorizedParty: c.ClientID,
		IssuedAt:        ac.IssuedAt,
		Expiry:          ac.Expiry,
		Nonce:           c.Nonce,
		Name:            c.Name,
	})
	if err != nil {
		tokenError(w, http.StatusInternalServerError, "server_error", "could not sign the ID token")
		return
	}
	rt, err := i.issueRefresh(refreshClaims{Subject: c.Subject, Name: c.Name, Roles: c.Roles, Scope: ac.Scope, ClientID: c.ClientID})
	if err != nil {
		tokenError(w, http.StatusInternalServerError, "server_error", "could not sign the refresh token")
		return
	}
	writeJSON(w, http.StatusOK, tokenResponse{
		AccessToken:  access,
		TokenType:    "Bearer",
		ExpiresIn:    ac.Expiry - ac.IssuedAt,
		Scope:        ac.Scope,
		IDToken:      idToken,
		RefreshToken: rt,
	})
}

// issueRefresh signs a refresh token for c's person, app and scopes.
func (i *Issuer) issueRefresh(c refreshClaims) (string, error) {
	now := i.now()
	c.Issuer, c.Audience = i.url, []string{i.endpoint("/token")} // never the API audience
	c.IssuedAt, c.Expiry, c.ID = now.Unix(), now.Add(refreshTTL).Unix(), rand.Text()
	c.Roles = append([]string{}, c.Roles...)
	return sign(i.refreshSigner, c)
}

// refresh answers grant_type=refresh_token (RFC 6749 §6): a new access
// token for the same person and app, with the scopes asked for (a subset of
// the original grant; all of them when scope is absent), and a new refresh
// token (rotation; the old one stays valid until it expires, see refreshClaims).
func (i *Issuer) refresh(w http.ResponseWriter, form url.Values) {
	var c refreshClaims
	if err := i.parse(form.Get("refresh_token"), typRefresh, &c); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "refresh token is invalid")
		return
	}
	if c.Issuer != i.url || !slices.Contains(c.Audience, i.endpoint("/token")) {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "refresh token was not issued here")
		return
	}
	if err := i.checkTime(c.Expiry, 0); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "refresh token expired")
		return
	}
	if c.ClientID != form.Get("client_id") {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "client_id does not match the refresh token")
		return
	}
	granted := strings.Fields(c.Scope)
	scopes := granted
	if form.Has("scope") {
		scopes = strings.Fields(form.Get("scope"))
		for _, s := range scopes {
			if !slices.Contains(granted, s) {
				tokenError(w, http.StatusBadRequest, "invalid_scope", "scope "+s+" was not granted to this refresh token")
				return
			}
		}
	}
	access, ac, err := i.mint(TokenRequest{Subject: c.Subject, Name: c.Name, Roles: c.Roles, Scopes: scopes, ClientID: c.ClientID})
	if err != nil {
		tokenError(w, http.StatusInternalServerError, "server_error", "could not mint the access token")
		return
	}
	// The new refresh token keeps the original grant, so a narrower refresh
	// does not lose the other scopes for later ones.
	c.Scope = strings.Join(granted, " ")
	rt, err := i.issueRefresh(c)
	if err != nil {
		tokenError(w, http.StatusInternalServerError, "server_error", "could not sign the refresh token")
		return
	}
	writeJSON(w, http.StatusOK, tokenResponse{AccessToken: access, TokenType: "Bearer", ExpiresIn: ac.Expiry - ac.IssuedAt,
		Scope: ac.Scope, RefreshToken: rt})
}

// readTokenForm parses and shape-checks a token request. On failure it has
// answered with an RFC 6749 error and returns ok false.
func readTokenForm(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		tokenError(w, http.StatusBadRequest, "invalid_request", "body must be application/x-www-form-urlencoded")
		return nil, false
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", "malformed form body")
		return nil, false
	}
	form := r.PostForm
	for k, vs := range form {
		if len(vs) > 1 {
			tokenError(w, http.StatusBadRequest, "invalid_request", "parameter "+k+" is repeated")
			return nil, false
		}
	}
	switch gt := form.Get("grant_type"); gt {
	case "authorization_code":
	case "refresh_token":
		for _, k := range []string{"refresh_token", "client_id"} {
			if form.Get(k) == "" {
				tokenError(w, http.StatusBadRequest, "invalid_request", k+" is required")
				return nil, false
			}
		}
		return form, true
	case "":
		tokenError(w, http.StatusBadRequest, "invalid_request", "grant_type is required")
		return nil, false
	default:
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "only authorization_code and refresh_token are supported")
		return nil, false
	}
	for _, k := range []string{"code", "redirect_uri", "client_id", "code_verifier"} {
		if form.Get(k) == "" {
			tokenError(w, http.StatusBadRequest, "invalid_request", k+" is required")
			return nil, false
		}
	}
	if !validVerifier(form.Get("code_verifier")) {
		tokenError(w, http.StatusBadRequest, "invalid_request", "code_verifier must be 43-128 unreserved characters (RFC 7636)")
		return nil, false
	}
	return form, true
}

// redeemCode checks the code against the request; a non-empty description
// is the reason for an invalid_grant error.
func (i *Issuer) redeemCode(form url.Values) (codeClaims, string) {
	var c codeClaims
	if err := i.parse(form.Get("code"), typCode, &c); err != nil {
		return c, "authorization code is invalid"
	}
	if c.Issuer != i.url || !slices.Contains(c.Audience, i.endpoint("/token")) {
		return c, "authorization code was not issued here"
	}
	if err := i.checkTime(c.Expiry, 0); err != nil {
		return c, "authorization code expired"
	}
	if c.ClientID != form.Get("client_id") {
		return c, "client_id does not match the authorization request"
	}
	if c.RedirectURI != form.Get("redirect_uri") {
		return c, "redirect_uri does not match the authorization request"
	}
	sum := sha256.Sum256([]byte(form.Get("code_verifier")))
	want := base64.RawURLEncoding.EncodeToString(sum[:])
	if subtle.ConstantTimeCompare([]byte(want), []byte(c.CodeChallenge)) != 1 {
		return c, "code_verifier does not match code_challenge"
	}
	return c, ""
}

// validVerifier checks RFC 7636 §4.1: 43-128 unreserved characters.
func validVerifier(s string) bool {
	if len(s) < 43 || len(s) > 128 {
		return false
	}
	for _, c := range []byte(s) {
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~':
		default:
			return false
		}
	}
	return true
}

func (i *Issuer) serveUserinfo(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		w.Header().Set("WWW-Authenticate", `Bearer`)
		writeProblem(w, http.StatusUnauthorized, "bearer access token required")
		return
	}
	var c accessClaims
	err := i.parse(strings.TrimSpace(tok), typAccessToken, &c)
	if err == nil && (c.Issuer != i.url || !slices.Contains(c.Audience, i.audience)) {
		err = errors.New("token not issued here for this audience")
	}
	if err == nil {
		err = i.checkTime(c.Expiry, c.NotBefore)
	}
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeProblem(w, http.StatusUnauthorized, "access token is invalid or expired")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"sub": c.Subject, "name": c.Name, "roles": c.Roles})
}
