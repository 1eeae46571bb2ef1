package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/domain"
)

const goalTag = "Goals"

const goalFHIRDoc = "A client's goal, in their own words. Only the client and the workers on their care team can see it " +
	"(administrators and everyone else get 404).\n\n" +
	"**FHIR R4 alignment.** Waypoint's JSON is its own, but every field maps onto the FHIR R4 `Goal` resource so " +
	"partners can exchange goals:\n\n" +
	"| Waypoint | FHIR R4 Goal |\n|---|---|\n" +
	"| `id` | `Goal.id` (and `identifier`) |\n" +
	"| `client_id` | `Goal.subject` (Reference(Patient)) |\n" +
	"| `title` | `Goal.description.text` |\n" +
	"| `description`, `why_it_matters` | `Goal.note` (Annotation text) |\n" +
	"| `strengths_used` | `Goal.note` (no FHIR element; export as Annotation) |\n" +
	"| `category` | `Goal.category` (CodeableConcept, Waypoint code system) |\n" +
	"| `priority` | `Goal.priority` (`high-priority`, `medium-priority`, `low-priority`) |\n" +
	"| `target_date` | `Goal.target.dueDate` |\n" +
	"| `lifecycle_status` | `Goal.lifecycleStatus` (same codes) |\n" +
	"| `achievement_status` | `Goal.achievementStatus` (same codes as goal-achievement) |\n" +
	"| `status_reason` | `Goal.statusReason` |\n" +
	"| `created_by` | `Goal.expressedBy` |\n" +
	"| `created_at` | `Goal.startDate` (date part) |\n" +
	"| `steps` | no FHIR element (milestones; export as `Goal.target` entries or a CarePlan activity) |\n" +
	"| check-ins, `latest_rating`, `trend` | `Goal.outcome` / Observation resources referencing the goal |\n\n" +
	"**Lifecycle.** A client's own goal starts `active` (or `planned`); a care team member's starts `proposed` until " +
	"the client accepts (`accepted`/`active`) or rejects it. A client's goal is theirs: every lifecycle move is the client's, " +
	"except that the care team member who proposed a goal may withdraw it (cancel it) while it is still proposed. Workers " +
	"co-edit the content. Moves follow this table; a move outside it is 409 naming both states, a move that is someone " +
	"else's is 403:\n\n%LIFECYCLE%\n" +
	"Completing a goal sets `achievement_status` to `achieved` unless the same change sets it; making it active again " +
	"sets `in-progress` when it was empty or achieved.\n\n" +
	"**Trend.** `latest_rating` is the client's own most recent self-rating (worker check-ins are shown but do not count). " +
	"`trend` looks at the client's last six self-ratings (k of them): fewer than three is `insufficient_data`; otherwise " +
	"the mean of the newest k/2 is compared with the mean of the oldest k/2 (the middle one is skipped when k is odd): " +
	"a rise of at least 1 point is `improving`, a fall of at least 1 point `worsening`, anything else `steady`.\n\n" +
	"**Versions.** `version` (the ETag) changes whenever anything in this representation changes: the goal's fields, " +
	"its steps, or a new check-in. A 412 means: read the goal again and reapply your change."

