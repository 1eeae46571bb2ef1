package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"

	"github.com/waypoint-portal/waypoint/domain"
)

// Problem is an RFC 9457 problem details object. request_id is an extension
// member so a user can quote it to support; the same id is in X-Request-Id
// and in the request's log line.
type Problem struct {
	Type      string         `json:"type" format:"uri-reference" rule:"problem.type" example:"/problems/validation-failed" doc:"A URI reference identifying the problem type: a page under /problems/ that says what it means and what to do, or about:blank when the status code says it all (RFC 9457)"`
	Title     string         `json:"title" rule:"problem.title" example:"Unprocessable Entity" doc:"Short summary of the problem type"`
	Status    int            `json:"status" rule:"problem.status" example:"422" doc:"HTTP status code"`
	Detail    string         `json:"detail,omitempty" rule:"problem.text" example:"validation failed" doc:"Explanation specific to this occurrence"`
	Instance  string         `json:"instance,omitempty" format:"uri-reference" rule:"problem.instance" doc:"URI reference identifying this occurrence"`
	RequestID string         `json:"request_id,omitempty" rule:"request_id" example:"01936f5e-6c1a-7b3e-9d2f-3a4b5c6d7e8f" doc:"Request id, also in the X-Request-Id header and the server log"`
	Errors    []*ErrorDetail `json:"errors,omitempty" rule:"problem.errors" doc:"Individual errors, each naming the failing location (e.g. body.title, query.limit); the first 100"`
}

// ErrorDetail is one failing input of a problem: Huma's ErrorDetail with
// the problem's bounds (the members are the same).
type ErrorDetail struct {
	Message  string `json:"message,omitempty" rule:"problem.text" doc:"Error message text"`
	Location string `json:"location,omitempty" rule:"problem.location" doc:"Where the error occurred, e.g. 'body.items[3].tags' or 'path.thing-id'"`
	Value    any    `json:"value,omitempty" doc:"The value at the given location"`
}

func (p *Problem) Error() string  { return p.Detail }
func (p *Problem) GetStatus() int { return p.Status }

// ContentType makes JSON errors application/problem+json.
func (p *Problem) ContentType(ct string) string {
	if ct == "application/json" || ct == "" {
		return "application/problem+json"
	}
	return ct
}

// problemTypeBlank is RFC 9457's type for a problem that the status code
// describes; always sent, so clients can rely on the member being there.
const problemTypeBlank = "about:blank"

var installErrors sync.Once

// installProblemErrors replaces Huma's error constructor, a package variable
// of Huma's, once per process. 5xx bodies carry only a generic message and the
// request id; the real cause is logged by the handler wrapper. It also makes
// Huma match body members exactly: by default its validator accepts "Title"
// for "title" (and encoding/json then fills the field), so POST took keys
// that PATCH, matching members exactly, ignored.
func installProblemErrors() {
	installErrors.Do(func() {
		huma.ValidateStrictCasing = true
		huma.NewErrorWithContext = func(hctx huma.Context, status int, msg string, errs ...error) huma.StatusError {
			var ctx context.Context
			if hctx != nil {
				ctx = hctx.Context()
			}
			return newProblem(ctx, status, msg, errs...)
		}
		huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
			return newProblem(context.Background(), status, msg, errs...)
		}
	})
}

// newProblem builds every problem the API sends. Its members are cut to
// their documented bounds (apiRules): messages may quote what a request
// carried (a path, a member name), which nothing else bounds.
func newProblem(ctx context.Context, status int, msg string, errs ...error) *Problem {
	p := newProblemUncut(ctx, status, msg, errs...)
	p.Title, p.Detail = cut(p.Title, maxProblemTitle), cut(p.Detail, maxProblemText)
	if len(p.Errors) > maxProblemErrors {
		p.Errors = p.Errors[:maxProblemErrors]
	}
	for _, e := range p.Errors {
		e.Message, e.Location = cut(e.Message, maxProblemText), cut(e.Location, maxProblemLocation)
	}
	return p
}

// cut shortens s to at most n characters (code points), ending with … when cut.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func newProblemUncut(ctx context.Context, status int, msg string, errs ...error) *Problem {
	p := &Problem{Type: problemType(status), Status: status, Title: http.StatusText(status), Detail: msg}
	if ctx != nil {
		if ri := requestInfoFrom(ctx); ri != nil {
			p.RequestID = ri.ID
			if status >= 500 && len(errs) > 0 {
				ri.Err = errors.Join(errs...)
			}
		}
	}
	// 5xx bodies never carry internal text; a 503's own message (ours, such
	// as "database unreachable") tells the caller what to wait for.
	switch {
	case status == http.StatusServiceUnavailable && msg == "":
		p.Detail = "The service is temporarily unavailable. Retry after the number of seconds in Retry-After " +
			"(a POST with the same Idempotency-Key is not applied twice)."
		return p
	case status == http.StatusServiceUnavailable:
		return p
	case status >= 500:
		p.Detail = "Something went wrong on our side. Nothing was changed unless the response said so; if it keeps happening, quote the request id."
		return p
	}
	for _, e := range errs {
		if e == nil {
			continue
		}
		var d huma.ErrorDetailer
		if errors.As(e, &d) {
			hd := d.ErrorDetail()
			p.Errors = append(p.Errors, &ErrorDetail{Message: hd.Message, Location: hd.Location, Value: sanitizeValue(hd.Value)})
		} else {
			p.Errors = append(p.Errors, &ErrorDetail{Message: e.Error()})
		}
	}
	return p
}

