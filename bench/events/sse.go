package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// The SSE client and the post->deliver latency bookkeeping.

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
