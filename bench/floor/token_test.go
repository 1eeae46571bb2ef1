package floor

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/waypoint-portal/waypoint/auth"
	"github.com/waypoint-portal/waypoint/auth/authtest"
)

// The floor must refuse every token the product refuses (and accept the
// ones it accepts), or its figures would be for less work.
func TestVerifierAgreesWithTheProduct(t *testing.T) {
	iss := authtest.NewIssuer(t)
	other := authtest.NewIssuer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	product, err := auth.NewVerifier(ctx, iss.Config())
	if err != nil {
		t.Fatal(err)
	}
	floor := newVerifier(Config{Key: publicKey(t, iss), Issuer: iss.URL, Audience: authtest.Audience})
	in := func(d time.Duration) int64 { return time.Now().Add(d).Unix() }
	tok := func(opts ...authtest.Option) string {
		return iss.Token(t, "alice", []string{"client", "guest"}, opts...)
	}
	claims := map[string]any{"iss": iss.URL, "sub": "alice", "aud": authtest.Audience, "exp": in(time.Hour)}
	parts := strings.Split(tok(), ".")
	tokens := map[string]string{
		"valid":                        tok(),
		"worker and admin":             iss.Token(t, "wanda", []string{"worker", "admin"}),
		"no roles":                     iss.Token(t, "nobody", nil),
		"scopes":                       tok(authtest.WithScopes("goals:write", "messages:read")),
		"expired":                      tok(authtest.WithClaim("exp", in(-2*time.Minute))),
		"expired within skew":          tok(authtest.WithClaim("exp", in(-10*time.Second))),
		"nbf in the future":            tok(authtest.WithClaim("nbf", in(3*time.Minute))),
		"iat in the future":            tok(authtest.WithClaim("iat", in(3*time.Minute))),
		"missing exp":                  tok(authtest.WithClaim("exp", nil)),
		"exp not a number":             tok(authtest.WithClaim("exp", "tomorrow")),
		"wrong issuer":                 tok(authtest.WithClaim("iss", "https://evil.example")),
		"wrong audience":               tok(authtest.WithClaim("aud", []string{"other-api"})),
		"audience as a string":         tok(authtest.WithClaim("aud", authtest.Audience)),
		"missing sub":                  tok(authtest.WithClaim("sub", nil)),
		"nonce (an ID token)":          tok(authtest.WithClaim("nonce", "n")),
		"typ id+jwt":                   tok(authtest.WithHeader("typ", "id+jwt")),
		"typ JWT":                      tok(authtest.WithHeader("typ", "JWT")),
		"crit header":                  tok(authtest.WithHeader("crit", []string{"exp"})),
		"alg none":                     iss.SignRaw(t, map[string]any{"alg": "none"}, claims),
		"HS256 with the public key":    iss.SignRaw(t, map[string]any{"alg": "HS256"}, claims),
		"PS256":                        iss.SignRaw(t, map[string]any{"alg": "PS256"}, claims),
		"another issuer's key":         other.SignRaw(t, map[string]any{"alg": "RS256"}, claims),
		"tampered payload":             parts[0] + "." + parts[0] + "." + parts[2],
		"sub with a control char":      tok(authtest.WithClaim("sub", "al\x00ice")),
		"scp instead of scope":         tok(authtest.WithClaim("scope", nil), authtest.WithClaim("scp", []string{"goals:read"})),
		"client_id instead of azp":     tok(authtest.WithClaim("azp", nil), authtest.WithClaim("client_id", "an-app")),
		"two signatures (JSON serial)": `{"payload":"e30","signatures":[]}`,
	}
	for name, raw := range tokens {
		p, perr := product.Verify(ctx, raw)
		f, ferr := floor.verify(raw)
		if (perr == nil) != (ferr == nil) {
			t.Errorf("%s: product error %v, floor error %v", name, perr, ferr)
			continue
		}
		if perr != nil {
			continue
		}
		known := []string{}
		for _, r := range []string{"admin", "client", "directory_editor", "worker"} {
			if slices.Contains(p.Roles, r) {
				known = append(known, r)
			}
		}
		if f.subject != p.Subject || f.appID != p.AppID || !slices.Equal(f.roles, known) || !slices.Equal(f.scopes, p.Scopes) {
			t.Errorf("%s: floor %+v, product %+v", name, f, p)
		}
	}
}

// A cached token is served from the cache until its exp (plus the skew the
// product allows), and verified again after.
func TestTokenCacheEndsAtExp(t *testing.T) {
	iss := authtest.NewIssuer(t)
	v := newVerifier(Config{Key: publicKey(t, iss), Issuer: iss.URL, Audience: authtest.Audience, TokenCache: true})
	raw := iss.Token(t, "alice", []string{"client"})
	p, err := v.verify(raw)
	if err != nil {
		t.Fatal(err)
	}
	p.exp = time.Now().Add(-clockSkew / 2) // expired, within the skew
	if q, err := v.verify(raw); err != nil || q != p {
		t.Fatalf("within exp + skew: got %p, %v; want the cached %p", q, err, p)
	}
	p.exp = time.Now().Add(-clockSkew - time.Second)
	if q, err := v.verify(raw); err != nil || q == p {
		t.Fatalf("past exp + skew: got %p, %v; want a fresh verification", q, err)
	}
	v2 := newVerifier(Config{Key: publicKey(t, iss), Issuer: iss.URL, Audience: authtest.Audience})
	a, _ := v2.verify(raw)
	b, _ := v2.verify(raw)
	if a == nil || a == b {
		t.Fatal("without the cache every request must be verified")
	}
}

func publicKey(t *testing.T, iss *authtest.Issuer) *rsa.PublicKey {
	t.Helper()
	b, _ := pem.Decode(iss.RSAPublicKeyPEM())
	if b == nil {
		t.Fatal("no PEM")
	}
	k, err := x509.ParsePKIXPublicKey(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(*rsa.PublicKey)
}
