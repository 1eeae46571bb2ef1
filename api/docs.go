package api

import (
	"compress/gzip"
	"embed"
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
// ("/"), so "Try it" calls whichever address served the page.
const docsPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Waypoint API reference</title>
<link rel="stylesheet" href="/docs/assets/styles.min.css">
<script src="/docs/assets/web-components.min.js"></script>
</head>
<body style="height:100vh">
<elements-api apiDescriptionUrl="/openapi.yaml" router="hash" layout="sidebar" tryItCredentialsPolicy="omit"></elements-api>
</body>
</html>
`

func serveDocsPage(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", docsCSP)
	_, _ = io.WriteString(w, docsPage)
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
