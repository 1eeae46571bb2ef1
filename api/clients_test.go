package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/waypoint-portal/waypoint/api/apitest"
)

func TestClientVisibility(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	e := w.e
	a, b := w.alice.ClientID.String(), w.bob.ClientID.String()

	// Lists: client sees only self, worker their caseload, admin everyone.
	for _, tc := range []struct {
		who  apitest.User
		want []string
	}{{w.alice, []string{a}}, {w.bob, []string{b}}, {w.wanda, []string{a}}, {w.will, []string{}}, {w.adam, []string{a, b}}} {
		got := listIDs(t, e.Do(http.MethodGet, "/v1/clients", tc.who.Token, nil).Want(t, http.StatusOK))
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s lists %v, want %v", tc.who.Subject, got, tc.want)
		}
	}
	// Reads: foreign clients are 404, never 403.
	for _, tc := range []struct {
		who  apitest.User
		path string
		want int
	}{
		{w.alice, w.aliceURL, 200}, {w.alice, w.bobURL, 404}, {w.bob, w.aliceURL, 404},
		{w.wanda, w.aliceURL, 200}, {w.wanda, w.bobURL, 404}, {w.will, w.aliceURL, 404},
		{w.adam, w.bobURL, 200}, {w.alice, "/v1/clients/01936f5e-6c1a-7b3e-9d2f-3a4b5c6d7e8f", 404},
	} {
		if r := e.Do(http.MethodGet, tc.path, tc.who.Token, nil); r.Status != tc.want {
			t.Errorf("%s GET %s = %d, want %d: %s", tc.who.Subject, tc.path, r.Status, tc.want, r.Body)
		}
	}
	// A client cannot patch another client, even with a plausible If-Match: 404 first.
	e.Do(http.MethodPatch, w.bobURL, w.alice.Token, map[string]any{"interests": []string{"x"}}, "If-Match", `"1"`).Problem(t, http.StatusNotFound)
	e.Do(http.MethodPatch, w.bobURL, w.alice.Token, map[string]any{"interests": []string{"x"}}).Problem(t, http.StatusNotFound)
	e.Do(http.MethodPatch, w.aliceURL, w.will.Token, map[string]any{"interests": []string{"x"}}, "If-Match", `"9"`).Problem(t, http.StatusNotFound)
	// An admin sees the record but may not rewrite the client's profile.
	e.Do(http.MethodPatch, w.aliceURL, w.adam.Token, map[string]any{"interests": []string{"x"}}, "If-Match", `"1"`).Problem(t, http.StatusForbidden)
	m := e.Do(http.MethodGet, w.bobURL, w.bob.Token, nil).Want(t, http.StatusOK).Map(t)
	if len(m["interests"].([]any)) != 0 || m["version"].(float64) != 1 {
		t.Fatalf("bob's profile changed by refused requests: %v", m)
	}
}

