package api

import (
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// Limit is one token-bucket policy: Burst requests at once, refilled at
// Requests per Per. The zero Limit means the policy's default; Off disables it.
type Limit struct {
	Requests int
	Per      time.Duration // time.Second, time.Minute or time.Hour
	Burst    int
	Off      bool
}

// The defaults (docs/security.md, "Abuse protection"). A person's front end rarely
// needs more than a page's worth of requests at once; an address may be an
// agency office or a shelter whose people share one NAT address.
func defaultPersonLimit() Limit { return Limit{Requests: 20, Per: time.Second, Burst: 100} }
func defaultIPLimit() Limit     { return Limit{Requests: 100, Per: time.Second, Burst: 400} }

const maxLimitValue = 1_000_000

var limitSyntax = regexp.MustCompile(`^([0-9]{1,7})\s*/\s*(s|m|h)(?:\s+burst\s+([0-9]{1,7}))?$`)

// limitUnit is a unit a limit may be written in.
type limitUnit struct {
	abbr, name string
	per        time.Duration
}

func limitUnits() []limitUnit {
	return []limitUnit{{"s", "second", time.Second}, {"m", "minute", time.Minute}, {"h", "hour", time.Hour}}
}

// ParseLimit reads a policy as configured (WAYPOINT_RATE_LIMIT_PERSON,
// WAYPOINT_RATE_LIMIT_IP): "N/s", "N/m" or "N/h", optionally followed by
// "burst B" (default N), or "off". Empty is the zero Limit (the default).
func ParseLimit(s string) (Limit, error) {
	s = strings.ToLower(strings.Join(strings.Fields(s), " "))
	switch s {
	case "":
		return Limit{}, nil
	case "off":
		return Limit{Off: true}, nil
	}
	m := limitSyntax.FindStringSubmatch(s)
	if m == nil {
		return Limit{}, fmt.Errorf("want N/s, N/m or N/h, optionally followed by burst B (e.g. \"20/s burst 100\"), or off; got %q", s)
	}
	l := Limit{}
	l.Requests, _ = strconv.Atoi(m[1])
	l.Burst = l.Requests
	if m[3] != "" {
		l.Burst, _ = strconv.Atoi(m[3])
	}
	if l.Requests < 1 || l.Requests > maxLimitValue || l.Burst < 1 || l.Burst > maxLimitValue {
		return Limit{}, fmt.Errorf("rate and burst must be between 1 and %d; got %q", maxLimitValue, s)
	}
	for _, u := range limitUnits() {
		if u.abbr == m[2] {
			l.Per = u.per
		}
	}
	return l, nil
}

// String spells l as ParseLimit reads it.
func (l Limit) String() string {
	if l.Off {
		return "off"
	}
	return fmt.Sprintf("%d/%s burst %d", l.Requests, l.unit().abbr, l.Burst)
}

func (l Limit) unit() limitUnit {
	for _, u := range limitUnits() {
		if u.per == l.Per {
			return u
		}
	}
	return limitUnit{l.Per.String(), l.Per.String(), l.Per}
}

// perSecond is the refill rate.
func (l Limit) perSecond() float64 { return float64(l.Requests) / l.Per.Seconds() }

// window is the policy's w: the seconds in which an empty bucket refills.
func (l Limit) window() int64 { return max(1, int64(math.Ceil(float64(l.Burst)/l.perSecond()-1e-9))) }

// RateLimits configures the per-person and per-address limits. They are
// token buckets in this process's memory: each replica limits on its own.
type RateLimits struct {
	// Person limits each authenticated person (issuer and subject of a
	// valid token, whatever app or token they use).
	Person Limit
	// IP limits each client address (IPv6: each /64), before anything else
	// runs, so it also bounds forged tokens and unauthenticated paths.
	IP Limit
	// MaxKeys bounds the buckets each policy keeps (default 100,000).
	MaxKeys int
}

// Effective is r with the defaults filled in.
func (r RateLimits) Effective() RateLimits {
	r.Person = r.Person.orDefault(defaultPersonLimit())
	r.IP = r.IP.orDefault(defaultIPLimit())
	return r
}

// orDefault is l, or def for the zero Limit (or one that could not work).
func (l Limit) orDefault(def Limit) Limit {
	if l.Off || (l.Requests > 0 && l.Per > 0 && l.Burst > 0) {
		return l
	}
	return def
}

// policy is one enforced Limit with its buckets and RateLimit-Policy item.
type policy struct {
	name     string
	limit    Limit
	buckets  *limiter
	item     string // the RateLimit-Policy list item
	rejected prometheus.Counter
}

func newPolicy(name string, l Limit, maxKeys int, reg prometheus.Registerer) *policy {
	if l.Off {
		return nil
	}
	p := &policy{name: name, limit: l, buckets: newLimiter(l, maxKeys, time.Now),
		item: fmt.Sprintf("%q;q=%d;w=%d", name, l.Burst, l.window())}
	p.rejected = prometheus.NewCounter(prometheus.CounterOpts{Name: "waypoint_rate_limited_total",
		Help: "Requests refused with 429 by a rate-limit policy.", ConstLabels: prometheus.Labels{"policy": name}})
	reg.MustRegister(p.rejected, prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "waypoint_rate_limit_buckets",
		Help: "Token buckets held in memory by a rate-limit policy.", ConstLabels: prometheus.Labels{"policy": name}},
		func() float64 { return float64(p.buckets.size()) }))
	return p
}

