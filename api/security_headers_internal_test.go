package api

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"
)

// A request that arrived over TLS gets HSTS; one over plain HTTP does not.
func TestStrictTransportSecurityOverTLS(t *testing.T) {
	t.Parallel()
	h := (&Server{}).securityHeaders(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	for _, tc := range []struct {
		tls  bool
		want string
	}{{true, hstsValue}, {false, ""}} {
		r := httptest.NewRequest(http.MethodGet, "/v1/me", nil)
		if tc.tls {
			r.TLS = &tls.ConnectionState{}
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if got := w.Header().Get("Strict-Transport-Security"); got != tc.want {
			t.Errorf("TLS %v: HSTS %q; want %q", tc.tls, got, tc.want)
		}
	}
}
