package api_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/waypoint-portal/waypoint/api/apitest"
)

// mxGroup is the matrix world's group: wanda (the care-team worker)
// facilitates it, alice (the client) is a member who shows herself as Ali,
// takes part in its goal and wrote its post; bob, will, the editor and the
// administrator are not in it (the administrator sees that it exists).
type mxGroup struct {
	invitation string // alice's invitation (then membership)
}

func (w *mxWorld) buildGroup(t *testing.T) {
	t.Helper()
	e := w.e
	alice, wanda, adam := w.people[mxClient], w.people[mxTeamWorker], w.people[mxAdmin]
	w.cora = e.Login("cora", "client")
	e.Do(http.MethodPut, "/v1/clients/"+w.cora.ClientID.String()+"/care-team/"+wanda.PersonID.String(), adam.Token, nil).Want(t, http.StatusCreated)
	group := w.created(wanda, "/v1/groups", map[string]any{"name": "Budgeting together", "kind": "skills"})
	w.group.invitation = w.created(wanda, "/v1/groups/"+group+"/invitations", map[string]any{"client_id": alice.ClientID})
	e.Do(http.MethodPost, "/v1/group-invitations/"+w.group.invitation+"/accept", alice.Token, map[string]any{"display_name": "Ali"}).
		Want(t, http.StatusOK)
	goal := w.created(alice, "/v1/groups/"+group+"/goals", map[string]any{"title": "Save $50 this month"})
	e.Do(http.MethodPost, "/v1/group-goals/"+goal+"/join", alice.Token, nil).Want(t, http.StatusOK)
	w.created(alice, "/v1/group-goals/"+goal+"/check-ins", map[string]any{"rating": 5})
	post := w.created(alice, "/v1/groups/"+group+"/posts", map[string]any{"kind": "offer", "body": "Rides to the food bank Friday"})
	session := w.created(wanda, "/v1/groups/"+group+"/sessions", map[string]any{"starts_at": "2026-12-08T18:00:00Z", "place": "Library"})
	w.params["groupId"], w.params["groupGoalId"], w.params["postId"], w.params["sessionId"] = group, goal, post, session
}

