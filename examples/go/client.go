// Command waypoint-example is a hand-written Go client of Waypoint's HTTP API
// (net/http only), kept compiling by CI. docs/third-party-guide.md walks
// through it: tokens and refresh, problem+json errors, cursor pagination,
// Idempotency-Key, ETag/If-Match, rate limits and live events.
//
//	WAYPOINT_URL=http://127.0.0.1:8080 WAYPOINT_TOKEN=$(waypoint dev token --subject alice) go run ./examples/go
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"
)

// Client calls Waypoint with a bearer token.
type Client struct {
	BaseURL string       // e.g. http://127.0.0.1:8080
	HTTP    *http.Client // nil: http.DefaultClient
	Tokens  *TokenSource // the access token, refreshed when it expires
}

// Problem is an RFC 9457 problem+json error body, as every 4xx/5xx carries.
type Problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	RequestID string `json:"request_id"`
	Errors    []struct {
		Message  string `json:"message"`
		Location string `json:"location"` // e.g. body.title, query.limit
		Value    any    `json:"value"`
	} `json:"errors"`
	// From the response headers: Retry-After on 429/503, the current ETag on 412.
	RetryAfter time.Duration `json:"-"`
	ETag       string        `json:"-"`
}

func (p *Problem) Error() string {
	s := fmt.Sprintf("%d %s: %s", p.Status, p.Title, p.Detail)
	for _, e := range p.Errors {
		s += fmt.Sprintf("; %s: %s", e.Location, e.Message)
	}
	return s + " (request " + p.RequestID + ")"
}

// do sends one request and decodes a 2xx JSON body into out (if not nil).
// Any other status becomes a *Problem. headers are name, value pairs.
func (c *Client) do(ctx context.Context, method, path string, body, out any, headers ...string) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("encode body: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, rd)
	if err != nil {
		return nil, err
	}
	tok, err := c.Tokens.Token(ctx)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		ct := "application/json"
		if method == http.MethodPatch {
			ct = "application/merge-patch+json" // PATCH bodies are JSON Merge Patch
		}
		req.Header.Set("Content-Type", ct)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	res, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode >= 300 {
		return res, problemOf(res)
	}
	if out != nil && res.StatusCode != http.StatusNoContent {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			return res, fmt.Errorf("decode %s %s: %w", method, path, err)
		}
	}
	return res, nil
}

func problemOf(res *http.Response) error {
	p := &Problem{Status: res.StatusCode, Title: http.StatusText(res.StatusCode), ETag: res.Header.Get("ETag")}
	if mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); mt == "application/problem+json" {
		_ = json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(p)
	}
	if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil {
		p.RetryAfter = time.Duration(s) * time.Second
	}
	return p
}

// IsStatus reports whether err is a problem with that HTTP status.
func IsStatus(err error, status int) bool {
	var p *Problem
	return errors.As(err, &p) && p.Status == status
}

// Me is the caller's person (GET /v1/me).
type Me struct {
	ID          string   `json:"id"`
	DisplayName string   `json:"display_name"`
	Roles       []string `json:"roles"`
	ClientID    string   `json:"client_id,omitempty"`
}

// Goal is the part of a goal this example uses.
type Goal struct {
	ID              string `json:"id"`
	Title           string `json:"title"`
	LifecycleStatus string `json:"lifecycle_status"`
	Version         int64  `json:"version"`
}

// Page is one page of a cursor-paginated list.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// Me returns the caller's person.
func (c *Client) Me(ctx context.Context) (Me, error) {
	var m Me
	_, err := c.do(ctx, http.MethodGet, "/v1/me", nil, &m)
	return m, err
}
