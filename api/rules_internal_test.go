package api

import (
	"reflect"
	"strings"
	"testing"
)

// TestFieldRuleRefusesSecondDeclarations: a rule tag naming no rule, or
// standing next to a tag that restates its bound, stops the server from
// starting (every test would fail), rather than leaving two declarations.
func TestFieldRuleRefusesSecondDeclarations(t *testing.T) {
	t.Parallel()
	type dto struct {
		Fine     string `json:"fine" rule:"goal.title"`
		Unknown  string `json:"unknown" rule:"goal.no_such_thing"`
		Restated string `json:"restated" rule:"goal.title" maxLength:"200"`
		Plain    string `json:"plain" maxLength:"10"`
	}
	typ := reflect.TypeFor[dto]()
	field := func(name string) reflect.StructField { f, _ := typ.FieldByName(name); return f }
	if r, ok := fieldRule(typ, field("Fine")); !ok || r.MaxLen != 200 || r.MinLen != 1 {
		t.Fatalf("Fine: %+v %v", r, ok)
	}
	if _, ok := fieldRule(typ, field("Plain")); ok {
		t.Fatal("Plain has no rule")
	}
	for name, want := range map[string]string{"Unknown": "no domain rule", "Restated": "restates rule"} {
		func() {
			defer func() {
				if msg, _ := recover().(string); !strings.Contains(msg, want) {
					t.Errorf("%s: panic %q, want it to say %q", name, msg, want)
				}
			}()
			fieldRule(typ, field(name))
		}()
	}
}
