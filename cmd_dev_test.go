package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/waypoint-portal/waypoint/api/apitest"
)

// startDevServe runs `serve --dev` on a free loopback port against a fresh
// database until the test ends; it returns the address and the environment.
func startDevServe(t *testing.T) (string, map[string]string) {
	t.Helper()
	_, dbURL := apitest.NewDB(t)
	addr := freeAddr(t)
	vars := map[string]string{"DATABASE_URL": dbURL, "WAYPOINT_ADDR": addr, "WAYPOINT_METRICS_ADDR": "off", "WAYPOINT_SHUTDOWN_TIMEOUT": "5s"}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	logs := &syncWriter{b: &bytes.Buffer{}}
	go func() { done <- run(ctx, []string{"serve", "--dev"}, env(vars), &bytes.Buffer{}, logs) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("serve did not shut down")
		}
	})
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if r, err := http.Get("http://" + addr + "/healthz"); err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return addr, vars
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("dev server did not come up: %s", logs.locked())
		}
	}
}

// locked reads what was written so far, while the server may still write.
func (w *syncWriter) locked() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

type call struct {
	status int
	detail string
	me     struct {
		Roles    []string `json:"roles"`
		ClientID string   `json:"client_id"`
	}
}

func get(t *testing.T, addr, path, token string) call {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var c call
	var body bytes.Buffer
	_, _ = body.ReadFrom(res.Body)
	_ = json.Unmarshal(body.Bytes(), &c.me)
	var p struct{ Detail string }
	_ = json.Unmarshal(body.Bytes(), &p)
	c.status, c.detail = res.StatusCode, p.Detail
	return c
}

func with(m map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for mk, mv := range m {
		if mk != k {
			out[mk] = mv
		}
	}
	return out
}

