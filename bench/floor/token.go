package floor

import (
	"crypto/rsa"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	jose "github.com/go-jose/go-jose/v4"
)

// The product's verifier limits (auth/verifier.go).
const (
	maxTokenBytes = 32 << 10
	clockSkew     = 30 * time.Second
	maxCached     = 10000
)

var errToken = errors.New("invalid token")

// principal is what a verified token says: the person's key, known roles
// (sorted, as the people table stores them), scopes and app.
type principal struct {
	issuer, subject, name, appID string
	roles                        []string
	rolesJSON                    string
	scopes                       []string
	client, worker, admin        bool
	exp                          time.Time
}

// claims are decoded into one struct (the product decodes a map first).
type claims struct {
	Iss      string          `json:"iss"`
	Sub      string          `json:"sub"`
	Aud      stringList      `json:"aud"`
	Exp      *float64        `json:"exp"`
	Nbf      *float64        `json:"nbf"`
	Iat      *float64        `json:"iat"`
	Nonce    json.RawMessage `json:"nonce"`
	Azp      string          `json:"azp"`
	ClientID string          `json:"client_id"`
	Name     string          `json:"name"`
	Roles    stringList      `json:"roles"`
	Scope    stringList      `json:"scope"`
	Scp      stringList      `json:"scp"`
}

// stringList is a JSON string (space-separated) or array of strings.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*l = strings.Fields(s)
		return nil
	}
	return json.Unmarshal(b, (*[]string)(l))
}

type verifier struct {
	key              *rsa.PublicKey
	issuer, audience string
	// cache, when on, maps the exact token string to its principal until exp.
	cache   bool
	mu      sync.Mutex
	entries map[string]*principal
}

func newVerifier(c Config) *verifier {
	return &verifier{key: c.Key, issuer: c.Issuer, audience: c.Audience, cache: c.TokenCache, entries: map[string]*principal{}}
}

// verify checks what the product checks on every request: compact JWS,
// alg RS256, typ absent or an access-token type, no crit/b64, the RSA
// signature, iss exactly, aud containing ours, exp present and not past
// (30 s skew), nbf and iat not in the future, no nonce (ID tokens), a
// subject.
func (v *verifier) verify(raw string) (*principal, error) {
	now := time.Now()
	if v.cache {
		v.mu.Lock()
		p, ok := v.entries[raw]
		v.mu.Unlock()
		if ok && !now.After(p.exp.Add(clockSkew)) {
			return p, nil
		}
	}
	if raw == "" || len(raw) > maxTokenBytes {
		return nil, errToken
	}
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil || len(jws.Signatures) != 1 {
		return nil, errToken
	}
	h := jws.Signatures[0].Header
	if typ, ok := h.ExtraHeaders[jose.HeaderType]; ok {
		s, _ := typ.(string)
		switch strings.ToLower(s) {
		case "at+jwt", "application/at+jwt", "jwt":
		default:
			return nil, errToken
		}
	}
	if _, ok := h.ExtraHeaders["crit"]; ok {
		return nil, errToken
	}
	if _, ok := h.ExtraHeaders["b64"]; ok {
		return nil, errToken
	}
	payload, err := jws.Verify(v.key)
	if err != nil {
		return nil, errToken
	}
	var c claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, errToken
	}
	p, err := v.check(c, now)
	if err != nil {
		return nil, err
	}
	if v.cache {
		v.mu.Lock()
		if len(v.entries) >= maxCached {
			clear(v.entries)
		}
		v.entries[raw] = p
		v.mu.Unlock()
	}
	return p, nil
}

func (v *verifier) check(c claims, now time.Time) (*principal, error) {
	if c.Iss != v.issuer || !slices.Contains(c.Aud, v.audience) || c.Exp == nil || c.Sub == "" || c.Nonce != nil {
		return nil, errToken
	}
	exp := time.Unix(int64(*c.Exp), 0)
	if now.After(exp.Add(clockSkew)) {
		return nil, errToken
	}
	for _, t := range []*float64{c.Nbf, c.Iat} {
		if t != nil && time.Unix(int64(*t), 0).After(now.Add(clockSkew)) {
			return nil, errToken
		}
	}
	p := &principal{issuer: c.Iss, subject: c.Sub, name: c.Name, appID: c.Azp, scopes: c.Scope, exp: exp}
	if p.appID == "" {
		p.appID = c.ClientID
	}
	// What goes to the database must be storable text (the product checks
	// every claim it keeps; these are the ones the floor keeps).
	if !identifierText(p.subject) || !identifierText(p.appID) {
		return nil, errToken
	}
	if c.Scope == nil {
		p.scopes = c.Scp
	}
	for _, r := range []string{"admin", "client", "directory_editor", "worker"} { // sorted, as stored
		if slices.Contains(c.Roles, r) {
			p.roles = append(p.roles, r)
		}
	}
	p.client, p.worker, p.admin = slices.Contains(p.roles, "client"), slices.Contains(p.roles, "worker"), slices.Contains(p.roles, "admin")
	rj, _ := json.Marshal(append([]string{}, p.roles...))
	p.rolesJSON = string(rj)
	return p, nil
}

// hasScope applies the product's rule that a write scope implies the read
// scope of its family (auth/scopes.go), for the families the floor serves.
func (p *principal) hasScope(want string) bool {
	if slices.Contains(p.scopes, want) {
		return true
	}
	switch want {
	case "goals:read":
		return slices.Contains(p.scopes, "goals:write")
	case "messages:read":
		return slices.Contains(p.scopes, "messages:write")
	}
	return false
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