func TestClientPatch(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	e := w.e
	r := e.Do(http.MethodGet, w.aliceURL, w.alice.Token, nil).Want(t, http.StatusOK)
	if r.Header.Get("ETag") != `"1"` {
		t.Fatalf("ETag %q", r.Header.Get("ETag"))
	}
	patch := map[string]any{"strengths": []string{" resourceful ", "Resourceful", "good with people"}, "preferred_language": "es",
		"contact_preferences": map[string]any{"channels": []string{"sms"}, "phone": "+1 206 555 0100", "safe_to_leave_message": false}}
	e.Do(http.MethodPatch, w.aliceURL, w.alice.Token, patch).Problem(t, http.StatusPreconditionRequired)
	m := e.Do(http.MethodPatch, w.aliceURL, w.alice.Token, patch, "If-Match", `"1"`).Want(t, http.StatusOK).Map(t)
	if got := m["strengths"].([]any); len(got) != 2 || got[0] != "resourceful" {
		t.Fatalf("strengths not cleaned: %v", got)
	}
	if m["preferred_language"] != "es" || m["contact_preferences"].(map[string]any)["safe_to_leave_message"] != false {
		t.Fatalf("patch not applied: %v", m)
	}
	// Stale ETag: 412 carrying the current ETag.
	r = e.Do(http.MethodPatch, w.aliceURL, w.wanda.Token, map[string]any{"interests": []string{"music"}}, "If-Match", `"1"`)
	r.Problem(t, http.StatusPreconditionFailed)
	if r.Header.Get("ETag") != `"2"` {
		t.Fatalf("412 ETag %q, want \"2\"", r.Header.Get("ETag"))
	}
	// The worker on the care team may co-edit; null clears a field and keeps others.
	m = e.Do(http.MethodPatch, w.aliceURL, w.wanda.Token, `{"interests":["music"],"preferred_language":null}`, "If-Match", `"2"`).Want(t, http.StatusOK).Map(t)
	if m["preferred_language"] != "" || len(m["strengths"].([]any)) != 2 || m["interests"].([]any)[0] != "music" {
		t.Fatalf("merge patch semantics broken: %v", m)
	}
	// Bad input: field named, nothing written.
	for name, tc := range map[string]struct {
		body, ct string
		status   int
		loc      string
	}{
		"unknown field":  {`{"favourite_colour":"red"}`, "application/merge-patch+json", 422, "body.favourite_colour"},
		"bad language":   {`{"preferred_language":"not a tag!"}`, "application/merge-patch+json", 422, "body.preferred_language"},
		"bad channel":    {`{"contact_preferences":{"channels":["pigeon"]}}`, "application/merge-patch+json", 422, "body.contact_preferences.channels[0]"},
		"wrong type":     {`{"strengths":"brave"}`, "application/merge-patch+json", 422, "body.strengths"},
		"malformed json": {`{"strengths":`, "application/merge-patch+json", 400, ""},
	} {
		t.Run(name, func(t *testing.T) {
			p := e.Do(http.MethodPatch, w.aliceURL, w.alice.Token, tc.body, "If-Match", `"3"`, "Content-Type", tc.ct).Problem(t, tc.status)
			if tc.loc != "" && !apitest.HasErrorAt(p, tc.loc) {
				t.Fatalf("problem does not name %s: %v", tc.loc, p)
			}
		})
	}
	r = e.Do(http.MethodPatch, w.aliceURL, w.alice.Token, `strengths=brave`, "If-Match", `"3"`, "Content-Type", "text/plain")
	if r.Status != http.StatusUnsupportedMediaType && r.Status != http.StatusBadRequest {
		t.Fatalf("text/plain body: status %d", r.Status)
	}
	r.Problem(t, r.Status)
	big := `{"interests":["` + strings.Repeat("a", 2<<20) + `"]}`
	e.Do(http.MethodPatch, w.aliceURL, w.alice.Token, big, "If-Match", `"3"`).Problem(t, http.StatusRequestEntityTooLarge)
	if v := e.Do(http.MethodGet, w.aliceURL, w.alice.Token, nil).Map(t)["version"]; v != 3.0 {
		t.Fatalf("refused patches changed the version to %v", v)
	}
}

func TestCareTeam(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	e := w.e
	team := w.aliceURL + "/care-team"
	// Visible to the client, the team, admins; not to other workers or clients.
	for _, tc := range []struct {
		who  apitest.User
		want int
	}{{w.alice, 200}, {w.wanda, 200}, {w.adam, 200}, {w.will, 404}, {w.bob, 404}} {
		if r := e.Do(http.MethodGet, team, tc.who.Token, nil); r.Status != tc.want {
			t.Errorf("%s GET care team = %d, want %d", tc.who.Subject, r.Status, tc.want)
		}
	}
	var ct struct {
		Members []struct {
			PersonID string `json:"person_id"`
			TeamRole string `json:"team_role"`
		} `json:"members"`
	}
	e.Do(http.MethodGet, team, w.alice.Token, nil).Decode(t, &ct)
	if len(ct.Members) != 1 || ct.Members[0].PersonID != w.wanda.PersonID.String() || ct.Members[0].TeamRole != "case manager" {
		t.Fatalf("care team %+v", ct)
	}
	// Only admins change it: the client and the team get 403, strangers 404.
	willOnAlice := team + "/" + w.will.PersonID.String()
	e.Do(http.MethodPut, willOnAlice, w.alice.Token, nil).Problem(t, http.StatusForbidden)
	e.Do(http.MethodPut, willOnAlice, w.wanda.Token, nil).Problem(t, http.StatusForbidden)
	e.Do(http.MethodPut, willOnAlice, w.will.Token, nil).Problem(t, http.StatusNotFound)
	// Only workers can join; unknown people are 404.
	p := e.Do(http.MethodPut, team+"/"+w.bob.PersonID.String(), w.adam.Token, nil).Problem(t, http.StatusUnprocessableEntity)
	if !apitest.HasErrorAt(p, "path.personId") {
		t.Fatalf("422 does not name path.personId: %v", p)
	}
	e.Do(http.MethodPut, team+"/01936f5e-6c1a-7b3e-9d2f-3a4b5c6d7e8f", w.adam.Token, nil).Problem(t, http.StatusNotFound)
	// Idempotent PUT: 201 then 200.
	e.Do(http.MethodPut, willOnAlice, w.adam.Token, nil).Want(t, http.StatusCreated)
	e.Do(http.MethodPut, willOnAlice, w.adam.Token, map[string]any{"team_role": "peer support"}).Want(t, http.StatusOK)
	e.Do(http.MethodGet, w.aliceURL, w.will.Token, nil).Want(t, http.StatusOK)
	// Removal ends access at once; removing again is fine.
	e.Do(http.MethodDelete, willOnAlice, w.adam.Token, nil).Want(t, http.StatusNoContent)
	e.Do(http.MethodDelete, willOnAlice, w.adam.Token, nil).Want(t, http.StatusNoContent)
	e.Do(http.MethodGet, w.aliceURL, w.will.Token, nil).Problem(t, http.StatusNotFound)
	if ids := listIDs(t, e.Do(http.MethodGet, "/v1/clients", w.will.Token, nil)); len(ids) != 0 {
		t.Fatalf("will still lists %v", ids)
	}
}

