package api

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/danielgtaylor/huma/v2"

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

// corsOriginHeader is the component (named like the header) that documents
// Access-Control-Allow-Origin on every response.
const corsOriginHeader = "Access-Control-Allow-Origin"

// documentCORS declares Access-Control-Allow-Origin on every response of
// every operation, whoever registered it: wrap sets it on any answer to an
// allowed browser origin.
func documentCORS(oapi *huma.OpenAPI) {
	if oapi.Components.Headers == nil {
		oapi.Components.Headers = map[string]*huma.Header{}
	}
	oapi.Components.Headers[corsOriginHeader] = &huma.Header{
		Description: "CORS: the request's Origin, echoed when it is allowed (WAYPOINT_CORS_ORIGINS; in dev mode also any loopback origin); " +
			"absent for any other origin, so browsers refuse the response. Tokens travel in Authorization, never in cookies, " +
			"so there is no credentials mode.",
		Schema:  &huma.Schema{Type: huma.TypeString, Format: "uri", MaxLength: ptr(2048)},
		Example: "https://app.example.org",
	}
	for _, item := range oapi.Paths {
		for _, op := range []*huma.Operation{item.Get, item.Put, item.Post, item.Delete, item.Patch} {
			if op == nil {
				continue
			}
			for _, r := range op.Responses {
				if r.Headers == nil {
					r.Headers = map[string]*huma.Param{}
				}
				r.Headers[corsOriginHeader] = &huma.Header{Ref: "#/components/headers/" + corsOriginHeader}
			}
		}
	}
}
