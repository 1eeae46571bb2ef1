package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/domain"
)

const metaIdempotent = "idempotent"

// ReplayGuard runs before a stored response is replayed. A replay shows what
// the first request created, and the caller may have lost access since: the
// guard makes the check a fresh request would make (failing as it would) and
// writes the replay to the access log. body is the stored response's body.
type ReplayGuard func(ctx context.Context, hc huma.Context, body []byte) error

// Idempotent marks a creating POST as taking an Idempotency-Key and documents
// the header. The idempotency middleware does the work for every such
// operation; guard re-authorizes its replays, so none can be marked without
// one. (Exported for tests that register operations of their own.)
func Idempotent(o huma.Operation, guard ReplayGuard) huma.Operation {
	if guard == nil {
		panic("idempotent: operation " + o.OperationID + " needs a replay guard")
	}
	if o.Metadata == nil {
		o.Metadata = map[string]any{}
	}
	o.Metadata[metaIdempotent] = guard
	o.Parameters = append(o.Parameters, &huma.Param{
		Name: "Idempotency-Key", In: "header", Required: false,
		Description: "Unique key (1-255 visible ASCII characters) that makes a retry safe: the same key and body within 24 h replay " +
			"the first response byte for byte (with Idempotent-Replayed: true); the same key with another body is 422; " +
			"while the first request is still running, 409. Keys are scoped to the caller. " +
			"A replay is authorized like a fresh request (a caller who has lost access since gets the 404 or 403 a new request would) " +
			"and is recorded in the client's access log. " +
			"Only successful responses are kept: after an error nothing was created, and a retry with the same key runs again.",
		Schema:  &huma.Schema{Type: "string", MinLength: ptr(1), MaxLength: ptr(255)},
		Example: "2f1d8c1e-6b0a-4c1e-9b7e-3b8f0f6d2a11",
	})
	o.Errors = append(o.Errors, http.StatusConflict, http.StatusUnprocessableEntity)
	return o
}

func ptr[T any](v T) *T { return &v }

const metaKeptByWork = "idempotent-kept-by-work"

// KeptByWork marks an Idempotent operation whose handler makes one domain
// call that claims the key, does the work and keeps the response in ONE
// statement (domain.Keep): one round trip where a transaction took six, and
// no window in which the work committed but its response is not kept. The
// middleware hands the handler the claim (keepFor); the handler reports a
// key already used (replayKept), and the middleware answers with the
// replay. Only for operations whose handler passes keepFor to its domain
// call, which renders the response with it.
func KeptByWork(o huma.Operation) huma.Operation {
	if _, ok := o.Metadata[metaIdempotent].(ReplayGuard); !ok {
		panic("kept by work: operation " + o.OperationID + " is not Idempotent")
	}
	o.Metadata[metaKeptByWork] = true
	return o
}

const metaSecret = "idempotent-secret"

// ReplaySecret answers a replay of an operation marked IdempotentSecret:
// given the stored body (without the secret), it re-authorizes the caller
// and returns the body to send, with a fresh secret.
type ReplaySecret func(ctx context.Context, hc huma.Context, stored []byte) ([]byte, error)

type secretMember struct {
	name  string
	renew ReplaySecret
}

// IdempotentSecret is Idempotent for an operation whose answer carries a
// one-time secret that must never be stored (an invitation code): the
// stored response lacks body member name, and a replay answers with a
// fresh secret from renew, which also re-authorizes it; the first secret,
// which the caller never received, is void. Such replays are the same
// resource, but not the same bytes.
func IdempotentSecret(o huma.Operation, name string, renew ReplaySecret) huma.Operation {
	// renew authorizes the replay, so the guard has nothing left to check.
	o = Idempotent(o, func(context.Context, huma.Context, []byte) error { return nil })
	o.Metadata[metaSecret] = secretMember{name: name, renew: renew}
	return o
}

// withoutMember is a JSON object body without member name.
func withoutMember(body []byte, name string) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	delete(m, name)
	return json.Marshal(m)
}

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
	// hold keeps the response from the client until release: it must not
	// be sent before the transaction that did the work commits.
	hold bool
}

func (c *recordingContext) BodyReader() io.Reader { return c.body }
func (c *recordingContext) SetStatus(code int) {
	c.status = code
	if !c.hold {
		c.humaContext.SetStatus(code)
	}
}
func (c *recordingContext) SetHeader(name, value string) {
	c.headers.Set(name, value)
	if !c.hold {
		c.humaContext.SetHeader(name, value)
	}
}
func (c *recordingContext) AppendHeader(name, value string) {
	c.headers.Add(name, value)
	if !c.hold {
		c.humaContext.AppendHeader(name, value)
	}
}
func (c *recordingContext) BodyWriter() io.Writer {
	if c.hold {
		return &c.buf
	}
	return io.MultiWriter(c.humaContext.BodyWriter(), &c.buf)
}

