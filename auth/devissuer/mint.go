package devissuer

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// The JWTs the issuer signs (access tokens, ID tokens, authorization codes),
// how they are signed and checked, and Mint for the CLI.

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

// refreshClaims is a refresh token: who signed in, for which app and scopes.
// Like codes it is stateless (signed, not stored), so it cannot be revoked
// before it expires: acceptable in dev only.
type refreshClaims struct {
	Issuer   string   `json:"iss"`
	Audience []string `json:"aud"`
	Subject  string   `json:"sub"`
	Name     string   `json:"name,omitempty"`
	Roles    []string `json:"roles"`
	Scope    string   `json:"scope"`
	ClientID string   `json:"client_id"`
	IssuedAt int64    `json:"iat"`
	Expiry   int64    `json:"exp"`
	ID       string   `json:"jti"`
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
		clientID = DefaultClientID
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
