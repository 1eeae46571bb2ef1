package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/waypoint-portal/waypoint/api/apitest"
)

// The fuzz targets below drive the real server on real PostgreSQL. Each
// builds its world once, outside f.Fuzz (every fuzzing worker process gets
// its own database), and checks one property on every answer: a success, or
// a 4xx RFC 9457 problem that is valid JSON; never a 5xx, never a hang.
// `go test` runs the seeds (the f.Add calls and testdata/fuzz/<Name>/);
// scripts/fuzz.sh runs them for real.

// fuzzOp is an operation of the served document with its path filled in.
type fuzzOp struct {
	method, path, token string
	body                bool
	query               []string // declared query parameters
}

type fuzzWorld struct {
	e   *apitest.Env
	ops []fuzzOp
	// goal and client are the targets of FuzzMergePatch.
	goal, client string
}

// newFuzzWorld makes the people, a directory, a goal with a step, a referral,
// a conversation and a saved service, and lists every operation with real ids.
func newFuzzWorld(f *testing.F) *fuzzWorld {
	e := apitest.New(f)
	seedDirectory(f, e.Store)
	alice, adam := e.Login("alice", "client"), e.Login("adam", "admin")
	wanda := e.Login("wanda", "worker")
	client := "/v1/clients/" + alice.ClientID.String()
	e.Do(http.MethodPut, client+"/care-team/"+wanda.PersonID.String(), adam.Token, nil).Want(f, http.StatusCreated)
	var g goalView
	e.Do(http.MethodPost, client+"/goals", alice.Token, map[string]any{"title": "Find a home",
		"steps": []any{map[string]any{"title": "Call"}}}).Want(f, http.StatusCreated).Decode(f, &g)
	ref := e.Do(http.MethodPost, client+"/referrals", alice.Token, map[string]any{"service_id": svcBallard}).Want(f, http.StatusCreated).Map(f)
	conv := e.Do(http.MethodPost, "/v1/conversations", alice.Token, map[string]any{}).Want(f, http.StatusCreated).Map(f)
	e.Do(http.MethodPut, client+"/saved-services/"+svcBallard.String(), alice.Token, nil).Want(f, http.StatusCreated)
	inv := e.Do(http.MethodPost, client+"/supporter-invitations", alice.Token, map[string]any{"shares": []string{"goals"}}).
		Want(f, http.StatusCreated).Map(f)
	assessment := e.Do(http.MethodPost, client+"/assessments", alice.Token, map[string]any{"ratings": []any{
		map[string]any{"domain": "housing", "rating": 2, "priority": true}}}).Want(f, http.StatusCreated).Map(f)
	pk, pauth := pushKeys(f)
	params := map[string]string{
		"{invitationId}": inv["id"].(string), "{assessmentId}": assessment["id"].(string),
		"{clientId}": alice.ClientID.String(), "{goalId}": g.ID, "{stepId}": g.Steps[0].ID,
		"{referralId}": ref["id"].(string), "{conversationId}": conv["id"].(string),
		"{personId}": wanda.PersonID.String(), "{serviceId}": svcDowntown.String(),
		"{organizationId}": orgSeattle.String(), "{locationId}": locDowntown.String(), "{appId}": "some-app",
		"{subscriptionId}": e.Do(http.MethodPost, "/v1/me/push-subscriptions", alice.Token, subscriptionBody("https://push.example.org/fuzz", pk, pauth)).
			Want(f, http.StatusCreated).Map(f)["id"].(string),
		"{feedbackId}": e.Do(http.MethodPost, "/v1/services/"+svcDowntown.String()+"/feedback", alice.Token, map[string]any{"kind": "other"}).
			Want(f, http.StatusCreated).Map(f)["id"].(string),
	}
	maps.Copy(params, newGroupFixture(f, e, wanda, alice).params())
	w := &fuzzWorld{e: e, goal: "/v1/goals/" + g.ID, client: client}
	var spec struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
			Parameters  []struct {
				Name string `json:"name"`
				In   string `json:"in"`
			} `json:"parameters"`
			RequestBody json.RawMessage `json:"requestBody"`
		} `json:"paths"`
	}
	e.Do(http.MethodGet, "/openapi.json", "", nil).Want(f, http.StatusOK).Decode(f, &spec)
	for tmpl, item := range spec.Paths {
		for method, o := range item {
			if o.OperationID == "" {
				continue
			}
			path := tmpl
			for k, v := range params {
				path = strings.ReplaceAll(path, k, v)
			}
			if strings.Contains(path, "{") {
				f.Fatalf("%s %s: no fuzz value for a path parameter", method, tmpl)
			}
			op := fuzzOp{method: strings.ToUpper(method), path: path, token: alice.Token, body: o.RequestBody != nil}
			// Directory writes and care teams are the administrator's: with
			// alice they would stop at 403 before the interesting part.
			// Barrier reports are the clients' (alice's), the feedback queue the directory's.
			report := strings.HasSuffix(tmpl, "/feedback") && method == "post"
			if isDirectoryPath(tmpl) && method != "get" && !report || strings.Contains(tmpl, "/care-team/") || tmpl == "/v1/people" ||
				strings.HasPrefix(tmpl, "/v1/directory/") {
				op.token = adam.Token
			}
			for _, p := range o.Parameters {
				if p.In == "query" {
					op.query = append(op.query, p.Name)
				}
			}
			w.ops = append(w.ops, op)
		}
	}
	slices.SortFunc(w.ops, func(a, b fuzzOp) int { return strings.Compare(a.method+a.path, b.method+b.path) })
	return w
}

