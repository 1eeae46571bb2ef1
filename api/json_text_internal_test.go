package api

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"
)

func TestMarkUnstorable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, out string }{
		{`{"a":"ok"}`, `{"a":"ok"}`},
		{`{"a":"\ud83d\ude00"}`, `{"a":"\ud83d\ude00"}`}, // a pair is a character
		{`{"a":"\ud800"}`, `{"a":"\u0000"}`},
		{`{"a":"\udc00\ud800x"}`, `{"a":"\u0000\u0000x"}`},
		{`{"a":"\\ud800"}`, `{"a":"\\ud800"}`}, // an escaped backslash, then text
		{"{\"a\":\"\xff\"}", `{"a":"\u0000"}`},
		{`{"\ud800":1}`, `{"\u0000":1}`},
		{`"\ud800`, `"\u0000`}, // truncated documents stay truncated
	} {
		if got := string(markUnstorable([]byte(tc.in))); got != tc.out {
			t.Errorf("markUnstorable(%s) = %s, want %s", tc.in, got, tc.out)
		}
	}
}

func TestProblemWithNonFiniteValueEncodes(t *testing.T) {
	t.Parallel()
	p := newProblem(context.Background(), 422, "validation failed",
		&huma.ErrorDetail{Location: "query.lat", Message: "bad", Value: math.Inf(1)},
		&huma.ErrorDetail{Location: "query.lon", Message: "bad", Value: []any{math.NaN()}})
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatalf("problem does not encode: %v", err)
	}
	if !strings.Contains(string(b), `"+Inf"`) {
		t.Fatalf("value not kept as text: %s", b)
	}
}

// FuzzBodyText: marking never panics, keeps valid JSON valid, is idempotent,
// and the schema-less body check never panics and names body members.
func FuzzBodyText(f *testing.F) {
	for _, s := range []string{`{"a":"\ud800"}`, `{"a":["\udbff\udfff","\\\ud800"]}`, "\"\xed\xa0\x80\"", `{"a":{"b":"\u0000"}}`, `"\u`, `"\ud800\u`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		out := markUnstorable(b)
		if json.Valid(b) && !json.Valid(out) {
			t.Fatalf("%q became invalid JSON: %q", b, out)
		}
		if again := markUnstorable(out); !bytes.Equal(again, out) {
			t.Fatalf("not idempotent: %q -> %q -> %q", b, out, again)
		}
		for _, e := range checkBody(nil, nil, b) {
			if d, ok := e.(*huma.ErrorDetail); !ok || !strings.HasPrefix(d.Location, "body") {
				t.Fatalf("error %v does not name a body member", e)
			}
		}
	})
}
