// Command events benchmarks live delivery: it builds waypoint, runs two
// server processes (replicas) on loopback against their own database, opens
// many idle SSE streams on one of them and reports the server's memory per
// idle stream (VmRSS of the subprocess, and Go heap in use from /metrics),
// then posts messages at a fixed rate and reports post->deliver latency to a
// stream on the same replica and to one on the other replica. Finally it
// stops the loaded server with SIGTERM and reports how long shutdown took
// with all streams open.
//
// Run from the repository root: go run ./bench/events (or make bench-events).
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/waypoint-portal/waypoint/auth/devissuer"
	"github.com/waypoint-portal/waypoint/domain"
)

func main() {
	streams := flag.Int("streams", 1000, "idle client streams on replica A")
	workers := flag.Int("workers", 20, "workers; each has streams on both replicas and receives the measured messages")
	rate := flag.Int("rate", 50, "messages per second")
	duration := flag.Duration("duration", 20*time.Second, "length of the latency phase")
	dbURL := flag.String("db", "postgres://postgres@127.0.0.1:5432/waypoint_bench_events?sslmode=disable", "database (dropped and recreated)")
	flag.Parse()
	log.SetFlags(0)
	if err := run(*streams, *workers, *rate, *duration, *dbURL); err != nil {
		log.Fatalf("bench-events: %v", err)
	}
}

type server struct {
	name string
	url  string
	// metrics is the server's own metrics listener (never the API's).
	metrics string
	cmd     *exec.Cmd
	done    chan error
}

func run(nStreams, nWorkers, rate int, duration time.Duration, dbURL string) error {
	ctx := context.Background()
	raiseFileLimit()
	dir, err := os.MkdirTemp("", "bench-events")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "waypoint")
	log.Printf("building waypoint ...")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		return fmt.Errorf("build: %v\n%s", err, out)
	}
	if err := recreateDB(ctx, dbURL); err != nil {
		return err
	}

	addrA, addrB := freeAddr(), freeAddr()
	issuer := "http://" + addrA + "/dev/oidc"
	a, err := startServer(ctx, "A", bin, addrA, issuer, dbURL, dir)
	if err != nil {
		return err
	}
	defer a.stop()
	b, err := startServer(ctx, "B", bin, addrB, issuer, dbURL, dir)
	if err != nil {
		return err
	}
	defer b.stop()

	mint, err := minter(ctx, dbURL, issuer)
	if err != nil {
		return err
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 0}, Timeout: 30 * time.Second}

	// People, care teams and one conversation per client, each client with one worker.
	log.Printf("setting up %d clients, %d workers ...", nStreams, nWorkers)
	admin := mint("bench-admin", "admin")
	workerTok := make([]string, nWorkers)
	workerID := make([]string, nWorkers)
	for w := range workerTok {
		workerTok[w] = mint(fmt.Sprintf("bench-worker-%d", w), "worker")
		var me struct{ ID string }
		if err := call(hc, http.MethodGet, a.url+"/v1/me", workerTok[w], nil, http.StatusOK, &me); err != nil {
			return err
		}
		workerID[w] = me.ID
	}
	clientTok := make([]string, nStreams)
	convOf := make([]string, nStreams)
	err = parallel(16, nStreams, func(i int) error {
		clientTok[i] = mint(fmt.Sprintf("bench-client-%d", i), "client")
		var me struct {
			ClientID string `json:"client_id"`
		}
		if err := call(hc, http.MethodGet, a.url+"/v1/me", clientTok[i], nil, http.StatusOK, &me); err != nil {
			return err
		}
		if err := call(hc, http.MethodPut, a.url+"/v1/clients/"+me.ClientID+"/care-team/"+workerID[i%nWorkers], admin, nil, http.StatusCreated, nil); err != nil {
			return err
		}
		var c struct{ ID string }
		if err := call(hc, http.MethodPost, a.url+"/v1/conversations", clientTok[i], map[string]string{"subject": "bench"}, http.StatusCreated, &c); err != nil {
			return err
		}
		convOf[i] = c.ID
		return nil
	})
	if err != nil {
		return err
	}
	hc.CloseIdleConnections()

	// Idle streams.
	time.Sleep(2 * time.Second)
	before, err := a.memory(hc)
	if err != nil {
		return err
	}
	log.Printf("opening %d idle streams on A ...", nStreams)
	streamClient := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: 0}}
	var open []*sse
	var openMu sync.Mutex
	err = parallel(50, nStreams, func(i int) error {
		s, err := openSSE(streamClient, a.url, clientTok[i], nil)
		if err != nil {
			return err
		}
		openMu.Lock()
		open = append(open, s)
		openMu.Unlock()
		return nil
	})
	if err != nil {
		return err
	}
	time.Sleep(3 * time.Second)
	after, err := a.memory(hc)
	if err != nil {
		return err
	}

	// Measured streams: every worker on both replicas.
	lat := newLatencies()
	for w := range workerTok {
		for _, srv := range []*server{a, b} {
			name := srv.name
			s, err := openSSE(streamClient, srv.url, workerTok[w], func(event string, data []byte) {
				if event != "message.created" {
					return
				}
				var ev struct {
					Data struct {
						ConversationID string `json:"conversation_id"`
					} `json:"data"`
				}
				if json.Unmarshal(data, &ev) == nil {
					lat.delivered(name, ev.Data.ConversationID, time.Now())
				}
			})
			if err != nil {
				return err
			}
			open = append(open, s)
		}
	}

	// Latency: post at a fixed rate on A, each to a different conversation.
	total := rate * int(duration/time.Second)
	log.Printf("posting %d messages at %d/s on A ...", total, rate)
	var postErrs atomic.Int64
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / time.Duration(rate))
	for i := 0; i < total; i++ {
		<-tick.C
		c := i % nStreams
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat.sent(convOf[c], time.Now())
			if err := call(hc, http.MethodPost, a.url+"/v1/conversations/"+convOf[c]+"/messages", clientTok[c],
				map[string]string{"body": "benchmark message " + strconv.Itoa(i)}, http.StatusCreated, nil); err != nil {
				postErrs.Add(1)
				log.Printf("post: %v", err)
			}
		}()
	}
	tick.Stop()
	wg.Wait()
	waitUntil(5*time.Second, func() bool { return lat.count("A") >= total && lat.count("B") >= total })

	// Shutdown with every stream open.
	stopStart := time.Now()
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	var stopTook time.Duration
	select {
	case <-a.done:
		stopTook = time.Since(stopStart)
	case <-time.After(30 * time.Second):
		stopTook = -1
	}
	for _, s := range open {
		s.close()
	}

	perStream := func(x, y int64) float64 { return float64(y-x) / float64(nStreams) / 1024 }
	fmt.Printf("\n== bench-events: %d idle SSE streams on replica A, %d workers streaming on A and B ==\n", nStreams, nWorkers)
	fmt.Printf("server A VmRSS: %.1f MB before streams, %.1f MB with them: %.1f KB per idle stream\n",
		float64(before.rss)/(1<<20), float64(after.rss)/(1<<20), perStream(before.rss, after.rss))
	fmt.Printf("server A Go heap in use: %.1f MB -> %.1f MB: %.1f KB per idle stream; goroutines %d -> %d (%.1f per stream)\n",
		float64(before.heap)/(1<<20), float64(after.heap)/(1<<20), perStream(before.heap, after.heap),
		before.goroutines, after.goroutines, float64(after.goroutines-before.goroutines)/float64(nStreams))
	fmt.Printf("post -> deliver at %d msg/s for %s (%d messages, %d post errors):\n", rate, duration, total, postErrs.Load())
	for _, r := range []string{"A", "B"} {
		p50, p99, max, n := lat.stats(r)
		label := "same replica (A)"
		if r == "B" {
			label = "other replica (B)"
		}
		fmt.Printf("  %-18s delivered %d/%d  p50 %6.1f ms  p99 %6.1f ms  max %6.1f ms\n", label, n, total, ms(p50), ms(p99), ms(max))
	}
	if stopTook < 0 {
		fmt.Printf("SIGTERM with %d streams open: did not exit within 30 s\n", len(open))
	} else {
		fmt.Printf("SIGTERM with %d streams open: exited in %.0f ms\n", len(open), ms(stopTook))
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// ---- servers ----

func startServer(ctx context.Context, name, bin, addr, issuer, dbURL, dir string) (*server, error) {
	logf, err := os.Create(filepath.Join(dir, "server-"+name+".log"))
	if err != nil {
		return nil, err
	}
	metricsAddr := freeAddr()
	cmd := exec.Command(bin, "serve", "--dev")
	cmd.Env = append(os.Environ(), "WAYPOINT_ADDR="+addr, "WAYPOINT_METRICS_ADDR="+metricsAddr, "DATABASE_URL="+dbURL, "OIDC_ISSUER_URL="+issuer,
		"WAYPOINT_LOG_LEVEL=warn", "WAYPOINT_DB_MAX_OPEN_CONNS=20", "WAYPOINT_SHUTDOWN_TIMEOUT=20s")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{name: name, url: "http://" + addr, metrics: "http://" + metricsAddr + "/metrics", cmd: cmd, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait(); logf.Close() }()
	ok := waitUntil(60*time.Second, func() bool {
		res, err := http.Get(s.url + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	})
	if !ok {
		s.stop()
		b, _ := os.ReadFile(logf.Name())
		return nil, fmt.Errorf("server %s did not become ready:\n%s", name, b)
	}
	return s, nil
}

func (s *server) stop() {
	if s.cmd.ProcessState == nil {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(20 * time.Second):
			_ = s.cmd.Process.Kill()
		}
	}
}

type memory struct {
	rss, heap  int64
	goroutines int64
}

func (s *server) memory(hc *http.Client) (memory, error) {
	var m memory
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return m, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			m.rss = kb * 1024
		}
	}
	res, err := hc.Get(s.metrics)
	if err != nil {
		return m, err
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			continue
		}
		v, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "go_memstats_heap_inuse_bytes":
			m.heap = int64(v)
		case "go_goroutines":
			m.goroutines = int64(v)
		}
	}
	return m, sc.Err()
}

