package api

import (
	"strings"

	"github.com/waypoint-portal/waypoint/domain"
)

// goalLifecycleDoc renders the domain's lifecycle table, so the contract
// cannot drift from the rule.
func goalLifecycleDoc() string {
	var b strings.Builder
	b.WriteString("| from | the client may move it to | the care team member who proposed it may move it to | another care team member |\n|---|---|---|---|\n")
	for _, from := range domain.GoalLifecycleStatuses() {
		cols := make([]string, 0, 3)
		for _, m := range domain.GoalMovers() {
			var to []string
			for _, t := range domain.GoalTransitions(from) {
				if domain.GoalMoveAllowed(from, t, m) {
					to = append(to, t)
				}
			}
			cell := strings.Join(to, ", ")
			if cell == "" {
				cell = "—"
			}
			cols = append(cols, cell)
		}
		b.WriteString("| " + from + " | " + strings.Join(cols, " | ") + " |\n")
	}
	return b.String()
}
