package api

import (
	"context"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/domain"
)

// GoalHistoryEntry is one recorded change to a goal.
type GoalHistoryEntry struct {
	ID       uuid.UUID `json:"id" doc:"Entry id (UUIDv7; entries sort by it)"`
	GoalID   uuid.UUID `json:"goal_id"`
	At       time.Time `json:"at" doc:"When the change was made"`
	Actor    GoalActor `json:"actor" doc:"Who made it"`
	Field    string    `json:"field" rule:"goal_history.field" example:"steps[01936f5e-6c1a-7b3e-9d2f-3a4b5c6d7e8f].title" doc:"What changed: a goal field (title, lifecycle_status, ...), goal (created), steps[<id>] (step added or deleted), steps[<id>].<field>, check_ins[<id>] (check-in recorded), referral[<id>].<field> (a linked referral)"`
	OldValue any       `json:"old_value" doc:"Value before (JSON; null when there was none)"`
	NewValue any       `json:"new_value" doc:"Value after (JSON; null when cleared or deleted)"`
}

func historyDTO(h domain.GoalHistoryEntry) GoalHistoryEntry {
	return GoalHistoryEntry{ID: h.ID, GoalID: h.GoalID, At: h.At.UTC(),
		Actor: GoalActor{PersonID: h.ActorPersonID, DisplayName: h.ActorDisplayName, Role: h.ActorRole},
		Field: h.Field, OldValue: h.OldValue.V, NewValue: h.NewValue.V}
}

type historyOutput struct {
	Redisclosure string `header:"Waypoint-Redisclosure" doc:"The 42 CFR Part 2 redisclosure notice: present exactly when the response carries a record labelled sud"`
	Body         Page[GoalHistoryEntry]
}

// registerGoalHistory lists who changed what on a goal.
func (s *Server) registerGoalHistory() {
	handle(s.api, op(http.MethodGet, "/v1/goals/{goalId}/history", "listGoalHistory", goalTag, "List a goal's history",
		"Who changed what and when: one entry per changed field (goal fields, steps, check-ins, linked referrals), written "+
			"in the same transaction as the change. Oldest first unless order=desc.",
		"goals:read", notFound, invalid),
		func(ctx context.Context, in *subListInput) (*historyOutput, error) {
			rows, next, err := s.store.ListGoalHistory(ctx, actorFrom(ctx), in.GoalID,
				domain.ListFilter{Cursor: in.Cursor, Limit: in.Limit, Desc: in.Order == "desc"})
			if err != nil {
				return nil, err
			}
			return &historyOutput{Redisclosure: redisclosureOf(rows, func(h domain.GoalHistoryEntry) *string { return h.Sensitivity }),
				Body: newPage(rows, next, historyDTO)}, nil
		})
}
