package hsds

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/google/uuid"
)

// maxLocateDepth bounds how deep locate descends: real HSDS nests a few
// levels, and each level decodes its subtree again, so a hostile file nested
// thousands deep must not make reporting its error quadratic.
const maxLocateDepth = 32

// locate names the member of raw that does not decode into a t, as a
// FieldError path like "schedules[1].opens_at". encoding/json's type errors
// leave out array indexes, and errors from UnmarshalText (UUIDs, times) name
// no member at all. It returns nil when raw decodes, or when the fault is
// raw itself at the top (path "").
func locate(raw json.RawMessage, t reflect.Type, path string, depth int) *FieldError {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	err := json.Unmarshal(raw, reflect.New(t).Interface())
	if err == nil {
		return nil
	}
	if depth < maxLocateDepth {
		if fe := locateInside(raw, t, path, depth); fe != nil {
			return fe
		}
	}
	if path == "" {
		return nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		// The fault is deeper than locate looks: name the member as
		// encoding/json does (without indexes).
		return &FieldError{Field: path + "." + te.Field, Message: fmt.Sprintf("must be a %s, not a JSON %s", te.Type, te.Value)}
	}
	return &FieldError{Field: path, Message: describe(t, err)}
}

// locateInside looks for the failing member among raw's members or items.
func locateInside(raw json.RawMessage, t reflect.Type, path string, depth int) *FieldError {
	switch t.Kind() {
	case reflect.Struct:
		var members map[string]json.RawMessage
		if json.Unmarshal(raw, &members) != nil {
			return nil
		}
		for _, f := range reflect.VisibleFields(t) {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.Anonymous || !f.IsExported() || name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			m, ok := members[name]
			if !ok { // encoding/json also matches member names case-insensitively
				for k, v := range members {
					if strings.EqualFold(k, name) {
						m, ok = v, true
						break
					}
				}
			}
			if ok {
				if fe := locate(m, f.Type, joinPath(path, name), depth+1); fe != nil {
					return fe
				}
			}
		}
	case reflect.Slice:
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return nil
		}
		for i, it := range items {
			if fe := locate(it, t.Elem(), fmt.Sprintf("%s[%d]", path, i), depth+1); fe != nil {
				return fe
			}
		}
	}
	return nil
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// describe says what a member must be, in the words of the JSON it holds.
func describe(t reflect.Type, err error) string {
	switch t {
	case reflect.TypeFor[uuid.UUID]():
		return "must be a UUID"
	case reflect.TypeFor[time.Time]():
		return "must be an RFC 3339 date-time like 2025-11-01T09:00:00Z"
	}
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		return err.Error()
	}
	want := "a " + te.Type.String()
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		want = "an object"
	case reflect.Slice, reflect.Array:
		want = "an array"
	}
	return fmt.Sprintf("must be %s, not a JSON %s", want, te.Value)
}
