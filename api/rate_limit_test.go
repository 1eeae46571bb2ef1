package api_test

import (
	"net/http"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/waypoint-portal/waypoint/api"
	"github.com/waypoint-portal/waypoint/api/apitest"
)

// limitNever is a limit no test reaches.
func limitNever() api.Limit {
	return api.Limit{Requests: 1_000_000, Per: time.Second, Burst: 1_000_000}
}

// hourly refills one request an hour: never during a test.
func hourly(burst int) api.Limit { return api.Limit{Requests: 1, Per: time.Hour, Burst: burst} }

// trustLoopback trusts the test itself as a proxy, so X-Forwarded-For
// names the client's address.
func trustLoopback() apitest.Option {
	return apitest.WithTrustedProxies(api.TrustedProxies{netip.MustParsePrefix("127.0.0.1/32")})
}

var limitItem = regexp.MustCompile(`^"([a-z]+)";r=([0-9]+);t=([0-9]+)$`)

// limitLeft reads policy's item from the RateLimit fields: r and t, or -1s
// when the policy is absent.
func limitLeft(t *testing.T, h http.Header, policy string) (r, reset int) {
	t.Helper()
	r, reset = -1, -1
	for _, field := range h.Values("RateLimit") {
		for _, item := range strings.Split(field, ",") {
			m := limitItem.FindStringSubmatch(strings.TrimSpace(item))
			if m == nil {
				t.Fatalf("RateLimit %q is not a list of \"policy\";r=N;t=N items", field)
			}
			if m[1] == policy {
				r, _ = strconv.Atoi(m[2])
				reset, _ = strconv.Atoi(m[3])
			}
		}
	}
	return r, reset
}

// wantThrottled asserts a 429 problem under policy: Retry-After a whole
// number of seconds in (0, hour], the RateLimit item at r=0 with t equal to
// Retry-After, the policy declared, no cache.
func wantThrottled(t *testing.T, r *apitest.Resp, policy, declared string) {
	t.Helper()
	p := r.Problem(t, http.StatusTooManyRequests)
	detail, _ := p["detail"].(string)
	retry, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || retry < 1 || retry > 3600 {
		t.Fatalf("Retry-After %q; want whole seconds between 1 and 3600", r.Header.Get("Retry-After"))
	}
	if left, reset := limitLeft(t, r.Header, policy); left != 0 || reset != retry {
		t.Errorf("RateLimit %q: %s r=%d t=%d; want r=0 and t=%d (Retry-After)", r.Header.Values("RateLimit"), policy, left, reset, retry)
	}
	if !strings.Contains(strings.Join(r.Header.Values("RateLimit-Policy"), ", "), declared) {
		t.Errorf("RateLimit-Policy %q does not declare %s", r.Header.Values("RateLimit-Policy"), declared)
	}
	if r.Header.Get("Cache-Control") != "no-store" || p["request_id"] == nil || !strings.Contains(detail, "Retry after") {
		t.Errorf("429: Cache-Control %q, problem %v", r.Header.Get("Cache-Control"), p)
	}
}

