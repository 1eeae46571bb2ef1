package api

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"
)

// notModified answers a GET or HEAD whose If-None-Match lists the ETag of
// the 200 it would send with 304 (RFC 9110 §13.1.2): no body, the ETag and
// the other headers echoed. It decides at WriteHeader, with the handler's
// own headers in hand, so every operation that sets an ETag gets it without
// buffering, and streams (which carry no ETag) pass through. The handler
// still runs: a read by someone other than the client is access-logged
// whether or not the body travels.
func notModified(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inm := r.Header.Get("If-None-Match")
		if inm == "" || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(&notModifiedWriter{ResponseWriter: w, inm: inm}, r)
	})
}

type notModifiedWriter struct {
	http.ResponseWriter
	inm      string
	wrote    bool
	suppress bool
}

func (w *notModifiedWriter) WriteHeader(code int) {
	if w.wrote {
		return
	}
	w.wrote = true
	h := w.Header()
	if code == http.StatusOK && noneMatchHits(w.inm, h.Get("ETag")) {
		// RFC 9110 §15.4.5: the representation's own headers go, the
		// validators and caching headers stay.
		for _, k := range []string{"Content-Type", "Content-Length", "Content-Encoding", "Content-Disposition"} {
			h.Del(k)
		}
		w.suppress = true
		code = http.StatusNotModified
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *notModifiedWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if w.suppress {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// Flush keeps streaming handlers (which type-assert http.Flusher) flushing.
func (w *notModifiedWriter) Flush() {
	if !w.suppress {
		_ = http.NewResponseController(w.ResponseWriter).Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (w *notModifiedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// noneMatchHits reports whether If-None-Match inm matches etag, with the
// weak comparison RFC 9110 prescribes for it: "*" matches any current
// representation, otherwise the opaque tags are compared with W/ ignored.
func noneMatchHits(inm, etag string) bool {
	if etag == "" {
		return false
	}
	if strings.TrimSpace(inm) == "*" {
		return true
	}
	want := strings.TrimPrefix(etag, "W/")
	for rest := inm; ; {
		rest = strings.TrimLeft(rest, " \t,")
		if rest == "" {
			return false
		}
		rest = strings.TrimPrefix(rest, "W/")
		if !strings.HasPrefix(rest, `"`) {
			return false // malformed: match nothing, send the full response
		}
		end := strings.IndexByte(rest[1:], '"')
		if end < 0 {
			return false
		}
		if rest[:end+2] == want {
			return true
		}
		rest = rest[end+2:]
	}
}

// takesIfNoneMatch reports the operations documentNotModified gives
// If-None-Match: the GETs whose 200 carries an ETag.
func takesIfNoneMatch(op *huma.Operation) bool {
	return op != nil && op.Method == http.MethodGet && op.Responses["200"] != nil && op.Responses["200"].Headers["ETag"] != nil
}

// documentNotModified declares If-None-Match (bounded by boundDocument and
// boundIfNoneMatch), 304 and the 422 for an overlong If-None-Match on every
// GET whose 200 carries an ETag, whoever registered it (run after register).
func documentNotModified(oapi *huma.OpenAPI) {
	inm := huma.Param{
		Name: "If-None-Match", In: "header",
		Description: "ETags you hold (weak comparison, or *): if the current one is among them the answer is 304 with no body. " +
			"See docs/api-conventions.md.",
		Schema: &huma.Schema{Type: huma.TypeString},
	}
	for _, item := range oapi.Paths {
		op := item.Get
		if !takesIfNoneMatch(op) {
			continue
		}
		p := inm // inline: the rule checks read each parameter's name
		p.Schema = &huma.Schema{Type: huma.TypeString}
		op.Parameters = append(op.Parameters, &p)
		op.Responses["304"] = &huma.Response{
			Description: "Not Modified: the If-None-Match ETag is current; keep your copy",
			Headers:     map[string]*huma.Param{"ETag": op.Responses["200"].Headers["ETag"]},
		}
		if op.Responses["422"] == nil {
			invalid := cloneResponse(op.Responses["500"])
			invalid.Description = http.StatusText(http.StatusUnprocessableEntity)
			op.Responses["422"] = invalid
		}
	}
}

// boundIfNoneMatch refuses an If-None-Match longer than its documented
// bound (422), on the operations that document it. Huma validates only the
// parameters of an operation's input type; this one is documentNotModified's.
func boundIfNoneMatch(api huma.API) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		if v := ctx.Header("If-None-Match"); utf8.RuneCountInString(v) > maxConditionalHeader && takesIfNoneMatch(ctx.Operation()) {
			writeError(api, ctx, invalidInput("header.If-None-Match", "expected length <= %d", maxConditionalHeader))
			return
		}
		next(ctx)
	}
}
