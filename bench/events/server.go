package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Replicas: waypoint subprocesses and what they report about themselves.

type server struct {
	name string
	url  string
	// metrics is the server's own metrics listener (never the API's).
	metrics string
	cmd     *exec.Cmd
	done    chan error
}

func startServer(ctx context.Context, name, bin, addr, metricsAddr, issuer, dbURL, dir string) (*server, error) {
	logf, err := os.Create(filepath.Join(dir, "server-"+name+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve", "--dev")
	cmd.Env = append(os.Environ(), "WAYPOINT_ADDR="+addr, "WAYPOINT_METRICS_ADDR="+metricsAddr, "DATABASE_URL="+dbURL, "OIDC_ISSUER_URL="+issuer,
		"WAYPOINT_LOG_LEVEL=warn", "WAYPOINT_DB_MAX_OPEN_CONNS=20", "WAYPOINT_SHUTDOWN_TIMEOUT=20s",
		// 1,000 streams and the posts come from one address: limits on, far above that.
		"WAYPOINT_RATE_LIMIT_PERSON=1000000/s burst 1000000", "WAYPOINT_RATE_LIMIT_IP=1000000/s burst 1000000")
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

// addr is the API's host:port.
func (s *server) addr() string { return strings.TrimPrefix(s.url, "http://") }

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
	// streams is the subscribers gauge; dropped counts streams ended for
	// falling behind.
	streams, dropped int64
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
		case "waypoint_events_subscribers":
			m.streams = int64(v)
		case "waypoint_events_dropped_streams_total":
			m.dropped = int64(v)
		}
	}
	return m, sc.Err()
}
