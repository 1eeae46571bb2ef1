package api_test

import (
	"bytes"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"testing"

	"github.com/waypoint-portal/waypoint/api/apitest"
)

// replayCase is one creating operation that takes an Idempotency-Key.
type replayCase struct {
	// first returns the request a permitted caller makes (path, body) and
	// who makes it; goal is a goal of alice's.
	first func(t *testing.T, w *world, goal string) (path string, body any, who apitest.User)
	// revoke takes the caller's access away; relogin gives their new token
	// when access went with their roles.
	revoke func(t *testing.T, w *world, who apitest.User) (relogin string)
	denied int // what a fresh request gets after revoke, and so the replay
	// resource is what the access log calls the replayed resource ("" for
	// the directory, which is not a client's data); goalID says its id is
	// the goal's (steps and check-ins are logged against their goal).
	resource string
	goalID   bool
	// idField names the member of the answer that the log calls resource_id
	// ("id" when empty); secret, a member a replay renews (not the same bytes).
	idField, secret string
}

func removeWanda(t *testing.T, w *world, _ apitest.User) string {
	w.e.Do(http.MethodDelete, w.wandaOnAlice, w.adam.Token, nil).Want(t, http.StatusNoContent)
	return ""
}

// demoteAdam: adam's next token no longer carries the admin role.
func demoteAdam(t *testing.T, w *world, _ apitest.User) string {
	return w.e.Login("adam", "worker").Token
}

type firstRequest = func(t *testing.T, w *world, goal string) (path string, body any, who apitest.User)

// byWanda: wanda (on alice's care team) posts body to path(w, goal).
func byWanda(path func(w *world, goal string) string, body any) firstRequest {
	return func(_ *testing.T, w *world, goal string) (string, any, apitest.User) {
		return path(w, goal), body, w.wanda
	}
}

// byWandaAt: wanda posts body to path.
func byWandaAt(path string, body any) firstRequest {
	return func(_ *testing.T, w *world, _ string) (string, any, apitest.User) { return path, body, w.wanda }
}

// byAdam: adam (an administrator) posts body to path.
func byAdam(path string, body any) firstRequest {
	return func(_ *testing.T, w *world, _ string) (string, any, apitest.User) { return path, body, w.adam }
}

func forAlice(suffix string) func(*world, string) string {
	return func(w *world, _ string) string { return w.aliceURL + suffix }
}

func onGoal(suffix string) func(*world, string) string {
	return func(_ *world, goal string) string { return goalPath(goal) + suffix }
}

// inGroup: who posts body to path(fixture) in a group wanda facilitates and
// alice is a member of.
func inGroup(who func(*world) apitest.User, path func(groupFixture) string, body any) firstRequest {
	return func(t *testing.T, w *world, _ string) (string, any, apitest.User) {
		return path(newGroupFixture(t, w.e, w.wanda, w.alice)), body, who(w)
	}
}

func groupMember(w *world) apitest.User      { return w.alice }
func groupFacilitator(w *world) apitest.User { return w.wanda }

// aliceLeaves: alice leaves every group she is in; group paths are 404 for her.
func aliceLeaves(t *testing.T, w *world, _ apitest.User) string {
	w.e.Do(http.MethodDelete, "/v1/groups/"+groupOf(t, w)+"/members/"+w.alice.PersonID.String(), w.alice.Token, nil, "If-Match", "*").
		Want(t, http.StatusNoContent)
	return ""
}

// groupOf is the one group of the replay world.
func groupOf(t *testing.T, w *world) string {
	var id string
	if err := w.e.DB.Raw(`SELECT id::text FROM groups`).Scan(&id).Error; err != nil || id == "" {
		t.Fatalf("the replay world's group: %q %v", id, err)
	}
	return id
}

// demoteWanda: wanda's next token no longer carries the worker role.
func demoteWanda(_ *testing.T, w *world, _ apitest.User) string {
	return w.e.Login("wanda", "client").Token
}

