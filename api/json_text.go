package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/domain/valid"
)

// nul is what markUnstorable puts in place of text that cannot be stored.
var nul = []byte(`\u0000`)

// markUnstorable returns body with every unpaired UTF-16 surrogate escape
// ("\ud800") and every invalid UTF-8 byte inside a JSON string replaced by
// the escape \u0000. encoding/json would silently turn both into U+FFFD and
// PostgreSQL refuses them in jsonb; marked as NUL, one check ("no NUL in
// text") finds all three and can name the member. Outside strings invalid
// bytes make the document invalid JSON, which the parser reports.
func markUnstorable(b []byte) []byte {
	var out []byte
	last := 0
	mark := func(at, n int) {
		out = append(append(out, b[last:at]...), nul...)
		last = at + n
	}
	inString := false
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case !inString:
			inString = c == '"'
			i++
		case c == '"':
			inString = false
			i++
		case c == '\\':
			if i+1 >= len(b) || b[i+1] != 'u' {
				i += 2
				continue
			}
			r, ok := escapedRune(b, i)
			if !ok || !utf16.IsSurrogate(r) {
				i += 2
				continue
			}
			if lo, ok := escapedRune(b, i+6); ok && r < 0xdc00 && lo >= 0xdc00 && lo <= 0xdfff {
				i += 12 // a proper pair
				continue
			}
			mark(i, 6)
			i += 6
		case c < utf8.RuneSelf:
			i++
		default:
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n == 1 {
				mark(i, 1)
			}
			i += n
		}
	}
	if out == nil {
		return b
	}
	return append(out, b[last:]...)
}

// escapedRune reads the \uXXXX escape at b[i:].
func escapedRune(b []byte, i int) (rune, bool) {
	if i+6 > len(b) || b[i] != '\\' || b[i+1] != 'u' {
		return 0, false
	}
	v, err := strconv.ParseUint(string(b[i+2:i+6]), 16, 32)
	return rune(v), err == nil
}

// bodyChecker walks a decoded JSON body along its schema and collects, with
// the member's location, what the schema cannot say but storage needs: text
// without NUL (or what markUnstorable marked), dates and times in the range
// of valid.Date, and ids that are not the nil UUID.
type bodyChecker struct {
	reg  huma.Registry
	errs []error
}

func (c *bodyChecker) fail(path, msg string, v any) {
	c.errs = append(c.errs, &huma.ErrorDetail{Location: path, Message: msg, Value: v})
}

func (c *bodyChecker) resolve(s *huma.Schema) *huma.Schema {
	for i := 0; s != nil && s.Ref != "" && i < 32; i++ {
		s = c.reg.SchemaFromRef(s.Ref)
	}
	return s
}

func (c *bodyChecker) walk(s *huma.Schema, v any, path string) {
	s = c.resolve(s)
	switch v := v.(type) {
	case map[string]any:
		for k, item := range v {
			if !valid.Text(k) {
				c.fail(path, "a member name contains U+0000, an unpaired surrogate or invalid UTF-8", nil)
				continue
			}
			var child *huma.Schema
			if s != nil {
				child = s.Properties[k]
				if child == nil {
					child, _ = s.AdditionalProperties.(*huma.Schema)
				}
			}
			c.walk(child, item, path+"."+k)
		}
	case []any:
		var items *huma.Schema
		if s != nil {
			items = s.Items
		}
		for i, item := range v {
			c.walk(items, item, path+"["+strconv.Itoa(i)+"]")
		}
	case string:
		if !valid.Text(v) {
			c.fail(path, "contains U+0000, an unpaired surrogate or invalid UTF-8, which cannot be stored", nil)
			return
		}
		if s != nil {
			if msg := formatProblem(s.Format, v); msg != "" {
				c.fail(path, msg, v)
			}
		}
	}
}

// formatProblem applies the rules Huma's format check lacks; "" when fine or
// when the format check itself will complain.
func formatProblem(format, v string) string {
	switch format {
	case "date":
		if t, err := time.Parse(time.DateOnly, v); err == nil {
			if err := valid.Year(t); err != nil {
				return err.Error()
			}
		}
	case "date-time":
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			if err := valid.Year(t.UTC()); err != nil {
				return err.Error()
			}
		}
	case "uuid":
		if id, err := uuid.Parse(v); err == nil && id == uuid.Nil {
			return "the nil UUID (all zeros) names nothing: leave it out instead"
		}
	}
	return ""
}

// checkBody decodes body (after marking unstorable text) and checks it
// against s. A body that is not JSON is left to Huma's parser.
func checkBody(reg huma.Registry, s *huma.Schema, body []byte) []error {
	dec := json.NewDecoder(bytes.NewReader(markUnstorable(body)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil
	}
	c := &bodyChecker{reg: reg}
	c.walk(s, v, "body")
	return c.errs
}

// sanitizeValue makes an error detail's value safe to encode: JSON has no
// NaN or Infinity, and a problem that cannot be encoded would reach the
// client as a plain-text "error marshaling response".
func sanitizeValue(v any) any {
	if v == nil {
		return nil
	}
	if _, err := json.Marshal(v); err != nil {
		return strings.ToValidUTF8(fmt.Sprint(v), "\uFFFD")
	}
	return v
}
