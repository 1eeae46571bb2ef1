package domain

import (
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// Some lists are bounded by a count no CHECK constraint can state (a care
// team has at most MaxCareTeam members). A write that may add to one first
// takes a lock that only writers of the same list take, then adds, then
// counts, in one transaction: two concurrent writers cannot both see room for
// one more, and a write past the bound rolls back whole. The lock is a
// transaction-scoped advisory lock in a key space of its own (two int4 keys;
// the outbox's lock is a single bigint), taken before the transaction locks
// any row, so it cannot deadlock with row locks.

// countedList names a bounded list, the first key of its lock.
type countedList int32

const (
	countCareTeam   countedList = iota + 1 // a client's care team (by client)
	countConsents                          // a client's consents (by client)
	countSupporting                        // the clients a person supports (by person)
)

// serializeCount waits until no other transaction is changing list of id.
func serializeCount(tx *gorm.DB, list countedList, id uuid.UUID) error {
	if err := tx.Exec(`SELECT pg_advisory_xact_lock(?::int4, hashtext(?))`, int32(list), id.String()).Error; err != nil {
		return fmt.Errorf("lock list %d of %s: %w", list, id, err)
	}
	return nil
}

// checkCount is a 409 when the rows the query counts (one ? for id) are more than max.
func checkCount(tx *gorm.DB, max int, query string, id uuid.UUID, format string, args ...any) error {
	var n int64
	if err := tx.Raw(query, id).Scan(&n).Error; err != nil {
		return fmt.Errorf("count: %w", err)
	}
	if n > int64(max) {
		return Errorf(KindConflict, format, args...)
	}
	return nil
}
