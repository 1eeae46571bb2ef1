package api

import "net/http"

// Security headers every response starts with. Handlers that serve HTML
// replace the policy with their own (the /docs page, the dev issuer's
// persona page) or the Referrer-Policy (the persona page's form post).
const (
	// API responses are data, never documents: nothing may load from or frame them.
	defaultCSP = "default-src 'none'; frame-ancestors 'none'"
	// Two years, the usual preload-list minimum; subdomains too.
	hstsValue = "max-age=63072000; includeSubDomains"
)

// securityHeaders sets the headers that keep a browser from sniffing a
// response into something executable, leaking the URL (which can hold a
// client id or a search for help) to another site, framing the API, or
// ever reaching it over plain HTTP once it has been seen over TLS.
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", defaultCSP)
		// Over TLS only: RFC 6797 forbids it on plain HTTP responses.
		if s.proxies.overTLS(r) {
			h.Set("Strict-Transport-Security", hstsValue)
		}
		next.ServeHTTP(w, r)
	})
}
