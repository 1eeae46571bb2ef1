package main

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// withRetry runs call again when Waypoint says to wait: 429 (rate limited),
// 503 (database unavailable) and 409 (an Idempotency-Key still in flight)
// carry Retry-After in seconds. Other errors are returned as they are. The
// RateLimit header (e.g. "person";r=37;t=4) tells how many requests may be
// sent now, for clients that want to slow down before a 429.
func (c *Client) withRetry(ctx context.Context, call func() (*http.Response, error)) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		res, err := call()
		var p *Problem
		if err == nil || !errors.As(err, &p) || attempt == 4 ||
			(p.Status != http.StatusTooManyRequests && p.Status != http.StatusServiceUnavailable && p.Status != http.StatusConflict) {
			return res, err
		}
		wait := p.RetryAfter
		if wait <= 0 {
			wait = time.Second << attempt
		}
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(wait):
		}
	}
}
