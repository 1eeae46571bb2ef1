package api

import (
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"
)

// publicDirectoryPaths are the operations whose responses hold no person's
// data: the resource directory (reads and its maintenance).
var publicDirectoryPaths = []string{"/v1/services", "/v1/organizations", "/v1/locations", "/v1/taxonomy_terms"}

// privateData tells whether an operation's responses carry a person's data:
// every operation that needs a token, except the public directory. It is a
// property of the operation, not of its handler, so a new operation is
// private unless it lives in the directory.
func privateData(op *huma.Operation) bool {
	if _, secured := requiredScopes(op); !secured {
		return false
	}
	for _, p := range publicDirectoryPaths {
		if op.Path == p || strings.HasPrefix(op.Path, p+"/") {
			return false
		}
	}
	return true
}

const noStoreValue = "no-store"

// noStore gives every response of a private operation, errors included,
// Cache-Control: no-store (a shared or browser cache must not keep a
// client's goals, messages or profile), and keeps handlers from weakening it.
func noStore(ctx huma.Context, next func(huma.Context)) {
	if !privateData(ctx.Operation()) {
		next(ctx)
		return
	}
	ctx.SetHeader("Cache-Control", noStoreValue)
	next(noStoreContext{ctx})
}

type noStoreContext struct{ humaContext }

func (c noStoreContext) SetHeader(name, value string) {
	if http.CanonicalHeaderKey(name) != "Cache-Control" {
		c.humaContext.SetHeader(name, value)
	}
}

func (c noStoreContext) AppendHeader(name, value string) {
	if http.CanonicalHeaderKey(name) != "Cache-Control" {
		c.humaContext.AppendHeader(name, value)
	}
}

// Unwrap lets adapters reach the request underneath (humago.Unwrap).
func (c noStoreContext) Unwrap() huma.Context { return c.humaContext }

// documentNoStore adds the header, one shared definition, to every
// response of every private operation in the OpenAPI document.
func documentNoStore(oapi *huma.OpenAPI) {
	if oapi.Components.Headers == nil {
		oapi.Components.Headers = map[string]*huma.Header{}
	}
	oapi.Components.Headers["NoStore"] = &huma.Header{
		Description: "Always no-store: the response carries a person's data, which no cache may keep",
		Schema:      &huma.Schema{Type: huma.TypeString, Enum: []any{noStoreValue}},
	}
	for _, item := range oapi.Paths {
		for _, op := range []*huma.Operation{item.Get, item.Put, item.Post, item.Delete, item.Patch} {
			if op == nil || !privateData(op) {
				continue
			}
			for _, r := range op.Responses {
				if r.Headers == nil {
					r.Headers = map[string]*huma.Param{}
				}
				r.Headers["Cache-Control"] = &huma.Header{Ref: "#/components/headers/NoStore"}
			}
		}
	}
}