// Goal is a client's goal with its steps and progress summary.
type Goal struct {
	ID                uuid.UUID  `json:"id" doc:"Goal id (UUIDv7)"`
	ClientID          uuid.UUID  `json:"client_id" doc:"The client whose goal this is"`
	Title             string     `json:"title" example:"Move into my own apartment" doc:"The goal in the client's words"`
	Description       *string    `json:"description" example:"A one-bedroom near my daughter's school" doc:"More detail; null when not given"`
	WhyItMatters      *string    `json:"why_it_matters" example:"So my daughter and I have a place that is ours" doc:"The client's motivation; null when not given"`
	StrengthsUsed     []string   `json:"strengths_used" example:"[\"persistent\",\"good with budgets\"]" doc:"Strengths the client brings to this goal"`
	Category          *string    `json:"category" rule:"goal.category" example:"housing" doc:"Life area; null when not set"`
	Priority          string     `json:"priority" rule:"goal.priority" example:"high"`
	TargetDate        *string    `json:"target_date" format:"date" example:"2025-09-30" doc:"When the client hopes to get there; null when open"`
	LifecycleStatus   string     `json:"lifecycle_status" rule:"goal.lifecycle_status" example:"active"`
	AchievementStatus *string    `json:"achievement_status" rule:"goal.achievement_status" example:"in-progress" doc:"How it is going; null until work starts"`
	StatusReason      *string    `json:"status_reason" example:"Not the right time for me" doc:"Why the status is what it is (e.g. the client's reason for rejecting)"`
	Steps             []GoalStep `json:"steps" doc:"Steps in order (position 1 first)"`
	LatestRating      *int       `json:"latest_rating" rule:"check_in.rating" example:"7" doc:"The client's latest self-rating 0-10; null before the first"`
	Trend             string     `json:"trend" rule:"goal.trend" example:"improving" doc:"Direction of the client's last self-ratings (see the schema description)"`
	CreatedBy         uuid.UUID  `json:"created_by" doc:"Person who wrote or proposed the goal"`
	CreatedAt         time.Time  `json:"created_at"`
	UpdatedAt         time.Time  `json:"updated_at"`
	Version           int64      `json:"version" example:"4" doc:"Version, also the ETag"`
}

// TransformSchema documents the FHIR mapping, lifecycle and trend rules.
func (Goal) TransformSchema(_ huma.Registry, s *huma.Schema) *huma.Schema {
	s.Description = strings.Replace(goalFHIRDoc, "%LIFECYCLE%", goalLifecycleDoc(), 1)
	return s
}

