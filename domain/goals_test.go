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

// Every (from, to, mover) triple: moves outside the table are 409 naming
// both states for everyone; inside it the client may make every move, the
// care team member who proposed a goal only its withdrawal (proposed ->
// cancelled), any other care team member none (403 naming who may).
func TestCheckGoalTransition(t *testing.T) {
	statuses := domain.GoalLifecycleStatuses()
	allowed := 0
	for _, from := range statuses {
		for _, to := range statuses {
			inTable := slices.Contains(strings.Fields(wantTransitions()[from]), to)
			for _, m := range domain.GoalMovers() {
				err := domain.CheckGoalTransition(from, to, m)
				may := inTable && (m == domain.MoverClient || (m == domain.MoverProposer && from == "proposed" && to == "cancelled"))
				if may != domain.GoalMoveAllowed(from, to, m) {
					t.Errorf("GoalMoveAllowed(%s, %s, %v) = %v", from, to, m, !may)
				}
				var want domain.Kind
				switch {
				case !inTable:
					want = domain.KindConflict
				case !may:
					want = domain.KindForbidden
				}
				if (want == 0) != (err == nil) || (want != 0 && !domain.IsKind(err, want)) {
					t.Errorf("%v moves %s -> %s: %v, want kind %d", m, from, to, err, want)
					continue
				}
				if err == nil {
					continue
				}
				if msg := err.Error(); !strings.Contains(msg, from) || !strings.Contains(msg, to) || !strings.Contains(msg, "lifecycle_status") {
					t.Errorf("%s -> %s: message %q does not name both states and the field", from, to, msg)
				}
				if want == domain.KindForbidden && !strings.Contains(err.Error(), "the client") {
					t.Errorf("%s -> %s: message %q does not say who may", from, to, err)
				}
			}
			if inTable {
				allowed++
			}
		}
	}
	if allowed != 29 {
		t.Fatalf("%d allowed moves, want 29", allowed)
	}
}
