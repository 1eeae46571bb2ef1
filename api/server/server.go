// Package server assembles a running Waypoint from its parts: the API
// handler, token verification (an OIDC provider or the embedded dev issuer),
// the live event hub, the metrics registry and the HTTP servers. The serve
// command, the test harness (api/apitest) and the benchmarks all build their
// server here, so what they run is what production runs.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/waypoint-portal/waypoint/api"
	"github.com/waypoint-portal/waypoint/auth"
	"github.com/waypoint-portal/waypoint/auth/devissuer"
	"github.com/waypoint-portal/waypoint/domain"
	"github.com/waypoint-portal/waypoint/domain/live"
	"github.com/waypoint-portal/waypoint/domain/push"
)

// Config describes one server; zero values take the production defaults.
type Config struct {
	Store *domain.Store
	// Auth names the token issuer and audience. Without Dev the verifier
	// discovers the issuer over OIDC (bounded by DiscoveryTimeout).
	Auth auth.Config
	// Dev, when set, is mounted at /dev/oidc/ and its own keys verify tokens.
	Dev *devissuer.Issuer
	// Hub starts the live event hub when Hub.DatabaseURL is set (one LISTEN
	// connection); without it GET /v1/events answers 503.
	Hub live.Config
	// Positioner tunes the loop that gives committed events their positions
	// (domain.RunPositioner); every server runs one, hub or not.
	Positioner domain.PositionerConfig
	Events     api.EventsConfig
	CORS       api.CORS
	// Apps names the first-party apps (clients cannot revoke them).
	Apps domain.Apps
	// AccessLog tunes the access log's retention.
	AccessLog AccessLogConfig
	// RateLimits limits requests per person and per address (zero values:
	// the defaults); TrustedProxies are the peers whose X-Forwarded-For and
	// X-Forwarded-Proto are believed (none by default).
	RateLimits     api.RateLimits
	TrustedProxies api.TrustedProxies
	Logger         *slog.Logger
	// Addr is the API's listen address (Open); "127.0.0.1:0" picks a free port.
	Addr string
	// MetricsAddr serves GET /metrics on its own listener; empty: no metrics
	// endpoint. The public API listener never serves /metrics.
	MetricsAddr string
	// ReadTimeout and WriteTimeout of the API's http.Server (defaults 30 s
	// and none: a write timeout would cut event streams, which bound each
	// write themselves).
	ReadTimeout, WriteTimeout time.Duration
	DiscoveryTimeout          time.Duration // default 30 s
	// Extend registers extra operations before the server starts (tests of
	// shared middleware).
	Extend []func(*api.Server)
	// Push, when set, runs the reminder scheduler in this process (one
	// sender per deployment: see domain/push); without VAPID keys it records
	// due reminders and emits agenda.due but pushes nothing.
	Push *push.Config
}

// Server is a Waypoint ready to serve: the API on one http.Server and, when
// configured, the metrics on another.
type Server struct {
	API      *api.Server
	Hub      *live.Hub // nil without Config.Hub.DatabaseURL
	HTTP     *http.Server
	Metrics  *http.Server // nil without Config.MetricsAddr
	Registry *prometheus.Registry

	ln, metricsLn net.Listener
	errc          chan error
	addr, metAddr string
	stopHub       context.CancelFunc
	// positioned is closed when the event positioner has stopped.
	positioned chan struct{}
}

