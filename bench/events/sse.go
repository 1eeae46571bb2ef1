package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"syscall"
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

// rawStream is an idle or deliberately slow stream on a bare TCP connection:
// the request is written and the status line checked; then nothing is read
// (an idle client's few heartbeats fit in the socket buffers). It keeps the
// bench process small at 10,000 streams.
type rawStream struct{ conn net.Conn }

// openRaw opens a stream; rcvbuf > 0 shrinks the socket's receive buffer
// (a slow reader whose socket fills quickly).
func openRaw(addr, token string, rcvbuf int) (*rawStream, error) {
	d := net.Dialer{Timeout: 10 * time.Second}
	if rcvbuf > 0 {
		d.Control = func(_, _ string, c syscall.RawConn) error {
			var serr error
			if err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf) }); err != nil {
				return err
			}
			return serr
		}
	}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := fmt.Fprintf(conn, "GET /v1/events HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n\r\n", addr, token); err != nil {
		conn.Close()
		return nil, err
	}
	status := make([]byte, len("HTTP/1.1 200"))
	if _, err := io.ReadFull(conn, status); err != nil || string(status) != "HTTP/1.1 200" {
		conn.Close()
		return nil, fmt.Errorf("open raw stream: %q %v", status, err)
	}
	_ = conn.SetDeadline(time.Time{})
	return &rawStream{conn: conn}, nil
}

func (s *rawStream) close() { s.conn.Close() }
