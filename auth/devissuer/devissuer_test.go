package devissuer

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/waypoint-portal/waypoint/auth"
)

const (
	testAudience = "waypoint-api"
	testClient   = "waypoint-web"
	testRedirect = "http://127.0.0.1:5173/callback"
)

// RSA key generation is slow under -race; one key serves every test.
var testKey = sync.OnceValues(GenerateKey)

func key(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := testKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// clock is a settable time source shared with server goroutines.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	iss    *Issuer
	srv    *httptest.Server
	client *http.Client // does not follow redirects
	clock  *clock
}

// newEnv serves an issuer at /dev/oidc the way the server mounts it.
func newEnv(t *testing.T) *env {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	issuerURL := "http://" + srv.Listener.Addr().String() + "/dev/oidc"
	iss, err := New(issuerURL, testAudience, key(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Now()}
	iss.now = c.Now
	mux := http.NewServeMux()
	mux.Handle("/dev/oidc/", iss.Handler())
	srv.Config.Handler = mux
	srv.Start()
	t.Cleanup(srv.Close)
	return &env{
		iss:   iss,
		srv:   srv,
		clock: c,
		client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
	}
}

func pkce() (verifier, challenge string) {
	verifier = rand.Text() + rand.Text() // 52 base32 characters, all unreserved
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

func authParams(challenge string) url.Values {
	return url.Values{
		"response_type":         {"code"},
		"client_id":             {testClient},
		"redirect_uri":          {testRedirect},
		"code_challenge":        {challenge},
		"code_challenge_method": {"S256"},
		"state":                 {"st-123"},
		"nonce":                 {"n-456"},
	}
}

func (e *env) get(t *testing.T, path string, q url.Values, hdr http.Header) (*http.Response, string) {
	t.Helper()
	u := e.iss.URL() + path
	if q != nil {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	return e.do(t, req)
}

func (e *env) postForm(t *testing.T, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.iss.URL()+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return e.do(t, req)
}

func (e *env) do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

var formTokenRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// formToken returns the CSRF token of a rendered persona page.
func formToken(t *testing.T, page string) string {
	t.Helper()
	m := formTokenRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no csrf_token on the page: %s", page)
	}
	return m[1]
}

// submit posts form the way a browser submits the persona page: it loads
// the page for the same request (extra fields are ignored there), copies
// its form token and sends the same-origin headers a browser adds.
func (e *env) submit(t *testing.T, form url.Values) (*http.Response, string) {
	t.Helper()
	resp, page := e.get(t, "/authorize", form, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET authorize: %d %s", resp.StatusCode, errorMessage(page))
	}
	post := merge(form, url.Values{"csrf_token": {formToken(t, page)}})
	req, err := http.NewRequest(http.MethodPost, e.iss.URL()+"/authorize", strings.NewReader(post.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", e.srv.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return e.do(t, req)
}

func merge(vs ...url.Values) url.Values {
	out := url.Values{}
	for _, v := range vs {
		for k, vv := range v {
			out[k] = slices.Clone(vv)
		}
	}
	return out
}

// authorize submits the persona choice and returns the code from the redirect.
func (e *env) authorize(t *testing.T, params url.Values, choice url.Values) string {
	t.Helper()
	resp, body := e.submit(t, merge(params, choice))
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("POST authorize: status %d, body %s", resp.StatusCode, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got := loc.Query().Get("state"); got != params.Get("state") {
		t.Fatalf("state = %q, want %q", got, params.Get("state"))
	}
	code := loc.Query().Get("code")
	if code == "" {
		t.Fatalf("no code in redirect %s", loc)
	}
	return code
}

func tokenForm(code, verifier string) url.Values {
	return url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {testRedirect},
		"client_id":     {testClient},
		"code_verifier": {verifier},
	}
}

type tokenResp struct {
	AccessToken      string `json:"access_token"`
	TokenType        string `json:"token_type"`
	ExpiresIn        int64  `json:"expires_in"`
	Scope            string `json:"scope"`
	IDToken          string `json:"id_token"`
	RefreshToken     string `json:"refresh_token"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

func (e *env) token(t *testing.T, form url.Values) (int, tokenResp) {
	t.Helper()
	resp, body := e.postForm(t, "/token", form)
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("token Cache-Control = %q, want no-store", cc)
	}
	var tr tokenResp
	if err := json.Unmarshal([]byte(body), &tr); err != nil {
		t.Fatalf("token response is not JSON: %v: %s", err, body)
	}
	return resp.StatusCode, tr
}

func wantTokenError(t *testing.T, status int, tr tokenResp, code string) {
	t.Helper()
	t.Logf("%d %s: %s", status, tr.Error, tr.ErrorDescription)
	if status != http.StatusBadRequest || tr.Error != code {
		t.Fatalf("got %d %q (%s), want 400 %q", status, tr.Error, tr.ErrorDescription, code)
	}
	if tr.AccessToken != "" {
		t.Fatal("error response carries an access token")
	}
}

type accessView struct {
	Azp      string   `json:"azp"`
	ClientID string   `json:"client_id"`
	Name     string   `json:"name"`
	Roles    []string `json:"roles"`
	Scope    string   `json:"scope"`
	Jti      string   `json:"jti"`
	Iat      int64    `json:"iat"`
	Nbf      int64    `json:"nbf"`
	Exp      int64    `json:"exp"`
}

// verifyAccess checks an access token the way the API does, with go-oidc.
func verifyAccess(t *testing.T, iss *Issuer, raw string) (*oidc.IDToken, accessView) {
	t.Helper()
	v := oidc.NewVerifier(iss.URL(), iss.KeySet(), &oidc.Config{ClientID: testAudience, SupportedSigningAlgs: iss.Algorithms()})
	tok, err := v.Verify(context.Background(), raw)
	if err != nil {
		t.Fatalf("verify access token: %v", err)
	}
	var c accessView
	if err := tok.Claims(&c); err != nil {
		t.Fatal(err)
	}
	return tok, c
}

func header(t *testing.T, raw string) jose.Header {
	t.Helper()
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	return jws.Signatures[0].Protected
}

func TestKeyRoundTripAndStableKid(t *testing.T) {
	k := key(t)
	pemBytes, err := MarshalKey(k)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(pemBytes), "-----BEGIN PRIVATE KEY-----") {
		t.Fatalf("not PKCS#8 PEM:\n%s", pemBytes)
	}
	back, err := ParseKey(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	if !back.Equal(k) {
		t.Fatal("parsed key differs from the original")
	}
	// PKCS#1 from older tooling is accepted too.
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	if k1, err := ParseKey(pkcs1); err != nil || !k1.Equal(k) {
		t.Fatalf("PKCS#1: %v", err)
	}
	if _, err := ParseKey([]byte("not a key")); err == nil {
		t.Fatal("garbage parsed as a key")
	}

	a, err := New("http://127.0.0.1:1/dev/oidc", testAudience, k, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := New("http://127.0.0.1:2/dev/oidc", testAudience, back, nil)
	if err != nil {
		t.Fatal(err)
	}
	tp, err := (&jose.JSONWebKey{Key: &k.PublicKey}).Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	want := base64.RawURLEncoding.EncodeToString(tp)
	if a.kid != want || b.kid != want {
		t.Fatalf("kid %q / %q, want RFC 7638 thumbprint %q", a.kid, b.kid, want)
	}
	tok, err := b.Mint(TokenRequest{Subject: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if h := header(t, tok); h.KeyID != want {
		t.Fatalf("token kid %q, want %q", h.KeyID, want)
	}
}

func TestNewValidates(t *testing.T) {
	k := key(t)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]func() error{
		"trailing slash": func() error { _, err := New("http://127.0.0.1:8080/dev/oidc/", testAudience, k, nil); return err },
		"relative":       func() error { _, err := New("/dev/oidc", testAudience, k, nil); return err },
		"query":          func() error { _, err := New("http://127.0.0.1:8080/dev/oidc?x=1", testAudience, k, nil); return err },
		"no audience":    func() error { _, err := New("http://127.0.0.1:8080/dev/oidc", "", k, nil); return err },
		"nil key":        func() error { _, err := New("http://127.0.0.1:8080/dev/oidc", testAudience, nil, nil); return err },
		"small key":      func() error { _, err := New("http://127.0.0.1:8080/dev/oidc", testAudience, small, nil); return err },
		"dup persona": func() error {
			_, err := New("http://127.0.0.1:8080/dev/oidc", testAudience, k, []Persona{{Subject: "a"}, {Subject: "a"}})
			return err
		},
	}
	for name, f := range cases {
		if f() == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}

func TestDefaultPersonas(t *testing.T) {
	want := map[string][2]string{
		"alice": {"Alice Johnson", auth.RoleClient}, "bob": {"Bob Martinez", auth.RoleClient},
		"wanda": {"Wanda Okafor", auth.RoleWorker}, "will": {"Will Chen", auth.RoleWorker},
		"adam": {"Adam Reyes", auth.RoleAdmin}, "pia": {"Pia Novak", auth.RoleProvider},
		"otto": {"Otto Lindqvist", auth.RoleOrganizer},
	}
	ps := DefaultPersonas()
	if len(ps) != len(want) {
		t.Fatalf("%d personas, want %d", len(ps), len(want))
	}
	for _, p := range ps {
		w, ok := want[p.Subject]
		if !ok || p.Name != w[0] || !slices.Equal(p.Roles, []string{w[1]}) || p.Description == "" {
			t.Errorf("unexpected persona %+v", p)
		}
	}
}

func TestMintVerifiesWithGoOIDC(t *testing.T) {
	e := newEnv(t)
	raw, err := e.iss.Mint(TokenRequest{Subject: "wanda", Name: "Wanda Okafor", Roles: []string{auth.RoleWorker}})
	if err != nil {
		t.Fatal(err)
	}
	h := header(t, raw)
	if h.Algorithm != "RS256" || h.KeyID != e.iss.kid || h.ExtraHeaders[jose.HeaderType] != "at+jwt" {
		t.Fatalf("header alg=%q kid=%q typ=%v", h.Algorithm, h.KeyID, h.ExtraHeaders[jose.HeaderType])
	}
	tok, c := verifyAccess(t, e.iss, raw)
	if tok.Subject != "wanda" || tok.Issuer != e.iss.URL() || !slices.Equal(tok.Audience, []string{testAudience}) {
		t.Fatalf("sub=%q iss=%q aud=%v", tok.Subject, tok.Issuer, tok.Audience)
	}
	if c.Azp != "waypoint-dev-cli" || c.ClientID != "waypoint-dev-cli" {
		t.Errorf("azp=%q client_id=%q, want waypoint-dev-cli", c.Azp, c.ClientID)
	}
	if c.Name != "Wanda Okafor" || !slices.Equal(c.Roles, []string{"worker"}) || c.Jti == "" {
		t.Errorf("claims %+v", c)
	}
	if c.Exp-c.Iat != 3600 || c.Nbf != c.Iat {
		t.Errorf("iat=%d nbf=%d exp=%d, want a one-hour token valid from iat", c.Iat, c.Nbf, c.Exp)
	}
	scopes := strings.Fields(c.Scope)
	if len(scopes) != len(auth.AllScopes) {
		t.Errorf("scope %q, want every Waypoint scope", c.Scope)
	}
	for _, s := range scopes {
		if _, ok := auth.AllScopes[s]; !ok {
			t.Errorf("unknown scope %q", s)
		}
	}
	// aud is an array on the wire, as documented.
	var rawClaims map[string]json.RawMessage
	if err := tok.Claims(&rawClaims); err != nil {
		t.Fatal(err)
	}
	if string(rawClaims["aud"]) != `["`+testAudience+`"]` {
		t.Errorf("aud on the wire = %s", rawClaims["aud"])
	}

	// Another audience must not accept it.
	other := oidc.NewVerifier(e.iss.URL(), e.iss.KeySet(), &oidc.Config{ClientID: "someone-else"})
	if _, err := other.Verify(context.Background(), raw); err == nil {
		t.Error("token verified for a different audience")
	}

	// Explicit scopes, client and lifetime.
	raw, err = e.iss.Mint(TokenRequest{Subject: "x", Scopes: []string{"goals:read", "goals:read", "custom:thing"}, ClientID: "app-1", TTL: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	_, c = verifyAccess(t, e.iss, raw)
	if c.Scope != "goals:read custom:thing" || c.Azp != "app-1" || c.Exp-c.Iat != 300 || c.Roles == nil {
		t.Errorf("claims %+v", c)
	}
	raw, err = e.iss.Mint(TokenRequest{Subject: "x", Scopes: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, c = verifyAccess(t, e.iss, raw); c.Scope != "" {
		t.Errorf("empty Scopes gave scope %q, want none", c.Scope)
	}

	for name, req := range map[string]TokenRequest{
		"no subject":   {},
		"negative ttl": {Subject: "x", TTL: -time.Second},
		"bad scope":    {Subject: "x", Scopes: []string{"a b"}},
		"bad role":     {Subject: "x", Roles: []string{""}},
	} {
		if _, err := e.iss.Mint(req); err == nil {
			t.Errorf("%s: Mint succeeded", name)
		}
	}
}

func TestDiscoveryAndJWKS(t *testing.T) {
	e := newEnv(t)
	resp, body := e.get(t, "/.well-known/openid-configuration", nil, nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("discovery: %d, CORS %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
	var d map[string]any
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatal(err)
	}
	u := e.iss.URL()
	for k, want := range map[string]string{
		"issuer": u, "authorization_endpoint": u + "/authorize", "token_endpoint": u + "/token",
		"jwks_uri": u + "/jwks", "userinfo_endpoint": u + "/userinfo",
	} {
		if d[k] != want {
			t.Errorf("%s = %v, want %s", k, d[k], want)
		}
	}
	list := func(k string) []string {
		var out []string
		for _, v := range d[k].([]any) {
			out = append(out, v.(string))
		}
		return out
	}
	for k, want := range map[string][]string{
		"response_types_supported":              {"code"},
		"grant_types_supported":                 {"authorization_code", "refresh_token"},
		"code_challenge_methods_supported":      {"S256"},
		"id_token_signing_alg_values_supported": {"RS256"},
		"token_endpoint_auth_methods_supported": {"none"},
		"subject_types_supported":               {"public"},
	} {
		if got := list(k); !slices.Equal(got, want) {
			t.Errorf("%s = %v, want %v", k, got, want)
		}
	}
	scopes := list("scopes_supported")
	for _, s := range append([]string{"openid", "profile"}, allScopes()...) {
		if !slices.Contains(scopes, s) {
			t.Errorf("scopes_supported lacks %q", s)
		}
	}

	// go-oidc's own discovery and remote JWKS agree with the issuer.
	ctx := context.Background()
	p, err := oidc.NewProvider(ctx, u)
	if err != nil {
		t.Fatalf("go-oidc discovery: %v", err)
	}
	raw, err := e.iss.Mint(TokenRequest{Subject: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Verifier(&oidc.Config{ClientID: testAudience}).Verify(ctx, raw); err != nil {
		t.Fatalf("verify through remote JWKS: %v", err)
	}

	resp, body = e.get(t, "/jwks", nil, nil)
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(body), &set); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("jwks: %d %v", resp.StatusCode, err)
	}
	if len(set.Keys) != 1 {
		t.Fatalf("%d keys", len(set.Keys))
	}
	k := set.Keys[0]
	if k.KeyID != e.iss.kid || k.Use != "sig" || k.Algorithm != "RS256" || !k.IsPublic() {
		t.Errorf("jwk kid=%q use=%q alg=%q public=%v", k.KeyID, k.Use, k.Algorithm, k.IsPublic())
	}
}

func TestCORSAndRouting(t *testing.T) {
	e := newEnv(t)
	req, _ := http.NewRequest(http.MethodOptions, e.iss.URL()+"/token", nil)
	req.Header.Set("Origin", "http://localhost:5173")
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, _ := e.do(t, req)
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "POST") ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Content-Type") {
		t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	resp, _ = e.get(t, "/token", nil, nil)
	if resp.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(resp.Header.Get("Allow"), "POST") {
		t.Fatalf("GET /token: %d Allow=%q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("405 Content-Type %q", ct)
	}
	resp, _ = e.get(t, "/nope", nil, nil)
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("unknown route: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

func TestAuthorizationCodeFlow(t *testing.T) {
	e := newEnv(t)
	verifier, challenge := pkce()
	params := authParams(challenge)
	params.Set("scope", "openid profile goals:read messages:read unknown:scope")
	params.Set("state", `st"><script>alert(1)</script>`)

	resp, page := e.get(t, "/authorize", params, nil)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("authorize page: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, p := range DefaultPersonas() {
		if !strings.Contains(page, p.Name) {
			t.Errorf("page lacks persona %q", p.Name)
		}
	}
	for _, want := range []string{"Development only", `name="subject"`, `name="role"`, "goals:read", auth.AllScopes["goals:read"]} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "<script>") {
		t.Error("state was not escaped")
	}
	if strings.Contains(page, "goals:write") {
		t.Error("page offers a scope that was not requested")
	}

	code := e.authorize(t, params, url.Values{"persona": {"wanda"}})
	status, tr := e.token(t, tokenForm(code, verifier))
	if status != http.StatusOK {
		t.Fatalf("token: %d %s: %s", status, tr.Error, tr.ErrorDescription)
	}
	if tr.TokenType != "Bearer" || tr.ExpiresIn != 3600 || tr.Scope != "goals:read messages:read" {
		t.Errorf("token response %+v", tr)
	}
	tok, c := verifyAccess(t, e.iss, tr.AccessToken)
	if tok.Subject != "wanda" || c.Name != "Wanda Okafor" || !slices.Equal(c.Roles, []string{"worker"}) ||
		c.Azp != testClient || c.ClientID != testClient || c.Scope != tr.Scope {
		t.Errorf("access token sub=%q claims=%+v", tok.Subject, c)
	}

	// The ID token is for the app, not the API.
	if typ := header(t, tr.IDToken).ExtraHeaders[jose.HeaderType]; typ != "JWT" {
		t.Errorf("id_token typ %v", typ)
	}
	idv := oidc.NewVerifier(e.iss.URL(), e.iss.KeySet(), &oidc.Config{ClientID: testClient})
	id, err := idv.Verify(context.Background(), tr.IDToken)
	if err != nil {
		t.Fatalf("verify id_token: %v", err)
	}
	var idc struct{ Name string }
	if err := id.Claims(&idc); err != nil {
		t.Fatal(err)
	}
	if id.Subject != "wanda" || id.Nonce != "n-456" || idc.Name != "Wanda Okafor" {
		t.Errorf("id_token sub=%q nonce=%q name=%q", id.Subject, id.Nonce, idc.Name)
	}
	if _, err := oidc.NewVerifier(e.iss.URL(), e.iss.KeySet(), &oidc.Config{ClientID: testAudience}).
		Verify(context.Background(), tr.IDToken); err == nil {
		t.Error("id_token accepted with the API audience")
	}

	resp, body := e.get(t, "/userinfo", nil, http.Header{"Authorization": {"Bearer " + tr.AccessToken}})
	var ui struct {
		Sub   string   `json:"sub"`
		Name  string   `json:"name"`
		Roles []string `json:"roles"`
	}
	if err := json.Unmarshal([]byte(body), &ui); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("userinfo: %d %v %s", resp.StatusCode, err, body)
	}
	if ui.Sub != "wanda" || ui.Name != "Wanda Okafor" || !slices.Equal(ui.Roles, []string{"worker"}) {
		t.Errorf("userinfo %+v", ui)
	}
}

func TestCustomIdentityAndRedirectShapes(t *testing.T) {
	e := newEnv(t)
	verifier, challenge := pkce()

	// Custom identity; no Waypoint scope requested means all of them.
	params := authParams(challenge)
	params.Set("scope", "openid profile")
	code := e.authorize(t, params, url.Values{"subject": {"zoe-1"}, "name": {"Zoe Park"}, "role": {"admin"}})
	status, tr := e.token(t, tokenForm(code, verifier))
	if status != http.StatusOK {
		t.Fatalf("token: %d %+v", status, tr)
	}
	tok, c := verifyAccess(t, e.iss, tr.AccessToken)
	if tok.Subject != "zoe-1" || c.Name != "Zoe Park" || !slices.Equal(c.Roles, []string{"admin"}) ||
		len(strings.Fields(c.Scope)) != len(auth.AllScopes) {
		t.Errorf("custom identity: sub=%q %+v", tok.Subject, c)
	}

	// A custom role outside client/worker/admin is refused.
	form := authParams(challenge)
	form.Set("subject", "zoe")
	form.Set("role", "superuser")
	if resp, _ := e.submit(t, form); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad custom role: %d", resp.StatusCode)
	}

	// Existing query parameters survive; native app schemes and [::1] work.
	for _, redirect := range []string{"http://localhost:3000/cb?app=1", "com.example.app:/oauth", "http://[::1]:8081/cb"} {
		p := authParams(challenge)
		p.Set("redirect_uri", redirect)
		form := url.Values{}
		for k, v := range p {
			form[k] = v
		}
		form.Set("persona", "alice")
		resp, body := e.submit(t, form)
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("%s: %d %s", redirect, resp.StatusCode, body)
		}
		loc, err := url.Parse(resp.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		want, _ := url.Parse(redirect)
		if loc.Scheme != want.Scheme || loc.Host != want.Host || loc.Path != want.Path || loc.Query().Get("code") == "" {
			t.Errorf("%s: redirected to %s", redirect, loc)
		}
		if want.Query().Get("app") != loc.Query().Get("app") {
			t.Errorf("%s: existing query lost in %s", redirect, loc)
		}
		tf := tokenForm(loc.Query().Get("code"), verifier)
		tf.Set("redirect_uri", redirect)
		if status, tr := e.token(t, tf); status != http.StatusOK {
			t.Errorf("%s: token %d %+v", redirect, status, tr)
		}
	}

	// Cancel sends access_denied back with state.
	form = authParams(challenge)
	form.Set("deny", "1")
	resp, _ := e.submit(t, form)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc.Query().Get("error") != "access_denied" ||
		loc.Query().Get("state") != "st-123" || loc.Query().Get("code") != "" {
		t.Errorf("deny: %d %s", resp.StatusCode, loc)
	}
}

func TestAuthorizeRejectsBadRequests(t *testing.T) {
	e := newEnv(t)
	_, challenge := pkce()
	cases := map[string]func(url.Values){
		"missing code_challenge":   func(v url.Values) { v.Del("code_challenge") },
		"plain PKCE":               func(v url.Values) { v.Set("code_challenge_method", "plain") },
		"missing method":           func(v url.Values) { v.Del("code_challenge_method") },
		"short challenge":          func(v url.Values) { v.Set("code_challenge", "abc") },
		"non-loopback redirect":    func(v url.Values) { v.Set("redirect_uri", "http://evil.example/cb") },
		"loopback-looking host":    func(v url.Values) { v.Set("redirect_uri", "http://localhost.evil.example/cb") },
		"user info redirect":       func(v url.Values) { v.Set("redirect_uri", "http://evil.example@localhost/cb") },
		"javascript redirect":      func(v url.Values) { v.Set("redirect_uri", "javascript:alert(1)") },
		"relative redirect":        func(v url.Values) { v.Set("redirect_uri", "/cb") },
		"fragment redirect":        func(v url.Values) { v.Set("redirect_uri", testRedirect+"#x") },
		"missing redirect":         func(v url.Values) { v.Del("redirect_uri") },
		"missing client_id":        func(v url.Values) { v.Del("client_id") },
		"client_id is audience":    func(v url.Values) { v.Set("client_id", testAudience) },
		"implicit flow":            func(v url.Values) { v.Set("response_type", "token") },
		"missing state":            func(v url.Values) { v.Del("state") },
		"repeated redirect":        func(v url.Values) { v.Add("redirect_uri", "http://localhost/other") },
		"invalid scope characters": func(v url.Values) { v.Set("scope", "goals:read \"x") },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			params := authParams(challenge)
			mutate(params)
			resp, body := e.get(t, "/authorize", params, nil)
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" ||
				!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, "can't be used") {
				t.Fatalf("GET: %d Location=%q", resp.StatusCode, resp.Header.Get("Location"))
			}
			t.Log(errorMessage(body))
			// A crafted POST is validated the same way and never redirects.
			params.Set("persona", "alice")
			resp, _ = e.postForm(t, "/authorize", params)
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
				t.Fatalf("POST: %d Location=%q", resp.StatusCode, resp.Header.Get("Location"))
			}
		})
	}

	params := authParams(challenge)
	params.Set("persona", "mallory")
	if resp, _ := e.submit(t, params); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown persona: %d", resp.StatusCode)
	}
}

