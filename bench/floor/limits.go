package floor

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// Limit is a token bucket (the product's api.Limit): Requests per Per,
// Burst at once. The zero Limit is off.
type Limit struct {
	Requests int
	Per      time.Duration
	Burst    int
}

// RateLimits are the floor's counterparts of the product's per-address and
// per-person limits: the same buckets, decisions and RateLimit headers
// (draft-ietf-httpapi-ratelimit-headers), so their cost is on both sides.
type RateLimits struct{ IP, Person Limit }

// maxBuckets bounds memory: past it the floor forgets every bucket (the
// product keeps an LRU; a bench never gets near either).
const maxBuckets = 100000

type buckets struct {
	name, item  string
	rate, burst float64
	mu          sync.Mutex
	m           map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newBuckets(name string, l Limit) *buckets {
	if l.Requests <= 0 || l.Per <= 0 || l.Burst <= 0 {
		return nil
	}
	rate := float64(l.Requests) / l.Per.Seconds()
	window := max(1, int64(math.Ceil(float64(l.Burst)/rate-1e-9)))
	return &buckets{name: name, item: fmt.Sprintf("%q;q=%d;w=%d", name, l.Burst, window), rate: rate, burst: float64(l.Burst),
		m: map[string]*bucket{}}
}

// take spends one token of key's bucket, sets the RateLimit headers and
// answers 429 (returning false) when there is none.
func (s *buckets) take(w http.ResponseWriter, key string) bool {
	if s == nil {
		return true
	}
	now := time.Now()
	s.mu.Lock()
	b, ok := s.m[key]
	if !ok {
		if len(s.m) >= maxBuckets {
			clear(s.m)
		}
		b = &bucket{tokens: s.burst, at: now}
		s.m[key] = b
	} else if d := now.Sub(b.at).Seconds(); d > 0 {
		b.tokens, b.at = math.Min(s.burst, b.tokens+d*s.rate), now
	}
	allowed := b.tokens >= 1
	if allowed {
		b.tokens--
	}
	remaining, reset := int(b.tokens), seconds((s.burst-b.tokens)/s.rate)
	if b.tokens < 1 {
		reset = seconds((1 - b.tokens) / s.rate)
	}
	s.mu.Unlock()
	h := w.Header()
	h.Add("RateLimit-Policy", s.item)
	h.Add("RateLimit", strconv.Quote(s.name)+";r="+strconv.Itoa(remaining)+";t="+strconv.FormatInt(reset, 10))
	if !allowed {
		h.Set("Retry-After", strconv.FormatInt(reset, 10))
		problem(w, http.StatusTooManyRequests, "too many requests from this "+s.name)
	}
	return allowed
}

func seconds(s float64) int64 {
	if s <= 0 {
		return 0
	}
	return max(1, int64(math.Ceil(s-1e-9)))
}

// addrKey is the peer's address (the floor trusts no proxy), an IPv6
// address by its /64, as the product keys it.
func addrKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// securityHeaders are the product's on every response (plain HTTP: no HSTS).
func securityHeaders(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
}
