package auth_test

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/waypoint-portal/waypoint/auth"
	"github.com/waypoint-portal/waypoint/auth/authtest"
)

func newVerifier(t *testing.T, cfg auth.Config) *auth.Verifier {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	v, err := auth.NewVerifier(ctx, cfg)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}

func allScopes() []string {
	s := make([]string, 0, len(auth.AllScopes))
	for k := range auth.AllScopes {
		s = append(s, k)
	}
	slices.Sort(s)
	return s
}

func TestVerify(t *testing.T) {
	iss := authtest.NewIssuer(t)
	other := authtest.NewIssuer(t) // a real issuer whose key we must not trust
	v := newVerifier(t, iss.Config())
	now := time.Now()
	in := func(d time.Duration) int64 { return now.Add(d).Unix() }

	okPrincipal := func(mut func(p *auth.Principal)) *auth.Principal {
		p := &auth.Principal{
			Issuer: iss.URL, Subject: "alice", Name: "Test alice",
			Roles: []string{auth.RoleClient}, Scopes: allScopes(), AppID: "test-app",
		}
		if mut != nil {
			mut(p)
		}
		return p
	}
	token := func(opts ...authtest.Option) func() string {
		return func() string { return iss.Token(t, "alice", []string{auth.RoleClient}, opts...) }
	}
	header := func() map[string]any {
		return map[string]any{"alg": "RS256", "typ": "at+jwt"}
	}
	claims := func() map[string]any {
		return map[string]any{"iss": iss.URL, "sub": "alice", "aud": authtest.Audience, "exp": in(time.Hour)}
	}
	raw := func(h, c map[string]any) func() string { return func() string { return iss.SignRaw(t, h, c) } }
	with := func(m map[string]any, k string, val any) map[string]any {
		if val == nil {
			delete(m, k)
		} else {
			m[k] = val
		}
		return m
	}
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

	tests := []struct {
		name  string
		token func() string
		want  *auth.Principal // nil: must be rejected with ErrInvalidToken
	}{
		{"valid", token(), okPrincipal(nil)},
		{"expired", token(authtest.WithClaim("exp", in(-2*time.Minute))), nil},
		{"expired within skew accepted", token(authtest.WithClaim("exp", in(-10*time.Second))), okPrincipal(nil)},
		{"nbf and iat 5 min in the future", token(authtest.WithClaim("nbf", in(5*time.Minute)), authtest.WithClaim("iat", in(5*time.Minute))), nil},
		{"nbf 3 min in the future (inside go-oidc's 5 min leeway)", token(authtest.WithClaim("nbf", in(3*time.Minute))), nil},
		{"iat 3 min in the future (go-oidc ignores iat)", token(authtest.WithClaim("iat", in(3*time.Minute))), nil},
		{"nbf and iat within skew accepted", token(authtest.WithClaim("nbf", in(10*time.Second)), authtest.WithClaim("iat", in(10*time.Second))), okPrincipal(nil)},
		{"missing exp", token(authtest.WithClaim("exp", nil)), nil},
		{"exp not a number", token(authtest.WithClaim("exp", "tomorrow")), nil},
		{"wrong issuer", token(authtest.WithClaim("iss", "https://evil.example")), nil},
		{"issuer with trailing slash", token(authtest.WithClaim("iss", iss.URL+"/")), nil},
		{"wrong audience", token(authtest.WithClaim("aud", []string{"some-other-api"})), nil},
		{"audience as string accepted", token(authtest.WithClaim("aud", authtest.Audience)), okPrincipal(nil)},
		{"audience among others accepted", token(authtest.WithClaim("aud", []string{"x", authtest.Audience})), okPrincipal(nil)},
		{"missing aud", token(authtest.WithClaim("aud", nil)), nil},
		{"missing sub", token(authtest.WithClaim("sub", nil)), nil},
		{"empty sub", token(authtest.WithClaim("sub", "")), nil},
		{"alg none", func() string {
			return b64(`{"alg":"none","typ":"at+jwt"}`) + "." + b64(string(mustJSON(t, claims()))) + "."
		}, nil},
		{"alg none signed by SignRaw", raw(with(header(), "alg", "none"), claims()), nil},
		{"HS256 with the public key PEM as secret", raw(with(header(), "alg", "HS256"), claims()), nil},
		{"PS256 not advertised by the provider", raw(with(header(), "alg", "PS256"), claims()), nil},
		{"missing alg", raw(with(header(), "alg", nil), claims()), nil},
		{"unknown kid", token(authtest.WithHeader("kid", "forged")), nil},
		{"no kid: all keys tried", token(authtest.WithHeader("kid", nil)), okPrincipal(nil)},
		{"signed by another issuer's key", func() string {
			return other.SignRaw(t, header(), claims())
		}, nil},
		{"tampered payload", func() string {
			parts := strings.Split(token()(), ".")
			c := claims()
			c["roles"] = []string{auth.RoleAdmin}
			parts[1] = b64(string(mustJSON(t, c)))
			return strings.Join(parts, ".")
		}, nil},
		{"crit header", token(authtest.WithHeader("crit", []string{"exp"}), authtest.WithHeader("exp", 1)), nil},
		{"typ absent accepted", token(authtest.WithHeader("typ", nil)), okPrincipal(nil)},
		{"typ JWT accepted", token(authtest.WithHeader("typ", "JWT")), okPrincipal(nil)},
		{"typ application/at+jwt accepted", token(authtest.WithHeader("typ", "application/at+jwt")), okPrincipal(nil)},
		{"typ AT+JWT accepted (case-insensitive)", token(authtest.WithHeader("typ", "AT+JWT")), okPrincipal(nil)},
		{"typ id+jwt rejected", token(authtest.WithHeader("typ", "id+jwt")), nil},
		{"typ JOSE+JSON rejected", token(authtest.WithHeader("typ", "JOSE+JSON")), nil},
		{"typ JOSE rejected", token(authtest.WithHeader("typ", "JOSE")), nil},
		{"typ logout+jwt rejected", token(authtest.WithHeader("typ", "logout+jwt")), nil},
		{"typ not a string rejected", token(authtest.WithHeader("typ", 1)), nil},
		{"ID token: nonce, aud = client id", token(
			authtest.WithHeader("typ", "JWT"),
			authtest.WithClaim("nonce", "n-0S6_WzA2Mj"),
			authtest.WithClaim("aud", "spa-client"),
			authtest.WithClaim("azp", "spa-client"),
		), nil},
		{"ID token whose aud is our audience (nonce present)", token(
			authtest.WithHeader("typ", "JWT"),
			authtest.WithClaim("nonce", "n-0S6_WzA2Mj"),
		), nil},
		{"empty string", func() string { return "" }, nil},
		{"abc", func() string { return "abc" }, nil},
		{"a.b", func() string { return "a.b" }, nil},
		{"a.b.c", func() string { return "a.b.c" }, nil},
		{"four parts", func() string { return token()() + ".x" }, nil},
		{"garbage base64", func() string { return "!!!.@@@.###" }, nil},
		{"padded base64", func() string {
			parts := strings.Split(token()(), ".")
			return parts[0] + "==." + parts[1] + "." + parts[2]
		}, nil},
		{"header not JSON", func() string { return b64("not json") + "." + b64("{}") + ".c2ln" }, nil},
		{"JWS JSON serialization", func() string {
			parts := strings.Split(token()(), ".")
			return string(mustJSON(t, map[string]any{"protected": parts[0], "payload": parts[1], "signature": parts[2]}))
		}, nil},
		{"surrounding whitespace", func() string { return " " + token()() + "\n" }, nil},
		{"too large", token(authtest.WithClaim("pad", strings.Repeat("x", 40<<10))), nil},
		{"name from preferred_username", token(authtest.WithClaim("name", nil), authtest.WithClaim("preferred_username", "al")),
			okPrincipal(func(p *auth.Principal) { p.Name = "al" })},
		{"no name", token(authtest.WithClaim("name", nil)), okPrincipal(func(p *auth.Principal) { p.Name = "" })},
		{"roles missing", token(authtest.WithClaim("roles", nil)), okPrincipal(func(p *auth.Principal) { p.Roles = []string{} })},
		{"roles as space-separated string", token(authtest.WithClaim("roles", "worker admin")),
			okPrincipal(func(p *auth.Principal) { p.Roles = []string{auth.RoleWorker, auth.RoleAdmin} })},
		{"roles of the wrong type", token(authtest.WithClaim("roles", 7)), nil},
		{"scopes from WithScopes", token(authtest.WithScopes("goals:read", "profile:read")),
			okPrincipal(func(p *auth.Principal) { p.Scopes = []string{"goals:read", "profile:read"} })},
		{"scopes from scp array", token(authtest.WithClaim("scope", nil), authtest.WithClaim("scp", []string{"goals:read", "messages:read"})),
			okPrincipal(func(p *auth.Principal) { p.Scopes = []string{"goals:read", "messages:read"} })},
		{"scopes from scp string", token(authtest.WithClaim("scope", nil), authtest.WithClaim("scp", "goals:read messages:read")),
			okPrincipal(func(p *auth.Principal) { p.Scopes = []string{"goals:read", "messages:read"} })},
		{"no scopes", token(authtest.WithClaim("scope", nil)), okPrincipal(func(p *auth.Principal) { p.Scopes = []string{} })},
		{"app id from client_id", token(authtest.WithClaim("azp", nil), authtest.WithClaim("client_id", "partner-app")),
			okPrincipal(func(p *auth.Principal) { p.AppID = "partner-app" })},
		{"azp wins over client_id", token(authtest.WithClaim("client_id", "partner-app")), okPrincipal(nil)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw := tc.token()
			p, err := v.Verify(context.Background(), raw)
			if tc.want == nil {
				if !errors.Is(err, auth.ErrInvalidToken) {
					t.Fatalf("want ErrInvalidToken, got principal %+v, err %v", p, err)
				}
				if p != nil {
					t.Fatalf("rejected token returned a principal: %+v", p)
				}
				if raw != "" && strings.Contains(err.Error(), raw) {
					t.Fatalf("error text contains the token: %v", err)
				}
				t.Logf("rejected: %v", err)
				return
			}
			if err != nil {
				t.Fatalf("want acceptance, got %v", err)
			}
			// Expiry is the token's exp; the table's tokens expire within the next day.
			if p.Expiry.IsZero() || time.Until(p.Expiry) > 25*time.Hour || time.Until(p.Expiry) < -time.Minute {
				t.Fatalf("expiry %v not taken from exp", p.Expiry)
			}
			p.Expiry = time.Time{}
			// TokenHash is the SHA-256 of the exact token accepted.
			if p.TokenHash != sha256.Sum256([]byte(raw)) {
				t.Fatalf("token hash %x is not the token's", p.TokenHash)
			}
			p.TokenHash = [sha256.Size]byte{}
			if !reflect.DeepEqual(p, tc.want) {
				t.Fatalf("principal\n got %+v\nwant %+v", p, tc.want)
			}
		})
	}
	if n := iss.JWKSFetches(); n != 1 {
		t.Errorf("JWKS fetched %d times for %d tokens of one key; want 1 (cache)", n, len(tests))
	}
	if n := other.JWKSFetches(); n != 0 {
		t.Errorf("other issuer's JWKS fetched %d times", n)
	}
}