// A person's requests, whatever their token, share one bucket: after the
// burst they get 429 and nothing runs; another person is unaffected.
func TestRateLimitPerPerson(t *testing.T) {
	t.Parallel()
	e := apitest.NewWith(t, apitest.WithRateLimits(api.RateLimits{Person: hourly(5), IP: limitNever()}))
	alice := e.Login("alice", "client") // the first request of five
	bob := e.Login("bob", "client")
	for want := 3; want >= 0; want-- {
		r := e.Do(http.MethodGet, "/v1/me", alice.Token, nil).Want(t, http.StatusOK)
		if left, reset := limitLeft(t, r.Header, "person"); left != want || reset < 1 || reset > 5*3600 {
			t.Fatalf("RateLimit %q: person r=%d t=%d; want r=%d and t within the 5 h refill", r.Header.Values("RateLimit"), left, reset, want)
		}
		if got := r.Header.Values("RateLimit-Policy"); len(got) != 2 || got[1] != `"person";q=5;w=18000` {
			t.Fatalf("RateLimit-Policy %q; want the ip and person policies", got)
		}
	}
	wantThrottled(t, e.Do(http.MethodGet, "/v1/me", alice.Token, nil), "person", `"person";q=5;w=18000`)
	// A refused request changes nothing: no goal appears.
	wantThrottled(t, e.Do(http.MethodPost, goalsPath(alice), alice.Token, map[string]any{"title": "Find work"}), "person", `"person"`)
	if n := countRows(t, e, "SELECT count(*) FROM goals"); n != 0 {
		t.Fatalf("%d goals stored by throttled requests", n)
	}
	// Another token (another app, say) of the same person: the same bucket.
	other := e.Issuer.Token(t, "alice", []string{"client"})
	wantThrottled(t, e.Do(http.MethodGet, "/v1/me", other, nil), "person", `"person"`)

	// Bob, from the same address, still has his own requests.
	r := e.Do(http.MethodGet, "/v1/me", bob.Token, nil).Want(t, http.StatusOK)
	if left, _ := limitLeft(t, r.Header, "person"); left != 3 {
		t.Fatalf("bob has %d requests left; want 3 (alice's use is not his)", left)
	}
	// Without a valid token there is no person to count: 401, not 429.
	e.Do(http.MethodGet, "/v1/me", "", nil).Problem(t, http.StatusUnauthorized)
	e.Do(http.MethodGet, "/v1/me", "not-a-token", nil).Problem(t, http.StatusUnauthorized)
}

// Each client address has its own bucket, spent before authentication; an
// IPv6 /64 is one address; only trusted proxies' X-Forwarded-For counts,
// and only its right-most untrusted entry.
func TestRateLimitPerAddress(t *testing.T) {
	t.Parallel()
	e := apitest.NewWith(t, apitest.WithRateLimits(api.RateLimits{Person: limitNever(), IP: hourly(3)}), trustLoopback())
	token := e.Issuer.Token(t, "alice", []string{"client"})
	from := func(addr string) *apitest.Resp {
		return e.Do(http.MethodGet, "/v1/me", token, nil, "X-Forwarded-For", addr)
	}
	for want := 2; want >= 0; want-- {
		if left, _ := limitLeft(t, from("203.0.113.7").Want(t, http.StatusOK).Header, "ip"); left != want {
			t.Fatalf("ip r=%d; want %d", left, want)
		}
	}
	r := from("203.0.113.7")
	wantThrottled(t, r, "ip", `"ip";q=3;w=10800`)
	if left, _ := limitLeft(t, r.Header, "person"); left != -1 {
		t.Errorf("a request refused by address reached the person limit (RateLimit %q)", r.Header.Values("RateLimit"))
	}
	// Before routing: an unknown path from that address is refused too.
	wantThrottled(t, e.Do(http.MethodGet, "/nowhere", "", nil, "X-Forwarded-For", "203.0.113.7"), "ip", `"ip"`)
	// A client cannot escape by prepending addresses of its own choosing.
	wantThrottled(t, from("198.51.100.1, 203.0.113.7"), "ip", `"ip"`)
	// The same person from another address is served.
	from("203.0.113.8").Want(t, http.StatusOK)
	from("198.51.100.1").Want(t, http.StatusOK) // left of the chain above: never counted

	// IPv6: one subscriber's /64 is one bucket.
	for _, a := range []string{"2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff:ffff:ffff:ffff"} {
		from(a).Want(t, http.StatusOK)
	}
	wantThrottled(t, from("2001:db8:1:2::99"), "ip", `"ip"`)
	from("2001:db8:1:3::1").Want(t, http.StatusOK)

	// The health probes are never limited, and carry no RateLimit.
	for range 5 {
		r := e.Do(http.MethodGet, "/readyz", "", nil, "X-Forwarded-For", "203.0.113.7").Want(t, http.StatusOK)
		if r.Header.Get("RateLimit") != "" {
			t.Fatalf("/readyz carries RateLimit %q", r.Header.Get("RateLimit"))
		}
	}
}

