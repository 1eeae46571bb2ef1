package api_test

import (
	"net/http"
	"testing"

	"github.com/waypoint-portal/waypoint/api/apitest"
	"github.com/waypoint-portal/waypoint/auth/authtest"
)

func TestPatchMe(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	alice := e.Login("alice", "client")
	r := e.Do(http.MethodGet, "/v1/me", alice.Token, nil).Want(t, http.StatusOK)
	etag := r.Header.Get("ETag")
	e.Do(http.MethodPatch, "/v1/me", alice.Token, map[string]any{"pronouns": "she/her"}).Problem(t, http.StatusPreconditionRequired)
	m := e.Do(http.MethodPatch, "/v1/me", alice.Token, map[string]any{"pronouns": "she/her", "display_name": "Alice J."}, "If-Match", etag).Want(t, http.StatusOK).Map(t)
	if m["pronouns"] != "she/her" || m["display_name"] != "Alice J." || m["client_id"] == nil {
		t.Fatalf("patch /v1/me: %v", m)
	}
	r = e.Do(http.MethodPatch, "/v1/me", alice.Token, map[string]any{"pronouns": "they/them"}, "If-Match", etag)
	r.Problem(t, http.StatusPreconditionFailed)
	if r.Header.Get("ETag") != `"2"` {
		t.Fatalf("412 ETag %q", r.Header.Get("ETag"))
	}
	// null clears pronouns; display_name may not be emptied.
	m = e.Do(http.MethodPatch, "/v1/me", alice.Token, `{"pronouns":null}`, "If-Match", `"2"`).Want(t, http.StatusOK).Map(t)
	if m["pronouns"] != "" || m["display_name"] != "Alice J." {
		t.Fatalf("null did not clear pronouns only: %v", m)
	}
	p := e.Do(http.MethodPatch, "/v1/me", alice.Token, `{"display_name":""}`, "If-Match", `"3"`).Problem(t, http.StatusUnprocessableEntity)
	if !apitest.HasErrorAt(p, "body.display_name") {
		t.Fatalf("problem does not name body.display_name: %v", p)
	}
	p = e.Do(http.MethodPatch, "/v1/me", alice.Token, `{"display_name":"   "}`, "If-Match", `"3"`).Problem(t, http.StatusUnprocessableEntity)
	if !apitest.HasErrorAt(p, "body.display_name") {
		t.Fatalf("blank name: %v", p)
	}
	// NUL characters cannot be stored: 422, not 500, and nothing changes.
	e.Do(http.MethodPatch, "/v1/me", alice.Token, `{"pronouns":"a\u0000b"}`, "If-Match", `"3"`).Problem(t, http.StatusUnprocessableEntity)
	e.Do(http.MethodGet, "/v1/clients?q=%00", alice.Token, nil).Problem(t, http.StatusUnprocessableEntity)
	// A NUL in the provider's name claim does not lock the person out.
	tok := e.Issuer.Token(t, "nul-name", []string{"client"}, authtest.WithClaim("name", "Zoe\u0000 Q"))
	e.Do(http.MethodGet, "/v1/me", tok, nil).Want(t, http.StatusOK)
	// A later token with another name does not overwrite the chosen display name.
	e.Login("alice", "client")
	if m := e.Do(http.MethodGet, "/v1/me", alice.Token, nil).Map(t); m["display_name"] != "Alice J." {
		t.Fatalf("display name overwritten: %v", m)
	}
}

func TestListPeople(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	adam := e.Login("adam", "admin")
	wanda := e.Login("wanda", "worker")
	e.Login("alice", "client")
	var page struct {
		Items []struct {
			ID    string   `json:"id"`
			Roles []string `json:"roles"`
		} `json:"items"`
		NextCursor string `json:"next_cursor"`
	}
	e.Do(http.MethodGet, "/v1/people?role=worker", adam.Token, nil).Want(t, http.StatusOK).Decode(t, &page)
	if len(page.Items) != 1 || page.Items[0].ID != wanda.PersonID.String() {
		t.Fatalf("workers: %+v", page)
	}
	e.Do(http.MethodGet, "/v1/people?limit=2", adam.Token, nil).Want(t, http.StatusOK).Decode(t, &page)
	if len(page.Items) != 2 || page.NextCursor == "" {
		t.Fatalf("first page: %+v", page)
	}
	first, cursor := page.Items[0].ID, page.NextCursor
	page.NextCursor = ""
	e.Do(http.MethodGet, "/v1/people?limit=2&cursor="+cursor, adam.Token, nil).Want(t, http.StatusOK).Decode(t, &page)
	if len(page.Items) != 1 || page.NextCursor != "" || page.Items[0].ID == first {
		t.Fatalf("second page: %+v", page)
	}
	e.Do(http.MethodGet, "/v1/people", wanda.Token, nil).Problem(t, http.StatusForbidden)
	e.Do(http.MethodGet, "/v1/people?role=boss", adam.Token, nil).Problem(t, http.StatusUnprocessableEntity)
}
