package hsds

import (
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"
)

// The members of the types in types.go name their Limit in a rule tag. Two
// walks over an object read those tags: checkLimits refuses a record whose
// text or lists are longer than declared (every Validate* starts with it, so
// imports and the API are held to the same limits), and TrimListed cuts the
// lists that no write can bound (Limit.Listed) to what reads may show.

// limitTable indexes Limits by name.
func limitTable() map[string]Limit {
	m := map[string]Limit{}
	for _, l := range Limits() {
		m[l.Name] = l
	}
	return m
}

// checkLimits reports the first member of v (a pointer to an HSDS object),
// or of anything it embeds, that is longer than its limit, by its path
// (e.g. "phones[2].number"). Lists marked Listed are not checked: reads bound them.
func checkLimits(v any) error {
	return walkLimits(limitTable(), reflect.ValueOf(v), "")
}

func walkLimits(limits map[string]Limit, v reflect.Value, path string) error {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return walkLimits(limits, v.Elem(), path)
	case reflect.Slice:
		for i := range v.Len() {
			if err := walkLimits(limits, v.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			p := memberName(f)
			if path != "" {
				p = path + "." + p
			}
			fv := v.Field(i)
			if l, ok := limits[f.Tag.Get("rule")]; ok {
				if err := l.check(fv, p); err != nil {
					return err
				}
			}
			if err := walkLimits(limits, fv, p); err != nil {
				return err
			}
		}
	}
	return nil
}

// check holds one member's value to l.
func (l Limit) check(v reflect.Value, path string) error {
	switch {
	case v.Kind() == reflect.String && l.MaxLen > 0:
		if n := utf8.RuneCountInString(v.String()); n > l.MaxLen {
			return fieldErr(path, "must be at most %d characters (has %d)", l.MaxLen, n)
		}
	case v.Kind() == reflect.Slice && l.MaxItems > 0 && !l.Listed:
		if n := v.Len(); n > l.MaxItems {
			return fieldErr(path, "must list at most %d items (has %d)", l.MaxItems, n)
		}
	}
	return nil
}

// TrimListed cuts every Listed list in v (a pointer to an HSDS object) and
// in what it embeds to its first MaxItems entries: what a read may show of
// an organization's locations and services and of a service's locations.
func TrimListed(v any) {
	trimListed(limitTable(), reflect.ValueOf(v))
}

func trimListed(limits map[string]Limit, v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			trimListed(limits, v.Elem())
		}
	case reflect.Slice:
		for i := range v.Len() {
			trimListed(limits, v.Index(i))
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f, fv := t.Field(i), v.Field(i)
			if !f.IsExported() {
				continue
			}
			if l, ok := limits[f.Tag.Get("rule")]; ok && l.Listed && fv.Kind() == reflect.Slice && fv.Len() > l.MaxItems {
				fv.Set(fv.Slice(0, l.MaxItems))
			}
			trimListed(limits, fv)
		}
	}
}

// memberName is a field's JSON member name.
func memberName(f reflect.StructField) string {
	if n := strings.Split(f.Tag.Get("json"), ",")[0]; n != "" {
		return n
	}
	return f.Name
}
