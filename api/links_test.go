package api_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/api/apitest"
)

func newReferral(t *testing.T, e *apitest.Env, who, owner apitest.User, body map[string]any) referralView {
	t.Helper()
	var r referralView
	e.Do(http.MethodPost, "/v1/clients/"+owner.ClientID.String()+"/referrals", who.Token, body).Want(t, http.StatusCreated).Decode(t, &r)
	return r
}

// A conversation's link names a goal or referral of the conversation's own
// client: never another client's, whoever asks (issue 9, finding 7).
func TestConversationLinkSameClient(t *testing.T) {
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
