// Package apitest runs a real Waypoint server for tests: a fresh PostgreSQL
// database per test (pgtestdb, cloned from a migrated template) and a real
// in-process OIDC issuer whose tokens go through real verification.
package apitest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/peterldowns/pgtestdb"
	"github.com/peterldowns/pgtestdb/migrators/goosemigrator"
	"gorm.io/gorm"

	"github.com/waypoint-portal/waypoint/api"
	"github.com/waypoint-portal/waypoint/api/server"
	"github.com/waypoint-portal/waypoint/auth/authtest"
	"github.com/waypoint-portal/waypoint/domain"
	"github.com/waypoint-portal/waypoint/domain/live"
)

// poolConns bounds each test database's pool (and each replica's). Tests run
// in parallel, several packages at once, beside other checkouts' suites on
// the same server: parallel tests × (pool + the hub's listener) must stay
// well inside PostgreSQL's max_connections (100). Requests beyond it wait
// for a connection; none of the tests needs more at once. Idle ones stay
// open (as in production, where both bounds are 20), so bursts reuse them.
const poolConns = 8

// NewDB returns a GORM handle and URL for a fresh, migrated database that is
// dropped when the test ends. PG* variables override the local defaults.
func NewDB(t testing.TB) (*gorm.DB, string) {
	t.Helper()
	admin := pgtestdb.Config{
		DriverName: "pgx",
		Host:       envOr("PGHOST", "127.0.0.1"),
		Port:       envOr("PGPORT", "5432"),
		User:       envOr("PGUSER", "postgres"),
		Password:   os.Getenv("PGPASSWORD"),
		Database:   "postgres",
		Options:    "sslmode=disable",
		// Servers under test hold pooled connections until cleanup.
		ForceTerminateConnections: true,
	}
	conf := pgtestdb.Custom(t, admin, dbaMigrator{
		Migrator: goosemigrator.New(".", goosemigrator.WithFS(domain.Migrations())), admin: admin})
	db, err := domain.OpenDB(context.Background(), domain.DBConfig{URL: conf.URL(), MaxOpenConns: poolConns, MaxIdleConns: poolConns})
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			_ = sqlDB.Close()
		}
	})
	return db, conf.URL()
}

// SuperuserExtensions are the extensions the migrations use that only a
// superuser may create (not "trusted" in PostgreSQL's sense). In production a
// DBA installs them once; here the harness does, as the server's admin user,
// and the migrations' CREATE EXTENSION IF NOT EXISTS then finds them.
var SuperuserExtensions = []string{"earthdistance"}

// dbaMigrator installs SuperuserExtensions in the template database before
// the migrations run as pgtestdb's unprivileged role.
type dbaMigrator struct {
	pgtestdb.Migrator
	admin pgtestdb.Config
}

func (m dbaMigrator) Hash() (string, error) {
	h, err := m.Migrator.Hash()
	return h + "+" + strings.Join(SuperuserExtensions, ","), err
}

