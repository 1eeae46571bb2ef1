package api_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/api/apitest"
)

// providerView is a referral as read by anyone, with the provider's members.
type providerView struct {
	referralView
	ClientID           string   `json:"client_id"`
	Note               string   `json:"note"`
	GoalIDRaw          *string  `json:"goal_id"`
	SharedWithProvider []string `json:"shared_with_provider"`
	DeclineReason      *string  `json:"decline_reason"`
	Shared             *struct {
		FirstName *string `json:"first_name"`
		Contact   *struct {
			Phone string `json:"phone"`
		} `json:"contact"`
		PreferredLanguage *string `json:"preferred_language"`
		GoalTitle         *string `json:"goal_title"`
	} `json:"shared"`
}

func staffPath(org, person uuid.UUID) string {
	return "/v1/organizations/" + org.String() + "/staff/" + person.String()
}

func providerGet(t *testing.T, e *apitest.Env, who apitest.User, id string) providerView {
	t.Helper()
	var v providerView
	e.Do(http.MethodGet, "/v1/referrals/"+id, who.Token, nil).Want(t, http.StatusOK).Decode(t, &v)
	return v
}

func providerList(t *testing.T, e *apitest.Env, who apitest.User, query string) []providerView {
	t.Helper()
	var page struct {
		Items []providerView `json:"items"`
	}
	e.Do(http.MethodGet, "/v1/provider/referrals"+query, who.Token, nil).Want(t, http.StatusOK).Decode(t, &page)
	return page.Items
}