func replayCases() map[string]replayCase {
	return map[string]replayCase{
		"createGroup": {first: byWandaAt("/v1/groups", map[string]any{"name": "Job search", "kind": "skills"}),
			revoke: demoteWanda, denied: http.StatusForbidden},
		"createGroupInvitation": {first: func(t *testing.T, w *world, _ string) (string, any, apitest.User) {
			g := w.e.Do(http.MethodPost, "/v1/groups", w.wanda.Token, map[string]any{"name": "Job search", "kind": "skills"}).
				Want(t, http.StatusCreated).Map(t)["id"].(string)
			return "/v1/groups/" + g + "/invitations", map[string]any{"client_id": w.alice.ClientID}, w.wanda
		}, revoke: demoteWanda, denied: http.StatusNotFound}, // no longer a worker, so no longer its facilitator
		"createGroupSession": {first: inGroup(groupFacilitator, func(f groupFixture) string { return "/v1/groups/" + f.group + "/sessions" },
			map[string]any{"starts_at": "2027-01-12T18:00:00Z", "place": "Library"}), revoke: demoteWanda, denied: http.StatusNotFound},
		"createGroupGoal": {first: inGroup(groupMember, func(f groupFixture) string { return "/v1/groups/" + f.group + "/goals" },
			map[string]any{"title": "Cook at home twice a week"}), revoke: aliceLeaves, denied: http.StatusNotFound},
		"addGroupGoalCheckIn": {first: inGroup(groupMember, func(f groupFixture) string { return "/v1/group-goals/" + f.goal + "/check-ins" },
			map[string]any{"rating": 6}), revoke: aliceLeaves, denied: http.StatusNotFound},
		"createGroupPost": {first: inGroup(groupMember, func(f groupFixture) string { return "/v1/groups/" + f.group + "/posts" },
			map[string]any{"kind": "offer", "body": "I can drive two people to the food bank Friday"}), revoke: aliceLeaves, denied: http.StatusNotFound},
		"createGroupPostReply": {first: inGroup(groupMember, func(f groupFixture) string { return "/v1/group-posts/" + f.post + "/replies" },
			map[string]any{"body": "Thank you"}), revoke: aliceLeaves, denied: http.StatusNotFound},
		"reportGroupPost": {first: inGroup(groupMember, func(f groupFixture) string { return "/v1/group-posts/" + f.post + "/reports" },
			map[string]any{"reason": "Off topic"}), revoke: aliceLeaves, denied: http.StatusNotFound, idField: "post_id"},
		"createGoal": {first: byWanda(forAlice("/goals"), map[string]any{"title": "Find work"}),
			revoke: removeWanda, denied: http.StatusNotFound, resource: "goal"},
		"createReferral": {first: byWanda(forAlice("/referrals"), map[string]any{"service_id": svcBallard}),
			revoke: removeWanda, denied: http.StatusNotFound, resource: "referral"},
		"addGoalStep": {first: byWanda(onGoal("/steps"), map[string]any{"title": "Call the landlord"}),
			revoke: removeWanda, denied: http.StatusNotFound, resource: "goal", goalID: true},
		"addGoalCheckIn": {first: byWanda(onGoal("/check-ins"), map[string]any{"rating": 6}),
			revoke: removeWanda, denied: http.StatusNotFound, resource: "goal", goalID: true},
		"createConversation": {first: func(_ *testing.T, w *world, _ string) (string, any, apitest.User) {
			return "/v1/conversations", map[string]any{"client_id": w.alice.ClientID, "subject": "Housing"}, w.wanda
		}, revoke: removeWanda, denied: http.StatusNotFound, resource: "conversation"},
		"postMessage": {first: func(t *testing.T, w *world, _ string) (string, any, apitest.User) {
			c := createConversation(t, w.e, w.alice, map[string]any{"subject": "Rent"})
			return "/v1/conversations/" + c.ID.String() + "/messages", map[string]any{"body": "I'll call them today"}, w.wanda
		}, revoke: removeWanda, denied: http.StatusNotFound, resource: "message"},
		"createOrganization": {first: byAdam("/v1/organizations", map[string]any{"name": "Fremont Food Bank", "description": "Groceries for Fremont"}),
			revoke: demoteAdam, denied: http.StatusForbidden},
		"createLocation": {first: byAdam("/v1/locations", map[string]any{"location_type": "physical", "name": "Fremont Hall", "organization_id": orgSeattle,
			"latitude": 47.651, "longitude": -122.35, "timezone": "America/Los_Angeles"}),
			revoke: demoteAdam, denied: http.StatusForbidden},
		"createService": {first: byAdam("/v1/services", map[string]any{"organization_id": orgSeattle, "name": "Fremont Pantry", "status": "active"}),
			revoke: demoteAdam, denied: http.StatusForbidden},
		// Wanda reports a barrier; her next token carries no role (a fresh report is 403).
		"createServiceFeedback": {first: byWandaAt("/v1/services/"+svcBallard.String()+"/feedback",
			map[string]any{"kind": "language", "text": "No interpreter on the phone line"}),
			revoke: func(_ *testing.T, w *world, _ apitest.User) string { return w.e.Login("wanda").Token }, denied: http.StatusForbidden},
		"createAssessment": {first: byWanda(forAlice("/assessments"), map[string]any{"ratings": []any{map[string]any{"domain": "housing", "rating": 2}}}),
			revoke: removeWanda, denied: http.StatusNotFound, resource: "assessment"},
		// Wanda proposes a goal from alice's assessment; the replay is the goal's.
		"adoptGoalTemplate": {first: func(t *testing.T, w *world, _ string) (string, any, apitest.User) {
			a := w.e.Do(http.MethodPost, w.aliceURL+"/assessments", w.alice.Token, map[string]any{"ratings": []any{
				map[string]any{"domain": "housing", "rating": 2, "priority": true}}}).Want(t, http.StatusCreated).Map(t)
			return "/v1/assessments/" + a["id"].(string) + "/goals", map[string]any{"template_id": "find-stable-housing"}, w.wanda
		}, revoke: removeWanda, denied: http.StatusNotFound, resource: "goal"},
		// The client's own invitation (not logged); she loses the client role.
		"createSupporterInvitation": {first: func(_ *testing.T, w *world, _ string) (string, any, apitest.User) {
			return w.aliceURL + "/supporter-invitations", map[string]any{"shares": []string{"goals"}}, w.alice
		}, revoke: func(_ *testing.T, w *world, _ apitest.User) string { return w.e.Login("alice").Token },
			denied: http.StatusForbidden, secret: "code"},
		// Alice's own browser (not logged); she loses the client role.
		"createPushSubscription": {first: func(t *testing.T, w *world, _ string) (string, any, apitest.User) {
			k, auth := pushKeys(t)
			return "/v1/me/push-subscriptions", subscriptionBody("https://push.example.org/replay", k, auth), w.alice
		}, revoke: func(_ *testing.T, w *world, _ apitest.User) string { return w.e.Login("alice").Token },
			denied: http.StatusForbidden},
		// Sam redeems alice's code; she then removes him.
		"redeemSupporterInvitation": {first: func(t *testing.T, w *world, _ string) (string, any, apitest.User) {
			code := w.e.Do(http.MethodPost, w.aliceURL+"/supporter-invitations", w.alice.Token, map[string]any{"shares": []string{"goals"}}).
				Want(t, http.StatusCreated).Map(t)["code"]
			return "/v1/supporter-invitations/redeem", map[string]any{"code": code}, w.e.Login("sam")
		}, revoke: func(t *testing.T, w *world, sam apitest.User) string {
			w.e.Do(http.MethodDelete, w.aliceURL+"/supporters/"+sam.PersonID.String(), w.alice.Token, nil).Want(t, http.StatusNoContent)
			return ""
		}, denied: http.StatusNotFound, resource: "supporter", idField: "person_id"},
	}
}

