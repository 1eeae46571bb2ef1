// Command export benchmarks "Download my data": it builds waypoint, runs the
// binary on loopback against its own database, gives one client a realistic
// record with 100,000 messages, downloads that client's export and reports
// the server process's memory growth (its peak RSS during the download,
// VmHWM after resetting it, against its RSS before), the time taken and the
// size. It exits 1 when the document is incomplete or the growth reaches the
// budget (50 MB by default).
//
// Run from the repository root: go run ./bench/export (or make bench-export).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

type config struct {
	messages, accessLog int
	budgetMB            int64
	db, addr            string
	timeout             time.Duration
}

func main() {
	var c config
	flag.IntVar(&c.messages, "messages", 100_000, "messages in the client's conversations")
	flag.IntVar(&c.accessLog, "access-log", 20_000, "access-log entries of the client")
	flag.Int64Var(&c.budgetMB, "budget-mb", 50, "the RSS growth that fails the benchmark, in MB")
	flag.StringVar(&c.db, "db", "postgres://postgres@127.0.0.1:5432/waypoint_bench_export?sslmode=disable", "database (dropped and recreated; its name must contain bench)")
	flag.StringVar(&c.addr, "addr", "", "loopback address for the server (default: a free port)")
	flag.DurationVar(&c.timeout, "timeout", 10*time.Minute, "bound on the whole run")
	flag.Parse()
	log.SetFlags(0)
	if err := run(c); err != nil {
		log.Fatalf("bench-export: %v", err)
	}
}

func run(c config) error {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	if c.addr == "" {
		c.addr = freeAddr()
	}
	if host, _, err := net.SplitHostPort(c.addr); err != nil || !net.ParseIP(host).IsLoopback() {
		return fmt.Errorf("-addr %q: the benchmark runs on loopback only", c.addr)
	}
	dir, err := os.MkdirTemp("", "bench-export")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "waypoint")
	log.Printf("building waypoint ...")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		return fmt.Errorf("build: %v\n%s", err, out)
	}
	if err := recreateDB(ctx, c.db); err != nil {
		return err
	}
	srv, err := startServer(ctx, bin, c.addr, c.db, dir)
	if err != nil {
		return err
	}
	defer srv.stop()
	hc := &http.Client{Timeout: c.timeout}
	w, err := setUp(ctx, hc, srv, c)
	if err != nil {
		return err
	}
	return measure(ctx, hc, srv, w, c)
}

// measure warms the server up with a small export, then downloads the big
// one while watching the server's memory, and reports.
func measure(ctx context.Context, hc *http.Client, srv *server, w *world, c config) error {
	if _, err := download(ctx, hc, srv.url, w.small); err != nil {
		return fmt.Errorf("warm-up export: %w", err)
	}
	time.Sleep(time.Second)
	before, err := srv.rss()
	if err != nil {
		return err
	}
	// Reset the peak (VmHWM) to the present, so after the download it is
	// the peak of the download alone.
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", srv.cmd.Process.Pid), []byte("5"), 0); err != nil {
		return fmt.Errorf("reset the peak RSS: %w", err)
	}
	stop := make(chan struct{})
	sampled := make(chan int64, 1)
	go func() { sampled <- srv.watch(stop) }()
	log.Printf("downloading the export of a client with %d messages ...", c.messages)
	res, err := download(ctx, hc, srv.url, w.big)
	close(stop)
	peakSampled := <-sampled
	if err != nil {
		return err
	}
	hwm, err := srv.hwm()
	if err != nil {
		return err
	}
	growth := max(hwm, peakSampled) - before
	fmt.Printf("\nexport of %d messages, %d access-log entries, %d goals (loopback, one client)\n", res.counts["messages"],
		res.counts["access_log"], res.counts["goals"])
	fmt.Printf("  time            %s (first byte after %s)\n", res.took.Round(time.Millisecond), res.firstByte.Round(time.Millisecond))
	fmt.Printf("  size            %.1f MB (%.1f MB/s)\n", float64(res.bytes)/1e6, float64(res.bytes)/1e6/res.took.Seconds())
	fmt.Printf("  server RSS      %.1f MB before, peak %.1f MB during (VmHWM %.1f MB, sampled %.1f MB)\n",
		mb(before), mb(max(hwm, peakSampled)), mb(hwm), mb(peakSampled))
	fmt.Printf("  RSS growth      %.1f MB (budget < %d MB)\n", mb(growth), c.budgetMB)
	fmt.Printf("  complete        %v\n", res.complete)
	switch {
	case !res.complete:
		return fmt.Errorf("the export is incomplete")
	case res.counts["messages"] != c.messages:
		return fmt.Errorf("the export has %d messages, want %d", res.counts["messages"], c.messages)
	case growth >= c.budgetMB<<20:
		return fmt.Errorf("RSS grew by %.1f MB, over the %d MB budget", mb(growth), c.budgetMB)
	}
	fmt.Println("  PASS")
	return nil
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }
