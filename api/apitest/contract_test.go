package apitest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

func hdr(ct string) http.Header {
	h := http.Header{}
	if ct != "" {
		h.Set("Content-Type", ct)
	}
	return h
}

const problem404 = `{"type":"about:blank","title":"Not Found","status":404,"detail":"goal not found"}`

// The checker must catch each way a response can break the contract, and
// let conforming responses through.
func TestContractCheck(t *testing.T) {
	c := TheContract(t)
	referral := "/v1/referrals/0193f5e2-6c1a-7b3e-9d2f-3a4b5c6d7e8f"
	cases := []struct {
		name, method, path string
		status             int
		ct, body           string
		wantErr            string // "" means conforming
	}{
		{"conforming 200", "GET", "/healthz", 200, "application/json", `{"status":"ok"}`, ""},
		{"conforming problem", "GET", referral, 404, "application/problem+json", problem404, ""},
		{"undeclared status", "GET", referral, 409, "application/problem+json", `{"status":409}`, "409"},
		{"undeclared media type", "GET", referral, 404, "text/plain; charset=utf-8", "not found", "text/plain"},
		{"body off the schema", "GET", "/healthz", 200, "application/json", `{"status":"fine"}`, "status"},
		{"missing required member", "GET", referral, 200, "application/json", `{"id":"0193f5e2-6c1a-7b3e-9d2f-3a4b5c6d7e8f"}`, "client_id"},
		{"unknown member", "GET", "/healthz", 200, "application/json", `{"status":"ok","extra":1}`, "extra"},
		{"bad format", "GET", referral, 404, "application/problem+json", `{"status":404,"type":"::"}`, "type"},
		{"body on a declared empty response", "DELETE", "/v1/goals/g/steps/s", 204, "application/json", `{}`, "without content"},
		{"declared empty response", "DELETE", "/v1/goals/g/steps/s", 204, "", "", ""},
		{"unrouted problem", "GET", "/v1/nowhere", 404, "application/problem+json", problem404, ""},
		{"unrouted plain text", "GET", "/v1/nowhere", 404, "text/plain", "404 page not found", "problem+json"},
		{"unrouted wrong status in problem", "GET", "/v1/nowhere", 404, "application/problem+json", `{"status":500}`, "status"},
		{"method a path lacks", "DELETE", "/healthz", 405, "text/plain", "Method Not Allowed", "problem+json"},
		{"unrouted success is exempt", "GET", "/docs", 200, "text/html", "<html></html>", ""},
		{"ndjson records", "GET", "/v1/services?format=ndjson", 200, "application/x-ndjson",
			`{"id":"0190a3c2-7b1e-7c3a-9b1e-3f2a1c0d4e5a","name":"A","status":"active"}` + "\n" + `{"id":"0190a3c2-7b1e-7c3a-9b1e-3f2a1c0d4e5b","name":"B","status":"active"}` + "\n", ""},
		{"ndjson record off the schema", "GET", "/v1/services?format=ndjson", 200, "application/x-ndjson",
			`{"id":"0190a3c2-7b1e-7c3a-9b1e-3f2a1c0d4e5a","name":"A","status":"active"}` + "\n" + `{"id":"0190a3c2-7b1e-7c3a-9b1e-3f2a1c0d4e5b","status":"active"}` + "\n", "name"},
		{"event stream", "GET", "/v1/events", 200, "text/event-stream", "", ""},
		{"event stream as json", "GET", "/v1/events", 200, "application/json", "", "application/json"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "http://127.0.0.1"+tc.path, nil)
			err := c.Check(r, tc.status, hdr(tc.ct), []byte(tc.body))
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("conforming response refused: %v", err)
			case tc.wantErr != "" && err == nil:
				t.Fatal("broken response accepted")
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("error does not mention %q: %v", tc.wantErr, err)
			}
		})
	}
}

// recorder stands in for a test, collecting what Wrap reports.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorder) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errors...)
}

// Wrap reports what the server really sent, including event streams (status
// and content type, checked without waiting for the stream to end).
func TestContractWrap(t *testing.T) {
	c := TheContract(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"bad"}`)
	})
	mux.HandleFunc("GET /v1/events", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", r.URL.Query().Get("ct"))
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		_, _ = io.WriteString(w, ": hello\n\n")
	})
	rec := &recorder{TB: t}
	srv := httptest.NewServer(c.Wrap(rec, mux))
	defer srv.Close()
	get := func(path string) {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}

	get("/v1/events?ct=text/event-stream")
	if errs := rec.got(); len(errs) != 0 {
		t.Fatalf("conforming stream reported: %v", errs)
	}
	get("/healthz")
	get("/v1/events?ct=application/json")
	get("/v1/unrouted") // the mux's text/plain 404
	errs := rec.got()
	if len(errs) != 3 {
		t.Fatalf("want 3 reports, got %d: %v", len(errs), errs)
	}
	for i, want := range []string{"GET /healthz -> 200", "GET /v1/events?ct=application/json -> 200", "GET /v1/unrouted -> 404"} {
		if !strings.Contains(errs[i], want) {
			t.Errorf("report %d does not name %q: %s", i, want, errs[i])
		}
	}
}
