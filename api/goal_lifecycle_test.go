package api_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/api/apitest"
)

// goalMovesByClient is DESIGN.md's lifecycle table, written out here apart
// from the code: the moves the client may make. A change to either must be a
// deliberate change to both.
func goalMovesByClient() map[string]string {
	return map[string]string{
		"proposed":         "accepted active rejected cancelled entered-in-error",
		"planned":          "accepted active on-hold cancelled entered-in-error",
		"accepted":         "active on-hold completed cancelled entered-in-error",
		"active":           "on-hold completed cancelled entered-in-error",
		"on-hold":          "active completed cancelled entered-in-error",
		"completed":        "active entered-in-error",
		"cancelled":        "active planned entered-in-error",
		"rejected":         "entered-in-error",
		"entered-in-error": "",
	}
}

var lifecycleStatuses = []string{"proposed", "planned", "accepted", "active", "on-hold", "completed", "cancelled",
	"entered-in-error", "rejected"}

// lifecycleWorld is a client with two care-team workers; goals are written
// straight into the table in any status, proposed by the first worker.
type lifecycleWorld struct {
	e                    *apitest.Env
	client, proposer, co apitest.User
}

func newLifecycleWorld(t *testing.T) *lifecycleWorld {
	w := newWorld(t)
	co := w.e.Login("walt", "worker")
	w.e.Do(http.MethodPut, w.aliceURL+"/care-team/"+co.PersonID.String(), w.adam.Token, nil).Want(t, http.StatusCreated)
	return &lifecycleWorld{e: w.e, client: w.alice, proposer: w.wanda, co: co}
}

// goalIn inserts a goal the proposer proposed, now in status.
func (lw *lifecycleWorld) goalIn(t *testing.T, status string) string {
	t.Helper()
	id := uuid.Must(uuid.NewV7()).String()
	err := lw.e.DB.Exec(`INSERT INTO goals (client_id, id, title, lifecycle_status, created_by) VALUES (?, ?, ?, ?, ?)`,
		lw.client.ClientID, id, "A goal that is "+status, status, lw.proposer.PersonID).Error
	if err != nil {
		t.Fatal(err)
	}
	return id
}

type goalRow struct {
	LifecycleStatus string
	Version         int64
	History         int64
}

