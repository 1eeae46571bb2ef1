package api

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/waypoint-portal/waypoint/auth/devissuer"
)

// CORS lets browser front ends on other origins call the API. Tokens travel
// in the Authorization header (never cookies), so no credentials mode is needed.
type CORS struct {
	// Origins allowed exactly (scheme://host[:port]).
	Origins []string
	// AllowLoopback also allows any http(s) origin on a loopback host (dev mode; devissuer.LoopbackHost).
	AllowLoopback bool
}

// Allowed reports whether a browser origin may call the API.
func (c CORS) Allowed(origin string) bool {
	if origin == "" {
		return false
	}
	if slices.Contains(c.Origins, origin) {
		return true
	}
	if !c.AllowLoopback {
		return false
	}
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	return devissuer.LoopbackHost(u.Host)
}

const (
	corsAllowHeaders  = "Authorization, Content-Type, If-Match, If-None-Match, Idempotency-Key, Last-Event-ID, X-Request-Id"
	corsExposeHeaders = "ETag, Location, Retry-After, RateLimit, RateLimit-Policy, X-Request-Id, Idempotent-Replayed, WWW-Authenticate, Link, Search-Corrected, Waypoint-Redisclosure, Content-Disposition"
	corsAllowMethods  = "GET, POST, PUT, PATCH, DELETE"
)

func (c CORS) wrap(next http.Handler) http.Handler {
	if len(c.Origins) == 0 && !c.AllowLoopback {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if !c.Allowed(origin) {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Add("Vary", "Origin")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", corsAllowMethods)
			h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
		next.ServeHTTP(w, r)
	})
}

// ParseOrigins splits a comma-separated origin list (WAYPOINT_CORS_ORIGINS).
func ParseOrigins(s string) []string {
	var out []string
	for _, o := range strings.Split(s, ",") {
		if o = strings.TrimRight(strings.TrimSpace(o), "/"); o != "" {
			out = append(out, o)
		}
	}
	return out
}
