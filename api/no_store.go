package api

import (
	"net/http"

	"github.com/danielgtaylor/huma/v2"
)

const noStoreValue = "no-store"

// noStore gives every response of every operation, errors included,
// Cache-Control: no-store, and keeps handlers from weakening it. Most carry
// a person's data (goals, messages, profile); the directory's do not, but
// what a person looks up there (a search for a shelter near a place, the
// listing of a treatment service) tells as much about them, and Waypoint is
// used on shared computers in libraries and shelters: no browser or proxy
// cache may keep any of it. Responses outside the operations (unrouted
// paths, the address limit) get the same from writeProblem.
func noStore(ctx huma.Context, next func(huma.Context)) {
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
// response of every operation in the OpenAPI document.
func documentNoStore(oapi *huma.OpenAPI) {
	if oapi.Components.Headers == nil {
		oapi.Components.Headers = map[string]*huma.Header{}
	}
	oapi.Components.Headers["NoStore"] = &huma.Header{
		Description: "Always no-store: the response carries a person's data, or shows what they looked for, which no cache may keep",
		Schema:      &huma.Schema{Type: huma.TypeString, Enum: []any{noStoreValue}},
	}
	for _, item := range oapi.Paths {
		for _, op := range []*huma.Operation{item.Get, item.Put, item.Post, item.Delete, item.Patch} {
			if op == nil {
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
