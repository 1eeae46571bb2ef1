package domain

import (
	"errors"
	"fmt"
	"testing"
)

// Every SQLSTATE the domain translates, raised by the real server, comes out
// as the documented kind; the driver error stays reachable for the log.
func TestAsErrorTranslatesPostgreSQLFailures(t *testing.T) {
	db := pgDB(t)
	cases := []struct {
		name string
		sql  string
		want Kind
	}{
		{"NUL in text (22021)", `SELECT convert_from('\x610062'::bytea, 'UTF8')`, KindInvalid},
		{"unique violation (23505)", `DO $$ BEGIN RAISE unique_violation; END $$`, KindConflict},
		{"foreign key violation (23503)", `DO $$ BEGIN RAISE foreign_key_violation; END $$`, KindConflict},
		{"check violation (23514)", `DO $$ BEGIN RAISE check_violation; END $$`, KindInvalid},
		{"untranslatable character (22P05)", `DO $$ BEGIN RAISE untranslatable_character; END $$`, KindInvalid},
		{"statement timeout (57014)", `SET LOCAL statement_timeout = 10; SELECT pg_sleep(1)`, KindUnavailable},
		{"server shutting down (57P01)", `DO $$ BEGIN RAISE admin_shutdown; END $$`, KindUnavailable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tx := db.Begin()
			defer tx.Rollback()
			err := tx.Exec(c.sql).Error
			if err == nil {
				t.Fatal("statement succeeded; want a PostgreSQL error")
			}
			de := AsError(fmt.Errorf("wrapped: %w", err))
			if de == nil || de.Kind != c.want {
				t.Fatalf("AsError(%v) = %v; want kind %d", err, de, c.want)
			}
			if !errors.Is(de, err) || de.Field != "" {
				t.Fatalf("translation lost the cause or invented a field: %#v", de)
			}
		})
	}
	if de := AsError(NotFound("goal")); de == nil || de.Kind != KindNotFound {
		t.Fatalf("a domain error must pass through, got %v", de)
	}
	if AsError(errors.New("a bug")) != nil || AsError(nil) != nil {
		t.Fatal("an untranslatable error must be nil (internal)")
	}
}
