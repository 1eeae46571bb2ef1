package api

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/waypoint-portal/waypoint/domain/live"
)

// Idle HTTP/1.1 event streams are served without a goroutine blocked in
// the handler: once the replay is written, the handler hijacks the
// connection and returns, which frees net/http's per-connection buffers and
// the handler's deep stack. What stays per stream is the connection, its
// subscription, a connStream and one small goroutine that waits for the
// client to hang up. Writing happens in a short-lived goroutine started
// only when the hub queues events for the stream, the shared heartbeat
// ticks, or the stream must end. HTTP/2 streams cannot be hijacked and keep
// the goroutine per stream (Server.follow).

// connStreams holds the hijacked streams of one server.
type connStreams struct {
	heartbeat time.Duration
	// open counts streams from just before their hijack until they are
	// closed, so a shutdown that waits on it cannot miss one in between.
	open sync.WaitGroup

	mu      sync.Mutex
	streams map[*connStream]struct{}
	stop    chan struct{} // ends the heartbeat ticker; nil while no stream is open
}

func newConnStreams(heartbeat time.Duration) *connStreams {
	return &connStreams{heartbeat: heartbeat, streams: map[*connStream]struct{}{}}
}

// add registers st; the first stream starts the shared heartbeat ticker.
func (cs *connStreams) add(st *connStream) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if len(cs.streams) == 0 {
		cs.stop = make(chan struct{})
		go cs.beat(cs.stop)
	}
	cs.streams[st] = struct{}{}
}

// remove forgets st; the last one stops the ticker, so a server without
// streams has no goroutine for them.
func (cs *connStreams) remove(st *connStream) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if _, ok := cs.streams[st]; !ok {
		return
	}
	delete(cs.streams, st)
	if len(cs.streams) == 0 {
		close(cs.stop)
		cs.stop = nil
	}
	cs.open.Done()
}

// Len is the number of hijacked streams open.
func (cs *connStreams) Len() int {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return len(cs.streams)
}

// beat is the one heartbeat ticker of every hijacked stream: instead of a
// timer per stream, each tick asks every stream to write a comment.
func (cs *connStreams) beat(stop chan struct{}) {
	t := time.NewTicker(cs.heartbeat)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		cs.mu.Lock()
		for st := range cs.streams {
			st.beatDue.Store(true)
			st.kick()
		}
		cs.mu.Unlock()
	}
}

