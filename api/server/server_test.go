package server_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/waypoint-portal/waypoint/api/apitest"
	"github.com/waypoint-portal/waypoint/api/server"
	"github.com/waypoint-portal/waypoint/auth/authtest"
	"github.com/waypoint-portal/waypoint/domain"
)

func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// Metrics are served on their own listener only, and stop with the server.
func TestMetricsListener(t *testing.T) {
	db, _ := apitest.NewDB(t)
	iss := authtest.NewIssuer(t)
	srv, err := server.New(context.Background(), server.Config{Store: domain.NewStore(db), Auth: iss.Config(),
		Addr: "127.0.0.1:0", MetricsAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	tok := iss.Token(t, "alice", []string{"client"})
	for range 2 {
		if code, body := get(t, srv.URL()+"/v1/me", tok); code != http.StatusOK {
			t.Fatalf("GET /v1/me: %d %s", code, body)
		}
	}
	if code, _ := get(t, srv.URL()+"/metrics", ""); code != http.StatusNotFound {
		t.Fatalf("GET /metrics on the API listener: %d, want 404", code)
	}
	code, m := get(t, srv.MetricsURL(), "")
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d", srv.MetricsURL(), code)
	}
	for _, want := range []string{`waypoint_http_requests_total{operation="getMe",status="200"} 2`,
		`waypoint_http_request_duration_seconds_bucket{operation="getMe"`, "go_goroutines", "go_sql_max_open_connections"} {
		if !strings.Contains(m, want) {
			t.Fatalf("metrics lack %s", want)
		}
	}
	if code, _ := get(t, strings.TrimSuffix(srv.MetricsURL(), "/metrics")+"/v1/me", tok); code != http.StatusNotFound {
		t.Fatalf("the metrics listener serves the API: %d", code)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(srv.MetricsURL()); err == nil {
		t.Fatal("metrics listener still up after Shutdown")
	}
}

// Without a metrics address there is no metrics listener at all.
func TestMetricsOff(t *testing.T) {
	db, _ := apitest.NewDB(t)
	srv, err := server.New(context.Background(), server.Config{Store: domain.NewStore(db), Auth: authtest.NewIssuer(t).Config(), Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if srv.Metrics != nil || srv.MetricsURL() != "" {
		t.Fatalf("metrics server without MetricsAddr: %v %q", srv.Metrics, srv.MetricsURL())
	}
}
