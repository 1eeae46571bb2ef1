package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/api"
	"github.com/waypoint-portal/waypoint/api/apitest"
	"github.com/waypoint-portal/waypoint/auth/authtest"
)

const budgetApp = "budget-buddy"

// appToken is u's token issued to app, with scopes (every scope when none).
func appToken(t *testing.T, e *apitest.Env, u apitest.User, roles []string, app string, scopes ...string) string {
	opts := []authtest.Option{authtest.WithClaim("azp", app)}
	if len(scopes) > 0 {
		opts = append(opts, authtest.WithScopes(scopes...))
	}
	return e.Issuer.Token(t, u.Subject, roles, opts...)
}

func clientApps(t *testing.T, e *apitest.Env, who, client apitest.User) map[string]api.ClientApp {
	t.Helper()
	var p api.Page[api.ClientApp]
	e.Do(http.MethodGet, "/v1/clients/"+client.ClientID.String()+"/apps?limit=100", who.Token, nil).Want(t, http.StatusOK).Decode(t, &p)
	out := map[string]api.ClientApp{}
	for _, a := range p.Items {
		out[a.AppID] = a
	}
	return out
}

type appUse struct {
	LastUsedAt time.Time
	Scopes     string
}

func appUseOf(t *testing.T, e *apitest.Env, client uuid.UUID, app string) appUse {
	t.Helper()
	var u appUse
	if err := e.DB.Raw(`SELECT last_used_at, array_to_string(scopes_used, ' ') AS scopes FROM client_apps WHERE client_id = ? AND app_id = ?`,
		client, app).Scan(&u).Error; err != nil {
		t.Fatal(err)
	}
	return u
}

// Every app that acted on a client's data is on their list, their own use
// through an app included; the record of use is cheap (once a minute, or
// when a scope is new) and the list is the client's alone.
func TestClientAppsList(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	e := w.e
	g := newGoal(t, w, w.alice, w.alice, map[string]any{"title": "Pay off my phone bill"})
	budget := appToken(t, e, w.alice, []string{"client"}, budgetApp, "goals:read")
	e.Do(http.MethodGet, goalsPath(w.alice), budget, nil).Want(t, http.StatusOK)
	e.Do(http.MethodGet, goalPath(g.ID), appToken(t, e, w.wanda, []string{"worker"}, "caseworker-app"), nil).Want(t, http.StatusOK)
	apps := clientApps(t, e, w.alice, w.alice)
	b, c, own := apps[budgetApp], apps["caseworker-app"], apps["test-app"]
	if b.Status != "allowed" || b.FirstParty || b.RevokedAt != nil || !slices.Equal(b.ScopesUsed, []string{"goals:read"}) ||
		b.AppName != budgetApp || b.FirstUsedAt.IsZero() || b.LastUsedAt.Before(b.FirstUsedAt) {
		t.Fatalf("budget app %+v", b)
	}
	if !slices.Equal(c.ScopesUsed, []string{"goals:read"}) || !slices.Contains(own.ScopesUsed, "goals:write") || len(apps) != 3 {
		t.Fatalf("apps %+v", apps)
	}
	if len(clientApps(t, e, w.bob, w.bob)) != 0 {
		t.Fatal("bob's list shows apps that never touched his data")
	}
	// Within a minute and with a known scope, nothing is written again.
	first := appUseOf(t, e, w.alice.ClientID, budgetApp)
	e.Do(http.MethodGet, goalPath(g.ID), budget, nil).Want(t, http.StatusOK)
	if again := appUseOf(t, e, w.alice.ClientID, budgetApp); again != first {
		t.Fatalf("a repeat use within the minute rewrote %+v as %+v", first, again)
	}
	// A new scope is recorded at once; an old record after a minute.
	writer := appToken(t, e, w.alice, []string{"client"}, budgetApp, "goals:write")
	newGoal(t, w, apitest.User{Token: writer, ClientID: w.alice.ClientID}, w.alice, map[string]any{"title": "Save 50 a month"})
	if u := appUseOf(t, e, w.alice.ClientID, budgetApp); u.Scopes != "goals:read goals:write" || !u.LastUsedAt.After(first.LastUsedAt) {
		t.Fatalf("after a new scope %+v", u)
	}
	if err := e.DB.Exec(`UPDATE client_apps SET last_used_at = now() - interval '2 minutes' WHERE app_id = ?`, budgetApp).Error; err != nil {
		t.Fatal(err)
	}
	stale := appUseOf(t, e, w.alice.ClientID, budgetApp)
	e.Do(http.MethodGet, goalPath(g.ID), budget, nil).Want(t, http.StatusOK)
	if u := appUseOf(t, e, w.alice.ClientID, budgetApp); !u.LastUsedAt.After(stale.LastUsedAt) {
		t.Fatalf("a use after a minute was not recorded: %+v", u)
	}
	// A refused request is no use.
	e.Do(http.MethodGet, goalPath(g.ID), appToken(t, e, w.will, []string{"worker"}, "prying-app"), nil).Problem(t, http.StatusNotFound)
	if _, ok := clientApps(t, e, w.alice, w.alice)["prying-app"]; ok {
		t.Fatal("an app refused at alice's door is on her list")
	}
	// The list is hers alone: her team and administrators 403, others 404.
	for u, status := range map[*apitest.User]int{&w.wanda: 403, &w.adam: 403, &w.bob: 404, &w.will: 404} {
		e.Do(http.MethodGet, w.aliceURL+"/apps", u.Token, nil).Problem(t, status)
		e.Do(http.MethodDelete, w.aliceURL+"/apps/"+budgetApp, u.Token, nil).Problem(t, status)
		e.Do(http.MethodPut, w.aliceURL+"/apps/"+budgetApp, u.Token, nil).Problem(t, status)
	}
	if apps := clientApps(t, e, w.alice, w.alice); apps[budgetApp].Status != "allowed" {
		t.Fatalf("refused revocations changed %+v", apps[budgetApp])
	}
	// Pages follow the app ids.
	var p api.Page[api.ClientApp]
	e.Do(http.MethodGet, w.aliceURL+"/apps?limit=2", w.alice.Token, nil).Want(t, http.StatusOK).Decode(t, &p)
	var rest api.Page[api.ClientApp]
	e.Do(http.MethodGet, w.aliceURL+"/apps?limit=2&cursor="+p.NextCursor, w.alice.Token, nil).Want(t, http.StatusOK).Decode(t, &rest)
	if len(p.Items) != 2 || len(rest.Items) != 1 || rest.NextCursor != "" || p.Items[0].AppID != budgetApp || rest.Items[0].AppID != "test-app" {
		t.Fatalf("pages %+v then %+v", p, rest)
	}
	e.Do(http.MethodGet, w.aliceURL+"/apps?cursor=%25%25", w.alice.Token, nil).Problem(t, http.StatusUnprocessableEntity)
}

