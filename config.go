package main

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/waypoint-portal/waypoint/api"
	"github.com/waypoint-portal/waypoint/domain"
)

// lookupEnv reads one environment variable (os.LookupEnv in production).
type lookupEnv func(string) (string, bool)

// configError is a usage or configuration problem: one line naming the
// flag or variable, exit status 2.
type configError struct{ msg string }

func (e *configError) Error() string { return e.msg }

func configErrorf(format string, args ...any) error {
	return &configError{fmt.Sprintf(format, args...)}
}

// dbConfig is all a database-only command (migrate, hsds, demo seed) reads:
// it never looks at OIDC, dev mode or the listen address.
type dbConfig struct {
	URL              string
	MaxOpenConns     int
	MaxIdleConns     int
	StatementTimeout time.Duration
}

const defaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/waypoint?sslmode=disable"

func loadDBConfig(env lookupEnv) (dbConfig, error) {
	c := dbConfig{URL: envOr(env, "DATABASE_URL", defaultDatabaseURL)}
	if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return c, configErrorf("DATABASE_URL must be a postgres:// URL")
	}
	var err error
	if c.MaxOpenConns, err = envInt(env, "WAYPOINT_DB_MAX_OPEN_CONNS", 20); err != nil {
		return c, err
	}
	if c.MaxIdleConns, err = envInt(env, "WAYPOINT_DB_MAX_IDLE_CONNS", 20); err != nil {
		return c, err
	}
	if c.StatementTimeout, err = envDuration(env, "WAYPOINT_DB_STATEMENT_TIMEOUT", 10*time.Second); err != nil {
		return c, err
	}
	return c, nil
}

// serveConfig is what the server reads: the database, plus listening, token
// verification (an OIDC provider, or the dev issuer) and tuning.
type serveConfig struct {
	DB              dbConfig
	Addr            string
	MetricsAddr     string // "" when metrics are off
	IssuerURL       string
	Audience        string
	RolesClaim      string
	Dev             bool
	ShutdownTimeout time.Duration
	LogLevel        slog.Level
	SSEHeartbeat    time.Duration
	CORSOrigins     []string
	RateLimits      api.RateLimits
	TrustedProxies  api.TrustedProxies
	// AccessLogRetention is how long access-log entries are kept.
	AccessLogRetention time.Duration
	// FirstPartyApps are the service's own apps, which clients cannot revoke.
	FirstPartyApps []string
	// VAPIDPublicKey and VAPIDPrivateKey sign Web Push reminders (both or
	// neither); VAPIDSubject is the contact push services see.
	VAPIDPublicKey, VAPIDPrivateKey, VAPIDSubject string
}

const defaultMetricsAddr = "127.0.0.1:9464" // Prometheus' convention for exporters

func loadServeConfig(env lookupEnv, devFlag bool) (serveConfig, error) {
	c := serveConfig{
		Addr:       envOr(env, "WAYPOINT_ADDR", "127.0.0.1:8080"),
		IssuerURL:  strings.TrimSpace(getenv(env, "OIDC_ISSUER_URL")),
		Audience:   strings.TrimSpace(getenv(env, "OIDC_AUDIENCE")),
		RolesClaim: envOr(env, "OIDC_ROLES_CLAIM", "roles"),
	}
	var err error
	if c.DB, err = loadDBConfig(env); err != nil {
		return c, err
	}
	if c.Dev, err = envBool(env, "WAYPOINT_DEV", false); err != nil {
		return c, err
	}
	c.Dev = c.Dev || devFlag
	if c.ShutdownTimeout, err = envDuration(env, "WAYPOINT_SHUTDOWN_TIMEOUT", 20*time.Second); err != nil {
		return c, err
	}
	if c.SSEHeartbeat, err = envDuration(env, "WAYPOINT_SSE_HEARTBEAT", 20*time.Second); err != nil {
		return c, err
	}
	if err := c.loadListeners(env); err != nil {
		return c, err
	}
	if err := c.loadCORSAndLogging(env); err != nil {
		return c, err
	}
	if err := c.loadAbuseProtection(env); err != nil {
		return c, err
	}
	if err := c.loadPrivacy(env); err != nil {
		return c, err
	}
	c.VAPIDPublicKey = strings.TrimSpace(getenv(env, "WAYPOINT_VAPID_PUBLIC_KEY"))
	c.VAPIDPrivateKey = strings.TrimSpace(getenv(env, "WAYPOINT_VAPID_PRIVATE_KEY"))
	c.VAPIDSubject = envOr(env, "WAYPOINT_VAPID_SUBJECT", "")
	if (c.VAPIDPublicKey == "") != (c.VAPIDPrivateKey == "") {
		return c, configErrorf("WAYPOINT_VAPID_PUBLIC_KEY and WAYPOINT_VAPID_PRIVATE_KEY go together: set both (Web Push reminders) or neither (reminders not pushed)")
	}
	return c, c.loadIssuer()
}

func (c *serveConfig) loadListeners(env lookupEnv) error {
	if _, port, err := net.SplitHostPort(c.Addr); err != nil || port == "" {
		return configErrorf("WAYPOINT_ADDR must be host:port, got %q", c.Addr)
	}
	v, set := env("WAYPOINT_METRICS_ADDR")
	switch v = strings.TrimSpace(v); {
	case !set:
		c.MetricsAddr = defaultMetricsAddr
	case v == "" || strings.EqualFold(v, "off"):
		return nil
	default:
		c.MetricsAddr = v
	}
	if _, port, err := net.SplitHostPort(c.MetricsAddr); err != nil || port == "" {
		return configErrorf("WAYPOINT_METRICS_ADDR must be host:port or off, got %q", c.MetricsAddr)
	}
	if c.MetricsAddr == c.Addr {
		return configErrorf("WAYPOINT_METRICS_ADDR must differ from WAYPOINT_ADDR (%s): metrics are never served on the API listener", c.Addr)
	}
	return nil
}

func (c *serveConfig) loadCORSAndLogging(env lookupEnv) error {
	c.CORSOrigins = api.ParseOrigins(getenv(env, "WAYPOINT_CORS_ORIGINS"))
	for _, o := range c.CORSOrigins {
		if u, err := url.Parse(o); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" {
			return configErrorf("WAYPOINT_CORS_ORIGINS must list origins like https://app.example.org, got %q", o)
		}
	}
	if lvl := strings.TrimSpace(getenv(env, "WAYPOINT_LOG_LEVEL")); lvl != "" {
		if err := c.LogLevel.UnmarshalText([]byte(lvl)); err != nil {
			return configErrorf("WAYPOINT_LOG_LEVEL must be debug, info, warn or error, got %q", lvl)
		}
	}
	return nil
}

// loadAbuseProtection reads the rate limits (the same in dev mode as in
// production) and the proxies whose forwarding headers are believed.
func (c *serveConfig) loadAbuseProtection(env lookupEnv) error {
	var err error
	for _, v := range []struct {
		name string
		dst  *api.Limit
	}{{"WAYPOINT_RATE_LIMIT_PERSON", &c.RateLimits.Person}, {"WAYPOINT_RATE_LIMIT_IP", &c.RateLimits.IP}} {
		if *v.dst, err = api.ParseLimit(getenv(env, v.name)); err != nil {
			return configErrorf("%s: %v", v.name, err)
		}
	}
	if c.TrustedProxies, err = api.ParseTrustedProxies(getenv(env, "WAYPOINT_TRUSTED_PROXIES")); err != nil {
		return configErrorf("WAYPOINT_TRUSTED_PROXIES must list IP addresses or CIDR prefixes like 10.0.0.0/8: %v", err)
	}
	return nil
}

