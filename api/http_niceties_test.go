package api_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/waypoint-portal/waypoint/api/apitest"
)

// A GET with If-None-Match naming the current ETag answers 304 with no
// body and the ETag echoed; a stale one gets the full 200.
func TestIfNoneMatch(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	e := w.e
	g := newGoal(t, w, w.alice, w.alice, map[string]any{})
	for _, path := range []string{"/v1/me", goalPath(g.ID)} {
		first := e.Do(http.MethodGet, path, w.alice.Token, nil).Want(t, http.StatusOK)
		tag := first.Header.Get("ETag")
		if tag == "" {
			t.Fatalf("%s: no ETag", path)
		}
		for _, inm := range []string{tag, `"999999", ` + tag, "W/" + tag, "*"} {
			r := e.Do(http.MethodGet, path, w.alice.Token, nil, "If-None-Match", inm).Want(t, http.StatusNotModified)
			if len(r.Body) != 0 || r.Header.Get("ETag") != tag || r.Header.Get("Content-Type") != "" {
				t.Fatalf("%s If-None-Match %s: body %q, ETag %q, Content-Type %q", path, inm, r.Body, r.Header.Get("ETag"), r.Header.Get("Content-Type"))
			}
		}
		if r := e.Do(http.MethodGet, path, w.alice.Token, nil, "If-None-Match", `"999999"`).Want(t, http.StatusOK); len(r.Body) == 0 {
			t.Fatalf("%s: stale If-None-Match got no body", path)
		}
	}
}

var linkNext = regexp.MustCompile(`^<([^>]+)>; rel="next"$`)

// Every page but the last links the next one, keeping the query.
func TestLinkNext(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	e := w.e
	for range 3 {
		newGoal(t, w, w.alice, w.alice, map[string]any{})
	}
	seen := 0
	next := goalsPath(w.alice) + "?limit=1&status=active"
	for next != "" {
		r := e.Do(http.MethodGet, next, w.alice.Token, nil).Want(t, http.StatusOK)
		seen++
		l := r.Header.Get("Link")
		var body struct {
			NextCursor string `json:"next_cursor"`
		}
		r.Decode(t, &body)
		if (l == "") != (body.NextCursor == "") {
			t.Fatalf("Link %q with next_cursor %q", l, body.NextCursor)
		}
		if l == "" {
			break
		}
		m := linkNext.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("Link %q", l)
		}
		u, err := url.Parse(m[1])
		if err != nil || u.Query().Get("cursor") != body.NextCursor || u.Query().Get("limit") != "1" {
			t.Fatalf("Link %q does not keep the query with the cursor %q", l, body.NextCursor)
		}
		next = m[1]
	}
	if seen < 2 {
		t.Fatalf("only %d pages", seen)
	}
}

// Problem types are URIs that serve their documentation.
func TestProblemTypesResolve(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	alice := e.Login("alice", "client")
	p := e.Do(http.MethodGet, "/v1/goals/0193a0f0-0000-7000-8000-000000000001", alice.Token, nil).Problem(t, http.StatusNotFound)
	typ, _ := p["type"].(string)
	if !strings.HasPrefix(typ, "/problems/") {
		t.Fatalf("type %q", typ)
	}
	r := e.Do(http.MethodGet, typ, "", nil).Want(t, http.StatusOK)
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(r.Body), "404") {
		t.Fatalf("%s: %s %s", typ, r.Header.Get("Content-Type"), r.Body)
	}
	e.Do(http.MethodGet, "/problems/", "", nil).Want(t, http.StatusOK)
	e.Do(http.MethodGet, "/problems/no-such-type", "", nil).Problem(t, http.StatusNotFound)
}

// /docs comes from the binary: same-origin assets only, typed, under a CSP
// that allows nothing else; the contract's server is relative.
func TestDocsServedOffline(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	r := e.Do(http.MethodGet, "/docs", "", nil).Want(t, http.StatusOK)
	page := string(r.Body)
	if strings.Contains(page, "http://") || strings.Contains(page, "https://") || strings.Contains(page, "//unpkg") {
		t.Fatalf("external URL in the docs page: %s", page)
	}
	csp := r.Header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "connect-src 'self'", "default-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Fatalf("CSP %q lacks %q", csp, want)
		}
	}
	for path, ct := range map[string]string{"/docs/assets/web-components.min.js": "text/javascript", "/docs/assets/styles.min.css": "text/css"} {
		if !strings.Contains(page, path) {
			t.Fatalf("page does not load %s", path)
		}
		a := e.Do(http.MethodGet, path, "", nil).Want(t, http.StatusOK)
		if !strings.HasPrefix(a.Header.Get("Content-Type"), ct) || len(a.Body) < 10000 {
			t.Fatalf("%s: %s, %d bytes", path, a.Header.Get("Content-Type"), len(a.Body))
		}
	}
	// Without the dev issuer there is no sign-in for "Try it": no banner, no page, no script.
	if strings.Contains(page, "/docs/login") {
		t.Fatalf("production docs link the dev sign-in: %s", page)
	}
	e.Do(http.MethodGet, "/docs/login", "", nil).Problem(t, http.StatusNotFound)
	e.Do(http.MethodGet, "/docs/assets/login.js", "", nil).Problem(t, http.StatusNotFound)
	if spec := string(e.Do(http.MethodGet, "/openapi.yaml", "", nil).Want(t, http.StatusOK).Body); strings.Contains(spec, "127.0.0.1:8080") {
		t.Fatal("the contract still names a fixed server address")
	}
	if a := e.Do(http.MethodGet, "/asyncapi.yaml", "", nil).Want(t, http.StatusOK); !strings.Contains(string(a.Body), "asyncapi: 3.0.0") {
		t.Fatalf("asyncapi.yaml: %s", a.Body)
	}
}
