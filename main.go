// Command waypoint is the Waypoint client self-service portal API.
//
// main.go only wires things together: configuration -> database -> auth ->
// api -> http.Server, plus the subcommands.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"gorm.io/gorm"

	"github.com/waypoint-portal/waypoint/api"
	"github.com/waypoint-portal/waypoint/auth"
	"github.com/waypoint-portal/waypoint/auth/devissuer"
	"github.com/waypoint-portal/waypoint/domain"
	"github.com/waypoint-portal/waypoint/domain/live"
)

const usage = `usage: waypoint <command> [flags]

commands:
  serve [--dev] [--no-migrate]   run the API server (migrates the database first unless --no-migrate)
  migrate up|status              apply or list database migrations
  dev token --subject S --role client|worker|admin|directory_editor [--role ...] [--scope "..."] [--client-id APP] [--name N] [--ttl 1h]
                                 print an access token the dev server accepts
  openapi                        print the OpenAPI document (YAML)
  hsds import PATH               import Open Referral HSDS 3.0 JSON (a file or a directory); upserts by HSDS id
  hsds export DIR                write the directory as HSDS JSON that hsds import reads back
  demo seed [--services N]       demo personas (dev issuer) and a generated directory of N services (default 2000)

configuration is read from the environment; see README.md.
`

// exitConfig is the exit code for bad or missing configuration.
const exitConfig = 2

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// configError is a configuration problem: one line naming the variable, exit 2.
type configError struct{ msg string }

func (e *configError) Error() string { return e.msg }

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitConfig
	}
	var err error
	switch args[0] {
	case "serve":
		err = cmdServe(ctx, args[1:], getenv, stderr)
	case "migrate":
		err = cmdMigrate(ctx, args[1:], getenv, stdout)
	case "dev":
		err = cmdDev(ctx, args[1:], getenv, stdout)
	case "openapi":
		err = cmdOpenAPI(stdout)
	case "hsds":
		err = cmdHSDS(ctx, args[1:], getenv, stdout)
	case "demo":
		err = cmdDemo(ctx, args[1:], getenv, stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "waypoint: unknown command %q\n\n%s", args[0], usage)
		return exitConfig
	}
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "waypoint: %v\n", err)
	var ce *configError
	if errors.As(err, &ce) || errors.Is(err, flag.ErrHelp) {
		return exitConfig
	}
	return 1
}

// config is everything read from the environment.
type config struct {
	DatabaseURL      string
	Addr             string
	IssuerURL        string
	Audience         string
	RolesClaim       string
	Dev              bool
	DBMaxOpenConns   int
	DBMaxIdleConns   int
	StatementTimeout time.Duration
	ShutdownTimeout  time.Duration
	LogLevel         slog.Level
	SSEHeartbeat     time.Duration
	CORSOrigins      []string
}

