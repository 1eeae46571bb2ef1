package domain

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// StepInput creates a step.
type StepInput struct {
	Title   string
	DueDate string // YYYY-MM-DD or ""
	// Position inserts the step there (1 = first), shifting later steps;
	// nil or past the end appends it.
	Position *int
}

// StepPatch is a merge patch of a step; nil leaves a field alone, "" clears
// the due date.
type StepPatch struct {
	Title   *string
	DueDate *string
	// Done marks the step done (now) or not done.
	Done *bool
	// Position moves the step (1 = first; past the end = last), shifting the
	// steps in between.
	Position *int
}

const stepReturning = `s.id, s.title, s.due_date::text AS due_date, s.done_at, s.position, s.version,
	s.created_by, s.created_at, s.updated_at`

func stepSnapshot(title string, due *string, position int) map[string]any {
	return map[string]any{"title": title, "due_date": due, "position": position}
}

// AddStep adds a step to a goal. The client and their care team may.
func (s *Store) AddStep(ctx context.Context, a Actor, goalID uuid.UUID, in StepInput) (Step, error) {
	title, err := requiredTitle("title", in.Title, MaxStepTitle)
	if err != nil {
		return Step{}, err
	}
	due, err := optDate("due_date", in.DueDate)
	if err != nil {
		return Step{}, err
	}
	var st Step
	err = s.tx(ctx, func(tx *gorm.DB) error {
		g, err := touchGoal(tx, a, goalID)
		if err != nil {
			return err
		}
		clientID, version := g.ClientID, g.Version
		var n int
		if err := tx.Raw(`SELECT count(*) FROM goal_steps WHERE client_id = ? AND goal_id = ?`, clientID, goalID).Scan(&n).Error; err != nil {
			return fmt.Errorf("count steps: %w", err)
		}
		if n >= MaxGoalSteps {
			return Errorf(KindConflict, "this goal already has %d steps, the most it can have", MaxGoalSteps)
		}
		pos := n + 1
		if in.Position != nil && *in.Position >= 1 && *in.Position <= n {
			pos = *in.Position
			// The goal row is locked (touchGoal), so positions cannot race.
			if err := tx.Exec(`UPDATE goal_steps SET position = position + 1, version = version + 1, updated_at = now()
				WHERE client_id = ? AND goal_id = ? AND position >= ?`, clientID, goalID, pos).Error; err != nil {
				return fmt.Errorf("shift steps: %w", err)
			}
		}
		id := newID()
		if err := tx.Raw(`INSERT INTO goal_steps AS s (client_id, goal_id, id, title, due_date, position, created_by)
			VALUES (?, ?, ?, ?, ?::date, ?, ?) RETURNING `+stepReturning,
			clientID, goalID, id, title, due, pos, a.PersonID).Scan(&st).Error; err != nil {
			return fmt.Errorf("insert step: %w", err)
		}
		st.Sensitivity = g.Sensitivity
		return goalChildWritten(tx, a, clientID, goalID, version, GoalChangeStepAdded,
			[]FieldChange{{Field: "steps[" + id.String() + "]", New: stepSnapshot(title, due, pos)}})
	})
	return st, err
}

// stepRow is what a conditional step update returns.
type stepRow struct {
	Step
	OldRow JSONValue[map[string]json.RawMessage]
	NewRow JSONValue[map[string]json.RawMessage]
}

// expr turns a step patch into the SET list of its conditional update;
// an empty SQL means the patch changes nothing.
func (p StepPatch) expr() (clause.Expr, error) {
	var sets []string
	var setArgs []any
	if p.Title != nil {
		t, err := requiredTitle("title", *p.Title, MaxStepTitle)
		if err != nil {
			return clause.Expr{}, err
		}
		sets, setArgs = append(sets, "title = ?"), append(setArgs, t)
	}
	if p.DueDate != nil {
		d, err := optDate("due_date", *p.DueDate)
		if err != nil {
			return clause.Expr{}, err
		}
		sets, setArgs = append(sets, "due_date = ?::date"), append(setArgs, d)
	}
	if p.Done != nil {
		if *p.Done {
			sets = append(sets, "done_at = COALESCE(s.done_at, now())")
		} else {
			sets = append(sets, "done_at = NULL")
		}
	}
	if p.Position != nil {
		if *p.Position < 1 {
			return clause.Expr{}, Invalid("position", "a position is 1 or more")
		}
		// Past the end means last; capping here keeps any int inside the
		// column's integer range (a goal has at most MaxGoalSteps steps).
		pos := min(*p.Position, MaxGoalSteps+1)
		sets = append(sets, `position = LEAST(GREATEST(?::int, 1),
			(SELECT count(*) FROM goal_steps c WHERE c.client_id = s.client_id AND c.goal_id = s.goal_id))`)
		setArgs = append(setArgs, pos)
	}
	return clause.Expr{SQL: strings.Join(sets, ", "), Vars: setArgs}, nil
}