// The person behind a token is kept per replica after its first request
// (api/actor_cache.go), but which clients revoked the token's app never is:
// a revocation made through another replica cuts off a token this replica
// has already served, at its next request, and allowing the app again
// restores it there too.
func TestRevokeAppAcrossReplicas(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	e := w.e
	g := newGoal(t, w, w.alice, w.alice, map[string]any{"title": "A place of my own"})
	budget := appToken(t, e, w.alice, []string{"client"}, budgetApp)
	e.Do(http.MethodGet, goalPath(g.ID), budget, nil).Want(t, http.StatusOK)
	other := e.Replica()
	other.Do(http.MethodDelete, w.aliceURL+"/apps/"+budgetApp, w.alice.Token, nil).Want(t, http.StatusNoContent)
	p := e.Do(http.MethodGet, goalPath(g.ID), budget, nil).Problem(t, http.StatusForbidden)
	mustContainAll(t, p["detail"].(string), "revoked", budgetApp)
	e.Do(http.MethodGet, goalsPath(w.alice), budget, nil).Problem(t, http.StatusForbidden)
	other.Do(http.MethodPut, w.aliceURL+"/apps/"+budgetApp, w.alice.Token, nil).Want(t, http.StatusOK)
	e.Do(http.MethodGet, goalPath(g.ID), budget, nil).Want(t, http.StatusOK)
}

