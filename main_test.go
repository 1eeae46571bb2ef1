package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/waypoint-portal/waypoint/api"
	"github.com/waypoint-portal/waypoint/api/apitest"
)

// env is a process environment for run: exactly the variables in m.
func env(m map[string]string) lookupEnv {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func TestConfigErrorsNameTheVariable(t *testing.T) {
	cases := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{}, "OIDC_ISSUER_URL"},
		{map[string]string{"OIDC_ISSUER_URL": "https://id.example.org"}, "OIDC_AUDIENCE"},
		{map[string]string{"OIDC_ISSUER_URL": "ftp://x", "OIDC_AUDIENCE": "a"}, "OIDC_ISSUER_URL"},
		{map[string]string{"WAYPOINT_DEV": "maybe"}, "WAYPOINT_DEV"},
		{map[string]string{"WAYPOINT_DEV": "true", "WAYPOINT_ADDR": "0.0.0.0:8080"}, "not a loopback"},
		{map[string]string{"WAYPOINT_DEV": "true", "WAYPOINT_ADDR": "8080"}, "WAYPOINT_ADDR"},
		{map[string]string{"WAYPOINT_DEV": "true", "DATABASE_URL": "mysql://x"}, "DATABASE_URL"},
		{map[string]string{"WAYPOINT_DEV": "true", "WAYPOINT_DB_MAX_OPEN_CONNS": "-3"}, "WAYPOINT_DB_MAX_OPEN_CONNS"},
		{map[string]string{"WAYPOINT_DEV": "true", "WAYPOINT_DB_STATEMENT_TIMEOUT": "soon"}, "WAYPOINT_DB_STATEMENT_TIMEOUT"},
		{map[string]string{"WAYPOINT_DEV": "true", "WAYPOINT_LOG_LEVEL": "loud"}, "WAYPOINT_LOG_LEVEL"},
		{map[string]string{"WAYPOINT_DEV": "true", "WAYPOINT_METRICS_ADDR": "9464"}, "WAYPOINT_METRICS_ADDR"},
		{map[string]string{"WAYPOINT_DEV": "true", "WAYPOINT_METRICS_ADDR": "127.0.0.1:8080"}, "WAYPOINT_METRICS_ADDR"},
		{map[string]string{"WAYPOINT_DEV": "true", "WAYPOINT_RATE_LIMIT_PERSON": "fast"}, "WAYPOINT_RATE_LIMIT_PERSON"},
		{map[string]string{"WAYPOINT_DEV": "true", "WAYPOINT_RATE_LIMIT_PERSON": "0/s"}, "WAYPOINT_RATE_LIMIT_PERSON"},
		{map[string]string{"WAYPOINT_DEV": "true", "WAYPOINT_RATE_LIMIT_PERSON": "20/s burst 0"}, "WAYPOINT_RATE_LIMIT_PERSON"},
		{map[string]string{"WAYPOINT_DEV": "true", "WAYPOINT_RATE_LIMIT_PERSON": "20/d"}, "WAYPOINT_RATE_LIMIT_PERSON"},
		{map[string]string{"WAYPOINT_DEV": "true", "WAYPOINT_RATE_LIMIT_IP": "2000000/s"}, "WAYPOINT_RATE_LIMIT_IP"},
		{map[string]string{"WAYPOINT_DEV": "true", "WAYPOINT_RATE_LIMIT_IP": "-5/s"}, "WAYPOINT_RATE_LIMIT_IP"},
		{map[string]string{"WAYPOINT_DEV": "true", "WAYPOINT_RATE_LIMIT_IP": "20 per second"}, "WAYPOINT_RATE_LIMIT_IP"},
		{map[string]string{"WAYPOINT_DEV": "true", "WAYPOINT_TRUSTED_PROXIES": "10.0.0.0/33"}, "WAYPOINT_TRUSTED_PROXIES"},
		{map[string]string{"WAYPOINT_DEV": "true", "WAYPOINT_TRUSTED_PROXIES": "proxy.example.org"}, "WAYPOINT_TRUSTED_PROXIES"},
	}
	for _, tc := range cases {
		var stderr bytes.Buffer
		code := run(context.Background(), []string{"serve"}, env(tc.env), &bytes.Buffer{}, &stderr)
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		if code != exitConfig || len(lines) != 1 || !strings.Contains(lines[0], tc.want) {
			t.Errorf("env %v: exit %d, stderr %q; want exit 2 and one line naming %s", tc.env, code, stderr.String(), tc.want)
		}
	}
	c, err := loadServeConfig(env(map[string]string{"WAYPOINT_ADDR": "[::1]:9000"}), true)
	if err != nil || c.IssuerURL != "http://[::1]:9000/dev/oidc" || c.Audience != "waypoint" {
		t.Fatalf("dev defaults: %+v %v", c, err)
	}
	// Metrics: Prometheus' default port on loopback unless moved or turned off.
	for v, want := range map[string]string{"": "", "off": "", "OFF": "", "0.0.0.0:9100": "0.0.0.0:9100"} {
		c, err := loadServeConfig(env(map[string]string{"WAYPOINT_METRICS_ADDR": v}), true)
		if err != nil || c.MetricsAddr != want {
			t.Errorf("WAYPOINT_METRICS_ADDR=%q: metrics on %q (%v), want %q", v, c.MetricsAddr, err, want)
		}
	}
	if c.MetricsAddr != "127.0.0.1:9464" {
		t.Errorf("default metrics address %q", c.MetricsAddr)
	}
}

