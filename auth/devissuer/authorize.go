package devissuer

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// The authorization endpoint: the persona page (GET) and the form post that
// issues a code (POST, admitted by csrf.go).

// authRequest is a validated authorization request.
type authRequest struct {
	ClientID      string
	RedirectURI   string
	CodeChallenge string
	State         string
	Scope         string // as requested, carried through the form unchanged
	Nonce         string
	redirect      *url.URL
	granted       []string
}

// parseAuthRequest validates the parameters of GET or POST /authorize. Its
// errors are shown to the person in the browser, never sent to redirect_uri.
func (i *Issuer) parseAuthRequest(v url.Values) (*authRequest, error) {
	for _, k := range []string{"response_type", "client_id", "redirect_uri", "code_challenge",
		"code_challenge_method", "state", "scope", "nonce"} {
		if len(v[k]) > 1 {
			return nil, fmt.Errorf("parameter %s is repeated", k)
		}
		if len(v.Get(k)) > maxParamLen {
			return nil, fmt.Errorf("parameter %s is longer than %d bytes", k, maxParamLen)
		}
	}
	ar := &authRequest{
		ClientID:      v.Get("client_id"),
		RedirectURI:   v.Get("redirect_uri"),
		CodeChallenge: v.Get("code_challenge"),
		State:         v.Get("state"),
		Scope:         v.Get("scope"),
		Nonce:         v.Get("nonce"),
	}
	// redirect_uri first, so the message names the real problem when a
	// request is both malformed and aimed somewhere it may not go.
	u, err := checkRedirectURI(ar.RedirectURI)
	if err != nil {
		return nil, err
	}
	ar.redirect = u
	if err := checkText("client_id", ar.ClientID, maxSubjectLen, true); err != nil {
		return nil, err
	}
	if ar.ClientID == i.audience {
		// An ID token's aud is the client_id; if that equalled the API audience
		// a verifier that skips the typ check would take it for an access token.
		return nil, fmt.Errorf("client_id must differ from the API audience %q", i.audience)
	}
	if rt := v.Get("response_type"); rt != "code" {
		return nil, fmt.Errorf("response_type must be \"code\", got %q", rt)
	}
	if err := checkChallenge(ar.CodeChallenge, v.Get("code_challenge_method")); err != nil {
		return nil, err
	}
	if err := checkText("state", ar.State, maxParamLen, true); err != nil {
		return nil, err
	}
	if err := checkText("nonce", ar.Nonce, maxParamLen, false); err != nil {
		return nil, err
	}
	if ar.granted, err = parseScope(ar.Scope); err != nil {
		return nil, err
	}
	return ar, nil
}

// checkChallenge enforces PKCE with S256 (RFC 7636; plain is refused).
func checkChallenge(challenge, method string) error {
	if challenge == "" {
		return errors.New("code_challenge is required: this issuer only accepts PKCE (RFC 7636) with S256")
	}
	switch method {
	case "S256":
	case "":
		return errors.New("code_challenge_method=S256 is required (the RFC 7636 default, plain, is refused)")
	default:
		return fmt.Errorf("code_challenge_method must be \"S256\", got %q (plain is refused)", method)
	}
	if !validChallenge(challenge) {
		return errors.New("code_challenge must be the 43-character base64url SHA-256 of the code verifier")
	}
	return nil
}

// parseScope returns the Waypoint scopes granted for a scope parameter.
func parseScope(scope string) ([]string, error) {
	var requested []string
	for _, s := range strings.Split(scope, " ") {
		if s == "" {
			continue
		}
		if !validScopeToken(s) {
			return nil, fmt.Errorf("scope contains an invalid token %q", s)
		}
		requested = append(requested, s)
	}
	return grantScopes(requested), nil
}

// checkRedirectURI accepts loopback http(s) URIs on any port (RFC 8252 §7.3)
// and private-use scheme URIs for native apps (RFC 8252 §7.1).
func checkRedirectURI(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("redirect_uri is required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("redirect_uri is not a valid URI")
	}
	if strings.Contains(raw, "#") {
		return nil, errors.New("redirect_uri must not contain a fragment")
	}
	switch u.Scheme {
	case "http", "https":
		if u.User != nil {
			return nil, errors.New("redirect_uri must not contain user info")
		}
		switch strings.ToLower(u.Hostname()) {
		case "localhost", "127.0.0.1", "::1":
		default:
			return nil, fmt.Errorf("redirect_uri host %q is not allowed: the development issuer only redirects to localhost, 127.0.0.1 or [::1]", u.Hostname())
		}
	case "":
		return nil, errors.New("redirect_uri must be an absolute URI")
	default:
		// Private-use schemes are reverse domain names; requiring the dot
		// also rules out javascript:, data:, file: and friends.
		if !strings.Contains(u.Scheme, ".") {
			return nil, fmt.Errorf("redirect_uri scheme %q is not allowed: use http(s) on a loopback host or a reverse-domain scheme such as com.example.app:/callback", u.Scheme)
		}
	}
	return u, nil
}

