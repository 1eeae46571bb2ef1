package domain

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// DBConfig holds the connection settings.
type DBConfig struct {
	URL              string
	MaxOpenConns     int
	MaxIdleConns     int
	ConnMaxLifetime  time.Duration
	StatementTimeout time.Duration
	// Statements, when set, counts what the pool sends (the hot-path
	// benchmarks measure round trips with it); nil in production.
	Statements *StatementCounter
}

// OpenDB connects to PostgreSQL through GORM on the pgx driver, creating the
// database first when it does not exist. Every connection gets the statement
// timeout, so a runaway query cannot hold a connection forever, and JIT off.
func OpenDB(ctx context.Context, cfg DBConfig) (*gorm.DB, error) {
	if err := EnsureDatabase(ctx, cfg.URL); err != nil {
		return nil, err
	}
	pcfg, err := pgx.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	if cfg.StatementTimeout > 0 {
		pcfg.RuntimeParams["statement_timeout"] = fmt.Sprint(cfg.StatementTimeout.Milliseconds())
	}
	pcfg.RuntimeParams["timezone"] = "UTC"
	// No JIT: the planner's cost of the event read (per-recipient care-team,
	// consent and revoked-app subqueries) passes jit_above_cost, and compiling
	// it takes ~100 ms on every delivery while running it takes ~1 ms. Our
	// statements are short OLTP ones that never repay compilation.
	pcfg.RuntimeParams["jit"] = "off"
	if cfg.Statements != nil {
		pcfg.Tracer = cfg.Statements
	}
	sqlDB := stdlib.OpenDB(*pcfg)
	if cfg.MaxOpenConns > 0 {
		sqlDB.SetMaxOpenConns(cfg.MaxOpenConns)
	}
	if cfg.MaxIdleConns > 0 {
		sqlDB.SetMaxIdleConns(cfg.MaxIdleConns)
	}
	if cfg.ConnMaxLifetime > 0 {
		sqlDB.SetConnMaxLifetime(cfg.ConnMaxLifetime)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return OpenGorm(sqlDB)
}

// OpenGorm wraps an existing pool in GORM with the project's settings.
func OpenGorm(sqlDB *sql.DB) (*gorm.DB, error) {
	db, err := gorm.Open(quietDialector{postgres.Dialector{Config: &postgres.Config{Conn: sqlDB}}}, &gorm.Config{
		Logger:                 logger.Discard,
		TranslateError:         true,
		SkipDefaultTransaction: true,
		PrepareStmt:            false,
	})
	if err != nil {
		return nil, fmt.Errorf("open gorm: %w", err)
	}
	return db, nil
}

// quietDialector is PostgreSQL's dialector without rendering statements for
// logs. GORM's Scan traces every statement through a recorder that renders
// it with its arguments inlined (Explain), even though nothing here logs
// statements (logger.Discard): about a tenth of a message post's CPU in the
// profile of issue #12. Nothing else calls Explain.
type quietDialector struct{ postgres.Dialector }

// Explain returns the statement as sent, without its arguments.
func (quietDialector) Explain(sql string, _ ...any) string { return sql }

// EnsureDatabase creates the database named in dbURL if it is missing. It
// connects to that database first, so errors name it; only when PostgreSQL
// says it does not exist (3D000) does it connect to the server's maintenance
// database "postgres" to create it. Several processes may do this at once
// (replicas, `make run` and `dev token`): losing the race is success.
func EnsureDatabase(ctx context.Context, dbURL string) error {
	u, err := url.Parse(dbURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return fmt.Errorf("DATABASE_URL must be a postgres:// URL")
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" || name == "postgres" {
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, dbURL)
	if err == nil {
		return conn.Close(context.Background())
	}
	if pgCode(err) != "3D000" { // invalid_catalog_name: the database does not exist
		return connectError(name, u.Host, err)
	}
	admin := *u
	admin.Path = "/postgres"
	conn, err = pgx.Connect(cctx, admin.String())
	if err != nil {
		return connectError(name, u.Host, err)
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(cctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	switch {
	case err == nil:
		return nil
	case pgCode(err) == "42P04", // duplicate_database: created by another process in the meantime
		pgCode(err) == pgUniqueViolation: // unique violation on pg_database: the same race, caught a step later
		return nil
	}
	return fmt.Errorf("create database %q: %w", name, err)
}

// connectError names the configured database and server, not the
// maintenance database that pgx's own message may mention.
func connectError(name, host string, err error) error {
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) && errors.Unwrap(ce) != nil {
		err = errors.Unwrap(ce)
	}
	return fmt.Errorf("cannot connect to database %q on %s: %w", name, host, err)
}

// Unavailable reports whether err means the database could not be reached or
// went away mid-statement (an outage or a restart: retrying later may
// succeed), as opposed to a statement that failed on its own.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "57P01", "57P02", "57P03", // admin or crash shutdown, cannot connect now
			"53300": // too many connections
			return true
		}
		return strings.HasPrefix(pgErr.Code, "08") // connection exception class
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) || errors.As(err, &netErr) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		pgconn.SafeToRetry(err)
}
