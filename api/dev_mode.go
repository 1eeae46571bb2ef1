package api

import (
	"net/http"

	"github.com/waypoint-portal/waypoint/auth/devissuer"
)

// loopbackOnly is dev mode's answer to DNS rebinding: a page on any site can
// point its own name at 127.0.0.1 and then call this server as same-origin,
// but its requests still carry that name as Host. Dev mode therefore answers
// only loopback Host values, everywhere (API, docs, metrics and issuer), with
// 421 Misdirected Request otherwise (RFC 9110 §15.5.20: this server will not
// answer for that authority). Production never installs it.
func loopbackOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !devissuer.LoopbackHost(r.Host) {
			writeProblem(w, r, newProblem(r.Context(), http.StatusMisdirectedRequest, devissuer.MisdirectedDetail))
			return
		}
		next.ServeHTTP(w, r)
	})
}
