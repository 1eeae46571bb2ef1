package api_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/waypoint-portal/waypoint/api"
	"github.com/waypoint-portal/waypoint/api/apitest"
	"github.com/waypoint-portal/waypoint/auth"
	"github.com/waypoint-portal/waypoint/auth/devissuer"
	"github.com/waypoint-portal/waypoint/domain"
)

// devServer runs the API in dev mode as serve --dev wires it: the embedded
// issuer mounted at /dev/oidc, tokens verified against its keys.
type devServer struct {
	srv    *httptest.Server
	iss    *devissuer.Issuer
	key    *rsa.PrivateKey // the issuer's signing key
	client *http.Client    // does not follow redirects
}

func newDevServer(t *testing.T, store *domain.Store) *devServer {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	issuerURL := "http://" + srv.Listener.Addr().String() + "/dev/oidc"
	key, err := devissuer.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	iss, err := devissuer.New(issuerURL, "waypoint", key, nil)
	if err != nil {
		t.Fatal(err)
	}
	v := auth.NewStaticVerifier(auth.Config{IssuerURL: issuerURL, Audience: "waypoint"}, iss.KeySet(), iss.Algorithms())
	srv.Config.Handler = api.New(api.Deps{Store: store, Verifier: v, DevIssuer: iss.Handler(),
		CORS: api.CORS{AllowLoopback: true}}).Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	return &devServer{srv: srv, iss: iss, key: key, client: &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (d *devServer) do(t *testing.T, method, path, host string, body io.Reader, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, d.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := d.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, b
}

// TestDevModeRefusesForeignHost: a page that rebinds its DNS name to
// 127.0.0.1 reaches the dev server with that name as Host; every part of the
// server refuses it (421 problem+json), and production does not care.
func TestDevModeRefusesForeignHost(t *testing.T) {
	t.Parallel()
	d := newDevServer(t, nil)
	token, err := d.iss.Mint(devissuer.TokenRequest{Subject: "adam", Roles: []string{auth.RoleAdmin}})
	if err != nil {
		t.Fatal(err)
	}
	bearer := []string{"Authorization", "Bearer " + token}
	for _, c := range []struct {
		method, path string
		hdr          []string
	}{
		{http.MethodGet, "/healthz", nil},
		{http.MethodGet, "/v1/me", bearer},
		{http.MethodPost, "/v1/services", bearer},
		{http.MethodOptions, "/v1/me", []string{"Origin", "http://evil.example:8080", "Access-Control-Request-Method", "GET"}},
		{http.MethodGet, "/openapi.json", nil},
		{http.MethodGet, "/metrics", nil},
		{http.MethodGet, "/no/such/path", nil},
		{http.MethodGet, "/dev/oidc/.well-known/openid-configuration", nil},
		{http.MethodGet, "/dev/oidc/authorize", nil},
		{http.MethodPost, "/dev/oidc/token", []string{"Content-Type", "application/x-www-form-urlencoded"}},
	} {
		for _, host := range []string{"evil.example:8080", "evil.example", "localhost.evil.example:8080", "127.0.0.1.nip.io"} {
			res, body := d.do(t, c.method, c.path, host, nil, c.hdr...)
			if res.StatusCode != http.StatusMisdirectedRequest || res.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s %s Host %s: %d %q, want 421 problem+json", c.method, c.path, host, res.StatusCode, res.Header.Get("Content-Type"))
				continue
			}
			var p struct {
				Status    int    `json:"status"`
				RequestID string `json:"request_id"`
			}
			if err := json.Unmarshal(body, &p); err != nil || p.Status != http.StatusMisdirectedRequest || p.RequestID == "" {
				t.Errorf("%s %s: problem %s", c.method, c.path, body)
			}
			if res.Header.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("%s %s: refused response allows CORS", c.method, c.path)
			}
		}
	}
	_, port, err := net.SplitHostPort(d.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"127.0.0.1:" + port, "localhost:" + port, "LOCALHOST", "[::1]:" + port, "127.42.0.1"} {
		if res, body := d.do(t, http.MethodGet, "/healthz", host, nil); res.StatusCode != http.StatusOK {
			t.Errorf("loopback Host %s: %d %s", host, res.StatusCode, body)
		}
	}

	// Production (no dev issuer) answers whatever Host the proxy forwards.
	prod := httptest.NewServer(api.New(api.Deps{}).Handler())
	defer prod.Close()
	req, _ := http.NewRequest(http.MethodGet, prod.URL+"/healthz", nil)
	req.Host = "api.example.org"
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("production with a public Host: %d", res.StatusCode)
	}
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// TestDevIssuerBrowserFlow walks authorization code + PKCE through the
// whole dev server the way a browser and a front end do, then calls the API
// with the token; a cross-site post of the same form gets no code.
func TestDevIssuerBrowserFlow(t *testing.T) {
	t.Parallel()
	db, _ := apitest.NewDB(t)
	d := newDevServer(t, domain.NewStore(db))
	verifier := rand.Text() + rand.Text()
	sum := sha256.Sum256([]byte(verifier))
	params := url.Values{"response_type": {"code"}, "client_id": {"waypoint-web"},
		"redirect_uri": {"http://localhost:5173/cb"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"}, "state": {"s1"}, "scope": {"openid profile:read"}}

	res, page := d.do(t, http.MethodGet, "/dev/oidc/authorize?"+params.Encode(), "", nil)
	m := csrfField.FindSubmatch(page)
	if res.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("persona page: %d, form token found: %v", res.StatusCode, m != nil)
	}
	form := url.Values{"persona": {"adam"}, "csrf_token": {string(m[1])}}
	for k, v := range params {
		form[k] = v
	}
	post := func(hdr ...string) *http.Response {
		res, _ := d.do(t, http.MethodPost, "/dev/oidc/authorize", "", strings.NewReader(form.Encode()),
			append([]string{"Content-Type", "application/x-www-form-urlencoded"}, hdr...)...)
		return res
	}
	if res := post("Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"); res.StatusCode != http.StatusForbidden ||
		res.Header.Get("Location") != "" {
		t.Fatalf("cross-site post: %d Location %q", res.StatusCode, res.Header.Get("Location"))
	}
	res = post("Sec-Fetch-Site", "same-origin", "Origin", d.srv.URL)
	loc, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusFound || loc == nil || loc.Query().Get("code") == "" || loc.Query().Get("state") != "s1" {
		t.Fatalf("own form: %d Location %q", res.StatusCode, res.Header.Get("Location"))
	}

	exchange := url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
		"redirect_uri": {"http://localhost:5173/cb"}, "client_id": {"waypoint-web"}, "code_verifier": {verifier}}
	res, body := d.do(t, http.MethodPost, "/dev/oidc/token", "", strings.NewReader(exchange.Encode()),
		"Content-Type", "application/x-www-form-urlencoded", "Origin", "http://localhost:5173")
	var tr struct {
		AccessToken string `json:"access_token"`
		Scope       string `json:"scope"`
	}
	if err := json.Unmarshal(body, &tr); err != nil || res.StatusCode != http.StatusOK || tr.AccessToken == "" {
		t.Fatalf("token: %d %s", res.StatusCode, body)
	}
	res, body = d.do(t, http.MethodGet, "/v1/me", "", nil, "Authorization", "Bearer "+tr.AccessToken)
	var me struct {
		DisplayName string   `json:"display_name"`
		Roles       []string `json:"roles"`
	}
	if err := json.Unmarshal(body, &me); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("/v1/me: %d %s", res.StatusCode, body)
	}
	if me.DisplayName != "Adam Reyes" || !slices.Equal(me.Roles, []string{auth.RoleAdmin}) || tr.Scope != "profile:read" {
		t.Fatalf("signed in as %+v with scope %q", me, tr.Scope)
	}
}