// TestProviderReferrals plays the first part of issue #16's "Done means":
// Wanda refers Alice to a food bank; the food bank's coordinator sees
// Alice's first name and phone but not her goal, accepts the referral, and
// Alice sees it live. Around it, the provider visibility matrix: own
// organization versus another, consented fields only, after the client
// narrows sharing, status moves and history, and every provider access in
// the client's access log.
func TestProviderReferrals(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	e := w.e
	seedDirectory(t, e.Store)
	pia := e.Login("pia", "provider")   // food bank coordinator (Seattle Neighbors)
	pete := e.Login("pete", "provider") // staff of Brooklyn Aid
	nell := e.Login("nell", "provider") // provider role, no organization
	e.DB.Exec(`UPDATE people SET display_name = 'Alice Johnson' WHERE id = ?`, w.alice.PersonID)
	e.DB.Exec(`UPDATE clients SET contact_preferences = '{"channels":["sms"],"phone":"+1 206 555 0100","push_previews":true,"help_improve_services":false}',
		preferred_language = 'es' WHERE id = ?`, w.alice.ClientID)

	// Only administrators link staff; idempotent; unknown organization 404.
	e.Do(http.MethodPut, staffPath(orgSeattle, pia.PersonID), w.adam.Token, nil).Want(t, http.StatusCreated)
	e.Do(http.MethodPut, staffPath(orgSeattle, pia.PersonID), w.adam.Token, nil).Want(t, http.StatusOK)
	e.Do(http.MethodPut, staffPath(orgNY, pete.PersonID), w.adam.Token, nil).Want(t, http.StatusCreated)
	for _, u := range []apitest.User{w.wanda, pia, w.alice} {
		e.Do(http.MethodPut, staffPath(orgSeattle, nell.PersonID), u.Token, nil).Problem(t, http.StatusForbidden)
	}
	e.Do(http.MethodPut, staffPath(uuid.New(), nell.PersonID), w.adam.Token, nil).Problem(t, http.StatusNotFound)
	e.Do(http.MethodPut, staffPath(orgSeattle, uuid.New()), w.adam.Token, nil).Problem(t, http.StatusNotFound)

	goal := newGoal(t, w, w.alice, w.alice, map[string]any{"title": "Eat well this winter"})
	sa := openStream(t, e.URL, w.alice.Token, "")
	sa.Start()

	// The client chooses what the provider sees: a worker may not.
	e.Do(http.MethodPost, w.aliceURL+"/referrals", w.wanda.Token, map[string]any{"service_id": svcBallard.String(),
		"shared_with_provider": []string{"name", "note"}}).Problem(t, http.StatusForbidden)
	ref := newReferral(t, e, w.wanda, w.alice, map[string]any{"service_id": svcBallard.String(), "goal_id": goal.ID,
		"note": "Alice prefers mornings"})
	if _, ev := sa.Next(); ev.Type != "referral.updated" {
		t.Fatalf("alice's first event %s", ev.Type)
	}

	// The coordinator sees Alice's first name and phone, not her goal or the note.
	items := providerList(t, e, pia, "")
	if len(items) != 1 || items[0].ID != ref.ID {
		t.Fatalf("pia's list %+v", items)
	}
	for _, v := range []providerView{items[0], providerGet(t, e, pia, ref.ID)} {
		if v.Shared == nil || v.Shared.FirstName == nil || *v.Shared.FirstName != "Alice" || v.Shared.Contact == nil ||
			v.Shared.Contact.Phone != "+1 206 555 0100" {
			t.Fatalf("pia sees %+v", v.Shared)
		}
		if v.GoalIDRaw != nil || v.Note != "" || v.Shared.GoalTitle != nil || v.Shared.PreferredLanguage != nil {
			t.Fatalf("pia sees more than shared: goal %v note %q shared %+v", v.GoalIDRaw, v.Note, v.Shared)
		}
		if !slices.Equal(v.SharedWithProvider, []string{"contact", "name"}) {
			t.Fatalf("shared_with_provider %v", v.SharedWithProvider)
		}
	}
	// The contact is how to reach her, never her settings in the app.
	contact := e.Do(http.MethodGet, "/v1/referrals/"+ref.ID, pia.Token, nil).Want(t, http.StatusOK).Map(t)["shared"].(map[string]any)["contact"].(map[string]any)
	for k := range contact {
		if !slices.Contains([]string{"channels", "phone", "email", "best_times", "safe_to_leave_message", "time_zone", "quiet_hours"}, k) {
			t.Fatalf("pia sees alice's %s: %v", k, contact)
		}
	}
	// The client's circle sees the whole referral, and no provider view.
	if v := providerGet(t, e, w.wanda, ref.ID); v.Shared != nil || v.GoalIDRaw == nil || v.Note == "" {
		t.Fatalf("wanda's view %+v", v)
	}
	// Another organization's staff, a provider of none, other clients and workers: 404, and nothing listed.
	for _, u := range []apitest.User{pete, nell, w.bob, w.will, w.adam} {
		e.Do(http.MethodGet, "/v1/referrals/"+ref.ID, u.Token, nil).Problem(t, http.StatusNotFound)
		patchReferral(e, u, ref, map[string]any{"status": "acknowledged"}).Problem(t, http.StatusNotFound)
	}
	if got := providerList(t, e, pete, ""); len(got) != 0 {
		t.Fatalf("pete lists %d referrals", len(got))
	}
	// The provider list is for providers.
	for _, u := range []apitest.User{w.alice, w.wanda, w.adam} {
		e.Do(http.MethodGet, "/v1/provider/referrals", u.Token, nil).Problem(t, http.StatusForbidden)
	}

	// Status moves: If-Match required and checked; providers move status only, never cancel.
	e.Do(http.MethodPatch, "/v1/referrals/"+ref.ID, pia.Token, map[string]any{"status": "acknowledged"}).Problem(t, http.StatusPreconditionRequired)
	stale := ref
	stale.Version = 99
	patchReferral(e, pia, stale, map[string]any{"status": "acknowledged"}).Problem(t, http.StatusPreconditionFailed)
	patchReferral(e, pia, ref, map[string]any{"note": "x"}).Problem(t, http.StatusForbidden)
	patchReferral(e, pia, ref, map[string]any{"status": "cancelled"}).Problem(t, http.StatusConflict)
	var v providerView
	patchReferral(e, pia, ref, map[string]any{"status": "acknowledged"}).Want(t, http.StatusOK).Decode(t, &v)
	patchReferral(e, pia, v.referralView, map[string]any{"status": "accepted"}).Want(t, http.StatusOK).Decode(t, &v)
	if v.Shared == nil || v.GoalIDRaw != nil {
		t.Fatalf("the provider's answer is not the provider's view: %+v", v)
	}
	// Alice sees each move live.
	for _, want := range []string{"acknowledged", "accepted"} {
		_, ev := sa.Next()
		var data struct {
			Status string  `json:"status"`
			GoalID *string `json:"goal_id"`
		}
		if err := json.Unmarshal(ev.Data, &data); err != nil || ev.Type != "referral.updated" || data.Status != want {
			t.Fatalf("alice got %s %s, want referral.updated %s", ev.Type, ev.Data, want)
		}
		if data.GoalID == nil || *data.GoalID != goal.ID {
			t.Fatalf("the event lost the goal shared with the care team: %s", ev.Data)
		}
	}
	patchReferral(e, pia, v.referralView, map[string]any{"status": "in_progress"}).Want(t, http.StatusOK).Decode(t, &v)
	patchReferral(e, pia, v.referralView, map[string]any{"status": "completed"}).Want(t, http.StatusOK).Decode(t, &v)
	full := providerGet(t, e, w.alice, ref.ID)
	var moves []string
	for _, h := range full.StatusHistory {
		moves = append(moves, h.ToStatus+"/"+h.ActorRole)
	}
	if !slices.Equal(moves, []string{"sent/worker", "acknowledged/provider", "accepted/provider", "in_progress/provider", "completed/provider"}) {
		t.Fatalf("history %v", moves)
	}

	// Declining needs a reason, one of the list.
	r2 := newReferral(t, e, w.alice, w.alice, map[string]any{"service_id": svcDowntown.String()})
	var v2 providerView
	patchReferral(e, pia, r2, map[string]any{"status": "acknowledged"}).Want(t, http.StatusOK).Decode(t, &v2)
	p := patchReferral(e, pia, v2.referralView, map[string]any{"status": "declined"}).Problem(t, http.StatusUnprocessableEntity)
	if !apitest.HasErrorAt(p, "body.decline_reason") {
		t.Fatalf("decline without reason: %v", p)
	}
	patchReferral(e, pia, v2.referralView, map[string]any{"status": "declined", "decline_reason": "busy"}).Problem(t, http.StatusUnprocessableEntity)
	patchReferral(e, pia, v2.referralView, map[string]any{"status": "declined", "decline_reason": "capacity"}).Want(t, http.StatusOK).Decode(t, &v2)
	if v2.Status != "declined" || v2.DeclineReason == nil || *v2.DeclineReason != "capacity" {
		t.Fatalf("declined: %+v", v2)
	}
	if got := providerList(t, e, pia, "?status=declined"); len(got) != 1 || got[0].ID != r2.ID {
		t.Fatalf("status filter: %d", len(got))
	}
	if got := providerList(t, e, pia, "?service_id="+svcBallard.String()); len(got) != 1 || got[0].ID != ref.ID {
		t.Fatalf("service filter: %d", len(got))
	}
	if got := providerList(t, e, pia, "?since=2999-01-01T00:00:00Z"); len(got) != 0 {
		t.Fatalf("since filter: %d", len(got))
	}

	// The client narrows sharing (only she may), and the provider sees less at once.
	cur := providerGet(t, e, w.alice, ref.ID)
	patchReferral(e, w.wanda, cur.referralView, map[string]any{"shared_with_provider": []string{"name"}}).Problem(t, http.StatusForbidden)
	patchReferral(e, w.alice, cur.referralView, map[string]any{"shared_with_provider": []string{"name"}}).Want(t, http.StatusOK)
	if v := providerGet(t, e, pia, ref.ID); v.Shared == nil || v.Shared.Contact != nil || v.Shared.FirstName == nil {
		t.Fatalf("after narrowing pia sees %+v", v.Shared)
	}
	cur = providerGet(t, e, w.alice, ref.ID)
	patchReferral(e, w.alice, cur.referralView, map[string]any{"shared_with_provider": []string{"note", "goal_title", "preferred_language"}}).Want(t, http.StatusOK)
	v = providerGet(t, e, pia, ref.ID)
	if v.Shared == nil || v.Shared.FirstName != nil || v.Note != "Alice prefers mornings" || v.Shared.GoalTitle == nil ||
		*v.Shared.GoalTitle != "Eat well this winter" || v.Shared.PreferredLanguage == nil || *v.Shared.PreferredLanguage != "es" {
		t.Fatalf("after widening pia sees note %q %+v", v.Note, v.Shared)
	}
	// A client's own history entries do not name her to a provider who was not shared her name.
	cur2 := providerGet(t, e, w.alice, r2.ID)
	patchReferral(e, w.alice, cur2.referralView, map[string]any{"shared_with_provider": []string{"contact"}}).Want(t, http.StatusOK)
	for _, h := range providerGet(t, e, pia, r2.ID).StatusHistory {
		if h.ActorRole == "client" && h.ChangedByName != "The client" {
			t.Fatalf("history names the client: %+v", h)
		}
	}
	if h := providerGet(t, e, w.alice, r2.ID).StatusHistory[0]; h.ChangedByName != "Alice Johnson" {
		t.Fatalf("alice's own view of her history: %+v", h)
	}

	// Every provider read and write is in Alice's access log, relationship provider.
	var n int64
	e.DB.Raw(`SELECT count(*) FROM access_log WHERE client_id = ? AND actor_person_id = ? AND relationship = 'provider'`,
		w.alice.ClientID, pia.PersonID).Scan(&n)
	var other int64
	e.DB.Raw(`SELECT count(*) FROM access_log WHERE client_id = ? AND actor_person_id = ? AND relationship <> 'provider'`,
		w.alice.ClientID, pia.PersonID).Scan(&other)
	// Reads: the first list, 4 gets of ref, 1 of r2, 2 filtered lists of one; writes: 4 moves of ref, 2 of r2.
	// Refused calls (412, 403, 409, 422) rolled back and wrote nothing.
	if n != 14 || other != 0 {
		t.Fatalf("access log: %d provider entries, %d others", n, other)
	}
	var log struct {
		Items []struct {
			Actor struct {
				ID           string `json:"id"`
				Relationship string `json:"relationship"`
			} `json:"actor"`
			Action string `json:"action"`
		} `json:"items"`
	}
	e.Do(http.MethodGet, w.aliceURL+"/access-log?limit=100", w.alice.Token, nil).Want(t, http.StatusOK).Decode(t, &log)
	seen := map[string]bool{}
	for _, it := range log.Items {
		if it.Actor.ID == pia.PersonID.String() {
			if it.Actor.Relationship != "provider" {
				t.Fatalf("alice's log shows pia as %s", it.Actor.Relationship)
			}
			seen[it.Action] = true
		}
	}
	if !seen["read"] || !seen["write"] {
		t.Fatalf("alice's log of pia: %v", seen)
	}

	// Unlinked, pia loses sight at once.
	o := e.Do(http.MethodDelete, staffPath(orgSeattle, pia.PersonID), w.adam.Token, nil)
	o.Want(t, http.StatusNoContent)
	e.Do(http.MethodGet, "/v1/referrals/"+ref.ID, pia.Token, nil).Problem(t, http.StatusNotFound)
	if got := providerList(t, e, pia, ""); len(got) != 0 {
		t.Fatalf("unlinked pia lists %d", len(got))
	}
}
