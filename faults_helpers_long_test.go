//go:build long

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/waypoint-portal/waypoint/auth/devissuer"
)

// The fault tests run the real binary: what a deployment runs, signals and
// exit status included.

func buildWaypoint(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "waypoint")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// process is a running `waypoint serve --dev`.
type process struct {
	cmd  *exec.Cmd
	url  string
	logs *syncWriter
	done chan error // receives cmd.Wait's result
}

// startWaypoint runs bin with vars on top of an environment cleared of
// Waypoint's own settings, and waits until it is ready.
func startWaypoint(t *testing.T, bin string, vars map[string]string) *process {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--dev")
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, "WAYPOINT_") && !strings.HasPrefix(k, "OIDC_") && k != "DATABASE_URL" {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	// The tests send their load from one address as few people: limits on
	// (as in production) but far above it, unless a test sets its own.
	for _, k := range []string{"WAYPOINT_RATE_LIMIT_PERSON", "WAYPOINT_RATE_LIMIT_IP"} {
		if _, set := vars[k]; !set {
			cmd.Env = append(cmd.Env, k+"=1000000/s burst 1000000")
		}
	}
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &process{cmd: cmd, url: "http://" + vars["WAYPOINT_ADDR"], logs: &syncWriter{b: &bytes.Buffer{}}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("server log:\n%s", p.logs.String())
		}
	})
	if !eventually(30*time.Second, func() bool { return status(p.url+"/readyz") == http.StatusOK }) {
		t.Fatalf("server did not become ready:\n%s", p.logs.String())
	}
	return p
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func status(u string) int {
	res, err := http.Get(u)
	if err != nil {
		return 0
	}
	res.Body.Close()
	return res.StatusCode
}

func eventually(d time.Duration, cond func() bool) bool {
	end := time.Now().Add(d)
	for !cond() {
		if time.Now().After(end) {
			return false
		}
		time.Sleep(25 * time.Millisecond)
	}
	return true
}

// minter signs dev tokens for the server at addr with the key it keeps in
// the database at dbURL (as `waypoint dev token` does).
func minter(t *testing.T, dbURL, addr string) func(subject, role string) string {
	t.Helper()
	ctx := context.Background()
	st, err := openStore(ctx, dbConfig{URL: dbURL, MaxOpenConns: 2}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	iss, err := newDevIssuer(ctx, st, devIssuerURL(addr), "waypoint")
	if err != nil {
		t.Fatal(err)
	}
	return func(subject, role string) string {
		tok, err := iss.Mint(devissuer.TokenRequest{Subject: subject, Name: subject, Roles: []string{role}, TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
}

// clientID signs the client in (GET /v1/me) and returns their client id.
func clientID(t *testing.T, base, token string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var me struct {
		ClientID string `json:"client_id"`
	}
	if err := json.NewDecoder(res.Body).Decode(&me); err != nil || res.StatusCode != http.StatusOK || me.ClientID == "" {
		t.Fatalf("GET /v1/me: %d %v", res.StatusCode, err)
	}
	return me.ClientID
}

// goalBody is a goal with three steps: one transaction of five rows
// (goal, steps, history), the multi-row write whose atomicity is checked.
func goalBody(i int) []byte {
	b, _ := json.Marshal(map[string]any{"title": fmt.Sprintf("Fault goal %d", i),
		"steps": []map[string]string{{"title": "one"}, {"title": "two"}, {"title": "three"}}})
	return b
}

// withHost swaps the host:port of a database URL.
func withHost(dbURL, hostport string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		panic(err)
	}
	u.Host = hostport
	return u.String()
}

// tcpProxy stands between the server and PostgreSQL so a test can take the
// database away (close every connection, refuse new ones) without stopping
// the cluster other tests share.
type tcpProxy struct {
	target, addr string

	mu      sync.Mutex
	ln      net.Listener // nil while cut
	conns   map[net.Conn]struct{}
	severed int
}

func startProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	p := &tcpProxy{target: target, conns: map[net.Conn]struct{}{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr, p.ln = ln.Addr().String(), ln
	go p.accept(ln)
	t.Cleanup(func() { p.cut() })
	return p
}

func (p *tcpProxy) accept(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go p.pipe(c)
	}
}

func (p *tcpProxy) pipe(down net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		down.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil { // cut while dialling
		p.mu.Unlock()
		down.Close()
		up.Close()
		return
	}
	p.conns[down], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	go func() { _, _ = io.Copy(up, down); up.Close(); down.Close() }()
	_, _ = io.Copy(down, up)
	up.Close()
	down.Close()
	p.mu.Lock()
	delete(p.conns, down)
	delete(p.conns, up)
	p.mu.Unlock()
}

// cut closes the listener (new connections are refused) and every open
// connection; it returns how many server-side connections it severed.
func (p *tcpProxy) cut() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	n := len(p.conns) / 2
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
	p.severed += n
	return n
}

// restore listens again on the same address.
func (p *tcpProxy) restore(t *testing.T) {
	t.Helper()
	var ln net.Listener
	ok := eventually(5*time.Second, func() bool {
		var err error
		ln, err = net.Listen("tcp", p.addr)
		return err == nil
	})
	if !ok {
		t.Fatalf("proxy could not listen on %s again", p.addr)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go p.accept(ln)
}

// refused reports whether nothing accepts connections at addr any more.
func refused(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		c.Close()
		return false
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}