// toHTTPError maps a handler error to a problem. Domain errors become 4xx with
// the failing field; anything else is a 500 whose cause goes to the log only.
func toHTTPError(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	var se huma.StatusError
	if errors.As(err, &se) {
		return err
	}
	var bad *badInput
	if errors.As(err, &bad) {
		return newProblem(ctx, http.StatusUnprocessableEntity, bad.message,
			&huma.ErrorDetail{Message: bad.message, Location: bad.location})
	}
	de := domain.AsError(err)
	if de == nil {
		if errors.Is(err, context.Canceled) {
			// The client went away; there is nobody to answer.
			return newProblem(ctx, 499, "request cancelled")
		}
		if ri := requestInfoFrom(ctx); ri != nil {
			ri.Err = err
		}
		return newProblem(ctx, http.StatusInternalServerError, "")
	}
	var details []error
	if loc := location(de); loc != "" {
		details = append(details, &huma.ErrorDetail{Message: de.Message, Location: loc})
	}
	switch de.Kind {
	case domain.KindInvalid:
		return newProblem(ctx, http.StatusUnprocessableEntity, de.Message, details...)
	case domain.KindNotFound:
		return newProblem(ctx, http.StatusNotFound, de.Message, details...)
	case domain.KindForbidden:
		return newProblem(ctx, http.StatusForbidden, de.Message, details...)
	case domain.KindConflict:
		return newProblem(ctx, http.StatusConflict, de.Message, details...)
	case domain.KindPreconditionRequired:
		return newProblem(ctx, http.StatusPreconditionRequired, de.Message, details...)
	case domain.KindUnavailable:
		// An outage, not a bug: tell the caller when to come back.
		if ri := requestInfoFrom(ctx); ri != nil {
			ri.Err = err
		}
		return databaseUnavailable(ctx)
	case domain.KindTooManyRequests:
		return huma.ErrorWithHeaders(newProblem(ctx, http.StatusTooManyRequests, de.Message, details...),
			http.Header{"Retry-After": []string{strconv.Itoa(max(1, de.RetryAfter))}})
	case domain.KindPreconditionFailed:
		p := newProblem(ctx, http.StatusPreconditionFailed, de.Message, details...)
		return huma.ErrorWithHeaders(p, http.Header{"ETag": []string{etag(de.Version)}})
	default:
		return newProblem(ctx, http.StatusInternalServerError, "", fmt.Errorf("unmapped domain error kind %d: %w", de.Kind, err))
	}
}

// location spells the input a domain error names as the request part that
// carried it: body members, path and query parameters, headers.
func location(de *domain.Error) string {
	switch de.Source {
	case domain.SourceContent:
		if de.Field == "" {
			return "body"
		}
		return "body." + de.Field
	case domain.SourceTarget:
		return "path." + de.Field
	case domain.SourceSelection:
		return "query." + de.Field
	case domain.SourcePrecondition:
		return "header.If-Match"
	case domain.SourceRetryKey:
		return "header.Idempotency-Key"
	}
	return ""
}

// badInput is a 422 for input the api itself refuses before the domain
// sees it (a malformed id, a parameter combination), located as HTTP says.
type badInput struct{ location, message string }

func (e *badInput) Error() string { return e.message + " (" + e.location + ")" }

func invalidInput(location, format string, args ...any) error {
	return &badInput{location: location, message: fmt.Sprintf(format, args...)}
}

// retryAfterOutage is how long a caller should wait after a database outage:
// about how long a PostgreSQL failover or restart takes.
const retryAfterOutage = "5"

// databaseUnavailable is the answer while the database cannot be reached:
// 503 with Retry-After, so clients and load balancers back off and retry.
func databaseUnavailable(ctx context.Context) error {
	return huma.ErrorWithHeaders(newProblem(ctx, http.StatusServiceUnavailable, ""),
		http.Header{"Retry-After": []string{retryAfterOutage}})
}

// writeError answers a failure outside a handler (in middleware) exactly as
// handle would: mapped once by toHTTPError, headers included.
func writeError(api huma.API, ctx huma.Context, err error) {
	herr := toHTTPError(ctx.Context(), err)
	// The headers (Retry-After, ETag) wrap the problem, not the other way round.
	var he huma.HeadersError
	if errors.As(herr, &he) {
		for k, vs := range he.GetHeaders() {
			for _, v := range vs {
				ctx.AppendHeader(k, v)
			}
		}
	}
	var se huma.StatusError
	if errors.As(herr, &se) {
		writeStatusError(api, ctx, se)
	}
}

// logError records a 5xx cause with the request id; never sent to the client.
func logError(log *slog.Logger, ri *requestInfo) {
	if ri == nil || ri.Err == nil {
		return
	}
	log.Error("request failed", "request_id", ri.ID, "operation_id", ri.OperationID, "error", ri.Err.Error())
}

func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }
