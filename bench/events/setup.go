package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/waypoint-portal/waypoint/auth/devissuer"
	"github.com/waypoint-portal/waypoint/domain"
)

// Setup helpers: database, tokens, HTTP calls and small concurrency tools.

func recreateDB(ctx context.Context, dbURL string) error {
	u, err := url.Parse(dbURL)
	if err != nil {
		return err
	}
	name := strings.TrimPrefix(u.Path, "/")
	if !strings.Contains(name, "bench") {
		return fmt.Errorf("refusing to drop %q: the bench database name must contain \"bench\"", name)
	}
	admin := *u
	admin.Path = "/postgres"
	conn, err := pgx.Connect(ctx, admin.String())
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return err
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	return err
}

// minter signs dev tokens in process with the servers' dev key.
func minter(ctx context.Context, dbURL, issuer string) (func(subject, role string) string, error) {
	db, err := domain.OpenDB(ctx, domain.DBConfig{URL: dbURL, MaxOpenConns: 2})
	if err != nil {
		return nil, err
	}
	defer func() {
		if sqlDB, err := db.DB(); err == nil {
			sqlDB.Close()
		}
	}()
	pemKey, err := domain.NewStore(db).DevSigningKey(ctx, func() ([]byte, error) { return nil, errors.New("no dev key: is the server running?") })
	if err != nil {
		return nil, err
	}
	key, err := devissuer.ParseKey(pemKey)
	if err != nil {
		return nil, err
	}
	iss, err := devissuer.New(issuer, "waypoint", key, devissuer.DefaultPersonas())
	if err != nil {
		return nil, err
	}
	return func(subject, role string) string {
		tok, err := iss.Mint(devissuer.TokenRequest{Subject: subject, Name: subject, Roles: []string{role}, TTL: time.Hour})
		if err != nil {
			log.Fatalf("mint: %v", err)
		}
		return tok
	}, nil
}

func parallel(workers, n int, fn func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

func waitUntil(d time.Duration, cond func() bool) bool {
	end := time.Now().Add(d)
	for !cond() {
		if time.Now().After(end) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// addrs hands out loopback addresses: consecutive ports from base, or free
// ones the kernel picks when base is 0.
func addrs(base int) func() string {
	next := base
	return func() string {
		if base == 0 {
			return freeAddr()
		}
		next++
		return fmt.Sprintf("127.0.0.1:%d", next-1)
	}
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

// raiseFileLimit lifts the soft open-files limit to the hard one; the
// servers inherit it (each stream is a socket on both sides).
func raiseFileLimit() {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err == nil && r.Cur < r.Max {
		r.Cur = r.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r)
	}
}
