package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/waypoint-portal/waypoint/domain"
)

// requestInfo travels in the request context so that inner layers (Huma
// middleware, handlers) can tell the outer logging and metrics layer what
// happened: which operation ran, for whom, and why it failed.
type requestInfo struct {
	ID          string
	OperationID string
	PersonID    string
	AppID       string
	Err         error
}

type requestInfoKey struct{}

func requestInfoFrom(ctx context.Context) *requestInfo {
	ri, _ := ctx.Value(requestInfoKey{}).(*requestInfo)
	return ri
}

// validRequestID is an X-Request-Id the API keeps (else it makes one): at
// most domain.MaxRequestID characters, as the access log and problems say.
var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,` + strconv.Itoa(domain.MaxRequestID) + `}$`)

// statusRecorder remembers the status for logs and metrics. Unwrap lets
// http.ResponseController reach the real writer (flushing, deadlines for SSE).
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusRecorder) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack reaches the connection through any wrappers beneath (which need
// not be Hijackers themselves, only Unwrap).
func (w *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "waypoint_http_requests_total", Help: "HTTP requests by operation id and status.",
		}, []string{"operation", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "waypoint_http_request_duration_seconds",
			Help:    "HTTP request latency by operation id and status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"operation", "status"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// observe wraps the whole server: request id, panic recovery, one JSON log
// line per request, metrics.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ri := &requestInfo{ID: r.Header.Get("X-Request-Id")}
		if !validRequestID.MatchString(ri.ID) {
			ri.ID = uuid.Must(uuid.NewV7()).String()
		}
		w.Header().Set("X-Request-Id", ri.ID)
		rec := &statusRecorder{ResponseWriter: w}
		r = r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, ri))
		defer func() {
			p := recover()
			// ErrAbortHandler (a stream that must end early) still drops the
			// connection, but only after its request is logged and counted.
			if p == http.ErrAbortHandler {
				defer panic(p)
			} else if p != nil {
				ri.Err = errors.New("panic: " + slog.AnyValue(p).String())
				if rec.status == 0 {
					writeProblem(rec, r, newProblem(r.Context(), http.StatusInternalServerError, ""))
				}
			}
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			op := ri.OperationID
			if op == "" {
				op = "unmatched"
			}
			elapsed := time.Since(start)
			st := strconv.Itoa(status)
			s.metrics.requests.WithLabelValues(op, st).Inc()
			s.metrics.duration.WithLabelValues(op, st).Observe(elapsed.Seconds())
			logError(s.log, ri)
			attrs := []slog.Attr{
				slog.String("request_id", ri.ID), slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.String("operation_id", op), slog.Int("status", status),
				slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000), slog.Int64("bytes", rec.bytes),
			}
			if ri.PersonID != "" {
				attrs = append(attrs, slog.String("person_id", ri.PersonID))
			}
			if ri.AppID != "" {
				attrs = append(attrs, slog.String("app_id", ri.AppID))
			}
			s.log.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
		}()
		next.ServeHTTP(rec, r)
	})
}

// problemForUnrouted answers what the mux would answer with text/plain (404,
// 405) as problem+json, keeping the Allow header for 405.
func problemForUnrouted(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		probe := &headerProbe{header: http.Header{}}
		h.ServeHTTP(probe, r)
		switch probe.status {
		case http.StatusNotFound:
			writeProblem(w, r, newProblem(r.Context(), http.StatusNotFound, "no such endpoint: "+r.URL.Path))
		case http.StatusMethodNotAllowed:
			w.Header().Set("Allow", probe.header.Get("Allow"))
			writeProblem(w, r, newProblem(r.Context(), http.StatusMethodNotAllowed, r.Method+" is not allowed here; see the Allow header"))
		default: // redirects for unclean paths
			mux.ServeHTTP(w, r)
		}
	})
}

// headerProbe captures what the mux's own fallback handler would write.
type headerProbe struct {
	header http.Header
	status int
}

func (p *headerProbe) Header() http.Header         { return p.header }
func (p *headerProbe) Write(b []byte) (int, error) { return len(b), nil }
func (p *headerProbe) WriteHeader(code int)        { p.status = code }

func writeProblem(w http.ResponseWriter, _ *http.Request, p *Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// huma-level middleware: record the operation id for logs and metrics.
func operationInfo(ctx huma.Context, next func(huma.Context)) {
	if ri := requestInfoFrom(ctx.Context()); ri != nil {
		ri.OperationID = ctx.Operation().OperationID
	}
	next(ctx)
}
