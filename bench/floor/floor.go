package floor

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Config is what a floor needs: the database and the one key and issuer the
// server under test trusts.
type Config struct {
	Pool     *pgxpool.Pool
	Key      *rsa.PublicKey
	Issuer   string
	Audience string
	// TokenCache keeps a verified token's claims, keyed by the exact token
	// string, until the token's exp. Off by default: the floor verifies the
	// signature, iss, aud and exp of every request, as the product does. Turn
	// it on only to compare with a product given the same option.
	TokenCache bool
	// RateLimits should be the server's (zero: off).
	RateLimits RateLimits
}

// Floor serves the reference handlers.
type Floor struct {
	pool       *pgxpool.Pool
	v          *verifier
	stmts      statements
	ip, person *buckets
	// wake carries at most one pending request to position events (positioner.go).
	wake chan struct{}
}

// New builds a floor. Its SQL is generated once per role combination (as
// the product builds its scope per actor), so every request runs a prepared
// statement from pgx's cache.
func New(c Config) *Floor {
	return &Floor{pool: c.Pool, v: newVerifier(c), stmts: buildStatements(),
		ip: newBuckets("ip", c.RateLimits.IP), person: newBuckets("person", c.RateLimits.Person), wake: make(chan struct{}, 1)}
}

// Handler routes the benchmarked calls, on the product's paths, after the
// product's security headers and per-address limit.
func (f *Floor) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/goals/{goalId}", f.getGoal)
	mux.HandleFunc("PATCH /v1/goals/{goalId}", f.patchGoal)
	mux.HandleFunc("GET /v1/clients/{clientId}/goals", f.listGoals)
	mux.HandleFunc("POST /v1/conversations/{conversationId}/messages", f.postMessage)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w.Header())
		if f.ip.take(w, addrKey(r)) {
			mux.ServeHTTP(w, r)
		}
	})
}

// Server is an http.Server for the floor with the product's timeouts.
func (f *Floor) Server() *http.Server {
	return &http.Server{Handler: f.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
}

// problem writes an RFC 9457 problem, as the product does for every error.
func problem(w http.ResponseWriter, status int, detail string) {
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct {
		Title  string `json:"title"`
		Status int    `json:"status"`
		Detail string `json:"detail,omitempty"`
	}{http.StatusText(status), status, detail})
}

// fail answers err: a floor error with its status, anything else 500
// without internal text.
func fail(w http.ResponseWriter, err error) {
	var he *httpError
	if errors.As(err, &he) {
		if he.etag != "" {
			w.Header().Set("ETag", he.etag)
		}
		problem(w, he.status, he.detail)
		return
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		problem(w, http.StatusServiceUnavailable, "")
		return
	}
	problem(w, http.StatusInternalServerError, "")
}

type httpError struct {
	status int
	detail string
	etag   string
}

func (e *httpError) Error() string { return strconv.Itoa(e.status) + " " + e.detail }

func errStatus(status int, detail string) error { return &httpError{status: status, detail: detail} }

// writeJSON answers v as the product does (encoding/json, no-store).
func writeJSON(w http.ResponseWriter, status int, etag string, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	if etag != "" {
		h.Set("ETag", etag)
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// ifMatch reads If-Match as the product does: "*" (any version) or a list
// of strong ETags "<n>"; weak or malformed tags match nothing.
func ifMatch(h string) (sent, any bool, versions []int64) {
	h = strings.TrimSpace(h)
	switch h {
	case "":
		return false, false, nil
	case "*":
		return true, true, nil
	}
	for _, part := range strings.Split(h, ",") {
		part = strings.TrimSpace(part)
		if len(part) < 3 || part[0] != '"' || part[len(part)-1] != '"' {
			continue
		}
		if v, err := strconv.ParseInt(part[1:len(part)-1], 10, 64); err == nil && v >= 1 {
			versions = append(versions, v)
		}
	}
	return true, false, versions
}
