package devissuer

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"

	jose "github.com/go-jose/go-jose/v4"
)

// Keys, the JWKS document and OpenID Connect discovery.

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

func (i *Issuer) serveDiscovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                i.url,
		"authorization_endpoint":                i.endpoint("/authorize"),
		"token_endpoint":                        i.endpoint("/token"),
		"jwks_uri":                              i.endpoint("/jwks"),
		"userinfo_endpoint":                     i.endpoint("/userinfo"),
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token"},
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
