package domain

import (
	"errors"
	"fmt"
)

// Kind classifies domain errors; the API maps each kind to one HTTP status.
type Kind int

// Error kinds.
const (
	KindInvalid              Kind = iota + 1 // bad input: 422
	KindNotFound                             // missing or not visible to the actor: 404
	KindForbidden                            // visible, but the actor's role may not do this: 403
	KindConflict                             // state does not allow it (e.g. illegal transition): 409
	KindPreconditionFailed                   // stale version: 412
	KindPreconditionRequired                 // version missing: 428
	KindUnavailable                          // the database is unreachable or too slow; retry later: 503
	KindTooManyRequests                      // the actor tried too often; retry after RetryAfter: 429
)

// Source is which input of an operation an error is about, in the domain's
// words; the API spells each for its transport (body, path, query, header).
type Source uint8

// Sources of input.
const (
	SourceNone         Source = iota // the error is about no input in particular
	SourceContent                    // what the caller writes: the resource's fields
	SourceTarget                     // which resource the operation addresses (an id)
	SourceSelection                  // how a list is filtered, sorted and paged
	SourcePrecondition               // the version the caller last read
	SourceRetryKey                   // the key that makes a retry of a create safe
)

// Error is a failure the caller can act on. Message is safe to show to users.
type Error struct {
	Kind    Kind
	Message string
	// Source is the input at fault, SourceNone when none is.
	Source Source
	// Field is the path of the offending member within Source, e.g. "title",
	// "steps[2].title" or "stepId"; "" for the whole input.
	Field string
	// Version is the current version of the resource, set with KindPreconditionFailed.
	Version int64
	// RetryAfter is how many seconds to wait, set with KindTooManyRequests.
	RetryAfter int
	// cause is the persistence failure AsError translated, kept for the log.
	cause error
	// miss, on a NotFound for a record the request named, is settled after
	// the request's transaction (settleMiss: denied entry, revoked app).
	miss *miss
}

// Unwrap exposes the translated failure, for logging and errors.As.
func (e *Error) Unwrap() error { return e.cause }

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s (%s)", e.Message, e.Field)
	}
	return e.Message
}

// Errorf builds a domain error of the given kind.
func Errorf(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Invalid reports bad content at field ("" for the content as a whole).
func Invalid(field, format string, args ...any) *Error {
	return InvalidIn(SourceContent, field, format, args...)
}

// InvalidIn reports bad input at field of src.
func InvalidIn(src Source, field, format string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Source: src, Field: field, Message: fmt.Sprintf(format, args...)}
}

// NotFound reports that what does not exist or is not visible.
func NotFound(what string) *Error {
	return &Error{Kind: KindNotFound, Message: what + " not found"}
}

// Forbidden reports an action the actor's role does not allow on a visible resource.
func Forbidden(format string, args ...any) *Error {
	return &Error{Kind: KindForbidden, Message: fmt.Sprintf(format, args...)}
}

// Stale reports that the If-Match version is not the current one.
func Stale(current int64) *Error {
	return &Error{Kind: KindPreconditionFailed, Version: current,
		Message: "the resource was changed by someone else; fetch it again and reapply your change"}
}

// IsKind reports whether err is a domain error of kind k.
func IsKind(err error, k Kind) bool {
	var de *Error
	return errors.As(err, &de) && de.Kind == k
}
