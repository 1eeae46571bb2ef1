package domain

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// pgDB opens the server's maintenance database: these tests only evaluate
// expressions (SELECT without tables), so they need no schema of their own.
func pgDB(t *testing.T) *gorm.DB {
	t.Helper()
	db, err := OpenDB(context.Background(), DBConfig{URL: "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", MaxOpenConns: 2})
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			_ = sqlDB.Close()
		}
	})
	return db
}

// render builds a Raw statement without running it: its SQL and arguments.
func render(t *testing.T, db *gorm.DB, sql string, vars ...any) (string, []any) {
	t.Helper()
	st := db.Session(&gorm.Session{DryRun: true}).Raw(sql, vars...).Statement
	return st.SQL.String(), st.Vars
}

// How GORM expands an expression given as a "?" argument of Raw: its SQL is
// written in place, its arguments are bound in order among the others, also
// nested, right after "(" and when the statement contains "@" (GORM then
// parses it for named arguments). An array type is one argument, not a list.
func TestExpressionArguments(t *testing.T) {
	db := pgDB(t)
	inner := clause.Expr{SQL: "(x = ? OR ?)", Vars: []any{1, clause.Expr{SQL: "EXISTS (SELECT 1 WHERE ? = x)", Vars: []any{2}}}}
	sql, vars := render(t, db, `SELECT x FROM t WHERE y = ? AND ? AND z = ANY((?)::text[]) AND w @> ?`, 0, inner, textArray{"a", "b"}, 3)
	want := `SELECT x FROM t WHERE y = $1 AND (x = $2 OR EXISTS (SELECT 1 WHERE $3 = x)) AND z = ANY(($4)::text[]) AND w @> $5`
	if sql != want {
		t.Errorf("rendered\n%s\nwant\n%s", sql, want)
	}
	if wantVars := []any{0, 1, 2, `{"a","b"}`, 3}; !slices.Equal(vars, wantVars) {
		t.Errorf("arguments %#v, want %#v", vars, wantVars)
	}

	// And it means what it says when PostgreSQL runs it.
	var got []int
	err := db.Raw(`SELECT x FROM (VALUES (1), (2), (3)) t(x) WHERE ? ORDER BY x`,
		clause.Expr{SQL: "(x = ? OR ?)", Vars: []any{1, clause.Expr{SQL: "x = ANY(?::int[])", Vars: []any{textArray{"3"}}}}}).Scan(&got).Error
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []int{1, 3}) {
		t.Errorf("rows %v, want [1 3]", got)
	}
}

