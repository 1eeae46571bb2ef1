package devissuer

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// LoopbackHost reports whether hostport, a Host header or URL authority with
// or without a port, names this machine: "localhost", an IPv4 address in
// 127.0.0.0/8 or [::1]. Dev mode answers only such requests: a web page that
// rebinds its own DNS name to 127.0.0.1 still sends that name as Host, so it
// is refused before it reaches the password-less issuer or the API.
//
// Names are matched exactly: "localhost." and "*.localhost" may be answered
// by a DNS server, which is what a rebinding attacker controls.
func LoopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	} else if strings.HasPrefix(hostport, "[") && strings.HasSuffix(hostport, "]") {
		host = hostport[1 : len(hostport)-1]
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Zone() == "" && ip.IsLoopback()
}

// MisdirectedDetail explains a refused Host in problem bodies.
const MisdirectedDetail = "the development server answers only requests addressed to localhost, 127.0.0.0/8 or [::1] " +
	"(a Host header naming any other host is refused to stop DNS rebinding)"

// RequireLoopbackHost answers 421 Misdirected Request (RFC 9110 §15.5.20:
// this server will not produce a response for that authority) with a
// problem+json body to every request whose Host is not loopback.
func RequireLoopbackHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !LoopbackHost(r.Host) {
			w.Header().Set("Cache-Control", "no-store")
			writeProblem(w, http.StatusMisdirectedRequest, MisdirectedDetail)
			return
		}
		next.ServeHTTP(w, r)
	})
}
