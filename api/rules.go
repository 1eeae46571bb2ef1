package api

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/waypoint-portal/waypoint/domain"
)

// Enums and limits come from domain, declared once (domain.Rules; the few
// that are the API's own are in apiRules, bounds.go). A DTO
// field or parameter names the rule that constrains it in a rule tag,
//
//	Category string `json:"category,omitempty" rule:"goal.category"`
//
// and these hooks fill its schema (enum, minLength, maxLength, minimum,
// maximum, maxItems) from the declaration, so the OpenAPI document, Huma's
// request validation, the domain's own checks and the CHECK constraints of
// the migrations cannot drift apart. Constraints that are the API's alone
// (paging, sort orders, formats, cursors) stay ordinary struct tags.
const ruleTag = "rule"

// schemaRefPrefix is where Huma's default registry keeps named schemas.
const schemaRefPrefix = "#/components/schemas/"

// fieldRule is the rule a struct field names, if any.
func fieldRule(t reflect.Type, f reflect.StructField) (domain.Rule, bool) {
	name, ok := f.Tag.Lookup(ruleTag)
	if !ok {
		return domain.Rule{}, false
	}
	r, found := RuleByName(name)
	if !found {
		panic(fmt.Sprintf("%s.%s: no domain rule %q (see domain.Rules and apiRules)", t.Name(), f.Name, name))
	}
	// The tags a rule replaces: with both, there would be two declarations again.
	for _, tag := range []string{"enum", "minLength", "maxLength", "minimum", "maximum", "maxItems"} {
		if _, dup := f.Tag.Lookup(tag); dup {
			panic(fmt.Sprintf("%s.%s: the %s tag restates rule %q; declare the bound in domain only", t.Name(), f.Name, tag, name))
		}
	}
	return r, true
}

// applySchemaRules fills the rule-tagged properties of every schema in the
// registry. It runs once every operation is registered, so it sees every
// body and response type, including those of package hsds, which cannot
// implement Huma's interfaces (domain does not import Huma). Schemas are
// shared by pointer, so request validation uses what it fills.
func applySchemaRules(reg huma.Registry) {
	for name, s := range reg.Map() {
		t := reg.TypeFromRef(schemaRefPrefix + name)
		if t == nil || t.Kind() != reflect.Struct {
			continue
		}
		eachField(t, func(f reflect.StructField) {
			r, ok := fieldRule(t, f)
			if !ok {
				return
			}
			prop := s.Properties[jsonName(f)]
			if prop == nil {
				panic(fmt.Sprintf("%s.%s: rule %q on a field the schema does not have", t.Name(), f.Name, r.Name))
			}
			applyRule(prop, r)
		})
	}
}

// applyParamRules fills the schemas of the rule-tagged parameters of input
// type in, once o is registered (Huma builds parameter schemas from the
// field tags, outside the registry).
func applyParamRules(oapi *huma.OpenAPI, o huma.Operation, in reflect.Type) {
	var registered *huma.Operation
	if pi := oapi.Paths[o.Path]; pi != nil {
		registered = map[string]*huma.Operation{
			http.MethodGet: pi.Get, http.MethodPost: pi.Post, http.MethodPut: pi.Put,
			http.MethodPatch: pi.Patch, http.MethodDelete: pi.Delete,
		}[o.Method]
	}
	eachField(in, func(f reflect.StructField) {
		r, ok := fieldRule(in, f)
		if !ok {
			return
		}
		name, loc := paramOf(f)
		for _, p := range paramsOf(registered) {
			if p.Name == name && p.In == loc {
				applyRule(p.Schema, r)
				return
			}
		}
		panic(fmt.Sprintf("%s %s: rule %q on %s.%s, which is not a registered parameter", o.Method, o.Path, r.Name, in.Name(), f.Name))
	})
}

func paramsOf(op *huma.Operation) []*huma.Param {
	if op == nil {
		return nil
	}
	return op.Parameters
}

// paramOf reads a parameter field's name and location from its tags.
func paramOf(f reflect.StructField) (name, loc string) {
	for _, loc := range []string{"path", "query", "header", "cookie"} {
		if v, ok := f.Tag.Lookup(loc); ok {
			return strings.Split(v, ",")[0], loc
		}
	}
	return "", ""
}

// applyRule sets the bounds of rule r on schema s. For a list, MaxItems
// bounds the list and the other bounds apply to each item; a list of codes
// without a MaxItems of its own has at most one item per code.
func applyRule(s *huma.Schema, r domain.Rule) {
	target := s
	if s.Type == huma.TypeArray {
		target = s.Items
		if n := listBound(r); n > 0 {
			s.MaxItems = ptr(n)
		}
	} else if r.MaxItems > 0 {
		panic(fmt.Sprintf("rule %q bounds a list, but the schema is a %s", r.Name, s.Type))
	}
	if r.Enum != nil {
		target.Enum = make([]any, 0, len(r.Enum)+1)
		for _, v := range r.Enum {
			target.Enum = append(target.Enum, v)
		}
		// Under JSON Schema a nullable enum validates null only if it lists it.
		if target.Nullable {
			target.Enum = append(target.Enum, nil)
		}
	}
	if r.MinLen > 0 {
		target.MinLength = ptr(r.MinLen)
	}
	if r.MaxLen > 0 {
		target.MaxLength = ptr(r.MaxLen)
	}
	if r.Min != nil {
		target.Minimum = ptr(float64(*r.Min))
	}
	if r.Max != nil {
		target.Maximum = ptr(float64(*r.Max))
	}
	s.PrecomputeMessages()
}

// listBound is how many items rule r allows a list (0: r bounds no list).
func listBound(r domain.Rule) int {
	if r.MaxItems == 0 && r.Enum != nil {
		return len(r.Enum)
	}
	return r.MaxItems
}

// ListBound exposes listBound to the contract tests.
func ListBound(r domain.Rule) int { return listBound(r) }

// eachField calls fn for every exported field of struct type t, descending
// into embedded structs without a json name as Huma does.
func eachField(t reflect.Type, fn func(reflect.StructField)) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return
	}
	for i := range t.NumField() {
		f := t.Field(i)
		switch {
		case f.Anonymous && f.Tag.Get("json") == "":
			eachField(f.Type, fn)
		case f.IsExported():
			fn(f)
		}
	}
}

// jsonName is a field's member name in JSON.
func jsonName(f reflect.StructField) string {
	if n := strings.Split(f.Tag.Get("json"), ",")[0]; n != "" {
		return n
	}
	return f.Name
}
