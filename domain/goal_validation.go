package domain

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Validation helpers. The API validates the same rules from its schema; the
// domain checks again because it is the last line before the database.

// requiredTitle trims a goal's or step's title, which must not be empty.
func requiredTitle(field, s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", Invalid(field, "a title is required")
	}
	if utf8.RuneCountInString(s) > max {
		return "", Invalid(field, "a title has at most %d characters", max)
	}
	return s, nil
}

// optText trims s; empty means "not set" (NULL).
func optText(field, s string, max int) (*string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	if utf8.RuneCountInString(s) > max {
		return nil, Invalid(field, "at most %d characters", max)
	}
	return &s, nil
}

func optEnum(field, s string, allowed []string) (*string, error) {
	if s == "" {
		return nil, nil
	}
	if !slices.Contains(allowed, s) {
		return nil, Invalid(field, "must be one of %s", strings.Join(allowed, ", "))
	}
	return &s, nil
}

func goalStrengths(field string, in []string) (Strings, error) {
	out := cleanList(in)
	if len(out) > MaxGoalStrengths {
		return nil, Invalid(field, "at most %d strengths", MaxGoalStrengths)
	}
	for i, v := range out {
		if utf8.RuneCountInString(v) > MaxStrengthLen {
			return nil, Invalid(fmt.Sprintf("%s[%d]", field, i), "at most %d characters", MaxStrengthLen)
		}
	}
	return out, nil
}

func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func ptrTo[T any](v T) *T { return &v }

// goalDraft is a GoalInput checked and trimmed, ready to insert.
type goalDraft struct {
	title                       string
	desc, why, category, target *string
	strengths                   Strings
	priority                    string
	visibility                  string
	sensitivity                 *string
	steps                       []StepInput
}

// draft checks a new goal's fields (the lifecycle status is checked
// against the actor inside the transaction).
func (in GoalInput) draft() (goalDraft, error) {
	title, err := requiredTitle("title", in.Title, MaxGoalTitle)
	if err != nil {
		return goalDraft{}, err
	}
	desc, err := optText("description", in.Description, MaxGoalDescription)
	if err != nil {
		return goalDraft{}, err
	}
	why, err := optText("why_it_matters", in.WhyItMatters, MaxGoalWhy)
	if err != nil {
		return goalDraft{}, err
	}
	strengths, err := goalStrengths("strengths_used", in.StrengthsUsed)
	if err != nil {
		return goalDraft{}, err
	}
	category, err := optEnum("category", in.Category, GoalCategories())
	if err != nil {
		return goalDraft{}, err
	}
	priority := "medium"
	if in.Priority != "" {
		if !slices.Contains(GoalPriorities(), in.Priority) {
			return goalDraft{}, Invalid("priority", "priority must be one of %s", strings.Join(GoalPriorities(), ", "))
		}
		priority = in.Priority
	}
	target, err := optDate("target_date", in.TargetDate)
	if err != nil {
		return goalDraft{}, err
	}
	visibility := VisibilityCareTeam
	if in.Visibility != "" {
		if !slices.Contains(GoalVisibilities(), in.Visibility) {
			return goalDraft{}, Invalid("visibility", "visibility must be one of %s", strings.Join(GoalVisibilities(), ", "))
		}
		visibility = in.Visibility
	}
	sensitivity, err := optEnum("sensitivity", in.Sensitivity, SensitivityLabels())
	if err != nil {
		return goalDraft{}, err
	}
	if len(in.Steps) > MaxGoalSteps {
		return goalDraft{}, Invalid("steps", "a goal can have at most %d steps", MaxGoalSteps)
	}
	steps := make([]StepInput, len(in.Steps))
	for i, st := range in.Steps {
		f := fmt.Sprintf("steps[%d]", i)
		if steps[i].Title, err = requiredTitle(f+".title", st.Title, MaxStepTitle); err != nil {
			return goalDraft{}, err
		}
		if _, err := optDate(f+".due_date", st.DueDate); err != nil {
			return goalDraft{}, err
		}
		steps[i].DueDate = st.DueDate
	}
	return goalDraft{title: title, desc: desc, why: why, category: category, target: target,
		strengths: strengths, priority: priority, visibility: visibility, sensitivity: sensitivity, steps: steps}, nil
}

// checkLabels refuses a new goal's visibility and sensitivity from anyone
// but the client: who may see a goal is the client's decision, so a
// worker's proposal is shared with the care team and carries no label.
func (d goalDraft) checkLabels(m GoalMover) error {
	if m == MoverClient {
		return nil
	}
	if d.visibility != VisibilityCareTeam {
		return clientOnlyField("visibility")
	}
	if d.sensitivity != nil {
		return clientOnlyField("sensitivity")
	}
	return nil
}

// clientOnlyField is the 403 for someone other than the client setting who
// may see a record of theirs.
func clientOnlyField(field string) *Error {
	return &Error{Kind: KindForbidden, Source: SourceContent, Field: field,
		Message: "only the client decides who may see their records; " + field + " is theirs to set"}
}