// `dev token --server` gets the token from the running server, whatever this
// shell's WAYPOINT_ADDR and DATABASE_URL say; a token minted here for another
// address or database is refused with a 401 saying why (dev mode).
func TestDevTokenFromTheServer(t *testing.T) {
	addr, vars := startDevServe(t)
	server := "http://" + addr
	elsewhere := env(map[string]string{"DATABASE_URL": unreachableURL, "WAYPOINT_ADDR": "127.0.0.1:1"})
	r := runCLI(elsewhere, "dev", "token", "--server", server, "--subject", "alice")
	if r.code != exitOK || !oneLine(r.stdout) || r.stderr != "" {
		t.Fatalf("dev token --server: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	alice := get(t, addr, "/v1/me", strings.TrimSpace(r.stdout))
	if alice.status != http.StatusOK || len(alice.me.Roles) != 1 || alice.me.Roles[0] != "client" || alice.me.ClientID == "" {
		t.Fatalf("alice by --server with her seeded role: %+v", alice)
	}
	// The issuer URL itself is accepted as --server.
	if r := runCLI(elsewhere, "dev", "token", "--server", server+"/dev/oidc/", "--subject", "wanda"); r.code != exitOK {
		t.Fatalf("--server with the issuer URL: exit %d %s", r.code, r.stderr)
	}

	otherAddr := runCLI(env(with(vars, "WAYPOINT_ADDR", "127.0.0.1:18169")), "dev", "token", "--subject", "alice")
	c := get(t, addr, "/v1/me", strings.TrimSpace(otherAddr.stdout))
	if c.status != http.StatusUnauthorized || !strings.Contains(c.detail, `issuer mismatch: expected "`+server+`/dev/oidc", got "http://127.0.0.1:18169/dev/oidc"`) ||
		!strings.Contains(c.detail, "--server "+server) {
		t.Fatalf("token for another WAYPOINT_ADDR: %d %q", c.status, c.detail)
	}
	_, otherDB := apitest.NewDB(t)
	otherKey := runCLI(env(with(vars, "DATABASE_URL", otherDB)), "dev", "token", "--subject", "alice")
	if c := get(t, addr, "/v1/me", strings.TrimSpace(otherKey.stdout)); c.status != http.StatusUnauthorized || !strings.Contains(c.detail, "unknown signing key") {
		t.Fatalf("token for another DATABASE_URL: %d %q", c.status, c.detail)
	}

	// --server failures: nothing listening (1), no dev issuer there (1), a refused request (2).
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--server", "http://127.0.0.1:1", "--subject", "alice"}, exitRuntime, "cannot reach the dev server at http://127.0.0.1:1"},
		{[]string{"--server", server + "/v1", "--subject", "alice"}, exitRuntime, "has no dev issuer"},
		{[]string{"--server", server, "--subject", strings.Repeat("a", 300), "--role", "client"}, exitConfig, "subject is longer than"},
		{[]string{"--server", "ftp://127.0.0.1", "--subject", "alice"}, exitConfig, "--server must be"},
	} {
		r := runCLI(elsewhere, append([]string{"dev", "token"}, tc.args...)...)
		if r.code != tc.code || !oneLine(r.stderr) || !strings.Contains(r.stderr, tc.want) || r.stdout != "" {
			t.Errorf("dev token %v: exit %d, stdout %q, stderr %q; want %d naming %q", tc.args, r.code, r.stdout, r.stderr, tc.code, tc.want)
		}
	}
}

// A dev token never demotes a persona unasked: without --role it carries
// the persona's seeded role; --no-role (or --role naming others) is said on
// stderr, and the client record survives it.
func TestDevTokenRoles(t *testing.T) {
	addr, vars := startDevServe(t)
	e := env(vars)
	mint := func(args ...string) result {
		t.Helper()
		r := runCLI(e, append([]string{"dev", "token"}, args...)...)
		if r.code != exitOK || !oneLine(r.stdout) {
			t.Fatalf("dev token %v: exit %d, stderr %q", args, r.code, r.stderr)
		}
		return r
	}
	first := get(t, addr, "/v1/me", strings.TrimSpace(mint("--subject", "alice").stdout))
	if first.status != http.StatusOK || len(first.me.Roles) != 1 || first.me.Roles[0] != "client" || first.me.ClientID == "" {
		t.Fatalf("alice without --role: %+v", first)
	}
	for subject, role := range map[string]string{"bob": "client", "wanda": "worker", "will": "worker", "adam": "admin"} {
		if c := get(t, addr, "/v1/me", strings.TrimSpace(mint("--subject", subject).stdout)); c.status != http.StatusOK ||
			len(c.me.Roles) != 1 || c.me.Roles[0] != role {
			t.Errorf("%s without --role: %+v, want %s", subject, c, role)
		}
	}

	r := mint("--subject", "alice", "--no-role")
	if !strings.Contains(r.stderr, "warning: alice's seeded role is client") || !strings.Contains(r.stderr, "--role client") {
		t.Fatalf("--no-role for alice said %q", r.stderr)
	}
	if c := get(t, addr, "/v1/me", strings.TrimSpace(r.stdout)); c.status != http.StatusOK || len(c.me.Roles) != 0 || c.me.ClientID != "" {
		t.Fatalf("alice with --no-role: %+v", c)
	}
	if c := get(t, addr, "/v1/clients", strings.TrimSpace(r.stdout)); c.status != http.StatusForbidden || !strings.Contains(c.detail, "dev mode: this token carries no Waypoint role") {
		t.Fatalf("role-less alice on /v1/clients: %+v", c)
	}
	if r := mint("--subject", "alice", "--role", "worker"); !strings.Contains(r.stderr, "holds only worker instead") {
		t.Fatalf("--role worker for alice said %q", r.stderr)
	}
	again := get(t, addr, "/v1/me", strings.TrimSpace(mint("--subject", "alice", "--role", "client").stdout))
	if again.status != http.StatusOK || again.me.ClientID != first.me.ClientID {
		t.Fatalf("alice's client record after the role-less token: %+v, want client_id %s", again, first.me.ClientID)
	}
	if r := mint("--subject", "sam", "--no-role"); r.stderr != "" {
		t.Fatalf("--no-role for a non-persona warns: %q", r.stderr)
	}
	for _, args := range [][]string{{"--subject", "sam"}, {"--subject", "alice", "--no-role", "--role", "client"}} {
		r := runCLI(e, append([]string{"dev", "token"}, args...)...)
		if r.code != exitConfig || !oneLine(r.stderr) || r.stdout != "" {
			t.Errorf("dev token %v: exit %d, stdout %q, stderr %q; want exit 2", args, r.code, r.stdout, r.stderr)
		}
	}
}
