package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
)

const (
	defaultRolesClaim   = "roles"
	defaultJWKSCooldown = 30 * time.Second
	defaultClockSkew    = 30 * time.Second
	maxClockSkew        = 60 * time.Second
	// maxTokenBytes rejects absurd inputs before any parsing or crypto.
	maxTokenBytes = 32 << 10
	// latestNumericDate (9999-12-31) keeps float-to-int conversion of hostile
	// exp/nbf/iat values well defined.
	latestNumericDate = 253402300799
)

// ErrInvalidToken matches every verification failure (a *TokenError, whose
// Reason says why); callers answer 401 without that detail outside dev mode.
var ErrInvalidToken = errors.New("invalid token")

// ErrKeysUnavailable is wrapped (instead of ErrInvalidToken) when a token could
// not be checked because the provider's keys could not be fetched, or ctx ended
// while waiting for them: a server-side condition (503), not a bad token (401).
var ErrKeysUnavailable = errors.New("signing keys unavailable")

// Config configures a Verifier.
type Config struct {
	IssuerURL string
	// Audience must appear in the token's aud claim; it is never skipped.
	Audience string
	// RolesClaim is a dot path to the roles, e.g. "roles" or
	// "realm_access.roles". A top-level claim whose name is the whole path
	// (Auth0-style URL claim names contain dots) takes precedence.
	// Default "roles".
	RolesClaim string
	// HTTPClient is used for discovery and JWKS fetches; default has timeouts.
	HTTPClient *http.Client
	// JWKSCooldown is the minimum time between JWKS refreshes triggered by
	// unknown kids. Default 30s.
	JWKSCooldown time.Duration
	// ClockSkew is the leeway for exp, nbf and iat. Default 30s, at most 60s.
	ClockSkew time.Duration
	// TokenCacheSize bounds the verified tokens kept (keyed by the exact
	// token's hash, until the earlier of exp and TokenCacheTTL, dropped when
	// the provider's keys change). Default 10,000; negative: no cache, every
	// request's signature is checked.
	TokenCacheSize int
	// TokenCacheTTL is the longest a verified token is trusted without a new
	// check. Default one minute.
	TokenCacheTTL time.Duration
}

// Verifier verifies OIDC bearer access tokens. It is safe for concurrent use.
type Verifier struct {
	issuer    string
	audience  string
	rolesPath string
	skew      time.Duration
	algs      []jose.SignatureAlgorithm
	idv       *oidc.IDTokenVerifier
	now       func() time.Time
	cache     *tokenCache    // nil: off
	keyGen    keyGenerations // nil: the keys never change
}