func TestVerifyNestedRolesClaim(t *testing.T) {
	iss := authtest.NewIssuer(t)
	cfg := iss.Config()
	cfg.RolesClaim = "realm_access.roles"
	v := newVerifier(t, cfg)

	tok := iss.Token(t, "bob", nil, authtest.WithClaim("realm_access", map[string]any{
		"roles": []string{auth.RoleWorker, "offline_access"},
	}))
	p, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{auth.RoleWorker, "offline_access"}; !reflect.DeepEqual(p.Roles, want) {
		t.Fatalf("roles %v, want %v", p.Roles, want)
	}

	// A top-level "roles" claim must not be picked up when the path says otherwise.
	tok = iss.Token(t, "bob", []string{auth.RoleAdmin})
	if p, err = v.Verify(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	if len(p.Roles) != 0 {
		t.Fatalf("roles %v, want none", p.Roles)
	}

	// Auth0-style claim names are URLs that contain dots: the literal name wins.
	cfg.RolesClaim = "https://waypoint.example/roles"
	v = newVerifier(t, cfg)
	tok = iss.Token(t, "bob", nil, authtest.WithClaim("https://waypoint.example/roles", []string{auth.RoleAdmin}))
	if p, err = v.Verify(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	if want := []string{auth.RoleAdmin}; !reflect.DeepEqual(p.Roles, want) {
		t.Fatalf("roles %v, want %v", p.Roles, want)
	}
}

func TestClockSkewIsClamped(t *testing.T) {
	iss := authtest.NewIssuer(t)
	cfg := iss.Config()
	cfg.ClockSkew = 10 * time.Minute // clamped to 60s
	v := newVerifier(t, cfg)

	tok := iss.Token(t, "alice", nil, authtest.WithClaim("exp", time.Now().Add(-2*time.Minute).Unix()))
	if _, err := v.Verify(context.Background(), tok); !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("token expired 2 min ago with skew clamped to 60s: want ErrInvalidToken, got %v", err)
	}
	tok = iss.Token(t, "alice", nil, authtest.WithClaim("exp", time.Now().Add(-45*time.Second).Unix()))
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatalf("token expired 45s ago with 60s skew: %v", err)
	}
}