// validChallenge reports whether s looks like BASE64URL(SHA256(verifier)).
func validChallenge(s string) bool {
	if len(s) != base64.RawURLEncoding.EncodedLen(sha256.Size) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}

// serveAuthorize shows the persona page (GET) or, for the page's own form
// (POST, checked by readForm), redirects to the app with a code.
func (i *Issuer) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	// No scripts; inline styles only. frame-ancestors stops click-jacking the
	// persona buttons. form-action is left out on purpose: browsers apply it
	// to the redirect that follows the POST, which goes to the app.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	// same-origin, not no-referrer: under no-referrer browsers send
	// "Origin: null" with the page's own form post, which the cross-origin
	// check must refuse. Other origins (the app after the redirect) still
	// get no Referer, so the request parameters do not leak.
	h.Set("Referrer-Policy", "same-origin")

	if r.Method == http.MethodGet {
		ar, err := i.parseAuthRequest(r.URL.Query())
		if err != nil {
			i.renderError(w, http.StatusBadRequest, err.Error())
			return
		}
		i.renderPicker(w, ar)
		return
	}
	ar, params, ok := i.readForm(w, r)
	if !ok {
		return
	}
	if params.Get("deny") != "" {
		i.redirect(w, ar, url.Values{"error": {"access_denied"}, "error_description": {"the user cancelled sign-in"}})
		return
	}
	who, err := i.chosenPersona(params)
	if err != nil {
		i.renderError(w, http.StatusBadRequest, err.Error())
		return
	}
	code, err := i.issueCode(ar, who)
	if err != nil {
		i.renderError(w, http.StatusInternalServerError, "The authorization code could not be created.")
		return
	}
	i.redirect(w, ar, url.Values{"code": {code}})
}

// issueCode signs an authorization code carrying everything /token needs.
func (i *Issuer) issueCode(ar *authRequest, who Persona) (string, error) {
	now := i.now()
	// Codes are stateless, so one can be redeemed again until it expires.
	// That is accepted in dev only; a real provider must store and burn codes.
	return sign(i.codeSigner, codeClaims{
		Issuer:        i.url,
		Audience:      []string{i.endpoint("/token")}, // never the API audience: a code is not an access token
		Subject:       who.Subject,
		Name:          who.Name,
		Roles:         append([]string{}, who.Roles...),
		Scope:         strings.Join(ar.granted, " "),
		ClientID:      ar.ClientID,
		RedirectURI:   ar.RedirectURI,
		CodeChallenge: ar.CodeChallenge,
		Nonce:         ar.Nonce,
		IssuedAt:      now.Unix(),
		Expiry:        now.Add(codeTTL).Unix(),
		ID:            rand.Text(),
	})
}

// chosenPersona reads the persona button or the custom identity form.
func (i *Issuer) chosenPersona(v url.Values) (Persona, error) {
	if sub := v.Get("persona"); sub != "" {
		for _, p := range i.personas {
			if p.Subject == sub {
				return p, nil
			}
		}
		return Persona{}, fmt.Errorf("unknown persona %q", sub)
	}
	sub := strings.TrimSpace(v.Get("subject"))
	if err := checkText("subject", sub, maxSubjectLen, true); err != nil {
		return Persona{}, fmt.Errorf("choose a persona or enter a subject: %w", err)
	}
	name := strings.TrimSpace(v.Get("name"))
	if err := checkText("name", name, maxNameLen, false); err != nil {
		return Persona{}, err
	}
	if name == "" {
		name = sub
	}
	role := v.Get("role")
	if !slices.Contains(knownRoles(), role) {
		return Persona{}, fmt.Errorf("role must be one of %s", strings.Join(knownRoles(), ", "))
	}
	return Persona{Subject: sub, Name: name, Roles: []string{role}}, nil
}

// redirect sends the browser back to the validated redirect_uri, keeping any
// query it already had (RFC 6749 §3.1.2) and echoing state.
func (i *Issuer) redirect(w http.ResponseWriter, ar *authRequest, add url.Values) {
	u := *ar.redirect
	q := u.Query()
	for k, vs := range add {
		q[k] = vs
	}
	q.Set("state", ar.State)
	u.RawQuery = q.Encode()
	w.Header().Set("Location", u.String())
	w.WriteHeader(http.StatusFound)
}
