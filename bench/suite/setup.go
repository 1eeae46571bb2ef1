package main

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"gorm.io/gorm"

	"github.com/waypoint-portal/waypoint/api/server"
	"github.com/waypoint-portal/waypoint/auth/devissuer"
	"github.com/waypoint-portal/waypoint/bench/floor"
	"github.com/waypoint-portal/waypoint/bench/internal/load"
	"github.com/waypoint-portal/waypoint/bench/internal/seed"
	"github.com/waypoint-portal/waypoint/domain"
	"github.com/waypoint-portal/waypoint/domain/demo"
)

// The bench's tokens come from an in-process dev issuer under a fixed name,
// so the seeded people (keyed by issuer and subject) match on every run.
const (
	issuerURL = "https://bench.waypoint.invalid/oidc"
	audience  = "waypoint-bench"
	tokenTTL  = 3 * time.Hour
)

// env is what the scenarios run against: Waypoint and the floor on
// loopback, in this process, on one database.
type env struct {
	db       *gorm.DB
	pool     *pgxpool.Pool
	iss      *devissuer.Issuer
	srv      *server.Server
	product  string // base URLs
	floorURL string
	closers  []func()
}

func (e *env) close() {
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i]()
	}
}

// start seeds the database (only what is missing) and starts both servers.
func start(ctx context.Context, c config, logf func(string, ...any)) (*env, error) {
	e := &env{}
	db, closeDB, err := load.OpenMigrated(ctx, c.dbURL)
	if err != nil {
		return nil, err
	}
	e.db = db
	e.closers = append(e.closers, closeDB)
	t := time.Now()
	seeded, err := seed.Goals{Issuer: issuerURL, Clients: c.clients, GoalsPer: 5, Caseload: min(1000, c.clients)}.Seed(ctx, db)
	if err != nil {
		return e, err
	}
	if seeded {
		logf("seeded %d clients x 5 goals in %s", c.clients, time.Since(t).Round(time.Millisecond))
	}
	if err := seedDirectory(ctx, db, c.services, logf); err != nil {
		return e, err
	}
	iss, pub, err := load.Issuer(issuerURL, audience)
	if err != nil {
		return e, err
	}
	e.iss = iss
	if e.srv, err = load.Start(ctx, domain.NewStore(db), iss, audience, load.ServerOptions{HubURL: c.dbURL}); err != nil {
		return e, err
	}
	e.closers = append(e.closers, func() { _ = e.srv.Close() })
	e.product = e.srv.URL()
	return e, e.startFloor(ctx, c, pub)
}

// startFloor serves bench/floor on its own loopback port with a pgx pool
// of the product's size and settings.
func (e *env) startFloor(ctx context.Context, c config, pub *rsa.PublicKey) error {
	pc, err := pgxpool.ParseConfig(c.dbURL)
	if err != nil {
		return err
	}
	pc.MaxConns = 20
	pc.MinConns = 0
	pc.ConnConfig.RuntimeParams["statement_timeout"] = "10000"
	pc.ConnConfig.RuntimeParams["timezone"] = "UTC"
	if e.pool, err = pgxpool.NewWithConfig(ctx, pc); err != nil {
		return err
	}
	e.closers = append(e.closers, e.pool.Close)
	// The same rate limits as the server's (on, far above the load).
	rl := load.Unthrottled()
	limits := floor.RateLimits{IP: floor.Limit{Requests: rl.IP.Requests, Per: rl.IP.Per, Burst: rl.IP.Burst},
		Person: floor.Limit{Requests: rl.Person.Requests, Per: rl.Person.Per, Burst: rl.Person.Burst}}
	f := floor.New(floor.Config{Pool: e.pool, Key: pub, Issuer: issuerURL, Audience: audience, TokenCache: c.tokenCache, RateLimits: limits})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := f.Server()
	pctx, stopPositioner := context.WithCancel(context.WithoutCancel(ctx))
	go f.RunPositioner(pctx)
	e.closers = append(e.closers, stopPositioner)
	go func() { _ = hs.Serve(ln) }()
	e.closers = append(e.closers, func() { _ = hs.Close() })
	e.floorURL = "http://" + ln.Addr().String()
	return nil
}

// seedDirectory fills the directory up to want services (a larger one is
// kept) and leaves it ready: VACUUM ANALYZE without the pool's timeout.
func seedDirectory(ctx context.Context, db *gorm.DB, want int, logf func(string, ...any)) error {
	var have int
	if err := db.WithContext(ctx).Raw(`SELECT count(*) FROM services`).Scan(&have).Error; err != nil {
		return err
	}
	if have >= want {
		return nil
	}
	t := time.Now()
	added, err := demo.SeedDirectory(ctx, db, want)
	if err != nil {
		return err
	}
	err = db.WithContext(ctx).Connection(func(conn *gorm.DB) error {
		if err := conn.Exec(`SET statement_timeout = 0`).Error; err != nil {
			return err
		}
		defer conn.Exec(`RESET statement_timeout`)
		return conn.Exec(`VACUUM ANALYZE`).Error
	})
	if err != nil {
		return err
	}
	logf("seeded %d directory services in %s", added, time.Since(t).Round(time.Millisecond))
	return nil
}

func (e *env) mint(subject string, roles ...string) (string, error) {
	return e.iss.Mint(devissuer.TokenRequest{Subject: subject, Name: subject, Roles: roles, TTL: tokenTTL})
}

// call sends one setup request to Waypoint and decodes a wanted answer.
func call(ctx context.Context, method, url, token string, body any, out any, want ...int) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	for _, w := range want {
		if res.StatusCode == w {
			if out != nil {
				return json.Unmarshal(b, out)
			}
			return nil
		}
	}
	return fmt.Errorf("%s %s: %d %.300s", method, url, res.StatusCode, b)
}

// conversations returns n conversations of the client whose subjects are
// prefix + " #i", creating the missing ones through the API as the client.
func (e *env) conversations(ctx context.Context, clientID uuid.UUID, token, prefix string, n int) ([]uuid.UUID, error) {
	out := make([]uuid.UUID, n)
	for i := range n {
		subject := fmt.Sprintf("%s #%d", prefix, i)
		var ids []uuid.UUID
		err := e.db.WithContext(ctx).Raw(`SELECT id FROM conversations WHERE client_id = ? AND subject = ? ORDER BY id LIMIT 1`,
			clientID, subject).Scan(&ids).Error
		if err != nil {
			return nil, err
		}
		if len(ids) == 1 {
			out[i] = ids[0]
			continue
		}
		var c struct{ ID uuid.UUID }
		if err := call(ctx, http.MethodPost, e.product+"/v1/conversations", token, map[string]string{"subject": subject}, &c, http.StatusCreated); err != nil {
			return nil, err
		}
		out[i] = c.ID
	}
	return out, nil
}
