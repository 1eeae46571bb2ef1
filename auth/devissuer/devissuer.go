// Package devissuer is Waypoint's embedded development OpenID Connect issuer.
//
// It lets a developer run the whole stack on one machine without an identity
// provider: web and mobile front ends sign in with authorization code + PKCE
// through a persona picker, and `waypoint dev token` mints access tokens
// directly with Mint. There are no passwords by design, so the caller mounts
// it only in dev mode on a loopback address, and the handler itself answers
// only requests whose Host is loopback (see LoopbackHost).
//
// The issuer keeps no state besides its signing key: authorization codes and
// the persona form's CSRF tokens are signed with keys derived from it, so any
// number of dev processes sharing the key (stored in PostgreSQL by the
// caller) agree on every code, form and token.
//
// Files: devissuer.go (the issuer, routing, shared helpers), discovery.go
// (keys, JWKS, .well-known), mint.go (token types, signing, Mint),
// authorize.go and csrf.go (the persona page and its form protection),
// token.go (code exchange with PKCE, refresh tokens, userinfo), cli_token.go (the endpoint
// `waypoint dev token --server` asks), loopback.go (Host check),
// validate.go (shared input checks), page.go (HTML).
package devissuer

import (
	"crypto"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
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
	typRefresh     = "dev-refresh+jwt"
)

// DefaultClientID is the azp/client_id of tokens minted without a ClientID
// (what `waypoint dev token` gives unless --client-id says otherwise).
const DefaultClientID = "waypoint-dev-cli"

const (
	defaultTTL    = time.Hour
	codeTTL       = 60 * time.Second
	refreshTTL    = 30 * 24 * time.Hour
	minKeyBits    = 2048
	maxFormBytes  = 64 << 10
	maxParamLen   = 2048
	maxSubjectLen = 255
	maxNameLen    = 200
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
		{Subject: "pia", Name: "Pia Novak", Roles: []string{auth.RoleProvider},
			Description: "Provider: food bank coordinator; sees the referrals to her organization as clients share them"},
		{Subject: "otto", Name: "Otto Lindqvist", Roles: []string{auth.RoleOrganizer},
			Description: "Organizer: community organiser; reads the anonymised unmet needs and directory gaps, no one's records"},
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

	accessSigner, idSigner, codeSigner, refreshSigner jose.Signer

	// csrfKey authenticates the persona form (csrf.go); it is derived from
	// the signing key so every process sharing the key accepts the form.
	csrfKey []byte
	// crossOrigin refuses form posts a browser marks as cross-site.
	crossOrigin *http.CrossOriginProtection

	// now is the clock. Internal tests replace it to expire codes and tokens.
	now func() time.Time
}

type route struct {
	methods []string
	handle  http.HandlerFunc
	// cors marks the endpoints browser apps call with fetch (discovery,
	// keys, token, userinfo). The authorize page is a navigation and gets no
	// CORS headers, so another origin can never read its form token.
	cors bool
}

// New returns an issuer whose identifier is issuerURL (e.g.
// "http://127.0.0.1:8080/dev/oidc", no trailing slash) and whose access
// tokens carry audience. A nil personas means DefaultPersonas.
func New(issuerURL, audience string, key *rsa.PrivateKey, personas []Persona) (*Issuer, error) {
	u, err := checkIssuerURL(issuerURL)
	if err != nil {
		return nil, err
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
	csrfKey, err := deriveCSRFKey(key)
	if err != nil {
		return nil, err
	}
	i := &Issuer{
		url:         issuerURL,
		path:        u.Path,
		audience:    audience,
		key:         key,
		kid:         kid,
		keySet:      &oidc.StaticKeySet{PublicKeys: []crypto.PublicKey{&key.PublicKey}},
		personas:    ps,
		pages:       pages,
		csrfKey:     csrfKey,
		crossOrigin: http.NewCrossOriginProtection(),
		now:         time.Now,
	}
	if err := i.newSigners(); err != nil {
		return nil, err
	}
	i.routes = i.newRoutes()
	return i, nil
}

func checkIssuerURL(issuerURL string) (*url.URL, error) {
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
	return u, nil
}

func (i *Issuer) newSigners() error {
	for _, s := range []struct {
		dst *jose.Signer
		typ string
	}{{&i.accessSigner, typAccessToken}, {&i.idSigner, typIDToken}, {&i.codeSigner, typCode}, {&i.refreshSigner, typRefresh}} {
		var err error
		*s.dst, err = jose.NewSigner(
			jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: i.key, KeyID: i.kid}},
			(&jose.SignerOptions{}).WithType(jose.ContentType(s.typ)))
		if err != nil {
			return fmt.Errorf("devissuer: create %s signer: %w", s.typ, err)
		}
	}
	return nil
}

func (i *Issuer) newRoutes() map[string]route {
	read := []string{http.MethodGet, http.MethodHead}
	return map[string]route{
		"/.well-known/openid-configuration": {read, i.serveDiscovery, true},
		"/jwks":                             {read, i.serveJWKS, true},
		"/authorize":                        {[]string{http.MethodGet, http.MethodPost}, i.serveAuthorize, false},
		"/token":                            {[]string{http.MethodPost}, i.serveToken, true},
		"/userinfo":                         {[]string{http.MethodGet, http.MethodPost}, i.serveUserinfo, true},
		// For `waypoint dev token --server`, never for browsers: no CORS.
		CLITokenPath: {[]string{http.MethodPost}, i.serveCLIToken, false},
	}
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
// route), so the caller mounts it with mux.Handle(path+"/", h). It answers
// only requests whose Host is loopback (421 otherwise), whatever the mux
// around it does, so a rebound DNS name never reaches the persona page.
func (i *Issuer) Handler() http.Handler {
	return RequireLoopbackHost(http.HandlerFunc(i.serveHTTP))
}

func (i *Issuer) serveHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	rest, ok := strings.CutPrefix(r.URL.Path, i.path)
	rt, known := i.routes[rest]
	if !ok || !known {
		writeProblem(w, http.StatusNotFound, "no such development issuer endpoint")
		return
	}
	if rt.cors {
		// Browser front ends on another port call discovery, token and
		// userinfo; nothing here relies on cookies, so a wildcard origin is safe.
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Expose-Headers", "WWW-Authenticate")
	}
	allowed := strings.Join(append(slices.Clone(rt.methods), http.MethodOptions), ", ")
	switch {
	case r.Method == http.MethodOptions:
		if rt.cors {
			h.Set("Access-Control-Allow-Methods", allowed)
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
			h.Set("Access-Control-Max-Age", "600")
		}
		h.Set("Allow", allowed)
		w.WriteHeader(http.StatusNoContent)
	case !slices.Contains(rt.methods, r.Method):
		h.Set("Allow", allowed)
		writeProblem(w, http.StatusMethodNotAllowed, "allowed methods: "+allowed)
	default:
		rt.handle(w, r)
	}
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
