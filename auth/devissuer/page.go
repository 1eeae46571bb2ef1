package devissuer

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"github.com/waypoint-portal/waypoint/auth"
)

// The pages are plain HTML with no scripts, so they work with any browser,
// screen reader or test driver, and the CSP can forbid scripts outright.
const pagesHTML = `
{{define "head"}}<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{.}} · Waypoint development sign-in</title>
<style>
body{font-family:system-ui,sans-serif;margin:0;color:#1a1a1a;background:#fafafa;line-height:1.5}
.banner{margin:0;padding:.75rem 1rem;background:#7a1f00;color:#fff;font-weight:600}
main{max-width:40rem;margin:0 auto;padding:1rem}
fieldset{border:1px solid #bbb;border-radius:.5rem;margin:1rem 0;padding:1rem}
legend{font-weight:600;padding:0 .25rem}
ul{padding-left:1.25rem}
ul.personas{list-style:none;padding:0;margin:0}
ul.personas li{margin:.5rem 0}
button{font:inherit;cursor:pointer;border-radius:.5rem;border:2px solid #1f4e8c;background:#fff;color:#1f4e8c;padding:.5rem 1rem}
ul.personas button{display:block;width:100%;text-align:left}
button:hover{background:#eaf1fb}
button:focus-visible,input:focus-visible,select:focus-visible{outline:3px solid #f5a623;outline-offset:2px}
.name{display:block;font-weight:600;color:#1a1a1a}
.roles{display:block;font-size:.9rem}
.desc{display:block;font-size:.9rem;color:#444}
label{display:block;margin-top:.75rem;font-weight:600}
input,select{font:inherit;padding:.4rem;width:100%;box-sizing:border-box}
.actions{margin-top:1rem}
.secondary{border-color:#666;color:#333}
.meta{font-size:.85rem;color:#555;word-break:break-all}
</style>
</head>
<body>
<p class="banner" role="note"><span aria-hidden="true">⚠</span> Development only. This is Waypoint's built-in test sign-in: there are no passwords and anyone who can open this page can sign in as anyone. Never expose it beyond this computer.</p>
{{end}}

{{define "hidden"}}
<input type="hidden" name="csrf_token" value="{{.CSRF}}">
{{- with .Request}}
<input type="hidden" name="response_type" value="code">
<input type="hidden" name="client_id" value="{{.ClientID}}">
<input type="hidden" name="redirect_uri" value="{{.RedirectURI}}">
<input type="hidden" name="code_challenge" value="{{.CodeChallenge}}">
<input type="hidden" name="code_challenge_method" value="S256">
<input type="hidden" name="state" value="{{.State}}">
{{- if .Scope}}
<input type="hidden" name="scope" value="{{.Scope}}">{{end}}
{{- if .Nonce}}
<input type="hidden" name="nonce" value="{{.Nonce}}">{{end}}
{{- end}}
{{end}}

{{define "picker"}}{{template "head" "Choose who to sign in as"}}
<main>
<h1>Choose who to sign in as</h1>
<p>The app <strong>{{.Request.ClientID}}</strong> will be able to:</p>
<ul class="scopes">
{{- range .Scopes}}
<li><code>{{.Name}}</code>: {{.Description}}</li>
{{- end}}
</ul>
<p>It will return to <code>{{.Request.RedirectURI}}</code>.</p>

{{if .Personas}}<form method="post" action="{{.Action}}">
{{template "hidden" .}}
<fieldset>
<legend>Sign in as a test persona</legend>
<ul class="personas">
{{- range .Personas}}
<li><button type="submit" name="persona" value="{{.Subject}}"><span class="name">{{.Name}}</span><span class="roles">Role: {{join .Roles}} · subject <code>{{.Subject}}</code></span>{{if .Description}}<span class="desc">{{.Description}}</span>{{end}}</button></li>
{{- end}}
</ul>
</fieldset>
</form>{{end}}

<form method="post" action="{{.Action}}">
{{template "hidden" .}}
<fieldset>
<legend>Or sign in as someone else</legend>
<label for="subject">Subject (the <code>sub</code> claim)</label>
<input id="subject" name="subject" required maxlength="255" autocomplete="off" spellcheck="false">
<label for="name">Display name (optional)</label>
<input id="name" name="name" maxlength="200" autocomplete="off">
<label for="role">Role</label>
<select id="role" name="role">
{{- range .Roles}}
<option value="{{.}}">{{.}}</option>
{{- end}}
</select>
<div class="actions"><button type="submit">Sign in</button></div>
</fieldset>
</form>

<form method="post" action="{{.Action}}">
{{template "hidden" .}}
<button type="submit" name="deny" value="1" class="secondary">Cancel and return to the app</button>
</form>
<p class="meta">Issuer: {{.Issuer}}</p>
</main>
</body>
</html>
{{end}}

{{define "error"}}{{template "head" "Sign-in request refused"}}
<main>
<h1>This sign-in request can't be used</h1>
<p role="alert">{{.}}</p>
<p>The app that sent you here built the request. Nothing was sent back to it; fix the request in the app and try again.</p>
</main>
</body>
</html>
{{end}}
`

func parsePages() (*template.Template, error) {
	t, err := template.New("pages").Funcs(template.FuncMap{
		"join": func(s []string) string { return strings.Join(s, ", ") },
	}).Parse(pagesHTML)
	if err != nil {
		return nil, fmt.Errorf("devissuer: parse page templates: %w", err)
	}
	return t, nil
}

type scopeView struct{ Name, Description string }

type pickerView struct {
	Action  string
	Issuer  string
	Request *authRequest
	// CSRF is the form token every post must carry (csrf.go).
	CSRF     string
	Scopes   []scopeView
	Personas []Persona
	Roles    []string
}

func (i *Issuer) renderPicker(w http.ResponseWriter, ar *authRequest) {
	v := pickerView{
		Action:   i.path + "/authorize",
		Issuer:   i.url,
		Request:  ar,
		CSRF:     i.csrfToken(ar),
		Personas: i.personas,
		Roles:    knownRoles(),
	}
	for _, s := range ar.granted {
		v.Scopes = append(v.Scopes, scopeView{s, auth.AllScopes[s]})
	}
	i.render(w, http.StatusOK, "picker", v)
}

func (i *Issuer) renderError(w http.ResponseWriter, status int, msg string) {
	i.render(w, status, "error", msg)
}

// render executes into a buffer first so a template error becomes a clean
// 500 instead of a half-written page.
func (i *Issuer) render(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := i.pages.ExecuteTemplate(&buf, name, data); err != nil {
		http.Error(w, "internal error rendering page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}
