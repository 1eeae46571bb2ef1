// Package devissuer is Waypoint's embedded development OpenID Connect issuer.
//
// It lets a developer run the whole stack on one machine without an identity
// provider: web and mobile front ends sign in with authorization code + PKCE
// through a persona picker, and `waypoint dev token` mints access tokens
// directly with Mint. There are no passwords by design, so the caller mounts
// it only in dev mode on a loopback address.
//
// The issuer keeps no state besides its signing key: authorization codes are
// short-lived signed JWTs, so any number of dev processes sharing the key
// (stored in PostgreSQL by the caller) agree on every code and token.
package devissuer

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"html/template"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/waypoint-portal/waypoint/auth"
)

// Token types (JOSE "typ" header). Each kind of JWT gets its own so that one
// can never be accepted where another is expected.
const (
	typAccessToken = "at+jwt" // RFC 9068
	typIDToken     = "JWT"
	typCode        = "dev-code+jwt"
)

const (
	// defaultClientID is the azp/client_id of tokens minted without a ClientID.
	defaultClientID = "waypoint-dev-cli"
	defaultTTL      = time.Hour
	codeTTL         = 60 * time.Second
	minKeyBits      = 2048
	maxFormBytes    = 64 << 10
	maxParamLen     = 2048
	maxSubjectLen   = 255
	maxNameLen      = 200
)

// Persona is a ready-made identity offered on the sign-in page.
type Persona struct {
	Subject     string
	Name        string
	Description string
	Roles       []string
}

// DefaultPersonas returns the built-in personas, one or two per role, so every
// role's view of the API can be tried without typing anything.
func DefaultPersonas() []Persona {
	return []Persona{
		{Subject: "alice", Name: "Alice Johnson", Roles: []string{auth.RoleClient},
			Description: "Client: sets and tracks her own goals and finds services"},
		{Subject: "bob", Name: "Bob Martinez", Roles: []string{auth.RoleClient},
			Description: "Client: a second person, to check that clients only see their own records"},
		{Subject: "wanda", Name: "Wanda Okafor", Roles: []string{auth.RoleWorker},
			Description: "Care worker: supports the clients on her caseload"},
		{Subject: "will", Name: "Will Chen", Roles: []string{auth.RoleWorker},
			Description: "Worker: a second worker, to check what workers outside a care team may not see"},
		{Subject: "adam", Name: "Adam Reyes", Roles: []string{auth.RoleAdmin},
			Description: "Administrator: assigns care teams and manages the resource directory"},
	}
}

// Issuer is the development OIDC issuer. It is immutable after New and safe
// for concurrent use.
type Issuer struct {
	url      string // issuer identifier, exactly as configured
	path     string // URL path of the issuer; every route lives below it
	audience string
	key      *rsa.PrivateKey
	kid      string
	keySet   *oidc.StaticKeySet
	personas []Persona
	pages    *template.Template
	routes   map[string]route

	accessSigner, idSigner, codeSigner jose.Signer

	// now is the clock. Internal tests replace it to expire codes and tokens.
	now func() time.Time
}

type route struct {
	methods []string
	handle  http.HandlerFunc
}

