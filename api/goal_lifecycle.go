package api

import (
	"context"
	"net/http"
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

// GoalAccept optionally says what accepting means.
type GoalAccept struct {
	LifecycleStatus string `json:"lifecycle_status,omitempty" rule:"goal.accept_status" example:"active" doc:"active (default): start working on it; accepted: agreed, not started yet"`
}

// GoalReject optionally gives the client's reason.
type GoalReject struct {
	Reason string `json:"reason,omitempty" rule:"goal.status_reason" example:"Not the right time for me" doc:"Kept as the goal's status_reason"`
}

type acceptGoalInput struct {
	GoalPath
	IfMatch string      `header:"If-Match" doc:"Optional: the ETag of the proposal you read, so you accept exactly that version (412 if it changed)"`
	Body    *GoalAccept `required:"false"`
}

type rejectGoalInput struct {
	GoalPath
	IfMatch string      `header:"If-Match" doc:"Optional: the ETag of the proposal you read (412 if it changed)"`
	Body    *GoalReject `required:"false"`
}

// registerGoalProposals lets the client accept or reject a goal a care team member proposed.
func (s *Server) registerGoalProposals() {
	handle(s.api, op(http.MethodPost, "/v1/goals/{goalId}/accept", "acceptGoal", goalTag, "Accept a proposed goal",
		"The client accepts a goal a care team member proposed: it becomes active (or accepted: agreed, not started). "+
			"Only the client may (403 for workers); only a proposed goal can be accepted (409 otherwise). Send If-Match to "+
			"accept exactly the version you read.",
		"goals:write", notFound, invalid, conflict, stale, badType),
		func(ctx context.Context, in *acceptGoalInput) (*goalOutput, error) {
			to := ""
			if in.Body != nil {
				to = in.Body.LifecycleStatus
			}
			g, err := optionalConditionalWrite(in.IfMatch, func(v domain.Precondition) (domain.Goal, error) {
				return s.store.AcceptGoal(ctx, actorFrom(ctx), in.GoalID, v, to)
			})
			if err != nil {
				return nil, err
			}
			return goalOut(g), nil
		})

	handle(s.api, op(http.MethodPost, "/v1/goals/{goalId}/reject", "rejectGoal", goalTag, "Reject a proposed goal",
		"The client declines a goal a care team member proposed, optionally saying why (kept as status_reason). Only the "+
			"client may (403 for workers); only a proposed goal can be rejected (409 otherwise).",
		"goals:write", notFound, invalid, conflict, stale, badType),
		func(ctx context.Context, in *rejectGoalInput) (*goalOutput, error) {
			reason := ""
			if in.Body != nil {
				reason = in.Body.Reason
			}
			g, err := optionalConditionalWrite(in.IfMatch, func(v domain.Precondition) (domain.Goal, error) {
				return s.store.RejectGoal(ctx, actorFrom(ctx), in.GoalID, v, reason)
			})
			if err != nil {
				return nil, err
			}
			return goalOut(g), nil
		})
}
