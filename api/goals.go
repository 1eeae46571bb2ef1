package api

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/domain"
)

const goalTag = "Goals"

// The answers goal operations document besides 401/403/503, named once for
// their op() lists.
const (
	notFound = http.StatusNotFound
	invalid  = http.StatusUnprocessableEntity
	conflict = http.StatusConflict
	stale    = http.StatusPreconditionFailed
	noMatch  = http.StatusPreconditionRequired
	tooLarge = http.StatusRequestEntityTooLarge
	badType  = http.StatusUnsupportedMediaType
)

const goalFHIRDoc = "A client's goal, in their own words. Only the client and the workers on their care team can see it " +
	"(administrators and everyone else get 404).\n\n" +
	"**Privacy.** `visibility` is `care_team` (the default: shared with the care team) or `private` (the client's alone: " +
	"everyone else gets 404 on it and its steps, check-ins and history, it is left out of their lists and their event streams, " +
	"and a referral or conversation linked to it shows no link). `sensitivity` is null or `sud` (substance use treatment, " +
	"42 CFR Part 2 in spirit): such a goal is visible only to the client and the care-team workers the client consented to " +
	"(PUT /v1/clients/{clientId}/consents/sud/{personId}), and every response carrying it has the `Waypoint-Redisclosure` " +
	"header. Only the client sets either (403 naming the field for anyone else); a worker's proposal starts `care_team` " +
	"with no label. Changes to them are in the history like any field; making a goal shared again shares its history too.\n\n" +
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
	Title             string     `json:"title" rule:"goal.title" example:"Move into my own apartment" doc:"The goal in the client's words"`
	Description       *string    `json:"description" rule:"goal.description" example:"A one-bedroom near my daughter's school" doc:"More detail; null when not given"`
	WhyItMatters      *string    `json:"why_it_matters" rule:"goal.why_it_matters" example:"So my daughter and I have a place that is ours" doc:"The client's motivation; null when not given"`
	StrengthsUsed     []string   `json:"strengths_used" rule:"goal.strengths_used" example:"[\"persistent\",\"good with budgets\"]" doc:"Strengths the client brings to this goal"`
	Category          *string    `json:"category" rule:"goal.category" example:"housing" doc:"Life area; null when not set"`
	Priority          string     `json:"priority" rule:"goal.priority" example:"high"`
	TargetDate        *string    `json:"target_date" format:"date" example:"2025-09-30" doc:"When the client hopes to get there; null when open"`
	LifecycleStatus   string     `json:"lifecycle_status" rule:"goal.lifecycle_status" example:"active"`
	AchievementStatus *string    `json:"achievement_status" rule:"goal.achievement_status" example:"in-progress" doc:"How it is going; null until work starts"`
	StatusReason      *string    `json:"status_reason" rule:"goal.status_reason" example:"Not the right time for me" doc:"Why the status is what it is (e.g. the client's reason for rejecting)"`
	Visibility        string     `json:"visibility" rule:"goal.visibility" example:"care_team" doc:"care_team: shared with the care team; private: the client's alone"`
	Sensitivity       *string    `json:"sensitivity" rule:"sensitivity" example:"sud" doc:"null, or sud: visible only to the client and the care-team workers they consented to"`
	CheckInEvery      *string    `json:"check_in_every" rule:"goal.check_in_every" pattern:"^P([0-9]{1,3}Y)?([0-9]{1,3}M)?([0-9]{1,3}W)?([0-9]{1,3}D)?$" example:"P7D" doc:"The client's check-in cadence, an ISO 8601 duration (P7D, P1W, P1M; a day to a year); null when none. While the goal is active, a check-in is due this long after the client's last check-in (GET /v1/me/agenda, reminders)"`
	Steps             []GoalStep `json:"steps" rule:"goal.steps" doc:"Steps in order (position 1 first)"`
	LatestRating      *int       `json:"latest_rating" rule:"check_in.rating" example:"7" doc:"The client's latest self-rating 0-10; null before the first"`
	Trend             string     `json:"trend" rule:"goal.trend" example:"improving" doc:"Direction of the client's last self-ratings (see the schema description)"`
	CreatedBy         uuid.UUID  `json:"created_by" doc:"Person who wrote or proposed the goal"`
	CreatedAt         time.Time  `json:"created_at"`
	UpdatedAt         time.Time  `json:"updated_at"`
	Version           int64      `json:"version" rule:"version" example:"4" doc:"Version, also the ETag"`
}

