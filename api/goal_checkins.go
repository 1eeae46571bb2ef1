package api

import (
	"context"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/domain"
)

// GoalCheckIn is a rating of progress on a goal.
type GoalCheckIn struct {
	ID        uuid.UUID `json:"id" doc:"Check-in id (UUIDv7)"`
	GoalID    uuid.UUID `json:"goal_id"`
	Rating    int       `json:"rating" rule:"check_in.rating" example:"6" doc:"0 (no progress at all) to 10 (there)"`
	Note      *string   `json:"note" rule:"check_in.note" example:"Viewed two apartments this week" doc:"null when not given"`
	Mood      *string   `json:"mood" rule:"check_in.mood" example:"good" doc:"How the author felt, hardest to best; null when not given"`
	Author    GoalActor `json:"author" doc:"Who recorded it; only the client's own check-ins count towards latest_rating and trend"`
	CreatedAt time.Time `json:"created_at"`
}

func checkInDTO(c domain.CheckIn) GoalCheckIn {
	return GoalCheckIn{ID: c.ID, GoalID: c.GoalID, Rating: c.Rating, Note: c.Note, Mood: c.Mood,
		Author:    GoalActor{PersonID: c.AuthorPersonID, DisplayName: c.AuthorDisplayName, Role: c.AuthorRole},
		CreatedAt: c.CreatedAt.UTC()}
}

// GoalCheckInCreate records a check-in.
type GoalCheckInCreate struct {
	Rating int    `json:"rating" rule:"check_in.rating" example:"6" doc:"0 (no progress at all) to 10 (there)"`
	Note   string `json:"note,omitempty" rule:"check_in.note" example:"Viewed two apartments this week"`
	Mood   string `json:"mood,omitempty" rule:"check_in.mood" example:"good" doc:"How you feel about it, hardest to best"`
}

type addCheckInInput struct {
	GoalPath
	Body GoalCheckInCreate
}

type checkInOutput struct {
	Redisclosure string `header:"Waypoint-Redisclosure" doc:"The 42 CFR Part 2 redisclosure notice: present exactly when the response carries a record labelled sud"`
	Body         GoalCheckIn
}

type checkInsOutput struct {
	Redisclosure string `header:"Waypoint-Redisclosure" doc:"The 42 CFR Part 2 redisclosure notice: present exactly when the response carries a record labelled sud"`
	Body         Page[GoalCheckIn]
}

// registerGoalCheckIns lists and records check-ins on a goal.
func (s *Server) registerGoalCheckIns() {
	handle(s.api, op(http.MethodGet, "/v1/goals/{goalId}/check-ins", "listGoalCheckIns", goalTag, "List a goal's check-ins",
		"Every check-in with its author and their role (client or worker). Oldest first unless order=desc.",
		"goals:read", notFound, invalid),
		func(ctx context.Context, in *subListInput) (*checkInsOutput, error) {
			rows, next, err := s.store.ListCheckIns(ctx, actorFrom(ctx), in.GoalID,
				domain.ListFilter{Cursor: in.Cursor, Limit: in.Limit, Desc: in.Order == "desc"})
			if err != nil {
				return nil, err
			}
			return &checkInsOutput{Redisclosure: redisclosureOf(rows, func(c domain.CheckIn) *string { return c.Sensitivity }),
				Body: newPage(rows, next, checkInDTO)}, nil
		})

	addCheckIn := Idempotent(op(http.MethodPost, "/v1/goals/{goalId}/check-ins", "addGoalCheckIn", goalTag, "Record a check-in",
		"A rating of progress 0-10 with an optional note and mood. The client rates themself; a care team member's check-in "+
			"is recorded as theirs (author.role worker) and does not count towards latest_rating or trend. Changes the goal's version.",
		"goals:write", notFound, invalid, conflict, tooLarge, badType), s.replayForGoal)
	addCheckIn.DefaultStatus = http.StatusCreated
	handle(s.api, addCheckIn, func(ctx context.Context, in *addCheckInInput) (*checkInOutput, error) {
		c, err := s.store.AddCheckIn(ctx, actorFrom(ctx), in.GoalID, domain.CheckInInput{
			Rating: in.Body.Rating, Note: in.Body.Note, Mood: in.Body.Mood})
		if err != nil {
			return nil, err
		}
		return &checkInOutput{Redisclosure: redisclosure(c.Sensitivity), Body: checkInDTO(c)}, nil
	})
}