// take spends one request of key and puts the policy's RateLimit-Policy and
// RateLimit items on h; when refused it also sets Retry-After and returns
// the problem's detail.
func (p *policy) take(h http.Header, key, who string) (refused string) {
	d := p.buckets.take(key)
	h.Add("RateLimit-Policy", p.item)
	h.Add("RateLimit", fmt.Sprintf("%q;r=%d;t=%d", p.name, d.remaining, d.reset))
	if d.allowed {
		return ""
	}
	p.rejected.Inc()
	h.Set("Retry-After", strconv.FormatInt(d.retryAfter, 10))
	return fmt.Sprintf("Too many requests from this %s: at most %d at once, then %s. Retry after %d s (Retry-After); "+
		"the RateLimit header says what is left.", who, p.limit.Burst, p.limit.rateText(), d.retryAfter)
}

func (l Limit) rateText() string { return fmt.Sprintf("%d more per %s", l.Requests, l.unit().name) }

// rateLimitExempt lists the paths no limit applies to: the health probes,
// which a load balancer must always get an answer from (a 429 on /readyz
// would take the replica out of service).
func rateLimitExempt(path string) bool { return path == "/healthz" || path == "/readyz" }

// limitByAddress is the outermost limit, before routing or authentication:
// every request but the health probes spends one from its address's bucket.
func (s *Server) limitByAddress(next http.Handler) http.Handler {
	if s.ipPolicy == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rateLimitExempt(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		if msg := s.ipPolicy.take(w.Header(), addrKey(s.proxies.clientAddr(r)), "address"); msg != "" {
			writeProblem(w, r, newProblem(r.Context(), http.StatusTooManyRequests, msg))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// limitPerson spends one request of an authenticated person (keyed by the
// token's issuer and subject, so it runs before the person is looked up);
// false means it answered 429.
func (s *Server) limitPerson(api huma.API, ctx huma.Context, issuer, subject string) bool {
	if s.personPolicy == nil {
		return true
	}
	h := http.Header{}
	msg := s.personPolicy.take(h, issuer+"\x00"+subject, "person")
	for k, vs := range h {
		for _, v := range vs {
			ctx.AppendHeader(k, v)
		}
	}
	if msg == "" {
		return true
	}
	_ = huma.WriteErr(api, ctx, http.StatusTooManyRequests, msg)
	return false
}

// documentRateLimits declares, on every operation but the health probes,
// the 429 answer (with Retry-After) and the RateLimit and RateLimit-Policy
// headers on every response. It runs once all operations are registered, so
// an operation added later gets them without a line of its own.
func documentRateLimits(oapi *huma.OpenAPI) {
	if oapi.Components.Headers == nil {
		oapi.Components.Headers = map[string]*huma.Header{}
	}
	oapi.Components.Headers["RateLimitPolicy"] = &huma.Header{
		Description: "The rate-limit policies this request was counted against (draft-ietf-httpapi-ratelimit-headers-11): " +
			`"ip" per client address, "person" per signed-in person; q requests at once, refilled in w seconds. ` +
			"Absent when limits are turned off.",
		Schema:  &huma.Schema{Type: huma.TypeString, Pattern: `^"[a-z]+";q=[0-9]+;w=[0-9]+(, *"[a-z]+";q=[0-9]+;w=[0-9]+)*$`},
		Example: `"ip";q=400;w=4, "person";q=100;w=5`,
	}
	oapi.Components.Headers["RateLimit"] = &huma.Header{
		Description: "What is left under each policy of RateLimit-Policy: r requests may be sent now; t is, with r above 0, " +
			"the seconds until the whole quota is back, and with r at 0 the seconds until the next request is allowed.",
		Schema:  &huma.Schema{Type: huma.TypeString, Pattern: `^"[a-z]+";r=[0-9]+;t=[0-9]+(, *"[a-z]+";r=[0-9]+;t=[0-9]+)*$`},
		Example: `"ip";r=399;t=1, "person";r=37;t=4`,
	}
	oapi.Components.Headers["RetryAfter"] = &huma.Header{
		Description: "Seconds to wait before retrying",
		Schema:      &huma.Schema{Type: huma.TypeInteger, Minimum: ptr(1.0)},
	}
	for path, item := range oapi.Paths {
		if rateLimitExempt(path) {
			continue
		}
		for _, op := range []*huma.Operation{item.Get, item.Put, item.Post, item.Delete, item.Patch} {
			if op == nil {
				continue
			}
			tooMany := op.Responses["429"]
			if tooMany == nil {
				tooMany = cloneResponse(op.Responses["500"])
				op.Responses["429"] = tooMany
			}
			tooMany.Description = "Too Many Requests: a rate limit was exceeded (RateLimit and RateLimit-Policy say which); retry after Retry-After seconds."
			for _, r := range op.Responses {
				if r.Headers == nil {
					r.Headers = map[string]*huma.Param{}
				}
				r.Headers["RateLimit-Policy"] = &huma.Header{Ref: "#/components/headers/RateLimitPolicy"}
				r.Headers["RateLimit"] = &huma.Header{Ref: "#/components/headers/RateLimit"}
			}
			tooMany.Headers["Retry-After"] = &huma.Header{Ref: "#/components/headers/RetryAfter"}
		}
	}
}

// cloneResponse copies an error response (its problem+json content) for
// another status; op always declares 500, so there is one to copy.
func cloneResponse(r *huma.Response) *huma.Response {
	c := *r
	c.Headers = map[string]*huma.Param{}
	for k, v := range r.Headers {
		c.Headers[k] = v
	}
	return &c
}