// New wires a server; ctx bounds OIDC discovery and the hub's life (the hub
// also stops on Shutdown). Nothing listens until Open.
func New(ctx context.Context, c Config) (*Server, error) {
	if c.Store == nil {
		return nil, errors.New("server: a store is required")
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	verifier, err := newVerifier(ctx, c)
	if err != nil {
		return nil, err
	}
	s := &Server{Registry: prometheus.NewRegistry(), errc: make(chan error, 2), addr: c.Addr, metAddr: c.MetricsAddr}
	s.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if sqlDB, err := c.Store.DB().DB(); err == nil {
		s.Registry.MustRegister(collectors.NewDBStatsCollector(sqlDB, "waypoint"))
	}
	hubCtx, stopHub := context.WithCancel(ctx)
	s.stopHub = stopHub
	if c.Positioner.Logger == nil {
		c.Positioner.Logger = c.Logger
	}
	// Events this process commits are positioned here after commit, so no
	// writer waits on another's (domain/outbox.go).
	s.positioned = make(chan struct{})
	go func() {
		defer close(s.positioned)
		c.Store.RunPositioner(hubCtx, c.Positioner)
	}()
	if c.Hub.DatabaseURL != "" {
		if c.Hub.Logger == nil {
			c.Hub.Logger = c.Logger
		}
		// One LISTEN connection per process feeds every event stream.
		s.Hub = live.Start(hubCtx, c.Store, c.Hub)
	}
	deps := api.Deps{Store: c.Store, Verifier: verifier, Logger: c.Logger, Registry: s.Registry,
		Hub: s.Hub, Events: c.Events, CORS: c.CORS, RateLimits: c.RateLimits, TrustedProxies: c.TrustedProxies, Apps: c.Apps}
	if c.Push != nil {
		pc := *c.Push
		if pc.Logger == nil {
			pc.Logger = c.Logger
		}
		deps.Push = api.PushInfo{Enabled: pc.Enabled(), PublicKey: pc.VAPIDPublicKey}
		go push.New(c.Store, pc).Run(hubCtx)
	}
	if c.Dev != nil {
		deps.DevIssuer = c.Dev.Handler()
	}
	s.API = api.New(deps)
	for _, f := range c.Extend {
		f(s.API)
	}
	if c.AccessLog.PruneEvery >= 0 {
		go pruneAccessLog(hubCtx, c.Store, c.AccessLog, c.Logger)
	}
	s.HTTP = newHTTPServer(hubCtx, s.API.Handler(), c)
	// Ending the hub ends open event streams, so shutdown does not wait on them.
	s.HTTP.RegisterOnShutdown(s.closeHub)
	if c.MetricsAddr != "" {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{}))
		s.Metrics = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
			WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	}
	return s, nil
}

func newVerifier(ctx context.Context, c Config) (api.TokenVerifier, error) {
	if c.Dev != nil {
		return auth.NewStaticVerifier(c.Auth, c.Dev.KeySet(), c.Dev.Algorithms()), nil
	}
	timeout := c.DiscoveryTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	v, err := auth.NewVerifier(dctx, c.Auth)
	if err != nil {
		return nil, fmt.Errorf("OIDC discovery at %s failed: %w", c.Auth.IssuerURL, err)
	}
	return v, nil
}

func newHTTPServer(ctx context.Context, h http.Handler, c Config) *http.Server {
	read := c.ReadTimeout
	if read <= 0 {
		read = 30 * time.Second
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       read,
		WriteTimeout:      c.WriteTimeout,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		// Requests outlive the signal that starts a shutdown: Shutdown lets
		// them finish instead of cancelling them.
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
}

// Handler is the API's root handler (for httptest servers).
func (s *Server) Handler() http.Handler { return s.HTTP.Handler }

// Open listens on Addr (and MetricsAddr) and serves in the background; Err
// reports a listener that fails later.
func (s *Server) Open() error {
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.addr, err)
	}
	if s.Metrics != nil {
		mln, err := net.Listen("tcp", s.metAddr)
		if err != nil {
			_ = ln.Close()
			return fmt.Errorf("listen for metrics on %s: %w", s.metAddr, err)
		}
		s.metricsLn = mln
		go s.serve(s.Metrics, mln)
	}
	s.ln = ln
	go s.serve(s.HTTP, ln)
	return nil
}

func (s *Server) serve(hs *http.Server, ln net.Listener) {
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		s.errc <- err
	}
}

// Err receives the error of a listener that stopped serving on its own.
func (s *Server) Err() <-chan error { return s.errc }

// URL is the API's base URL once open.
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() }

// MetricsURL is the metrics endpoint's URL once open ("" without one).
func (s *Server) MetricsURL() string {
	if s.metricsLn == nil {
		return ""
	}
	return "http://" + s.metricsLn.Addr().String() + "/metrics"
}

// Shutdown stops accepting, ends event streams, and lets in-flight requests
// finish until ctx ends; then it closes what is left and reports the
// deadline. The metrics listener stays up until the API has drained.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.HTTP.Shutdown(ctx)
	if err != nil {
		_ = s.HTTP.Close()
	}
	s.closeHub()
	if serr := s.API.CloseStreams(ctx); err == nil {
		err = serr
	}
	if s.Metrics != nil {
		mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		if merr := s.Metrics.Shutdown(mctx); merr != nil {
			_ = s.Metrics.Close()
		}
	}
	return err
}

// Close stops everything at once, without waiting for requests.
func (s *Server) Close() error {
	err := s.HTTP.Close()
	if s.Metrics != nil {
		_ = s.Metrics.Close()
	}
	s.closeHub()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = s.API.CloseStreams(ctx)
	return err
}

func (s *Server) closeHub() {
	s.stopHub()
	if s.Hub != nil {
		s.Hub.Close()
	}
	// The positioner uses the store, which the caller may close next.
	<-s.positioned
}
