package domain_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/waypoint-portal/waypoint/domain"
)

// The lifecycle table, written out independently of the code: a change to
// either must be a deliberate change to both.
func wantTransitions() map[string]string {
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

func TestGoalTransitionTable(t *testing.T) {
	statuses := domain.GoalLifecycleStatuses()
	if len(statuses) != len(wantTransitions()) {
		t.Fatalf("%d statuses, the table has %d", len(statuses), len(wantTransitions()))
	}
	for _, from := range statuses {
		want := strings.Fields(wantTransitions()[from])
		got := domain.GoalTransitions(from)
		if !slices.Equal(got, want) {
			t.Errorf("%s -> %v, want %v", from, got, want)
		}
		for _, to := range got {
			if !slices.Contains(statuses, to) {
				t.Errorf("%s -> unknown status %s", from, to)
			}
		}
	}
	if domain.GoalTransitions("finished") != nil {
		t.Error("an unknown status has moves")
	}
}

// Every pair of statuses: allowed moves pass for the client, forbidden ones
// are 409 naming both states; a worker is refused (403) exactly the moves
// that belong to the client: accepting, rejecting, entered-in-error.
func TestCheckGoalTransition(t *testing.T) {
	statuses := domain.GoalLifecycleStatuses()
	allowed := 0
	for _, from := range statuses {
		for _, to := range statuses {
			inTable := slices.Contains(strings.Fields(wantTransitions()[from]), to)
			clientErr := domain.CheckGoalTransition(from, to, true)
			workerErr := domain.CheckGoalTransition(from, to, false)
			if !inTable {
				for who, err := range map[string]error{"client": clientErr, "worker": workerErr} {
					if !domain.IsKind(err, domain.KindConflict) {
						t.Errorf("%s %s -> %s: %v, want a conflict", who, from, to, err)
						continue
					}
					if msg := err.Error(); !strings.Contains(msg, from) || !strings.Contains(msg, to) || !strings.Contains(msg, "body.lifecycle_status") {
						t.Errorf("%s -> %s: message %q does not name both states and the field", from, to, msg)
					}
				}
				continue
			}
			allowed++
			if clientErr != nil {
				t.Errorf("client %s -> %s: %v", from, to, clientErr)
			}
			clientOnly := to == "rejected" || to == "entered-in-error" || (from == "proposed" && (to == "accepted" || to == "active"))
			switch {
			case clientOnly && !domain.IsKind(workerErr, domain.KindForbidden):
				t.Errorf("worker %s -> %s: %v, want forbidden", from, to, workerErr)
			case !clientOnly && workerErr != nil:
				t.Errorf("worker %s -> %s: %v, want allowed", from, to, workerErr)
			}
			if clientOnly != domain.GoalTransitionClientOnly(from, to) {
				t.Errorf("GoalTransitionClientOnly(%s, %s) = %v", from, to, !clientOnly)
			}
		}
	}
	if allowed != 29 {
		t.Fatalf("%d allowed moves, want 29", allowed)
	}
	// A sample spelled out, as a reader would check it.
	for _, tc := range []struct {
		from, to string
		byClient bool
		kind     domain.Kind
	}{
		{"proposed", "active", true, 0},
		{"proposed", "active", false, domain.KindForbidden},
		{"proposed", "cancelled", false, 0}, // a worker may withdraw their proposal
		{"active", "completed", false, 0},
		{"active", "entered-in-error", false, domain.KindForbidden},
		{"completed", "active", true, 0}, // reopening
		{"entered-in-error", "active", true, domain.KindConflict},
		{"rejected", "accepted", true, domain.KindConflict},
		{"active", "active", true, domain.KindConflict},
	} {
		err := domain.CheckGoalTransition(tc.from, tc.to, tc.byClient)
		if (tc.kind == 0) != (err == nil) || (tc.kind != 0 && !domain.IsKind(err, tc.kind)) {
			t.Errorf("%s -> %s (client %v): %v, want kind %d", tc.from, tc.to, tc.byClient, err, tc.kind)
		}
	}
}