// shiftSteps closes the gap a step left at from and opens one at to; the
// steps in between get new versions, as their position changed.
func shiftSteps(tx *gorm.DB, clientID, goalID, stepID uuid.UUID, from, to int) error {
	var err error
	switch {
	case to < from:
		err = tx.Exec(`UPDATE goal_steps SET position = position + 1, version = version + 1, updated_at = now()
			WHERE client_id = ? AND goal_id = ? AND id <> ? AND position >= ? AND position < ?`, clientID, goalID, stepID, to, from).Error
	case to > from:
		err = tx.Exec(`UPDATE goal_steps SET position = position - 1, version = version + 1, updated_at = now()
			WHERE client_id = ? AND goal_id = ? AND id <> ? AND position > ? AND position <= ?`, clientID, goalID, stepID, from, to).Error
	}
	if err != nil {
		return fmt.Errorf("shift steps: %w", err)
	}
	return nil
}

// UpdateStep changes a step with one conditional UPDATE on its version and
// records each changed field in the goal's history. Moving a step shifts the
// steps in between (their versions change too: their position did).
func (s *Store) UpdateStep(ctx context.Context, a Actor, goalID, stepID uuid.UUID, pre Precondition, p StepPatch) (Step, error) {
	set, err := p.expr()
	if err != nil {
		return Step{}, err
	}
	if set.SQL == "" {
		return s.unchangedStep(ctx, a, goalID, stepID, pre)
	}
	var st Step
	err = s.tx(ctx, func(tx *gorm.DB) error {
		g, err := touchGoal(tx, a, goalID)
		if err != nil {
			return err
		}
		clientID, version := g.ClientID, g.Version
		q := `WITH old AS (SELECT * FROM goal_steps WHERE client_id = ? AND goal_id = ? AND id = ? AND ? FOR UPDATE)
			UPDATE goal_steps s SET ?, version = s.version + 1, updated_at = now()
			FROM old WHERE s.client_id = old.client_id AND s.id = old.id
			RETURNING ` + stepReturning + `, to_jsonb(old) AS old_row, to_jsonb(s) AS new_row`
		var row stepRow
		res := tx.Raw(q, clientID, goalID, stepID, pre.sql("version"), set).Scan(&row)
		if res.Error != nil {
			return fmt.Errorf("update step: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return stepMiss(tx, clientID, goalID, stepID, pre)
		}
		var changes []FieldChange
		for _, col := range []string{"title", "due_date", "done_at", "position"} {
			o, n := row.OldRow.V[col], row.NewRow.V[col]
			if !bytes.Equal(o, n) {
				changes = append(changes, FieldChange{Field: "steps[" + stepID.String() + "]." + col, Old: o, New: n})
			}
		}
		if len(changes) == 0 {
			return errNoChange
		}
		var from int
		_ = json.Unmarshal(row.OldRow.V["position"], &from)
		if err := shiftSteps(tx, clientID, goalID, stepID, from, row.Position); err != nil {
			return err
		}
		st = row.Step
		st.Sensitivity = g.Sensitivity
		return goalChildWritten(tx, a, clientID, goalID, version, GoalChangeStepUpdated, changes)
	})
	if errors.Is(err, errNoChange) {
		return s.unchangedStep(ctx, a, goalID, stepID, pre)
	}
	return st, err
}

// DeleteStep removes a step; only the client may (a worker can edit a step
// or mark it done, but not take it out of the client's plan).
func (s *Store) DeleteStep(ctx context.Context, a Actor, goalID, stepID uuid.UUID, pre Precondition) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		g, err := touchGoal(tx, a, goalID)
		if err != nil {
			return err
		}
		clientID, version := g.ClientID, g.Version
		if !a.IsClient(clientID) {
			return Forbidden("only the client can delete a step of their goal; you can edit it or mark it done")
		}
		var old []struct {
			Title    string
			DueDate  *string
			DoneAt   *string
			Position int
		}
		if err := tx.Raw(`DELETE FROM goal_steps WHERE client_id = ? AND goal_id = ? AND id = ? AND ?
			RETURNING title, due_date::text AS due_date, to_jsonb(done_at) #>> '{}' AS done_at, position`,
			clientID, goalID, stepID, pre.sql("version")).Scan(&old).Error; err != nil {
			return fmt.Errorf("delete step: %w", err)
		}
		if len(old) == 0 {
			return stepMiss(tx, clientID, goalID, stepID, pre)
		}
		o := old[0]
		if err := tx.Exec(`UPDATE goal_steps SET position = position - 1, version = version + 1, updated_at = now()
			WHERE client_id = ? AND goal_id = ? AND position > ?`, clientID, goalID, o.Position).Error; err != nil {
			return fmt.Errorf("shift steps: %w", err)
		}
		snap := stepSnapshot(o.Title, o.DueDate, o.Position)
		snap["done_at"] = o.DoneAt
		return goalChildWritten(tx, a, clientID, goalID, version, GoalChangeStepDeleted,
			[]FieldChange{{Field: "steps[" + stepID.String() + "]", Old: snap}})
	})
}

