package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/api/apitest"
)

// missingSecurityHeaders names what a response lacks of the headers every
// response carries ("" when nothing). Over plain HTTP there is no HSTS.
func missingSecurityHeaders(h http.Header) string {
	var missing []string
	for k, want := range map[string]string{
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
	} {
		if got := h.Get(k); got != want {
			missing = append(missing, k+": "+got+" (want "+want+")")
		}
	}
	if h.Get("Strict-Transport-Security") != "" {
		missing = append(missing, "Strict-Transport-Security over plain HTTP")
	}
	return strings.Join(missing, "; ")
}

// Successes, errors of operations, unknown paths and methods, the document
// and unauthenticated answers all carry the security headers; only the
// docs page brings its own Content-Security-Policy (it loads its assets).
func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	alice := e.Login("alice", "client")
	for _, c := range []struct {
		method, path, token string
		status              int
	}{
		{http.MethodGet, "/v1/me", alice.Token, http.StatusOK},
		{http.MethodGet, "/v1/goals/" + uuid.NewString(), alice.Token, http.StatusNotFound},
		{http.MethodGet, "/v1/me", "", http.StatusUnauthorized},
		{http.MethodPatch, "/v1/me", alice.Token, http.StatusUnsupportedMediaType},
		{http.MethodGet, "/v1/nowhere", alice.Token, http.StatusNotFound},
		{http.MethodDelete, "/v1/me", alice.Token, http.StatusMethodNotAllowed},
		{http.MethodGet, "/healthz", "", http.StatusOK},
		{http.MethodGet, "/openapi.json", "", http.StatusOK},
	} {
		var r *apitest.Resp
		if c.method == http.MethodPatch {
			r = e.Do(c.method, c.path, c.token, "{}", "Content-Type", "text/plain")
		} else {
			r = e.Do(c.method, c.path, c.token, nil)
		}
		r.Want(t, c.status)
		if msg := missingSecurityHeaders(r.Header); msg != "" {
			t.Errorf("%s %s (%d): %s", c.method, c.path, c.status, msg)
		}
		if c.status >= 400 && r.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s %s (%d): Cache-Control %q", c.method, c.path, c.status, r.Header.Get("Cache-Control"))
		}
	}
	docs := e.Do(http.MethodGet, "/docs", "", nil).Want(t, http.StatusOK)
	if csp := docs.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src") || docs.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("/docs: Content-Security-Policy %q, X-Content-Type-Options %q; want its own policy and nosniff", csp, docs.Header.Get("X-Content-Type-Options"))
	}
}

// HSTS goes out only when the client reached us over TLS: a trusted proxy
// says so in X-Forwarded-Proto; anyone else saying so is ignored.
func TestStrictTransportSecurityBehindTrustedProxy(t *testing.T) {
	t.Parallel()
	const hsts = "max-age=63072000; includeSubDomains"
	behind := apitest.NewWith(t, trustLoopback())
	for proto, want := range map[string]string{"https": hsts, "HTTPS": hsts, "http": "", "https, http": hsts, "": ""} {
		r := behind.Do(http.MethodGet, "/v1/me", "", nil, "X-Forwarded-Proto", proto).Want(t, http.StatusUnauthorized)
		if got := r.Header.Get("Strict-Transport-Security"); got != want {
			t.Errorf("X-Forwarded-Proto %q from a trusted proxy: HSTS %q; want %q", proto, got, want)
		}
	}
	direct := apitest.New(t)
	r := direct.Do(http.MethodGet, "/healthz", "", nil, "X-Forwarded-Proto", "https").Want(t, http.StatusOK)
	if got := r.Header.Get("Strict-Transport-Security"); got != "" {
		t.Errorf("X-Forwarded-Proto from an untrusted peer: HSTS %q; want none", got)
	}
}
