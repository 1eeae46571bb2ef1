package api

import (
	"bytes"
	"errors"
	"io"
	"math"
	"mime"
	"net"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/domain/valid"
)

// guardInput refuses, in one place for every operation, input the OpenAPI
// schema cannot rule out but that would otherwise fail later or be silently
// changed: parameters sent twice (lists accept both a,b and x=a&x=b),
// NaN and ±Infinity, text PostgreSQL cannot store (NUL, unpaired surrogates,
// invalid UTF-8), dates outside valid.Date's range and the nil UUID as an id.
// Each refusal is 422 naming the parameter or body member; nothing runs.
func (s *Server) guardInput(api huma.API) func(huma.Context, func(huma.Context)) {
	reg := api.OpenAPI().Components.Schemas
	return func(ctx huma.Context, next func(huma.Context)) {
		op := ctx.Operation()
		g := &guardedContext{humaContext: ctx, params: map[string]string{}}
		errs := g.checkParams(op)
		if op.RequestBody != nil && len(errs) == 0 {
			body, status, msg := readGuardedBody(ctx, op)
			if status != 0 {
				_ = huma.WriteErr(api, ctx, status, msg)
				return
			}
			g.body = body
			errs = checkBody(reg, bodySchema(op, ctx.Header("Content-Type")), body)
		}
		if len(errs) > 0 {
			_ = huma.WriteErr(api, ctx, http.StatusUnprocessableEntity, "validation failed", errs...)
			return
		}
		next(g)
	}
}

// guardedContext serves parameters as checked (lists joined) and the body
// already read.
type guardedContext struct {
	humaContext
	params map[string]string // "query:name" or "header:Name" -> value
	body   []byte
}

// Unwrap lets adapters reach the request underneath (humago.Unwrap).
func (g *guardedContext) Unwrap() huma.Context { return g.humaContext }

func (g *guardedContext) Query(name string) string {
	if v, ok := g.params["query:"+name]; ok {
		return v
	}
	return g.humaContext.Query(name)
}

func (g *guardedContext) Header(name string) string {
	if v, ok := g.params["header:"+http.CanonicalHeaderKey(name)]; ok {
		return v
	}
	return g.humaContext.Header(name)
}

func (g *guardedContext) BodyReader() io.Reader {
	if g.body != nil {
		return bytes.NewReader(g.body)
	}
	return g.humaContext.BodyReader()
}

// metaIDParams lists an operation's query parameters of type uuid.UUID,
// where the zero value means "not given": for them the nil UUID would be
// silently ignored, so it is refused (other id parameters, such as before
// and after, treat it as the position it is).
const metaIDParams = "idParams"

// idParams returns the query parameters of input type t (and the structs it
// embeds) whose type is uuid.UUID.
func idParams(t reflect.Type) []string {
	if t.Kind() != reflect.Struct {
		return nil
	}
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous {
			out = append(out, idParams(f.Type)...)
		} else if name := f.Tag.Get("query"); name != "" && f.Type == reflect.TypeFor[uuid.UUID]() {
			out = append(out, strings.Split(name, ",")[0])
		}
	}
	return out
}

// checkParams checks the declared query and header parameters.
func (g *guardedContext) checkParams(op *huma.Operation) []error {
	idNames, _ := op.Metadata[metaIDParams].([]string)
	u := g.URL()
	query := u.Query()
	headers := http.Header{}
	g.EachHeader(func(name, value string) { headers.Add(name, value) })
	var errs []error
	for _, p := range op.Parameters {
		var vals []string
		switch p.In {
		case "query":
			vals = query[p.Name]
		case "header":
			vals = headers.Values(p.Name)
		default:
			continue
		}
		if len(vals) == 0 {
			continue
		}
		loc := p.In + "." + p.Name
		isList := p.Schema != nil && p.Schema.Type == huma.TypeArray
		switch {
		case len(vals) > 1 && isList:
			g.params[p.In+":"+p.Name] = strings.Join(vals, ",")
		case len(vals) > 1 && p.In == "header" && strings.EqualFold(p.Name, "If-Match"):
			// RFC 9110 §5.3: field lines of a list header combine with commas.
			g.params["header:"+http.CanonicalHeaderKey(p.Name)] = strings.Join(vals, ", ")
		case len(vals) > 1:
			errs = append(errs, &huma.ErrorDetail{Location: loc, Value: vals,
				Message: "sent more than once; send it once (list parameters take a,b or repeat the parameter)"})
			continue
		}
		for _, v := range vals {
			msg := paramProblem(p.Schema, isList, v)
			if msg == "" && slices.Contains(idNames, p.Name) {
				msg = formatProblem("uuid", v)
			}
			if msg != "" {
				errs = append(errs, &huma.ErrorDetail{Location: loc, Message: msg, Value: sanitizeValue(v)})
				break
			}
		}
	}
	return errs
}

// paramProblem is what is wrong with one raw parameter value, or "".
func paramProblem(s *huma.Schema, isList bool, v string) string {
	if !valid.Text(v) {
		return "contains U+0000 or invalid UTF-8, which cannot be stored"
	}
	if s == nil {
		return ""
	}
	if isList && s.Items != nil {
		for _, item := range strings.Split(v, ",") {
			if msg := paramProblem(s.Items, false, item); msg != "" {
				return msg
			}
		}
		return ""
	}
	if s.Type == huma.TypeNumber || s.Type == huma.TypeInteger {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if (err == nil || errors.Is(err, strconv.ErrRange)) && (math.IsNaN(f) || math.IsInf(f, 0)) {
			return "must be a finite number (not NaN or Infinity)"
		}
		return ""
	}
	if s.Format == "uuid" {
		return "" // the nil UUID is refused only where it would mean "not given" (metaIDParams)
	}
	return formatProblem(s.Format, v)
}

// readGuardedBody reads the body as Huma would (deadline, size limit); a
// non-zero status is the error to answer.
func readGuardedBody(ctx huma.Context, op *huma.Operation) ([]byte, int, string) {
	if op.BodyReadTimeout > 0 {
		_ = ctx.SetReadDeadline(time.Now().Add(op.BodyReadTimeout))
	}
	r := ctx.BodyReader()
	if r == nil {
		return []byte{}, 0, ""
	}
	limit := op.MaxBodyBytes
	if limit <= 0 {
		limit = MaxBodyBytes
	}
	body, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, http.StatusRequestTimeout, "the request body took too long to arrive"
		}
		return nil, http.StatusBadRequest, "could not read the request body"
	}
	if int64(len(body)) > limit {
		return nil, http.StatusRequestEntityTooLarge, "request body is too large (limit " + strconv.FormatInt(limit, 10) + " bytes)"
	}
	return body, 0, ""
}

// bodySchema is the request schema for the sent media type, else the JSON
// one. Any body that parses as JSON is checked whatever its Content-Type
// says: Huma reads every "+json" type as JSON, declared or not.
func bodySchema(op *huma.Operation, contentType string) *huma.Schema {
	content := op.RequestBody.Content
	if mt, _, err := mime.ParseMediaType(contentType); err == nil && content[mt] != nil {
		return content[mt].Schema
	}
	if m := content["application/json"]; m != nil {
		return m.Schema
	}
	for _, m := range content {
		return m.Schema
	}
	return nil
}
