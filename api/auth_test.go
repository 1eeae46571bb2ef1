package api_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waypoint-portal/waypoint/api/apitest"
	"github.com/waypoint-portal/waypoint/auth/authtest"
)

func countPeople(t *testing.T, e *apitest.Env) int64 {
	t.Helper()
	var n int64
	if err := e.DB.Raw(`SELECT count(*) FROM people`).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func b64(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Every rejected token is a 401 problem with the RFC 6750 challenge, and
// nobody is provisioned from it.
func TestTokenRejections(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	iss := e.Issuer
	other := authtest.NewIssuer(t)
	now := time.Now()
	roles := []string{"client"}

	hs256 := func() string {
		h := b64(map[string]any{"alg": "HS256", "typ": "at+jwt"})
		c := b64(map[string]any{"iss": iss.URL, "sub": "mallory", "aud": []string{authtest.Audience},
			"exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "scope": "profile:read"})
		mac := hmac.New(sha256.New, iss.RSAPublicKeyPEM())
		mac.Write([]byte(h + "." + c))
		return h + "." + c + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	}
	none := func() string {
		h := b64(map[string]any{"alg": "none", "typ": "at+jwt"})
		c := b64(map[string]any{"iss": iss.URL, "sub": "mallory", "aud": []string{authtest.Audience},
			"exp": now.Add(time.Hour).Unix(), "scope": "profile:read"})
		return h + "." + c + "."
	}
	cases := map[string]string{
		"expired":             iss.Token(t, "mallory", roles, authtest.WithClaim("exp", now.Add(-5*time.Minute).Unix())),
		"not yet valid":       iss.Token(t, "mallory", roles, authtest.WithClaim("nbf", now.Add(10*time.Minute).Unix()), authtest.WithClaim("iat", now.Add(10*time.Minute).Unix())),
		"wrong issuer":        other.Token(t, "mallory", roles),
		"wrong audience":      iss.Token(t, "mallory", roles, authtest.WithClaim("aud", []string{"another-api"})),
		"alg none":            none(),
		"hs256 with pub key":  hs256(),
		"unknown kid":         iss.Token(t, "mallory", roles, authtest.WithHeader("kid", "forged-kid")),
		"id token":            iss.Token(t, "mallory", roles, authtest.WithHeader("typ", "JWT"), authtest.WithClaim("nonce", "n-0S6_WzA2Mj"), authtest.WithClaim("aud", "spa-client-id")),
		"id token typ":        iss.Token(t, "mallory", roles, authtest.WithHeader("typ", "id_token+jwt")),
		"malformed":           "not-a-jwt",
		"garbage three parts": "a.b.c",
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			r := e.Do(http.MethodGet, "/v1/me", tok, nil)
			r.Problem(t, http.StatusUnauthorized)
			if h := r.Header.Get("WWW-Authenticate"); !strings.Contains(h, `error="invalid_token"`) {
				t.Fatalf("WWW-Authenticate %q lacks invalid_token", h)
			}
		})
	}
	for name, hdr := range map[string]string{"no scheme": "abc", "basic": "Basic YWxpY2U6cHc=", "empty bearer": "Bearer "} {
		t.Run(name, func(t *testing.T) {
			r := e.Do(http.MethodGet, "/v1/me", "", nil, "Authorization", hdr)
			r.Problem(t, http.StatusUnauthorized)
			if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("missing Bearer challenge: %q", r.Header.Get("WWW-Authenticate"))
			}
		})
	}
	if n := countPeople(t, e); n != 0 {
		t.Fatalf("%d people provisioned from rejected tokens", n)
	}
}

func TestInsufficientScope(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	tok := e.Issuer.Token(t, "alice", []string{"client"}, authtest.WithScopes("goals:read"))
	r := e.Do(http.MethodGet, "/v1/me", tok, nil)
	r.Problem(t, http.StatusForbidden)
	h := r.Header.Get("WWW-Authenticate")
	if !strings.Contains(h, `error="insufficient_scope"`) || !strings.Contains(h, "profile:read") {
		t.Fatalf("WWW-Authenticate %q", h)
	}
	// scp as an array (Entra ID style) carries scopes too.
	tok = e.Issuer.Token(t, "alice", []string{"client"}, authtest.WithClaim("scope", nil), authtest.WithClaim("scp", []string{"profile:read"}))
	e.Do(http.MethodGet, "/v1/me", tok, nil).Want(t, http.StatusOK)
}

func TestNestedRolesClaim(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	// The default env reads "roles"; a Keycloak-style token carries them nested
	// and the top-level claim absent: the person gets no roles, hence no client record.
	tok := e.Issuer.Token(t, "kc-user", nil, authtest.WithClaim("realm_access", map[string]any{"roles": []string{"client"}}))
	m := e.Do(http.MethodGet, "/v1/me", tok, nil).Want(t, http.StatusOK).Map(t)
	if _, ok := m["client_id"]; ok || len(m["roles"].([]any)) != 0 {
		t.Fatalf("roles leaked from a claim that is not configured: %v", m)
	}
}

func TestProvisioningRefreshesRoles(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	w := e.Login("sam", "worker")
	if w.ClientID.String() != "00000000-0000-0000-0000-000000000000" {
		t.Fatalf("worker got a client record")
	}
	c := e.Login("sam", "worker", "client")
	if c.PersonID != w.PersonID {
		t.Fatalf("same subject became two people: %s vs %s", c.PersonID, w.PersonID)
	}
	m := e.Do(http.MethodGet, "/v1/me", c.Token, nil).Want(t, http.StatusOK).Map(t)
	if m["client_id"] == nil || len(m["roles"].([]any)) != 2 {
		t.Fatalf("roles not refreshed: %v", m)
	}
	if n := countPeople(t, e); n != 1 {
		t.Fatalf("people = %d, want 1", n)
	}
}

// A phone that fires several requests at sign-in must not create two people.
func TestConcurrentFirstRequests(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	tok := e.Issuer.Token(t, "carol", []string{"client"})
	var wg sync.WaitGroup
	codes := make([]int, 20)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = e.Do(http.MethodGet, "/v1/me", tok, nil).Status
		}()
	}
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusOK {
			t.Fatalf("request %d: %d", i, c)
		}
	}
	var people, clients int64
	e.DB.Raw(`SELECT count(*) FROM people`).Scan(&people)
	e.DB.Raw(`SELECT count(*) FROM clients`).Scan(&clients)
	if people != 1 || clients != 1 {
		t.Fatalf("people=%d clients=%d, want 1 and 1", people, clients)
	}
}
