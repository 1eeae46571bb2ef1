package domain

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// GoalPatch is a JSON Merge Patch of a goal: nil leaves a field alone; a
// pointer to the zero value ("" or an empty list) clears it.
type GoalPatch struct {
	Title             *string
	Description       *string
	WhyItMatters      *string
	StrengthsUsed     *[]string
	Category          *string
	Priority          *string
	TargetDate        *string
	LifecycleStatus   *string
	AchievementStatus *string
	StatusReason      *string
	// Visibility and Sensitivity ("" clears the label) are the client's alone.
	Visibility  *string
	Sensitivity *string
	// CheckInEvery ("" clears it) is the client's choice alone too.
	CheckInEvery *string
}

// goalChange is one conditional update of a goal row.
type goalChange struct {
	sets []string // "col = expr"
	args []any    // for sets, in order
	// to is the target lifecycle status, "" when unchanged.
	to string
	// fromProposed limits the move to proposals (accept, reject); otherwise
	// it may start wherever the lifecycle table allows the mover.
	fromProposed  bool
	pre           Precondition
	change        GoalChange // for the event: updated, accepted, rejected
	allowSameLife bool       // lifecycle "to" equal to the current status is no change
	// clientOnly names a field in the change that only the client may set
	// (visibility, sensitivity); "" when there is none.
	clientOnly string
	// labels: the change sets visibility or sensitivity, so someone may
	// lose sight of the goal (goal.hidden); such changes take two statements.
	labels bool
}

// joinSets is the SET list of a goal change.
func joinSets(sets []string) string { return strings.Join(sets, ", ") }

func (c *goalChange) set(col, expr string, args ...any) {
	c.sets = append(c.sets, col+" = "+expr)
	c.args = append(c.args, args...)
}

// UpdateGoal applies a merge patch with one conditional UPDATE (id, version,
// client scope and lifecycle table in its WHERE clause) that also returns the
// old values, then writes one history row per changed field, all in one
// transaction. A patch that changes nothing leaves the version alone.
func (s *Store) UpdateGoal(ctx context.Context, a Actor, id uuid.UUID, pre Precondition, p GoalPatch) (Goal, error) {
	c := goalChange{pre: pre, change: GoalChangeUpdated, allowSameLife: true}
	if p.Title != nil {
		t, err := requiredTitle("title", *p.Title, MaxGoalTitle)
		if err != nil {
			return Goal{}, err
		}
		c.set("title", "?", t)
	}
	for _, f := range []struct {
		col, field string
		v          *string
		max        int
	}{
		{"description", "description", p.Description, MaxGoalDescription},
		{"why_it_matters", "why_it_matters", p.WhyItMatters, MaxGoalWhy},
		{"status_reason", "status_reason", p.StatusReason, MaxGoalStatusReason},
	} {
		if f.v == nil {
			continue
		}
		v, err := optText(f.field, *f.v, f.max)
		if err != nil {
			return Goal{}, err
		}
		c.set(f.col, "?", v)
	}
	if p.StrengthsUsed != nil {
		st, err := goalStrengths("strengths_used", *p.StrengthsUsed)
		if err != nil {
			return Goal{}, err
		}
		c.set("strengths_used", "?::jsonb", st)
	}
	if p.Category != nil {
		v, err := optEnum("category", *p.Category, GoalCategories())
		if err != nil {
			return Goal{}, err
		}
		c.set("category", "?", v)
	}
	if p.Priority != nil {
		if !slices.Contains(GoalPriorities(), *p.Priority) {
			return Goal{}, Invalid("priority", "priority must be one of %s", strings.Join(GoalPriorities(), ", "))
		}
		c.set("priority", "?", *p.Priority)
	}
	if p.TargetDate != nil {
		v, err := optDate("target_date", *p.TargetDate)
		if err != nil {
			return Goal{}, err
		}
		c.set("target_date", "?::date", v)
	}
	if p.AchievementStatus != nil {
		v, err := optEnum("achievement_status", *p.AchievementStatus, GoalAchievementStatuses())
		if err != nil {
			return Goal{}, err
		}
		c.set("achievement_status", "?", v)
	}
	if err := c.setLabels(p); err != nil {
		return Goal{}, err
	}
	if p.LifecycleStatus != nil {
		if !slices.Contains(GoalLifecycleStatuses(), *p.LifecycleStatus) {
			return Goal{}, Invalid("lifecycle_status", "lifecycle_status must be one of %s", strings.Join(GoalLifecycleStatuses(), ", "))
		}
		c.to = *p.LifecycleStatus
		c.set("lifecycle_status", "?", c.to)
		if p.AchievementStatus == nil {
			c.autoAchievement()
		}
	}
	if len(c.sets) == 0 {
		// Nothing to change: still check visibility and the precondition.
		return s.unchangedGoal(ctx, a, id, c)
	}
	return s.applyGoalChange(ctx, a, id, c)
}

// setLabels adds a patch's visibility and sensitivity, which only the
// client may change.
func (c *goalChange) setLabels(p GoalPatch) error {
	if p.Sensitivity != nil {
		v, err := optEnum("sensitivity", *p.Sensitivity, SensitivityLabels())
		if err != nil {
			return err
		}
		c.set("sensitivity", "?", v)
		c.clientOnly = "sensitivity"
		c.labels = true
	}
	if p.Visibility != nil {
		if !slices.Contains(GoalVisibilities(), *p.Visibility) {
			return Invalid("visibility", "visibility must be one of %s", strings.Join(GoalVisibilities(), ", "))
		}
		c.set("visibility", "?", *p.Visibility)
		c.clientOnly = "visibility"
		c.labels = true
	}
	if p.CheckInEvery != nil {
		v, err := CheckInEvery(*p.CheckInEvery)
		if err != nil {
			return err
		}
		// The clock starts when the cadence is set or changed, not when
		// the same cadence is sent again.
		c.set("check_in_since", "CASE WHEN g.check_in_every IS NOT DISTINCT FROM ?::text THEN g.check_in_since ELSE now() END", v)
		c.set("check_in_every", "?", v)
		c.clientOnly = "check_in_every"
	}
	return nil
}

// autoAchievement fills the achievement status a lifecycle move implies when
// the caller did not set one: completing means achieved; (re)starting work
// means in progress. A move to the current status changes nothing.
func (c *goalChange) autoAchievement() {
	switch c.to {
	case GoalCompleted:
		c.set("achievement_status", "CASE WHEN g.lifecycle_status = 'completed' THEN g.achievement_status ELSE 'achieved' END")
	case GoalActive:
		c.set("achievement_status", `CASE WHEN g.lifecycle_status = 'active' THEN g.achievement_status
			WHEN g.achievement_status IS NULL OR g.achievement_status = 'achieved' THEN 'in-progress'
			ELSE g.achievement_status END`)
	}
}

// AcceptGoal is the client accepting a proposed goal: it becomes active (or
// accepted, agreed but not started). pre may be AnyVersion().
func (s *Store) AcceptGoal(ctx context.Context, a Actor, id uuid.UUID, pre Precondition, to string) (Goal, error) {
	if to == "" {
		to = GoalActive
	}
	if !slices.Contains(GoalAcceptStatuses(), to) {
		return Goal{}, Invalid("lifecycle_status", "an accepted goal becomes %s", strings.Join(GoalAcceptStatuses(), " or "))
	}
	c := goalChange{pre: pre, change: GoalChangeAccepted, to: to, fromProposed: true}
	c.set("lifecycle_status", "?", to)
	c.autoAchievement()
	return s.applyGoalChange(ctx, a, id, c)
}

// RejectGoal is the client declining a proposed goal, optionally saying why.
func (s *Store) RejectGoal(ctx context.Context, a Actor, id uuid.UUID, pre Precondition, reason string) (Goal, error) {
	r, err := optText("reason", reason, MaxGoalStatusReason)
	if err != nil {
		return Goal{}, err
	}
	c := goalChange{pre: pre, change: GoalChangeRejected, to: GoalRejected, fromProposed: true}
	c.set("lifecycle_status", "?", GoalRejected)
	c.set("status_reason", "?", r)
	return s.applyGoalChange(ctx, a, id, c)
}

