package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// scenario is one benchmarked call. req builds request i of connection w
// against base; check judges the answer (and may keep state, such as the
// ETag a PATCH must send next).
type scenario struct {
	key   string // file-name safe id
	name  string
	call  string
	floor bool // the floor implements it
	req   func(base string, w, i int) (*http.Request, error)
	check func(w int, t0 time.Time, status int, h http.Header, body []byte) error
}

// round is what one closed-loop round against one target measured.
type round struct {
	target   string
	n        int // round number, 1-based; 0 for a warm-up
	ok, errs int
	firstErr string
	elapsed  time.Duration
	lat      []time.Duration // every completed request, sorted
	// SSE fan-out only: deliveries matched and post latencies.
	deliveries int
	postLat    []time.Duration
	// db is what PostgreSQL's backends were doing meanwhile.
	db waits
}

func (r round) rps() float64 { return float64(r.ok) / r.elapsed.Seconds() }

// pct is the q-quantile of sorted latencies (nearest rank).
func pct(lat []time.Duration, q float64) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	i := int(q*float64(len(lat)) + 0.5)
	return lat[min(max(i-1, 0), len(lat)-1)]
}

// clients keeps one HTTP client per connection and target, so connections
// stay open across rounds (keep-alive, one TCP connection each).
type clients struct {
	mu sync.Mutex
	m  map[string][]*http.Client
}

func (c *clients) get(base string, n int) []*http.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string][]*http.Client{}
	}
	for len(c.m[base]) < n {
		tr := &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1, DisableCompression: true, IdleConnTimeout: 5 * time.Minute}
		c.m[base] = append(c.m[base], &http.Client{Transport: tr, Timeout: 30 * time.Second})
	}
	return c.m[base][:n]
}

// limits bound a round in time and requests.
type limits struct {
	conns    int
	duration time.Duration
	requests int
}

// closedLoop runs sc against base: conns connections, each sending its next
// request as soon as the previous answer is read, until the duration or
// the request budget is spent.
func closedLoop(ctx context.Context, cs *clients, sc scenario, target, base string, l limits) round {
	hc := cs.get(base, l.conns)
	var issued atomic.Int64
	type part struct {
		lat      []time.Duration
		ok, errs int
		firstErr string
	}
	parts := make([]part, l.conns)
	start := time.Now()
	deadline := start.Add(l.duration)
	var wg sync.WaitGroup
	for w := range l.conns {
		wg.Add(1)
		go labelDriver(ctx, func() {
			defer wg.Done()
			p := &parts[w]
			for i := 0; ctx.Err() == nil && time.Now().Before(deadline) && issued.Add(1) <= int64(l.requests); i++ {
				err := once(ctx, hc[w], sc, base, w, i, &p.lat)
				if err != nil {
					p.errs++
					if p.firstErr == "" {
						p.firstErr = err.Error()
					}
					continue
				}
				p.ok++
			}
		})
	}
	wg.Wait()
	r := round{target: target, elapsed: time.Since(start)}
	for _, p := range parts {
		r.lat = append(r.lat, p.lat...)
		r.ok += p.ok
		r.errs += p.errs
		if r.firstErr == "" {
			r.firstErr = p.firstErr
		}
	}
	slices.Sort(r.lat)
	return r
}

// once sends one request and appends its latency (request written to
// answer read) when an answer came.
func once(ctx context.Context, hc *http.Client, sc scenario, base string, w, i int, lat *[]time.Duration) error {
	req, err := sc.req(base, w, i)
	if err != nil {
		return err
	}
	t0 := time.Now()
	res, err := hc.Do(req.WithContext(ctx))
	if err != nil {
		time.Sleep(10 * time.Millisecond) // a refused connection must not spin
		return err
	}
	body, err := io.ReadAll(res.Body)
	_ = res.Body.Close()
	*lat = append(*lat, time.Since(t0))
	if err != nil {
		return err
	}
	return sc.check(w, t0, res.StatusCode, res.Header, body)
}

// want is a check for a fixed status.
func want(status int) func(int, time.Time, int, http.Header, []byte) error {
	return func(_ int, _ time.Time, got int, _ http.Header, body []byte) error {
		if got != status {
			return fmt.Errorf("status %d (want %d): %.200s", got, status, body)
		}
		return nil
	}
}