// New returns an issuer whose identifier is issuerURL (e.g.
// "http://127.0.0.1:8080/dev/oidc", no trailing slash) and whose access
// tokens carry audience. A nil personas means DefaultPersonas.
func New(issuerURL, audience string, key *rsa.PrivateKey, personas []Persona) (*Issuer, error) {
	u, err := url.Parse(issuerURL)
	if err != nil {
		return nil, fmt.Errorf("devissuer: parse issuer URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.Opaque != "" || strings.ContainsAny(issuerURL, "?#") {
		return nil, fmt.Errorf("devissuer: issuer URL %q must be an absolute http(s) URL without user info, query or fragment", issuerURL)
	}
	// The iss claim must equal the verifier's configured issuer byte for byte,
	// so a trailing slash is refused rather than silently trimmed.
	if strings.HasSuffix(issuerURL, "/") {
		return nil, fmt.Errorf("devissuer: issuer URL %q must not end with a slash", issuerURL)
	}
	if audience == "" {
		return nil, errors.New("devissuer: audience is required")
	}
	if key == nil {
		return nil, errors.New("devissuer: signing key is required")
	}
	if key.N.BitLen() < minKeyBits {
		return nil, fmt.Errorf("devissuer: RSA key has %d bits, need at least %d", key.N.BitLen(), minKeyBits)
	}
	if personas == nil {
		personas = DefaultPersonas()
	}
	ps, err := clonePersonas(personas)
	if err != nil {
		return nil, err
	}
	kid, err := keyID(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	i := &Issuer{
		url:      issuerURL,
		path:     u.Path,
		audience: audience,
		key:      key,
		kid:      kid,
		keySet:   &oidc.StaticKeySet{PublicKeys: []crypto.PublicKey{&key.PublicKey}},
		personas: ps,
		pages:    pages,
		now:      time.Now,
	}
	for _, s := range []struct {
		dst *jose.Signer
		typ string
	}{{&i.accessSigner, typAccessToken}, {&i.idSigner, typIDToken}, {&i.codeSigner, typCode}} {
		*s.dst, err = jose.NewSigner(
			jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
			(&jose.SignerOptions{}).WithType(jose.ContentType(s.typ)))
		if err != nil {
			return nil, fmt.Errorf("devissuer: create %s signer: %w", s.typ, err)
		}
	}
	i.routes = map[string]route{
		"/.well-known/openid-configuration": {[]string{http.MethodGet, http.MethodHead}, i.serveDiscovery},
		"/jwks":                             {[]string{http.MethodGet, http.MethodHead}, i.serveJWKS},
		"/authorize":                        {[]string{http.MethodGet, http.MethodPost}, i.serveAuthorize},
		"/token":                            {[]string{http.MethodPost}, i.serveToken},
		"/userinfo":                         {[]string{http.MethodGet, http.MethodPost}, i.serveUserinfo},
	}
	return i, nil
}

func clonePersonas(in []Persona) ([]Persona, error) {
	out := make([]Persona, 0, len(in))
	seen := make(map[string]bool, len(in))
	for _, p := range in {
		if err := checkText("persona subject", p.Subject, maxSubjectLen, true); err != nil {
			return nil, fmt.Errorf("devissuer: %w", err)
		}
		if seen[p.Subject] {
			return nil, fmt.Errorf("devissuer: duplicate persona subject %q", p.Subject)
		}
		seen[p.Subject] = true
		if err := checkRoles(p.Roles); err != nil {
			return nil, fmt.Errorf("devissuer: persona %q: %w", p.Subject, err)
		}
		if p.Name == "" {
			p.Name = p.Subject
		}
		p.Roles = slices.Clone(p.Roles)
		out = append(out, p)
	}
	return out, nil
}

// URL returns the issuer identifier (the iss claim of every token).
func (i *Issuer) URL() string { return i.url }

// KeySet verifies the issuer's own tokens in process, without fetching the JWKS.
func (i *Issuer) KeySet() oidc.KeySet { return i.keySet }

// Algorithms lists the signing algorithms the issuer uses.
func (i *Issuer) Algorithms() []string { return []string{string(jose.RS256)} }

func (i *Issuer) endpoint(name string) string { return i.url + name }

// Handler serves the issuer's routes at their full paths (issuer path +
// route), so the caller mounts it with mux.Handle(path+"/", h).
func (i *Issuer) Handler() http.Handler { return http.HandlerFunc(i.serveHTTP) }

func (i *Issuer) serveHTTP(w http.ResponseWriter, r *http.Request) {
	// Browser front ends on another port call discovery, token and userinfo;
	// nothing here relies on cookies, so a wildcard origin is safe.
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", "WWW-Authenticate")
	rest, ok := strings.CutPrefix(r.URL.Path, i.path)
	rt, known := i.routes[rest]
	if !ok || !known {
		writeProblem(w, http.StatusNotFound, "no such development issuer endpoint")
		return
	}
	allowed := strings.Join(append(slices.Clone(rt.methods), http.MethodOptions), ", ")
	switch {
	case r.Method == http.MethodOptions:
		h.Set("Access-Control-Allow-Methods", allowed)
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
		h.Set("Access-Control-Max-Age", "600")
		h.Set("Allow", allowed)
		w.WriteHeader(http.StatusNoContent)
	case !slices.Contains(rt.methods, r.Method):
		h.Set("Allow", allowed)
		writeProblem(w, http.StatusMethodNotAllowed, "allowed methods: "+allowed)
	default:
		rt.handle(w, r)
	}
}

// ---- keys ----

// GenerateKey returns a new 2048-bit RSA signing key.
func GenerateKey() (*rsa.PrivateKey, error) {
	k, err := rsa.GenerateKey(rand.Reader, minKeyBits)
	if err != nil {
		return nil, fmt.Errorf("devissuer: generate RSA key: %w", err)
	}
	return k, nil
}

// MarshalKey encodes k as a PKCS#8 PEM block ("PRIVATE KEY").
func MarshalKey(k *rsa.PrivateKey) ([]byte, error) {
	if k == nil {
		return nil, errors.New("devissuer: nil key")
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("devissuer: marshal key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParseKey decodes an RSA private key from PEM: PKCS#8 as written by
// MarshalKey, or PKCS#1 ("RSA PRIVATE KEY") as written by older tools.
func ParseKey(pemBytes []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("devissuer: no PEM block in key")
	}
	switch block.Type {
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("devissuer: parse PKCS#8 key: %w", err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("devissuer: key is %T, want RSA", k)
		}
		return rk, nil
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("devissuer: parse PKCS#1 key: %w", err)
		}
		return k, nil
	default:
		return nil, fmt.Errorf("devissuer: unexpected PEM block %q", block.Type)
	}
}

// keyID returns the RFC 7638 JWK thumbprint (SHA-256, base64url) of pub. It is
// the kid of every token, so the CLI and the server derive the same value from
// the stored key without coordinating.
func keyID(pub *rsa.PublicKey) (string, error) {
	tp, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("devissuer: key thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}

// ---- tokens ----

// TokenRequest describes an access token to mint.
type TokenRequest struct {
	Subject string
	Name    string
	Roles   []string
	// Scopes granted; nil means every Waypoint scope, an empty slice none.
	Scopes []string
	// ClientID becomes azp and client_id; empty means "waypoint-dev-cli".
	ClientID string
	// TTL is the token lifetime; zero means one hour. Negative is refused.
	TTL time.Duration
}

// accessClaims follows RFC 9068 (JWT access tokens) plus Waypoint's name and roles.
type accessClaims struct {
	Issuer          string   `json:"iss"`
	Subject         string   `json:"sub"`
	Audience        []string `json:"aud"`
	AuthorizedParty string   `json:"azp"`
	ClientID        string   `json:"client_id"`
	IssuedAt        int64    `json:"iat"`
	NotBefore       int64    `json:"nbf"`
	Expiry          int64    `json:"exp"`
	ID              string   `json:"jti"`
	Name            string   `json:"name,omitempty"`
	Roles           []string `json:"roles"`
	Scope           string   `json:"scope"`
}

type idClaims struct {
	Issuer          string   `json:"iss"`
	Subject         string   `json:"sub"`
	Audience        []string `json:"aud"`
	AuthorizedParty string   `json:"azp"`
	IssuedAt        int64    `json:"iat"`
	Expiry          int64    `json:"exp"`
	Nonce           string   `json:"nonce,omitempty"`
	Name            string   `json:"name,omitempty"`
}

// codeClaims is everything the token endpoint needs to finish a flow, so the
// issuer stores nothing between /authorize and /token.
type codeClaims struct {
	Issuer        string   `json:"iss"`
	Audience      []string `json:"aud"`
	Subject       string   `json:"sub"`
	Name          string   `json:"name,omitempty"`
	Roles         []string `json:"roles"`
	Scope         string   `json:"scope"`
	ClientID      string   `json:"client_id"`
	RedirectURI   string   `json:"redirect_uri"`
	CodeChallenge string   `json:"code_challenge"`
	Nonce         string   `json:"nonce,omitempty"`
	IssuedAt      int64    `json:"iat"`
	Expiry        int64    `json:"exp"`
	ID            string   `json:"jti"`
}

// Mint returns a signed RFC 9068 access token (typ at+jwt) that Waypoint in
// dev mode accepts.
func (i *Issuer) Mint(req TokenRequest) (string, error) {
	tok, _, err := i.mint(req)
	return tok, err
}

func (i *Issuer) mint(req TokenRequest) (string, accessClaims, error) {
	if err := checkText("subject", req.Subject, maxSubjectLen, true); err != nil {
		return "", accessClaims{}, fmt.Errorf("devissuer: %w", err)
	}
	if err := checkText("name", req.Name, maxNameLen, false); err != nil {
		return "", accessClaims{}, fmt.Errorf("devissuer: %w", err)
	}
	if err := checkRoles(req.Roles); err != nil {
		return "", accessClaims{}, fmt.Errorf("devissuer: %w", err)
	}
	ttl := req.TTL
	switch {
	case ttl == 0:
		ttl = defaultTTL
	case ttl < 0:
		return "", accessClaims{}, fmt.Errorf("devissuer: negative TTL %s", ttl)
	}
	clientID := req.ClientID
	if clientID == "" {
		clientID = defaultClientID
	}
	if err := checkText("client_id", clientID, maxSubjectLen, true); err != nil {
		return "", accessClaims{}, fmt.Errorf("devissuer: %w", err)
	}
	scopes := allScopes()
	if req.Scopes != nil {
		// Unknown scopes pass through on purpose: the CLI can then mint tokens
		// that exercise the API's handling of them. They only need to be
		// well-formed so the space-separated claim stays parseable.
		scopes = make([]string, 0, len(req.Scopes))
		for _, s := range req.Scopes {
			if !validScopeToken(s) {
				return "", accessClaims{}, fmt.Errorf("devissuer: invalid scope %q", s)
			}
			if !slices.Contains(scopes, s) {
				scopes = append(scopes, s)
			}
		}
	}
	now := i.now()
	c := accessClaims{
		Issuer:          i.url,
		Subject:         req.Subject,
		Audience:        []string{i.audience},
		AuthorizedParty: clientID,
		ClientID:        clientID,
		IssuedAt:        now.Unix(),
		NotBefore:       now.Unix(),
		Expiry:          now.Add(ttl).Unix(),
		ID:              rand.Text(),
		Name:            req.Name,
		Roles:           append([]string{}, req.Roles...), // [] rather than null
		Scope:           strings.Join(scopes, " "),
	}
	tok, err := sign(i.accessSigner, c)
	if err != nil {
		return "", accessClaims{}, err
	}
	return tok, c, nil
}

func sign(s jose.Signer, claims any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("devissuer: encode claims: %w", err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("devissuer: sign: %w", err)
	}
	tok, err := jws.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("devissuer: serialize: %w", err)
	}
	return tok, nil
}

// parse checks the signature and the typ header of one of the issuer's own
// tokens and decodes its claims into dst. Callers check iss, aud and time.
func (i *Issuer) parse(raw, typ string, dst any) error {
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return fmt.Errorf("parse token: %w", err)
	}
	if len(jws.Signatures) != 1 {
		return errors.New("token must carry exactly one signature")
	}
	if got, _ := jws.Signatures[0].Protected.ExtraHeaders[jose.HeaderType].(string); got != typ {
		return fmt.Errorf("token type %q, want %q", got, typ)
	}
	payload, err := jws.Verify(&i.key.PublicKey)
	if err != nil {
		return fmt.Errorf("verify token: %w", err)
	}
	if err := json.Unmarshal(payload, dst); err != nil {
		return fmt.Errorf("decode token claims: %w", err)
	}
	return nil
}

// checkTime refuses expired and not-yet-valid tokens, with no leeway: the
// issuer checks only tokens it issued itself, on the same clock.
func (i *Issuer) checkTime(exp, nbf int64) error {
	now := i.now().Unix()
	if now >= exp {
		return errors.New("token expired")
	}
	if now < nbf {
		return errors.New("token not yet valid")
	}
	return nil
}

// ---- validation helpers ----

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

// ---- discovery and keys ----

func (i *Issuer) serveDiscovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                i.url,
		"authorization_endpoint":                i.endpoint("/authorize"),
		"token_endpoint":                        i.endpoint("/token"),
		"jwks_uri":                              i.endpoint("/jwks"),
		"userinfo_endpoint":                     i.endpoint("/userinfo"),
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query"},
		"grant_types_supported":                 []string{"authorization_code"},
		"code_challenge_methods_supported":      []string{"S256"},
		"id_token_signing_alg_values_supported": i.Algorithms(),
		"scopes_supported":                      append([]string{"openid", "profile"}, allScopes()...),
		"token_endpoint_auth_methods_supported": []string{"none"},
		"subject_types_supported":               []string{"public"},
		"claims_supported":                      []string{"iss", "sub", "aud", "exp", "iat", "name", "roles", "nonce"},
	})
}