// pick returns the idx-th operation among those keep accepts.
func (w *fuzzWorld) pick(idx uint16, keep func(fuzzOp) bool) fuzzOp {
	var ops []fuzzOp
	for _, op := range w.ops {
		if keep(op) {
			ops = append(ops, op)
		}
	}
	return ops[int(idx)%len(ops)]
}

// queryText percent-encodes the bytes an HTTP request line cannot carry
// (spaces, controls, non-ASCII, '#'), keeping everything else as sent, so a
// fuzzed query reaches the handler instead of net/http's own 400.
func queryText(q string) string {
	var b strings.Builder
	for i := 0; i < len(q); i++ {
		c := q[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("#\"<>\\^`{|}", c) >= 0 {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// send makes one request and checks the property. Event streams are read
// only up to their headers.
func (w *fuzzWorld) send(t *testing.T, method, path, query, token, contentType string, body []byte, headers ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, w.e.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	req.URL.RawQuery = queryText(query)
	target := req.URL.RequestURI()
	req.Header.Set("Authorization", "Bearer "+token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer res.Body.Close()
	ct := res.Header.Get("Content-Type")
	var b []byte
	if !strings.HasPrefix(ct, "text/event-stream") {
		if b, err = io.ReadAll(res.Body); err != nil {
			t.Fatalf("%s %s: reading the answer: %v", method, target, err)
		}
	}
	checkAnswer(t, method+" "+target, res.StatusCode, ct, b)
}

// checkAnswer is the property every fuzz target asserts.
func checkAnswer(t *testing.T, what string, status int, contentType string, body []byte) {
	t.Helper()
	switch {
	case status >= 500:
		t.Fatalf("%s: %d %s", what, status, body)
	case status >= 400:
		var p struct {
			Status int `json:"status"`
		}
		if !strings.HasPrefix(contentType, "application/problem+json") || json.Unmarshal(body, &p) != nil || p.Status != status {
			t.Fatalf("%s: %d is not a problem+json with that status: %q %s", what, status, contentType, body)
		}
	case strings.HasPrefix(contentType, "application/json") && !json.Valid(body):
		t.Fatalf("%s: %d with invalid JSON: %s", what, status, body)
	}
}

// FuzzRequestBodies sends any bytes as the body of any operation that takes
// one (every body decoder: goals, steps, check-ins, profiles, referrals,
// conversations, messages, directory objects, care teams), as JSON or as a
// merge patch, with If-Match: * so preconditions do not stop it early.
func FuzzRequestBodies(f *testing.F) {
	for i, body := range []string{
		`{}`, `null`, `[]`, ``, `{"title":"x","target_date":"0000-01-01"}`, `{"title":"\ud800"}`,
		`{"Title":"x"}`, `{"position":2147483648}`, `{"contact_preferences":{"phone":"\u0000"}}`,
		`{"rating":1e400}`, `{"name":"x","status":"active","organization_id":"00000000-0000-0000-0000-000000000000"}`,
		`{"body":"hello"}`, `{"up_to":"01936f5e-6c1a-7b3e-9d2f-3a4b5c6d7e8f"}`, "{\"title\":\"\xff\"}",
		`{"schedules":[{"valid_from":"2027-01-01","valid_to":"2026-01-01"}]}`, `[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]`,
	} {
		f.Add(uint16(i), i%2 == 0, []byte(body))
	}
	w := newFuzzWorld(f)
	f.Fuzz(func(t *testing.T, idx uint16, mergePatch bool, body []byte) {
		op := w.pick(idx, func(o fuzzOp) bool { return o.body })
		ct := "application/json"
		if mergePatch {
			ct = "application/merge-patch+json"
		}
		w.send(t, op.method, op.path, "", op.token, ct, body, "If-Match", "*")
	})
}

// FuzzMergePatch aims at the two JSON Merge Patch decoders with nested
// semantics: a goal (null clears members) and a client profile
// (contact_preferences merged member by member in the database).
func FuzzMergePatch(f *testing.F) {
	for _, body := range []string{
		`{"title":"t"}`, `{"description":null}`, `{"strengths_used":null}`, `{"target_date":"9999-12-31"}`,
		`{"lifecycle_status":"completed"}`, `{"contact_preferences":null}`, `{"contact_preferences":{"phone":null}}`,
		`{"contact_preferences":{"best_times":"\ud800"}}`, `{"contact_preferences":{"channels":["sms","sms"]}}`,
		`{"contact_preferences":[]}`, `{"preferred_language":"es-419"}`, `{"interests":["\u0000"]}`, `{"a":{"b":{"c":null}}}`,
	} {
		f.Add(false, []byte(body))
		f.Add(true, []byte(body))
	}
	w := newFuzzWorld(f)
	tok := w.pick(0, func(o fuzzOp) bool { return o.path == w.goal && o.method == http.MethodPatch }).token
	f.Fuzz(func(t *testing.T, profile bool, body []byte) {
		target := w.goal
		if profile {
			target = w.client
		}
		w.send(t, http.MethodPatch, target, "", tok, "application/merge-patch+json", body, "If-Match", "*")
	})
}

// FuzzSearchParameters sends any query string to the directory search and
// the taxonomy list (HSDS parameters, point and radius, open now, paging).
func FuzzSearchParameters(f *testing.F) {
	for _, q := range []string{
		"search=food+pantry", "lat=NaN&lon=0", "lat=Infinity&lon=0", "lat=47.6&lon=-122.3&radius_km=NaN",
		"age=NaN", "page=9223372036854775807", "per_page=0", "status=active&status=inactive", "status=active,defunct",
		"taxonomy_term_id=00000000-0000-0000-0000-000000000000", "open_now=true&at=0000-01-01T00:00:00Z",
		"sort=distance", "format=ndjson&search=%00", "language=es&language=en", "search=%ED%A0%80", "modified_after=2025-13-01",
	} {
		f.Add(false, q)
		f.Add(true, q)
	}
	w := newFuzzWorld(f)
	tok := w.pick(0, func(o fuzzOp) bool { return o.path == "/v1/services" }).token
	f.Fuzz(func(t *testing.T, terms bool, query string) {
		path := "/v1/services"
		if terms {
			path = "/v1/taxonomy_terms"
		}
		w.send(t, http.MethodGet, path, query, tok, "", nil)
	})
}

// FuzzQueryParameters sends any query string to any operation (lists with
// filters and cursors, messages with before/after, the event stream).
func FuzzQueryParameters(f *testing.F) {
	for i, q := range []string{
		"limit=5&limit=6", "lifecycle_status=active&lifecycle_status=bogus", "category=food,housing", "cursor=%00",
		"order=desc&cursor=AAAAAAAAAAAAAAAAAAAAAA", "before=00000000-0000-0000-0000-000000000000", "q=%25%5F",
		"role=admin", "limit=NaN", "status=sent", "last_event_id=999999999999999999", "limit=-1",
	} {
		f.Add(uint16(i), q)
	}
	w := newFuzzWorld(f)
	f.Fuzz(func(t *testing.T, idx uint16, query string) {
		op := w.pick(idx, func(o fuzzOp) bool { return o.method == http.MethodGet && len(o.query) > 0 })
		w.send(t, op.method, op.path, query, op.token, "", nil)
	})
}

// FuzzCursors sends any cursor to every cursor-paginated list.
func FuzzCursors(f *testing.F) {
	for i, c := range []string{"", "AZQfXmwaezqdLzpLXG1-jw", "not a cursor", "AAAAAAAAAAAAAAAAAAAAAA", "_-_-", "%00", strings.Repeat("A", 200)} {
		f.Add(uint16(i), c)
	}
	w := newFuzzWorld(f)
	f.Fuzz(func(t *testing.T, idx uint16, cursor string) {
		op := w.pick(idx, func(o fuzzOp) bool { return o.method == http.MethodGet && slices.Contains(o.query, "cursor") })
		w.send(t, op.method, op.path, "cursor="+url.QueryEscape(cursor), op.token, "", nil)
	})
}
