package api

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// TrustedProxies are the peers (load balancers, reverse proxies) whose
// X-Forwarded-For and X-Forwarded-Proto headers are believed. Empty, the
// default, believes nobody: the client is the connection's remote address.
type TrustedProxies []netip.Prefix

// ParseTrustedProxies reads a comma-separated list of addresses and CIDR
// prefixes (WAYPOINT_TRUSTED_PROXIES), e.g. "10.0.0.0/8, 192.0.2.7".
func ParseTrustedProxies(s string) (TrustedProxies, error) {
	var out TrustedProxies
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, fmt.Errorf("%q is neither an IP address nor a CIDR prefix", f)
			}
			a = a.Unmap()
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an IP address nor a CIDR prefix", f)
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), max(0, p.Bits()-96))
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func (t TrustedProxies) trusts(a netip.Addr) bool {
	for _, p := range t {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// peerAddr is the connection's remote address (the zero Addr if unreadable).
func peerAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, _ := netip.ParseAddr(host)
	return a.WithZone("").Unmap()
}

// clientAddr is the address a request came from: the peer, or, when the
// peer is a trusted proxy, the right-most X-Forwarded-For entry that is not
// itself a trusted proxy (entries further left are whatever the client
// chose to send, so they are never believed).
func (t TrustedProxies) clientAddr(r *http.Request) netip.Addr {
	client := peerAddr(r)
	if len(t) == 0 || !t.trusts(client) {
		return client
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return client // a malformed hop: stay with the last trusted one
		}
		client = a.WithZone("").Unmap()
		if !t.trusts(client) {
			return client
		}
	}
	return client
}

// overTLS reports whether the client reached us over TLS: the connection
// itself, or a trusted proxy saying so in X-Forwarded-Proto (its first
// entry: the scheme the first proxy saw).
func (t TrustedProxies) overTLS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	if len(t) == 0 || !t.trusts(peerAddr(r)) {
		return false
	}
	proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	return strings.EqualFold(strings.TrimSpace(proto), "https")
}

// addrKey is the rate-limit key of an address: IPv4 addresses one by one,
// IPv6 by their /64, which one subscriber usually holds whole (keying single
// IPv6 addresses would give each of them 2^64 fresh buckets).
func addrKey(a netip.Addr) string {
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