// TransformSchema documents the FHIR mapping, lifecycle and trend rules.
func (Goal) TransformSchema(_ huma.Registry, s *huma.Schema) *huma.Schema {
	s.Description = strings.Replace(goalFHIRDoc, "%LIFECYCLE%", goalLifecycleDoc(), 1)
	return s
}

// GoalActor says who did something, and in which capacity.
type GoalActor struct {
	PersonID    uuid.UUID `json:"person_id"`
	DisplayName string    `json:"display_name" rule:"person.name" example:"Wanda Okafor"`
	Role        string    `json:"role" rule:"actor_role" example:"worker" doc:"client: the client themself; worker: a care team member"`
}

func goalDTO(g domain.Goal) Goal {
	steps := make([]GoalStep, len(g.Steps))
	for i, s := range g.Steps {
		steps[i] = stepDTO(s)
	}
	return Goal{
		ID: g.ID, ClientID: g.ClientID, Title: g.Title, Description: g.Description, WhyItMatters: g.WhyItMatters,
		StrengthsUsed: orEmpty(g.StrengthsUsed), Category: g.Category, Priority: g.Priority, TargetDate: g.TargetDate,
		LifecycleStatus: g.LifecycleStatus, AchievementStatus: g.AchievementStatus, StatusReason: g.StatusReason,
		Visibility: g.Visibility, Sensitivity: g.Sensitivity, CheckInEvery: g.CheckInEvery, Steps: steps, LatestRating: g.LatestRating, Trend: g.Trend, CreatedBy: g.CreatedBy,
		CreatedAt: g.CreatedAt.UTC(), UpdatedAt: g.UpdatedAt.UTC(), Version: g.Version,
	}
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
	Visibility      string           `json:"visibility,omitempty" rule:"goal.visibility" example:"care_team" doc:"Default care_team. Only the client may make a goal private (403 for anyone else)"`
	Sensitivity     *string          `json:"sensitivity,omitempty" rule:"sensitivity" nullable:"true" example:"sud" doc:"Default null. Only the client may label a goal (403 for anyone else)"`
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
	Visibility        *string   `json:"visibility,omitempty" rule:"goal.visibility" doc:"The client's alone (403 for anyone else): private hides the goal from everyone else at once"`
	Sensitivity       *string   `json:"sensitivity,omitempty" rule:"sensitivity" nullable:"true" doc:"The client's alone (403 for anyone else); null clears it"`
	CheckInEvery      *string   `json:"check_in_every,omitempty" rule:"goal.check_in_every" nullable:"true" pattern:"^P([0-9]{1,3}Y)?([0-9]{1,3}M)?([0-9]{1,3}W)?([0-9]{1,3}D)?$" example:"P7D" doc:"The client's alone (403 for anyone else): how often they want to check in, an ISO 8601 duration from P1D to P1Y (P7D, P1W, P1M); null clears it"`
}

// domain maps the patch onto the domain's, telling an absent key (leave
// it) from null (clear it) by the keys the body sent.
func (b GoalPatch) domain(k mergeKeys) domain.GoalPatch {
	return domain.GoalPatch{
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
		Visibility:        patchValue(k, "visibility", b.Visibility),
		Sensitivity:       patchValue(k, "sensitivity", b.Sensitivity),
		CheckInEvery:      patchValue(k, "check_in_every", b.CheckInEvery),
	}
}

// GoalPath is the {goalId} path parameter.
type GoalPath struct {
	GoalID uuid.UUID `path:"goalId" doc:"Goal id"`
}

type listGoalsInput struct {
	acceptInput
	ClientPath
	LifecycleStatus []string `query:"lifecycle_status" rule:"goal.lifecycle_status" doc:"Only goals in these statuses (comma-separated). Default: every status except entered-in-error"`
	Category        []string `query:"category" rule:"goal.category" doc:"Only goals in these categories (comma-separated)"`
	PageParams
}

