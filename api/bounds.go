package api

import (
	"net/http"
	"slices"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/waypoint-portal/waypoint/auth"
	"github.com/waypoint-portal/waypoint/domain"
)

// Every string, list and integer of the contract carries a bound (`make
// lint-openapi` runs the OWASP resource-limit rules), and every bound is
// true: requests are validated against it (422 naming the member), and no
// response exceeds it (apitest checks every response of every test against
// the committed document). Most bounds are the domain's (domain.Rules,
// named in rule tags); this file holds the ones that are the API's own: how
// long each string format is written, the HTTP headers, and the members of
// problems and of the stream.

// Bounds of the HTTP headers the API reads and writes.
const (
	// maxConditionalHeader bounds If-Match and If-None-Match: room for a
	// list of dozens of ETags (clients send one, or *).
	maxConditionalHeader = 1000
	// maxLocationHeader bounds Location, a path such as
	// /v1/clients/{clientId}/supporters/{personId}.
	maxLocationHeader = 200
	// maxContentDisposition bounds the export's
	// attachment; filename="waypoint-export-<clientId>-<date>.json".
	maxContentDisposition = 200
	// maxSearchCorrected bounds Search-Corrected, the search words as
	// corrected: twice the 200 characters search takes (a longer correction
	// is not announced).
	maxSearchCorrected = 400
	// maxRateLimitHeader bounds RateLimit and RateLimit-Policy: two policies,
	// each a short name and two numbers below 10^10.
	maxRateLimitHeader = 200
	// maxAcceptLanguage bounds Accept-Language: a list of a dozen weighted tags.
	maxAcceptLanguage = 500
)

// maxRetryAfter is the longest Retry-After any answer asks for, in seconds:
// one request's refill at the slowest rate a policy can be set to (1 per
// hour), or the window of supporter code attempts.
var maxRetryAfter = int64(max(time.Hour, domain.RedeemWindow) / time.Second)

// Bounds of problem members. newProblem cuts what it is given to them, so
// no problem is longer whatever text a failure carries (a path, a member name).
const (
	maxProblemType     = 200
	maxProblemTitle    = 100
	maxProblemText     = 2000 // detail, and each error's message
	maxProblemLocation = 500
	maxProblemInstance = 2000
	maxProblemErrors   = 100
)

// formatMaxLength is how long a string of format can be, as the API writes
// and reads it: a UUID (36), an RFC 3339 date-time (RFC3339Nano, the longest
// Go writes: 35) and a full-date (10).
func formatMaxLength(format string) (int, bool) {
	switch format {
	case "uuid":
		return len("01936f5e-6c1a-7b3e-9d2f-3a4b5c6d7e8f"), true
	case "date-time":
		return len(time.RFC3339Nano), true
	case "date":
		return len(time.DateOnly), true
	}
	return 0, false
}

// FormatMaxLength exposes formatMaxLength to the contract tests.
func FormatMaxLength(format string) (int, bool) { return formatMaxLength(format) }

// apiRules are the rules the API declares itself, used like the domain's in
// rule tags: scopes are package auth's, the rest the API's own wire format.
func apiRules() []domain.Rule {
	scopes := domain.Rule{Name: "api.scopes", MaxItems: len(auth.AllScopes)}
	for name := range auth.AllScopes {
		scopes.Enum = append(scopes.Enum, name)
	}
	slices.Sort(scopes.Enum)
	lo, hi := int64(400), int64(599)
	return []domain.Rule{
		scopes,
		{Name: "problem.type", MaxLen: maxProblemType},
		{Name: "problem.title", MaxLen: maxProblemTitle},
		{Name: "problem.status", Min: &lo, Max: &hi},
		{Name: "problem.text", MaxLen: maxProblemText},
		{Name: "problem.location", MaxLen: maxProblemLocation},
		{Name: "problem.instance", MaxLen: maxProblemInstance},
		{Name: "problem.errors", MaxItems: maxProblemErrors},
		{Name: "event.resync_reason", Enum: []string{resyncReason}},
	}
}

// Rules lists every rule a rule tag may name: the domain's, then the API's.
func Rules() []domain.Rule { return append(domain.Rules(), apiRules()...) }

