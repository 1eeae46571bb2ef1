package domain

import (
	"encoding/base64"

	"github.com/google/uuid"
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