func TestAccessLog(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	e := w.e
	count := func(actor apitest.User, action string) int64 {
		var n int64
		if err := e.DB.Raw(`SELECT count(*) FROM access_log WHERE client_id = ? AND actor_person_id = ? AND action = ?`,
			w.alice.ClientID, actor.PersonID, action).Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}
	e.Do(http.MethodGet, w.aliceURL, w.alice.Token, nil).Want(t, http.StatusOK)
	if n := count(w.alice, "read"); n != 0 {
		t.Fatalf("the client's own reads are logged: %d", n)
	}
	e.Do(http.MethodGet, w.aliceURL, w.wanda.Token, nil).Want(t, http.StatusOK)
	e.Do(http.MethodGet, "/v1/clients", w.wanda.Token, nil).Want(t, http.StatusOK)
	if n := count(w.wanda, "read"); n != 2 {
		t.Fatalf("worker reads logged %d times, want 2", n)
	}
	e.Do(http.MethodPatch, w.aliceURL, w.wanda.Token, map[string]any{"interests": []string{"chess"}}, "If-Match", `"1"`).Want(t, http.StatusOK)
	if n := count(w.wanda, "write"); n != 1 {
		t.Fatalf("worker write logged %d times, want 1", n)
	}
	if n := count(w.adam, "write"); n != 1 { // the care team assignment
		t.Fatalf("admin care team write logged %d times, want 1", n)
	}
	// A refused read leaves no trace.
	e.Do(http.MethodGet, w.aliceURL, w.will.Token, nil).Want(t, http.StatusNotFound)
	if n := count(w.will, "read"); n != 0 {
		t.Fatalf("a refused read was logged")
	}
}

// Contact preferences merge member by member: a partial patch keeps the
// safety flag and phone someone else set.
func TestContactPreferencesMerge(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	e := w.e
	e.Do(http.MethodPatch, w.aliceURL, w.alice.Token, map[string]any{"contact_preferences": map[string]any{
		"channels": []string{"sms"}, "phone": "+1 206 555 0100", "safe_to_leave_message": false}}, "If-Match", `"1"`).Want(t, http.StatusOK)
	m := e.Do(http.MethodPatch, w.aliceURL, w.wanda.Token, `{"contact_preferences":{"channels":["app"],"best_times":"mornings","phone":null}}`, "If-Match", `"2"`).
		Want(t, http.StatusOK).Map(t)
	cp := m["contact_preferences"].(map[string]any)
	if cp["safe_to_leave_message"] != false || cp["best_times"] != "mornings" || cp["channels"].([]any)[0] != "app" {
		t.Fatalf("merge lost members: %v", cp)
	}
	if _, ok := cp["phone"]; ok {
		t.Fatalf("null did not remove phone: %v", cp)
	}
	m = e.Do(http.MethodPatch, w.aliceURL, w.alice.Token, `{"contact_preferences":null}`, "If-Match", `"3"`).Want(t, http.StatusOK).Map(t)
	if cp := m["contact_preferences"].(map[string]any); len(cp) != 2 || len(cp["channels"].([]any)) != 0 || cp["help_improve_services"] != true {
		t.Fatalf("null did not reset: %v", cp)
	}
}
