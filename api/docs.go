package api

import (
	"compress/gzip"
	"embed"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// docsAssets is Stoplight Elements (npm @stoplight/elements 9.0.25, see
// scripts/vendor-docs.sh), gzipped: /docs works offline and on any address.
//
//go:embed docsui/*.gz
var docsAssets embed.FS

// docsCSP allows the page exactly what Elements needs from its own origin:
// its script and styles, inline styles it sets itself, data: images and
// fonts, and "Try it" calls to the same origin, whatever address it is on.
const docsCSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// docsPage references only same-origin URLs; the spec's server is relative
// ("/"), so "Try it" calls whichever address served the page. %s is the
// dev-mode banner (docsDevBanner), empty in production.
const docsPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Waypoint API reference</title>
<link rel="stylesheet" href="/docs/assets/styles.min.css">
<script src="/docs/assets/web-components.min.js"></script>
</head>
<body style="height:100vh;margin:0;display:flex;flex-direction:column">
%s<div style="flex:1;min-height:0">
<elements-api apiDescriptionUrl="/openapi.yaml" router="hash" layout="sidebar" tryItCredentialsPolicy="omit"></elements-api>
</div>
</body>
</html>
`

// docsDevBanner points "Try it" users at the dev issuer's sign-in. Stoplight
// Elements 9 cannot run an OAuth flow itself: for an oauth2 scheme its "Try
// it" only takes a token ("Bearer ..."), so /docs/login gets one.
const docsDevBanner = `<p role="note" style="margin:0;padding:.5rem 1rem;background:#7a1f00;color:#fff;font:14px/1.4 system-ui,sans-serif">` +
	`Development mode: <a href="/docs/login" style="color:#fff;font-weight:600">sign in with the development issuer</a> ` +
	`to get an access token for &ldquo;Try it&rdquo; (the Token field of its Auth panel; the sign-in page fills it in for this browser).</p>
`

// The dev issuer's endpoints as the contract's oauth2 flow names them:
// relative, so they are this server's own, at whatever address it was reached.
const (
	devAuthorizeURL = "/dev/oidc/authorize"
	devTokenURL     = "/dev/oidc/token"
	// docsClientID is the app id of tokens got through /docs/login (their azp).
	docsClientID = "waypoint-docs"
)

// serveDocsPage serves /docs; in dev mode with the banner.
func serveDocsPage(dev bool) http.HandlerFunc {
	banner := ""
	if dev {
		banner = docsDevBanner
	}
	page := fmt.Sprintf(docsPage, banner)
	return func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", docsCSP)
		_, _ = io.WriteString(w, page)
	}
}

// docsLoginJS runs authorization code + PKCE (S256) against the dev issuer
// from /docs/login, in the browser: the code verifier never leaves it.
//
//go:embed docsui/login.js
var docsLoginJS string

// docsLoginPage is the dev-mode sign-in for "Try it". No inline script (the
// CSP is docsCSP's, which allows scripts from this origin only); the
// endpoints come as data attributes, the contract's own relative URLs.
const docsLoginPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Sign in for &ldquo;Try it&rdquo; &middot; Waypoint API reference (development)</title>
<style>
body{font-family:system-ui,sans-serif;margin:0;color:#1a1a1a;background:#fafafa;line-height:1.5}
.banner{margin:0;padding:.75rem 1rem;background:#7a1f00;color:#fff;font-weight:600}
main{max-width:44rem;margin:0 auto;padding:1rem}
button{font:inherit;cursor:pointer;border-radius:.5rem;border:2px solid #1f4e8c;background:#fff;color:#1f4e8c;padding:.5rem 1rem}
button:hover{background:#eaf1fb}
button:focus-visible,textarea:focus-visible,a:focus-visible{outline:3px solid #f5a623;outline-offset:2px}
textarea{width:100%;box-sizing:border-box;font:13px/1.4 ui-monospace,monospace;word-break:break-all}
label{display:block;font-weight:600;margin-top:1rem}
.error{color:#a00000;font-weight:600}
</style>
<script src="/docs/assets/login.js" defer></script>
</head>
<body>
<p class="banner" role="note">Development only. This signs you in with the test issuer built into this server: no passwords, any persona.</p>
<main id="login" data-authorize="` + devAuthorizeURL + `" data-token="` + devTokenURL + `" data-client-id="` + docsClientID + `" data-scheme="` + schemeOAuth2 + `">
<h1>An access token for &ldquo;Try it&rdquo;</h1>
<p>The API reference's &ldquo;Try it&rdquo; sends the access token you give it. This page gets one from the development issuer
with the authorization code flow and PKCE (S256), as a persona you pick, with every scope, and shows it.</p>
<p><button id="start" type="button">Sign in with the development issuer</button> <a href="/docs">Back to the API reference</a></p>
<section id="result" hidden>
<h2>Signed in</h2>
<p id="who"></p>
<label for="token">Paste this into the Token field of &ldquo;Try it&rdquo; (its Auth panel, oauth2):</label>
<textarea id="token" readonly rows="7"></textarea>
<p><button id="copy" type="button">Copy</button> <button id="refresh" type="button">Get a fresh token</button>
<a href="/docs">Back to the API reference</a></p>
<p>&ldquo;Try it&rdquo; in this browser has it already: this page stores it where the reference keeps what you type in that field.</p>
</section>
<p id="status" role="status"></p>
<noscript><p class="error">This page needs JavaScript (it computes the PKCE challenge). Without it, mint a token with
<code>waypoint dev token --server URL --subject alice --role client</code>.</p></noscript>
</main>
</body>
</html>
`

// serveDocsLogin serves the dev-mode sign-in page.
func serveDocsLogin(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", docsCSP)
	h.Set("Cache-Control", "no-store")
	_, _ = io.WriteString(w, docsLoginPage)
}

// serveDocsLoginJS serves the sign-in page's script.
func serveDocsLoginJS(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	_, _ = io.WriteString(w, docsLoginJS)
}

// serveDocsAsset serves one embedded asset, gzipped to browsers that take it.
func serveDocsAsset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	var ct string
	switch {
	case strings.HasSuffix(name, ".js"):
		ct = "text/javascript; charset=utf-8"
	case strings.HasSuffix(name, ".css"):
		ct = "text/css; charset=utf-8"
	}
	f, err := docsAssets.Open("docsui/" + name + ".gz")
	if err != nil || ct == "" {
		writeProblem(w, r, newProblem(r.Context(), http.StatusNotFound, "no such docs asset"))
		return
	}
	defer f.Close()
	h := w.Header()
	h.Set("Content-Type", ct)
	// Versioned with the binary; the same for everyone.
	h.Set("Cache-Control", "public, max-age=86400")
	h.Add("Vary", "Accept-Encoding")
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		_, _ = io.Copy(w, f)
		return
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		writeProblem(w, r, newProblem(r.Context(), http.StatusInternalServerError, "", err))
		return
	}
	_, _ = io.Copy(w, zr)
}
