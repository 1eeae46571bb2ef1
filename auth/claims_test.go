package auth_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/waypoint-portal/waypoint/auth"
)

const claimsIssuer = "https://issuer.example"

// claimsSigner signs arbitrary payloads for a static verifier, so tests can
// reach the claims mapping with tokens whose signature is valid.
type claimsSigner struct {
	signer jose.Signer
	v      *auth.Verifier
}

func newClaimsSigner(t testing.TB) *claimsSigner {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithType("at+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	v := auth.NewStaticVerifier(auth.Config{IssuerURL: claimsIssuer, Audience: "waypoint"},
		&oidc.StaticKeySet{PublicKeys: []crypto.PublicKey{&key.PublicKey}}, []string{"ES256"})
	return &claimsSigner{signer: signer, v: v}
}

func (c *claimsSigner) sign(t testing.TB, payload []byte) string {
	jws, err := c.signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// baseClaims is a valid access token's claims; overlay replaces members.
func baseClaims(overlay map[string]any) []byte {
	c := map[string]any{"iss": claimsIssuer, "aud": "waypoint", "sub": "alice",
		"exp": time.Now().Add(time.Hour).Unix(), "scope": "profile:read", "roles": []string{"client"}}
	for k, v := range overlay {
		c[k] = v
	}
	b, _ := json.Marshal(c)
	return b
}

// identifier is what the verifier promises about sub, iss, app id, roles and scopes.
func identifier(s string) bool {
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

// TestUnstorableClaimsAreInvalid: a validly signed token whose identifiers
// carry NUL or other control characters is invalid (sub with NUL used to
// reach the database and answer 500); the display name is only cleaned.
func TestUnstorableClaimsAreInvalid(t *testing.T) {
	cs := newClaimsSigner(t)
	for name, overlay := range map[string]map[string]any{
		"NUL in sub":        {"sub": "alice\x00"},
		"bell in sub":       {"sub": "al\aice"},
		"C1 control in sub": {"sub": "alice\u0085"},
		"NUL in azp":        {"azp": "app\x00"},
		"NUL in client_id":  {"client_id": "\x00"},
		"NUL in a role":     {"roles": []string{"client", "admin\x00"}},
		"NUL in a scope":    {"scope": "profile:read goals:read\x00"},
		"newline in scp":    {"scope": nil, "scp": []string{"profile:read\n"}},
	} {
		_, err := cs.v.Verify(t.Context(), cs.sign(t, baseClaims(overlay)))
		if !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("%s: err %v, want ErrInvalidToken", name, err)
		}
	}
	p, err := cs.v.Verify(t.Context(), cs.sign(t, baseClaims(map[string]any{"name": "Ali\x00ce", "sub": "ålice 🙂"})))
	if err != nil || p.Subject != "ålice 🙂" {
		t.Fatalf("a display name with NUL (cleaned when stored) and a non-ASCII sub are fine: %v %+v", err, p)
	}
}

// FuzzClaims feeds the claims mapping validly signed tokens: fuzzed members
// over a valid claim set (or, when the input is not a JSON object, the raw
// payload). The verifier must never panic, must only fail with
// ErrInvalidToken, and a principal it returns must carry storable identifiers.
func FuzzClaims(f *testing.F) {
	for _, seed := range []string{
		`{}`, `{"sub":"alice\u0000"}`, `{"sub":""}`, `{"sub":123}`, `{"roles":"client admin"}`,
		`{"roles":{"nested":["x"]}}`, `{"scope":["a","b"],"scp":"c"}`, `{"exp":1e308}`, `{"exp":-1}`,
		`{"nbf":"soon"}`, `{"azp":"\ud800"}`, `{"iss":null}`, `{"aud":[]}`, `{"nonce":"n"}`,
		`not json`, `[1,2]`, `{"sub":"a","sub":"b"}`,
	} {
		f.Add([]byte(seed))
	}
	cs := newClaimsSigner(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		payload := data
		var overlay map[string]any
		if json.Unmarshal(data, &overlay) == nil && overlay != nil {
			payload = baseClaims(overlay)
		}
		p, err := cs.v.Verify(t.Context(), cs.sign(t, payload))
		if err != nil {
			if !errors.Is(err, auth.ErrInvalidToken) {
				t.Fatalf("error %v does not wrap ErrInvalidToken", err)
			}
			return
		}
		if p.Subject == "" || p.Issuer != claimsIssuer {
			t.Fatalf("accepted principal without subject or with another issuer: %+v", p)
		}
		ids := append([]string{p.Subject, p.Issuer, p.AppID}, append(p.Roles, p.Scopes...)...)
		for _, s := range ids {
			if !identifier(s) {
				t.Fatalf("accepted principal with unstorable identifier %q: %+v", s, p)
			}
		}
	})
}
