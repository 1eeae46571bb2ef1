// Package domain holds Waypoint's entities, their rules and the services that
// persist them in PostgreSQL through GORM. It knows nothing of HTTP.
package domain

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/waypoint-portal/waypoint/auth/tokencache"
)

// Store is the entry point to persisted state.
type Store struct {
	db *gorm.DB
	// wake carries at most one pending request to position events (outbox.go).
	wake chan struct{}
	// shares remembers directory_text_share by search text (directory_search.go).
	shares *tokencache.Cache[sql.NullFloat64]
}

// NewStore returns a Store over db.
func NewStore(db *gorm.DB) *Store {
	return &Store{db: db, wake: make(chan struct{}, 1), shares: tokencache.New[sql.NullFloat64](shareCacheSize)}
}

// DB exposes the GORM handle (for health checks and tools).
func (s *Store) DB() *gorm.DB { return s.db }

// pool is the connection pool under GORM, for the few hot statements that
// are run and scanned by hand (see docs/architecture.md).
func (s *Store) pool() (*sql.DB, error) {
	db, err := s.db.DB()
	if err != nil {
		return nil, fmt.Errorf("database handle: %w", err)
	}
	return db, nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return fmt.Errorf("database handle: %w", err)
	}
	return sqlDB.PingContext(ctx)
}

func newID() uuid.UUID { return uuid.Must(uuid.NewV7()) }

// tx runs fn in one transaction: multi-row changes commit together or not
// at all. A miss on a record the request named is settled after it. When
// the transaction wrote an event, its commit wakes the positioner. Within a
// shared transaction (inOneTx), fn runs in that one.
func (s *Store) tx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	if r, ok := ctx.Value(requestTxKey{}).(*requestTx); ok {
		return s.inRequestTx(ctx, r, fn)
	}
	m := &emitMark{}
	err := s.db.WithContext(context.WithValue(ctx, emitMarkKey{}, m)).Transaction(fn)
	if err == nil && m.emitted.Load() {
		s.WakePositioner()
	}
	return s.settleMiss(ctx, err)
}

// requestTx is one transaction several store calls share (inOneTx): Store.tx runs
// its work in it instead of in one of its own.
type requestTx struct {
	tx   *gorm.DB
	mark *emitMark
	// done: committed or rolled back; nothing more may run in it.
	done bool
}

type requestTxKey struct{}

// errRequestTxDone refuses work after the request's transaction ended (a
// statement of the request failed, which rolled it back).
var errRequestTxDone = errors.New("the request's transaction has already ended")

func (r *requestTx) rollback() {
	if !r.done {
		r.done = true
		_ = r.tx.Rollback().Error
	}
}

// inRequestTx runs fn in the shared transaction. A failure ends it at
// once: nothing of the shared work may commit, and a miss is then settled
// on another connection, so a denied attempt is still logged and the
// request holds one connection at a time.
func (s *Store) inRequestTx(ctx context.Context, r *requestTx, fn func(tx *gorm.DB) error) error {
	if r.done {
		return errRequestTxDone
	}
	if err := fn(r.tx.WithContext(context.WithValue(ctx, emitMarkKey{}, r.mark))); err != nil {
		r.rollback()
		return s.settleMiss(ctx, err)
	}
	return nil
}
