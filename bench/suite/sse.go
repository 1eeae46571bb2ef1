package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// sseBench is the SSE fan-out scenario: streams open for the SSE client
// and every worker on its care team (perPerson each), while the closed-loop
// connections post messages as the client, one conversation each (every
// participant is a recipient). It measures post -> delivery latency at
// every stream; a message a stream never receives is an error.
type sseBench struct {
	e         *env
	f         *fixtures
	perPerson int
	hc        *http.Client
	mu        sync.Mutex
	sent      map[string]time.Time
}

type arrival struct {
	id string
	at time.Time
}

type stream struct {
	cancel context.CancelFunc
	done   chan struct{}
	got    []arrival
	count  atomic.Int64
}

func newSSEBench(e *env, f *fixtures, perPerson int) *sseBench {
	return &sseBench{e: e, f: f, perPerson: perPerson,
		hc: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: -1, DisableCompression: true}}}
}

func (b *sseBench) scenario() scenario {
	sc := postScenario("sse-fanout", "SSE fan-out", "", b.f.sseConvs, b.f.sseTokens[0], false)
	sc.call = fmt.Sprintf("POST /v1/conversations/{id}/messages as a client; message.created delivered on GET /v1/events to %d streams (%d people x %d)",
		len(b.f.sseTokens)*b.perPerson, len(b.f.sseTokens), b.perPerson)
	sc.check = func(_ int, t0 time.Time, status int, _ http.Header, body []byte) error {
		if status != http.StatusCreated {
			return fmt.Errorf("status %d: %.200s", status, body)
		}
		var m struct{ ID string }
		if err := json.Unmarshal(body, &m); err != nil {
			return err
		}
		b.mu.Lock()
		b.sent[m.ID] = t0
		b.mu.Unlock()
		return nil
	}
	return sc
}

// round opens the streams, posts for one closed-loop round, waits (at most
// 5 s) for every delivery and matches them to the posts.
func (b *sseBench) round(ctx context.Context, cs *clients, l limits) (round, error) {
	streams, err := b.open(ctx)
	defer func() {
		for _, s := range streams {
			s.cancel()
			<-s.done
		}
	}()
	if err != nil {
		return round{}, err
	}
	b.sent = map[string]time.Time{}
	r := closedLoop(ctx, cs, b.scenario(), "waypoint", b.e.product, l)
	r.postLat = r.lat
	expected := int64(len(b.sent) * len(streams))
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		var n int64
		for _, s := range streams {
			n += s.count.Load()
		}
		if n >= expected {
			break
		}
	}
	for _, s := range streams {
		s.cancel()
		<-s.done
	}
	var lat []time.Duration
	for _, s := range streams {
		for _, a := range s.got {
			if t0, ok := b.sent[a.id]; ok {
				lat = append(lat, a.at.Sub(t0))
			}
		}
	}
	slices.Sort(lat)
	r.lat, r.deliveries = lat, len(lat)
	if missing := int(expected) - len(lat); missing > 0 {
		r.errs += missing
		if r.firstErr == "" {
			r.firstErr = fmt.Sprintf("%d deliveries missing", missing)
		}
	}
	return r, nil
}

// open starts every stream and waits for its first frame.
func (b *sseBench) open(ctx context.Context) ([]*stream, error) {
	var out []*stream
	var err error
	labelDriver(ctx, func() {
		for _, tok := range b.f.sseTokens {
			for range b.perPerson {
				var s *stream
				if s, err = b.openOne(ctx, tok); err != nil {
					return
				}
				out = append(out, s)
			}
		}
	})
	return out, err
}

func (b *sseBench) openOne(ctx context.Context, token string) (*stream, error) {
	sctx, cancel := context.WithCancel(ctx)
	s := &stream{cancel: cancel, done: make(chan struct{})}
	req, err := http.NewRequestWithContext(sctx, http.MethodGet, b.e.product+"/v1/events", nil)
	if err != nil {
		cancel()
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := b.hc.Do(req)
	if err != nil {
		cancel()
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		_ = res.Body.Close()
		cancel()
		return nil, fmt.Errorf("open stream: status %d", res.StatusCode)
	}
	ready := make(chan struct{})
	go func() {
		defer close(s.done)
		defer res.Body.Close()
		rd := bufio.NewReader(res.Body)
		first := true
		for {
			line, err := rd.ReadSlice('\n')
			if err != nil {
				if first {
					close(ready)
				}
				return
			}
			if first {
				first = false
				close(ready)
			}
			if id, ok := messageID(line); ok {
				s.got = append(s.got, arrival{id, time.Now()})
				s.count.Add(1)
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		cancel()
		return nil, fmt.Errorf("stream sent nothing within 10 s")
	}
	return s, nil
}

// messageID finds the message id in a message.created data line.
func messageID(line []byte) (string, bool) {
	if !bytes.HasPrefix(line, []byte("data: ")) {
		return "", false
	}
	i := bytes.Index(line, []byte(`"message_id"`))
	if i < 0 {
		return "", false
	}
	rest := line[i+len(`"message_id"`):]
	q := bytes.IndexByte(rest, '"')
	if q < 0 || len(rest) < q+37 {
		return "", false
	}
	return string(rest[q+1 : q+37]), true
}
