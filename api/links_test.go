package api_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/api/apitest"
)

// A conversation's link names a goal or referral of the conversation's own
// client: never another client's, whoever asks (issue 9, finding 7).
func TestConversationLinkSameClient(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	e := w.e
	seedDirectory(t, e.Store)
	// wanda supports bob too, so she can see both clients' records.
	e.Do(http.MethodPut, w.bobURL+"/care-team/"+w.wanda.PersonID.String(), w.adam.Token, nil).Want(t, http.StatusCreated)
	aliceGoal := newGoal(t, w, w.alice, w.alice, map[string]any{})
	aliceRef := newReferral(t, e, w.alice, w.alice, map[string]any{"service_id": svcBallard})
	bobGoal := newGoal(t, w, w.bob, w.bob, map[string]any{})
	bobRef := newReferral(t, e, w.bob, w.bob, map[string]any{"service_id": svcBallard})

	conversations := func() int64 { return countRows(t, e, `SELECT count(*) FROM conversations`) }
	for _, tc := range []struct {
		name string
		who  apitest.User
		body map[string]any
	}{
		{"client links another client's goal", w.alice, map[string]any{"link": map[string]any{"kind": "goal", "id": bobGoal.ID}}},
		{"client links another client's referral", w.alice, map[string]any{"link": map[string]any{"kind": "referral", "id": bobRef.ID}}},
		{"worker links the other client's goal", w.wanda, map[string]any{"client_id": w.alice.ClientID, "link": map[string]any{"kind": "goal", "id": bobGoal.ID}}},
		{"worker links the other client's referral", w.wanda, map[string]any{"client_id": w.alice.ClientID, "link": map[string]any{"kind": "referral", "id": bobRef.ID}}},
		{"a referral's id as a goal", w.alice, map[string]any{"link": map[string]any{"kind": "goal", "id": aliceRef.ID}}},
		{"a goal's id as a referral", w.alice, map[string]any{"link": map[string]any{"kind": "referral", "id": aliceGoal.ID}}},
		{"an unknown id", w.alice, map[string]any{"link": map[string]any{"kind": "goal", "id": uuid.NewString()}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := conversations()
			p := e.Do(http.MethodPost, "/v1/conversations", tc.who.Token, tc.body).Problem(t, http.StatusUnprocessableEntity)
			if !apitest.HasErrorAt(p, "body.link.id") {
				t.Fatalf("problem does not name body.link.id: %v", p)
			}
			if n := conversations(); n != before {
				t.Fatalf("a refused conversation was written (%d -> %d)", before, n)
			}
		})
	}
	// The client's own records link, for her and for her worker.
	for _, link := range []map[string]any{{"kind": "goal", "id": aliceGoal.ID}, {"kind": "referral", "id": aliceRef.ID}} {
		c := createConversation(t, e, w.alice, map[string]any{"link": link})
		if c.Link == nil || c.Link.ID.String() != link["id"] {
			t.Fatalf("link %v: %+v", link, c.Link)
		}
		createConversation(t, e, w.wanda, map[string]any{"client_id": w.alice.ClientID, "link": link})
	}
}