// Revoking an app cuts every token of it off this client's data from the
// next request (403 where a request names it, absent from lists), leaves
// other clients alone, and is undone by allowing it again.
func TestRevokeApp(t *testing.T) {
	t.Parallel()
	f := newLogFixture(t)
	e, alice := f.e, f.alice
	client := []string{"client"}
	budget := appToken(t, e, alice, client, budgetApp)
	bobBudget := appToken(t, e, f.bob, client, budgetApp)
	wandaBudget := appToken(t, e, f.wanda, []string{"worker"}, budgetApp)
	willBudget := appToken(t, e, f.will, []string{"worker"}, budgetApp)
	gid, cid := f.goal.ID, f.conv.ID.String()
	e.Do(http.MethodGet, goalPath(gid), budget, nil).Want(t, http.StatusOK)
	e.Do(http.MethodGet, f.bobURL, bobBudget, nil).Want(t, http.StatusOK)

	e.Do(http.MethodDelete, f.aliceURL+"/apps/"+budgetApp, alice.Token, nil).Want(t, http.StatusNoContent)
	e.Do(http.MethodDelete, f.aliceURL+"/apps/"+budgetApp, alice.Token, nil).Want(t, http.StatusNoContent)
	if a := clientApps(t, e, alice, alice)[budgetApp]; a.Status != "revoked" || a.RevokedAt == nil {
		t.Fatalf("after revoking %+v", a)
	}
	named := []struct{ method, path string }{
		{http.MethodGet, goalPath(gid)}, {http.MethodGet, goalPath(gid) + "/history"}, {http.MethodGet, goalsPath(alice)},
		{http.MethodPost, goalsPath(alice)}, {http.MethodGet, "/v1/referrals/" + f.referral.ID},
		{http.MethodGet, f.aliceURL + "/referrals"}, {http.MethodGet, "/v1/conversations/" + cid + "/messages"},
		{http.MethodGet, f.aliceURL}, {http.MethodGet, f.aliceURL + "/saved-services"}, {http.MethodGet, f.aliceURL + "/care-team"},
		{http.MethodGet, f.aliceURL + "/access-log"}, {http.MethodGet, f.aliceURL + "/apps"},
		{http.MethodPut, f.aliceURL + "/apps/" + budgetApp}, // a revoked app cannot allow itself again
	}
	before := logCount(t, e, alice.ClientID)
	for _, r := range named {
		p := e.Do(r.method, r.path, budget, map[string]any{"title": "x"}).Problem(t, http.StatusForbidden)
		mustContainAll(t, p["detail"].(string), "revoked", budgetApp)
	}
	if logCount(t, e, alice.ClientID) != before {
		t.Fatal("alice's own requests through the revoked app were logged")
	}
	e.Do(http.MethodPost, "/v1/conversations", budget, map[string]any{"subject": "x"}).Problem(t, http.StatusForbidden)
	// Lists leave her out.
	if ids := listIDs(t, e.Do(http.MethodGet, "/v1/clients", budget, nil).Want(t, http.StatusOK)); len(ids) != 0 {
		t.Fatalf("the revoked app lists clients %v", ids)
	}
	if ids := listIDs(t, e.Do(http.MethodGet, "/v1/conversations", budget, nil).Want(t, http.StatusOK)); len(ids) != 0 {
		t.Fatalf("the revoked app lists conversations %v", ids)
	}
	// Other clients are unaffected, and so are alice's other apps.
	e.Do(http.MethodGet, f.bobURL, bobBudget, nil).Want(t, http.StatusOK)
	e.Do(http.MethodGet, goalPath(gid), alice.Token, nil).Want(t, http.StatusOK)
	// Anyone's token of the app: her worker's gets 403 (and the attempt is
	// in her log); a stranger's still 404, as if the app had not been revoked.
	r := e.Do(http.MethodGet, goalPath(gid), wandaBudget, nil)
	r.Problem(t, http.StatusForbidden)
	if rows := rowsOf(t, e, r); len(rows) != 1 || rows[0].Action != "denied" || rows[0].AppID != budgetApp ||
		rows[0].Relationship != "care_team_worker" {
		t.Fatalf("wanda's attempt through the revoked app logged %+v", rows)
	}
	e.Do(http.MethodGet, goalPath(gid), f.wanda.Token, nil).Want(t, http.StatusOK)
	r = e.Do(http.MethodGet, goalPath(gid), willBudget, nil)
	r.Problem(t, http.StatusNotFound)
	if rows := rowsOf(t, e, r); len(rows) != 1 || rows[0].Action != "denied" {
		t.Fatalf("will's attempt logged %+v", rows)
	}
	e.Do(http.MethodGet, goalPath(uuid.NewString()), budget, nil).Problem(t, http.StatusNotFound)

	// Allowed again, from the next request.
	var a api.ClientApp
	e.Do(http.MethodPut, f.aliceURL+"/apps/"+budgetApp, alice.Token, nil).Want(t, http.StatusOK).Decode(t, &a)
	if a.Status != "allowed" || a.RevokedAt != nil {
		t.Fatalf("after allowing %+v", a)
	}
	e.Do(http.MethodPut, f.aliceURL+"/apps/"+budgetApp, alice.Token, nil).Want(t, http.StatusOK)
	e.Do(http.MethodGet, goalPath(gid), budget, nil).Want(t, http.StatusOK)
	e.Do(http.MethodGet, goalPath(gid), wandaBudget, nil).Want(t, http.StatusOK)

	// Unknown and hostile app ids.
	for path, status := range map[string]int{
		"/apps/never-used": 404, "/apps/%00": 422, "/apps/tab%09app": 422, "/apps/%ED%A0%80": 422,
		"/apps/" + strings.Repeat("a", 1001): 422, "/apps/%E2%80%AEevil": 404,
	} {
		for _, m := range []string{http.MethodPut, http.MethodDelete} {
			p := e.Do(m, f.aliceURL+path, alice.Token, nil).Problem(t, status)
			if !apitest.HasErrorAt(p, "path.appId") {
				t.Errorf("%s %s: %v does not name path.appId", m, path, p)
			}
		}
	}
}

