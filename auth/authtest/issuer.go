// Package authtest runs a real OIDC issuer in tests: discovery, a JWKS
// endpoint, and hand-built tokens, including deliberately broken ones.
// It is an ordinary package (not _test) so every package's tests can use it.
package authtest

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"hash"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/waypoint-portal/waypoint/auth"
)

// Audience is the audience every Issuer's tokens carry and Config expects.
const Audience = "waypoint-test"

// Issuer is an OIDC provider on an httptest server. Safe for concurrent use.
type Issuer struct {
	// URL is the server's base URL and the iss of its tokens.
	URL string

	fetches atomic.Int64

	mu  sync.Mutex
	key *rsa.PrivateKey
	kid string
}

// Option changes a token's header or claims before it is signed.
type Option func(header, claims map[string]any)

// WithScopes sets the scope claim to the given scopes, space-separated.
func WithScopes(scopes ...string) Option {
	return func(_, claims map[string]any) { claims["scope"] = strings.Join(scopes, " ") }
}

// WithClaim sets a claim; a nil value deletes it.
func WithClaim(name string, value any) Option {
	return func(_, claims map[string]any) { setOrDelete(claims, name, value) }
}

// WithHeader sets a JOSE header parameter; a nil value deletes it.
func WithHeader(name string, value any) Option {
	return func(header, _ map[string]any) { setOrDelete(header, name, value) }
}

func setOrDelete(m map[string]any, k string, v any) {
	if v == nil {
		delete(m, k)
		return
	}
	m[k] = v
}

// NewIssuer starts an issuer serving /.well-known/openid-configuration and
// /jwks with a fresh RSA 2048 key. t.Cleanup closes it.
func NewIssuer(t testing.TB) *Issuer {
	t.Helper()
	key, _ := newKey(t)
	return NewIssuerWithKey(t, key)
}

// NewIssuerWithKey is NewIssuer signing with key (under a fresh kid). A
// harness that starts one issuer per test, each trusted only by its own
// server, can generate one key per process and spare every test the key
// generation (about 0.2 s with -race); a test that needs a second issuer
// whose key must not be trusted takes NewIssuer's fresh one. key is only
// read (signing is safe for concurrent use); RotateKey replaces it by a
// fresh key for this issuer alone.
func NewIssuerWithKey(t testing.TB, key *rsa.PrivateKey) *Issuer {
	t.Helper()
	iss := &Issuer{key: key, kid: rand.Text()[:12]}

	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	iss.URL = srv.URL

	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]any{
			"issuer":                                iss.URL,
			"jwks_uri":                              iss.URL + "/jwks",
			"authorization_endpoint":                iss.URL + "/authorize",
			"token_endpoint":                        iss.URL + "/token",
			"response_types_supported":              []string{"code"},
			"subject_types_supported":               []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, _ *http.Request) {
		iss.fetches.Add(1)
		iss.mu.Lock()
		jwk := jose.JSONWebKey{Key: iss.key.Public(), KeyID: iss.kid, Algorithm: "RS256", Use: "sig"}
		iss.mu.Unlock()
		writeJSON(w, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{jwk}})
	})
	return iss
}

func newKey(t testing.TB) (*rsa.PrivateKey, string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("authtest: generate key: %v", err)
	}
	return key, rand.Text()[:12]
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// JWKSFetches reports how many times /jwks was served.
func (i *Issuer) JWKSFetches() int64 { return i.fetches.Load() }

// Config returns a verifier configuration for this issuer (defaults otherwise).
func (i *Issuer) Config() auth.Config {
	return auth.Config{IssuerURL: i.URL, Audience: Audience, RolesClaim: "roles"}
}

// Token returns a valid access token for subject with roles (omitted if nil)
// and every scope, adjusted by opts.
func (i *Issuer) Token(t testing.TB, subject string, roles []string, opts ...Option) string {
	t.Helper()
	i.mu.Lock()
	kid := i.kid
	i.mu.Unlock()
	now := time.Now()
	scopes := make([]string, 0, len(auth.AllScopes))
	for s := range auth.AllScopes {
		scopes = append(scopes, s)
	}
	slices.Sort(scopes)
	header := map[string]any{"alg": "RS256", "typ": "at+jwt", "kid": kid}
	claims := map[string]any{
		"iss":   i.URL,
		"sub":   subject,
		"aud":   []string{Audience},
		"exp":   now.Add(time.Hour).Unix(),
		"iat":   now.Unix(),
		"name":  "Test " + subject,
		"scope": strings.Join(scopes, " "),
		"azp":   "test-app",
	}
	if roles != nil {
		claims["roles"] = roles
	}
	for _, o := range opts {
		o(header, claims)
	}
	return i.SignRaw(t, header, claims)
}

// SignRaw builds a compact JWS from header and claims exactly as given. It
// signs with the issuer's current RSA key using header["alg"]: RS*/PS* as
// usual (RS256 if alg is absent or not a string), "none" with an empty
// signature, HS* with RSAPublicKeyPEM as the HMAC secret (the classic
// algorithm-confusion attack).
func (i *Issuer) SignRaw(t testing.TB, header, claims map[string]any) string {
	t.Helper()
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatalf("authtest: marshal header: %v", err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		t.Fatalf("authtest: marshal claims: %v", err)
	}
	input := b64(h) + "." + b64(c)

	alg, _ := header["alg"].(string)
	if alg == "" {
		alg = "RS256"
	}
	i.mu.Lock()
	key := i.key
	i.mu.Unlock()

	var sig []byte
	switch alg {
	case "none":
	case "HS256", "HS384", "HS512":
		mac := hmac.New(hmacHash(alg), i.RSAPublicKeyPEM())
		mac.Write([]byte(input))
		sig = mac.Sum(nil)
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		hf := crypto.SHA256
		switch alg[2:] {
		case "384":
			hf = crypto.SHA384
		case "512":
			hf = crypto.SHA512
		}
		d := hf.New()
		d.Write([]byte(input))
		if alg[0] == 'R' {
			sig, err = rsa.SignPKCS1v15(rand.Reader, key, hf, d.Sum(nil))
		} else {
			sig, err = rsa.SignPSS(rand.Reader, key, hf, d.Sum(nil), &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		}
		if err != nil {
			t.Fatalf("authtest: sign: %v", err)
		}
	default:
		t.Fatalf("authtest: SignRaw cannot sign alg %q", alg)
	}
	return input + "." + b64(sig)
}

func hmacHash(alg string) func() hash.Hash {
	switch alg {
	case "HS384":
		return sha512.New384
	case "HS512":
		return sha512.New
	}
	return sha256.New
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// RSAPublicKeyPEM returns the current public key as a PKIX "PUBLIC KEY" PEM.
func (i *Issuer) RSAPublicKeyPEM() []byte {
	i.mu.Lock()
	pub := &i.key.PublicKey
	i.mu.Unlock()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		panic("authtest: marshal public key: " + err.Error()) // cannot happen for RSA
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// RotateKey replaces the signing key and kid; the JWKS serves only the new one.
func (i *Issuer) RotateKey(t testing.TB) {
	t.Helper()
	key, kid := newKey(t)
	i.mu.Lock()
	i.key, i.kid = key, kid
	i.mu.Unlock()
}
