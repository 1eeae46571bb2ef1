package api_test

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/waypoint-portal/waypoint/api/apitest"
)

type specOperation struct {
	OperationID string                `json:"operationId"`
	Security    []map[string][]string `json:"security"`
}

// servedOperations reads the operations from the server's own document.
func servedOperations(t *testing.T, e *apitest.Env) map[string]map[string]specOperation {
	t.Helper()
	var spec struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	e.Do(http.MethodGet, "/openapi.json", "", nil).Want(t, http.StatusOK).Decode(t, &spec)
	out := map[string]map[string]specOperation{}
	for path, item := range spec.Paths {
		for method, raw := range item {
			var op specOperation
			if json.Unmarshal(raw, &op) != nil || op.OperationID == "" {
				continue
			}
			if out[path] == nil {
				out[path] = map[string]specOperation{}
			}
			out[path][strings.ToUpper(method)] = op
		}
	}
	return out
}

func isDirectoryPath(p string) bool {
	for _, d := range []string{"/v1/services", "/v1/organizations", "/v1/locations", "/v1/taxonomy_terms"} {
		if p == d || strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	return false
}

// TestClientDataIsNeverStored sends a request to every operation and
// asserts Cache-Control: no-store on the answer, whatever the status, with
// the security headers and (but for the health probes) the rate-limit
// headers. Reads must succeed, so the success responses are covered
// (history, check-ins, saved services, care team, conversations, me, the
// directory, ...). A new operation is covered without edits.
func TestClientDataIsNeverStored(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	e := w.e
	seedDirectory(t, e.Store)
	g := newGoal(t, w, w.alice, w.alice, map[string]any{"steps": []any{map[string]any{"title": "a"}}})
	e.Do(http.MethodPost, goalPath(g.ID)+"/check-ins", w.alice.Token, map[string]any{"rating": 5}).Want(t, http.StatusCreated)
	e.Do(http.MethodPut, w.aliceURL+"/saved-services/"+svcBallard.String(), w.alice.Token, nil).Want(t, http.StatusCreated)
	ref := e.Do(http.MethodPost, w.aliceURL+"/referrals", w.alice.Token, map[string]any{"service_id": svcBallard}).Want(t, http.StatusCreated).Map(t)
	conv := createConversation(t, e, w.alice, map[string]any{})
	// {personId} is wanda: on alice's care team, and her supporter too.
	invite := func() map[string]any {
		return e.Do(http.MethodPost, w.aliceURL+"/supporter-invitations", w.alice.Token, map[string]any{"shares": []string{"goals"}}).
			Want(t, http.StatusCreated).Map(t)
	}
	e.Do(http.MethodPost, "/v1/supporter-invitations/redeem", w.wanda.Token, map[string]any{"code": invite()["code"]}).Want(t, http.StatusCreated)
	assessment := e.Do(http.MethodPost, w.aliceURL+"/assessments", w.alice.Token, map[string]any{"ratings": []any{
		map[string]any{"domain": "housing", "rating": 2, "priority": true}}}).Want(t, http.StatusCreated).Map(t)
	params := map[string]string{
		"{invitationId}": invite()["id"].(string), "{assessmentId}": assessment["id"].(string),
		"{clientId}": w.alice.ClientID.String(), "{goalId}": g.ID, "{stepId}": g.Steps[0].ID,
		"{referralId}": ref["id"].(string), "{conversationId}": conv.ID.String(),
		"{personId}": w.wanda.PersonID.String(), "{serviceId}": svcDowntown.String(),
		"{organizationId}": orgSeattle.String(), "{locationId}": locDowntown.String(), "{appId}": "some-app",
		"{subscriptionId}": pushSubscription(t, e, w.alice),
		"{feedbackId}": e.Do(http.MethodPost, "/v1/services/"+svcDowntown.String()+"/feedback", w.alice.Token,
			map[string]any{"kind": "other"}).Want(t, http.StatusCreated).Map(t)["id"].(string),
	}
	maps.Copy(params, newGroupFixture(t, e, w.wanda, w.alice).params())
	pia := e.Login("pia", "provider")
	otto := e.Login("otto", "organizer")
	type call struct{ method, path string }
	var calls []call
	for path, ops := range servedOperations(t, e) {
		for method := range ops {
			calls = append(calls, call{method, path})
		}
	}
	// Reads first, then writes, deletions last: each call still finds its data.
	rank := map[string]int{"GET": 0, "POST": 1, "PUT": 1, "PATCH": 1, "DELETE": 2}
	slices.SortFunc(calls, func(a, b call) int {
		if d := rank[a.method] - rank[b.method]; d != 0 {
			return d
		}
		return strings.Compare(a.path, b.path)
	})
	var covered []string
	for _, c := range calls {
		path := c.path
		for k, v := range params {
			path = strings.ReplaceAll(path, k, v)
		}
		if strings.Contains(path, "{") {
			t.Errorf("%s %s: no test value for a path parameter", c.method, c.path)
			continue
		}
		token := w.alice.Token
		if strings.HasPrefix(c.path, "/v1/people") || strings.Contains(c.path, "/care-team/") || strings.HasPrefix(c.path, "/v1/directory/") {
			token = w.adam.Token
		}
		if strings.HasPrefix(c.path, "/v1/provider/") {
			token = pia.Token
		}
		if strings.HasPrefix(c.path, "/v1/insights/") {
			token = otto.Token
		}
		status, h := headersOf(t, e, c.method, path, token)
		if status >= 500 || h.Get("Cache-Control") != "no-store" {
			t.Errorf("%s %s: status %d, Cache-Control %q; want no-store", c.method, c.path, status, h.Get("Cache-Control"))
		}
		if c.method == "GET" && status != http.StatusOK {
			t.Errorf("GET %s: status %d; the read should succeed so its success response is covered", c.path, status)
		}
		if msg := missingSecurityHeaders(h); msg != "" {
			t.Errorf("%s %s: %s", c.method, c.path, msg)
		}
		limited := c.path != "/healthz" && c.path != "/readyz"
		if got := len(h.Values("RateLimit")) == 2 && len(h.Values("RateLimit-Policy")) == 2; got != limited {
			t.Errorf("%s %s: RateLimit %q, RateLimit-Policy %q; want the ip and person policies: %v",
				c.method, c.path, h.Values("RateLimit"), h.Values("RateLimit-Policy"), limited)
		}
		covered = append(covered, c.method+" "+c.path)
	}
	for _, must := range []string{"GET /v1/goals/{goalId}/history", "GET /v1/goals/{goalId}/check-ins",
		"GET /v1/clients/{clientId}/saved-services", "GET /v1/clients/{clientId}/care-team", "GET /v1/me",
		"GET /v1/conversations", "GET /v1/referrals/{referralId}", "PATCH /v1/goals/{goalId}/steps/{stepId}",
		"GET /v1/services", "GET /v1/services/{serviceId}", "GET /v1/organizations/{organizationId}",
		"GET /v1/locations/{locationId}", "GET /v1/taxonomy_terms", "GET /v1/events", "GET /healthz"} {
		if !slices.Contains(covered, must) {
			t.Errorf("%s was not covered", must)
		}
	}
}

// headersOf sends a request and returns its status and headers without
// waiting for the body (event streams do not end).
func headersOf(t *testing.T, e *apitest.Env, method, path, token string) (int, http.Header) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var body *strings.Reader
	if method != http.MethodGet && method != http.MethodDelete {
		body = strings.NewReader("{}")
	} else {
		body = strings.NewReader("")
	}
	req, err := http.NewRequestWithContext(ctx, method, e.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("If-Match", "*")
	if method == http.MethodPatch {
		req.Header.Set("Content-Type", "application/merge-patch+json")
	} else if body.Len() > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	res.Body.Close()
	return res.StatusCode, res.Header
}