// First-party apps are listed, but revoking one is 409 saying why.
func TestFirstPartyAppCannotBeRevoked(t *testing.T) {
	t.Parallel()
	e := apitest.NewWith(t, apitest.WithFirstPartyApps("test-app", "waypoint-web"))
	alice := e.Login("alice", "client")
	url := "/v1/clients/" + alice.ClientID.String()
	e.Do(http.MethodGet, url, alice.Token, nil).Want(t, http.StatusOK)
	if a := clientApps(t, e, alice, alice)["test-app"]; !a.FirstParty || a.Status != "allowed" {
		t.Fatalf("first-party app listed as %+v", a)
	}
	p := e.Do(http.MethodDelete, url+"/apps/test-app", alice.Token, nil).Problem(t, http.StatusConflict)
	mustContainAll(t, p["detail"].(string), "first-party", "lock yourself out")
	// Even one never used: it is no app of hers to revoke.
	e.Do(http.MethodDelete, url+"/apps/waypoint-web", alice.Token, nil).Problem(t, http.StatusConflict)
	e.Do(http.MethodGet, url, alice.Token, nil).Want(t, http.StatusOK)
}

// An open event stream of a revoked app stops delivering the client's
// events at once; other clients' events still arrive on it, and a replay
// holds none of the client's any more.
func TestRevokedAppStreamStopsDelivering(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	e := w.e
	e.Do(http.MethodPut, w.bobURL+"/care-team/"+w.wanda.PersonID.String(), w.adam.Token, nil).Want(t, http.StatusCreated)
	s := openStream(t, e.URL, appToken(t, e, w.wanda, []string{"worker"}, budgetApp), "")
	ctl := openStream(t, e.URL, w.wanda.Token, "")
	s.Start()
	ctl.Start()
	g1 := newGoal(t, w, w.alice, w.alice, map[string]any{"title": "Before"})
	if _, ev := s.Next(); ev.ClientID != w.alice.ClientID || ev.SubjectID == nil || ev.SubjectID.String() != g1.ID {
		t.Fatalf("before revoking, first event %+v", ev)
	}
	// The app read alice's goal (so it is on her list), then she revokes it.
	e.Do(http.MethodGet, goalPath(g1.ID), appToken(t, e, w.wanda, []string{"worker"}, budgetApp), nil).Want(t, http.StatusOK)
	e.Do(http.MethodDelete, w.aliceURL+"/apps/"+budgetApp, w.alice.Token, nil).Want(t, http.StatusNoContent)
	g2 := newGoal(t, w, w.alice, w.alice, map[string]any{"title": "After"})
	g3 := newGoal(t, w, w.bob, w.bob, map[string]any{"title": "Bob's"})
	if _, ev := s.Next(); ev.ClientID != w.bob.ClientID || ev.SubjectID.String() != g3.ID {
		t.Fatalf("after revoking, next event %+v, want bob's (alice's skipped)", ev)
	}
	for _, want := range []string{g1.ID, g2.ID, g3.ID} { // the same person's other app hears all
		if _, ev := ctl.Next(); ev.SubjectID.String() != want {
			t.Fatalf("control stream %+v, want %s", ev, want)
		}
	}
	r := openStream(t, e.URL, appToken(t, e, w.wanda, []string{"worker"}, budgetApp), "", "Last-Event-ID", "0")
	if _, ev := r.Next(); ev.ClientID != w.bob.ClientID {
		t.Fatalf("replay through the revoked app starts with %+v", ev)
	}
}
