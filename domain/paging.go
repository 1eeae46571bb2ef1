package domain

import (
	"context"
	"encoding/base64"
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// MaxPageSize caps every page of a list (limit, and HSDS per_page).
const MaxPageSize = 100

// Cursors are opaque to callers: the base64url of the last row's UUIDv7 id.
// UUIDv7 ids sort by creation time, so "id > cursor" is a stable order with
// no gaps or repeats while rows are added.
func encodeCursor(id uuid.UUID) string {
	return base64.RawURLEncoding.EncodeToString(id[:])
}

func decodeCursor(c string) (uuid.UUID, error) {
	if c == "" {
		return uuid.Nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) != 16 {
		return uuid.Nil, InvalidIn(SourceSelection, "cursor", "cursor is not one this API returned")
	}
	return uuid.UUID(b), nil
}

// page trims a result fetched with limit+1 rows and returns the next cursor.
func page[T any](rows []T, limit int, id func(T) uuid.UUID) ([]T, string) {
	if len(rows) <= limit {
		return rows, ""
	}
	rows = rows[:limit]
	return rows, encodeCursor(id(rows[len(rows)-1]))
}

// listSpec is one page of a list ordered by a UUIDv7 column: the select up to
// its conditions (pageClause appends the cursor, order and limit), and what
// runs with it in the same transaction.
type listSpec[T any] struct {
	what   string // names the list in errors
	query  string
	args   []any
	col    string // the UUIDv7 column the list is ordered by
	filter ListFilter
	id     func(T) uuid.UUID
	// before runs first (standing, authorization); after gets the page's
	// rows, trimmed to the limit (access log). Either may be nil.
	before func(tx *gorm.DB) error
	after  func(tx *gorm.DB, rows []T) error
}

// listPage decodes the cursor and reads one page as l says. Without before
// and after it is a single statement, sent without BEGIN and COMMIT.
func listPage[T any](ctx context.Context, s *Store, cursor string, l listSpec[T]) ([]T, string, error) {
	after, err := decodeCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	var out []T
	var next string
	read := func(tx *gorm.DB) error {
		if l.before != nil {
			if err := l.before(tx); err != nil {
				return err
			}
		}
		q, args := pageClause(l.query, l.args, l.col, after, l.filter)
		if err := tx.Raw(q, args...).Scan(&out).Error; err != nil {
			return fmt.Errorf("list %s: %w", l.what, err)
		}
		out, next = page(out, l.filter.Limit, l.id)
		if l.after != nil {
			return l.after(tx, out)
		}
		return nil
	}
	if l.before == nil && l.after == nil {
		err = read(s.db.WithContext(ctx))
	} else {
		err = s.tx(ctx, read)
	}
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}