func TestNewVerifierConfig(t *testing.T) {
	iss := authtest.NewIssuer(t)
	ctx := context.Background()

	cfg := iss.Config()
	cfg.Audience = ""
	if _, err := auth.NewVerifier(ctx, cfg); err == nil {
		t.Error("empty Audience accepted")
	}
	cfg = iss.Config()
	cfg.IssuerURL = ""
	if _, err := auth.NewVerifier(ctx, cfg); err == nil {
		t.Error("empty IssuerURL accepted")
	}
	// Discovery must report exactly the configured issuer.
	cfg = iss.Config()
	cfg.IssuerURL = iss.URL + "/"
	if _, err := auth.NewVerifier(ctx, cfg); err == nil {
		t.Error("issuer mismatch in discovery accepted")
	}
	// Discovery is bounded by ctx.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := auth.NewVerifier(cctx, iss.Config()); err == nil {
		t.Error("discovery with a cancelled context succeeded")
	}
}

func TestStaticVerifier(t *testing.T) {
	iss := authtest.NewIssuer(t)
	block, _ := pem.Decode(iss.RSAPublicKeyPEM())
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	// HS256 in the list must be dropped, not honoured.
	v := auth.NewStaticVerifier(iss.Config(), &oidc.StaticKeySet{PublicKeys: []crypto.PublicKey{pub}}, []string{"RS256", "HS256"})

	p, err := v.Verify(context.Background(), iss.Token(t, "carol", []string{auth.RoleWorker}))
	if err != nil {
		t.Fatal(err)
	}
	if p.Subject != "carol" || !p.HasRole(auth.RoleWorker) {
		t.Fatalf("principal %+v", p)
	}
	for _, alg := range []string{"HS256", "none"} {
		tok := iss.Token(t, "carol", nil, authtest.WithHeader("alg", alg))
		if _, err := v.Verify(context.Background(), tok); !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("alg %s: want ErrInvalidToken, got %v", alg, err)
		}
	}
	if n := iss.JWKSFetches(); n != 0 {
		t.Errorf("static verifier fetched the JWKS %d times", n)
	}

	defer func() {
		if recover() == nil {
			t.Error("NewStaticVerifier without audience did not panic")
		}
	}()
	cfg := iss.Config()
	cfg.Audience = ""
	auth.NewStaticVerifier(cfg, &oidc.StaticKeySet{PublicKeys: []crypto.PublicKey{pub}}, nil)
}