type getGoalInput struct {
	acceptInput
	GoalPath
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

type subListInput struct {
	GoalPath
	Order string `query:"order" enum:"asc,desc" default:"asc" doc:"asc: oldest first; desc: newest first"`
	PageParams
}

type goalOutput struct {
	ETag         string `header:"ETag" doc:"Strong ETag: the goal's version"`
	Redisclosure string `header:"Waypoint-Redisclosure" doc:"The 42 CFR Part 2 redisclosure notice: present exactly when the response carries a record labelled sud"`
	Body         Goal
}

// goalReadOutput answers getGoal in either representation (the body is a
// Goal or a FHIR Goal; withFHIR documents them).
type goalReadOutput struct {
	ETag         string `header:"ETag" doc:"Strong ETag: the goal's version"`
	Vary         string `header:"Vary" doc:"Accept: the representation depends on it"`
	Redisclosure string `header:"Waypoint-Redisclosure" doc:"The 42 CFR Part 2 redisclosure notice: present exactly when the response carries a record labelled sud"`
	Body         any
}

// goalListOutput answers listGoals (a Page[Goal] or a FHIR Bundle):
// goalReadOutput without the ETag, which a page of goals does not have
// (each goal carries its own version).
type goalListOutput struct {
	Vary         string `header:"Vary" doc:"Accept: the representation depends on it"`
	Redisclosure string `header:"Waypoint-Redisclosure" doc:"The 42 CFR Part 2 redisclosure notice: present exactly when the response carries a record labelled sud"`
	Body         any
}

type goalCreatedOutput struct {
	Location     string `header:"Location" doc:"The new goal's URL"`
	ETag         string `header:"ETag" doc:"Strong ETag: the goal's version"`
	Redisclosure string `header:"Waypoint-Redisclosure" doc:"The 42 CFR Part 2 redisclosure notice: present exactly when the response carries a record labelled sud"`
	Body         Goal
}

func goalOut(g domain.Goal) *goalOutput {
	return &goalOutput{ETag: etag(g.Version), Redisclosure: redisclosure(g.Sensitivity), Body: goalDTO(g)}
}

func (s *Server) registerGoals() {
	listOp := op(http.MethodGet, "/v1/clients/{clientId}/goals", "listGoals", goalTag, "List a client's goals",
		"The client's goals with their steps, latest rating and trend, in creation order. Visible to the client and the "+
			"workers on their care team; anyone else (administrators included) gets 404. Goals entered in error are left out "+
			"unless lifecycle_status asks for them.\n\n"+
			"With `Accept: application/fhir+json` the page is a FHIR R4 searchset `Bundle` of `Goal` resources (see getGoal); "+
			"its `link` has `self` and, while there are more goals, `next` (the same query with the next cursor).",
		"goals:read", notFound, invalid)
	listOp = withFHIR(s.api, listOp, reflect.TypeFor[Page[Goal]](), reflect.TypeFor[FHIRGoalBundle](), fhirBundleExample(),
		"a FHIR searchset Bundle of Goal resources")
	handle(s.api, listOp, func(ctx context.Context, in *listGoalsInput) (*goalListOutput, error) {
		rows, next, err := s.store.ListGoals(ctx, actorFrom(ctx), in.ClientID, domain.GoalFilter{
			LifecycleStatuses: in.LifecycleStatus, Categories: in.Category, Cursor: in.Cursor, Limit: in.Limit,
		})
		if err != nil {
			return nil, err
		}
		out := &goalListOutput{Vary: "Accept", Redisclosure: redisclosureOf(rows, func(g domain.Goal) *string { return g.Sensitivity })}
		if !wantsFHIR(in.accept) {
			out.Body = newPage(rows, next, goalDTO)
			return out, nil
		}
		person, err := s.store.ClientPersonID(ctx, in.ClientID)
		if err != nil {
			return nil, err
		}
		out.Body = fhirGoalBundle(rows, next, person, in, time.Now())
		return out, nil
	})

	create := Idempotent(op(http.MethodPost, "/v1/clients/{clientId}/goals", "createGoal", goalTag, "Create a goal",
		"The client writes their own goal (it starts active, or planned if they say so). A worker on the client's care team "+
			"proposes one (it starts proposed; the client accepts or rejects it; asking for another status is 403). "+
			"Initial steps may come with it. Only the client may make it private or label it sensitive (403 naming the field for "+
			"anyone else). Anyone else gets 404.",
		"goals:write", notFound, invalid, tooLarge, badType), s.replayForCreatedGoal)
	create.DefaultStatus = http.StatusCreated
	handle(s.api, create, func(ctx context.Context, in *createGoalInput) (*goalCreatedOutput, error) {
		b := in.Body
		steps := make([]domain.StepInput, len(b.Steps))
		for i, st := range b.Steps {
			steps[i] = domain.StepInput{Title: st.Title, DueDate: st.DueDate}
		}
		sensitivity := ""
		if b.Sensitivity != nil {
			sensitivity = *b.Sensitivity
		}
		g, err := s.store.CreateGoal(ctx, actorFrom(ctx), in.ClientID, domain.GoalInput{
			Title: b.Title, Description: b.Description, WhyItMatters: b.WhyItMatters, StrengthsUsed: b.StrengthsUsed,
			Category: b.Category, Priority: b.Priority, TargetDate: b.TargetDate, LifecycleStatus: b.LifecycleStatus,
			Visibility: b.Visibility, Sensitivity: sensitivity, Steps: steps,
		})
		if err != nil {
			return nil, err
		}
		return &goalCreatedOutput{Location: "/v1/goals/" + g.ID.String(), ETag: etag(g.Version),
			Redisclosure: redisclosure(g.Sensitivity), Body: goalDTO(g)}, nil
	})

	getOp := op(http.MethodGet, "/v1/goals/{goalId}", "getGoal", goalTag, "Get a goal",
		"One goal with its steps, latest rating and trend, and its ETag. Reads by a care team member are recorded in the "+
			"client's access log.\n\n"+
			"With `Accept: application/fhir+json` the goal is a FHIR R4 `Goal` resource: `lifecycleStatus`, `achievementStatus` "+
			"(goal-achievement codes), `category` (the Gravity Project SDOH Clinical Care category where the life area has one: "+
			"housing: housing-instability, food: food-insecurity, income: financial-insecurity, education: educational-attainment, "+
			"employment: employment-status; and always Waypoint's own code), `priority`, `description.text` (the title), "+
			"`subject` (Patient/{clientId}), `startDate`, `target.dueDate`, `statusReason`, `expressedBy` (the client as Patient, "+
			"or the proposing worker as Practitioner), `addresses` (the SDOH concern, display only) and `note` (description, why "+
			"it matters, strengths used). Steps, check-ins and trend have no element in R4 Goal and are left out. The ETag is the "+
			"goal's version in both representations.",
		"goals:read", notFound, invalid)
	getOp = withFHIR(s.api, getOp, reflect.TypeFor[Goal](), reflect.TypeFor[FHIRGoal](), fhirGoalExample(), "an R4 Goal resource")
	handle(s.api, getOp, func(ctx context.Context, in *getGoalInput) (*goalReadOutput, error) {
		g, err := s.store.GetGoal(ctx, actorFrom(ctx), in.GoalID)
		if err != nil {
			return nil, err
		}
		out := &goalReadOutput{ETag: etag(g.Version), Vary: "Accept", Redisclosure: redisclosure(g.Sensitivity)}
		if !wantsFHIR(in.accept) {
			out.Body = goalDTO(g)
			return out, nil
		}
		person, err := s.store.ClientPersonID(ctx, g.ClientID)
		if err != nil {
			return nil, err
		}
		out.Body = fhirGoal(g, person)
		return out, nil
	})

	handle(s.api, op(http.MethodPatch, "/v1/goals/{goalId}", "patchGoal", goalTag, "Change a goal",
		"JSON Merge Patch (null clears description, why_it_matters, strengths_used, category, target_date, "+
			"achievement_status, status_reason). Requires If-Match: 428 without it, 412 with the current ETag when someone "+
			"else changed the goal first; nobody's edit is lost. The client and their care team may edit the content; lifecycle "+
			"moves follow the table in the Goal schema (409 naming both states) and are the client's, except that the worker "+
			"who proposed a goal may cancel it while it is still proposed (403 otherwise). visibility and sensitivity are the "+
			"client's alone (403 naming the field for anyone else); making a goal private hides it from everyone else at once, "+
			"and the workers who saw it get goal.hidden. Every changed field is recorded in "+
			"the goal's history. A patch that changes nothing returns the goal unchanged.",
		"goals:write", notFound, invalid, conflict, stale, noMatch, tooLarge, badType),
		func(ctx context.Context, in *patchGoalInput) (*goalOutput, error) {
			p := in.Body.domain(parseMergeKeys(in.RawBody))
			g, err := conditionalWrite(in.IfMatch, func(v domain.Precondition) (domain.Goal, error) {
				return s.store.UpdateGoal(ctx, actorFrom(ctx), in.GoalID, v, p)
			})
			if err != nil {
				return nil, err
			}
			return goalOut(g), nil
		})
}