func loadConfig(getenv func(string) string, devFlag bool) (config, error) {
	c := config{
		DatabaseURL: envOr(getenv, "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/waypoint?sslmode=disable"),
		Addr:        envOr(getenv, "WAYPOINT_ADDR", "127.0.0.1:8080"),
		IssuerURL:   strings.TrimSpace(getenv("OIDC_ISSUER_URL")),
		Audience:    strings.TrimSpace(getenv("OIDC_AUDIENCE")),
		RolesClaim:  envOr(getenv, "OIDC_ROLES_CLAIM", "roles"),
	}
	var err error
	if c.Dev, err = envBool(getenv, "WAYPOINT_DEV", false); err != nil {
		return c, err
	}
	c.Dev = c.Dev || devFlag
	if c.DBMaxOpenConns, err = envInt(getenv, "WAYPOINT_DB_MAX_OPEN_CONNS", 20); err != nil {
		return c, err
	}
	if c.DBMaxIdleConns, err = envInt(getenv, "WAYPOINT_DB_MAX_IDLE_CONNS", 20); err != nil {
		return c, err
	}
	if c.StatementTimeout, err = envDuration(getenv, "WAYPOINT_DB_STATEMENT_TIMEOUT", 10*time.Second); err != nil {
		return c, err
	}
	if c.ShutdownTimeout, err = envDuration(getenv, "WAYPOINT_SHUTDOWN_TIMEOUT", 20*time.Second); err != nil {
		return c, err
	}
	if c.SSEHeartbeat, err = envDuration(getenv, "WAYPOINT_SSE_HEARTBEAT", 20*time.Second); err != nil {
		return c, err
	}
	c.CORSOrigins = api.ParseOrigins(getenv("WAYPOINT_CORS_ORIGINS"))
	for _, o := range c.CORSOrigins {
		if u, err := url.Parse(o); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" {
			return c, &configError{"WAYPOINT_CORS_ORIGINS must list origins like https://app.example.org, got " + strconv.Quote(o)}
		}
	}
	if lvl := getenv("WAYPOINT_LOG_LEVEL"); lvl != "" {
		if err := c.LogLevel.UnmarshalText([]byte(lvl)); err != nil {
			return c, &configError{"WAYPOINT_LOG_LEVEL must be debug, info, warn or error, got " + strconv.Quote(lvl)}
		}
	}
	if !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		return c, &configError{"DATABASE_URL must be a postgres:// URL"}
	}
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil || port == "" {
		return c, &configError{"WAYPOINT_ADDR must be host:port, got " + strconv.Quote(c.Addr)}
	}
	if c.Dev {
		if !isLoopback(host) {
			return c, &configError{"WAYPOINT_DEV is refused because WAYPOINT_ADDR " + strconv.Quote(c.Addr) + " is not a loopback address (use 127.0.0.1, ::1 or localhost)"}
		}
		if c.IssuerURL == "" {
			c.IssuerURL = "http://" + c.Addr + "/dev/oidc"
		}
		if c.Audience == "" {
			c.Audience = "waypoint"
		}
		return c, nil
	}
	if c.IssuerURL == "" {
		return c, &configError{"OIDC_ISSUER_URL is required (or set WAYPOINT_DEV=true for local development)"}
	}
	if !strings.HasPrefix(c.IssuerURL, "https://") && !strings.HasPrefix(c.IssuerURL, "http://") {
		return c, &configError{"OIDC_ISSUER_URL must be an http(s) URL, got " + strconv.Quote(c.IssuerURL)}
	}
	if c.Audience == "" {
		return c, &configError{"OIDC_AUDIENCE is required: the audience your provider puts in access tokens for this API"}
	}
	return c, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func envOr(getenv func(string) string, k, def string) string {
	if v := strings.TrimSpace(getenv(k)); v != "" {
		return v
	}
	return def
}

func envBool(getenv func(string) string, k string, def bool) (bool, error) {
	v := strings.TrimSpace(getenv(k))
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, &configError{k + " must be true or false, got " + strconv.Quote(v)}
	}
	return b, nil
}

func envInt(getenv func(string) string, k string, def int) (int, error) {
	v := strings.TrimSpace(getenv(k))
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, &configError{k + " must be a positive integer, got " + strconv.Quote(v)}
	}
	return n, nil
}

func envDuration(getenv func(string) string, k string, def time.Duration) (time.Duration, error) {
	v := strings.TrimSpace(getenv(k))
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, &configError{k + " must be a positive duration like 5s, got " + strconv.Quote(v)}
	}
	return d, nil
}

// openDB returns GORM and the pool underneath it (for migrations, stats and Close).
func openDB(ctx context.Context, c config) (*gorm.DB, *sql.DB, error) {
	db, err := domain.OpenDB(ctx, domain.DBConfig{
		URL: c.DatabaseURL, MaxOpenConns: c.DBMaxOpenConns, MaxIdleConns: c.DBMaxIdleConns,
		ConnMaxLifetime: 30 * time.Minute, StatementTimeout: c.StatementTimeout,
	})
	if err != nil {
		return nil, nil, err
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, nil, fmt.Errorf("database handle: %w", err)
	}
	return db, sqlDB, nil
}

