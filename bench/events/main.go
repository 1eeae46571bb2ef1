// Command events benchmarks live delivery: it builds waypoint, runs two
// server processes (replicas) on loopback against their own database, opens
// idle SSE streams on one of them and reports the server's memory per idle
// stream (VmRSS of the subprocess, and Go heap in use from /metrics) at
// -first and at -streams streams, then opens slow readers (a tiny receive
// buffer, never read) next to the measured streams, posts messages at a
// fixed rate and reports post->deliver latency to a stream on the same
// replica and to one on the other replica, with every idle stream and the
// slow readers open. Finally it stops the loaded server with SIGTERM and
// reports how long shutdown took with all streams open.
//
// Run from the repository root: go run ./bench/events (or make bench-events).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"github.com/waypoint-portal/waypoint/bench/internal/load"
	"log"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	streams := flag.Int("streams", 10000, "idle client streams on replica A")
	first := flag.Int("first", 1000, "also measure memory after this many idle streams")
	slow := flag.Int("slow", 20, "slow readers on replica A (workers' streams that never read)")
	workers := flag.Int("workers", 20, "workers; each has streams on both replicas and receives the measured messages")
	rate := flag.Int("rate", 50, "messages per second")
	duration := flag.Duration("duration", 20*time.Second, "length of the latency phase")
	dbURL := flag.String("db", "postgres://postgres@127.0.0.1:5432/waypoint_bench_events?sslmode=disable", "database (dropped and recreated)")
	port := flag.Int("port", 0, "first of four consecutive loopback ports for the replicas and their metrics (0: any free ports)")
	flag.Parse()
	log.SetFlags(0)
	if err := run(*streams, min(*first, *streams), *slow, *workers, *rate, *duration, *dbURL, addrs(*port)); err != nil {
		log.Fatalf("bench-events: %v", err)
	}
}

// bench holds the two replicas and what the setup phase created: a token per
// worker and client, and one conversation per client.
type bench struct {
	nStreams, nFirst, nSlow int
	nWorkers, rate          int
	duration                time.Duration
	a, b                    *server
	hc, streams             *http.Client
	mint                    func(subject, role string) string
	workerTok, clientTok    []string
	convOf                  []string
	open                    []*sse
	raw                     []*rawStream
}

func run(nStreams, nFirst, nSlow, nWorkers, rate int, duration time.Duration, dbURL string, addr func() string) error {
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

	addrA, addrB := addr(), addr()
	issuer := "http://" + addrA + "/dev/oidc"
	a, err := startServer(ctx, "A", bin, addrA, addr(), issuer, dbURL, dir)
	if err != nil {
		return err
	}
	defer a.stop()
	b, err := startServer(ctx, "B", bin, addrB, addr(), issuer, dbURL, dir)
	if err != nil {
		return err
	}
	defer b.stop()

	mint, err := minter(ctx, dbURL, issuer)
	if err != nil {
		return err
	}
	bn := &bench{
		nStreams: nStreams, nFirst: nFirst, nSlow: nSlow, nWorkers: nWorkers, rate: rate, duration: duration, a: a, b: b, mint: mint,
		hc:      &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 0}, Timeout: 30 * time.Second},
		streams: &http.Client{Transport: &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: 0}},
	}
	return bn.measure()
}

// measure runs the phases in order: setup, idle streams (memory), measured
// streams and posts (latency), shutdown with every stream open.
func (bn *bench) measure() error {
	if err := bn.setUp(); err != nil {
		return err
	}
	mem, err := bn.openIdle()
	if err != nil {
		return err
	}
	lat := newLatencies()
	if err := bn.openMeasured(lat); err != nil {
		return err
	}
	if err := bn.openSlow(); err != nil {
		return err
	}
	total, postErrs := bn.post(lat)
	afterPost, err := bn.a.memory(bn.hc)
	if err != nil {
		return err
	}
	stopTook := bn.shutdown()
	bn.report(mem, afterPost, lat, total, postErrs, stopTook)
	return nil
}

