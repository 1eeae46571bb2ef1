package api_test

import (
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/api/apitest"
)

// openapiOp is what the sweep needs of an operation in the served document.
type openapiOp struct {
	OperationID string `json:"operationId"`
	Parameters  []struct {
		Name string `json:"name"`
		In   string `json:"in"`
	} `json:"parameters"`
	RequestBody *struct {
		Content map[string]any `json:"content"`
	} `json:"requestBody"`
	Responses map[string]struct {
		Content map[string]any `json:"content"`
	} `json:"responses"`
}

type sweepCall struct {
	name    string
	path    string
	token   string
	body    any
	headers []string
}

// TestContractSweep calls every operation the ways clients get it wrong (no
// token, malformed ids, malformed, mistyped and oversized bodies, junk query
// values, missing and stale If-Match) as each kind of person. The harness
// checks every answer against openapi/openapi.yaml, so a status or media type
// an operation does not declare fails here; and nothing may be a 5xx.
func TestContractSweep(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	seedDirectory(t, e.Store)
	people := []apitest.User{e.Login("alice", "client"), e.Login("wanda", "worker"), e.Login("adam", "admin")}
	var doc struct {
		Paths map[string]map[string]openapiOp `json:"paths"`
	}
	e.Do(http.MethodGet, "/openapi.json", "", nil).Want(t, http.StatusOK).Decode(t, &doc)
	paths := make([]string, 0, len(doc.Paths))
	for p := range doc.Paths {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	calls := 0
	for _, path := range paths {
		for method, op := range doc.Paths[path] {
			method = strings.ToUpper(method)
			for _, c := range sweepCalls(path, method, op, people) {
				r := e.Do(method, c.path, c.token, c.body, c.headers...)
				calls++
				if r.Status >= 500 {
					t.Errorf("%s %s (%s, %s): %d %s", method, c.path, op.OperationID, c.name, r.Status, r.Body)
				}
			}
		}
	}
	if calls < 300 {
		t.Fatalf("only %d calls made: is the document served?", calls)
	}
}

// sweepCalls lists the calls for one operation. Event streams get only the
// calls that end at once (a valid call would stream until the test ends).
func sweepCalls(path, method string, op openapiOp, people []apitest.User) []sweepCall {
	_, secured := op.Responses["401"]
	streams := false
	if ok, has := op.Responses["200"]; has {
		_, streams = ok.Content["text/event-stream"]
	}
	var calls []sweepCall
	if secured {
		calls = append(calls, sweepCall{name: "no token", path: fill(path, "", apitest.User{})})
	}
	if streams {
		return calls
	}
	var query []string
	for _, p := range op.Parameters {
		if p.In == "query" {
			query = append(query, p.Name)
		}
	}
	ct := "application/json"
	if method == http.MethodPatch {
		ct = "application/merge-patch+json"
	}
	for _, u := range people {
		own := fill(path, "", u)
		calls = append(calls,
			sweepCall{name: "plain", path: own, token: u.Token, body: bodyFor(op, "{}")},
			sweepCall{name: "stale If-Match", path: own, token: u.Token, body: bodyFor(op, "{}"), headers: []string{"If-Match", `"1"`}},
			sweepCall{name: "If-Match *", path: own, token: u.Token, body: bodyFor(op, "{}"), headers: []string{"If-Match", "*"}},
		)
		if strings.Contains(path, "{") {
			calls = append(calls, sweepCall{name: "malformed id", path: fill(path, "not-a-uuid", u), token: u.Token, body: bodyFor(op, "{}")})
		}
		for _, q := range query {
			calls = append(calls, sweepCall{name: "junk " + q, path: own + "?" + q + "=%00junk%FF", token: u.Token})
		}
		if op.RequestBody != nil {
			calls = append(calls,
				sweepCall{name: "malformed body", path: own, token: u.Token, body: "{", headers: []string{"Content-Type", ct}},
				sweepCall{name: "wrong media type", path: own, token: u.Token, body: "title=x", headers: []string{"Content-Type", "text/plain"}},
				sweepCall{name: "body too large", path: own, token: u.Token, body: `{"title":"` + strings.Repeat("x", 1<<20) + `"}`},
				sweepCall{name: "array body", path: own, token: u.Token, body: "[]", headers: []string{"Content-Type", ct}},
			)
		}
	}
	return calls
}

// fill puts ids into path's parameters: bad when set, else the caller's own
// client record for clientId and fresh ids for the rest.
func fill(path, bad string, u apitest.User) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if !strings.HasPrefix(p, "{") {
			continue
		}
		switch {
		case bad != "":
			parts[i] = bad
		case p == "{clientId}" && u.ClientID != uuid.Nil:
			parts[i] = u.ClientID.String()
		default:
			parts[i] = uuid.NewString()
		}
	}
	return strings.Join(parts, "/")
}

func bodyFor(op openapiOp, body string) any {
	if op.RequestBody == nil {
		return nil
	}
	if slices.Contains([]string{"", "{}"}, body) {
		return map[string]any{}
	}
	return body
}