func (lw *lifecycleWorld) row(t *testing.T, id string) goalRow {
	t.Helper()
	var r goalRow
	err := lw.e.DB.Raw(`SELECT g.lifecycle_status, g.version, (SELECT count(*) FROM goal_history h WHERE h.goal_id = g.id) AS history
		FROM goals g WHERE g.id = ?`, id).Scan(&r).Error
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Finding 2, every (from, to, actor) triple through PATCH: the client makes
// every move of the table; the worker who proposed a goal may only withdraw
// it (proposed -> cancelled); another care-team worker makes no move. A move
// outside the table is 409 for everyone; a move someone else may make is
// 403; naming the current status is no change. Refused moves write nothing.
func TestGoalLifecycleOwnership(t *testing.T) {
	t.Parallel()
	lw := newLifecycleWorld(t)
	e := lw.e
	actors := []struct {
		name string
		user apitest.User
	}{{"client", lw.client}, {"proposer", lw.proposer}, {"co-worker", lw.co}}
	checked := 0
	for _, from := range lifecycleStatuses {
		for _, to := range lifecycleStatuses {
			inTable := slices.Contains(strings.Fields(goalMovesByClient()[from]), to)
			for _, a := range actors {
				want := http.StatusConflict
				switch {
				case from == to && from != "entered-in-error":
					want = http.StatusOK // no change
				case !inTable:
				case a.name == "client", a.name == "proposer" && from == "proposed" && to == "cancelled":
					want = http.StatusOK
				default:
					want = http.StatusForbidden
				}
				checked++
				id := lw.goalIn(t, from)
				before := lw.row(t, id)
				r := e.Do(http.MethodPatch, goalPath(id), a.user.Token, map[string]any{"lifecycle_status": to, "title": "moved"},
					"If-Match", fmt.Sprintf(`"%d"`, before.Version))
				after := lw.row(t, id)
				if r.Status != want {
					t.Errorf("%s moves %s -> %s: %d, want %d: %s", a.name, from, to, r.Status, want, r.Body)
					continue
				}
				if want != http.StatusOK {
					p := r.Problem(t, want)
					if d, _ := p["detail"].(string); from != to && (!strings.Contains(d, from) || !strings.Contains(d, to)) {
						t.Errorf("%s moves %s -> %s: detail %q does not name both states", a.name, from, to, d)
					}
					if after != before {
						t.Errorf("%s moves %s -> %s: refused, yet the goal changed: %+v -> %+v", a.name, from, to, before, after)
					}
					continue
				}
				if after.LifecycleStatus != to || after.Version != before.Version+1 || after.History <= before.History {
					t.Errorf("%s moves %s -> %s: now %+v (was %+v)", a.name, from, to, after, before)
				}
			}
		}
	}
	if checked != 9*9*3 {
		t.Fatalf("checked %d triples", checked)
	}
}

// Accepting and rejecting are the client's moves out of proposed: workers
// (the proposer too) get 403 whatever the state, the client 409 for a goal
// that is not proposed. Creating: a worker's goal starts proposed, and asking
// for any other status is 403.
func TestGoalAcceptRejectCreateOwnership(t *testing.T) {
	t.Parallel()
	lw := newLifecycleWorld(t)
	e := lw.e
	for _, action := range []string{"accept", "reject"} {
		for _, from := range lifecycleStatuses {
			for _, a := range []struct {
				name string
				user apitest.User
			}{{"client", lw.client}, {"proposer", lw.proposer}, {"co-worker", lw.co}} {
				want := http.StatusForbidden
				if a.name == "client" {
					want = http.StatusConflict
					if from == "proposed" {
						want = http.StatusOK
					}
				}
				id := lw.goalIn(t, from)
				before := lw.row(t, id)
				r := e.Do(http.MethodPost, goalPath(id)+"/"+action, a.user.Token, nil)
				after := lw.row(t, id)
				if r.Status != want {
					t.Errorf("%s %ss a %s goal: %d, want %d: %s", a.name, action, from, r.Status, want, r.Body)
					continue
				}
				if want != http.StatusOK {
					r.Problem(t, want)
					if after != before {
						t.Errorf("%s %ss a %s goal: refused, yet it changed", a.name, action, from)
					}
					continue
				}
				if wantStatus := map[string]string{"accept": "active", "reject": "rejected"}[action]; after.LifecycleStatus != wantStatus {
					t.Errorf("%s %ss: now %s", a.name, action, after.LifecycleStatus)
				}
			}
		}
	}

	for _, tc := range []struct {
		who    apitest.User
		status string
		want   int
	}{
		{lw.proposer, "", http.StatusCreated}, {lw.proposer, "proposed", http.StatusCreated},
		{lw.proposer, "active", http.StatusForbidden}, {lw.proposer, "planned", http.StatusForbidden},
		{lw.co, "active", http.StatusForbidden},
		{lw.client, "", http.StatusCreated}, {lw.client, "planned", http.StatusCreated},
		{lw.client, "proposed", http.StatusUnprocessableEntity},
	} {
		body := map[string]any{"title": "New goal"}
		if tc.status != "" {
			body["lifecycle_status"] = tc.status
		}
		var n, m int64
		e.DB.Raw(`SELECT count(*) FROM goals`).Scan(&n)
		r := e.Do(http.MethodPost, goalsPath(lw.client), tc.who.Token, body)
		e.DB.Raw(`SELECT count(*) FROM goals`).Scan(&m)
		if r.Status != tc.want {
			t.Errorf("%s creates a goal as %q: %d, want %d: %s", tc.who.Subject, tc.status, r.Status, tc.want, r.Body)
			continue
		}
		if tc.want != http.StatusCreated {
			r.Problem(t, tc.want)
			if m != n {
				t.Errorf("%s creates a goal as %q: refused, yet a goal was written", tc.who.Subject, tc.status)
			}
			continue
		}
		if got := r.Map(t)["lifecycle_status"]; tc.who.Subject != "alice" && got != "proposed" {
			t.Errorf("a worker's goal starts %v", got)
		}
	}
}