// Without trusted proxies X-Forwarded-For is the client's to invent, so it
// is ignored: every request counts against the connection's address.
func TestForwardedForIsIgnoredByDefault(t *testing.T) {
	t.Parallel()
	e := apitest.NewWith(t, apitest.WithRateLimits(api.RateLimits{Person: limitNever(), IP: hourly(3)}))
	token := e.Issuer.Token(t, "alice", []string{"client"})
	for i := range 3 {
		e.Do(http.MethodGet, "/v1/me", token, nil, "X-Forwarded-For", "203.0.113."+strconv.Itoa(i)).Want(t, http.StatusOK)
	}
	wantThrottled(t, e.Do(http.MethodGet, "/v1/me", token, nil, "X-Forwarded-For", "203.0.113.99"), "ip", `"ip"`)
}

// An event stream costs one request when it opens, however long it stays
// open; the other requests of its person are counted as before.
func TestEventStreamCountsOnce(t *testing.T) {
	t.Parallel()
	e := apitest.NewWith(t, apitest.WithRateLimits(api.RateLimits{Person: hourly(4), IP: limitNever()}),
		apitest.WithEvents(api.EventsConfig{Heartbeat: 20 * time.Millisecond}))
	token := e.Issuer.Token(t, "alice", []string{"client"})
	s := openStream(t, e.URL, token, "")
	if left, _ := limitLeft(t, s.header, "person"); left != 3 {
		t.Fatalf("the stream's response: person r=%d; want 3", left)
	}
	s.Start()
	for beats := 0; beats < 3; { // the stream lives on: heartbeats cost nothing
		select {
		case f, ok := <-s.frames:
			if !ok {
				t.Fatal("the stream ended")
			}
			if f.Comment == "heartbeat" {
				beats++
			}
		case <-time.After(deadline):
			t.Fatal("no heartbeats")
		}
	}
	for want := 2; want >= 0; want-- {
		r := e.Do(http.MethodGet, "/v1/me", token, nil).Want(t, http.StatusOK)
		if left, _ := limitLeft(t, r.Header, "person"); left != want {
			t.Fatalf("with a stream open: person r=%d; want %d", left, want)
		}
	}
	wantThrottled(t, e.Do(http.MethodGet, "/v1/me", token, nil), "person", `"person"`)
}

// Turned off, a policy is neither enforced nor announced.
func TestRateLimitsOff(t *testing.T) {
	t.Parallel()
	off := api.Limit{Off: true}
	e := apitest.NewWith(t, apitest.WithRateLimits(api.RateLimits{Person: off, IP: hourly(1000)}))
	r := e.Do(http.MethodGet, "/v1/me", e.Issuer.Token(t, "alice", []string{"client"}), nil).Want(t, http.StatusOK)
	if got := r.Header.Values("RateLimit-Policy"); len(got) != 1 || !strings.HasPrefix(got[0], `"ip";`) {
		t.Fatalf("RateLimit-Policy %q; want the ip policy alone", got)
	}
}

// Every operation but the health probes declares 429 with Retry-After, and
// every response of it the RateLimit fields; nobody writes this per operation.
func TestRateLimitsAreDocumented(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
			Responses   map[string]struct {
				Headers map[string]any `json:"headers"`
			} `json:"responses"`
		} `json:"paths"`
	}
	e.Do(http.MethodGet, "/openapi.json", "", nil).Want(t, http.StatusOK).Decode(t, &doc)
	n := 0
	for path, ops := range doc.Paths {
		for _, op := range ops {
			tooMany, declared := op.Responses["429"]
			if path == "/healthz" || path == "/readyz" {
				if declared {
					t.Errorf("%s declares 429, but the health probes are never limited", op.OperationID)
				}
				continue
			}
			n++
			if !declared || tooMany.Headers["Retry-After"] == nil {
				t.Errorf("%s: no 429 with Retry-After", op.OperationID)
			}
			for status, r := range op.Responses {
				if r.Headers["RateLimit"] == nil || r.Headers["RateLimit-Policy"] == nil {
					t.Errorf("%s %s: RateLimit and RateLimit-Policy not declared", op.OperationID, status)
				}
			}
		}
	}
	if n < 40 {
		t.Fatalf("only %d operations checked", n)
	}
}
