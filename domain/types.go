package domain

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
)

// Strings is a list of strings stored as a jsonb array.
type Strings []string

// Value implements driver.Valuer.
func (s Strings) Value() (driver.Value, error) {
	if s == nil {
		return "[]", nil
	}
	b, err := json.Marshal([]string(s))
	return string(b), err
}

// Scan implements sql.Scanner.
func (s *Strings) Scan(src any) error { return scanJSON(src, s) }

// JSONValue stores any JSON-serialisable value in a jsonb column.
type JSONValue[T any] struct{ V T }

// Value implements driver.Valuer.
func (j JSONValue[T]) Value() (driver.Value, error) {
	b, err := json.Marshal(j.V)
	return string(b), err
}

// Scan implements sql.Scanner.
func (j *JSONValue[T]) Scan(src any) error { return scanJSON(src, &j.V) }

func scanJSON(src, dst any) error {
	switch v := src.(type) {
	case nil:
		return nil
	case []byte:
		return json.Unmarshal(v, dst)
	case string:
		return json.Unmarshal([]byte(v), dst)
	default:
		return fmt.Errorf("scan jsonb: unsupported type %T", src)
	}
}
