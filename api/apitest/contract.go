package apitest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	verrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi-validator/helpers"
	"github.com/pb33f/libopenapi-validator/paths"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
	"github.com/pb33f/libopenapi/orderedmap"
)

// Contract checks responses against the committed OpenAPI document
// (openapi/openapi.yaml, which `make check` keeps equal to what the server
// generates). libopenapi-validator is used because it reads OpenAPI 3.1 (what
// Huma emits) natively and compiles each schema once.
type Contract struct {
	v     validator.Validator
	model *v3.Document
}

// sharedContract builds the contract once per test binary: compiling every
// schema takes seconds. It is a memoised constant of a committed file that no
// test can change, not state tests share; passing it through every New call
// would buy nothing but noise.
var sharedContract = sync.OnceValues(func() (*Contract, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return nil, errors.New("locate the apitest package")
	}
	return LoadContract(filepath.Join(filepath.Dir(file), "..", "..", "openapi", "openapi.yaml"))
})

// TheContract returns the committed contract, built once per test binary.
func TheContract(t testing.TB) *Contract {
	t.Helper()
	c, err := sharedContract()
	if err != nil {
		t.Fatalf("load the OpenAPI contract: %v", err)
	}
	return c
}

// LoadContract reads an OpenAPI document and prepares its validator.
func LoadContract(path string) (*Contract, error) {
	spec, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read contract: %w", err)
	}
	doc, err := libopenapi.NewDocument(spec)
	if err != nil {
		return nil, fmt.Errorf("parse contract: %w", err)
	}
	m, err := doc.BuildV3Model()
	if err != nil {
		return nil, fmt.Errorf("build contract model: %w", err)
	}
	v := validator.NewValidatorFromV3Model(&m.Model, config.WithFormatAssertions())
	return &Contract{v: v, model: &m.Model}, nil
}

// Check says how a response breaks the contract, or nil. Responses to
// requests outside every operation of the document (unrouted paths, methods a
// path does not have, the docs pages) are exempt from the operation rules, but
// an error among them must still be an RFC 9457 problem. Event streams are
// checked for status and content type only (body is ignored); NDJSON bodies
// record by record against the declared record schema.
func (c *Contract) Check(r *http.Request, status int, h http.Header, body []byte) error {
	req := &http.Request{Method: r.Method, URL: r.URL, Header: r.Header, Host: r.Host}
	item, perrs, matched := paths.FindPath(req, c.model, nil)
	var op *v3.Operation
	if item != nil && len(perrs) == 0 {
		op = helpers.ExtractOperation(req, item)
	}
	if op == nil || op.Responses == nil {
		if status >= 400 {
			return checkProblem(status, h, body)
		}
		return nil
	}
	declared := op.Responses.Codes.GetOrZero(strconv.Itoa(status))
	if declared == nil {
		declared = op.Responses.Default
	}
	ct := h.Get("Content-Type")
	switch {
	case declared == nil:
		return fmt.Errorf("%s does not declare status %d", op.OperationId, status)
	case orderedmap.Len(declared.Content) == 0:
		if len(body) > 0 || ct != "" {
			return fmt.Errorf("%s declares its %d without content, but it has a body (%q)", op.OperationId, status, ct)
		}
		return nil
	}
	if _, ok := helpers.FindMediaType(declared.Content, ct); !ok {
		return fmt.Errorf("%s does not declare the media type %q for status %d", op.OperationId, ct, status)
	}
	mt, _, _ := mime.ParseMediaType(ct)
	records := [][]byte{body}
	switch mt {
	case "text/event-stream":
		return nil
	case "application/x-ndjson":
		records = bytes.FieldsFunc(body, func(r rune) bool { return r == '\n' })
	}
	var problems []string
	for _, rec := range records {
		res := &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(bytes.NewReader(rec)), Request: req}
		if ok, verrs := c.v.GetResponseBodyValidator().ValidateResponseBodyWithPathItem(req, res, item, matched); !ok {
			for _, e := range verrs {
				problems = append(problems, describe(e))
			}
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return errors.New(strings.Join(problems, "\n\t"))
}

func describe(e *verrors.ValidationError) string {
	s := e.Message
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	for _, f := range e.SchemaValidationErrors {
		s += "\n\t\t" + f.FieldPath + ": " + f.Reason
	}
	return s
}

// checkProblem requires an application/problem+json body whose status is the
// response's.
func checkProblem(status int, h http.Header, body []byte) error {
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	if mt != "application/problem+json" {
		return fmt.Errorf("a %d outside every operation must be application/problem+json, got %q", status, h.Get("Content-Type"))
	}
	var p struct {
		Status *int `json:"status"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return fmt.Errorf("a %d problem body is not a JSON object: %w", status, err)
	}
	if p.Status == nil {
		return fmt.Errorf("a %d problem body has no status", status)
	}
	if *p.Status != status {
		return fmt.Errorf("a %d problem body carries status %d", status, *p.Status)
	}
	return nil
}

// isStream reports an event stream, whose body never ends.
func isStream(h http.Header) bool {
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	return mt == "text/event-stream"
}

// Wrap checks every response h sends against the contract and fails t on any
// mismatch. It sits outside the whole server, so requests made by any client
// (Do, raw requests, event streams) are covered.
func (c *Contract) Wrap(t testing.TB, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cw := &contractWriter{ResponseWriter: w, c: c, t: t, r: r}
		h.ServeHTTP(cw, r)
		if !cw.wrote {
			cw.WriteHeader(http.StatusOK)
		}
		if !cw.stream {
			cw.report(c.Check(r, cw.status, cw.header, cw.body.Bytes()))
		}
	})
}

// contractWriter keeps the status, the headers as sent and the body.
type contractWriter struct {
	http.ResponseWriter
	c      *Contract
	t      testing.TB
	r      *http.Request
	wrote  bool
	stream bool
	status int
	header http.Header
	body   bytes.Buffer
}

func (w *contractWriter) WriteHeader(code int) {
	if w.wrote {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	if code >= 100 && code <= 199 {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	w.wrote, w.status, w.header = true, code, w.Header().Clone()
	if isStream(w.header) {
		w.stream = true
		w.report(w.c.Check(w.r, code, w.header, nil))
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *contractWriter) Write(p []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if !w.stream {
		w.body.Write(p)
	}
	return w.ResponseWriter.Write(p)
}

// Flush and Unwrap keep streaming and http.ResponseController working.
func (w *contractWriter) Flush() {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *contractWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *contractWriter) report(err error) {
	if err == nil {
		return
	}
	body := w.body.String()
	if len(body) > 2000 {
		body = body[:2000] + "…"
	}
	w.t.Errorf("response breaks openapi/openapi.yaml: %s %s -> %d %s\n\t%v\n\tbody: %s",
		w.r.Method, w.r.URL.RequestURI(), w.status, w.header.Get("Content-Type"), err, body)
}