// Rate limits: the documented defaults (the same in dev mode), "off", and
// the N/unit [burst B] forms; trusted proxies as addresses and prefixes.
func TestAbuseProtectionConfig(t *testing.T) {
	c, err := loadServeConfig(env(map[string]string{}), true)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.RateLimits.Effective(); got.Person.String() != "20/s burst 100" || got.IP.String() != "100/s burst 400" || len(c.TrustedProxies) != 0 {
		t.Fatalf("defaults: person %s, ip %s, %d trusted proxies", got.Person, got.IP, len(c.TrustedProxies))
	}
	for v, want := range map[string]string{
		"off": "off", "OFF": "off", "20/s": "20/s burst 20", " 20 / S  Burst 60 ": "20/s burst 60",
		"600/m": "600/m burst 600", "1000/h burst 50": "1000/h burst 50", "1000000/s burst 1000000": "1000000/s burst 1000000",
	} {
		c, err := loadServeConfig(env(map[string]string{"WAYPOINT_RATE_LIMIT_PERSON": v, "WAYPOINT_RATE_LIMIT_IP": v}), true)
		if err != nil || c.RateLimits.Person.String() != want || c.RateLimits.IP.String() != want {
			t.Errorf("%q: person %s, ip %s (%v); want %s", v, c.RateLimits.Person, c.RateLimits.IP, err, want)
		}
	}
	c, err = loadServeConfig(env(map[string]string{"WAYPOINT_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.7,,2001:db8::/32 "}), true)
	if err != nil || len(c.TrustedProxies) != 3 || c.TrustedProxies[1].String() != "192.0.2.7/32" {
		t.Fatalf("trusted proxies: %v %v", c.TrustedProxies, err)
	}
}

