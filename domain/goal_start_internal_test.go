package domain

import (
	"slices"
	"testing"
)

// TestGoalStartStatusesMatchTheRule: GoalStartStatuses (what the API
// schema offers) lists exactly the statuses some creator may start a goal
// in, as goalStartStatus decides.
func TestGoalStartStatusesMatchTheRule(t *testing.T) {
	for _, s := range GoalLifecycleStatuses() {
		someone := false
		for _, m := range GoalMovers() {
			if got, err := goalStartStatus(m, s); err == nil && got == s {
				someone = true
			}
		}
		if want := slices.Contains(GoalStartStatuses(), s); someone != want {
			t.Errorf("%s: a goal may start in it: %v; GoalStartStatuses lists it: %v", s, someone, want)
		}
	}
}