// goalChangeRow is what the conditional update returns: the new goal and the
// old and new rows as JSON for the history.
type goalChangeRow struct {
	Goal
	OldRow JSONValue[map[string]json.RawMessage]
	NewRow JSONValue[map[string]json.RawMessage]
}

// errNoChange rolls back an update that changed nothing.
var errNoChange = errors.New("no change")

func (s *Store) applyGoalChange(ctx context.Context, a Actor, id uuid.UUID, c goalChange) (Goal, error) {
	cond := c.condition(a, id)
	if _, inRequest := ctx.Value(requestTxKey{}).(*requestTx); !c.labels && !inRequest {
		return s.applyGoalChangeOnce(ctx, a, id, c, cond)
	}
	q := `WITH old AS (SELECT g.* FROM goals g WHERE ? FOR UPDATE),
		upd AS (UPDATE goals g SET ?, version = g.version + 1, updated_at = now()
			FROM old WHERE g.client_id = old.client_id AND g.id = old.id RETURNING g.*)
		SELECT ` + goalColumns + `, to_jsonb(old) AS old_row, to_jsonb(g) AS new_row
		FROM upd g JOIN old ON old.client_id = g.client_id AND old.id = g.id ` + goalRatingJoin
	sets := clause.Expr{SQL: joinSets(c.sets), Vars: c.args}

	var g Goal
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var row goalChangeRow
		res := tx.Raw(q, cond, sets).Scan(&row)
		if res.Error != nil {
			return fmt.Errorf("update goal: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return goalMiss(tx, a, id, c, false)
		}
		var changes []FieldChange
		var fields []string
		for _, col := range goalContentColumns() {
			o, n := row.OldRow.V[col[0]], row.NewRow.V[col[0]]
			if !bytes.Equal(o, n) {
				changes = append(changes, FieldChange{Field: col[1], Old: o, New: n})
				fields = append(fields, col[1])
			}
		}
		if len(changes) == 0 {
			return errNoChange
		}
		g = row.Goal
		if err := recordGoalChange(tx, a, g, c.change, changes, fields); err != nil {
			return err
		}
		return emitGoalHidden(tx, g.ClientID, id, row.OldRow.V, row.NewRow.V)
	})
	if errors.Is(err, errNoChange) {
		return s.GetGoal(ctx, a, id)
	}
	return g, err
}

// condition is the WHERE clause (on goals g) of a conditional goal change:
// the row as it is now (after any concurrent writer committed) within the
// actor's reach, the version, who may set what, the lifecycle move.
func (c goalChange) condition(a Actor, id uuid.UUID) clause.Expr {
	where := `g.id = ? AND ? AND g.lifecycle_status <> 'entered-in-error'`
	wargs := []any{id, a.GoalScope("g", ReachCare)}
	where += ` AND ?`
	wargs = append(wargs, c.pre.sql("g.version"))
	if c.clientOnly != "" {
		where += ` AND ?`
		wargs = append(wargs, a.ownRecord("g.client_id"))
	}
	if c.to != "" {
		// The statuses this actor may move the goal from, decided in the
		// same statement as the write (the lifecycle table, per mover).
		from := goalMoverCase(a, textArray(c.sources(MoverClient)), textArray(c.sources(MoverProposer)), textArray(c.sources(MoverWorker)))
		if c.allowSameLife {
			where += ` AND (g.lifecycle_status = ? OR g.lifecycle_status = ANY((?)::text[]))`
			wargs = append(wargs, c.to, from)
		} else {
			where += ` AND g.lifecycle_status = ANY((?)::text[])`
			wargs = append(wargs, from)
		}
	}
	return clause.Expr{SQL: where, Vars: wargs}
}

