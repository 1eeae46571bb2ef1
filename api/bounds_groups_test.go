package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/api/apitest"
)

// boundsGroup is the bounds world's group: wanda facilitates, alice is a
// member taking part in its goal and author of its post; carl is a client
// of wanda's whose invitation the accept and decline cases reopen.
type boundsGroup struct {
	id, goal, post, session, carlInvitation string
	carl                                    apitest.User
}

func (w *boundsWorld) buildGroup(t *testing.T) {
	t.Helper()
	e := w.e
	g := &w.group
	g.id = w.createdBy(t, w.wanda, "/v1/groups", map[string]any{"name": "Budgeting together", "kind": "skills"})
	w.groupMember(t, w.alice, "Ali")
	g.carl = e.Login("carl", "client")
	e.Do(http.MethodPut, "/v1/clients/"+g.carl.ClientID.String()+"/care-team/"+w.wanda.PersonID.String(), w.adam.Token, nil).Want(t, http.StatusCreated)
	g.carlInvitation = w.createdBy(t, w.wanda, "/v1/groups/"+g.id+"/invitations", map[string]any{"client_id": g.carl.ClientID})
	g.goal = w.createdBy(t, w.alice, "/v1/groups/"+g.id+"/goals", map[string]any{"title": "Save $50 this month"})
	e.Do(http.MethodPost, "/v1/group-goals/"+g.goal+"/join", w.alice.Token, nil).Want(t, http.StatusOK)
	g.post = w.createdBy(t, w.alice, "/v1/groups/"+g.id+"/posts", map[string]any{"kind": "offer", "body": "Rides Friday"})
	g.session = w.createdBy(t, w.wanda, "/v1/groups/"+g.id+"/sessions", map[string]any{"starts_at": "2026-12-08T18:00:00Z"})
}

func (w *boundsWorld) createdBy(t *testing.T, u apitest.User, path string, body any) string {
	t.Helper()
	return w.e.Do(http.MethodPost, path, u.Token, body).Want(t, http.StatusCreated).Map(t)["id"].(string)
}

// groupMember invites c (a client wanda gets on her caseload) and accepts.
func (w *boundsWorld) groupMember(t *testing.T, c apitest.User, name string) {
	t.Helper()
	e := w.e
	e.Do(http.MethodPut, "/v1/clients/"+c.ClientID.String()+"/care-team/"+w.wanda.PersonID.String(), w.adam.Token, nil)
	inv := w.createdBy(t, w.wanda, "/v1/groups/"+w.group.id+"/invitations", map[string]any{"client_id": c.ClientID})
	e.Do(http.MethodPost, "/v1/group-invitations/"+inv+"/accept", c.Token, map[string]any{"display_name": name}).Want(t, http.StatusOK)
}

func groupRecipes() map[string]boundRecipe {
	wanda := func(w *boundsWorld) apitest.User { return w.wanda }
	carl := func(w *boundsWorld) apitest.User { return w.group.carl }
	reopen := func(verb string) func(t *testing.T, w *boundsWorld) string {
		return func(t *testing.T, w *boundsWorld) string {
			if err := w.e.DB.Exec(`UPDATE group_members SET status = 'invited' WHERE id = ?`, w.group.carlInvitation).Error; err != nil {
				t.Fatal(err)
			}
			return "/v1/group-invitations/" + w.group.carlInvitation + "/" + verb
		}
	}
	return map[string]boundRecipe{
		"createGroup": {user: wanda},
		"patchGroup":  {user: wanda},
		"patchGroupMember": {user: alice, path: func(_ *testing.T, w *boundsWorld) string {
			return "/v1/groups/" + w.group.id + "/members/" + w.alice.PersonID.String()
		}},
		// A fresh member each time, whom wanda removes with the reason.
		"deleteGroupMember": {user: wanda, path: func(t *testing.T, w *boundsWorld) string {
			m := w.e.Login("member-"+uuid.NewString(), "client")
			w.groupMember(t, m, "")
			return "/v1/groups/" + w.group.id + "/members/" + m.PersonID.String()
		}},
		"acceptGroupInvitation":  {user: carl, path: reopen("accept")},
		"declineGroupInvitation": {user: carl, path: reopen("decline")},
		"createGroupGoal":        {user: alice},
		"joinGroupGoal":          {user: alice}, // goal_id: alice's own goal (the fixture)
		// A fresh client of wanda's caseload each time.
		"createGroupInvitation": {user: wanda, value: func(t *testing.T, w *boundsWorld, member string, n int) (any, bool) {
			if member != "client_id" {
				return nil, false
			}
			c := w.e.Login("invitee-"+uuid.NewString(), "client")
			w.e.Do(http.MethodPut, "/v1/clients/"+c.ClientID.String()+"/care-team/"+w.wanda.PersonID.String(), w.adam.Token, nil).
				Want(t, http.StatusCreated)
			id := c.ClientID.String()
			return id + strings.Repeat("0", max(0, n-len(id))), true
		}},
		"addGroupGoalCheckIn":  {user: alice},
		"createGroupPost":      {user: alice},
		"patchGroupPost":       {user: wanda},
		"createGroupPostReply": {user: alice},
		"reportGroupPost":      {user: alice},
		"createGroupSession":   {user: wanda},
		"putGroupSessionRsvp":  {user: alice},
	}
}