var (
	dataAttr     = regexp.MustCompile(`data-(authorize|token|client-id|scheme)="([^"]*)"`)
	inlineScript = regexp.MustCompile(`<script(\s[^>]*)?>\s*[^<\s]`)
)

// In dev mode /docs links a sign-in page that gets a token for "Try it"
// from the dev issuer (authorization code + PKCE S256, in the browser;
// Elements 9 cannot run the flow itself). The page's endpoints are the
// contract's own relative oauth2 URLs, so it works at any address; its CSP
// stays as strict as /docs'. Here the flow runs the way the page's script
// runs it, at the test server's (non-default) address.
func TestDocsSignInInDevMode(t *testing.T) {
	t.Parallel()
	db, _ := apitest.NewDB(t)
	d := newDevServer(t, domain.NewStore(db))
	res, page := d.do(t, http.MethodGet, "/docs", "", nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(string(page), `href="/docs/login"`) {
		t.Fatalf("/docs in dev mode: %d, no link to /docs/login: %s", res.StatusCode, page)
	}
	res, login := d.do(t, http.MethodGet, "/docs/login", "", nil)
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self';", "connect-src 'self';", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Fatalf("/docs/login CSP %q lacks %q", csp, want)
		}
	}
	if res.StatusCode != http.StatusOK || res.Header.Get("Cache-Control") != "no-store" || inlineScript.Match(login) ||
		strings.Contains(string(login), "http://") || !strings.Contains(string(login), `<script src="/docs/assets/login.js" defer></script>`) {
		t.Fatalf("/docs/login: %d %q, inline script: %v: %s", res.StatusCode, res.Header.Get("Cache-Control"), inlineScript.Match(login), login)
	}
	res, js := d.do(t, http.MethodGet, "/docs/assets/login.js", "", nil)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") ||
		!strings.Contains(string(js), `code_challenge_method: "S256"`) {
		t.Fatalf("login.js: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	attrs := map[string]string{}
	for _, m := range dataAttr.FindAllStringSubmatch(string(login), -1) {
		attrs[m[1]] = m[2]
	}
	// The page's endpoints are the contract's oauth2 flow, as served here.
	var spec struct {
		Components struct {
			SecuritySchemes map[string]struct {
				Flows struct {
					AuthorizationCode struct {
						AuthorizationURL string `json:"authorizationUrl"`
						TokenURL         string `json:"tokenUrl"`
					} `json:"authorizationCode"`
				} `json:"flows"`
			} `json:"securitySchemes"`
		} `json:"components"`
	}
	_, doc := d.do(t, http.MethodGet, "/openapi.json", "", nil)
	if err := json.Unmarshal(doc, &spec); err != nil {
		t.Fatal(err)
	}
	flow := spec.Components.SecuritySchemes[attrs["scheme"]].Flows.AuthorizationCode
	if flow.AuthorizationURL == "" || attrs["authorize"] != flow.AuthorizationURL || attrs["token"] != flow.TokenURL ||
		strings.Contains(flow.AuthorizationURL, "//") || attrs["client-id"] == "" {
		t.Fatalf("the page's endpoints %v are not the contract's relative oauth2 flow %+v", attrs, flow)
	}

	// The script's flow: to the authorize URL with PKCE, back to /docs/login
	// at this address with a code, exchanged at the token URL.
	redirect := d.srv.URL + "/docs/login"
	verifier := rand.Text() + rand.Text()
	sum := sha256.Sum256([]byte(verifier))
	params := url.Values{"response_type": {"code"}, "client_id": {attrs["client-id"]}, "redirect_uri": {redirect},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}, "state": {"docs"}}
	res, picker := d.do(t, http.MethodGet, attrs["authorize"]+"?"+params.Encode(), "", nil)
	m := csrfField.FindSubmatch(picker)
	if res.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("persona page: %d %s", res.StatusCode, picker)
	}
	form := url.Values{"persona": {"alice"}, "csrf_token": {string(m[1])}}
	for k, v := range params {
		form[k] = v
	}
	res, _ = d.do(t, http.MethodPost, attrs["authorize"], "", strings.NewReader(form.Encode()),
		"Content-Type", "application/x-www-form-urlencoded", "Sec-Fetch-Site", "same-origin", "Origin", d.srv.URL)
	loc, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusFound || loc == nil || loc.Scheme+"://"+loc.Host+loc.Path != redirect || loc.Query().Get("code") == "" {
		t.Fatalf("sign-in: %d Location %q, want %s?code=...", res.StatusCode, res.Header.Get("Location"), redirect)
	}
	exchange := url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {redirect},
		"client_id": {attrs["client-id"]}, "code_verifier": {verifier}}
	res, body := d.do(t, http.MethodPost, attrs["token"], "", strings.NewReader(exchange.Encode()),
		"Content-Type", "application/x-www-form-urlencoded", "Origin", d.srv.URL)
	var tok struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || res.StatusCode != http.StatusOK || tok.AccessToken == "" || tok.RefreshToken == "" {
		t.Fatalf("token: %d %s", res.StatusCode, body)
	}
	res, body = d.do(t, http.MethodGet, "/v1/me", "", nil, "Authorization", "Bearer "+tok.AccessToken)
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `"display_name":"Alice Johnson"`) {
		t.Fatalf("/v1/me with the docs token: %d %s", res.StatusCode, body)
	}
}
