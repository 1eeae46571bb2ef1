package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/danielgtaylor/huma/v2"
)

const metaIdempotent = "idempotent"

// idempotent marks a creating POST as taking an Idempotency-Key and documents
// the header. The idempotency middleware does the work for every such operation.
func idempotent(o huma.Operation) huma.Operation {
	if o.Metadata == nil {
		o.Metadata = map[string]any{}
	}
	o.Metadata[metaIdempotent] = true
	o.Parameters = append(o.Parameters, &huma.Param{
		Name: "Idempotency-Key", In: "header", Required: false,
		Description: "Unique key (1-255 visible ASCII characters) that makes a retry safe: the same key and body within 24 h replay " +
			"the first response byte for byte (with Idempotent-Replayed: true); the same key with another body is 422; " +
			"while the first request is still running, 409. Keys are scoped to the caller. " +
			"Only successful responses are kept: after an error nothing was created, and a retry with the same key runs again.",
		Schema:  &huma.Schema{Type: "string", MinLength: ptr(1), MaxLength: ptr(255)},
		Example: "2f1d8c1e-6b0a-4c1e-9b7e-3b8f0f6d2a11",
	})
	o.Errors = append(o.Errors, http.StatusConflict, http.StatusUnprocessableEntity)
	return o
}

func ptr[T any](v T) *T { return &v }

// humaContext lets recordingContext embed huma.Context (whose Context method
// would otherwise clash with the embedded field's name).
type humaContext huma.Context

// recordingContext passes everything through to the real context while
// keeping a copy of the response, so it can be stored for replay.
type recordingContext struct {
	humaContext
	body    *bytes.Reader
	status  int
	headers http.Header
	buf     bytes.Buffer
}

func (c *recordingContext) BodyReader() io.Reader { return c.body }
func (c *recordingContext) SetStatus(code int) {
	c.status = code
	c.humaContext.SetStatus(code)
}
func (c *recordingContext) SetHeader(name, value string) {
	c.headers.Set(name, value)
	c.humaContext.SetHeader(name, value)
}
func (c *recordingContext) AppendHeader(name, value string) {
	c.headers.Add(name, value)
	c.humaContext.AppendHeader(name, value)
}
func (c *recordingContext) BodyWriter() io.Writer {
	return io.MultiWriter(c.humaContext.BodyWriter(), &c.buf)
}

func validIdempotencyKey(k string) bool {
	if len(k) < 1 || len(k) > 255 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// idempotency runs after authentication: keys are scoped to the person.
func (s *Server) idempotency(api huma.API) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		key := ctx.Header("Idempotency-Key")
		if on, _ := ctx.Operation().Metadata[metaIdempotent].(bool); !on || key == "" {
			next(ctx)
			return
		}
		if !validIdempotencyKey(key) {
			_ = huma.WriteErr(api, ctx, http.StatusUnprocessableEntity, "invalid Idempotency-Key",
				&huma.ErrorDetail{Location: "header.Idempotency-Key", Message: "must be 1-255 visible ASCII characters"})
			return
		}
		body, err := io.ReadAll(io.LimitReader(ctx.BodyReader(), MaxBodyBytes+1))
		if err != nil {
			_ = huma.WriteErr(api, ctx, http.StatusBadRequest, "could not read the request body")
			return
		}
		if len(body) > MaxBodyBytes {
			_ = huma.WriteErr(api, ctx, http.StatusRequestEntityTooLarge, "request body is too large (limit "+strconv.Itoa(MaxBodyBytes)+" bytes)")
			return
		}
		u := ctx.URL()
		h := sha256.New()
		io.WriteString(h, ctx.Method()+" "+u.Path+"?"+u.RawQuery+"\n")
		h.Write(body)
		person := actorFrom(ctx.Context()).PersonID

		token, stored, err := s.store.ClaimIdempotencyKey(ctx.Context(), person, key, h.Sum(nil))
		if err != nil {
			var se huma.StatusError
			if errors.As(toHTTPError(ctx.Context(), err), &se) {
				if se.GetStatus() == http.StatusConflict {
					ctx.SetHeader("Retry-After", "1")
				}
				writeStatusError(api, ctx, se)
			}
			return
		}
		if token == "" {
			resp, err := storedResponseFrom(*stored)
			if err != nil {
				writeError(api, ctx, err)
				return
			}
			resp.replay(ctx)
			return
		}
		rec := &recordingContext{humaContext: huma.WithValue(ctx, idempotencyTokenKey{}, token), body: bytes.NewReader(body), headers: http.Header{}}
		bg := context.WithoutCancel(ctx.Context())
		finished := false
		defer func() {
			if !finished {
				// A panic: let the retry run again rather than wait out the claim.
				if err := s.store.ReleaseIdempotencyKey(bg, person, key); err != nil {
					s.log.Error("release idempotency key", "error", err.Error())
				}
			}
		}()
		next(rec)
		finished = true
		if rec.status < 200 || rec.status > 299 {
			// Only a success is kept for replay. After a failure nothing was
			// created, so the retry (perhaps with a corrected body) runs again.
			if err := s.store.ReleaseIdempotencyKey(bg, person, key); err != nil {
				s.log.Error("release idempotency key", "error", err.Error())
			}
			return
		}
		rec.headers.Del("X-Request-Id")
		outcome, err := storedResponse{Status: rec.status, Headers: rec.headers, Body: rec.buf.Bytes()}.outcome()
		if err == nil {
			err = s.store.CompleteIdempotencyKey(bg, person, key, outcome)
		}
		if err != nil {
			s.log.Error("store idempotent response", "error", err.Error())
		}
	}
}

type idempotencyTokenKey struct{}

// idempotencyToken names the Idempotency-Key claim the request runs under
// ("" without a key). Handlers that record it with their work can recognise
// a re-run after a crash between their commit and the stored response.
func idempotencyToken(ctx context.Context) string {
	t, _ := ctx.Value(idempotencyTokenKey{}).(string)
	return t
}

func writeStatusError(api huma.API, ctx huma.Context, se huma.StatusError) {
	var he huma.HeadersError
	if errors.As(se, &he) {
		for k, vs := range he.GetHeaders() {
			for _, v := range vs {
				ctx.AppendHeader(k, v)
			}
		}
	}
	ct := "application/problem+json"
	ctx.SetHeader("Content-Type", ct)
	ctx.SetStatus(se.GetStatus())
	_ = api.Marshal(ctx.BodyWriter(), ct, se)
}