func (m dbaMigrator) Migrate(ctx context.Context, db *sql.DB, conf pgtestdb.Config) error {
	admin := m.admin
	admin.Database = conf.Database
	adb, err := admin.Connect()
	if err != nil {
		return err
	}
	defer adb.Close()
	for _, ext := range SuperuserExtensions {
		if _, err := adb.ExecContext(ctx, "CREATE EXTENSION IF NOT EXISTS "+ext+" CASCADE"); err != nil {
			return fmt.Errorf("create extension %s: %w", ext, err)
		}
	}
	return m.Migrator.Migrate(ctx, db, conf)
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// Env is a running server with its database and token issuer.
type Env struct {
	t      testing.TB
	URL    string
	DBURL  string
	DB     *gorm.DB
	Store  *domain.Store
	Issuer *authtest.Issuer
	Server *httptest.Server
	// Hub is the server's live event hub (its own LISTEN connection).
	Hub  *live.Hub
	opts options
}

type options struct {
	hub                       live.Config
	events                    api.EventsConfig
	readTimeout, writeTimeout time.Duration
	extend                    []func(*api.Server)
	apps                      domain.Apps
	rateLimits                *api.RateLimits
	trustedProxies            api.TrustedProxies
}

// Unthrottled are the rate limits tests run with unless they ask for
// others: on, so every response carries the RateLimit headers the contract
// checks, but far above what any test sends (all from 127.0.0.1, as one person).
func Unthrottled() api.RateLimits {
	high := api.Limit{Requests: 1_000_000, Per: time.Second, Burst: 1_000_000}
	return api.RateLimits{Person: high, IP: high}
}

// WithRateLimits sets the server's rate limits (tests of the limits
// themselves); zero Limits take the production defaults.
func WithRateLimits(r api.RateLimits) Option { return func(o *options) { o.rateLimits = &r } }

// WithTrustedProxies makes the server believe X-Forwarded-For and
// X-Forwarded-Proto from these peers (127.0.0.1/32: from the test itself).
func WithTrustedProxies(p api.TrustedProxies) Option {
	return func(o *options) { o.trustedProxies = p }
}

// Option adjusts the test server.
type Option func(*options)

// WithHub tunes the live event hub (DatabaseURL is filled in).
func WithHub(c live.Config) Option { return func(o *options) { o.hub = c } }

// WithEvents tunes the event stream (heartbeats, write timeout, replay window).
func WithEvents(c api.EventsConfig) Option { return func(o *options) { o.events = c } }

// WithFirstPartyApps names the apps clients cannot revoke.
func WithFirstPartyApps(ids ...string) Option {
	return func(o *options) { o.apps = domain.Apps{FirstParty: ids} }
}

// WithServerTimeouts sets the http.Server's ReadTimeout and WriteTimeout
// (none by default, as in production), to show long streams survive them.
func WithServerTimeouts(read, write time.Duration) Option {
	return func(o *options) { o.readTimeout, o.writeTimeout = read, write }
}

// issuerKey signs for every Env's issuer, generated once per test binary.
// Sharing it across tests trusts nothing new: each test's server accepts
// only tokens whose iss is its own issuer's URL, and a test's second issuer
// (authtest.NewIssuer) still has a key of its own. It is a memoised
// constant, never written after it is made.
var issuerKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })

// New starts a server on a fresh database. extend may register extra
// operations on the server before it starts (tests of shared middleware).
func New(t testing.TB, extend ...func(*api.Server)) *Env {
	t.Helper()
	return NewWith(t, Extend(extend...))
}

// Extend registers extra operations on the server before it starts.
func Extend(extend ...func(*api.Server)) Option {
	return func(o *options) { o.extend = append(o.extend, extend...) }
}

// NewWith starts a server on a fresh database, tuned by opts.
func NewWith(t testing.TB, opts ...Option) *Env {
	t.Helper()
	db, dbURL := NewDB(t)
	key, err := issuerKey()
	if err != nil {
		t.Fatalf("issuer key: %v", err)
	}
	iss := authtest.NewIssuerWithKey(t, key)
	e := &Env{t: t, DBURL: dbURL, DB: db, Store: domain.NewStore(db), Issuer: iss}
	for _, o := range opts {
		o(&e.opts)
	}
	e.start()
	return e
}

// start runs a server and its hub for e; cleanup stops the hub first, which
// ends open event streams, so closing the server does not wait on them.
func (e *Env) start() {
	e.t.Helper()
	// Errors reach the test log, so a 500 explains itself.
	log := slog.New(slog.NewTextHandler(testWriter{e.t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	hc := e.opts.hub
	hc.DatabaseURL = e.DBURL
	limits := Unthrottled()
	if e.opts.rateLimits != nil {
		limits = *e.opts.rateLimits
	}
	srv, err := server.New(context.Background(), server.Config{Store: e.Store, Auth: e.Issuer.Config(), Logger: log,
		Hub: hc, Events: e.opts.events, Extend: e.opts.extend, RateLimits: limits, TrustedProxies: e.opts.trustedProxies,
		Apps: e.opts.apps, AccessLog: server.AccessLogConfig{PruneEvery: -1}}) // tests prune when they mean to
	if err != nil {
		e.t.Fatalf("server: %v", err)
	}
	e.Hub = srv.Hub
	// Last (cleanups run in reverse): the hub and the event positioner stop
	// before the test's database closes under them.
	e.t.Cleanup(func() { _ = srv.Close() })
	// Every response is checked against the committed OpenAPI document.
	e.Server = httptest.NewUnstartedServer(TheContract(e.t).Wrap(e.t, srv.Handler()))
	e.Server.Config.ReadTimeout, e.Server.Config.WriteTimeout = e.opts.readTimeout, e.opts.writeTimeout
	e.Server.Start()
	e.URL = e.Server.URL
	e.t.Cleanup(e.Server.Close)
	select {
	case <-e.Hub.Ready():
	case <-time.After(10 * time.Second):
		e.t.Fatalf("event hub did not start listening")
	}
}

// Positioned gives every committed event its position now. The server's
// positioner does so after the response, so a test that reads events.seq
// right after a write calls this first (the one way tests wait for it).
func (e *Env) Positioned() {
	e.t.Helper()
	if _, err := e.Store.PositionEvents(context.Background()); err != nil {
		e.t.Fatalf("position events: %v", err)
	}
}

// Replica starts a second server (its own connection pool and hub) on the
// same database and issuer, like another replica behind a load balancer.
func (e *Env) Replica() *Env {
	e.t.Helper()
	db, err := domain.OpenDB(context.Background(), domain.DBConfig{URL: e.DBURL, MaxOpenConns: poolConns, MaxIdleConns: poolConns})
	if err != nil {
		e.t.Fatalf("open replica pool: %v", err)
	}
	e.t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			_ = sqlDB.Close()
		}
	})
	r := &Env{t: e.t, DBURL: e.DBURL, DB: db, Store: domain.NewStore(db), Issuer: e.Issuer, opts: e.opts}
	r.start()
	return r
}

// User is a signed-in person.
type User struct {
	Token    string
	Subject  string
	PersonID uuid.UUID
	ClientID uuid.UUID
}

// Login provisions subject with roles (through GET /v1/me) and returns them.
func (e *Env) Login(subject string, roles ...string) User {
	e.t.Helper()
	u := User{Token: e.Issuer.Token(e.t, subject, roles), Subject: subject}
	r := e.Do(http.MethodGet, "/v1/me", u.Token, nil)
	r.Want(e.t, http.StatusOK)
	var me struct {
		ID       uuid.UUID  `json:"id"`
		ClientID *uuid.UUID `json:"client_id"`
	}
	r.Decode(e.t, &me)
	u.PersonID = me.ID
	if me.ClientID != nil {
		u.ClientID = *me.ClientID
	}
	return u
}

// Resp is a buffered response.
type Resp struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends a request. body may be nil, a string (sent as is) or a value
// (JSON-encoded). Extra headers come as name, value pairs; a Content-Type
// pair overrides the default (merge-patch+json for PATCH, else JSON).
func (e *Env) Do(method, path, token string, body any, headers ...string) *Resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			e.t.Fatalf("encode body: %v", err)
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, e.URL+path, rd)
	if err != nil {
		e.t.Fatalf("new request: %v", err)
	}
	if body != nil {
		ct := "application/json"
		if method == http.MethodPatch {
			ct = "application/merge-patch+json"
		}
		req.Header.Set("Content-Type", ct)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatalf("read body: %v", err)
	}
	return &Resp{Status: res.StatusCode, Header: res.Header, Body: b}
}

// Want fails the test unless the status is want.
func (r *Resp) Want(t testing.TB, want int) *Resp {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status %d, want %d; body: %s", r.Status, want, r.Body)
	}
	return r
}

// Decode unmarshals the body into v.
func (r *Resp) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// Map decodes the body as a JSON object.
func (r *Resp) Map(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.Decode(t, &m)
	return m
}

// Problem asserts an RFC 9457 problem with the given status and returns it.
func (r *Resp) Problem(t testing.TB, status int) map[string]any {
	t.Helper()
	r.Want(t, status)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("content type %q, want application/problem+json; body %s", ct, r.Body)
	}
	m := r.Map(t)
	if int(m["status"].(float64)) != status {
		t.Fatalf("problem status %v, want %d", m["status"], status)
	}
	return m
}

// HasErrorAt reports whether a problem names location loc in its errors.
func HasErrorAt(problem map[string]any, loc string) bool {
	errs, _ := problem["errors"].([]any)
	for _, e := range errs {
		if m, ok := e.(map[string]any); ok && m["location"] == loc {
			return true
		}
	}
	return false
}