func cmdServe(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dev := fs.Bool("dev", false, "run with the embedded development OIDC issuer (loopback only)")
	noMigrate := fs.Bool("no-migrate", false, "do not apply database migrations on start")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c, err := loadConfig(getenv, *dev)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: c.LogLevel}))

	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	db, sqlDB, err := openDB(ctx, c)
	if err != nil {
		return err
	}
	defer sqlDB.Close()
	if !*noMigrate {
		n, err := domain.Migrate(ctx, sqlDB)
		if err != nil {
			return err
		}
		log.Info("migrations applied", "count", n)
	}
	store := domain.NewStore(db)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(sqlDB, "waypoint"))

	// One LISTEN connection per process feeds every event stream; it stops
	// with ctx, which ends open streams so shutdown does not wait on them.
	hub := live.Start(ctx, store, live.Config{DatabaseURL: c.DatabaseURL, Logger: log})
	defer hub.Close()
	// Dev mode also admits any loopback front end (e.g. a Vite server on :5173).
	deps := api.Deps{Store: store, Logger: log, Registry: reg, CORS: api.CORS{Origins: c.CORSOrigins, AllowLoopback: c.Dev},
		Hub: hub, Events: api.EventsConfig{Heartbeat: c.SSEHeartbeat}}
	authCfg := auth.Config{IssuerURL: c.IssuerURL, Audience: c.Audience, RolesClaim: c.RolesClaim}
	if c.Dev {
		iss, err := newDevIssuer(ctx, store, c)
		if err != nil {
			return err
		}
		if err := seedPersonas(ctx, store, iss.URL()); err != nil {
			return err
		}
		deps.DevIssuer = iss.Handler()
		deps.Verifier = auth.NewStaticVerifier(authCfg, iss.KeySet(), iss.Algorithms())
	} else {
		dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		v, err := auth.NewVerifier(dctx, authCfg)
		cancel()
		if err != nil {
			return fmt.Errorf("OIDC discovery at OIDC_ISSUER_URL %s failed: %w", c.IssuerURL, err)
		}
		deps.Verifier = v
	}

	srv := &http.Server{
		Addr:              c.Addr,
		Handler:           api.New(deps).Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// No WriteTimeout: it would cut long-lived streams; handlers bound their own work.
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
		BaseContext:    func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	srv.RegisterOnShutdown(hub.Close)
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listen on WAYPOINT_ADDR %s: %w", c.Addr, err)
	}
	log.Info("waypoint listening", "addr", ln.Addr().String(), "dev", c.Dev, "issuer", c.IssuerURL, "audience", c.Audience)
	if c.Dev {
		fmt.Fprintf(stderr, "\nWaypoint dev server on http://%s (docs: http://%s/docs)\n"+
			"Get a token:   T=$(go run . dev token --subject alice --role client)\n"+
			"Call the API:  curl -H \"Authorization: Bearer $T\" http://%s/v1/me\n"+
			"Personas: alice, bob (client), wanda, will (worker), adam (admin). Browser login: %s/authorize\n\n",
			c.Addr, c.Addr, c.Addr, c.IssuerURL)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "deadline", c.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), c.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("in-flight requests did not finish before the deadline", "error", err.Error())
		_ = srv.Close()
	}
	log.Info("stopped")
	return nil
}

func newDevIssuer(ctx context.Context, store *domain.Store, c config) (*devissuer.Issuer, error) {
	pemKey, err := store.DevSigningKey(ctx, func() ([]byte, error) {
		k, err := devissuer.GenerateKey()
		if err != nil {
			return nil, err
		}
		return devissuer.MarshalKey(k)
	})
	if err != nil {
		return nil, err
	}
	key, err := devissuer.ParseKey(pemKey)
	if err != nil {
		return nil, fmt.Errorf("dev signing key: %w", err)
	}
	return devissuer.New(c.IssuerURL, c.Audience, key, devissuer.DefaultPersonas())
}