// setUp creates people, care teams and one conversation per client, each
// client with one worker.
func (bn *bench) setUp() error {
	a, hc, nStreams, nWorkers := bn.a, bn.hc, bn.nStreams, bn.nWorkers
	log.Printf("setting up %d clients, %d workers ...", nStreams, nWorkers)
	admin := bn.mint("bench-admin", "admin")
	bn.workerTok = make([]string, nWorkers)
	workerID := make([]string, nWorkers)
	for w := range bn.workerTok {
		bn.workerTok[w] = bn.mint(fmt.Sprintf("bench-worker-%d", w), "worker")
		var me struct{ ID string }
		if err := load.Call(context.Background(), hc, http.MethodGet, a.url+"/v1/me", bn.workerTok[w], nil, http.StatusOK, &me); err != nil {
			return err
		}
		workerID[w] = me.ID
	}
	bn.clientTok = make([]string, nStreams)
	bn.convOf = make([]string, nStreams)
	err := parallel(16, nStreams, func(i int) error {
		bn.clientTok[i] = bn.mint(fmt.Sprintf("bench-client-%d", i), "client")
		var me struct {
			ClientID string `json:"client_id"`
		}
		if err := load.Call(context.Background(), hc, http.MethodGet, a.url+"/v1/me", bn.clientTok[i], nil, http.StatusOK, &me); err != nil {
			return err
		}
		if err := load.Call(context.Background(), hc, http.MethodPut, a.url+"/v1/clients/"+me.ClientID+"/care-team/"+workerID[i%nWorkers], admin, nil, http.StatusCreated, nil); err != nil {
			return err
		}
		var c struct{ ID string }
		if err := load.Call(context.Background(), hc, http.MethodPost, a.url+"/v1/conversations", bn.clientTok[i], map[string]string{"subject": "bench"}, http.StatusCreated, &c); err != nil {
			return err
		}
		bn.convOf[i] = c.ID
		return nil
	})
	if err != nil {
		return err
	}
	hc.CloseIdleConnections()
	return nil
}

// openIdle opens one idle stream per client on A (bare connections, see
// rawStream) and reads A's memory before, after nFirst and after all.
func (bn *bench) openIdle() ([3]memory, error) {
	var mem [3]memory
	time.Sleep(2 * time.Second)
	var err error
	if mem[0], err = bn.a.memory(bn.hc); err != nil {
		return mem, err
	}
	var openMu sync.Mutex
	from := 0
	for k, upTo := range []int{bn.nFirst, bn.nStreams} {
		log.Printf("opening idle streams %d..%d on A ...", from, upTo)
		err = parallel(50, upTo-from, func(i int) error {
			s, err := openRaw(bn.a.addr(), bn.clientTok[from+i], 0)
			if err != nil {
				return err
			}
			openMu.Lock()
			bn.raw = append(bn.raw, s)
			openMu.Unlock()
			return nil
		})
		if err != nil {
			return mem, err
		}
		from = upTo
		time.Sleep(3 * time.Second)
		if mem[k+1], err = bn.a.memory(bn.hc); err != nil {
			return mem, err
		}
	}
	return mem, nil
}

// openSlow opens streams for workers on A that never read, with a tiny
// receive buffer: the hub must drop them when they fall behind, and they
// must not delay anyone else's delivery.
func (bn *bench) openSlow() error {
	for i := 0; i < bn.nSlow; i++ {
		s, err := openRaw(bn.a.addr(), bn.workerTok[i%bn.nWorkers], 2048)
		if err != nil {
			return err
		}
		bn.raw = append(bn.raw, s)
	}
	return nil
}

