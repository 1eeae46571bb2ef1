package domain

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Goal is a client's goal with its steps and a summary of their self-ratings.
type Goal struct {
	ClientID          uuid.UUID
	ID                uuid.UUID
	Title             string
	Description       *string
	WhyItMatters      *string
	StrengthsUsed     Strings
	Category          *string
	Priority          string
	TargetDate        *string // YYYY-MM-DD
	LifecycleStatus   string
	AchievementStatus *string
	StatusReason      *string
	CreatedBy         uuid.UUID
	CreatedAt         time.Time
	UpdatedAt         time.Time
	Version           int64
	Steps             JSONValue[[]Step]
	// LatestRating is the client's own most recent self-rating (worker check-ins do not count).
	LatestRating *int
	Trend        string
}

// Step is a milestone of a goal, in a dense order 1..n.
type Step struct {
	ID        uuid.UUID  `json:"id"`
	Title     string     `json:"title"`
	DueDate   *string    `json:"due_date"`
	DoneAt    *time.Time `json:"done_at"`
	Position  int        `json:"position"`
	Version   int64      `json:"version"`
	CreatedBy uuid.UUID  `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// goalColumns reads a goal row aliased g with its steps (one JSON array) and,
// from the rating join r, its latest rating and trend: one statement for one
// goal or a whole page, never a query per goal.
const goalColumns = `g.client_id, g.id, g.title, g.description, g.why_it_matters, g.strengths_used, g.category,
	g.priority, g.target_date::text AS target_date, g.lifecycle_status, g.achievement_status, g.status_reason,
	g.created_by, g.created_at, g.updated_at, g.version,
	COALESCE((SELECT jsonb_agg(jsonb_build_object('id', s.id, 'title', s.title, 'due_date', s.due_date,
		'done_at', s.done_at, 'position', s.position, 'version', s.version, 'created_by', s.created_by,
		'created_at', s.created_at, 'updated_at', s.updated_at) ORDER BY s.position)
		FROM goal_steps s WHERE s.client_id = g.client_id AND s.goal_id = g.id), '[]') AS steps,
	r.latest_rating, r.trend`

// goalRatingJoin computes latest_rating and trend from the client's last six
// self-ratings (newest first, k of them): fewer than three is
// insufficient_data; otherwise the mean of the newest k/2 is compared with the
// mean of the oldest k/2 (the middle one is skipped when k is odd): a rise of
// at least one point is improving, a fall of at least one point worsening,
// anything else steady. The partial index goal_check_ins_client_idx serves it.
const goalRatingJoin = `CROSS JOIN LATERAL (
	SELECT max(c.rating) FILTER (WHERE c.rn = 1) AS latest_rating,
		CASE WHEN count(*) < 3 THEN 'insufficient_data'
			WHEN avg(c.rating) FILTER (WHERE c.rn <= c.k / 2) - avg(c.rating) FILTER (WHERE c.rn > c.k - c.k / 2) >= 1 THEN 'improving'
			WHEN avg(c.rating) FILTER (WHERE c.rn <= c.k / 2) - avg(c.rating) FILTER (WHERE c.rn > c.k - c.k / 2) <= -1 THEN 'worsening'
			ELSE 'steady' END AS trend
	FROM (SELECT x.rating, row_number() OVER (ORDER BY x.id DESC) AS rn, count(*) OVER () AS k
		FROM (SELECT ci.rating, ci.id FROM goal_check_ins ci
			WHERE ci.client_id = g.client_id AND ci.goal_id = g.id AND ci.author_role = 'client'
			ORDER BY ci.id DESC LIMIT 6) x) c) r`

// goalContentColumns are the columns whose changes go to the history, with
// their API field names.
func goalContentColumns() [][2]string {
	return [][2]string{
		{"title", "title"}, {"description", "description"}, {"why_it_matters", "why_it_matters"},
		{"strengths_used", "strengths_used"}, {"category", "category"}, {"priority", "priority"},
		{"target_date", "target_date"}, {"lifecycle_status", "lifecycle_status"},
		{"achievement_status", "achievement_status"}, {"status_reason", "status_reason"},
	}
}

// GoalInput creates a goal.
type GoalInput struct {
	Title         string
	Description   string
	WhyItMatters  string
	StrengthsUsed []string
	Category      string
	Priority      string
	TargetDate    string
	// LifecycleStatus is "" (the default for the actor), planned or active
	// for the client, proposed for a worker.
	LifecycleStatus string
	Steps           []StepInput
}

// CreateGoal creates a goal for a client. The client's own goal starts
// active (or planned); a care-team worker's goal starts proposed, for the
// client to accept or reject. Admins and others: 404.
func (s *Store) CreateGoal(ctx context.Context, a Actor, clientID uuid.UUID, in GoalInput) (Goal, error) {
	title, err := requiredTitle("title", in.Title, MaxGoalTitle)
	if err != nil {
		return Goal{}, err
	}
	desc, err := optText("description", in.Description, MaxGoalDescription)
	if err != nil {
		return Goal{}, err
	}
	why, err := optText("why_it_matters", in.WhyItMatters, MaxGoalWhy)
	if err != nil {
		return Goal{}, err
	}
	strengths, err := goalStrengths("strengths_used", in.StrengthsUsed)
	if err != nil {
		return Goal{}, err
	}
	category, err := optEnum("category", in.Category, GoalCategories())
	if err != nil {
		return Goal{}, err
	}
	priority := "medium"
	if in.Priority != "" {
		if !slices.Contains(GoalPriorities(), in.Priority) {
			return Goal{}, Invalid("priority", "priority must be one of %s", strings.Join(GoalPriorities(), ", "))
		}
		priority = in.Priority
	}
	target, err := optDate("target_date", in.TargetDate)
	if err != nil {
		return Goal{}, err
	}
	if len(in.Steps) > MaxGoalSteps {
		return Goal{}, Invalid("steps", "a goal can have at most %d steps", MaxGoalSteps)
	}
	steps := make([]StepInput, len(in.Steps))
	for i, st := range in.Steps {
		f := fmt.Sprintf("steps[%d]", i)
		if steps[i].Title, err = requiredTitle(f+".title", st.Title, MaxStepTitle); err != nil {
			return Goal{}, err
		}
		if _, err := optDate(f+".due_date", st.DueDate); err != nil {
			return Goal{}, err
		}
		steps[i].DueDate = st.DueDate
	}

	var g Goal
	err = s.tx(ctx, func(tx *gorm.DB) error {
		var cid []uuid.UUID
		if err := tx.Raw(`SELECT c.id FROM clients c WHERE c.id = ? AND ?`, clientID, a.ClientScope("c.id", ReachCare)).Scan(&cid).Error; err != nil {
			return fmt.Errorf("look up client: %w", err)
		}
		if len(cid) == 0 {
			return NotFound("client")
		}
		// Whoever creates a goal that is not their own is its proposer.
		status, err := goalStartStatus(goalMoverOf(a, clientID, a.PersonID), in.LifecycleStatus)
		if err != nil {
			return err
		}
		var achievement *string
		if status == GoalActive {
			achievement = ptrTo("in-progress")
		}
		id := newID()
		err = tx.Exec(`INSERT INTO goals (client_id, id, title, description, why_it_matters, strengths_used, category,
				priority, target_date, lifecycle_status, achievement_status, created_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?::date, ?, ?, ?)`,
			clientID, id, title, desc, why, strengths, category, priority, target, status, achievement, a.PersonID).Error
		if err != nil {
			return fmt.Errorf("insert goal: %w", err)
		}
		changes := []FieldChange{{Field: "goal", New: map[string]any{
			"title": title, "lifecycle_status": status, "priority": priority, "category": category,
		}}}
		for i, st := range steps {
			sid := newID()
			err := tx.Exec(`INSERT INTO goal_steps (client_id, goal_id, id, title, due_date, position, created_by)
				VALUES (?, ?, ?, ?, NULLIF(?, '')::date, ?, ?)`, clientID, id, sid, st.Title, st.DueDate, i+1, a.PersonID).Error
			if err != nil {
				return fmt.Errorf("insert step: %w", err)
			}
			changes = append(changes, FieldChange{Field: "steps[" + sid.String() + "]", New: stepSnapshot(st.Title, nullIfEmpty(st.DueDate), i+1)})
		}
		if err := recordGoalHistory(tx, a, clientID, id, changes); err != nil {
			return err
		}
		ev := EventGoalUpdated
		if status == GoalProposed {
			ev = EventGoalProposed
		}
		if err := emitGoalEvent(tx, ev, clientID, id, 1, "created", nil); err != nil {
			return err
		}
		if g, err = readGoal(tx, a, id); err != nil {
			return err
		}
		return logAccess(tx, a, ActionWrite, "goal", []uuid.UUID{clientID}, []string{id.String()})
	})
	return g, err
}

// readGoal reads one goal the actor may see (ReachCare), else NotFound.
func readGoal(tx *gorm.DB, a Actor, id uuid.UUID) (Goal, error) {
	var g Goal
	res := tx.Raw(`SELECT `+goalColumns+` FROM goals g `+goalRatingJoin+` WHERE g.id = ? AND ?`,
		id, a.ClientScope("g.client_id", ReachCare)).Scan(&g)
	if res.Error != nil {
		return Goal{}, fmt.Errorf("read goal: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return Goal{}, NotFound("goal")
	}
	return g, nil
}

// GetGoal returns one goal with its steps, latest rating and trend. The
// client and their care team see it; anyone else gets NotFound. It is the
// hot path: one statement, which for a care team member also writes the
// access log entry.
func (s *Store) GetGoal(ctx context.Context, a Actor, id uuid.UUID) (Goal, error) {
	db := s.db.WithContext(ctx)
	if !a.Is(RoleWorker) {
		// Only the client themself can reach it: nothing to log.
		return readGoal(db, a, id)
	}
	var g Goal
	res := db.Raw(`WITH g AS (SELECT `+goalColumns+` FROM goals g `+goalRatingJoin+` WHERE g.id = ? AND ?),
		logged AS (?)
		SELECT * FROM g`, id, a.ClientScope("g.client_id", ReachCare),
		logAccessFrom(a, ActionRead, "goal", "g", "g.client_id", "g.id")).Scan(&g)
	if res.Error != nil {
		return Goal{}, fmt.Errorf("read goal: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return Goal{}, NotFound("goal")
	}
	return g, nil
}

// GoalFilter narrows ListGoals.
type GoalFilter struct {
	// LifecycleStatuses keeps goals in any of these statuses; empty means all
	// but entered-in-error (goals recorded by mistake are hidden by default).
	LifecycleStatuses []string
	Categories        []string
	Cursor            string
	Limit             int
}

// ListGoals lists a client's goals in creation order.
func (s *Store) ListGoals(ctx context.Context, a Actor, clientID uuid.UUID, f GoalFilter) ([]Goal, string, error) {
	after, err := decodeCursor(f.Cursor)
	if err != nil {
		return nil, "", err
	}
	q := `SELECT ` + goalColumns + ` FROM goals g ` + goalRatingJoin + ` WHERE g.client_id = ? AND ?`
	args := []any{clientID, a.ClientScope("g.client_id", ReachCare)}
	if len(f.LifecycleStatuses) > 0 {
		q += ` AND g.lifecycle_status = ANY(?::text[])`
		args = append(args, textArray(f.LifecycleStatuses))
	} else {
		q += ` AND g.lifecycle_status <> 'entered-in-error'`
	}
	if len(f.Categories) > 0 {
		q += ` AND g.category = ANY(?::text[])`
		args = append(args, textArray(f.Categories))
	}
	if after != uuid.Nil {
		q += ` AND g.id > ?`
		args = append(args, after)
	}
	q += ` ORDER BY g.id LIMIT ?`
	args = append(args, f.Limit+1)
	var out []Goal
	err = s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Raw(q, args...).Scan(&out).Error; err != nil {
			return fmt.Errorf("list goals: %w", err)
		}
		if len(out) == 0 {
			// Empty: tell "no goals yet" from "not your client".
			var ok []bool
			if err := tx.Raw(`SELECT true FROM clients c WHERE c.id = ? AND ?`, clientID, a.ClientScope("c.id", ReachCare)).Scan(&ok).Error; err != nil {
				return fmt.Errorf("look up client: %w", err)
			}
			if len(ok) == 0 {
				return NotFound("client")
			}
		}
		return logAccess(tx, a, ActionRead, "goal", []uuid.UUID{clientID}, []string{""})
	})
	if err != nil {
		return nil, "", err
	}
	out, next := page(out, f.Limit, func(g Goal) uuid.UUID { return g.ID })
	return out, next, nil
}

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
	change        string // for the event: "updated", "accepted", "rejected"
	allowSameLife bool   // lifecycle "to" equal to the current status is no change
}

func (c *goalChange) set(col, expr string, args ...any) {
	c.sets = append(c.sets, col+" = "+expr)
	c.args = append(c.args, args...)
}

// UpdateGoal applies a merge patch with one conditional UPDATE (id, version,
// client scope and lifecycle table in its WHERE clause) that also returns the
// old values, then writes one history row per changed field, all in one
// transaction. A patch that changes nothing leaves the version alone.
func (s *Store) UpdateGoal(ctx context.Context, a Actor, id uuid.UUID, pre Precondition, p GoalPatch) (Goal, error) {
	c := goalChange{pre: pre, change: "updated", allowSameLife: true}
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
	c := goalChange{pre: pre, change: "accepted", to: to, fromProposed: true}
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
	c := goalChange{pre: pre, change: "rejected", to: GoalRejected, fromProposed: true}
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
	// old locks the row as it is now (after any concurrent writer committed)
	// and carries every condition: visibility, version, lifecycle move.
	where := `g.id = ? AND ? AND g.lifecycle_status <> 'entered-in-error'`
	wargs := []any{id, a.ClientScope("g.client_id", ReachCare)}
	where += ` AND ?`
	wargs = append(wargs, c.pre.sql("g.version"))
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
	q := `WITH old AS (SELECT g.* FROM goals g WHERE ? FOR UPDATE),
		upd AS (UPDATE goals g SET ?, version = g.version + 1, updated_at = now()
			FROM old WHERE g.client_id = old.client_id AND g.id = old.id RETURNING g.*)
		SELECT ` + goalColumns + `, to_jsonb(old) AS old_row, to_jsonb(g) AS new_row
		FROM upd g JOIN old ON old.client_id = g.client_id AND old.id = g.id ` + goalRatingJoin
	cond, sets := clause.Expr{SQL: where, Vars: wargs}, clause.Expr{SQL: strings.Join(c.sets, ", "), Vars: c.args}

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
		if err := recordGoalHistory(tx, a, g.ClientID, id, changes); err != nil {
			return err
		}
		if err := emitGoalEvent(tx, EventGoalUpdated, g.ClientID, id, g.Version, c.change, fields); err != nil {
			return err
		}
		return logAccess(tx, a, ActionWrite, "goal", []uuid.UUID{g.ClientID}, []string{id.String()})
	})
	if errors.Is(err, errNoChange) {
		return s.GetGoal(ctx, a, id)
	}
	return g, err
}

// unchangedGoal answers an empty patch: the goal as it is, after the same
// visibility and precondition checks as a real change.
func (s *Store) unchangedGoal(ctx context.Context, a Actor, id uuid.UUID, c goalChange) (Goal, error) {
	if err := goalMiss(s.db.WithContext(ctx), a, id, c, true); err != nil {
		return Goal{}, err
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
		id, a.ClientScope("g.client_id", ReachCare)).Scan(&cur).Error; err != nil {
		return fmt.Errorf("read goal state: %w", err)
	}
	if len(cur) == 0 {
		return NotFound("goal")
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
	if err := c.pre.check(st.Version); err != nil {
		return err
	}
	if c.fromProposed && st.LifecycleStatus != GoalProposed {
		return &Error{Kind: KindConflict, Message: "a goal that is " + st.LifecycleStatus + " cannot be " + c.change +
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

func goalFrozen() *Error {
	return Errorf(KindConflict, "this goal was entered in error; it can no longer change")
}

// goalClient returns the client of a goal the actor may see, else NotFound.
func goalClient(tx *gorm.DB, a Actor, goalID uuid.UUID) (uuid.UUID, error) {
	var ids []uuid.UUID
	if err := tx.Raw(`SELECT g.client_id FROM goals g WHERE g.id = ? AND ?`, goalID, a.ClientScope("g.client_id", ReachCare)).Scan(&ids).Error; err != nil {
		return uuid.Nil, fmt.Errorf("look up goal: %w", err)
	}
	if len(ids) == 0 {
		return uuid.Nil, NotFound("goal")
	}
	return ids[0], nil
}

// touchGoal locks a goal the actor may see and bumps its version, because a
// change to its steps or check-ins changes its representation (and ETag).
// It refuses goals entered in error, which no longer change.
func touchGoal(tx *gorm.DB, a Actor, goalID uuid.UUID) (clientID uuid.UUID, version int64, err error) {
	var rows []struct {
		ClientID        uuid.UUID
		Version         int64
		LifecycleStatus string
	}
	err = tx.Raw(`UPDATE goals g SET version = g.version + 1, updated_at = now()
		WHERE g.id = ? AND ? RETURNING g.client_id, g.version, g.lifecycle_status`,
		goalID, a.ClientScope("g.client_id", ReachCare)).Scan(&rows).Error
	if err != nil {
		return uuid.Nil, 0, fmt.Errorf("touch goal: %w", err)
	}
	if len(rows) == 0 {
		return uuid.Nil, 0, NotFound("goal")
	}
	if rows[0].LifecycleStatus == GoalEnteredInError {
		return uuid.Nil, 0, goalFrozen()
	}
	return rows[0].ClientID, rows[0].Version, nil
}

func emitGoalEvent(tx *gorm.DB, typ string, clientID, goalID uuid.UUID, version int64, change string, fields []string) error {
	data := map[string]any{"goal_id": goalID, "version": version, "change": change}
	if fields != nil {
		data["fields"] = fields
	}
	return EmitEvent(tx, Event{Type: typ, ClientID: clientID, SubjectID: goalID, Data: data})
}

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
