package api_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/waypoint-portal/waypoint/api/apitest"
)

// caseload lists who's clients with the given query string.
func caseload(t *testing.T, e *apitest.Env, who apitest.User, query string) []string {
	t.Helper()
	got := listIDs(t, e.Do(http.MethodGet, "/v1/clients?"+query, who.Token, nil).Want(t, http.StatusOK))
	slices.Sort(got)
	return got
}

func clientIDsOf(users ...apitest.User) []string {
	out := []string{}
	for _, u := range users {
		out = append(out, u.ClientID.String())
	}
	slices.Sort(out)
	return out
}

// "My clients with goals due this week": goal_due_from/goal_due_to keep the
// clients of the caller's own list with an open goal the caller may see due
// in the range; private goals and sud goals without consent do not count.
func TestCaseloadGoalsDue(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	e := tm.e
	carol := e.Login("carol", "client")
	dora := e.Login("dora", "client")
	tm.addToTeam(t, carol, tm.wanda)
	tm.addToTeam(t, dora, tm.wanda)
	const week = "goal_due_from=2030-03-04&goal_due_to=2030-03-10"

	// alice: due in the week (the last day counts); bob (oscar's client, not
	// wanda's): due in the week too; carol: due the day after; dora: none.
	teamGoal(t, e, tm.wanda, tm.alice, map[string]any{"title": "Renew ID", "target_date": "2030-03-10"})
	teamGoal(t, e, tm.oscar, tm.bob, map[string]any{"title": "Apply for SNAP", "target_date": "2030-03-05"})
	teamGoal(t, e, tm.wanda, carol, map[string]any{"title": "Open a bank account", "target_date": "2030-03-11"})
	if got, want := caseload(t, e, tm.wanda, week), clientIDsOf(tm.alice); !slices.Equal(got, want) {
		t.Fatalf("wanda's clients due this week %v, want %v", got, want)
	}
	if got := caseload(t, e, tm.wanda, ""); len(got) != 3 {
		t.Fatalf("without the filter wanda lists %d clients, want 3", len(got))
	}
	// Open-ended ranges.
	if got, want := caseload(t, e, tm.wanda, "goal_due_from=2030-03-11"), clientIDsOf(carol); !slices.Equal(got, want) {
		t.Fatalf("due from 2030-03-11: %v, want %v", got, want)
	}
	if got, want := caseload(t, e, tm.wanda, "goal_due_to=2030-03-11"), clientIDsOf(tm.alice, carol); !slices.Equal(got, want) {
		t.Fatalf("due to 2030-03-11: %v, want %v", got, want)
	}
	// The client sees only themself, the admin (who does not see goals) nobody.
	if got, want := caseload(t, e, tm.bob, week), clientIDsOf(tm.bob); !slices.Equal(got, want) {
		t.Fatalf("bob's own list %v, want %v", got, want)
	}
	if got := caseload(t, e, tm.adam, week); len(got) != 0 {
		t.Fatalf("admin lists %v by goal due date; admins do not see goals", got)
	}

	// A completed goal is not due.
	done := teamGoal(t, e, tm.wanda, dora, map[string]any{"title": "Get a library card", "target_date": "2030-03-06"})
	if got, want := caseload(t, e, tm.wanda, week), clientIDsOf(tm.alice, dora); !slices.Equal(got, want) {
		t.Fatalf("with dora's goal: %v, want %v", got, want)
	}
	patchTeamGoal(t, e, dora, done.ID, map[string]any{"lifecycle_status": "cancelled"}).Want(t, http.StatusOK)
	if got, want := caseload(t, e, tm.wanda, week), clientIDsOf(tm.alice); !slices.Equal(got, want) {
		t.Fatalf("dora's cancelled goal still counts: %v, want %v", got, want)
	}

	// carol's private goal due this week: carol's alone, it does not put her
	// on wanda's list; her sud goal counts only for a worker she consented to.
	teamGoal(t, e, carol, carol, map[string]any{"title": "See my sister", "target_date": "2030-03-07", "visibility": "private"})
	if got, want := caseload(t, e, carol, week), clientIDsOf(carol); !slices.Equal(got, want) {
		t.Fatalf("carol's own list %v, want %v", got, want)
	}
	if got, want := caseload(t, e, tm.wanda, week), clientIDsOf(tm.alice); !slices.Equal(got, want) {
		t.Fatalf("a private goal revealed itself: %v, want %v", got, want)
	}
	teamGoal(t, e, carol, carol, map[string]any{"title": "Stay in recovery", "target_date": "2030-03-08", "sensitivity": "sud"})
	if got, want := caseload(t, e, tm.wanda, week), clientIDsOf(tm.alice); !slices.Equal(got, want) {
		t.Fatalf("a sud goal without consent revealed itself: %v, want %v", got, want)
	}
	e.Do(http.MethodPut, consentPath(carol, tm.wanda), carol.Token, nil).Want(t, http.StatusCreated)
	if got, want := caseload(t, e, tm.wanda, week), clientIDsOf(tm.alice, carol); !slices.Equal(got, want) {
		t.Fatalf("after carol's consent: %v, want %v", got, want)
	}
	// Off the team, the client is off the list whatever her goals.
	tm.removeFromTeam(t, tm.alice, tm.wanda)
	if got, want := caseload(t, e, tm.wanda, week), clientIDsOf(carol); !slices.Equal(got, want) {
		t.Fatalf("after leaving alice's team: %v, want %v", got, want)
	}
}

func TestCaseloadGoalsDueBadInput(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	for _, tc := range []struct{ query, field string }{
		{"goal_due_from=2030-13-01", "query.goal_due_from"},
		{"goal_due_from=next-week", "query.goal_due_from"},
		{"goal_due_to=2030-03-04T00:00:00Z", "query.goal_due_to"},
		{"goal_due_from=2030-03-10&goal_due_to=2030-03-04", "query.goal_due_to"},
	} {
		p := tm.e.Do(http.MethodGet, "/v1/clients?"+tc.query, tm.wanda.Token, nil).Problem(t, http.StatusUnprocessableEntity)
		if !apitest.HasErrorAt(p, tc.field) {
			t.Errorf("%s: problem does not name %s: %v", tc.query, tc.field, p)
		}
	}
}