// verifyConcurrently verifies tokens from several goroutines and returns the errors.
func verifyConcurrently(v *auth.Verifier, tokens []string) []error {
	errs := make([]error, len(tokens))
	var wg sync.WaitGroup
	const workers = 8
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(tokens); i += workers {
				_, errs[i] = v.Verify(context.Background(), tokens[i])
			}
		})
	}
	wg.Wait()
	return errs
}

func forgedKidTokens(t *testing.T, iss *authtest.Issuer, n int) []string {
	tokens := make([]string, n)
	for i := range tokens {
		tokens[i] = iss.Token(t, "mallory", nil, authtest.WithHeader("kid", fmt.Sprintf("forged-%d-%d", i, time.Now().UnixNano())))
	}
	return tokens
}

func TestForgedKidsAreRateLimited(t *testing.T) {
	for _, warm := range []bool{true, false} {
		t.Run(fmt.Sprintf("warm cache %v", warm), func(t *testing.T) {
			iss := authtest.NewIssuer(t)
			v := newVerifier(t, iss.Config()) // default 30s cooldown
			good := iss.Token(t, "alice", nil)
			if warm {
				if _, err := v.Verify(context.Background(), good); err != nil {
					t.Fatal(err)
				}
			}
			for i, err := range verifyConcurrently(v, forgedKidTokens(t, iss, 100)) {
				if !errors.Is(err, auth.ErrInvalidToken) {
					t.Fatalf("forged token %d: want ErrInvalidToken, got %v", i, err)
				}
			}
			n := iss.JWKSFetches()
			if n > 2 {
				t.Fatalf("100 forged kids caused %d JWKS fetches; want at most 2", n)
			}
			t.Logf("JWKS fetches: %d", n)
			// Known kids keep verifying from the cache.
			for range 5 {
				if _, err := v.Verify(context.Background(), good); err != nil {
					t.Fatal(err)
				}
			}
			if m := iss.JWKSFetches(); m != n {
				t.Fatalf("valid tokens after the flood fetched the JWKS again (%d -> %d)", n, m)
			}
		})
	}
}