func TestOpenAPIIsCommittedAndComplete(t *testing.T) {
	var out bytes.Buffer
	if err := cmdOpenAPI(context.Background(), cli{stdout: &out}, nil); err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile("openapi/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), committed) {
		t.Fatal("openapi/openapi.yaml differs from the code: run `make openapi` and commit it")
	}
	out.Reset()
	if code := run(context.Background(), []string{"openapi", "--oas", "3.0"}, env(nil), &out, io.Discard); code != exitOK {
		t.Fatalf("openapi --oas 3.0: exit %d", code)
	}
	committed, err = os.ReadFile("openapi/openapi-3.0.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), committed) {
		t.Fatal("openapi/openapi-3.0.yaml differs from the code: run `make openapi` and commit it")
	}
	// What generated clients need (issue #13): no schema named like
	// oapi-codegen's Client type, no body media type the server answers 415.
	if bytes.Contains(committed, []byte("#/components/schemas/Client\"")) || bytes.Contains(committed, []byte("application/octet-stream")) {
		t.Fatal("the contract names a schema Client or advertises application/octet-stream bodies")
	}
	if !bytes.Contains(committed, []byte("\nopenapi: 3.0.")) {
		t.Fatalf("openapi-3.0.yaml is not OpenAPI 3.0: %.40q", committed)
	}
	// Every operation is documented well enough to build a client from.
	doc := api.New(api.Deps{}).API().OpenAPI()
	n := 0
	for path, item := range doc.Paths {
		for method, op := range map[string]*huma.Operation{"GET": item.Get, "POST": item.Post, "PUT": item.Put, "PATCH": item.Patch, "DELETE": item.Delete} {
			if op == nil {
				continue
			}
			n++
			where := method + " " + path
			if op.OperationID == "" || op.Summary == "" || op.Description == "" || len(op.Tags) == 0 {
				t.Errorf("%s lacks id, summary, description or tags", where)
			}
			hasError := false
			for code := range op.Responses {
				if code >= "400" {
					hasError = true
				}
			}
			if !hasError {
				t.Errorf("%s documents no error responses", where)
			}
			if strings.HasPrefix(path, "/v1/") && len(op.Security) == 0 {
				t.Errorf("%s declares no security", where)
			}
		}
	}
	if n < 10 {
		t.Fatalf("only %d operations found", n)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// The README's promise, end to end: serve --dev, mint a token with the CLI,
// call /v1/me, then shut down gracefully on cancellation.
func TestDevServeAndToken(t *testing.T) {
	_, dbURL := apitest.NewDB(t)
	addr, metricsAddr := freeAddr(t), freeAddr(t)
	e := env(map[string]string{"DATABASE_URL": dbURL, "WAYPOINT_ADDR": addr, "WAYPOINT_METRICS_ADDR": metricsAddr, "WAYPOINT_SHUTDOWN_TIMEOUT": "5s"})

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var logs bytes.Buffer
	go func() { done <- run(ctx, []string{"serve", "--dev"}, e, &bytes.Buffer{}, &syncWriter{b: &logs}) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r, err := http.Get("http://" + addr + "/readyz")
		if err == nil && r.StatusCode == 200 {
			r.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not become ready")
		}
		time.Sleep(50 * time.Millisecond)
	}

	var tok, stderr bytes.Buffer
	if code := run(context.Background(), []string{"dev", "token", "--subject", "alice", "--role", "client"}, e, &tok, &stderr); code != 0 {
		t.Fatalf("dev token: exit %d: %s", code, stderr.String())
	}
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(tok.String()))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var me struct {
		DisplayName string   `json:"display_name"`
		Roles       []string `json:"roles"`
		ClientID    string   `json:"client_id"`
	}
	_ = json.NewDecoder(res.Body).Decode(&me)
	res.Body.Close()
	if res.StatusCode != 200 || me.DisplayName != "Alice Johnson" || len(me.Roles) != 1 || me.Roles[0] != "client" || me.ClientID == "" {
		t.Fatalf("GET /v1/me = %d %+v", res.StatusCode, me)
	}
	// A token restricted by --scope is refused where the scope is missing.
	tok.Reset()
	run(context.Background(), []string{"dev", "token", "--subject", "alice", "--role", "client", "--scope", "goals:read"}, e, &tok, &stderr)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(tok.String()))
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("scoped token: %d, want 403", res.StatusCode)
	}
	// Metrics are on their own listener, not on the API's.
	if r, err := http.Get("http://" + addr + "/metrics"); err != nil || r.StatusCode != http.StatusNotFound {
		t.Fatalf("GET /metrics on the API listener: %v %v, want 404", r, err)
	}
	r, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != http.StatusOK || !strings.Contains(string(m), `waypoint_http_requests_total{operation="getMe",status="200"}`) {
		t.Fatalf("metrics listener: %d %.300s", r.StatusCode, m)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited %d: %s", code, logs.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not shut down")
	}
	if !strings.Contains(logs.String(), `"msg":"stopped"`) {
		t.Fatalf("no clean stop in logs: %s", logs.String())
	}
}

type syncWriter struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