// stepMiss explains a conditional step write that matched nothing; the goal
// is already known to be visible and the actor allowed.
func stepMiss(tx *gorm.DB, clientID, goalID, stepID uuid.UUID, pre Precondition) error {
	var cur []int64
	if err := tx.Raw(`SELECT version FROM goal_steps WHERE client_id = ? AND goal_id = ? AND id = ?`,
		clientID, goalID, stepID).Scan(&cur).Error; err != nil {
		return fmt.Errorf("read step version: %w", err)
	}
	if len(cur) == 0 {
		return &Error{Kind: KindNotFound, Source: SourceTarget, Field: "stepId", Message: "step not found"}
	}
	if err := pre.check(cur[0]); err != nil {
		return err
	}
	return Stale(cur[0])
}

// unchangedStep answers a patch that changes nothing: the step as it is,
// after the usual visibility and precondition checks.
func (s *Store) unchangedStep(ctx context.Context, a Actor, goalID, stepID uuid.UUID, pre Precondition) (Step, error) {
	var st Step
	err := s.tx(ctx, func(tx *gorm.DB) error {
		g, err := goalClient(tx, a, goalID, ReachCare)
		if err != nil {
			return err
		}
		clientID := g.ClientID
		var rows []Step
		if err := tx.Raw(`SELECT `+stepReturning+` FROM goal_steps s WHERE s.client_id = ? AND s.goal_id = ? AND s.id = ?`,
			clientID, goalID, stepID).Scan(&rows).Error; err != nil {
			return fmt.Errorf("read step: %w", err)
		}
		if len(rows) == 0 {
			return &Error{Kind: KindNotFound, Source: SourceTarget, Field: "stepId", Message: "step not found"}
		}
		if err := pre.check(rows[0].Version); err != nil {
			return err
		}
		st = rows[0]
		st.Sensitivity = g.Sensitivity
		return logAccess(tx, a, ActionRead, ResourceGoal, []uuid.UUID{clientID}, []string{goalID.String()})
	})
	return st, err
}

// goalChildWritten finishes a change to a goal's steps or check-ins: history,
// live event and access log, in the caller's transaction.
func goalChildWritten(tx *gorm.DB, a Actor, clientID, goalID uuid.UUID, version int64, change GoalChange, changes []FieldChange) error {
	if err := recordGoalHistory(tx, a, clientID, goalID, changes); err != nil {
		return err
	}
	fields := make([]string, len(changes))
	for i, c := range changes {
		fields[i] = c.Field
	}
	if err := emitGoalEvent(tx, EventGoalUpdated, clientID, goalID, version, change, fields); err != nil {
		return err
	}
	return logAccess(tx, a, ActionWrite, ResourceGoal, []uuid.UUID{clientID}, []string{goalID.String()})
}