// closeAll waits until every stream has said goodbye (after the hub
// stopped, each writes the end of its response and closes); when ctx ends
// first, it closes the connections that are left.
func (cs *connStreams) closeAll(ctx context.Context) error {
	done := make(chan struct{})
	go func() { cs.open.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	cs.mu.Lock()
	for st := range cs.streams {
		_ = st.conn.Close()
	}
	cs.mu.Unlock()
	<-done // closed connections end their streams at once
	return ctx.Err()
}

// connStream is one hijacked stream.
type connStream struct {
	set          *connStreams
	conn         net.Conn
	sub          *live.Subscription
	g            grant
	writeTimeout time.Duration
	// chunked: the response headers promised chunked transfer encoding
	// (HTTP/1.1), so every write is a chunk and the end is a zero chunk.
	chunked bool
	expiry  atomic.Pointer[time.Timer]

	// last is the last seq sent; only the goroutine holding running touches it.
	last int64
	// running: a writer goroutine is at work; dirty: there is (maybe) new
	// work since it last looked.
	running, dirty atomic.Bool
	beatDue        atomic.Bool
	expired        atomic.Bool
	ended          atomic.Bool
}

// handOff hijacks an HTTP/1.x stream's connection after the replay, and
// reports whether it did; the handler then returns and the stream goes on.
func (s *Server) handOff(r *http.Request, rc *http.ResponseController, sub *live.Subscription, last int64, g grant) bool {
	if r.ProtoMajor != 1 {
		return false
	}
	s.conns.open.Add(1)
	conn, _, err := rc.Hijack()
	if err != nil {
		s.conns.open.Done()
		return false
	}
	// The server's read and write deadlines no longer apply: each write has
	// its own, and reading only watches for the client leaving.
	_ = conn.SetDeadline(time.Time{})
	st := &connStream{set: s.conns, conn: conn, sub: sub, g: g, writeTimeout: s.events.WriteTimeout,
		chunked: r.ProtoAtLeast(1, 1), last: last}
	s.conns.add(st)
	if !g.Expiry.IsZero() {
		// The token was checked once, at connect; the stream must not outlive it.
		st.expiry.Store(time.AfterFunc(time.Until(g.Expiry), func() { st.expired.Store(true); st.kick() }))
	}
	go st.watch()
	sub.OnWake(st.wake)
	return true
}

// wake is called by the hub (under its lock, so it only starts work): events
// are queued, or the subscription ended. A subscription the hub dropped
// cuts short any write in progress, so a stuck client is let go at once.
func (st *connStream) wake() {
	select {
	case <-st.sub.Gone():
		_ = st.conn.SetWriteDeadline(time.Now())
	default:
	}
	st.kick()
}

// kick makes sure a writer goroutine will look at the stream.
func (st *connStream) kick() {
	st.dirty.Store(true)
	if st.running.CompareAndSwap(false, true) {
		go st.pump()
	}
}

// pump writes what is due and exits; at most one runs per stream.
func (st *connStream) pump() {
	for {
		st.dirty.Store(false)
		if !st.step() {
			st.end(true)
			return
		}
		st.running.Store(false)
		if !st.dirty.Load() || !st.running.CompareAndSwap(false, true) {
			return
		}
	}
}

// step writes queued events (re-authorized for this stream) and a due
// heartbeat; false means the stream is over.
func (st *connStream) step() bool {
	if st.ended.Load() || st.expired.Load() {
		return false
	}
	select {
	case <-st.sub.Gone():
		return false
	default:
	}
	var buf []byte
	for _, ev := range st.sub.Take() {
		if ev.Seq > st.last { // not already sent by the replay
			if st.g.delivers(ev) {
				buf = appendEvent(buf, ev)
			}
			st.last = ev.Seq
		}
	}
	if st.beatDue.Swap(false) {
		buf = append(buf, ": heartbeat\n\n"...)
	}
	return len(buf) == 0 || st.write(buf, st.writeTimeout)
}

// write sends p as one chunk within timeout.
func (st *connStream) write(p []byte, timeout time.Duration) bool {
	_ = st.conn.SetWriteDeadline(time.Now().Add(timeout))
	var err error
	if st.chunked {
		head := strconv.AppendInt(make([]byte, 0, 10), int64(len(p)), 16)
		head = append(head, "\r\n"...)
		bufs := net.Buffers{head, p, []byte("\r\n")}
		_, err = bufs.WriteTo(st.conn)
	} else {
		_, err = st.conn.Write(p)
	}
	return err == nil
}

// watch waits for the client to hang up. A client sends nothing after its
// request on a stream that never ends (a pipelined request could never be
// answered), so any byte or error ends the stream.
func (st *connStream) watch() {
	_, _ = st.conn.Read(make([]byte, 1))
	st.end(false)
}

// stopped: the hub ended the subscription because it stopped (not because
// the client fell behind).
func (st *connStream) stopped() bool {
	select {
	case <-st.sub.Gone():
		return st.sub.Reason() == "stopped"
	default:
		return false
	}
}

// end closes the stream once: when the server ends it (hub stopped, token
// expired) the response is finished properly, so the client sees a clean
// end and reconnects with Last-Event-ID; then it frees everything.
func (st *connStream) end(byServer bool) {
	if !st.ended.CompareAndSwap(false, true) {
		if !byServer {
			_ = st.conn.Close() // unblock a writer that is still at it
		}
		return
	}
	if t := st.expiry.Load(); t != nil {
		t.Stop()
	}
	if byServer && st.chunked && (st.expired.Load() || st.stopped()) {
		st.write([]byte{}, time.Second) // zero-length chunk: the response's end
	}
	_ = st.conn.Close()
	st.sub.Close()
	st.set.remove(st)
}
