package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/api"
	"github.com/waypoint-portal/waypoint/api/apitest"
)

type thing struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type createThingInput struct {
	Body struct {
		Name string `json:"name" minLength:"1"`
	}
}

type createThingOutput struct {
	Location string `header:"Location"`
	Body     thing
}

// thingsServer registers an idempotent creating POST whose handler counts its
// runs and can be held open, to exercise the shared Idempotency-Key middleware.
func thingsServer(t *testing.T, runs *atomic.Int64, hold <-chan struct{}, started chan<- struct{}) *apitest.Env {
	return apitest.New(t, func(s *api.Server) {
		huma.Register(s.API(), api.Idempotent(huma.Operation{
			OperationID: "createThing", Method: http.MethodPost, Path: "/v1/test-things", DefaultStatus: http.StatusCreated,
			Security: []map[string][]string{{"bearer": {"goals:write"}}},
		}, func(context.Context, huma.Context, []byte) error { return nil }), func(ctx context.Context, in *createThingInput) (*createThingOutput, error) {
			runs.Add(1)
			if in.Body.Name == "slow" {
				started <- struct{}{}
				<-hold
			}
			id := uuid.Must(uuid.NewV7()).String()
			return &createThingOutput{Location: "/v1/test-things/" + id, Body: thing{ID: id, Name: in.Body.Name}}, nil
		})
	})
}

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	var runs atomic.Int64
	hold, started := make(chan struct{}), make(chan struct{}, 1)
	e := thingsServer(t, &runs, hold, started)
	alice, bob := e.Login("alice", "client"), e.Login("bob", "client")

	first := e.Do(http.MethodPost, "/v1/test-things", alice.Token, map[string]any{"name": "pantry"}, "Idempotency-Key", "k-1").Want(t, http.StatusCreated)
	again := e.Do(http.MethodPost, "/v1/test-things", alice.Token, map[string]any{"name": "pantry"}, "Idempotency-Key", "k-1").Want(t, http.StatusCreated)
	if string(first.Body) != string(again.Body) || first.Header.Get("Location") != again.Header.Get("Location") {
		t.Fatalf("replay differs:\n%s\n%s", first.Body, again.Body)
	}
	if again.Header.Get("Idempotent-Replayed") != "true" || runs.Load() != 1 {
		t.Fatalf("replayed=%q runs=%d", again.Header.Get("Idempotent-Replayed"), runs.Load())
	}
	// Same key, other body: 422 naming the header, handler not run.
	p := e.Do(http.MethodPost, "/v1/test-things", alice.Token, map[string]any{"name": "shelter"}, "Idempotency-Key", "k-1").Problem(t, http.StatusUnprocessableEntity)
	if !apitest.HasErrorAt(p, "header.Idempotency-Key") || runs.Load() != 1 {
		t.Fatalf("mismatch: %v runs=%d", p, runs.Load())
	}
	// Keys are per person: bob's k-1 is his own.
	b := e.Do(http.MethodPost, "/v1/test-things", bob.Token, map[string]any{"name": "pantry"}, "Idempotency-Key", "k-1").Want(t, http.StatusCreated)
	if string(b.Body) == string(first.Body) || runs.Load() != 2 {
		t.Fatalf("bob got alice's response")
	}
	// Without a key every POST runs.
	e.Do(http.MethodPost, "/v1/test-things", alice.Token, map[string]any{"name": "pantry"}).Want(t, http.StatusCreated)
	if runs.Load() != 3 {
		t.Fatalf("runs = %d, want 3", runs.Load())
	}
	// Validation failures are replayed too, and bad keys are refused.
	e.Do(http.MethodPost, "/v1/test-things", alice.Token, map[string]any{"name": ""}, "Idempotency-Key", "k-bad").Problem(t, http.StatusUnprocessableEntity)
	e.Do(http.MethodPost, "/v1/test-things", alice.Token, map[string]any{"name": "x"}, "Idempotency-Key", strings.Repeat("k", 256)).Problem(t, http.StatusUnprocessableEntity)

	// While the first request runs, a retry with the same key is 409.
	var wg sync.WaitGroup
	wg.Add(1)
	var slow *apitest.Resp
	go func() {
		defer wg.Done()
		slow = e.Do(http.MethodPost, "/v1/test-things", alice.Token, map[string]any{"name": "slow"}, "Idempotency-Key", "k-slow")
	}()
	<-started
	r := e.Do(http.MethodPost, "/v1/test-things", alice.Token, map[string]any{"name": "slow"}, "Idempotency-Key", "k-slow")
	r.Problem(t, http.StatusConflict)
	if r.Header.Get("Retry-After") == "" {
		t.Fatalf("409 without Retry-After")
	}
	close(hold)
	wg.Wait()
	slow.Want(t, http.StatusCreated)
	replay := e.Do(http.MethodPost, "/v1/test-things", alice.Token, map[string]any{"name": "slow"}, "Idempotency-Key", "k-slow").Want(t, http.StatusCreated)
	if string(replay.Body) != string(slow.Body) {
		t.Fatalf("replay after completion differs")
	}
}