// NewVerifier does OIDC discovery against cfg.IssuerURL (bounded by ctx),
// reads jwks_uri and id_token_signing_alg_values_supported, and returns a
// Verifier whose key set caches the JWKS. Keys are fetched lazily, on the
// first Verify.
func NewVerifier(ctx context.Context, cfg Config) (*Verifier, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	provider, err := oidc.NewProvider(oidc.ClientContext(ctx, cfg.HTTPClient), cfg.IssuerURL)
	if err != nil {
		return nil, fmt.Errorf("auth: oidc discovery for %q: %w", cfg.IssuerURL, err)
	}
	var meta struct {
		JWKSURI string   `json:"jwks_uri"`
		Algs    []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := provider.Claims(&meta); err != nil {
		return nil, fmt.Errorf("auth: oidc discovery for %q: %w", cfg.IssuerURL, err)
	}
	if !strings.HasPrefix(meta.JWKSURI, "https://") && !strings.HasPrefix(meta.JWKSURI, "http://") {
		return nil, fmt.Errorf("auth: oidc discovery for %q: jwks_uri %q is not an http(s) URL", cfg.IssuerURL, meta.JWKSURI)
	}
	algs := usableAlgs(meta.Algs)
	keys := newRemoteKeySet(meta.JWKSURI, cfg.HTTPClient, cfg.JWKSCooldown, algs)
	return newVerifier(cfg, keys, algs), nil
}

// NewStaticVerifier is for an issuer whose public keys are in-process (the
// embedded dev issuer): no discovery, no HTTP. algs lists the algorithms the
// issuer signs with (only asymmetric ones are kept; empty means RS256).
// It panics if cfg lacks IssuerURL or Audience or keys is nil: that is a
// wiring bug, and a verifier that skipped those checks must never exist.
func NewStaticVerifier(cfg Config, keys oidc.KeySet, algs []string) *Verifier {
	cfg, err := cfg.withDefaults()
	if err != nil {
		panic(err)
	}
	if keys == nil {
		panic("auth: NewStaticVerifier: nil key set")
	}
	return newVerifier(cfg, keys, usableAlgs(algs))
}

func newVerifier(cfg Config, keys oidc.KeySet, algs []jose.SignatureAlgorithm) *Verifier {
	v := &Verifier{
		issuer:    cfg.IssuerURL,
		audience:  cfg.Audience,
		rolesPath: cfg.RolesClaim,
		skew:      cfg.ClockSkew,
		algs:      algs,
		now:       time.Now,
		cache:     newTokenCache(cfg.TokenCacheSize, cfg.TokenCacheTTL),
	}
	v.keyGen, _ = keys.(keyGenerations)
	algNames := make([]string, len(algs))
	for i, a := range algs {
		algNames[i] = string(a)
	}
	v.idv = oidc.NewVerifier(cfg.IssuerURL, recordingKeySet{keys}, &oidc.Config{
		ClientID:             cfg.Audience,
		SupportedSigningAlgs: algNames,
		// go-oidc has no expiry leeway: shifting its clock back by the skew
		// gives exactly ClockSkew of leeway on exp.
		Now: func() time.Time { return v.now().Add(-v.skew) },
	})
	return v
}

func (cfg Config) withDefaults() (Config, error) {
	if cfg.IssuerURL == "" {
		return cfg, errors.New("auth: Config.IssuerURL is required")
	}
	if cfg.Audience == "" {
		return cfg, errors.New("auth: Config.Audience is required")
	}
	if cfg.RolesClaim == "" {
		cfg.RolesClaim = defaultRolesClaim
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = defaultHTTPClient()
	}
	if cfg.JWKSCooldown <= 0 {
		cfg.JWKSCooldown = defaultJWKSCooldown
	}
	switch {
	case cfg.ClockSkew == 0:
		cfg.ClockSkew = defaultClockSkew
	case cfg.ClockSkew < 0:
		cfg.ClockSkew = 0
	case cfg.ClockSkew > maxClockSkew:
		cfg.ClockSkew = maxClockSkew
	}
	return cfg, nil
}

func defaultHTTPClient() *http.Client {
	var tr *http.Transport
	if dt, ok := http.DefaultTransport.(*http.Transport); ok {
		tr = dt.Clone()
	} else {
		tr = &http.Transport{Proxy: http.ProxyFromEnvironment}
	}
	tr.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = 5 * time.Second
	tr.ResponseHeaderTimeout = 10 * time.Second
	return &http.Client{Timeout: 10 * time.Second, Transport: tr}
}

// isAsymmetricAlg reports whether alg is a public-key JWS algorithm. HS* is
// excluded because a verifier holding only public keys must never treat one
// as an HMAC secret, and "none" is excluded because it is no signature at all.
func isAsymmetricAlg(alg string) bool {
	switch jose.SignatureAlgorithm(alg) {
	case jose.RS256, jose.RS384, jose.RS512,
		jose.PS256, jose.PS384, jose.PS512,
		jose.ES256, jose.ES384, jose.ES512,
		jose.EdDSA:
		return true
	}
	return false
}

// usableAlgs keeps the advertised asymmetric algorithms, defaulting to RS256,
// the one algorithm every OIDC provider must support.
func usableAlgs(advertised []string) []jose.SignatureAlgorithm {
	var out []jose.SignatureAlgorithm
	for _, a := range advertised {
		if isAsymmetricAlg(a) && !slices.Contains(out, jose.SignatureAlgorithm(a)) {
			out = append(out, jose.SignatureAlgorithm(a))
		}
	}
	if len(out) == 0 {
		out = []jose.SignatureAlgorithm{jose.RS256}
	}
	return out
}

// Verify checks rawToken and returns the Principal it proves. A rejected token
// yields a *TokenError (errors.Is ErrInvalidToken) saying why; when keys are
// unavailable the error wraps ErrKeysUnavailable instead. Error text never
// contains the token.
func (v *Verifier) Verify(ctx context.Context, rawToken string) (*Principal, error) {
	if rawToken == "" {
		return nil, invalid("empty token")
	}
	if len(rawToken) > maxTokenBytes {
		return nil, invalid("token too large (over %d bytes)", maxTokenBytes)
	}
	key := tokenKey(rawToken)
	var gen uint64
	if v.cache != nil {
		// The generation is read before verifying: keys replaced meanwhile
		// make this entry stale at once.
		gen = v.keyGeneration()
		if p, ok := v.cache.get(key, v.now(), gen); ok {
			return p, nil
		}
	}
	h, err := v.checkHeader(rawToken)
	if err != nil {
		return nil, err
	}
	// Signature (through our key set), iss, aud and exp.
	slot := &keyErrSlot{}
	tok, err := v.idv.Verify(context.WithValue(ctx, keyErrKey{}, slot), rawToken)
	if err != nil {
		return nil, v.whyRejected(slot, h, err)
	}
	var claims map[string]json.RawMessage
	if err := tok.Claims(&claims); err != nil {
		return nil, invalid("claims: %v", err)
	}
	if err := v.checkClaims(claims); err != nil {
		return nil, invalid("%v", err)
	}
	p, err := v.principal(claims)
	if err != nil {
		return nil, invalid("%v", err)
	}
	p.TokenHash = key
	if v.cache != nil {
		v.cache.put(key, p, v.now(), gen)
	}
	return p, nil
}

func (v *Verifier) keyGeneration() uint64 {
	if v.keyGen == nil {
		return 0
	}
	return v.keyGen.generation()
}

// header is what checkHeader learned before any signature check: the key id,
// and the issuer the (still unverified) payload names, to explain a token
// signed by an unknown key.
type header struct{ kid, iss string }

// checkHeader inspects the JOSE header before any key lookup, so tokens with a
// disallowed alg or type never reach the key set (and never trigger a fetch).
func (v *Verifier) checkHeader(raw string) (header, error) {
	// Compact serialization only: access tokens are JWTs (RFC 7519 §7.2).
	jws, err := jose.ParseSignedCompact(raw, v.algs)
	if err != nil {
		var algErr *jose.ErrUnexpectedSignatureAlgorithm
		if errors.As(err, &algErr) {
			return header{}, invalid("alg %s not allowed (this server accepts %v)", quote(string(algErr.Got)), v.algs)
		}
		return header{}, invalid("malformed token: %v", err)
	}
	if len(jws.Signatures) != 1 {
		return header{}, invalid("expected exactly one signature")
	}
	h := jws.Signatures[0].Header
	if typ, ok := h.ExtraHeaders[jose.HeaderType]; ok {
		s, isString := typ.(string)
		if !isString || !acceptedTyp(s) {
			// An ID token (or any other JWT type) must not pass as an access token.
			return header{}, invalid("not an access token: typ %s (accepted: at+jwt, JWT or none)", quote(fmt.Sprint(typ)))
		}
	}
	// We implement no critical extensions; "b64": false would also change what
	// the signature covers.
	if _, ok := h.ExtraHeaders["crit"]; ok {
		return header{}, invalid("crit header not supported")
	}
	if _, ok := h.ExtraHeaders["b64"]; ok {
		return header{}, invalid("b64 header not supported")
	}
	var unverified struct {
		Iss any `json:"iss"`
	}
	_ = json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &unverified)
	iss, _ := unverified.Iss.(string)
	return header{kid: h.KeyID, iss: iss}, nil
}