// release sends a held response to the client, to ctx.
func (c *recordingContext) release(ctx huma.Context) {
	for name, vals := range c.headers {
		for _, v := range vals {
			ctx.AppendHeader(name, v)
		}
	}
	ctx.SetStatus(c.status)
	_, _ = ctx.BodyWriter().Write(c.buf.Bytes())
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
		guard, on := ctx.Operation().Metadata[metaIdempotent].(ReplayGuard)
		if !on || key == "" {
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
		if ctx.Operation().Metadata[metaKeptByWork] == true {
			s.keptByWork(api, ctx, next, guard, key, h.Sum(nil), body)
			return
		}

		token, stored, err := s.store.ClaimIdempotencyKey(ctx.Context(), person, key, h.Sum(nil))
		if err != nil {
			writeClaimError(api, ctx, err)
			return
		}
		if token == "" {
			replay(api, ctx, guard, stored)
			return
		}
		rec := &recordingContext{humaContext: ctx, body: bytes.NewReader(body), headers: http.Header{}}
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
		s.keepResponse(bg, ctx.Operation(), rec, person, key)
	}
}

// keptClaim is the Idempotency-Key of a KeptByWork request, as its
// handler gets it (keepFor) and reports back (replayKept).
type keptClaim struct {
	key  string
	hash []byte
	// hc and api render the kept response as Huma renders the handler's.
	hc  huma.Context
	api huma.API
	// kept: the last response rendered to keep; replay: the response an
	// earlier request with this key kept.
	kept, replay *domain.SavedOutcome
}

type keptClaimKey struct{}

// keptByWork is the idempotency middleware for a KeptByWork operation: the
// handler's domain call claims the key and keeps the response with its
// work; the response reaches the client only after it returns (committed),
// and a key already used is answered with its replay.
func (s *Server) keptByWork(api huma.API, ctx huma.Context, next func(huma.Context), guard ReplayGuard, key string, hash, body []byte) {
	k := &keptClaim{key: key, hash: hash, hc: ctx, api: api}
	rec := &recordingContext{humaContext: huma.WithValue(ctx, keptClaimKey{}, k), body: bytes.NewReader(body), headers: http.Header{}, hold: true}
	next(rec)
	switch {
	case k.replay != nil:
		replay(api, ctx, guard, k.replay)
		return
	case rec.status >= 200 && rec.status <= 299 && (k.kept == nil || k.kept.Code != rec.status || !bytes.Equal(k.kept.Body, rec.buf.Bytes())):
		// A replay would answer otherwise than this first response: a
		// defect of the operation (tests compare the two), said loudly.
		s.log.Error("kept response differs from the response sent", "operation", ctx.Operation().OperationID)
	case rec.status == http.StatusConflict:
		// The key's first request is still running, or the work is busy:
		// worth a retry soon, as writeClaimError says for other operations.
		rec.headers.Set("Retry-After", "1")
	}
	rec.release(ctx)
}

// keepFor is the domain.Keep a KeptByWork handler passes its domain call:
// nil without an Idempotency-Key. render gives the response's headers
// (besides Content-Type) and body for what the call creates; it is
// rendered with status as Huma renders a handler's response to this
// request.
func keepFor[T any](ctx context.Context, status int, render func(T) (http.Header, any)) *domain.Keep[T] {
	k, ok := ctx.Value(keptClaimKey{}).(*keptClaim)
	if !ok {
		return nil
	}
	return &domain.Keep[T]{Key: k.key, Hash: k.hash, Render: func(v T) (domain.SavedOutcome, error) {
		headers, body := render(v)
		out, err := k.render(status, headers, body)
		if err != nil {
			return domain.SavedOutcome{}, err
		}
		k.kept = &out
		return out, nil
	}}
}

// render is writeResponse's work (huma.go) for body with status: the
// negotiated content type, the API's transformers, its marshaller.
func (k *keptClaim) render(status int, headers http.Header, body any) (domain.SavedOutcome, error) {
	ct, err := k.api.Negotiate(k.hc.Header("Accept"))
	if err != nil {
		return domain.SavedOutcome{}, fmt.Errorf("negotiate the kept response: %w", err)
	}
	tv, err := k.api.Transform(k.hc, strconv.Itoa(status), body)
	if err != nil {
		return domain.SavedOutcome{}, fmt.Errorf("transform the kept response: %w", err)
	}
	var buf bytes.Buffer
	if err := k.api.Marshal(&buf, ct, tv); err != nil {
		return domain.SavedOutcome{}, fmt.Errorf("marshal the kept response: %w", err)
	}
	h := headers.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set("Content-Type", ct)
	return storedResponse{Status: status, Headers: h, Body: buf.Bytes()}.outcome()
}

// replayKept reports that a KeptByWork handler's key was already used:
// the middleware answers with saved (re-authorized) instead of the
// handler's response.
func replayKept(ctx context.Context, saved *domain.SavedOutcome) {
	if k, ok := ctx.Value(keptClaimKey{}).(*keptClaim); ok {
		k.replay = saved
	}
}

