//go:build long

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/waypoint-portal/waypoint/api/apitest"
)

// outcome is one request of the load.
type outcome struct {
	create                  bool
	sent, done              time.Time
	status                  int
	contentType, retryAfter string
	goalID                  string
	err                     error
}

// load sends requests at a constant rate (creating a goal, then listing
// goals, alternately) until stop.
type load struct {
	stopc chan struct{}
	wg    sync.WaitGroup
	mu    sync.Mutex
	out   []outcome
}

func startLoad(base, token, clientID string, perSecond int) *load {
	l := &load{stopc: make(chan struct{})}
	hc := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		tick := time.NewTicker(time.Second / time.Duration(perSecond))
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-l.stopc:
				return
			case <-tick.C:
			}
			l.wg.Add(1)
			go func() {
				defer l.wg.Done()
				o := request(hc, base, token, clientID, i)
				l.mu.Lock()
				l.out = append(l.out, o)
				l.mu.Unlock()
			}()
		}
	}()
	return l
}

func request(hc *http.Client, base, token, clientID string, i int) outcome {
	o := outcome{create: i%2 == 0, sent: time.Now()}
	var req *http.Request
	if o.create {
		req, _ = http.NewRequest(http.MethodPost, base+"/v1/clients/"+clientID+"/goals", bytes.NewReader(goalBody(i)))
		req.Header.Set("Content-Type", "application/json")
	} else {
		req, _ = http.NewRequest(http.MethodGet, base+"/v1/clients/"+clientID+"/goals?limit=5", nil)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := hc.Do(req)
	if err != nil {
		o.err, o.done = err, time.Now()
		return o
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	o.done, o.err, o.status = time.Now(), err, res.StatusCode
	o.contentType, o.retryAfter = res.Header.Get("Content-Type"), res.Header.Get("Retry-After")
	if res.StatusCode == http.StatusCreated {
		var g struct{ ID string }
		_ = json.Unmarshal(body, &g)
		o.goalID = g.ID
	}
	return o
}

func (l *load) stop() []outcome {
	close(l.stopc)
	l.wg.Wait()
	return l.out
}

// PostgreSQL goes away under load and comes back: every request answers
// (2xx, or 503 problem+json with Retry-After within the statement timeout,
// never 500), /readyz says 503, the server recovers by itself within 5 s,
// and no multi-row write is left half done.
func TestFaultDatabaseOutage(t *testing.T) {
	const statementTimeout = 2 * time.Second
	bin := buildWaypoint(t)
	_, dbURL := apitest.NewDB(t)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := startProxy(t, u.Host)
	addr := freeAddr(t)
	srv := startWaypoint(t, bin, map[string]string{
		"DATABASE_URL": withHost(dbURL, proxy.addr), "WAYPOINT_ADDR": addr, "WAYPOINT_METRICS_ADDR": "off",
		"WAYPOINT_DB_STATEMENT_TIMEOUT": statementTimeout.String(), "WAYPOINT_LOG_LEVEL": "error", "WAYPOINT_SHUTDOWN_TIMEOUT": "5s",
	})
	alice := minter(t, dbURL, addr)("alice-outage", "client")
	cid := clientID(t, srv.url, alice)

	l := startLoad(srv.url, alice, cid, 50)
	time.Sleep(2 * time.Second)
	cutAt := time.Now()
	severed := proxy.cut()
	time.Sleep(time.Second)
	res, err := http.Get(srv.url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		t.Errorf("/readyz during the outage: %d, Retry-After %q; want 503 with Retry-After", res.StatusCode, res.Header.Get("Retry-After"))
	}
	time.Sleep(2 * time.Second)
	restoredAt := time.Now()
	proxy.restore(t)
	if !eventually(5*time.Second, func() bool { return status(srv.url+"/readyz") == http.StatusOK }) {
		t.Fatalf("not ready 5 s after the database came back")
	}
	recoveredAt := time.Now()
	time.Sleep(2 * time.Second)
	results := l.stop()

	during := checkOutage(t, results, cutAt, restoredAt, recoveredAt, statementTimeout)
	goals := checkGoalsWhole(t, dbURL, cid, results)
	t.Logf("FAULTS injected=1 kind=postgres-outage requests=%d answered_503=%d connections_severed=%d recovered_in=%s goals_checked=%d",
		len(results), during, severed, recoveredAt.Sub(restoredAt).Round(time.Millisecond), goals)
}

// checkOutage applies the rules to every request and returns how many met the outage.
func checkOutage(t *testing.T, rs []outcome, cutAt, restoredAt, recoveredAt time.Time, limit time.Duration) int {
	t.Helper()
	grace := 100 * time.Millisecond // a response written just before the cut may be read just after it
	n503 := 0
	for _, r := range rs {
		what := fmt.Sprintf("request sent at +%s (cut at +%s, restored at +%s)",
			r.sent.Sub(rs[0].sent).Round(time.Millisecond), cutAt.Sub(rs[0].sent).Round(time.Millisecond), restoredAt.Sub(rs[0].sent).Round(time.Millisecond))
		switch {
		case r.err != nil:
			t.Errorf("%s: no answer: %v", what, r.err)
		case r.status == http.StatusOK || r.status == http.StatusCreated:
			if r.done.After(cutAt.Add(grace)) && r.sent.Before(restoredAt) {
				t.Errorf("%s: %d while the database was away", what, r.status)
			}
		case r.status == http.StatusServiceUnavailable:
			n503++
			if !strings.HasPrefix(r.contentType, "application/problem+json") || r.retryAfter == "" {
				t.Errorf("%s: 503 with content type %q, Retry-After %q", what, r.contentType, r.retryAfter)
			}
			if took := r.done.Sub(r.sent); took > limit {
				t.Errorf("%s: 503 after %s, more than the statement timeout %s", what, took, limit)
			}
			if r.sent.After(recoveredAt) {
				t.Errorf("%s: 503 after the server had recovered", what)
			}
		default:
			t.Errorf("%s: status %d (%s); want 2xx or 503", what, r.status, r.contentType)
		}
	}
	if n503 == 0 {
		t.Fatalf("no request met the outage (%d requests)", len(rs))
	}
	return n503
}

// checkGoalsWhole reads the database directly: every goal has its three
// steps and its creation in the history, and every 201 is there.
func checkGoalsWhole(t *testing.T, dbURL, clientID string, rs []outcome) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT g.id::text,
		(SELECT count(*) FROM goal_steps s WHERE s.client_id = g.client_id AND s.goal_id = g.id),
		(SELECT count(*) FROM goal_history h WHERE h.client_id = g.client_id AND h.goal_id = g.id AND h.field = 'goal')
		FROM goals g WHERE g.client_id = $1`, clientID)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]bool{}
	for rows.Next() {
		var id string
		var steps, created int
		if err := rows.Scan(&id, &steps, &created); err != nil {
			t.Fatal(err)
		}
		stored[id] = true
		if steps != 3 || created != 1 {
			t.Errorf("goal %s half written: %d steps, %d creation entries; want 3 and 1", id, steps, created)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.goalID != "" && !stored[r.goalID] {
			t.Errorf("goal %s answered 201 but is not stored", r.goalID)
		}
	}
	return len(stored)
}

// SIGTERM with 100 requests in flight and 100 event streams open: the
// requests complete, the streams end cleanly, the process exits 0.
func TestFaultGracefulShutdown(t *testing.T) {
	const clients, perClient = 10, 10 // at most 10 streams per person
	bin := buildWaypoint(t)
	_, dbURL := apitest.NewDB(t)
	addr, metricsAddr := freeAddr(t), freeAddr(t)
	srv := startWaypoint(t, bin, map[string]string{"DATABASE_URL": dbURL, "WAYPOINT_ADDR": addr,
		"WAYPOINT_METRICS_ADDR": metricsAddr, "WAYPOINT_LOG_LEVEL": "warn", "WAYPOINT_SHUTDOWN_TIMEOUT": "20s"})
	mint := minter(t, dbURL, addr)
	tokens, cids := make([]string, clients), make([]string, clients)
	for i := range clients {
		tokens[i] = mint(fmt.Sprintf("client-%d", i), "client")
		cids[i] = clientID(t, srv.url, tokens[i])
	}
	var streams []*stream
	for i := range clients * perClient {
		streams = append(streams, openStream(t, srv.url, tokens[i%clients]))
	}
	if !eventually(10*time.Second, func() bool { return metricValue(metricsAddr, "waypoint_events_subscribers") == clients*perClient }) {
		t.Fatalf("the server does not count %d open streams", clients*perClient)
	}
	var slow []*slowRequest
	for i := range clients * perClient {
		slow = append(slow, startSlowPost(t, addr, tokens[i%clients], cids[i%clients], goalBody(i)))
	}
	time.Sleep(time.Second) // the server has read every request's headers and waits for the bodies

	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if !eventually(5*time.Second, func() bool { return refused(addr) }) {
		t.Error("still accepting connections after SIGTERM")
	}
	for i, s := range streams {
		if err := s.wait(5 * time.Second); err != nil {
			t.Errorf("stream %d did not end cleanly: %v", i, err)
		}
	}
	for i, r := range slow {
		if code, err := r.finish(); err != nil || code != http.StatusCreated {
			t.Errorf("in-flight request %d: %d %v; want 201", i, code, err)
		}
	}
	select {
	case err := <-srv.done:
		if err != nil {
			t.Fatalf("exit: %v; want status 0", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the process did not exit after its requests completed")
	}
	if n := countGoals(t, dbURL); n != clients*perClient {
		t.Fatalf("%d goals stored; want %d", n, clients*perClient)
	}
	t.Logf("FAULTS injected=1 kind=sigterm in_flight=%d streams=%d", len(slow), len(streams))
}

// stream is an open GET /v1/events.
type stream struct {
	end chan error // nil: the stream ended with a clean end of body
}

func openStream(t *testing.T, base, token string) *stream {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("open stream: %d", res.StatusCode)
	}
	s := &stream{end: make(chan error, 1)}
	rd := apitest.ReadEvents(t, res.Body) // every frame is checked against openapi/asyncapi.yaml
	go func() {
		defer res.Body.Close()
		for _, ok := rd.Next(); ok; _, ok = rd.Next() {
		}
		s.end <- rd.Err()
	}()
	return s
}

func (s *stream) wait(d time.Duration) error {
	select {
	case err := <-s.end:
		return err
	case <-time.After(d):
		return fmt.Errorf("still open after %s", d)
	}
}

// slowRequest is a POST whose body is sent in two halves, so it is in
// flight (headers read, handler waiting for the body) for as long as the
// test wants.
type slowRequest struct {
	conn net.Conn
	rest []byte
}

func startSlowPost(t *testing.T, addr, token, clientID string, body []byte) *slowRequest {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	half := len(body) / 2
	head := fmt.Sprintf("POST /v1/clients/%s/goals HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n", clientID, addr, token, len(body))
	if _, err := c.Write(append([]byte(head), body[:half]...)); err != nil {
		t.Fatal(err)
	}
	return &slowRequest{conn: c, rest: body[half:]}
}

func (r *slowRequest) finish() (int, error) {
	_ = r.conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := r.conn.Write(r.rest); err != nil {
		return 0, err
	}
	res, err := http.ReadResponse(bufio.NewReader(r.conn), nil)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	_, err = io.ReadAll(res.Body)
	return res.StatusCode, err
}

// metricValue reads one unlabelled gauge from the metrics listener (-1 if absent).
func metricValue(addr, name string) int {
	res, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return -1
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		var v float64
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == name {
			if _, err := fmt.Sscan(f[1], &v); err == nil {
				return int(v)
			}
		}
	}
	return -1
}

func countGoals(t *testing.T, dbURL string) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM goals`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
