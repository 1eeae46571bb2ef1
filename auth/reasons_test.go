package auth_test

import (
	"strings"
	"testing"
	"time"

	"github.com/waypoint-portal/waypoint/auth"
	"github.com/waypoint-portal/waypoint/auth/authtest"
)

// Every refusal says why, with the values compared (dev mode shows it in the
// 401; production logs it): the cases a developer meets when a token was
// minted for another server.
func TestVerifyReasons(t *testing.T) {
	iss := authtest.NewIssuer(t)
	other := authtest.NewIssuer(t)
	v := newVerifier(t, iss.Config())
	exp := time.Now().Add(-2 * time.Minute).Unix()
	token := func(opts ...authtest.Option) string { return iss.Token(t, "alice", []string{auth.RoleClient}, opts...) }
	cases := []struct {
		name, token string
		want        []string
	}{
		{"issuer", token(authtest.WithClaim("iss", "http://127.0.0.1:9999/dev/oidc")),
			[]string{`issuer mismatch: expected "` + iss.URL + `", got "http://127.0.0.1:9999/dev/oidc"`}},
		{"unknown key", other.Token(t, "alice", nil),
			[]string{"unknown signing key", `it names issuer "` + other.URL + `" where this server expects "` + iss.URL + `"`}},
		{"unknown kid", token(authtest.WithHeader("kid", "forged")), []string{"unknown signing key", `kid "forged"`}},
		{"expired", token(authtest.WithClaim("exp", exp)),
			[]string{"expired at " + time.Unix(exp, 0).UTC().Format(time.RFC3339)}},
		{"audience", token(authtest.WithClaim("aud", []string{"api-a", "api-b"})),
			[]string{`wrong audience: expected "` + authtest.Audience + `" in aud, got ["api-a", "api-b"]`}},
		{"ID token typ", token(authtest.WithHeader("typ", "id+jwt")), []string{`not an access token: typ "id+jwt"`}},
		{"ID token nonce", token(authtest.WithHeader("typ", "JWT"), authtest.WithClaim("nonce", "n1"), authtest.WithClaim("aud", "spa")),
			[]string{"not an access token: it carries a nonce"}},
		{"hostile issuer is quoted and bounded", token(authtest.WithClaim("iss", "x\n"+strings.Repeat("y", 5000))),
			[]string{`got "x\ny`, `yyy…"`}},
	}
	for _, tc := range cases {
		_, err := v.Verify(t.Context(), tc.token)
		r := auth.Reason(err)
		for _, w := range tc.want {
			if !strings.Contains(r, w) {
				t.Errorf("%s: reason %q lacks %q (err %v)", tc.name, r, w, err)
			}
		}
		if len(r) > 1000 || strings.Contains(r, tc.token) {
			t.Errorf("%s: reason too long (%d) or contains the token", tc.name, len(r))
		}
	}
	if r := auth.Reason(auth.ErrKeysUnavailable); r != "" {
		t.Errorf("Reason of a non-token error = %q, want empty", r)
	}
}