// openMeasured opens a stream for every worker on both replicas, recording
// when each message arrives.
func (bn *bench) openMeasured(lat *latencies) error {
	for w := range bn.workerTok {
		for _, srv := range []*server{bn.a, bn.b} {
			name := srv.name
			s, err := openSSE(bn.streams, srv.url, bn.workerTok[w], func(event string, data []byte) {
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
			bn.open = append(bn.open, s)
		}
	}
	return nil
}

// post sends messages at a fixed rate on A, each to a different
// conversation, and waits for their delivery on both replicas.
func (bn *bench) post(lat *latencies) (total int, postErrs int64) {
	total = bn.rate * int(bn.duration/time.Second)
	log.Printf("posting %d messages at %d/s on A ...", total, bn.rate)
	var errs atomic.Int64
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / time.Duration(bn.rate))
	for i := 0; i < total; i++ {
		<-tick.C
		c := i % bn.nStreams
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat.sent(bn.convOf[c], time.Now())
			if err := load.Call(context.Background(), bn.hc, http.MethodPost, bn.a.url+"/v1/conversations/"+bn.convOf[c]+"/messages", bn.clientTok[c],
				map[string]string{"body": "benchmark message " + strconv.Itoa(i)}, http.StatusCreated, nil); err != nil {
				errs.Add(1)
				log.Printf("post: %v", err)
			}
		}()
	}
	tick.Stop()
	wg.Wait()
	waitUntil(5*time.Second, func() bool { return lat.count("A") >= total && lat.count("B") >= total })
	return total, errs.Load()
}

// shutdown sends A SIGTERM with every stream open and times its exit
// (-1: not within 30 s), then closes the streams.
func (bn *bench) shutdown() time.Duration {
	stopStart := time.Now()
	_ = bn.a.cmd.Process.Signal(syscall.SIGTERM)
	stopTook := time.Duration(-1)
	select {
	case <-bn.a.done:
		stopTook = time.Since(stopStart)
	case <-time.After(30 * time.Second):
	}
	for _, s := range bn.open {
		s.close()
	}
	for _, s := range bn.raw {
		s.close()
	}
	return stopTook
}

func (bn *bench) report(mem [3]memory, afterPost memory, lat *latencies, total int, postErrs int64, stopTook time.Duration) {
	open := len(bn.open) + len(bn.raw)
	fmt.Printf("\n== bench-events: %d idle SSE streams on replica A, %d workers streaming on A and B, %d slow readers on A ==\n",
		bn.nStreams, bn.nWorkers, bn.nSlow)
	fmt.Printf("server A before streams: VmRSS %.1f MB, Go heap in use %.1f MB, goroutines %d\n",
		float64(mem[0].rss)/(1<<20), float64(mem[0].heap)/(1<<20), mem[0].goroutines)
	for k, n := range []int{bn.nFirst, bn.nStreams} {
		m := mem[k+1]
		per := func(x, y int64) float64 { return float64(y-x) / float64(n) / 1024 }
		fmt.Printf("%6d idle streams: VmRSS %.1f MB (%.1f KB per stream), Go heap in use %.1f MB (%.1f KB per stream), goroutines %d (%.2f per stream)\n",
			n, float64(m.rss)/(1<<20), per(mem[0].rss, m.rss), float64(m.heap)/(1<<20), per(mem[0].heap, m.heap),
			m.goroutines, float64(m.goroutines-mem[0].goroutines)/float64(n))
	}
	fmt.Printf("post -> deliver at %d msg/s for %s with %d streams open on A (%d messages, %d post errors):\n",
		bn.rate, bn.duration, bn.nStreams+bn.nWorkers+bn.nSlow, total, postErrs)
	for _, r := range []string{"A", "B"} {
		p50, p99, max, n := lat.stats(r)
		label := "same replica (A)"
		if r == "B" {
			label = "other replica (B)"
		}
		fmt.Printf("  %-18s delivered %d/%d  p50 %6.1f ms  p99 %6.1f ms  max %6.1f ms\n", label, n, total, ms(p50), ms(p99), ms(max))
	}
	fmt.Printf("slow readers: %d opened on A, %d dropped by the hub for falling behind, %d streams subscribed on A after the posts\n",
		bn.nSlow, afterPost.dropped, afterPost.streams)
	if stopTook < 0 {
		fmt.Printf("SIGTERM with %d streams open: did not exit within 30 s\n", open)
	} else {
		fmt.Printf("SIGTERM with %d streams open: exited in %.0f ms\n", open, ms(stopTook))
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
