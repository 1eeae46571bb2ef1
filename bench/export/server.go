package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// server is the waypoint subprocess under test.
type server struct {
	url, issuer string
	cmd         *exec.Cmd
	done        chan error
}

func startServer(ctx context.Context, bin, addr, dbURL, dir string) (*server, error) {
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve", "--dev")
	// Rate limits off: the seeding is a burst from one person, and the
	// benchmark measures the export, not the limiter.
	cmd.Env = append(os.Environ(), "WAYPOINT_ADDR="+addr, "WAYPOINT_METRICS_ADDR=off", "DATABASE_URL="+dbURL,
		"WAYPOINT_LOG_LEVEL=warn", "WAYPOINT_RATE_LIMIT_PERSON=off", "WAYPOINT_RATE_LIMIT_IP=off")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{url: "http://" + addr, issuer: "http://" + addr + "/dev/oidc", cmd: cmd, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait(); logf.Close() }()
	ready := waitUntil(ctx, 60*time.Second, func() bool {
		res, err := http.Get(s.url + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	})
	if !ready {
		s.stop()
		b, _ := os.ReadFile(logf.Name())
		return nil, fmt.Errorf("the server did not become ready:\n%s", b)
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

// status reads a size (kB) from the server's /proc status, in bytes.
func (s *server) status(field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == field+":" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, s.cmd.Process.Pid)
}

func (s *server) rss() (int64, error) { return s.status("VmRSS") }
func (s *server) hwm() (int64, error) { return s.status("VmHWM") }

// watch samples the RSS every 10 ms until stop closes and returns its peak
// (VmHWM is the authority; this is a cross-check).
func (s *server) watch(stop <-chan struct{}) int64 {
	var peak int64
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		if r, err := s.rss(); err == nil && r > peak {
			peak = r
		}
		select {
		case <-stop:
			return peak
		case <-t.C:
		}
	}
}

// recreateDB drops and creates the benchmark's own database.
func recreateDB(ctx context.Context, dbURL string) error {
	u, err := url.Parse(dbURL)
	if err != nil {
		return err
	}
	name := strings.TrimPrefix(u.Path, "/")
	if !strings.Contains(name, "bench") {
		return fmt.Errorf("refusing to drop %q: the benchmark database's name must contain bench", name)
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

func waitUntil(ctx context.Context, d time.Duration, cond func() bool) bool {
	end := time.Now().Add(d)
	for !cond() {
		if time.Now().After(end) || ctx.Err() != nil {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().String()
}