// acceptedTyp allows the RFC 9068 access-token types and plain "JWT", which
// many providers (Keycloak, Entra ID, Auth0) still put on access tokens.
func acceptedTyp(typ string) bool {
	switch strings.ToLower(typ) {
	case "at+jwt", "application/at+jwt", "jwt":
		return true
	}
	return false
}

// checkClaims enforces what go-oidc does not: exact issuer (no Google
// special case), no nonce, required exp, nbf and iat bounded by our skew
// (go-oidc allows 5 minutes on nbf and ignores iat) and a non-empty sub. It
// also repeats go-oidc's audience check, so every refusal is explained in the
// same words (whyRejected). Its errors are reasons, values quoted.
func (v *Verifier) checkClaims(c map[string]json.RawMessage) error {
	iss, err := stringClaim(c, "iss")
	if err != nil {
		return err
	}
	if iss != v.issuer {
		return fmt.Errorf("issuer mismatch: expected %s, got %s", quote(v.issuer), quote(iss))
	}
	// Only ID tokens carry nonce (OIDC Core §2); access tokens never do. An ID
	// token whose aud happens to be our audience (the API and the client share
	// an id) would otherwise pass: its typ is often "JWT" and its claims match.
	if _, ok := c["nonce"]; ok {
		return errors.New("not an access token: it carries a nonce, as ID tokens do")
	}
	aud, err := audience(c)
	if err != nil {
		return err
	}
	if !slices.Contains(aud, v.audience) {
		return fmt.Errorf("wrong audience: expected %s in aud, got %s", quote(v.audience), quoteList(aud))
	}
	if err := v.checkTimes(c); err != nil {
		return err
	}
	sub, err := stringClaim(c, "sub")
	if err != nil {
		return err
	}
	if sub == "" {
		return errors.New("missing sub")
	}
	return nil
}

