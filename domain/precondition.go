package domain

import (
	"strconv"

	"gorm.io/gorm/clause"
)

// Precondition is what a conditional write requires of the version it
// changes: a version the caller read, any version, or (the zero value) none
// given where one is required. Every conditional update takes one, so the
// check lives in its single statement and is explained the same way on a
// miss.
type Precondition struct {
	kind    preconditionKind
	version int64
}

type preconditionKind uint8

const (
	// preconditionMissing is the zero value, so a forgotten precondition
	// fails closed (428), never open.
	preconditionMissing preconditionKind = iota
	preconditionAny
	preconditionVersion
)

// ExpectVersion requires the current version to be v. A v no resource can
// have (below 1) never matches: the write is refused as stale.
func ExpectVersion(v int64) Precondition {
	return Precondition{kind: preconditionVersion, version: v}
}

// AnyVersion imposes no precondition: the caller accepts whatever version is
// current, or the operation does not require one.
func AnyVersion() Precondition { return Precondition{kind: preconditionAny} }

// NoVersion is a write whose caller named no version where one is required
// ("so nobody's edit is lost"). It matches nothing and is reported only
// after authorization, so a resource the caller may not see stays not found.
func NoVersion() Precondition { return Precondition{} }

func (p Precondition) String() string {
	switch p.kind {
	case preconditionAny:
		return "any version"
	case preconditionVersion:
		return "version " + strconv.FormatInt(p.version, 10)
	}
	return "no version"
}

// Matches reports whether a resource at version current satisfies p.
func (p Precondition) Matches(current int64) bool {
	switch p.kind {
	case preconditionAny:
		return true
	case preconditionVersion:
		return p.version == current
	}
	return false
}

// sql is p as a condition on the version column col (a trusted column name,
// never input), for the WHERE of the one conditional statement.
func (p Precondition) sql(col string) clause.Expr {
	switch p.kind {
	case preconditionAny:
		return clause.Expr{SQL: "TRUE"}
	case preconditionVersion:
		return clause.Expr{SQL: col + " = ?", Vars: []any{p.version}}
	}
	return clause.Expr{SQL: "FALSE"}
}

// check explains p against the current version, after authorization: 428
// when no version was given, 412 (with the current version) when it does not
// match, nil otherwise.
func (p Precondition) check(current int64) error {
	switch {
	case p.Matches(current):
		return nil
	case p.kind == preconditionMissing:
		return &Error{Kind: KindPreconditionRequired, Source: SourcePrecondition,
			Message: "this change needs an If-Match header with the ETag you last read, so nobody's edit is lost"}
	}
	return Stale(current)
}
