package api_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/waypoint-portal/waypoint/api/apitest"
)

// TestIfMatchFollowsRFC9110: "*" matches any current representation; a list
// matches when any strong tag does (also when sent as several field lines);
// weak tags never match; the missing header stays 428 and a resource the
// caller may not see stays 404.
func TestIfMatchFollowsRFC9110(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	e := w.e
	g := newGoal(t, w, w.alice, w.alice, map[string]any{"steps": []any{map[string]any{"title": "a"}, map[string]any{"title": "b"}}})
	path := goalPath(g.ID)
	tag := func(v int64) string { return fmt.Sprintf(`"%d"`, v) }
	patch := func(ifMatch string, title string) *apitest.Resp {
		return e.Do(http.MethodPatch, path, w.alice.Token, map[string]any{"title": title}, "If-Match", ifMatch)
	}
	v := g.Version

	r := patch("*", "star").Want(t, http.StatusOK)
	v++
	if r.Header.Get("ETag") != tag(v) {
		t.Fatalf("* patch: ETag %q, want %q", r.Header.Get("ETag"), tag(v))
	}
	patch(`"999", `+tag(v), "listed second").Want(t, http.StatusOK)
	v++
	patch(tag(v)+`, "999"`, "listed first").Want(t, http.StatusOK)
	v++
	for _, h := range []string{`W/` + tag(v), `W/"999", W/` + tag(v), `"999", "1000"`, `"abc"`, tag(v) + ` junk`} {
		r := patch(h, "must not land")
		r.Problem(t, http.StatusPreconditionFailed)
		if r.Header.Get("ETag") != tag(v) {
			t.Errorf("If-Match %s: 412 ETag %q, want %q", h, r.Header.Get("ETag"), tag(v))
		}
	}
	patch("", "no header").Problem(t, http.StatusPreconditionRequired)

	// Several If-Match field lines form one list (RFC 9110 §5.3).
	req, _ := http.NewRequest(http.MethodPatch, e.URL+path, strings.NewReader(`{"title":"two lines"}`))
	req.Header.Set("Authorization", "Bearer "+w.alice.Token)
	req.Header.Set("Content-Type", "application/merge-patch+json")
	req.Header.Add("If-Match", `"999"`)
	req.Header.Add("If-Match", tag(v))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("If-Match over two field lines: %d %s", res.StatusCode, body)
	}
	v++

	got := getGoal(t, w, w.alice, g.ID)
	if got.Title != "two lines" || got.Version != v {
		t.Fatalf("goal after the patches: %q version %d, want %q version %d", got.Title, got.Version, "two lines", v)
	}

	// Steps, DELETE and the optional If-Match of accept behave the same.
	st := got.Steps[0]
	e.Do(http.MethodPatch, path+"/steps/"+st.ID, w.alice.Token, `{"done":true}`, "If-Match", `W/`+tag(st.Version)).Problem(t, http.StatusPreconditionFailed)
	e.Do(http.MethodPatch, path+"/steps/"+st.ID, w.alice.Token, `{"done":true}`, "If-Match", `"77", `+tag(st.Version)).Want(t, http.StatusOK)
	e.Do(http.MethodDelete, path+"/steps/"+got.Steps[1].ID, w.alice.Token, nil, "If-Match", "*").Want(t, http.StatusNoContent)
	prop := newGoal(t, w, w.wanda, w.alice, map[string]any{"title": "Proposal"})
	e.Do(http.MethodPost, goalPath(prop.ID)+"/accept", w.alice.Token, nil, "If-Match", `W/`+tag(prop.Version)).Problem(t, http.StatusPreconditionFailed)
	e.Do(http.MethodPost, goalPath(prop.ID)+"/accept", w.alice.Token, nil, "If-Match", `"55", `+tag(prop.Version)).Want(t, http.StatusOK)

	// "*" does not reveal what the caller may not see, nor invent a resource.
	patchAs := func(who apitest.User, p string) *apitest.Resp {
		return e.Do(http.MethodPatch, p, who.Token, map[string]any{"title": "x"}, "If-Match", "*")
	}
	patchAs(w.bob, path).Problem(t, http.StatusNotFound)
	patchAs(w.alice, goalPath("01936f5e-6c1a-7b3e-9d2f-3a4b5c6d7e8f")).Problem(t, http.StatusNotFound)
	// The profile and the person take lists too.
	var me struct{ Version int64 }
	e.Do(http.MethodGet, "/v1/me", w.alice.Token, nil).Want(t, http.StatusOK).Decode(t, &me)
	e.Do(http.MethodPatch, "/v1/me", w.alice.Token, `{"pronouns":"she/her"}`, "If-Match", `"0", `+tag(me.Version)).Want(t, http.StatusOK)
	e.Do(http.MethodPatch, w.aliceURL, w.alice.Token, `{"interests":["chess"]}`, "If-Match", "*").Want(t, http.StatusOK)
}