// sameAnswer compares two answers, leaving out member secret when named.
func sameAnswer(t *testing.T, a, b *apitest.Resp, secret string) bool {
	if secret == "" {
		return bytes.Equal(a.Body, b.Body)
	}
	am, bm := a.Map(t), b.Map(t)
	if am[secret] == nil || am[secret] == bm[secret] {
		return false
	}
	delete(am, secret)
	delete(bm, secret)
	return reflect.DeepEqual(am, bm)
}

// A replay of an idempotent request is authorized like a fresh one: a caller
// who lost access since gets what a new request would, not the stored
// response; a caller who still has access gets the replay, and it is written
// to the client's access log like any other disclosure.
func TestIdempotentReplayIsReauthorized(t *testing.T) {
	t.Parallel()
	for opID, tc := range replayCases() {
		t.Run(opID, func(t *testing.T) {
			t.Parallel() // each case has a world of its own; together they are the suite's longest test
			w := newWorld(t)
			e := w.e
			seedDirectory(t, e.Store)
			goal := newGoal(t, w, w.alice, w.alice, map[string]any{}).ID
			path, body, who := tc.first(t, w, goal)
			const key = "replay-key-1"
			first := e.Do(http.MethodPost, path, who.Token, body, "Idempotency-Key", key).Want(t, http.StatusCreated)
			idField := tc.idField
			if idField == "" {
				idField = "id"
			}
			id, _ := first.Map(t)[idField].(string)
			if tc.goalID {
				id = goal
			}
			logged := func() int64 {
				return countRows(t, e, `SELECT count(*) FROM access_log WHERE actor_person_id = ? AND action = 'read'
					AND resource = ? AND resource_id = ?`, who.PersonID, tc.resource, id)
			}
			before := logged()

			again := e.Do(http.MethodPost, path, who.Token, body, "Idempotency-Key", key).Want(t, http.StatusCreated)
			if again.Header.Get("Idempotent-Replayed") != "true" || !sameAnswer(t, first, again, tc.secret) {
				t.Fatalf("not a replay: %v %s", again.Header, again.Body)
			}
			if n := logged(); tc.resource != "" && n != before+1 {
				t.Errorf("replay not in the access log (%d read entries for %s %s before, %d after)", before, tc.resource, id, n)
			}

			token := who.Token
			if re := tc.revoke(t, w, who); re != "" {
				token = re
			}
			fresh := e.Do(http.MethodPost, path, token, body, "Idempotency-Key", "replay-key-2")
			if fresh.Status != tc.denied && !(opID == "createConversation" && fresh.Status == http.StatusUnprocessableEntity) {
				t.Fatalf("fresh request after losing access: %d %s, want %d", fresh.Status, fresh.Body, tc.denied)
			}
			r := e.Do(http.MethodPost, path, token, body, "Idempotency-Key", key)
			r.Problem(t, tc.denied)
			if r.Header.Get("Idempotent-Replayed") != "" || bytes.Contains(r.Body, []byte(id)) {
				t.Fatalf("denied replay shows the resource: %v %s", r.Header, r.Body)
			}
		})
	}
}

// Every operation that takes an Idempotency-Key has a case above, so a new
// one cannot be added without its replay being checked.
func TestEveryIdempotentOperationHasAReplayCase(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
			Parameters  []struct {
				Name string `json:"name"`
			} `json:"parameters"`
		} `json:"paths"`
	}
	e.Do(http.MethodGet, "/openapi.json", "", nil).Want(t, http.StatusOK).Decode(t, &doc)
	var ops []string
	for _, item := range doc.Paths {
		for _, op := range item {
			if slices.ContainsFunc(op.Parameters, func(p struct {
				Name string `json:"name"`
			}) bool {
				return p.Name == "Idempotency-Key"
			}) {
				ops = append(ops, op.OperationID)
			}
		}
	}
	sort.Strings(ops)
	cases := replayCases()
	if len(ops) < len(cases) {
		t.Fatalf("only %d idempotent operations found: %v", len(ops), ops)
	}
	for _, op := range ops {
		if _, ok := cases[op]; !ok {
			t.Errorf("idempotent operation %s has no replay case in TestIdempotentReplayIsReauthorized", op)
		}
	}
}