// seedPersonas makes the demo people exist before their first sign-in, so an
// administrator can put a worker on a care team straight away.
func seedPersonas(ctx context.Context, store *domain.Store, issuer string) error {
	for _, p := range devissuer.DefaultPersonas() {
		if _, err := store.Provision(ctx, domain.Identity{Issuer: issuer, Subject: p.Subject, Name: p.Name, Roles: p.Roles}); err != nil {
			return fmt.Errorf("seed persona %s: %w", p.Subject, err)
		}
	}
	return nil
}

func cmdMigrate(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) != 1 || (args[0] != "up" && args[0] != "status") {
		return &configError{"usage: waypoint migrate up|status"}
	}
	c, err := loadConfig(getenv, true) // the database is all this command needs
	if err != nil {
		var ce *configError
		if !errors.As(err, &ce) || strings.HasPrefix(ce.msg, "DATABASE_URL") {
			return err
		}
	}
	_, sqlDB, err := openDB(ctx, c)
	if err != nil {
		return err
	}
	defer sqlDB.Close()
	if args[0] == "up" {
		n, err := domain.Migrate(ctx, sqlDB)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "applied %d migration(s)\n", n)
		return nil
	}
	return domain.WriteMigrationStatus(ctx, sqlDB, stdout)
}

// multiFlag collects a repeatable flag; comma-separated values are split.
type multiFlag []string

func (m *multiFlag) String() string { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*m = append(*m, p)
		}
	}
	return nil
}

func cmdDev(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "token" {
		return &configError{"usage: waypoint dev token --subject S --role client|worker|admin|directory_editor [--scope \"...\"] [--client-id APP] [--name N] [--ttl 1h]"}
	}
	fs := flag.NewFlagSet("dev token", flag.ContinueOnError)
	subject := fs.String("subject", "", "subject (user id) of the token, e.g. alice")
	var roles multiFlag
	fs.Var(&roles, "role", "role: client, worker, admin or directory_editor (repeatable; none: a token with no Waypoint role)")
	scope := fs.String("scope", "", "space-separated scopes (default: all Waypoint scopes)")
	clientID := fs.String("client-id", "waypoint-dev-cli", "app id (azp) of the token")
	name := fs.String("name", "", "display name (default: the persona's name or the subject)")
	ttl := fs.Duration("ttl", time.Hour, "token lifetime")
	if err := fs.Parse(args[1:]); err != nil {
		return &configError{err.Error()}
	}
	if strings.TrimSpace(*subject) == "" {
		return &configError{"dev token: --subject is required"}
	}
	for _, r := range roles {
		if !slices.Contains(auth.KnownRoles(), r) {
			return &configError{"dev token: --role must be one of " + strings.Join(auth.KnownRoles(), ", ") + ", got " + strconv.Quote(r)}
		}
	}
	c, err := loadConfig(getenv, true)
	if err != nil {
		return err
	}
	db, sqlDB, err := openDB(ctx, c)
	if err != nil {
		return err
	}
	defer sqlDB.Close()
	if _, err := domain.Migrate(ctx, sqlDB); err != nil {
		return err
	}
	iss, err := newDevIssuer(ctx, domain.NewStore(db), c)
	if err != nil {
		return err
	}
	n := *name
	if n == "" {
		n = *subject
		for _, p := range devissuer.DefaultPersonas() {
			if p.Subject == *subject {
				n = p.Name
			}
		}
	}
	req := devissuer.TokenRequest{Subject: *subject, Name: n, Roles: slices.Clip(roles), ClientID: *clientID, TTL: *ttl}
	if *scope != "" {
		req.Scopes = strings.Fields(*scope)
	}
	tok, err := iss.Mint(req)
	if err != nil {
		return fmt.Errorf("mint token: %w", err)
	}
	fmt.Fprintln(stdout, tok)
	return nil
}

func cmdOpenAPI(stdout io.Writer) error {
	b, err := api.New(api.Deps{}).API().OpenAPI().YAML()
	if err != nil {
		return fmt.Errorf("render OpenAPI: %w", err)
	}
	_, err = stdout.Write(b)
	return err
}
