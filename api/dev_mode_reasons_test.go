package api_test

import (
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/waypoint-portal/waypoint/api/apitest"
	"github.com/waypoint-portal/waypoint/auth/authtest"
	"github.com/waypoint-portal/waypoint/auth/devissuer"
	"github.com/waypoint-portal/waypoint/domain"
)

const terse401 = "the access token is invalid or expired"

// signRaw signs claims with key as a JWT of type typ (tokens the dev
// issuer would never mint: expired, ID tokens).
func signRaw(t *testing.T, key *rsa.PrivateKey, typ string, claims map[string]any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithType(jose.ContentType(typ)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(claims)
	jws, err := s.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func mintWith(t *testing.T, issuerURL, audience string, key *rsa.PrivateKey) string {
	t.Helper()
	iss, err := devissuer.New(issuerURL, audience, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := iss.Mint(devissuer.TokenRequest{Subject: "alice", Roles: []string{"client"}})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// In dev mode a refused token's 401 says why, with the values compared, and
// how to get one this server accepts; production answers the same tokens with
// the same terse detail as ever. Nobody is provisioned either way.
func TestInvalidTokenDetailInDevMode(t *testing.T) {
	t.Parallel()
	db, _ := apitest.NewDB(t)
	d := newDevServer(t, domain.NewStore(db))
	otherKey, err := devissuer.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	expired := time.Now().Add(-time.Hour).Truncate(time.Second)
	base := func(extra map[string]any) map[string]any {
		c := map[string]any{"iss": d.iss.URL(), "sub": "alice", "aud": []string{"waypoint"}, "exp": time.Now().Add(time.Hour).Unix()}
		for k, v := range extra {
			c[k] = v
		}
		return c
	}
	host := strings.TrimPrefix(d.srv.URL, "http://")
	cases := map[string]struct{ token, want string }{
		"another WAYPOINT_ADDR": {mintWith(t, "http://127.0.0.1:9/dev/oidc", "waypoint", d.key),
			`issuer mismatch: expected "` + d.iss.URL() + `", got "http://127.0.0.1:9/dev/oidc"`},
		"another DATABASE_URL (key)": {mintWith(t, d.iss.URL(), "waypoint", otherKey), "unknown signing key"},
		"wrong audience":             {mintWith(t, d.iss.URL(), "billing", d.key), `wrong audience: expected "waypoint" in aud, got ["billing"]`},
		"expired": {signRaw(t, d.key, "at+jwt", base(map[string]any{"exp": expired.Unix()})),
			"expired at " + expired.UTC().Format(time.RFC3339)},
		"ID token": {signRaw(t, d.key, "JWT", base(map[string]any{"nonce": "n-1"})), "not an access token"},
	}
	for name, tc := range cases {
		res, body := d.do(t, http.MethodGet, "/v1/me", "", nil, "Authorization", "Bearer "+tc.token)
		var p struct{ Detail string }
		_ = json.Unmarshal(body, &p)
		if res.StatusCode != http.StatusUnauthorized || !strings.Contains(p.Detail, tc.want) ||
			!strings.Contains(p.Detail, "waypoint dev token --server http://"+host) ||
			!strings.Contains(res.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Errorf("dev, %s: %d %q (WWW-Authenticate %q); want 401 saying %q", name, res.StatusCode, p.Detail,
				res.Header.Get("WWW-Authenticate"), tc.want)
		}
	}
	var people int64
	if err := db.Raw(`SELECT count(*) FROM people`).Scan(&people).Error; err != nil || people != 0 {
		t.Fatalf("%d people provisioned from refused tokens (%v)", people, err)
	}

	// A role-less dev token is told why it is refused beyond /v1/me.
	roleless, err := d.iss.Mint(devissuer.TokenRequest{Subject: "sam", Roles: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	res, body := d.do(t, http.MethodGet, "/v1/clients", "", nil, "Authorization", "Bearer "+roleless)
	if res.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "dev mode: this token carries no Waypoint role") {
		t.Fatalf("role-less dev token: %d %s", res.StatusCode, body)
	}
}

func TestInvalidTokenDetailInProductionIsTerse(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	iss := e.Issuer
	other := authtest.NewIssuer(t)
	for name, tok := range map[string]string{
		"another issuer": iss.Token(t, "alice", []string{"client"}, authtest.WithClaim("iss", "http://127.0.0.1:9/dev/oidc")),
		"unknown key":    other.Token(t, "alice", []string{"client"}),
		"wrong audience": iss.Token(t, "alice", []string{"client"}, authtest.WithClaim("aud", "billing")),
		"expired":        iss.Token(t, "alice", []string{"client"}, authtest.WithClaim("exp", time.Now().Add(-time.Hour).Unix())),
		"ID token":       iss.Token(t, "alice", []string{"client"}, authtest.WithClaim("nonce", "n-1")),
	} {
		p := e.Do(http.MethodGet, "/v1/me", tok, nil).Problem(t, http.StatusUnauthorized)
		if p["detail"] != terse401 {
			t.Errorf("production, %s: detail %q, want %q", name, p["detail"], terse401)
		}
	}
	bob := e.Login("bob")
	p := e.Do(http.MethodGet, "/v1/clients", bob.Token, nil).Problem(t, http.StatusForbidden)
	if d, _ := p["detail"].(string); strings.Contains(d, "dev mode") {
		t.Errorf("production role-less 403 mentions dev mode: %q", d)
	}
}
