package domain

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"reflect"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// SQL building blocks. Conditions are GORM expressions (clause.Expr): passed
// as a "?" argument of Raw, Exec or Where, GORM writes their SQL in place and
// binds their arguments in order, so a condition travels as one value and
// no caller splices argument lists.

// column is a column (or any SQL without arguments) given where an
// expression takes either a column or a value: it is written into the
// statement as is.
func column(sql string) clause.Expr { return clause.Expr{SQL: sql} }

// textArray is a text[] argument (cast it: ?::text[], or ?::jsonb[] for JSON
// documents). GORM would expand a plain slice into "a, b, c"; this travels
// as one array literal that PostgreSQL parses.
type textArray []string

// Value renders the PostgreSQL array literal (driver.Valuer).
func (a textArray) Value() (driver.Value, error) { return a.literal(), nil }

// GormValue binds the literal as a plain string. pgx sends a string in text
// format, so PostgreSQL parses the literal for whatever element type the
// statement casts to; any other Go type it would encode in binary, parsing
// the literal itself first (and jsonb elements would not survive that).
func (a textArray) GormValue(context.Context, *gorm.DB) clause.Expr {
	return clause.Expr{SQL: "?", Vars: []any{a.literal()}}
}

// literal quotes every element, escaping backslash and double quote, so
// commas, braces, blanks and the word NULL stay plain text. PostgreSQL
// refuses NUL bytes (and invalid UTF-8) in text with 22021, as it does for
// any other text argument.
func (a textArray) literal() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, v := range a {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		for j := 0; j < len(v); j++ {
			if v[j] == '\\' || v[j] == '"' {
				b.WriteByte('\\')
			}
			b.WriteByte(v[j])
		}
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

// uuidArray is a uuid[] argument (cast it: ?::uuid[]).
type uuidArray []uuid.UUID

// Value renders the PostgreSQL array literal (driver.Valuer).
func (a uuidArray) Value() (driver.Value, error) { return a.literal(), nil }

// GormValue binds the literal as a plain string, as textArray does.
func (a uuidArray) GormValue(context.Context, *gorm.DB) clause.Expr {
	return clause.Expr{SQL: "?", Vars: []any{a.literal()}}
}

// literal needs no quoting: a UUID is hex digits and dashes.
func (a uuidArray) literal() string {
	var b strings.Builder
	b.Grow(2 + 37*len(a))
	b.WriteByte('{')
	for i, id := range a {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(id.String())
	}
	b.WriteByte('}')
	return b.String()
}

// sortedIDs is the set m as a uuid[] argument, in a stable order.
func sortedIDs(m map[uuid.UUID]bool) uuidArray {
	s := make(uuidArray, 0, len(m))
	for id := range m {
		s = append(s, id)
	}
	slices.SortFunc(s, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	return s
}

// rawSized is db.Raw with the statement's buffer grown once to about the
// statement's size. GORM writes a statement byte by byte into an empty
// builder, which reallocated the goal reads' 3 KB statements about ten
// times per request: 16% of a goal read's allocated bytes (bench/REPORT.md,
// issue #12). extra covers what the arguments' expressions add. When every
// argument is one that GORM binds as one parameter, or an expression of
// such arguments, the statement is written a span at a time between the
// placeholders (writeSpans) rather than byte by byte: the same text and
// parameters, for a part of the CPU of the hottest reads.
func rawSized(db *gorm.DB, sql string, vars ...any) *gorm.DB {
	const extra = 1024
	tx := db.Raw("")
	tx.Statement.SQL.Grow(len(sql) + extra)
	if spansOnly(sql, vars) {
		writeSpans(tx.Statement, sql, vars)
	} else {
		clause.Expr{SQL: sql, Vars: vars}.Build(tx.Statement)
	}
	return tx
}

// spansOnly reports whether clause.Expr{text, vars}.Build would bind each
// argument as one parameter or build it as a nested clause.Expr of such
// arguments, with one "?" per argument: then writeSpans writes what Build
// would. Anything GORM treats otherwise (slices it expands, its own
// valuers, sub-queries, columns, named arguments) is left to Build.
func spansOnly(text string, vars []any) bool {
	if strings.Count(text, "?") != len(vars) {
		return false
	}
	for _, v := range vars {
		switch v := v.(type) {
		case clause.Expr:
			if !spansOnly(v.SQL, v.Vars) {
				return false
			}
		case textArray, uuidArray: // bound as their literal (GormValue)
		case gorm.Valuer, clause.Interface, clause.Expression, clause.Column, clause.Table, sql.NamedArg, *gorm.DB:
			return false
		case driver.Valuer:
		default:
			if v == nil {
				continue
			}
			if k := reflect.TypeOf(v).Kind(); k == reflect.Slice || k == reflect.Array {
				return false
			}
		}
	}
	return true
}

// writeSpans writes sql with its placeholders bound to vars as
// clause.Expr.Build does, for arguments spansOnly accepted.
func writeSpans(stmt *gorm.Statement, sql string, vars []any) {
	for _, v := range vars {
		i := strings.IndexByte(sql, '?')
		stmt.SQL.WriteString(sql[:i])
		sql = sql[i+1:]
		if e, ok := v.(clause.Expr); ok {
			writeSpans(stmt, e.SQL, e.Vars)
			continue
		}
		switch a := v.(type) {
		case textArray:
			v = a.literal()
		case uuidArray:
			v = a.literal()
		case uuid.UUID:
			// pgx encodes a pgtype.UUID in binary for a uuid parameter; a
			// uuid.UUID it encodes through its driver.Valuer, as text that
			// PostgreSQL parses back (5% of a goal PATCH's CPU). For a
			// parameter of another type it still takes the Valuer.
			v = pgtype.UUID{Bytes: a, Valid: true}
		}
		stmt.Vars = append(stmt.Vars, v)
		stmt.DB.Dialector.BindVarTo(stmt, stmt, v)
	}
	stmt.SQL.WriteString(sql)
}