// loadIssuer settles token verification: the dev issuer (loopback only) or
// an OIDC provider, which then must be named completely.
func (c *serveConfig) loadIssuer() error {
	if c.Dev {
		host, _, _ := net.SplitHostPort(c.Addr)
		if !isLoopback(host) {
			return configErrorf("WAYPOINT_DEV is refused because WAYPOINT_ADDR %q is not a loopback address (use 127.0.0.1, ::1 or localhost)", c.Addr)
		}
		if c.IssuerURL == "" {
			c.IssuerURL = devIssuerURL(c.Addr)
		}
		if c.Audience == "" {
			c.Audience = "waypoint"
		}
		return nil
	}
	if c.IssuerURL == "" {
		return configErrorf("OIDC_ISSUER_URL is required (or set WAYPOINT_DEV=true for local development)")
	}
	if !strings.HasPrefix(c.IssuerURL, "https://") && !strings.HasPrefix(c.IssuerURL, "http://") {
		return configErrorf("OIDC_ISSUER_URL must be an http(s) URL, got %q", c.IssuerURL)
	}
	if c.Audience == "" {
		return configErrorf("OIDC_AUDIENCE is required: the audience your provider puts in access tokens for this API")
	}
	return nil
}

// devIssuerURL is where `serve --dev` runs its issuer for a listen address.
func devIssuerURL(addr string) string { return "http://" + addr + "/dev/oidc" }

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func getenv(env lookupEnv, k string) string {
	v, _ := env(k)
	return v
}

func envOr(env lookupEnv, k, def string) string {
	if v := strings.TrimSpace(getenv(env, k)); v != "" {
		return v
	}
	return def
}

func envBool(env lookupEnv, k string, def bool) (bool, error) {
	v := strings.TrimSpace(getenv(env, k))
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, configErrorf("%s must be true or false, got %q", k, v)
	}
	return b, nil
}

func envInt(env lookupEnv, k string, def int) (int, error) {
	v := strings.TrimSpace(getenv(env, k))
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, configErrorf("%s must be a positive integer, got %q", k, v)
	}
	return n, nil
}

func envDuration(env lookupEnv, k string, def time.Duration) (time.Duration, error) {
	v := strings.TrimSpace(getenv(env, k))
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, configErrorf("%s must be a positive duration like 5s, got %q", k, v)
	}
	return d, nil
}

// openedStore is a command's connection to the database.
type openedStore struct {
	*domain.Store
	sql *sql.DB
	// applied counts the migrations openStore applied.
	applied int
}

// openStore is how every command reaches the database: it creates the
// database if missing, connects with the configured pool and, when migrate
// is set, applies pending migrations.
func openStore(ctx context.Context, c dbConfig, migrate bool) (*openedStore, error) {
	db, err := domain.OpenDB(ctx, domain.DBConfig{
		URL: c.URL, MaxOpenConns: c.MaxOpenConns, MaxIdleConns: c.MaxIdleConns,
		ConnMaxLifetime: 30 * time.Minute, StatementTimeout: c.StatementTimeout,
	})
	if err != nil {
		return nil, err
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("database handle: %w", err)
	}
	s := &openedStore{Store: domain.NewStore(db), sql: sqlDB}
	if migrate {
		if s.applied, err = domain.Migrate(ctx, sqlDB); err != nil {
			_ = sqlDB.Close()
			return nil, err
		}
	}
	return s, nil
}

// Close releases the connection pool.
func (s *openedStore) Close() { _ = s.sql.Close() }

// withStore is the action of a database-only command: it reads dbConfig
// alone (never OIDC, dev mode or the listen address, so the command runs in
// the shipped image whatever WAYPOINT_ADDR and WAYPOINT_DEV say), opens the
// store and runs fn on it.
func withStore(migrate bool, fn func(ctx context.Context, e cli, st *openedStore, args []string) error) action {
	return func(ctx context.Context, e cli, args []string) error {
		c, err := loadDBConfig(e.env)
		if err != nil {
			return err
		}
		st, err := openStore(ctx, c, migrate)
		if err != nil {
			return err
		}
		defer st.Close()
		return fn(ctx, e, st, args)
	}
}