// ---- setup helpers ----

func recreateDB(ctx context.Context, dbURL string) error {
	u, err := url.Parse(dbURL)
	if err != nil {
		return err
	}
	name := strings.TrimPrefix(u.Path, "/")
	if !strings.HasPrefix(name, "waypoint_bench") {
		return fmt.Errorf("refusing to drop %q: the bench database name must start with waypoint_bench", name)
	}
	admin := *u
	admin.Path = "/postgres"
	conn, err := pgx.Connect(ctx, admin.String())
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return err
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	return err
}

// minter signs dev tokens in process with the servers' dev key.
func minter(ctx context.Context, dbURL, issuer string) (func(subject, role string) string, error) {
	db, err := domain.OpenDB(ctx, domain.DBConfig{URL: dbURL, MaxOpenConns: 2})
	if err != nil {
		return nil, err
	}
	defer func() {
		if sqlDB, err := db.DB(); err == nil {
			sqlDB.Close()
		}
	}()
	pemKey, err := domain.NewStore(db).DevSigningKey(ctx, func() ([]byte, error) { return nil, errors.New("no dev key: is the server running?") })
	if err != nil {
		return nil, err
	}
	key, err := devissuer.ParseKey(pemKey)
	if err != nil {
		return nil, err
	}
	iss, err := devissuer.New(issuer, "waypoint", key, devissuer.DefaultPersonas())
	if err != nil {
		return nil, err
	}
	return func(subject, role string) string {
		tok, err := iss.Mint(devissuer.TokenRequest{Subject: subject, Name: subject, Roles: []string{role}, TTL: time.Hour})
		if err != nil {
			log.Fatalf("mint: %v", err)
		}
		return tok
	}, nil
}

func call(hc *http.Client, method, u, token string, body any, want int, out any) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != want {
		return fmt.Errorf("%s %s: %d %s", method, u, res.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func parallel(workers, n int, fn func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

func waitUntil(d time.Duration, cond func() bool) bool {
	end := time.Now().Add(d)
	for !cond() {
		if time.Now().After(end) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

// raiseFileLimit lifts the soft open-files limit to the hard one; the
// servers inherit it (each stream is a socket on both sides).
func raiseFileLimit() {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err == nil && r.Cur < r.Max {
		r.Cur = r.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r)
	}
}

// ---- SSE client ----

type sse struct {
	body io.Closer
	done chan struct{}
}

func openSSE(hc *http.Client, base, token string, onEvent func(event string, data []byte)) (*sse, error) {
	req, err := http.NewRequest(http.MethodGet, base+"/v1/events", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return nil, fmt.Errorf("open stream: %d %s", res.StatusCode, b)
	}
	s := &sse{body: res.Body, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		r := bufio.NewReader(res.Body)
		var event string
		for {
			line, err := r.ReadSlice('\n')
			if err != nil {
				return
			}
			line = bytes.TrimRight(line, "\n")
			switch {
			case bytes.HasPrefix(line, []byte("event: ")):
				event = string(line[7:])
			case bytes.HasPrefix(line, []byte("data: ")):
				if onEvent != nil {
					onEvent(event, line[6:])
				}
			case len(line) == 0:
				event = ""
			}
		}
	}()
	return s, nil
}

func (s *sse) close() {
	s.body.Close()
	<-s.done
}

// ---- latency bookkeeping ----

type latencies struct {
	mu      sync.Mutex
	pending map[string]time.Time
	got     map[string][]time.Duration
}

func newLatencies() *latencies {
	return &latencies{pending: map[string]time.Time{}, got: map[string][]time.Duration{}}
}

func (l *latencies) sent(conv string, t time.Time) {
	l.mu.Lock()
	l.pending[conv] = t
	l.mu.Unlock()
}

func (l *latencies) delivered(replica, conv string, t time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t0, ok := l.pending[conv]; ok {
		l.got[replica] = append(l.got[replica], t.Sub(t0))
	}
}

func (l *latencies) count(replica string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.got[replica])
}

func (l *latencies) stats(replica string) (p50, p99, max time.Duration, n int) {
	l.mu.Lock()
	d := slices.Clone(l.got[replica])
	l.mu.Unlock()
	if len(d) == 0 {
		return 0, 0, 0, 0
	}
	slices.Sort(d)
	at := func(q float64) time.Duration { return d[min(len(d)-1, int(q*float64(len(d))))] }
	return at(0.50), at(0.99), d[len(d)-1], len(d)
}
