package api

import (
	"html/template"
	"net/http"
	"slices"
	"strings"
)

// problemDoc documents one problem type: the page its type URI resolves to.
type problemDoc struct {
	Status int
	Slug   string
	// Meaning and Do are what a developer reads at /problems/{slug}.
	Meaning, Do string
}

// problemDocs is every problem type Waypoint answers with, in one place: a
// Problem's type is problemTypeBase + the slug of its status, and that URI
// serves the entry's page. A status the API can answer that is missing here
// fails TestProblemTypesDocumented.
var problemDocs = []problemDoc{
	{400, "bad-request", "The request could not be read: malformed JSON, a body where none is taken, or a header that cannot be parsed.",
		"Fix the request; `detail` and `errors` say what was wrong. Retrying it unchanged gives the same answer."},
	{401, "unauthorized", "No access token, or one that is not valid here (expired, wrong issuer or audience, unknown signing key). " +
		"`WWW-Authenticate` says which; in dev mode `detail` says why.",
		"Get a fresh access token from the configured OIDC provider (in dev mode: `waypoint dev token` or the dev issuer's login) and retry."},
	{403, "forbidden", "You can see the resource, but your role or your token's scopes do not allow this action. " +
		"A missing scope is named in `WWW-Authenticate: Bearer error=\"insufficient_scope\", scope=\"...\"`.",
		"Ask for the scope when you request the token, or act as a person who may do this. Resources you may not see are 404, never 403."},
	{404, "not-found", "There is no such resource, or you may not see it (Waypoint does not tell the two apart, so nothing leaks).",
		"Check the id and that you act as someone who can see it (a client's care team, the client, a supporter with that share)."},
	{405, "method-not-allowed", "The path exists but does not take this method.", "Use a method listed in `Allow`."},
	{406, "not-acceptable", "No representation in a media type your `Accept` allows.", "Accept application/json (or what the operation documents)."},
	{409, "conflict", "The request conflicts with the current state, for example a create with an `Idempotency-Key` whose first request is still in flight, or a duplicate.",
		"Wait and retry with the same `Idempotency-Key`, or read the current state first."},
	{412, "precondition-failed", "`If-Match` named a version that is no longer current: someone changed the resource since you read it. " +
		"The response's `ETag` is the current version.",
		"Read the resource again, re-apply your change to what is there now, and retry with the new ETag. Never retry blindly with `If-Match: *`."},
	{413, "content-too-large", "The request body is larger than the operation takes (1 MiB unless documented otherwise).", "Send less."},
	{415, "unsupported-media-type", "The body's `Content-Type` is not one the operation takes; PATCH takes `application/merge-patch+json`.",
		"Send the media type the operation documents."},
	{421, "misdirected-request", "A dev-mode server only answers requests whose Host is loopback (no DNS rebinding into the dev issuer).",
		"Call it as 127.0.0.1, localhost or [::1]."},
	{422, "validation-error", "The request is well-formed but its content is not acceptable; `errors` names each failing location " +
		"(`body.title`, `query.limit`, `path.goalId`) with a message. Also: a lifecycle move that is not yours to make, or an `Idempotency-Key` reused with another body.",
		"Fix the named fields. Unknown body members are refused too: send only the documented ones."},
	{428, "precondition-required", "Changing a versioned resource requires `If-Match` with the ETag from your last read.",
		"Read the resource, then send its `ETag` as `If-Match`."},
	{429, "too-many-requests", "You are over a rate limit (per client address or per person; see `RateLimit-Policy`), or too many event streams are open.",
		"Wait the seconds in `Retry-After`, then retry; slow down."},
	{500, "internal-error", "Something went wrong on Waypoint's side. The body carries no internals; the server log has them under the request id.",
		"Retry later; if it persists, report the `request_id`. Nothing was changed unless the response said so."},
	{503, "service-unavailable", "Waypoint cannot serve the request right now: its database or the token provider's keys are unreachable, or live events are unavailable.",
		"Wait the seconds in `Retry-After`, then retry; a POST with the same `Idempotency-Key` is not applied twice."},
}

// problemTypeBase is where the problem type pages are served; type URIs are
// relative references to them, so they resolve on whatever host answered.
const problemTypeBase = "/problems/"

// problemType is the type URI of a problem with status: its page, or
// about:blank (RFC 9457 §4.2.1) for a status with none.
func problemType(status int) string {
	for _, d := range problemDocs {
		if d.Status == status {
			return problemTypeBase + d.Slug
		}
	}
	return problemTypeBlank
}

var problemPage = template.Must(template.New("problem").Funcs(template.FuncMap{"code": codeSpans}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{if .One}}{{.One.Slug}} ({{.One.Status}}){{else}}Problem types{{end}} · Waypoint API</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}code{background:#f2f2f2;padding:0 .2em}dt{font-weight:600;margin-top:1rem}</style>
</head><body>
{{if .One}}<p><a href="/problems/">All problem types</a> · <a href="/docs">API reference</a></p>
<h1 id="{{.One.Slug}}">{{.One.Slug}}</h1>
<p>HTTP status <strong>{{.One.Status}}</strong>. Problems of this type are <code>application/problem+json</code> (RFC 9457) with <code>"type": "/problems/{{.One.Slug}}"</code>.</p>
<h2>What it means</h2><p>{{code .One.Meaning}}</p>
<h2>What to do</h2><p>{{code .One.Do}}</p>
{{else}}<p><a href="/docs">API reference</a></p>
<h1>Problem types</h1>
<p>Every error is <code>application/problem+json</code> (RFC 9457); its <code>type</code> is one of these pages. Quote <code>request_id</code> to support.</p>
<dl>{{range .All}}<dt id="{{.Slug}}"><a href="/problems/{{.Slug}}">{{.Slug}}</a> ({{.Status}})</dt><dd>{{code .Meaning}}</dd>{{end}}</dl>
{{end}}</body></html>
`))

// codeSpans renders `...` as <code>, escaping everything else.
func codeSpans(s string) template.HTML {
	parts := strings.Split(s, "`")
	var b strings.Builder
	for i, p := range parts {
		if i%2 == 1 {
			b.WriteString("<code>" + template.HTMLEscapeString(p) + "</code>")
		} else {
			b.WriteString(template.HTMLEscapeString(p))
		}
	}
	return template.HTML(b.String())
}

// problemPageCSP lets the page use only its own inline styles.
const problemPageCSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// serveProblems serves GET /problems/ (the index) and /problems/{slug}.
func serveProblems(w http.ResponseWriter, r *http.Request) {
	slug := r.PathValue("slug")
	data := struct {
		One *problemDoc
		All []problemDoc
	}{All: problemDocs}
	if slug != "" {
		i := slices.IndexFunc(problemDocs, func(d problemDoc) bool { return d.Slug == slug })
		if i < 0 {
			writeProblem(w, r, newProblem(r.Context(), http.StatusNotFound, "no such problem type; see /problems/"))
			return
		}
		data.One = &problemDocs[i]
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", problemPageCSP)
	// Public documentation, the same for everyone: caches may keep it.
	h.Set("Cache-Control", "public, max-age=3600")
	_ = problemPage.Execute(w, data)
}
