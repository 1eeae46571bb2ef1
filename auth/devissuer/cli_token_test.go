package devissuer

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// `waypoint dev token --server` gets its token from the running issuer:
// the issuer's own iss, key and audience, roles exactly as asked.
func TestCLITokenEndpoint(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	tok, err := FetchToken(ctx, http.DefaultClient, e.iss.URL(), TokenRequest{Subject: "alice", Roles: []string{"client"}, TTL: 90 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	it, c := verifyAccess(t, e.iss, tok)
	if it.Issuer != e.iss.URL() || it.Subject != "alice" || c.Name != "Alice Johnson" || !slices.Equal(c.Roles, []string{"client"}) ||
		c.Exp-c.Iat != 90 || len(strings.Fields(c.Scope)) != len(allScopes()) {
		t.Fatalf("claims %+v", c)
	}
	// A role-less token is asked for explicitly; scopes as given, [] included.
	tok, err = FetchToken(ctx, http.DefaultClient, e.iss.URL()+"/", TokenRequest{Subject: "sam", Scopes: []string{}, ClientID: "tests"})
	if err != nil {
		t.Fatal(err)
	}
	_, c = verifyAccess(t, e.iss, tok)
	if c.Name != "sam" || len(c.Roles) != 0 || c.Scope != "" || c.Azp != "tests" {
		t.Fatalf("role-less token claims %+v", c)
	}
	// Bad requests say what is wrong (the CLI prints the detail).
	_, err = FetchToken(ctx, http.DefaultClient, e.iss.URL(), TokenRequest{Subject: "", Roles: []string{"client"}})
	var fe *FetchError
	if !errors.As(err, &fe) || fe.Status != http.StatusBadRequest || !strings.Contains(fe.Detail, "subject is required") {
		t.Fatalf("empty subject: %v", err)
	}
	post := func(body, ct string, hdr ...string) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodPost, e.iss.URL()+CLITokenPath, strings.NewReader(body))
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		return e.do(t, req)
	}
	for _, tc := range []struct {
		body, ct string
		hdr      []string
		status   int
		detail   string
	}{
		{`{"subject":"alice"}`, "application/json", nil, 400, "roles is required"},
		{`{"subject":"alice","roles":null}`, "application/json", nil, 400, "roles is required"},
		{`{"subject":"alice","roles":[],"admin":true}`, "application/json", nil, 400, "one JSON object"},
		{`{"subject":"alice","roles":[]} {}`, "application/json", nil, 400, "one JSON object"},
		{`{"subject":"alice","roles":[],"ttl_seconds":-1}`, "application/json", nil, 400, "ttl_seconds"},
		{`{"subject":"alice","roles":[],"ttl_seconds":9223372036854775807}`, "application/json", nil, 400, "ttl_seconds"},
		{`{"subject":"alice","roles":["bad role"]}`, "application/json", nil, 400, "invalid role"},
		{`{"subject":"alice","roles":[]}`, "text/plain", nil, 415, "application/json"},
		{`{"subject":"alice","roles":[]}`, "", nil, 415, "application/json"},
		// A page in a browser cannot mint: cross-site marks are refused.
		{`{"subject":"alice","roles":["admin"]}`, "application/json", []string{"Sec-Fetch-Site", "cross-site"}, 403, "cross-origin"},
		{`{"subject":"alice","roles":["admin"]}`, "application/json", []string{"Origin", "https://evil.example"}, 403, "cross-origin"},
	} {
		res, body := post(tc.body, tc.ct, tc.hdr...)
		if res.StatusCode != tc.status || !strings.Contains(body, tc.detail) || strings.Contains(body, "access_token") {
			t.Errorf("POST %s (%s %v): %d %s; want %d naming %q", tc.body, tc.ct, tc.hdr, res.StatusCode, body, tc.status, tc.detail)
		}
	}
	// No CORS: a preflight is answered without Access-Control-Allow-*.
	req, _ := http.NewRequest(http.MethodOptions, e.iss.URL()+CLITokenPath, nil)
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	if res, _ := e.do(t, req); res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("preflight granted CORS: %v", res.Header)
	}
	if res, _ := e.get(t, CLITokenPath, nil, nil); res.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET: %d", res.StatusCode)
	}
	// And a rebound DNS name (foreign Host) gets 421, as everywhere in dev mode.
	if res, _ := e.rebound(t, http.MethodPost, CLITokenPath, nil, http.Header{"Content-Type": {"application/json"}}); res.StatusCode != http.StatusMisdirectedRequest {
		t.Fatalf("rebound Host: %d", res.StatusCode)
	}
}