// groupReset puts alice back as a member taking part in the group goal
// (leaving, declining or being removed in an earlier call undoes that).
func (w *mxWorld) groupReset(status string) func(*testing.T, *mxWorld) map[string]string {
	return func(_ *testing.T, w *mxWorld) map[string]string {
		w.exec(`UPDATE group_members SET status = ? WHERE id = ?`, status, w.group.invitation)
		w.exec(`INSERT INTO group_goal_participants (group_id, group_goal_id, person_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
			w.params["groupId"], w.params["groupGoalId"], w.people[mxClient].PersonID)
		w.exec(`DELETE FROM group_members WHERE person_id = ?`, w.cora.PersonID)
		return map[string]string{"invitationId": w.group.invitation, "personId": w.people[mxClient].PersonID.String()}
	}
}

// memberIfMatch is the ETag of alice's membership.
func (w *mxWorld) memberIfMatch() string {
	var v int64
	if err := w.e.DB.Raw(`SELECT version FROM group_members WHERE id = ?`, w.group.invitation).Scan(&v).Error; err != nil {
		w.t.Fatal(err)
	}
	return fmt.Sprintf(`"%d"`, v)
}

func mxGroupOps() map[string]mxOp {
	// Columns: alice (member), bob (not in it), wanda (facilitator), will
	// (worker, not facilitating), adam (admin: existence only), ed, role-less.
	content := mxWant{200, 404, 200, 404, 403, 404, 403}
	contentWrite := mxWant{201, 404, 201, 404, 403, 404, 403}
	memberOnly := mxWant{200, 404, 403, 404, 403, 404, 403}
	facilitatorOnly := mxWant{403, 404, 200, 404, 403, 404, 403}
	anyRoleList := mxWant{200, 200, 200, 200, 200, 200, 403}
	var w0 *mxWorld
	member := w0.groupReset("member")
	return map[string]mxOp{
		"listGroups":  {as: mxClient, want: anyRoleList, setup: member, req: plain},
		"createGroup": {as: mxTeamWorker, want: mxWant{403, 403, 201, 201, 403, 403, 403}, req: body(map[string]any{"name": "Job search", "kind": "skills"})},
		"getGroup":    {as: mxClient, want: mxWant{200, 404, 200, 404, 200, 404, 403}, setup: member, req: plain},
		"patchGroup": {as: mxTeamWorker, want: facilitatorOnly, setup: member, req: func(w *mxWorld, _ apitest.User) mxReq {
			return mxReq{body: map[string]any{"purpose": "Budgets that work"}, ifMatch: w.ifMatch("groups", w.params["groupId"])}
		}},
		"listGroupMembers": {as: mxClient, want: content, setup: member, req: plain},
		"patchGroupMember": {as: mxClient, want: memberOnly, setup: member, req: func(w *mxWorld, _ apitest.User) mxReq {
			return mxReq{body: map[string]any{"share_my_progress": true}, ifMatch: w.memberIfMatch()}
		}},
		// alice leaves, or wanda removes her (with a reason); the next call starts with her back.
		"deleteGroupMember": {as: mxClient, want: mxWant{204, 404, 204, 404, 403, 404, 403}, setup: member,
			req: func(*mxWorld, apitest.User) mxReq { return mxReq{query: "reason=Off+topic"} }},
		"createGroupInvitation": {as: mxTeamWorker, want: mxWant{403, 404, 201, 404, 403, 404, 403}, setup: member,
			req: func(w *mxWorld, _ apitest.User) mxReq {
				return mxReq{body: map[string]any{"client_id": w.cora.ClientID}}
			}},
		"listGroupInvitations":   {as: mxClient, want: anyRoleList, setup: member, req: plain},
		"acceptGroupInvitation":  {as: mxClient, want: mxWant{200, 404, 404, 404, 404, 404, 403}, setup: w0.groupReset("invited"), req: plain},
		"declineGroupInvitation": {as: mxClient, want: mxWant{200, 404, 404, 404, 404, 404, 403}, setup: w0.groupReset("invited"), req: plain},
		"listGroupGoals":         {as: mxClient, want: content, setup: member, req: plain},
		"createGroupGoal":        {as: mxClient, want: contentWrite, setup: member, req: body(map[string]any{"title": "Cook at home"})},
		"getGroupGoal":           {as: mxClient, want: content, setup: member, req: plain},
		"joinGroupGoal":          {as: mxClient, want: memberOnly, setup: member, req: plain},
		"leaveGroupGoal":         {as: mxClient, want: memberOnly, setup: member, req: plain},
		"listGroupGoalCheckIns":  {as: mxClient, want: content, setup: member, req: plain},
		"addGroupGoalCheckIn": {as: mxClient, want: mxWant{201, 404, 403, 404, 403, 404, 403}, setup: member,
			req: body(map[string]any{"rating": 6})},
		"listGroupPosts":  {as: mxClient, want: content, setup: member, req: plain},
		"createGroupPost": {as: mxClient, want: contentWrite, setup: member, req: body(map[string]any{"kind": "ask", "body": "Anyone know a landlord?"})},
		"getGroupPost":    {as: mxClient, want: content, setup: member, req: plain},
		"patchGroupPost": {as: mxClient, want: memberOnly, setup: member, req: func(w *mxWorld, _ apitest.User) mxReq {
			return mxReq{body: map[string]any{"resolved": true}, ifMatch: w.ifMatch("group_posts", w.params["postId"])}
		}},
		"createGroupPostReply":      {as: mxClient, want: contentWrite, setup: member, req: body(map[string]any{"body": "Me please"})},
		"reportGroupPost":           {as: mxClient, want: mxWant{201, 404, 403, 404, 403, 404, 403}, setup: member, req: body(map[string]any{"reason": "test"})},
		"listGroupSessions":         {as: mxClient, want: content, setup: member, req: plain},
		"createGroupSession":        {as: mxTeamWorker, want: mxWant{403, 404, 201, 404, 403, 404, 403}, setup: member, req: body(map[string]any{"starts_at": "2026-12-15T18:00:00Z"})},
		"putGroupSessionRsvp":       {as: mxClient, want: memberOnly, setup: member, req: body(map[string]any{"response": "yes"})},
		"putGroupSessionAttendance": {as: mxTeamWorker, want: facilitatorOnly, setup: member, req: body(map[string]any{"attended": true})},
	}
}