func (v *Verifier) checkTimes(c map[string]json.RawMessage) error {
	now := v.now()
	exp, ok, err := numericDate(c, "exp")
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("missing exp")
	}
	if now.After(exp.Add(v.skew)) {
		return fmt.Errorf("expired at %s (now %s)", exp.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	for _, name := range []string{"nbf", "iat"} {
		t, ok, err := numericDate(c, name)
		if err != nil {
			return err
		}
		if ok && t.After(now.Add(v.skew)) {
			return fmt.Errorf("not valid yet: %s %s is in the future (now %s)", name, t.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
		}
	}
	return nil
}

func (v *Verifier) principal(c map[string]json.RawMessage) (*Principal, error) {
	p := &Principal{}
	var err error
	if p.Issuer, err = stringClaim(c, "iss"); err != nil {
		return nil, err
	}
	if p.Subject, err = stringClaim(c, "sub"); err != nil {
		return nil, err
	}
	if p.Name, err = firstStringClaim(c, "name", "preferred_username"); err != nil {
		return nil, err
	}
	if p.AppID, err = firstStringClaim(c, "azp", "client_id"); err != nil {
		return nil, err
	}
	if p.Roles, err = stringList(claimAtPath(c, v.rolesPath)); err != nil {
		return nil, fmt.Errorf("roles claim: %w", err)
	}
	if exp, ok, err := numericDate(c, "exp"); err == nil && ok {
		p.Expiry = exp
	}
	scopeClaim := "scope"
	if !present(c, "scope") {
		scopeClaim = "scp" // Entra ID
	}
	if p.Scopes, err = stringList(c[scopeClaim]); err != nil {
		return nil, fmt.Errorf("%s claim: %w", scopeClaim, err)
	}
	if err := p.checkText(); err != nil {
		return nil, err
	}
	return p, nil
}

func present(c map[string]json.RawMessage, name string) bool {
	raw, ok := c[name]
	return ok && string(raw) != "null"
}

// stringClaim returns a string claim; missing or null is "".
func stringClaim(c map[string]json.RawMessage, name string) (string, error) {
	if !present(c, name) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(c[name], &s); err != nil {
		return "", fmt.Errorf("%s claim is not a string", name)
	}
	return s, nil
}

// firstStringClaim returns the first non-empty of the named string claims.
func firstStringClaim(c map[string]json.RawMessage, names ...string) (string, error) {
	for _, n := range names {
		s, err := stringClaim(c, n)
		if err != nil {
			return "", err
		}
		if s != "" {
			return s, nil
		}
	}
	return "", nil
}

// numericDate reads a JWT NumericDate (seconds, possibly fractional).
func numericDate(c map[string]json.RawMessage, name string) (time.Time, bool, error) {
	if !present(c, name) {
		return time.Time{}, false, nil
	}
	var f float64
	if err := json.Unmarshal(c[name], &f); err != nil {
		return time.Time{}, false, fmt.Errorf("%s claim is not a number", name)
	}
	if f < 0 || f > latestNumericDate {
		return time.Time{}, false, fmt.Errorf("%s claim out of range", name)
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)), true, nil
}

// claimAtPath returns the raw claim at a dot path, or nil if absent.
func claimAtPath(c map[string]json.RawMessage, path string) json.RawMessage {
	if raw, ok := c[path]; ok {
		return raw
	}
	parts := strings.Split(path, ".")
	cur := c
	for i, part := range parts {
		raw, ok := cur[part]
		if !ok {
			return nil
		}
		if i == len(parts)-1 {
			return raw
		}
		var next map[string]json.RawMessage
		if err := json.Unmarshal(raw, &next); err != nil {
			return nil // an intermediate that is not an object: treat as missing
		}
		cur = next
	}
	return nil
}

// stringList accepts a JSON array of strings or a space-separated string and
// returns the distinct non-empty values in order (never nil).
func stringList(raw json.RawMessage) ([]string, error) {
	out := []string{}
	if raw == nil || string(raw) == "null" {
		return out, nil
	}
	var items []string
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		items = strings.Fields(s)
	} else if err := json.Unmarshal(raw, &items); err != nil {
		return nil, errors.New("want an array of strings or a space-separated string")
	}
	for _, it := range items {
		if it != "" && !slices.Contains(out, it) {
			out = append(out, it)
		}
	}
	return out, nil
}