// A goal entered in error is frozen: nothing new attaches to it (referrals,
// conversation links), it takes no steps, check-ins or edits, and changes of
// referrals linked before no longer write to its history (issue 9, finding 8).
func TestEnteredInErrorGoalIsFrozen(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	e := w.e
	seedDirectory(t, e.Store)
	g := newGoal(t, w, w.alice, w.alice, map[string]any{"steps": []map[string]any{{"title": "Call the housing office"}}})
	linked := newReferral(t, e, w.wanda, w.alice, map[string]any{"service_id": svcBallard, "goal_id": g.ID})
	other := newReferral(t, e, w.wanda, w.alice, map[string]any{"service_id": svcDowntown})
	g = decodeGoal(t, patchGoal(w, w.alice, getGoal(t, w, w.alice, g.ID), map[string]any{"lifecycle_status": "entered-in-error"}).Want(t, http.StatusOK))

	historyRows := func() int64 { return countRows(t, e, `SELECT count(*) FROM goal_history WHERE goal_id = ?`, g.ID) }
	referrals := func() int64 { return countRows(t, e, `SELECT count(*) FROM referrals`) }
	frozenHistory, frozenReferrals := historyRows(), referrals()
	step := fmt.Sprintf("%s/steps/%s", goalPath(g.ID), g.Steps[0].ID)
	stepMatch := fmt.Sprintf(`"%d"`, g.Steps[0].Version)
	for _, tc := range []struct {
		name, method, path string
		who                apitest.User
		body               any
		headers            []string
		field              string // the problem names it when set
	}{
		{"new referral for it", "POST", w.aliceURL + "/referrals", w.wanda, map[string]any{"service_id": svcShelter, "goal_id": g.ID}, nil, "body.goal_id"},
		{"new referral for it, by the client", "POST", w.aliceURL + "/referrals", w.alice, map[string]any{"service_id": svcShelter, "goal_id": g.ID}, nil, "body.goal_id"},
		{"linking a referral to it", "PATCH", "/v1/referrals/" + other.ID, w.wanda, map[string]any{"goal_id": g.ID},
			[]string{"If-Match", fmt.Sprintf(`"%d"`, other.Version)}, "body.goal_id"},
		{"a conversation about it", "POST", "/v1/conversations", w.alice, map[string]any{"link": map[string]any{"kind": "goal", "id": g.ID}}, nil, "body.link.id"},
		{"a step", "POST", goalPath(g.ID) + "/steps", w.wanda, map[string]any{"title": "x"}, nil, ""},
		{"a check-in", "POST", goalPath(g.ID) + "/check-ins", w.alice, map[string]any{"rating": 4}, nil, ""},
		{"editing a step", "PATCH", step, w.alice, map[string]any{"done": true}, []string{"If-Match", stepMatch}, ""},
		{"deleting a step", "DELETE", step, w.alice, nil, []string{"If-Match", stepMatch}, ""},
		{"editing the goal", "PATCH", goalPath(g.ID), w.wanda, map[string]any{"title": "again"}, []string{"If-Match", fmt.Sprintf(`"%d"`, g.Version)}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := e.Do(tc.method, tc.path, tc.who.Token, tc.body, tc.headers...).Problem(t, http.StatusConflict)
			mustContainAll(t, p["detail"].(string), "entered in error")
			if tc.field != "" && !apitest.HasErrorAt(p, tc.field) {
				t.Fatalf("problem does not name %s: %v", tc.field, p)
			}
			if h, r := historyRows(), referrals(); h != frozenHistory || r != frozenReferrals {
				t.Fatalf("refused write changed things: history %d -> %d, referrals %d -> %d", frozenHistory, h, frozenReferrals, r)
			}
		})
	}
	if cur := getGoal(t, w, w.alice, g.ID); cur.Version != g.Version || len(cur.Steps) != 1 || cur.Steps[0].Done {
		t.Fatalf("frozen goal changed: %+v", cur)
	}

	// The referral linked before goes on (it is real help), without writing
	// to the frozen goal's history; it can be unlinked.
	linked = decodeReferral(t, patchReferral(e, w.wanda, linked, map[string]any{"status": "acknowledged"}).Want(t, http.StatusOK))
	unlinked := patchReferral(e, w.alice, linked, map[string]any{"goal_id": nil}).Want(t, http.StatusOK).Map(t)
	if linked.Status != "acknowledged" || unlinked["goal_id"] != nil {
		t.Fatalf("linked referral: %+v, then %v", linked, unlinked)
	}
	if h := historyRows(); h != frozenHistory {
		t.Fatalf("the frozen goal's history grew from %d to %d rows", frozenHistory, h)
	}
}

// Freezing a goal and linking a referral to it at the same moment: the link
// either commits before the freeze (and its history row comes first) or is
// refused. Never a row written to the goal after it froze.
func TestFreezeRacesLinks(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	e := w.e
	seedDirectory(t, e.Store)
	for i := range 12 {
		g := newGoal(t, w, w.alice, w.alice, map[string]any{"title": fmt.Sprintf("race %d", i)})
		var wg sync.WaitGroup
		var link, freeze *apitest.Resp
		wg.Add(2)
		go func() {
			defer wg.Done()
			link = e.Do(http.MethodPost, w.aliceURL+"/referrals", w.wanda.Token, map[string]any{"service_id": svcBallard, "goal_id": g.ID})
		}()
		go func() {
			defer wg.Done()
			freeze = patchGoal(w, w.alice, g, map[string]any{"lifecycle_status": "entered-in-error"})
		}()
		wg.Wait()
		if freeze.Status != http.StatusOK || (link.Status != http.StatusCreated && link.Status != http.StatusConflict) {
			t.Fatalf("round %d: freeze %d %s, link %d %s", i, freeze.Status, freeze.Body, link.Status, link.Body)
		}
		late := countRows(t, e, `SELECT count(*) FROM goal_history h WHERE h.goal_id = ? AND h.at > (
			SELECT f.at FROM goal_history f WHERE f.goal_id = h.goal_id AND f.field = 'lifecycle_status')`, g.ID)
		if late != 0 {
			t.Fatalf("round %d: %d history rows written after the goal froze (link answered %d)", i, late, link.Status)
		}
	}
}