func TestKeyRotation(t *testing.T) {
	iss := authtest.NewIssuer(t)
	cfg := iss.Config()
	cfg.JWKSCooldown = 50 * time.Millisecond
	v := newVerifier(t, cfg)
	ctx := context.Background()

	oldTok := iss.Token(t, "alice", nil)
	if _, err := v.Verify(ctx, oldTok); err != nil {
		t.Fatal(err)
	}
	if n := iss.JWKSFetches(); n != 1 {
		t.Fatalf("fetches = %d, want 1", n)
	}

	iss.RotateKey(t)
	newTok := iss.Token(t, "alice", nil)
	time.Sleep(100 * time.Millisecond) // wait out the cooldown
	if _, err := v.Verify(ctx, newTok); err != nil {
		t.Fatalf("token signed with the rotated key: %v", err)
	}
	if n := iss.JWKSFetches(); n != 2 {
		t.Fatalf("fetches = %d, want 2 (one refresh for the new kid)", n)
	}
	// The refresh replaced the cache: the removed key no longer verifies.
	if _, err := v.Verify(ctx, oldTok); !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("token signed with the removed key: want ErrInvalidToken, got %v", err)
	}
}

// hangingIssuer serves discovery normally and a JWKS endpoint that never answers.
func hangingIssuer(t *testing.T) string {
	release := make(chan struct{})
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs first: unblocks handlers so Close returns
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"issuer":%q,"jwks_uri":%q,"id_token_signing_alg_values_supported":["RS256"]}`, srv.URL, srv.URL+"/jwks")
	})
	mux.HandleFunc("GET /jwks", func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	return srv.URL
}

func TestJWKSFetchIsBounded(t *testing.T) {
	signer := authtest.NewIssuer(t)
	hangURL := hangingIssuer(t)
	tok := signer.Token(t, "alice", nil, authtest.WithClaim("iss", hangURL))

	t.Run("client timeout", func(t *testing.T) {
		const timeout = 200 * time.Millisecond
		v := newVerifier(t, auth.Config{IssuerURL: hangURL, Audience: authtest.Audience, HTTPClient: &http.Client{Timeout: timeout}})
		start := time.Now()
		_, err := v.Verify(context.Background(), tok)
		elapsed := time.Since(start)
		if !errors.Is(err, auth.ErrKeysUnavailable) || errors.Is(err, auth.ErrInvalidToken) {
			t.Fatalf("want ErrKeysUnavailable (not ErrInvalidToken), got %v", err)
		}
		if elapsed > timeout+2*time.Second {
			t.Fatalf("Verify took %v with a %v client timeout", elapsed, timeout)
		}
		// Within the cooldown the failure is remembered, not retried.
		start = time.Now()
		if _, err := v.Verify(context.Background(), tok); !errors.Is(err, auth.ErrKeysUnavailable) {
			t.Fatalf("second call: want ErrKeysUnavailable, got %v", err)
		}
		if d := time.Since(start); d > timeout/2 {
			t.Fatalf("second call took %v; the failed fetch should not be retried within the cooldown", d)
		}
	})
	t.Run("caller context", func(t *testing.T) {
		v := newVerifier(t, auth.Config{IssuerURL: hangURL, Audience: authtest.Audience, HTTPClient: &http.Client{Timeout: time.Minute}})
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := v.Verify(ctx, tok)
		if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, auth.ErrKeysUnavailable) {
			t.Fatalf("want ErrKeysUnavailable wrapping DeadlineExceeded, got %v", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("Verify took %v with a 100ms context", d)
		}
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