// writeClaimError answers a refused claim: 409 (in flight, with
// Retry-After) or 422 (the key was used for another request).
func writeClaimError(api huma.API, ctx huma.Context, err error) {
	var se huma.StatusError
	if errors.As(toHTTPError(ctx.Context(), err), &se) {
		if se.GetStatus() == http.StatusConflict {
			ctx.SetHeader("Retry-After", "1")
		}
		writeStatusError(api, ctx, se)
	}
}

// outcomeOf is a successful response as kept for replays, without the
// secret member of an IdempotentSecret operation.
func (s *Server) outcomeOf(op *huma.Operation, rec *recordingContext) (domain.SavedOutcome, error) {
	headers := rec.headers.Clone()
	headers.Del("X-Request-Id")
	body := rec.buf.Bytes()
	if sec, ok := op.Metadata[metaSecret].(secretMember); ok {
		var err error
		if body, err = withoutMember(body, sec.name); err != nil {
			return domain.SavedOutcome{}, err
		}
	}
	return storedResponse{Status: rec.status, Headers: headers, Body: body}.outcome()
}

// keepResponse stores a successful response for replays, without the
// secret member of an IdempotentSecret operation.
func (s *Server) keepResponse(ctx context.Context, op *huma.Operation, rec *recordingContext, person uuid.UUID, key string) {
	outcome, err := s.outcomeOf(op, rec)
	if err == nil {
		err = s.store.CompleteIdempotencyKey(ctx, person, key, outcome)
	}
	if err != nil {
		s.log.Error("store idempotent response", "error", err.Error())
	}
}

// replay answers with a stored response, once guard has authorized the
// caller as for a fresh request (else with the error a fresh request gets).
func replay(api huma.API, ctx huma.Context, guard ReplayGuard, saved *domain.SavedOutcome) {
	resp, err := storedResponseFrom(*saved)
	if err == nil {
		err = guard(ctx.Context(), ctx, resp.Body)
	}
	if sec, ok := ctx.Operation().Metadata[metaSecret].(secretMember); ok && err == nil {
		resp.Body, err = sec.renew(ctx.Context(), ctx, resp.Body)
	}
	if err != nil {
		var se huma.StatusError
		if errors.As(toHTTPError(ctx.Context(), err), &se) {
			writeStatusError(api, ctx, se)
		}
		return
	}
	resp.write(ctx)
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

// Replay guards, one per kind of creating operation.

// replayForClient guards POST /v1/clients/{clientId}/...: the client's shared
// plans must still be within the caller's reach.
func (s *Server) replayForClient(resource string) ReplayGuard {
	return func(ctx context.Context, hc huma.Context, body []byte) error {
		clientID, err := pathUUID(hc, "clientId")
		if err != nil {
			return err
		}
		return s.store.ReplayForClient(ctx, actorFrom(ctx), clientID, resource, storedID(body))
	}
}

// replayForCreatedGoal guards POST /v1/clients/{clientId}/goals: the goal
// it created must still be visible to the caller (it may be private now).
func (s *Server) replayForCreatedGoal(ctx context.Context, _ huma.Context, body []byte) error {
	goalID, err := uuid.Parse(storedID(body))
	if err != nil {
		return fmt.Errorf("stored goal response without an id: %w", err)
	}
	return s.store.ReplayForGoal(ctx, actorFrom(ctx), goalID)
}

// replayForGoal guards POST /v1/goals/{goalId}/...: the goal must still be
// visible to the caller.
func (s *Server) replayForGoal(ctx context.Context, hc huma.Context, _ []byte) error {
	goalID, err := pathUUID(hc, "goalId")
	if err != nil {
		return err
	}
	return s.store.ReplayForGoal(ctx, actorFrom(ctx), goalID)
}

// replayForConversation guards what was created in a conversation (the
// conversation itself when param is "", else the one in path parameter
// param): the caller must still take part.
func (s *Server) replayForConversation(param, resource string) ReplayGuard {
	return func(ctx context.Context, hc huma.Context, body []byte) error {
		id := storedID(body)
		convID, err := uuid.Parse(id)
		if param != "" {
			convID, err = pathUUID(hc, param)
		}
		if err != nil {
			return err
		}
		return s.store.ReplayForConversation(ctx, actorFrom(ctx), convID, resource, id)
	}
}

// replayForDirectory guards directory creations: the caller must still be
// allowed to change the directory.
func replayForDirectory(ctx context.Context, _ huma.Context, _ []byte) error {
	return domain.CheckDirectoryWrite(actorFrom(ctx))
}

func pathUUID(hc huma.Context, name string) (uuid.UUID, error) {
	id, err := uuid.Parse(hc.Param(name))
	if err != nil {
		return uuid.Nil, invalidInput("path."+name, "must be a UUID")
	}
	return id, nil
}

// storedID is the id of the resource a stored response created.
func storedID(body []byte) string {
	var b struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(body, &b)
	return b.ID
}