func TestProblemResponses(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	alice := e.Login("alice", "client")

	r := e.Do(http.MethodGet, "/v1/nope", alice.Token, nil)
	r.Problem(t, http.StatusNotFound)
	r = e.Do(http.MethodDelete, "/v1/me", alice.Token, nil)
	r.Problem(t, http.StatusMethodNotAllowed)
	if !strings.Contains(r.Header.Get("Allow"), "GET") {
		t.Fatalf("405 Allow = %q", r.Header.Get("Allow"))
	}
	e.Do(http.MethodGet, "/v1/clients?limit=1000", alice.Token, nil).Problem(t, http.StatusUnprocessableEntity)
	p := e.Do(http.MethodGet, "/v1/clients?cursor=!!", alice.Token, nil).Problem(t, http.StatusUnprocessableEntity)
	if !apitest.HasErrorAt(p, "query.cursor") {
		t.Fatalf("cursor error not located: %v", p)
	}
	p = e.Do(http.MethodGet, "/v1/clients/not-a-uuid", alice.Token, nil).Problem(t, http.StatusUnprocessableEntity)
	if !apitest.HasErrorAt(p, "path.clientId") {
		t.Fatalf("path error not located: %v", p)
	}

	// Request ids: echoed when sane, generated otherwise, always in 5xx bodies.
	if id := e.Do(http.MethodGet, "/healthz", "", nil, "X-Request-Id", "abc-123").Header.Get("X-Request-Id"); id != "abc-123" {
		t.Fatalf("request id %q", id)
	}
	if id := e.Do(http.MethodGet, "/healthz", "", nil, "X-Request-Id", strings.Repeat("x", 65)+" !").Header.Get("X-Request-Id"); id == "" || strings.Contains(id, "!") {
		t.Fatalf("request id %q", id)
	}
	// Break the schema under the server: the 500 must not leak SQL or internals.
	if err := e.DB.Exec(`ALTER TABLE clients RENAME COLUMN interests TO interests_gone`).Error; err != nil {
		t.Fatal(err)
	}
	r = e.Do(http.MethodGet, "/v1/clients", alice.Token, nil)
	p = r.Problem(t, http.StatusInternalServerError)
	body := string(r.Body)
	for _, leak := range []string{"interests", "SQLSTATE", "column", "clients", ".go"} {
		if strings.Contains(body, leak) {
			t.Fatalf("500 body leaks %q: %s", leak, body)
		}
	}
	if p["request_id"] != r.Header.Get("X-Request-Id") || p["request_id"] == "" {
		t.Fatalf("500 request id %v vs header %q", p["request_id"], r.Header.Get("X-Request-Id"))
	}
}

func TestHealthAndMetrics(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	e.Do(http.MethodGet, "/healthz", "", nil).Want(t, http.StatusOK)
	e.Do(http.MethodGet, "/readyz", "", nil).Want(t, http.StatusOK)
	alice := e.Login("alice", "client")
	e.Do(http.MethodGet, "/v1/me", alice.Token, nil).Want(t, http.StatusOK)
	// Metrics have their own listener (api/server); the public one has none.
	e.Do(http.MethodGet, "/metrics", "", nil).Problem(t, http.StatusNotFound)
	spec := e.Do(http.MethodGet, "/openapi.json", "", nil).Want(t, http.StatusOK)
	if !strings.Contains(string(spec.Body), `"getMe"`) {
		t.Fatalf("openapi.json lacks getMe")
	}
	e.Do(http.MethodGet, "/openapi.yaml", "", nil).Want(t, http.StatusOK)
	e.Do(http.MethodGet, "/docs", "", nil).Want(t, http.StatusOK)
	// Readiness follows the database: close the pool and it answers 503 + Retry-After.
	sqlDB, err := e.DB.DB()
	if err != nil {
		t.Fatal(err)
	}
	_ = sqlDB.Close()
	r := e.Do(http.MethodGet, "/readyz", "", nil)
	r.Problem(t, http.StatusServiceUnavailable)
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("503 without Retry-After")
	}
	e.Do(http.MethodGet, "/healthz", "", nil).Want(t, http.StatusOK)
}

func TestCORS(t *testing.T) {
	t.Parallel()
	c := api.CORS{Origins: []string{"https://app.example.org"}, AllowLoopback: true}
	for origin, want := range map[string]bool{
		"https://app.example.org": true, "http://localhost:5173": true, "http://127.0.0.1:3000": true,
		"https://evil.example": false, "null": false, "http://localhost.evil.example": false,
	} {
		if got := c.Allowed(origin); got != want {
			t.Errorf("origin %q allowed=%v, want %v", origin, got, want)
		}
	}
	srv := httptest.NewServer(api.New(api.Deps{CORS: c}).Handler())
	defer srv.Close()
	preflight := func(origin string) *http.Response {
		req, _ := http.NewRequest(http.MethodOptions, srv.URL+"/v1/me", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "PATCH")
		req.Header.Set("Access-Control-Request-Headers", "authorization, if-match")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	res := preflight("https://app.example.org")
	if res.StatusCode != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != "https://app.example.org" ||
		!strings.Contains(res.Header.Get("Access-Control-Allow-Headers"), "If-Match") {
		t.Fatalf("preflight: %d %v", res.StatusCode, res.Header)
	}
	if res := preflight("https://evil.example"); res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("evil origin allowed: %v", res.Header)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/healthz", nil)
	req.Header.Set("Origin", "http://localhost:5173")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Header.Get("Access-Control-Allow-Origin") != "http://localhost:5173" || !strings.Contains(res.Header.Get("Access-Control-Expose-Headers"), "ETag") {
		t.Fatalf("simple request: %v", res.Header)
	}
}