func (i *Issuer) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key: &i.key.PublicKey, KeyID: i.kid, Algorithm: string(jose.RS256), Use: "sig",
	}}})
}

// writeProblem answers with RFC 9457 problem+json, as the rest of Waypoint
// does. The OAuth endpoints keep their own formats: /token errors follow
// RFC 6749 and /authorize errors are pages for a person.
func writeProblem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	writeJSON(w, status, map[string]any{
		"type": "about:blank", "title": http.StatusText(status), "status": status, "detail": detail,
	})
}

// writeJSON writes v as JSON; a Content-Type already set (problem+json) is kept.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own fixed types reach here; failing to encode them is a bug.
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	if w.Header().Get("Cache-Control") == "" {
		// Dev keys and discovery change whenever the database is reset.
		w.Header().Set("Cache-Control", "no-cache")
	}
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// ---- authorization endpoint ----

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
	if ar.CodeChallenge == "" {
		return nil, errors.New("code_challenge is required: this issuer only accepts PKCE (RFC 7636) with S256")
	}
	switch m := v.Get("code_challenge_method"); m {
	case "S256":
	case "":
		return nil, errors.New("code_challenge_method=S256 is required (the RFC 7636 default, plain, is refused)")
	default:
		return nil, fmt.Errorf("code_challenge_method must be \"S256\", got %q (plain is refused)", m)
	}
	if !validChallenge(ar.CodeChallenge) {
		return nil, errors.New("code_challenge must be the 43-character base64url SHA-256 of the code verifier")
	}
	if err := checkText("state", ar.State, maxParamLen, true); err != nil {
		return nil, err
	}
	if err := checkText("nonce", ar.Nonce, maxParamLen, false); err != nil {
		return nil, err
	}
	var requested []string
	for _, s := range strings.Split(ar.Scope, " ") {
		if s == "" {
			continue
		}
		if !validScopeToken(s) {
			return nil, fmt.Errorf("scope contains an invalid token %q", s)
		}
		requested = append(requested, s)
	}
	ar.granted = grantScopes(requested)
	return ar, nil
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