// RuleByName finds a rule of Rules by name.
func RuleByName(name string) (domain.Rule, bool) {
	if r, ok := domain.RuleByName(name); ok {
		return r, true
	}
	for _, r := range apiRules() {
		if r.Name == name {
			return r, true
		}
	}
	return domain.Rule{}, false
}

// boundDocument puts the API's own bounds on every schema of the document
// that states none: each string by its format, and the headers by name. It
// runs once everything is registered; parameter schemas are the ones Huma
// validates requests against, so the bounds hold for requests too.
func boundDocument(oapi *huma.OpenAPI) {
	seen := map[*huma.Schema]bool{}
	bound := func(s *huma.Schema) { walkSchemas(s, seen, boundFormat) }
	for _, s := range oapi.Components.Schemas.Map() {
		bound(s)
	}
	for name, h := range oapi.Components.Headers {
		boundHeader(name, h.Schema)
		bound(h.Schema)
	}
	for _, item := range oapi.Paths {
		for _, op := range []*huma.Operation{item.Get, item.Put, item.Post, item.Delete, item.Patch} {
			if op == nil {
				continue
			}
			for _, p := range op.Parameters {
				if p.In == "header" {
					boundHeader(p.Name, p.Schema)
				}
				bound(p.Schema)
			}
			if op.RequestBody != nil {
				for _, mt := range op.RequestBody.Content {
					bound(mt.Schema)
				}
			}
			for _, r := range op.Responses {
				for name, h := range r.Headers {
					boundHeader(name, h.Schema)
					bound(h.Schema)
				}
				for _, mt := range r.Content {
					bound(mt.Schema)
				}
			}
		}
	}
}

// walkSchemas calls fn on s and every schema inside it, once each.
func walkSchemas(s *huma.Schema, seen map[*huma.Schema]bool, fn func(*huma.Schema)) {
	if s == nil || seen[s] {
		return
	}
	seen[s] = true
	fn(s)
	for _, p := range s.Properties {
		walkSchemas(p, seen, fn)
	}
	walkSchemas(s.Items, seen, fn)
	walkSchemas(s.Not, seen, fn)
	for _, list := range [][]*huma.Schema{s.OneOf, s.AnyOf, s.AllOf} {
		for _, v := range list {
			walkSchemas(v, seen, fn)
		}
	}
	if ap, ok := s.AdditionalProperties.(*huma.Schema); ok {
		walkSchemas(ap, seen, fn)
	}
}

// boundFormat gives a string of a known format its length.
func boundFormat(s *huma.Schema) {
	if s.Type != huma.TypeString || s.MaxLength != nil {
		return
	}
	if n, ok := formatMaxLength(s.Format); ok {
		s.MaxLength = &n
		s.PrecomputeMessages()
	}
}

// boundHeader bounds a header's value by the header's name (s is nil for a
// header given by reference: its component is bounded on its own).
func boundHeader(name string, s *huma.Schema) {
	if s == nil {
		return
	}
	switch http.CanonicalHeaderKey(name) {
	case "Etag":
		// A strong ETag is a version in quotes (etag).
		s.MaxLength = ptr(len(etag(domain.MaxSafeInteger)))
		s.Pattern = `^"[1-9][0-9]*"$`
	case "If-Match", "If-None-Match":
		s.MaxLength = ptr(maxConditionalHeader)
	case "Location":
		s.MaxLength = ptr(maxLocationHeader)
	case "Content-Disposition":
		s.MaxLength = ptr(maxContentDisposition)
	case "Search-Corrected":
		s.MaxLength = ptr(maxSearchCorrected)
	case "Vary":
		s.Enum = []any{"Accept", "Accept-Language"}
	case "Accept-Language":
		s.MaxLength = ptr(maxAcceptLanguage)
	case "Content-Language":
		s.Enum = []any{}
		for _, l := range domain.AssessmentLanguages() {
			s.Enum = append(s.Enum, l)
		}
	case "Waypoint-Redisclosure":
		s.Enum = []any{domain.RedisclosureNotice}
	default:
		return
	}
	s.PrecomputeMessages()
}
