package main

import (
	"context"
	"crypto/rand"
	"net/http"
)

// CreateGoal creates a goal with an Idempotency-Key made once for this
// logical request: a retry after a timeout or a dropped connection sends the
// same key and body, and Waypoint replays the first answer (header
// Idempotent-Replayed: true) instead of creating a second goal. 409 means
// the first attempt is still running: wait (Retry-After) and retry.
func (c *Client) CreateGoal(ctx context.Context, clientID, title string) (Goal, error) {
	key := rand.Text() // one key per goal the user meant to create, never per attempt
	body := map[string]any{"title": title}
	var g Goal
	_, err := c.withRetry(ctx, func() (*http.Response, error) {
		return c.do(ctx, http.MethodPost, "/v1/clients/"+clientID+"/goals", body, &g, "Idempotency-Key", key)
	})
	return g, err
}