func (i *Issuer) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	// No scripts; inline styles only. frame-ancestors stops click-jacking the
	// persona buttons. form-action is left out on purpose: browsers apply it
	// to the redirect that follows the POST, which goes to the app.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")

	params := r.URL.Query()
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			i.renderError(w, http.StatusBadRequest, "The form could not be read.")
			return
		}
		params = r.PostForm
	}
	ar, err := i.parseAuthRequest(params)
	if err != nil {
		i.renderError(w, http.StatusBadRequest, err.Error())
		return
	}
	if r.Method == http.MethodGet {
		i.renderPicker(w, ar)
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
	now := i.now()
	// Codes are stateless, so one can be redeemed again until it expires.
	// That is accepted in dev only; a real provider must store and burn codes.
	code, err := sign(i.codeSigner, codeClaims{
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
	if err != nil {
		i.renderError(w, http.StatusInternalServerError, "The authorization code could not be created.")
		return
	}
	i.redirect(w, ar, url.Values{"code": {code}})
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

func knownRoles() []string { return auth.KnownRoles() }

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

// ---- token endpoint ----

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope"`
	IDToken     string `json:"id_token"`
}

func tokenError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func (i *Issuer) serveToken(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		tokenError(w, http.StatusBadRequest, "invalid_request", "body must be application/x-www-form-urlencoded")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", "malformed form body")
		return
	}
	form := r.PostForm
	for k, vs := range form {
		if len(vs) > 1 {
			tokenError(w, http.StatusBadRequest, "invalid_request", "parameter "+k+" is repeated")
			return
		}
	}
	switch gt := form.Get("grant_type"); gt {
	case "authorization_code":
	case "":
		tokenError(w, http.StatusBadRequest, "invalid_request", "grant_type is required")
		return
	default:
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "only authorization_code is supported")
		return
	}
	for _, k := range []string{"code", "redirect_uri", "client_id", "code_verifier"} {
		if form.Get(k) == "" {
			tokenError(w, http.StatusBadRequest, "invalid_request", k+" is required")
			return
		}
	}
	verifier := form.Get("code_verifier")
	if !validVerifier(verifier) {
		tokenError(w, http.StatusBadRequest, "invalid_request", "code_verifier must be 43-128 unreserved characters (RFC 7636)")
		return
	}

	var c codeClaims
	if err := i.parse(form.Get("code"), typCode, &c); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "authorization code is invalid")
		return
	}
	if c.Issuer != i.url || !slices.Contains(c.Audience, i.endpoint("/token")) {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "authorization code was not issued here")
		return
	}
	if err := i.checkTime(c.Expiry, 0); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "authorization code expired")
		return
	}
	if c.ClientID != form.Get("client_id") {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "client_id does not match the authorization request")
		return
	}
	if c.RedirectURI != form.Get("redirect_uri") {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri does not match the authorization request")
		return
	}
	sum := sha256.Sum256([]byte(verifier))
	want := base64.RawURLEncoding.EncodeToString(sum[:])
	if subtle.ConstantTimeCompare([]byte(want), []byte(c.CodeChallenge)) != 1 {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "code_verifier does not match code_challenge")
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
	writeJSON(w, http.StatusOK, tokenResponse{
		AccessToken: access,
		TokenType:   "Bearer",
		ExpiresIn:   ac.Expiry - ac.IssuedAt,
		Scope:       ac.Scope,
		IDToken:     idToken,
	})
}

// ---- userinfo ----

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