// forgedCode asks another issuer's handler directly for a code carrying
// params, through its own page (form token) on a loopback Host.
func forgedCode(t *testing.T, forger *Issuer, params url.Values) string {
	t.Helper()
	page := httptest.NewRecorder()
	forger.Handler().ServeHTTP(page, httptest.NewRequest(http.MethodGet, "http://127.0.0.1/dev/oidc/authorize?"+params.Encode(), nil))
	form := merge(params, url.Values{"persona": {"alice"}, "csrf_token": {formToken(t, page.Body.String())}})
	req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/dev/oidc/authorize", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	forger.Handler().ServeHTTP(rec, req)
	loc, err := url.Parse(rec.Header().Get("Location"))
	if rec.Code != http.StatusFound || err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("forger's authorize: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	return loc.Query().Get("code")
}

// errorMessage extracts the reason shown on the error page.
func errorMessage(page string) string {
	_, after, _ := strings.Cut(page, `<p role="alert">`)
	msg, _, _ := strings.Cut(after, "</p>")
	return msg
}

func TestTokenRejectsBadExchanges(t *testing.T) {
	e := newEnv(t)
	verifier, challenge := pkce()
	newCode := func() string { return e.authorize(t, authParams(challenge), url.Values{"persona": {"alice"}}) }
	access, err := e.iss.Mint(TokenRequest{Subject: "alice", Roles: []string{"client"}, ClientID: testClient})
	if err != nil {
		t.Fatal(err)
	}
	other, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	forgerIss, err := New(e.iss.URL(), testAudience, other, nil)
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name   string
		mutate func(url.Values)
		want   string
	}{
		{"wrong code_verifier", func(v url.Values) { w, _ := pkce(); v.Set("code_verifier", w) }, "invalid_grant"},
		{"mismatched redirect_uri", func(v url.Values) { v.Set("redirect_uri", "http://127.0.0.1:5173/other") }, "invalid_grant"},
		{"mismatched client_id", func(v url.Values) { v.Set("client_id", "another-app") }, "invalid_grant"},
		{"access token as code", func(v url.Values) { v.Set("code", access) }, "invalid_grant"},
		{"garbage code", func(v url.Values) { v.Set("code", "abc") }, "invalid_grant"},
		{"code signed by another key", func(v url.Values) { v.Set("code", forgedCode(t, forgerIss, authParams(challenge))) }, "invalid_grant"},
		{"malformed code_verifier", func(v url.Values) { v.Set("code_verifier", "short") }, "invalid_request"},
		{"missing code_verifier", func(v url.Values) { v.Del("code_verifier") }, "invalid_request"},
		{"missing code", func(v url.Values) { v.Del("code") }, "invalid_request"},
		{"missing grant_type", func(v url.Values) { v.Del("grant_type") }, "invalid_request"},
		{"repeated parameter", func(v url.Values) { v.Add("client_id", testClient) }, "invalid_request"},
		{"refresh grant without a refresh token", func(v url.Values) { v.Set("grant_type", "refresh_token") }, "invalid_request"},
		{"password grant", func(v url.Values) { v.Set("grant_type", "password") }, "unsupported_grant_type"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			form := tokenForm(newCode(), verifier)
			tc.mutate(form)
			status, tr := e.token(t, form)
			wantTokenError(t, status, tr, tc.want)
		})
	}

	t.Run("id token as code", func(t *testing.T) {
		_, tr := e.token(t, tokenForm(newCode(), verifier))
		status, tr := e.token(t, tokenForm(tr.IDToken, verifier))
		wantTokenError(t, status, tr, "invalid_grant")
	})

	t.Run("json body", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, e.iss.URL()+"/token", strings.NewReader(`{"grant_type":"authorization_code"}`))
		req.Header.Set("Content-Type", "application/json")
		resp, body := e.do(t, req)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "invalid_request") {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	})

	// A code is never an access token: the API's verifier (aud) and userinfo (typ) refuse it.
	t.Run("code as access token", func(t *testing.T) {
		code := newCode()
		v := oidc.NewVerifier(e.iss.URL(), e.iss.KeySet(), &oidc.Config{ClientID: testAudience})
		if _, err := v.Verify(context.Background(), code); err == nil {
			t.Error("go-oidc accepted a code as an access token")
		}
		resp, _ := e.get(t, "/userinfo", nil, http.Header{"Authorization": {"Bearer " + code}})
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "invalid_token") {
			t.Errorf("userinfo with a code: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	})
}

func TestExpiredCode(t *testing.T) {
	e := newEnv(t)
	verifier, challenge := pkce()
	code := e.authorize(t, authParams(challenge), url.Values{"persona": {"bob"}})

	// Stateless codes stay redeemable until they expire (dev only, documented).
	e.clock.Advance(59 * time.Second)
	if status, tr := e.token(t, tokenForm(code, verifier)); status != http.StatusOK {
		t.Fatalf("code at 59 s: %d %+v", status, tr)
	}
	e.clock.Advance(2 * time.Second)
	status, tr := e.token(t, tokenForm(code, verifier))
	wantTokenError(t, status, tr, "invalid_grant")
	if !strings.Contains(tr.ErrorDescription, "expired") {
		t.Errorf("description %q", tr.ErrorDescription)
	}
}

func TestUserinfoRejects(t *testing.T) {
	e := newEnv(t)
	resp, _ := e.get(t, "/userinfo", nil, nil)
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" ||
		resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("no token: %d %v", resp.StatusCode, resp.Header)
	}
	access, err := e.iss.Mint(TokenRequest{Subject: "bob", TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	resp, _ = e.get(t, "/userinfo", nil, http.Header{"Authorization": {"Bearer " + access}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("expired token: %d", resp.StatusCode)
	}
}
