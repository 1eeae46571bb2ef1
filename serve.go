package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os/signal"
	"syscall"

	"github.com/waypoint-portal/waypoint/api"
	"github.com/waypoint-portal/waypoint/api/server"
	"github.com/waypoint-portal/waypoint/auth"
	"github.com/waypoint-portal/waypoint/domain"
	"github.com/waypoint-portal/waypoint/domain/live"
	"github.com/waypoint-portal/waypoint/domain/push"
)

func serveFlags(fs *flag.FlagSet) action {
	dev := fs.Bool("dev", false, "run with the embedded development OIDC issuer (loopback only; same as WAYPOINT_DEV=true)")
	noMigrate := fs.Bool("no-migrate", false, "do not apply database migrations on start")
	return func(ctx context.Context, e cli, _ []string) error {
		c, err := loadServeConfig(e.env, *dev)
		if err != nil {
			return err
		}
		return cmdServe(ctx, c, !*noMigrate, e.stderr)
	}
}

// cmdServe runs the server until SIGINT or SIGTERM, then shuts down
// gracefully: in-flight requests finish, event streams end cleanly.
func cmdServe(ctx context.Context, c serveConfig, migrate bool, stderr io.Writer) error {
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: c.LogLevel}))
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	st, err := openStore(ctx, c.DB, migrate)
	if err != nil {
		return err
	}
	defer st.Close()
	if migrate {
		log.Info("migrations applied", "count", st.applied)
	}
	sc := server.Config{
		Store:  st.Store,
		Auth:   auth.Config{IssuerURL: c.IssuerURL, Audience: c.Audience, RolesClaim: c.RolesClaim},
		Hub:    live.Config{DatabaseURL: c.DB.URL, Logger: log},
		Events: api.EventsConfig{Heartbeat: c.SSEHeartbeat},
		// Dev mode also admits any loopback front end (e.g. a Vite server on :5173).
		CORS:       api.CORS{Origins: c.CORSOrigins, AllowLoopback: c.Dev},
		RateLimits: c.RateLimits, TrustedProxies: c.TrustedProxies,
		Logger: log, Addr: c.Addr, MetricsAddr: c.MetricsAddr,
		Apps:      domain.Apps{FirstParty: c.FirstPartyApps},
		AccessLog: server.AccessLogConfig{Retention: c.AccessLogRetention},
	}
	pc := push.Config{VAPIDPublicKey: c.VAPIDPublicKey, VAPIDPrivateKey: c.VAPIDPrivateKey, Subscriber: c.VAPIDSubject, Logger: log}
	if c.Dev && !pc.Enabled() {
		// Dev mode signs pushes with a pair it made once and keeps in the database.
		if pc.VAPIDPrivateKey, pc.VAPIDPublicKey, err = st.DevVAPIDKeys(ctx, push.GenerateVAPIDKeys); err != nil {
			return err
		}
	}
	if !pc.Enabled() {
		log.Warn("push disabled: WAYPOINT_VAPID_PUBLIC_KEY and WAYPOINT_VAPID_PRIVATE_KEY are not set; reminders reach the agenda and the event stream, not phones")
	}
	sc.Push = &pc
	if c.Dev {
		if sc.Dev, err = newDevIssuer(ctx, st, c.IssuerURL, c.Audience); err != nil {
			return err
		}
		if err := seedPersonas(ctx, st, c.IssuerURL); err != nil {
			return err
		}
	}
	srv, err := server.New(ctx, sc)
	if err != nil {
		return err
	}
	if err := srv.Open(); err != nil {
		_ = srv.Close()
		return fmt.Errorf("WAYPOINT_ADDR/WAYPOINT_METRICS_ADDR: %w", err)
	}
	log.Info("waypoint listening", "addr", c.Addr, "metrics", srv.MetricsURL(), "dev", c.Dev, "issuer", c.IssuerURL, "audience", c.Audience,
		"rate_limit_person", c.RateLimits.Effective().Person.String(), "rate_limit_ip", c.RateLimits.Effective().IP.String(),
		"trusted_proxies", len(c.TrustedProxies))
	if c.Dev {
		printDevBanner(stderr, c)
	}
	select {
	case err := <-srv.Err():
		_ = srv.Close()
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "deadline", c.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("in-flight requests did not finish before the deadline", "error", err.Error())
	}
	log.Info("stopped")
	return nil
}

func printDevBanner(w io.Writer, c serveConfig) {
	fmt.Fprintf(w, "\nWaypoint dev server on http://%s (docs: http://%s/docs)\n"+
		"Get a token:   T=$(go run . dev token --server http://%s --subject alice)\n"+
		"Call the API:  curl -H \"Authorization: Bearer $T\" http://%s/v1/me\n"+
		"Personas (--subject; their role unless --role or --no-role): alice, bob (client), wanda, will (worker), adam (admin).\n"+
		"Browser login: %s/authorize\n\n",
		c.Addr, c.Addr, c.Addr, c.Addr, c.IssuerURL)
}