// unchangedGoal answers an empty patch: the goal as it is, after the same
// visibility and precondition checks as a real change.
func (s *Store) unchangedGoal(ctx context.Context, a Actor, id uuid.UUID, c goalChange) (Goal, error) {
	if err := goalMiss(s.db.WithContext(ctx), a, id, c, true); err != nil {
		return Goal{}, s.settleMiss(ctx, err)
	}
	return s.GetGoal(ctx, a, id)
}

// goalMiss explains why a conditional goal update matched no row, in the
// order the contract promises: not visible (404), not allowed for the
// actor's role (403), If-Match missing (428) or stale (412), then the state
// (409). One read after the failed write; never a read before it. With
// empty (a patch that changes nothing) it returns nil when all checks pass.
func goalMiss(tx *gorm.DB, a Actor, id uuid.UUID, c goalChange, empty bool) error {
	var cur []struct {
		ClientID        uuid.UUID
		CreatedBy       uuid.UUID
		Version         int64
		LifecycleStatus string
	}
	if err := tx.Raw(`SELECT g.client_id, g.created_by, g.version, g.lifecycle_status FROM goals g WHERE g.id = ? AND ?`,
		id, a.GoalScope("g", ReachCare)).Scan(&cur).Error; err != nil {
		return fmt.Errorf("read goal state: %w", err)
	}
	if len(cur) == 0 {
		return goalWriteRefused(tx, a, id)
	}
	st := cur[0]
	// Who may make the move comes before the precondition: accepting or
	// rejecting is the client's whatever the state; otherwise the move from
	// the current status.
	from := st.LifecycleStatus
	if c.fromProposed {
		from = GoalProposed
	}
	if c.to != "" && (c.fromProposed || c.to != from) {
		if err := CheckGoalTransition(from, c.to, goalMoverOf(a, st.ClientID, st.CreatedBy)); IsKind(err, KindForbidden) {
			return err
		}
	}
	if c.clientOnly != "" && !a.IsClient(st.ClientID) {
		return clientOnlyField(c.clientOnly)
	}
	if err := c.pre.check(st.Version); err != nil {
		return err
	}
	if c.fromProposed && st.LifecycleStatus != GoalProposed {
		return &Error{Kind: KindConflict, Message: "a goal that is " + st.LifecycleStatus + " cannot be " + string(c.change) +
			"; only a proposed goal can become " + c.to}
	}
	if c.to != "" && !c.fromProposed && c.to != st.LifecycleStatus && !GoalTransitionAllowed(st.LifecycleStatus, c.to) {
		return goalTransitionConflict(st.LifecycleStatus, c.to)
	}
	if empty {
		return nil
	}
	if st.LifecycleStatus == GoalEnteredInError {
		return goalFrozen()
	}
	// Everything matches now: a concurrent change got in between; re-read and retry.
	return Stale(st.Version)
}

// recordGoalChange writes what follows a goal's update in one statement:
// its history, its event, the access log (unless the writer is the client)
// and the app's use, in that order.
func recordGoalChange(tx *gorm.DB, a Actor, g Goal, change GoalChange, changes []FieldChange, fields []string) error {
	history, err := goalHistoryInsert(a, g.ClientID, g.ID, changes)
	if err != nil {
		return err
	}
	data, err := jsonData(GoalEventData{GoalID: g.ID, Version: g.Version, Change: change, Fields: fields})
	if err != nil {
		return err
	}
	err = tx.Exec(`WITH s AS (SELECT ?::uuid AS client_id, ?::uuid AS goal_id),
		h AS (?), ev AS (?), logged AS (?), used AS (?)
		SELECT 1`, g.ClientID, g.ID, history,
		eventFrom(EventGoalUpdated, g.ID, "s", "s.client_id", data, clientRecipients(g.ClientID)),
		logAccessFrom(a, ActionWrite, ResourceGoal, "s", "s.client_id", "s.goal_id",
			"COALESCE((SELECT x.title FROM goals x WHERE x.client_id = s.client_id AND x.id = s.goal_id), '')"),
		appUse(a, "s.client_id", "s")).Error
	if err != nil {
		return fmt.Errorf("record goal change: %w", err)
	}
	markEmitted(tx)
	return nil
}
