package devissuer

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LocalHost:8080": true, "127.0.0.1": true, "127.0.0.1:8080": true,
		"127.9.8.7:1": true, "[::1]": true, "[::1]:8080": true, "localhost:": true,
		"evil.example": false, "evil.example:8080": false, "localhost.evil.example": false,
		"localhost.": false, "app.localhost:8080": false, "127.0.0.1.nip.io": false, "10.0.0.1:8080": false,
		"0.0.0.0:8080": false, "[fe80::1%25lo]:8080": false, "": false, "[::2]:8080": false,
	} {
		if got := LoopbackHost(host); got != want {
			t.Errorf("LoopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}

// rebound sends req as a page whose DNS name was rebound to 127.0.0.1 would:
// same connection, foreign Host.
func (e *env) rebound(t *testing.T, method, path string, form url.Values, hdr http.Header) (*http.Response, string) {
	t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req, err := http.NewRequest(method, e.iss.URL()+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "evil.example:8080"
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	return e.do(t, req)
}

func TestRefusesForeignHost(t *testing.T) {
	e := newEnv(t)
	verifier, challenge := pkce()
	params := authParams(challenge)
	_, page := e.get(t, "/authorize", params, nil)
	validForm := merge(params, url.Values{"persona": {"adam"}, "csrf_token": {formToken(t, page)}})
	code := e.authorize(t, params, url.Values{"persona": {"adam"}})
	access, err := e.iss.Mint(TokenRequest{Subject: "adam", Roles: []string{"admin"}})
	if err != nil {
		t.Fatal(err)
	}
	bearer := http.Header{"Authorization": {"Bearer " + access}}
	preflight := http.Header{"Origin": {"http://evil.example:8080"}, "Access-Control-Request-Method": {"POST"}}
	for _, c := range []struct {
		name, method, path string
		form               url.Values
		hdr                http.Header
	}{
		{"discovery", http.MethodGet, "/.well-known/openid-configuration", nil, nil},
		{"jwks", http.MethodGet, "/jwks", nil, nil},
		{"persona page", http.MethodGet, "/authorize?" + params.Encode(), nil, nil},
		{"persona form with a valid token", http.MethodPost, "/authorize", validForm, nil},
		{"token exchange", http.MethodPost, "/token", tokenForm(code, verifier), nil},
		{"token preflight", http.MethodOptions, "/token", nil, preflight},
		{"userinfo", http.MethodGet, "/userinfo", nil, bearer},
		{"unknown route", http.MethodGet, "/nope", nil, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, body := e.rebound(t, c.method, c.path, c.form, c.hdr)
			if resp.StatusCode != http.StatusMisdirectedRequest || resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("status %d %q, want 421 problem+json: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
			var p struct {
				Status int    `json:"status"`
				Detail string `json:"detail"`
			}
			if err := json.Unmarshal([]byte(body), &p); err != nil || p.Status != http.StatusMisdirectedRequest || p.Detail == "" {
				t.Fatalf("problem %s (%v)", body, err)
			}
			for _, h := range []string{"Location", "Access-Control-Allow-Origin"} {
				if v := resp.Header.Get(h); v != "" {
					t.Errorf("refused response carries %s: %q", h, v)
				}
			}
			if strings.Contains(body, "access_token") || strings.Contains(body, "csrf_token") || strings.Contains(body, `"keys"`) {
				t.Errorf("refused response leaks: %s", body)
			}
		})
	}
}

// crossSitePost posts form to /authorize with the given browser headers.
func (e *env) crossSitePost(t *testing.T, form url.Values, hdr http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.iss.URL()+"/authorize", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range hdr {
		req.Header[k] = v
	}
	return e.do(t, req)
}

func TestPersonaFormRefusesCrossSitePosts(t *testing.T) {
	e := newEnv(t)
	_, challenge := pkce()
	params := authParams(challenge)
	_, page := e.get(t, "/authorize", params, nil)
	good := formToken(t, page)
	other := authParams(challenge)
	other.Set("state", "another-state")
	_, otherPage := e.get(t, "/authorize", other, nil)
	narrow := merge(params, url.Values{"scope": {"services:read"}})
	_, narrowPage := e.get(t, "/authorize", narrow, nil)
	forger, err := New(e.iss.URL(), testAudience, mustKey(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	forgedToken := forger.csrfToken(mustParse(t, forger, params))
	raw, _ := base64.RawURLEncoding.DecodeString(good)
	raw[len(raw)-1] ^= 1
	tampered := base64.RawURLEncoding.EncodeToString(raw)
	sameOrigin := http.Header{"Origin": {e.srv.URL}, "Sec-Fetch-Site": {"same-origin"}}

	cases := []struct {
		name  string
		form  url.Values
		hdr   http.Header
		token []string
	}{
		{"no token, no browser headers", params, nil, nil},
		{"no token, same-origin headers", params, sameOrigin, nil},
		{"empty token", params, sameOrigin, []string{""}},
		{"token of another request (state)", params, sameOrigin, []string{formToken(t, otherPage)}},
		{"token of a narrower scope, post asks for all", params, sameOrigin, []string{formToken(t, narrowPage)}},
		{"tampered token", params, sameOrigin, []string{tampered}},
		{"token from another signing key", params, sameOrigin, []string{forgedToken}},
		{"repeated token", params, sameOrigin, []string{good, good}},
		{"valid token, Sec-Fetch-Site cross-site", params, http.Header{"Sec-Fetch-Site": {"cross-site"}}, []string{good}},
		{"valid token, Sec-Fetch-Site same-site", params, http.Header{"Sec-Fetch-Site": {"same-site"}}, []string{good}},
		{"valid token, foreign Origin", params, http.Header{"Origin": {"http://evil.example"}}, []string{good}},
		{"valid token, Origin null", params, http.Header{"Origin": {"null"}}, []string{good}},
		{"valid token, other loopback port", params, http.Header{"Origin": {"http://127.0.0.1:1"}}, []string{good}},
	}
	for _, c := range cases {
		for _, choice := range []url.Values{{"persona": {"adam"}}, {"subject": {"mallory"}, "role": {"admin"}}, {"deny": {"1"}}} {
			form := merge(c.form, choice)
			if c.token != nil {
				form["csrf_token"] = c.token
			}
			resp, body := e.crossSitePost(t, form, c.hdr)
			if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Location") != "" ||
				!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
				loc, _, _ := strings.Cut(resp.Header.Get("Location"), "?")
				t.Errorf("%s %v: %d redirect to %q, want 403 page and no redirect", c.name, choice, resp.StatusCode, loc)
			}
			if strings.Contains(body, "code=") {
				t.Errorf("%s: refused page carries a code", c.name)
			}
		}
	}

	// The same token on the page's own post works, and is not single-use
	// (the code is what the app redeems); after its lifetime it is refused.
	ok := merge(params, url.Values{"persona": {"adam"}, "csrf_token": {good}})
	if resp, body := e.crossSitePost(t, ok, sameOrigin); resp.StatusCode != http.StatusFound {
		t.Fatalf("own form: %d %s", resp.StatusCode, errorMessage(body))
	}
	e.clock.Advance(csrfTTL)
	resp, body := e.crossSitePost(t, ok, sameOrigin)
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Location") != "" || !strings.Contains(body, "expired") {
		t.Fatalf("expired form: %d %s", resp.StatusCode, errorMessage(body))
	}
}

func mustKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustParse(t *testing.T, iss *Issuer, v url.Values) *authRequest {
	t.Helper()
	ar, err := iss.parseAuthRequest(v)
	if err != nil {
		t.Fatal(err)
	}
	return ar
}

// A second process sharing the signing key accepts the first one's page,
// as it accepts its codes: nothing about the form lives in memory.
func TestFormTokenAcrossProcesses(t *testing.T) {
	e := newEnv(t)
	_, challenge := pkce()
	params := authParams(challenge)
	replica, err := New(e.iss.URL(), testAudience, key(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	replica.now = func() time.Time { return e.clock.Now() }
	tok := replica.csrfToken(mustParse(t, replica, params))
	resp, body := e.crossSitePost(t, merge(params, url.Values{"persona": {"bob"}, "csrf_token": {tok}}),
		http.Header{"Sec-Fetch-Site": {"same-origin"}})
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("replica's form: %d %s", resp.StatusCode, errorMessage(body))
	}
}

// The persona page is a navigation, never a CORS resource: another origin
// must not be able to fetch it and read its form token.
func TestPersonaPageHasNoCORS(t *testing.T) {
	e := newEnv(t)
	_, challenge := pkce()
	resp, _ := e.get(t, "/authorize", authParams(challenge), http.Header{"Origin": {"http://evil.example"}})
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("GET authorize: %d ACAO=%q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
	if rp := resp.Header.Get("Referrer-Policy"); rp != "same-origin" {
		t.Errorf("Referrer-Policy %q: the page's own post must carry its Origin", rp)
	}
	req, _ := http.NewRequest(http.MethodOptions, e.iss.URL()+"/authorize", nil)
	req.Header.Set("Origin", "http://evil.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, _ = e.do(t, req)
	if resp.Header.Get("Access-Control-Allow-Origin") != "" || resp.Header.Get("Access-Control-Allow-Methods") != "" {
		t.Fatalf("preflight of authorize allowed: %v", resp.Header)
	}
	// The endpoints apps call with fetch keep their CORS headers.
	resp, _ = e.get(t, "/.well-known/openid-configuration", nil, http.Header{"Origin": {"http://localhost:5173"}})
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("discovery lost CORS: %v", resp.Header)
	}
}
