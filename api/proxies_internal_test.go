package api

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientAddr(t *testing.T) {
	t.Parallel()
	trusted, err := ParseTrustedProxies("10.0.0.0/8, 192.0.2.7, ::ffff:172.16.0.0/108")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		proxies TrustedProxies
		peer    string
		xff     []string
		want    string
	}{
		{"no proxies trusted: the peer", nil, "203.0.113.5:4000", []string{"198.51.100.1"}, "203.0.113.5"},
		{"untrusted peer: its header is ignored", trusted, "203.0.113.5:4000", []string{"198.51.100.1"}, "203.0.113.5"},
		{"trusted peer without header", trusted, "10.1.2.3:4000", nil, "10.1.2.3"},
		{"trusted peer", trusted, "10.1.2.3:4000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"client-chosen entries on the left are skipped", trusted, "10.1.2.3:4000", []string{"1.1.1.1, 198.51.100.1"}, "198.51.100.1"},
		{"a chain of trusted proxies", trusted, "10.1.2.3:4000", []string{"198.51.100.1, 192.0.2.7, 10.9.9.9"}, "198.51.100.1"},
		{"several header lines are one list", trusted, "10.1.2.3:4000", []string{"198.51.100.1", "10.9.9.9"}, "198.51.100.1"},
		{"a malformed hop stops at the last trusted one", trusted, "10.1.2.3:4000", []string{"198.51.100.1, junk, 10.9.9.9"}, "10.9.9.9"},
		{"only trusted hops: the left-most", trusted, "10.1.2.3:4000", []string{"10.7.7.7, 10.9.9.9"}, "10.7.7.7"},
		{"IPv4-mapped peer", trusted, "[::ffff:172.16.1.1]:4000", []string{"2001:db8::1"}, "2001:db8::1"},
		{"IPv6 peer with a zone", nil, "[fe80::1%eth0]:4000", nil, "fe80::1"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.peer
		for _, v := range tc.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := tc.proxies.clientAddr(r); got != netip.MustParseAddr(tc.want) {
			t.Errorf("%s: %s; want %s", tc.name, got, tc.want)
		}
	}
}

func TestAddrKey(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]string{
		"203.0.113.5":           "203.0.113.5",
		"2001:db8:1:2::1":       "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::99": "2001:db8:1:2::/64",
	} {
		if got := addrKey(netip.MustParseAddr(addr)); got != want {
			t.Errorf("addrKey(%s) = %s; want %s", addr, got, want)
		}
	}
}
