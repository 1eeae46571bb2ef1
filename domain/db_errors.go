package domain

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
)

// SQLSTATE codes the domain translates (PostgreSQL appendix A).
const (
	pgUntranslatable   = "22P05" // a character with no equivalent in the server encoding
	pgBadEncoding      = "22021" // invalid byte sequence, e.g. a NUL in text
	pgUniqueViolation  = "23505"
	pgForeignKey       = "23503"
	pgCheckViolation   = "23514"
	pgQueryCanceled    = "57014" // statement_timeout, or a cancel request
	pgNoChange         = "WP001" // waypoint_changed(0): a one-statement change that changes nothing
	unstorableTextHint = "the request contains a character that cannot be stored (U+0000 or another control character)"
)

// AsError is the one translation of persistence failures into domain errors,
// so callers never look at driver types: an outage (and a statement that ran
// out of time) is KindUnavailable; text PostgreSQL cannot store and a
// violated CHECK are KindInvalid; unique and foreign-key violations are
// KindConflict. A domain error is returned as is; anything else (a bug, a
// cancelled context) is nil, for the caller to treat as internal. Operations
// that can say more (which field, which relation) map the codes themselves
// before returning, as directoryError does.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var de *Error
	if errors.As(err, &de) {
		return de
	}
	if Unavailable(err) {
		return &Error{Kind: KindUnavailable, Message: "the database cannot be reached", cause: err}
	}
	switch pgCode(err) {
	case pgBadEncoding, pgUntranslatable:
		// The statement failed before anything was written: the input is at fault.
		return &Error{Kind: KindInvalid, Message: unstorableTextHint, cause: err}
	case pgCheckViolation:
		return &Error{Kind: KindInvalid, Message: "a value is outside what is allowed", cause: err}
	case pgUniqueViolation:
		return &Error{Kind: KindConflict, Message: "this already exists", cause: err}
	case pgForeignKey:
		return &Error{Kind: KindConflict, Message: "something this refers to was removed, or something still refers to it", cause: err}
	case pgQueryCanceled:
		return &Error{Kind: KindUnavailable, Message: "the database took too long to answer", cause: err}
	}
	return nil
}

// pgCode is the SQLSTATE of err, or "" when it is not a PostgreSQL error.
func pgCode(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}
