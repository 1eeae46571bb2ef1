package api

import (
	"net/url"
	"strconv"

	"github.com/danielgtaylor/huma/v2"
)

// nexter is a list body that knows its next page: the query parameter that
// selects it and its value, "" on the last page.
type nexter interface {
	nextPage() (param, value string)
}

func (p Page[T]) nextPage() (string, string) { return "cursor", p.NextCursor }

func (p TaxonomyTermPage) nextPage() (string, string) { return hsdsNext(p.LastPage, p.PageNumber) }

func (p ServicePage) nextPage() (string, string) { return hsdsNext(p.LastPage, p.PageNumber) }

func hsdsNext(last bool, page int) (string, string) {
	if last {
		return "page", ""
	}
	return "page", strconv.Itoa(page + 1)
}

// nextLink is the RFC 8288 Link header value pointing at the page after
// this one: the request's own path and query (every filter kept) with only
// the page parameter replaced, as a relative reference so it works behind
// any host name. "" when there is no next page.
func nextLink(u url.URL, n nexter) string {
	param, value := n.nextPage()
	if value == "" {
		return ""
	}
	q := u.Query()
	q.Set(param, value)
	return "<" + u.EscapedPath() + "?" + q.Encode() + `>; rel="next"`
}

// linkNextTransformer sets Link on every list response, whichever operation
// returns it: a new list gets the header by returning a Page.
func linkNextTransformer(ctx huma.Context, status string, v any) (any, error) {
	if n, ok := v.(nexter); ok && status == "200" {
		if l := nextLink(ctx.URL(), n); l != "" {
			ctx.SetHeader("Link", l)
		}
	}
	return v, nil
}

// documentLinks declares the Link header on the 200 of every list (a body
// with next_cursor or HSDS's last_page), whoever registered it.
func documentLinks(oapi *huma.OpenAPI) {
	if oapi.Components.Headers == nil {
		oapi.Components.Headers = map[string]*huma.Header{}
	}
	oapi.Components.Headers["LinkNext"] = &huma.Header{
		Description: `RFC 8288: <uri>; rel="next", the next page (this request's path and query with cursor, or HSDS page, advanced); ` +
			"absent on the last page. A relative reference: resolve it against the request URL.",
		Schema:  &huma.Schema{Type: huma.TypeString, MaxLength: ptr(4096)},
		Example: `</v1/clients/0193.../goals?cursor=eyJ...&limit=20>; rel="next"`,
	}
	for _, item := range oapi.Paths {
		if item.Get == nil || !isList(oapi, item.Get) {
			continue
		}
		r := item.Get.Responses["200"]
		if r.Headers == nil {
			r.Headers = map[string]*huma.Param{}
		}
		r.Headers["Link"] = &huma.Header{Ref: "#/components/headers/LinkNext"}
	}
}

// isList reports whether op's 200 JSON body is a page of a list.
func isList(oapi *huma.OpenAPI, op *huma.Operation) bool {
	r := op.Responses["200"]
	if r == nil || r.Content["application/json"] == nil || r.Content["application/json"].Schema == nil {
		return false
	}
	s := r.Content["application/json"].Schema
	if s.Ref != "" {
		s = oapi.Components.Schemas.SchemaFromRef(s.Ref)
	}
	if s == nil {
		return false
	}
	_, cursor := s.Properties["next_cursor"]
	_, hsds := s.Properties["last_page"]
	return cursor || hsds
}