// Values that would break a hand-written literal come back from PostgreSQL
// exactly as sent, as text[] and as jsonb[] (the goal history's use).
func TestTextArrayRoundTrip(t *testing.T) {
	db := pgDB(t)
	hostile := textArray{
		`plain`, ``, ` padded `, `NULL`, `null`, `a,b`, `{braces}`, `}{`, `"quoted"`, `it's`, `back\slash`,
		`\"`, `trailing\`, `\`, "tab\tnew\nline", `ünïcødé ✓ 日本語 🏠`, `""`, `{"a":"b"}`, `ARRAY[1]`, `$1`, `?`, `@x`,
	}
	var got []string
	if err := db.Raw(`SELECT unnest(?::text[])`, hostile).Scan(&got).Error; err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []string(hostile)) {
		t.Errorf("text[] round trip\n got %q\nwant %q", got, hostile)
	}
	var n int
	if err := db.Raw(`SELECT cardinality(?::text[])`, textArray{}).Scan(&n).Error; err != nil || n != 0 {
		t.Errorf("empty array: %d elements, %v", n, err)
	}
	// Through database/sql without GORM: the driver.Valuer side.
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	rows, err := sqlDB.Query(`SELECT unnest($1::text[])`, hostile)
	if err != nil {
		t.Fatal(err)
	}
	var back []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		back = append(back, v)
	}
	if err := rows.Err(); err != nil || !slices.Equal(back, []string(hostile)) {
		t.Errorf("database/sql round trip\n got %q\nwant %q (%v)", back, hostile, err)
	}

	docs := textArray{`{"q":"a \"b\" \\ c, {d}"}`, `"NULL"`, `null`, `[1,"ü"]`}
	var out []string
	if err := db.Raw(`SELECT d::text FROM unnest(?::jsonb[]) d`, docs).Scan(&out).Error; err != nil {
		t.Fatal(err)
	}
	want := []string{`{"q": "a \"b\" \\ c, {d}"}`, `"NULL"`, `null`, `[1, "ü"]`}
	if !slices.Equal(out, want) {
		t.Errorf("jsonb[] round trip\n got %q\nwant %q", out, want)
	}
}

// PostgreSQL text cannot hold NUL bytes or invalid UTF-8. Input validation
// refuses them before they get here; if one slips through, the statement
// fails with 22021 (which the API maps to 422) rather than storing a
// truncated value.
func TestTextArrayRefusesWhatTextCannotHold(t *testing.T) {
	db := pgDB(t)
	for _, bad := range []string{"nul\x00byte", "bad\xffutf8"} {
		var got []string
		err := db.Raw(`SELECT unnest(?::text[])`, textArray{"ok", bad}).Scan(&got).Error
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "22021" {
			t.Errorf("%q: got %q, error %v; want SQLSTATE 22021", bad, got, err)
		}
	}
}

func TestUUIDArrayRoundTrip(t *testing.T) {
	db := pgDB(t)
	ids := uuidArray{uuid.Must(uuid.NewV7()), uuid.Nil, uuid.Must(uuid.NewRandom())}
	var got []uuid.UUID
	if err := db.Raw(`SELECT unnest(?::uuid[])`, ids).Scan(&got).Error; err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []uuid.UUID(ids)) {
		t.Errorf("uuid[] round trip %v, want %v", got, ids)
	}
	if v, err := (uuidArray{}).Value(); err != nil || v != "{}" {
		t.Errorf("empty uuid array renders %v, %v", v, err)
	}
}

// rawSized writes what GORM's Build writes, text and arguments, whether it
// takes the span-at-a-time path or leaves the statement to Build.
func TestRawSizedMatchesBuild(t *testing.T) {
	t.Parallel()
	db := pgDB(t).Session(&gorm.Session{DryRun: true})
	id, s, when := uuid.Must(uuid.NewV7()), "text", time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	var nilText *string
	cases := []struct {
		name  string
		sql   string
		vars  []any
		spans bool
	}{
		{"scalars", `SELECT ? , ?, ?, ?, ?`, []any{1, "a", true, when, id}, true},
		{"nil and pointers", `SELECT ?, ?, ?`, []any{nil, nilText, &s}, true},
		{"nested expressions", `WITH g AS (SELECT 1 WHERE ? AND x = ?) SELECT ?`,
			[]any{clause.Expr{SQL: "(a = ? OR ?)", Vars: []any{id, clause.Expr{SQL: "b = ?", Vars: []any{2}}}}, 3, column("c")}, true},
		{"a placeholder right after (", `SELECT (?)`, []any{5}, true},
		{"array types", `SELECT ?::text[], (?::uuid[])`, []any{textArray{"a", "b"}, uuidArray{id}}, true},
		{"a goal read's scope and app use", `SELECT ? AND ?, ?`, []any{
			Actor{PersonID: id, ClientID: id, Roles: []string{RoleClient}, AppID: "app", Scope: "goals:read"}.GoalScope("g", ReachGoalsShared),
			Actor{PersonID: id, Roles: []string{RoleWorker}}.GoalScope("g", ReachGoalsShared),
			appUse(Actor{PersonID: id, ClientID: id, AppID: "app", Scope: "goals:read"}, "g.client_id", "g")}, true},
		{"a GORM valuer of another type", `SELECT ?`, []any{clause.Expr{SQL: "?", Vars: []any{gormValued{}}}}, false},
		{"a slice GORM expands", `SELECT 1 WHERE x IN (?)`, []any{[]int{1, 2}}, false},
		{"bytes", `SELECT ?`, []any{[]byte("x")}, false},
		{"more arguments than placeholders", `SELECT ?`, []any{1, 2}, false},
		{"a placeholder without argument", `SELECT ? ?`, []any{1}, false},
	}
	for _, c := range cases {
		if got := spansOnly(c.sql, c.vars); got != c.spans {
			t.Errorf("%s: spansOnly = %v, want %v", c.name, got, c.spans)
		}
		got := rawSized(db, c.sql, c.vars...).Statement
		want := db.Raw("")
		clause.Expr{SQL: c.sql, Vars: c.vars}.Build(want.Statement)
		vars := slices.Clone(got.Vars)
		for i, v := range vars {
			if u, ok := v.(pgtype.UUID); ok { // the same value, bound in binary
				vars[i] = uuid.UUID(u.Bytes)
			}
		}
		if got.SQL.String() != want.Statement.SQL.String() || !reflect.DeepEqual(vars, want.Statement.Vars) {
			t.Errorf("%s:\n%s %#v\nwant\n%s %#v", c.name, got.SQL.String(), got.Vars, want.Statement.SQL.String(), want.Statement.Vars)
		}
	}
}

// A UUID bound by rawSized reads as the same UUID where PostgreSQL expects
// a uuid and where it expects text.
func TestRawSizedUUIDs(t *testing.T) {
	t.Parallel()
	db := pgDB(t)
	id := uuid.Must(uuid.NewV7())
	var row struct {
		Same bool
		Text string
		Back uuid.UUID
	}
	if err := rawSized(db, `SELECT ? = CAST(? AS uuid) AS same, CAST(? AS text) AS text, ? AS back`, id, id.String(), id,
		clause.Expr{SQL: "CAST(? AS uuid)", Vars: []any{id}}).Scan(&row).Error; err != nil {
		t.Fatal(err)
	}
	if !row.Same || row.Text != id.String() || row.Back != id {
		t.Fatalf("got %+v for %s", row, id)
	}
}

// gormValued is a gorm.Valuer rawSized leaves to GORM.
type gormValued struct{}

func (gormValued) GormValue(context.Context, *gorm.DB) clause.Expr {
	return clause.Expr{SQL: "upper(?)", Vars: []any{"x"}}
}
