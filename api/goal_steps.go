package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/domain"
)

// GoalStep is a milestone of a goal.
type GoalStep struct {
	ID        uuid.UUID  `json:"id" doc:"Step id (UUIDv7)"`
	Title     string     `json:"title" rule:"goal_step.title" example:"Get my ID replaced"`
	DueDate   *string    `json:"due_date" format:"date" example:"2025-07-15" doc:"null when open"`
	Done      bool       `json:"done" doc:"Whether the step is done"`
	DoneAt    *time.Time `json:"done_at" doc:"When it was marked done; null while open"`
	Position  int        `json:"position" rule:"goal_step.position" example:"1" doc:"Order within the goal, 1 first"`
	Version   int64      `json:"version" rule:"version" example:"1" doc:"The step's version: send it as If-Match (quoted) to change or delete the step"`
	CreatedBy uuid.UUID  `json:"created_by" doc:"Person who added the step"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

func stepDTO(s domain.Step) GoalStep {
	var done *time.Time
	if s.DoneAt != nil {
		t := s.DoneAt.UTC()
		done = &t
	}
	return GoalStep{ID: s.ID, Title: s.Title, DueDate: s.DueDate, Done: done != nil, DoneAt: done, Position: s.Position,
		Version: s.Version, CreatedBy: s.CreatedBy, CreatedAt: s.CreatedAt.UTC(), UpdatedAt: s.UpdatedAt.UTC()}
}

// GoalStepCreate adds a step.
type GoalStepCreate struct {
	Title    string `json:"title" rule:"goal_step.title" example:"Get my ID replaced"`
	DueDate  string `json:"due_date,omitempty" format:"date" example:"2025-07-15"`
	Position *int   `json:"position,omitempty" minimum:"1" maximum:"2147483647" example:"1" doc:"Insert at this position (1 = first), moving later steps down; past the end or by default: last"`
}

// GoalStepPatch is a JSON Merge Patch of a step.
type GoalStepPatch struct {
	Title    *string `json:"title,omitempty" rule:"goal_step.title" example:"Get my ID and birth certificate"`
	DueDate  *string `json:"due_date,omitempty" nullable:"true" format:"date" doc:"null clears it"`
	Done     *bool   `json:"done,omitempty" example:"true" doc:"true marks the step done now (kept if already done); false reopens it"`
	Position *int    `json:"position,omitempty" minimum:"1" maximum:"2147483647" example:"1" doc:"Move the step here (1 = first; past the end = last); the steps in between shift"`
}

// StepPath addresses one step of a goal.
type StepPath struct {
	GoalID uuid.UUID `path:"goalId" doc:"Goal id"`
	StepID uuid.UUID `path:"stepId" doc:"Step id"`
}

type addStepInput struct {
	GoalPath
	Body GoalStepCreate
}

type patchStepInput struct {
	StepPath
	IfMatch string `header:"If-Match" doc:"The step's ETag (its version, quoted) from your last read (required)"`
	RawBody []byte
	Body    GoalStepPatch `contentType:"application/merge-patch+json"`
}

type deleteStepInput struct {
	StepPath
	IfMatch string `header:"If-Match" doc:"The step's ETag (its version, quoted) from your last read (required)"`
}

type stepOutput struct {
	ETag         string `header:"ETag" doc:"Strong ETag: the step's version"`
	Redisclosure string `header:"Waypoint-Redisclosure" doc:"The 42 CFR Part 2 redisclosure notice: present exactly when the response carries a record labelled sud"`
	Body         GoalStep
}

func stepOut(st domain.Step) *stepOutput {
	return &stepOutput{ETag: etag(st.Version), Redisclosure: redisclosure(st.Sensitivity), Body: stepDTO(st)}
}

// registerGoalSteps adds, changes and deletes the steps of a goal.
func (s *Server) registerGoalSteps() {
	addStep := Idempotent(op(http.MethodPost, "/v1/goals/{goalId}/steps", "addGoalStep", goalTag, "Add a step",
		"Adds a step (at the end, or at position, moving later steps down). The client and their care team may; at most "+
			"50 steps per goal (409 beyond). Changes the goal's version.",
		"goals:write", notFound, invalid, conflict, tooLarge, badType), s.replayForGoal)
	addStep.DefaultStatus = http.StatusCreated
	handle(s.api, addStep, func(ctx context.Context, in *addStepInput) (*stepOutput, error) {
		st, err := s.store.AddStep(ctx, actorFrom(ctx), in.GoalID, domain.StepInput{
			Title: in.Body.Title, DueDate: in.Body.DueDate, Position: in.Body.Position})
		if err != nil {
			return nil, err
		}
		return stepOut(st), nil
	})

	handle(s.api, op(http.MethodPatch, "/v1/goals/{goalId}/steps/{stepId}", "patchGoalStep", goalTag, "Change a step",
		"JSON Merge Patch of a step: title, due date (null clears), done, position (reorders; the steps in between shift "+
			"and get new versions). Requires If-Match with the step's version (428/412 as for goals). The client and their "+
			"care team may. Changes the goal's version.",
		"goals:write", notFound, invalid, conflict, stale, noMatch, tooLarge, badType),
		func(ctx context.Context, in *patchStepInput) (*stepOutput, error) {
			k := parseMergeKeys(in.RawBody)
			if k["done"] {
				return nil, huma.Error422UnprocessableEntity("done is true or false", &huma.ErrorDetail{
					Location: "body.done", Message: "done cannot be null; send true or false", Value: nil})
			}
			p := domain.StepPatch{
				Title:    patchValue(k, "title", in.Body.Title),
				DueDate:  patchValue(k, "due_date", in.Body.DueDate),
				Done:     in.Body.Done,
				Position: patchValue(k, "position", in.Body.Position),
			}
			st, err := conditionalWrite(in.IfMatch, func(v domain.Precondition) (domain.Step, error) {
				return s.store.UpdateStep(ctx, actorFrom(ctx), in.GoalID, in.StepID, v, p)
			})
			if err != nil {
				return nil, err
			}
			return stepOut(st), nil
		})

	del := op(http.MethodDelete, "/v1/goals/{goalId}/steps/{stepId}", "deleteGoalStep", goalTag, "Delete a step",
		"Only the client may delete a step of their goal (403 for workers, who can edit it or mark it done). Requires "+
			"If-Match with the step's version. Later steps move up. The deletion is recorded in the goal's history.",
		"goals:write", notFound, invalid, conflict, stale, noMatch)
	del.DefaultStatus = http.StatusNoContent
	handle(s.api, del, func(ctx context.Context, in *deleteStepInput) (*struct{}, error) {
		return nil, conditionalDo(in.IfMatch, func(v domain.Precondition) error {
			return s.store.DeleteStep(ctx, actorFrom(ctx), in.GoalID, in.StepID, v)
		})
	})

}
