package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/waypoint-portal/waypoint/api/apitest"
)

// groupFixture is a group facilitated by a worker with one client member,
// a shared goal the member joined, a post by the facilitator and a session.
type groupFixture struct{ group, goal, post, session string }

// newGroupFixture builds it; the member must be on the facilitator's caseload.
func newGroupFixture(t testing.TB, e *apitest.Env, facilitator, member apitest.User) groupFixture {
	t.Helper()
	var f groupFixture
	f.group = e.Do(http.MethodPost, "/v1/groups", facilitator.Token, map[string]any{"name": "Budgeting together", "kind": "skills"}).
		Want(t, http.StatusCreated).Map(t)["id"].(string)
	inv := e.Do(http.MethodPost, "/v1/groups/"+f.group+"/invitations", facilitator.Token, map[string]any{"client_id": member.ClientID}).
		Want(t, http.StatusCreated).Map(t)["id"].(string)
	e.Do(http.MethodPost, "/v1/group-invitations/"+inv+"/accept", member.Token, map[string]any{"display_name": "Ali"}).Want(t, http.StatusOK)
	f.goal = e.Do(http.MethodPost, "/v1/groups/"+f.group+"/goals", member.Token, map[string]any{"title": "Save $50 this month"}).
		Want(t, http.StatusCreated).Map(t)["id"].(string)
	e.Do(http.MethodPost, "/v1/group-goals/"+f.goal+"/join", member.Token, nil).Want(t, http.StatusOK)
	f.post = e.Do(http.MethodPost, "/v1/groups/"+f.group+"/posts", facilitator.Token, map[string]any{"kind": "message", "body": "Welcome"}).
		Want(t, http.StatusCreated).Map(t)["id"].(string)
	f.session = e.Do(http.MethodPost, "/v1/groups/"+f.group+"/sessions", facilitator.Token, map[string]any{
		"starts_at": time.Now().Add(72 * time.Hour).UTC().Format(time.RFC3339), "place": "Library"}).
		Want(t, http.StatusCreated).Map(t)["id"].(string)
	return f
}

// params are the fixture's path parameters.
func (f groupFixture) params() map[string]string {
	return map[string]string{"{groupId}": f.group, "{groupGoalId}": f.goal, "{postId}": f.post, "{sessionId}": f.session}
}
