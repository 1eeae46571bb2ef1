package api

import (
	"net/http"
	"reflect"
	"slices"
	"strconv"

	"github.com/danielgtaylor/huma/v2"
)

// metaAlsoAnswers lists success statuses an operation answers besides its default.
const metaAlsoAnswers = "also_answers"

// alsoAnswers declares success statuses o answers besides its default one
// (e.g. 201 as well as 200 for a membership PUT), with the same body and
// headers. Huma documents only the default status of an output's Status field.
func alsoAnswers(o huma.Operation, statuses ...int) huma.Operation {
	if o.Metadata == nil {
		o.Metadata = map[string]any{}
	}
	o.Metadata[metaAlsoAnswers] = statuses
	return o
}

// implicitErrors adds the error statuses the framework itself answers for
// what an operation's input has, so no operation can forget them: any
// parameter or body can fail validation (422); a body can also be malformed
// (400), too large (413) or of another media type (415).
func implicitErrors(o *huma.Operation, input reflect.Type) {
	params, body := inputShape(input)
	if params || body {
		o.Errors = appendMissing(o.Errors, http.StatusUnprocessableEntity)
	}
	if body {
		o.Errors = appendMissing(o.Errors, http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType)
	}
	slices.Sort(o.Errors)
	o.Errors = slices.Compact(o.Errors)
}

// inputShape reports whether input (a Huma input struct) has parameters and
// a body, looking into embedded structs as Huma does.
func inputShape(t reflect.Type) (params, body bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return false, false
	}
	for i := range t.NumField() {
		f := t.Field(i)
		switch {
		case f.Name == "Body" || f.Name == "RawBody":
			body = true
		case f.Tag.Get("path") != "" || f.Tag.Get("query") != "" || f.Tag.Get("header") != "":
			params = true
		case f.Anonymous:
			p, b := inputShape(f.Type)
			params, body = params || p, body || b
		}
	}
	return params, body
}

func appendMissing(list []int, codes ...int) []int {
	for _, c := range codes {
		if !slices.Contains(list, c) {
			list = append(list, c)
		}
	}
	return list
}

// declareAlsoAnswers copies the registered operation's default response to
// the statuses alsoAnswers asked for.
func declareAlsoAnswers(api huma.API, o huma.Operation) {
	statuses, _ := o.Metadata[metaAlsoAnswers].([]int)
	if len(statuses) == 0 {
		return
	}
	reg := registered(api, o.Method, o.Path)
	def := reg.Responses[strconv.Itoa(reg.DefaultStatus)]
	for _, st := range statuses {
		r := *def
		r.Description = http.StatusText(st)
		reg.Responses[strconv.Itoa(st)] = &r
	}
}

// registered returns the operation as stored in the OpenAPI document.
func registered(api huma.API, method, path string) *huma.Operation {
	item := api.OpenAPI().Paths[path]
	switch method {
	case http.MethodGet:
		return item.Get
	case http.MethodPost:
		return item.Post
	case http.MethodPut:
		return item.Put
	case http.MethodPatch:
		return item.Patch
	case http.MethodDelete:
		return item.Delete
	}
	panic("registered: unsupported method " + method)
}