// GoalStep is a milestone of a goal.
type GoalStep struct {
	ID        uuid.UUID  `json:"id" doc:"Step id (UUIDv7)"`
	Title     string     `json:"title" example:"Get my ID replaced"`
	DueDate   *string    `json:"due_date" format:"date" example:"2025-07-15" doc:"null when open"`
	Done      bool       `json:"done" doc:"Whether the step is done"`
	DoneAt    *time.Time `json:"done_at" doc:"When it was marked done; null while open"`
	Position  int        `json:"position" minimum:"1" example:"1" doc:"Order within the goal, 1 first"`
	Version   int64      `json:"version" example:"1" doc:"The step's version: send it as If-Match (quoted) to change or delete the step"`
	CreatedBy uuid.UUID  `json:"created_by" doc:"Person who added the step"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// GoalActor says who did something, and in which capacity.
type GoalActor struct {
	PersonID    uuid.UUID `json:"person_id"`
	DisplayName string    `json:"display_name" example:"Wanda Okafor"`
	Role        string    `json:"role" rule:"actor_role" example:"worker" doc:"client: the client themself; worker: a care team member"`
}

// GoalCheckIn is a rating of progress on a goal.
type GoalCheckIn struct {
	ID        uuid.UUID `json:"id" doc:"Check-in id (UUIDv7)"`
	GoalID    uuid.UUID `json:"goal_id"`
	Rating    int       `json:"rating" rule:"check_in.rating" example:"6" doc:"0 (no progress at all) to 10 (there)"`
	Note      *string   `json:"note" example:"Viewed two apartments this week" doc:"null when not given"`
	Mood      *string   `json:"mood" rule:"check_in.mood" example:"good" doc:"How the author felt, hardest to best; null when not given"`
	Author    GoalActor `json:"author" doc:"Who recorded it; only the client's own check-ins count towards latest_rating and trend"`
	CreatedAt time.Time `json:"created_at"`
}

// GoalHistoryEntry is one recorded change to a goal.
type GoalHistoryEntry struct {
	ID       uuid.UUID `json:"id" doc:"Entry id (UUIDv7; entries sort by it)"`
	GoalID   uuid.UUID `json:"goal_id"`
	At       time.Time `json:"at" doc:"When the change was made"`
	Actor    GoalActor `json:"actor" doc:"Who made it"`
	Field    string    `json:"field" example:"steps[01936f5e-6c1a-7b3e-9d2f-3a4b5c6d7e8f].title" doc:"What changed: a goal field (title, lifecycle_status, ...), goal (created), steps[<id>] (step added or deleted), steps[<id>].<field>, check_ins[<id>] (check-in recorded), referral[<id>].<field> (a linked referral)"`
	OldValue any       `json:"old_value" doc:"Value before (JSON; null when there was none)"`
	NewValue any       `json:"new_value" doc:"Value after (JSON; null when cleared or deleted)"`
}

func goalDTO(g domain.Goal) Goal {
	steps := make([]GoalStep, len(g.Steps.V))
	for i, s := range g.Steps.V {
		steps[i] = stepDTO(s)
	}
	return Goal{
		ID: g.ID, ClientID: g.ClientID, Title: g.Title, Description: g.Description, WhyItMatters: g.WhyItMatters,
		StrengthsUsed: orEmpty(g.StrengthsUsed), Category: g.Category, Priority: g.Priority, TargetDate: g.TargetDate,
		LifecycleStatus: g.LifecycleStatus, AchievementStatus: g.AchievementStatus, StatusReason: g.StatusReason,
		Steps: steps, LatestRating: g.LatestRating, Trend: g.Trend, CreatedBy: g.CreatedBy,
		CreatedAt: g.CreatedAt.UTC(), UpdatedAt: g.UpdatedAt.UTC(), Version: g.Version,
	}
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

func checkInDTO(c domain.CheckIn) GoalCheckIn {
	return GoalCheckIn{ID: c.ID, GoalID: c.GoalID, Rating: c.Rating, Note: c.Note, Mood: c.Mood,
		Author:    GoalActor{PersonID: c.AuthorPersonID, DisplayName: c.AuthorDisplayName, Role: c.AuthorRole},
		CreatedAt: c.CreatedAt.UTC()}
}

func historyDTO(h domain.GoalHistoryEntry) GoalHistoryEntry {
	return GoalHistoryEntry{ID: h.ID, GoalID: h.GoalID, At: h.At.UTC(),
		Actor: GoalActor{PersonID: h.ActorPersonID, DisplayName: h.ActorDisplayName, Role: h.ActorRole},
		Field: h.Field, OldValue: h.OldValue.V, NewValue: h.NewValue.V}
}

// GoalStepCreate adds a step.
type GoalStepCreate struct {
	Title    string `json:"title" rule:"goal_step.title" example:"Get my ID replaced"`
	DueDate  string `json:"due_date,omitempty" format:"date" example:"2025-07-15"`
	Position *int   `json:"position,omitempty" minimum:"1" maximum:"2147483647" example:"1" doc:"Insert at this position (1 = first), moving later steps down; past the end or by default: last"`
}

// GoalCreate is a new goal.
type GoalCreate struct {
	Title           string           `json:"title" rule:"goal.title" example:"Move into my own apartment" doc:"The goal in the client's words"`
	Description     string           `json:"description,omitempty" rule:"goal.description" example:"A one-bedroom near my daughter's school"`
	WhyItMatters    string           `json:"why_it_matters,omitempty" rule:"goal.why_it_matters" example:"So my daughter and I have a place that is ours"`
	StrengthsUsed   []string         `json:"strengths_used,omitempty" rule:"goal.strengths_used" nullable:"false" example:"[\"persistent\"]" doc:"Strengths the client brings (each at most 100 characters)"`
	Category        string           `json:"category,omitempty" rule:"goal.category" example:"housing"`
	Priority        string           `json:"priority,omitempty" rule:"goal.priority" example:"high" doc:"Default medium"`
	TargetDate      string           `json:"target_date,omitempty" format:"date" example:"2025-09-30"`
	LifecycleStatus string           `json:"lifecycle_status,omitempty" rule:"goal.start_status" example:"active" doc:"The client: active (default) or planned. A care team member: proposed (default and only choice; 403 otherwise)"`
	Steps           []GoalStepCreate `json:"steps,omitempty" rule:"goal.steps" nullable:"false" doc:"Initial steps, in order"`
}

// GoalPatch is a JSON Merge Patch of a goal; null clears a nullable field.
type GoalPatch struct {
	Title             *string   `json:"title,omitempty" rule:"goal.title" example:"Move into my own apartment by autumn"`
	Description       *string   `json:"description,omitempty" rule:"goal.description" nullable:"true" doc:"null clears it"`
	WhyItMatters      *string   `json:"why_it_matters,omitempty" rule:"goal.why_it_matters" nullable:"true" doc:"null clears it"`
	StrengthsUsed     *[]string `json:"strengths_used,omitempty" rule:"goal.strengths_used" nullable:"true" doc:"Replaces the list; null clears it"`
	Category          *string   `json:"category,omitempty" rule:"goal.category" nullable:"true" doc:"null clears it"`
	Priority          *string   `json:"priority,omitempty" rule:"goal.priority"`
	TargetDate        *string   `json:"target_date,omitempty" nullable:"true" format:"date" doc:"null clears it"`
	LifecycleStatus   *string   `json:"lifecycle_status,omitempty" rule:"goal.lifecycle_status" doc:"Moves the goal along the lifecycle table (see Goal); 409 when the table has no such move, 403 when the move is someone else's (every move is the client's, except that the worker who proposed a goal may cancel it while it is proposed)"`
	AchievementStatus *string   `json:"achievement_status,omitempty" rule:"goal.achievement_status" nullable:"true" doc:"null clears it"`
	StatusReason      *string   `json:"status_reason,omitempty" rule:"goal.status_reason" nullable:"true" doc:"null clears it"`
}

// GoalAccept optionally says what accepting means.
type GoalAccept struct {
	LifecycleStatus string `json:"lifecycle_status,omitempty" rule:"goal.accept_status" example:"active" doc:"active (default): start working on it; accepted: agreed, not started yet"`
}

// GoalReject optionally gives the client's reason.
type GoalReject struct {
	Reason string `json:"reason,omitempty" rule:"goal.status_reason" example:"Not the right time for me" doc:"Kept as the goal's status_reason"`
}

// GoalStepPatch is a JSON Merge Patch of a step.
type GoalStepPatch struct {
	Title    *string `json:"title,omitempty" rule:"goal_step.title" example:"Get my ID and birth certificate"`
	DueDate  *string `json:"due_date,omitempty" nullable:"true" format:"date" doc:"null clears it"`
	Done     *bool   `json:"done,omitempty" example:"true" doc:"true marks the step done now (kept if already done); false reopens it"`
	Position *int    `json:"position,omitempty" minimum:"1" maximum:"2147483647" example:"1" doc:"Move the step here (1 = first; past the end = last); the steps in between shift"`
}

// GoalCheckInCreate records a check-in.
type GoalCheckInCreate struct {
	Rating int    `json:"rating" rule:"check_in.rating" example:"6" doc:"0 (no progress at all) to 10 (there)"`
	Note   string `json:"note,omitempty" rule:"check_in.note" example:"Viewed two apartments this week"`
	Mood   string `json:"mood,omitempty" rule:"check_in.mood" example:"good" doc:"How you feel about it, hardest to best"`
}

// GoalPath is the {goalId} path parameter.
type GoalPath struct {
	GoalID uuid.UUID `path:"goalId" doc:"Goal id"`
}

// StepPath addresses one step of a goal.
type StepPath struct {
	GoalID uuid.UUID `path:"goalId" doc:"Goal id"`
	StepID uuid.UUID `path:"stepId" doc:"Step id"`
}

type listGoalsInput struct {
	ClientPath
	LifecycleStatus []string `query:"lifecycle_status" rule:"goal.lifecycle_status" doc:"Only goals in these statuses (comma-separated). Default: every status except entered-in-error"`
	Category        []string `query:"category" rule:"goal.category" doc:"Only goals in these categories (comma-separated)"`
	PageParams
}

type createGoalInput struct {
	ClientPath
	Body GoalCreate
}

type patchGoalInput struct {
	GoalPath
	IfMatch string `header:"If-Match" doc:"The ETag from your last read (required)"`
	RawBody []byte
	Body    GoalPatch `contentType:"application/merge-patch+json"`
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

type subListInput struct {
	GoalPath
	Order string `query:"order" enum:"asc,desc" default:"asc" doc:"asc: oldest first; desc: newest first"`
	PageParams
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

type addCheckInInput struct {
	GoalPath
	Body GoalCheckInCreate
}

type goalOutput struct {
	ETag string `header:"ETag" doc:"Strong ETag: the goal's version"`
	Body Goal
}

type goalCreatedOutput struct {
	Location string `header:"Location" doc:"The new goal's URL"`
	ETag     string `header:"ETag" doc:"Strong ETag: the goal's version"`
	Body     Goal
}

type goalsOutput struct {
	Body Page[Goal]
}

type stepOutput struct {
	ETag string `header:"ETag" doc:"Strong ETag: the step's version"`
	Body GoalStep
}

type checkInOutput struct {
	Body GoalCheckIn
}

type checkInsOutput struct {
	Body Page[GoalCheckIn]
}

type historyOutput struct {
	Body Page[GoalHistoryEntry]
}

func goalOut(g domain.Goal) *goalOutput {
	return &goalOutput{ETag: etag(g.Version), Body: goalDTO(g)}
}

func (s *Server) registerGoals() {
	const (
		notFound = http.StatusNotFound
		invalid  = http.StatusUnprocessableEntity
		conflict = http.StatusConflict
		stale    = http.StatusPreconditionFailed
		noMatch  = http.StatusPreconditionRequired
		tooLarge = http.StatusRequestEntityTooLarge
		badType  = http.StatusUnsupportedMediaType
	)

	handle(s.api, op(http.MethodGet, "/v1/clients/{clientId}/goals", "listGoals", goalTag, "List a client's goals",
		"The client's goals with their steps, latest rating and trend, in creation order. Visible to the client and the "+
			"workers on their care team; anyone else (administrators included) gets 404. Goals entered in error are left out "+
			"unless lifecycle_status asks for them.",
		"goals:read", notFound, invalid),
		func(ctx context.Context, in *listGoalsInput) (*goalsOutput, error) {
			rows, next, err := s.store.ListGoals(ctx, actorFrom(ctx), in.ClientID, domain.GoalFilter{
				LifecycleStatuses: in.LifecycleStatus, Categories: in.Category, Cursor: in.Cursor, Limit: in.Limit,
			})
			if err != nil {
				return nil, err
			}
			return &goalsOutput{Body: newPage(rows, next, goalDTO)}, nil
		})

	create := Idempotent(op(http.MethodPost, "/v1/clients/{clientId}/goals", "createGoal", goalTag, "Create a goal",
		"The client writes their own goal (it starts active, or planned if they say so). A worker on the client's care team "+
			"proposes one (it starts proposed; the client accepts or rejects it; asking for another status is 403). "+
			"Initial steps may come with it. Anyone else gets 404.",
		"goals:write", notFound, invalid, tooLarge, badType), s.replayForClient("goal"))
	create.DefaultStatus = http.StatusCreated
	handle(s.api, create, func(ctx context.Context, in *createGoalInput) (*goalCreatedOutput, error) {
		b := in.Body
		steps := make([]domain.StepInput, len(b.Steps))
		for i, st := range b.Steps {
			steps[i] = domain.StepInput{Title: st.Title, DueDate: st.DueDate}
		}
		g, err := s.store.CreateGoal(ctx, actorFrom(ctx), in.ClientID, domain.GoalInput{
			Title: b.Title, Description: b.Description, WhyItMatters: b.WhyItMatters, StrengthsUsed: b.StrengthsUsed,
			Category: b.Category, Priority: b.Priority, TargetDate: b.TargetDate, LifecycleStatus: b.LifecycleStatus, Steps: steps,
		})
		if err != nil {
			return nil, err
		}
		return &goalCreatedOutput{Location: "/v1/goals/" + g.ID.String(), ETag: etag(g.Version), Body: goalDTO(g)}, nil
	})

	handle(s.api, op(http.MethodGet, "/v1/goals/{goalId}", "getGoal", goalTag, "Get a goal",
		"One goal with its steps, latest rating and trend, and its ETag. Reads by a care team member are recorded in the "+
			"client's access log.",
		"goals:read", notFound, invalid),
		func(ctx context.Context, in *GoalPath) (*goalOutput, error) {
			g, err := s.store.GetGoal(ctx, actorFrom(ctx), in.GoalID)
			if err != nil {
				return nil, err
			}
			return goalOut(g), nil
		})

	handle(s.api, op(http.MethodPatch, "/v1/goals/{goalId}", "patchGoal", goalTag, "Change a goal",
		"JSON Merge Patch (null clears description, why_it_matters, strengths_used, category, target_date, "+
			"achievement_status, status_reason). Requires If-Match: 428 without it, 412 with the current ETag when someone "+
			"else changed the goal first; nobody's edit is lost. The client and their care team may edit the content; lifecycle "+
			"moves follow the table in the Goal schema (409 naming both states) and are the client's, except that the worker "+
			"who proposed a goal may cancel it while it is still proposed (403 otherwise). Every changed field is recorded in "+
			"the goal's history. A patch that changes nothing returns the goal unchanged.",
		"goals:write", notFound, invalid, conflict, stale, noMatch, tooLarge, badType),
		func(ctx context.Context, in *patchGoalInput) (*goalOutput, error) {
			k := parseMergeKeys(in.RawBody)
			b := in.Body
			p := domain.GoalPatch{
				Title:             patchValue(k, "title", b.Title),
				Description:       patchValue(k, "description", b.Description),
				WhyItMatters:      patchValue(k, "why_it_matters", b.WhyItMatters),
				StrengthsUsed:     patchValue(k, "strengths_used", b.StrengthsUsed),
				Category:          patchValue(k, "category", b.Category),
				Priority:          patchValue(k, "priority", b.Priority),
				TargetDate:        patchValue(k, "target_date", b.TargetDate),
				LifecycleStatus:   patchValue(k, "lifecycle_status", b.LifecycleStatus),
				AchievementStatus: patchValue(k, "achievement_status", b.AchievementStatus),
				StatusReason:      patchValue(k, "status_reason", b.StatusReason),
			}
			g, err := conditionalWrite(in.IfMatch, func(v domain.Precondition) (domain.Goal, error) {
				return s.store.UpdateGoal(ctx, actorFrom(ctx), in.GoalID, v, p)
			})
			if err != nil {
				return nil, err
			}
			return goalOut(g), nil
		})

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
			return &historyOutput{Body: newPage(rows, next, historyDTO)}, nil
		})

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
		return &stepOutput{ETag: etag(st.Version), Body: stepDTO(st)}, nil
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
			return &stepOutput{ETag: etag(st.Version), Body: stepDTO(st)}, nil
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

	handle(s.api, op(http.MethodGet, "/v1/goals/{goalId}/check-ins", "listGoalCheckIns", goalTag, "List a goal's check-ins",
		"Every check-in with its author and their role (client or worker). Oldest first unless order=desc.",
		"goals:read", notFound, invalid),
		func(ctx context.Context, in *subListInput) (*checkInsOutput, error) {
			rows, next, err := s.store.ListCheckIns(ctx, actorFrom(ctx), in.GoalID,
				domain.ListFilter{Cursor: in.Cursor, Limit: in.Limit, Desc: in.Order == "desc"})
			if err != nil {
				return nil, err
			}
			return &checkInsOutput{Body: newPage(rows, next, checkInDTO)}, nil
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
		return &checkInOutput{Body: checkInDTO(c)}, nil
	})
}
