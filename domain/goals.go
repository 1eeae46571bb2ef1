package domain

import (
	"context"
	"database/sql/driver"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
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
	// Visibility is care_team (shared with the care team) or private (the client's alone).
	Visibility string
	// Sensitivity is a label such as sud, or nil: see GoalScope.
	Sensitivity *string
	// CheckInEvery is the client's check-in cadence (ISO 8601 duration), or nil.
	CheckInEvery *string
	CreatedBy    uuid.UUID
	CreatedAt    time.Time
	UpdatedAt    time.Time
	Version      int64
	Steps        Steps
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
	// Sensitivity is the goal's label when the step is read on its own
	// (the redisclosure notice); not part of the goal's steps JSON.
	Sensitivity *string `json:"-" gorm:"-"`
}

// Steps are a goal's steps in order. The goal's query reads them as one JSON
// array, which Steps scans itself, so callers use a plain slice.
type Steps []Step

// Scan implements sql.Scanner.
func (s *Steps) Scan(src any) error { return scanJSON(src, (*[]Step)(s)) }

// Value implements driver.Valuer; GORM treats a slice as one column only
// when it is both a Scanner and a Valuer.
func (s Steps) Value() (driver.Value, error) { return JSONValue[[]Step]{V: s}.Value() }

// goalColumns reads a goal row aliased g with its steps (one JSON array) and,
// from the rating join r, its latest rating and trend: one statement for one
// goal or a whole page, never a query per goal. Each step carries "done" too,
// as the API shows it, because the export (domain/export.go) writes these
// columns out as they are.
const goalColumns = `g.client_id, g.id, g.title, g.description, g.why_it_matters, g.strengths_used, g.category,
	g.priority, g.target_date::text AS target_date, g.lifecycle_status, g.achievement_status, g.status_reason,
	g.visibility, g.sensitivity, g.check_in_every, g.created_by, g.created_at, g.updated_at, g.version,
	COALESCE((SELECT jsonb_agg(jsonb_build_object('id', s.id, 'title', s.title, 'due_date', s.due_date,
		'done_at', s.done_at, 'done', s.done_at IS NOT NULL, 'position', s.position, 'version', s.version, 'created_by', s.created_by,
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
		{"visibility", "visibility"}, {"sensitivity", "sensitivity"}, {"check_in_every", "check_in_every"},
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
	// Visibility is "" (care_team) or private; Sensitivity "" (none) or a
	// label. Only the client sets them: a worker's proposal is shared with
	// the care team and unlabelled.
	Visibility  string
	Sensitivity string
	Steps       []StepInput
}

// CreateGoal creates a goal for a client. The client's own goal starts
// active (or planned); a care-team worker's goal starts proposed, for the
// client to accept or reject. Admins and others: 404.
func (s *Store) CreateGoal(ctx context.Context, a Actor, clientID uuid.UUID, in GoalInput) (Goal, error) {
	d, err := in.draft()
	if err != nil {
		return Goal{}, err
	}
	var g Goal
	err = s.tx(ctx, func(tx *gorm.DB) error {
		var cid []uuid.UUID
		if err := tx.Raw(`SELECT c.id FROM clients c WHERE c.id = ? AND ?`, clientID, a.ClientScope("c.id", ReachCare)).Scan(&cid).Error; err != nil {
			return fmt.Errorf("look up client: %w", err)
		}
		if len(cid) == 0 {
			return refusedWrite(tx, missing(a, clientTarget(clientID, ReachCare, ResourceGoal)), `clients c WHERE c.id = ? AND ?`, clientID, a.ClientScope("c.id", ReachGoalsShared))
		}
		// Whoever creates a goal that is not their own is its proposer.
		mover := goalMoverOf(a, clientID, a.PersonID)
		status, err := goalStartStatus(mover, in.LifecycleStatus)
		if err != nil {
			return err
		}
		if err := d.checkLabels(mover); err != nil {
			return err
		}
		var achievement *string
		if status == GoalActive {
			achievement = ptrTo("in-progress")
		}
		id := newID()
		err = tx.Exec(`INSERT INTO goals (client_id, id, title, description, why_it_matters, strengths_used, category,
				priority, target_date, lifecycle_status, achievement_status, visibility, sensitivity, created_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?::date, ?, ?, ?, ?, ?)`,
			clientID, id, d.title, d.desc, d.why, d.strengths, d.category, d.priority, d.target, status, achievement,
			d.visibility, d.sensitivity, a.PersonID).Error
		if err != nil {
			return fmt.Errorf("insert goal: %w", err)
		}
		changes := []FieldChange{{Field: "goal", New: map[string]any{
			"title": d.title, "lifecycle_status": status, "priority": d.priority, "category": d.category,
			"visibility": d.visibility, "sensitivity": d.sensitivity,
		}}}
		for i, st := range d.steps {
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
		if err := emitGoalEvent(tx, ev, clientID, id, 1, GoalChangeCreated, nil); err != nil {
			return err
		}
		if g, err = readGoal(tx, a, id); err != nil {
			return err
		}
		return logAccess(tx, a, ActionWrite, ResourceGoal, []uuid.UUID{clientID}, []string{id.String()})
	})
	return g, err
}

// readGoal reads one goal the actor may see (ReachCare: it follows a
// write), else NotFound.
func readGoal(tx *gorm.DB, a Actor, id uuid.UUID) (Goal, error) {
	return scanGoal(tx.Raw(`SELECT `+goalColumns+` FROM goals g `+goalRatingJoin+` WHERE g.id = ? AND ?`,
		id, a.GoalScope("g", ReachCare)), missing(a, goalTarget(id)))
}

// scanGoal reads the goal q selects (goalColumns), else notFound.
func scanGoal(q *gorm.DB, notFound error) (Goal, error) {
	goals, err := scanGoals(q)
	if err != nil {
		return Goal{}, err
	}
	if len(goals) == 0 {
		return Goal{}, notFound
	}
	return goals[0], nil
}

// scanGoals reads the rows of goalColumns q selects. The goal reads are
// the hottest statements: their fields are scanned by hand, in
// goalColumns' order, rather than by GORM's reflection (about a tenth of a
// goal read's CPU). Every row is read, so an error raised after the first
// (by a data-modifying CTE) is seen.
func scanGoals(q *gorm.DB) ([]Goal, error) {
	rows, err := q.Rows()
	if err != nil {
		return nil, fmt.Errorf("read goal: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []Goal
	for rows.Next() {
		var g Goal
		if err := rows.Scan(&g.ClientID, &g.ID, &g.Title, &g.Description, &g.WhyItMatters, &g.StrengthsUsed, &g.Category,
			&g.Priority, &g.TargetDate, &g.LifecycleStatus, &g.AchievementStatus, &g.StatusReason,
			&g.Visibility, &g.Sensitivity, &g.CheckInEvery, &g.CreatedBy, &g.CreatedAt, &g.UpdatedAt, &g.Version,
			&g.Steps, &g.LatestRating, &g.Trend); err != nil {
			return nil, fmt.Errorf("read goal: %w", err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read goal: %w", err)
	}
	return out, nil
}

// GetGoal returns one goal with its steps, latest rating and trend. The
// client, their care team and supporters the client shares goals with see
// it; anyone else gets NotFound. It is the hot path: one statement. A
// client's read of their own goal needs no log (only the app's use is
// recorded); anyone else's read is logged by the same statement that reads.
func (s *Store) GetGoal(ctx context.Context, a Actor, id uuid.UUID) (Goal, error) {
	db := s.db.WithContext(ctx)
	if a.ClientID != uuid.Nil {
		g, err := scanGoal(rawSized(db, `WITH g AS (SELECT `+goalColumns+` FROM goals g `+goalRatingJoin+`
				WHERE g.id = ? AND g.client_id = ? AND ?), used AS (?)
			SELECT * FROM g`, id, a.ClientID, a.GoalScope("g", ReachGoalsShared), appUse(a, "g.client_id", "g")), NotFound("goal"))
		if !IsKind(err, KindNotFound) {
			return g, err
		}
		// Not their own: perhaps a goal they read as a worker or supporter.
	}
	g, err := scanGoal(rawSized(db, `WITH g AS (SELECT `+goalColumns+` FROM goals g `+goalRatingJoin+` WHERE g.id = ? AND ?),
		logged AS (?), used AS (?)
		SELECT * FROM g`, id, a.GoalScope("g", ReachGoalsShared),
		logAccessFrom(a, ActionRead, ResourceGoal, "g", "g.client_id", "g.id", "g.title"),
		appUse(a, "g.client_id", "g")), missing(a, goalTarget(id)))
	return g, s.settleMiss(ctx, err)
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
	args := []any{clientID, a.GoalScope("g", ReachGoalsShared)}
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
	// The hot path: one statement reads the page and, when it holds a goal,
	// logs the read (unless it is the client's own) and records the app's use.
	// An empty page is told apart below, in a transaction of its own.
	out, err := scanGoals(rawSized(s.db.WithContext(ctx), `WITH g AS (`+q+`),
		seen AS (SELECT ?::uuid AS client_id WHERE EXISTS (SELECT 1 FROM g)),
		logged AS (?), used AS (?)
		SELECT * FROM g ORDER BY g.id`, append(args, clientID,
		logAccessFrom(a, ActionRead, ResourceGoal, "seen", "seen.client_id", "''", "''"),
		appUse(a, "seen.client_id", "seen"))...))
	if err != nil {
		return nil, "", fmt.Errorf("list goals: %w", err)
	}
	if len(out) > 0 {
		out, next := page(out, f.Limit, func(g Goal) uuid.UUID { return g.ID })
		return out, next, nil
	}
	err = s.tx(ctx, func(tx *gorm.DB) error {
		var err error
		if out, err = scanGoals(rawSized(tx, q, args...)); err != nil {
			return fmt.Errorf("list goals: %w", err)
		}
		if len(out) == 0 {
			// Empty: tell "no goals yet" from "not your client".
			var ok []bool
			if err := tx.Raw(`SELECT true FROM clients c WHERE c.id = ? AND ?`, clientID, a.ClientScope("c.id", ReachGoalsShared)).Scan(&ok).Error; err != nil {
				return fmt.Errorf("look up client: %w", err)
			}
			if len(ok) == 0 {
				return missing(a, clientTarget(clientID, ReachGoalsShared, ResourceGoal))
			}
		}
		return logAccess(tx, a, ActionRead, ResourceGoal, []uuid.UUID{clientID}, []string{""})
	})
	if err != nil {
		return nil, "", err
	}
	out, next := page(out, f.Limit, func(g Goal) uuid.UUID { return g.ID })
	return out, next, nil
}

func goalFrozen() *Error {
	return Errorf(KindConflict, "this goal was entered in error; it can no longer change")
}

// goalRef is what a goal's sub-resources need of their goal: its client,
// version and sensitivity label (a response about a labelled goal carries
// the redisclosure notice).
type goalRef struct {
	ClientID    uuid.UUID
	Version     int64
	Sensitivity *string
}

// goalClient returns the client of a goal the actor may see within reach
// (ReachCare before a write, ReachGoalsShared for a read), else NotFound.
func goalClient(tx *gorm.DB, a Actor, goalID uuid.UUID, reach Reach) (goalRef, error) {
	var refs []goalRef
	if err := tx.Raw(`SELECT g.client_id, g.version, g.sensitivity FROM goals g WHERE g.id = ? AND ?`,
		goalID, a.GoalScope("g", reach)).Scan(&refs).Error; err != nil {
		return goalRef{}, fmt.Errorf("look up goal: %w", err)
	}
	if len(refs) == 0 && reach == ReachCare {
		return goalRef{}, goalWriteRefused(tx, a, goalID)
	}
	if len(refs) == 0 {
		return goalRef{}, missing(a, goalTarget(goalID))
	}
	return refs[0], nil
}

// touchGoal locks a goal the actor may see and bumps its version, because a
// change to its steps or check-ins changes its representation (and ETag).
// It refuses goals entered in error, which no longer change.
func touchGoal(tx *gorm.DB, a Actor, goalID uuid.UUID) (goalRef, error) {
	var rows []struct {
		ClientID        uuid.UUID
		Version         int64
		Sensitivity     *string
		LifecycleStatus string
	}
	err := tx.Raw(`UPDATE goals g SET version = g.version + 1, updated_at = now()
		WHERE g.id = ? AND ? RETURNING g.client_id, g.version, g.sensitivity, g.lifecycle_status`,
		goalID, a.GoalScope("g", ReachCare)).Scan(&rows).Error
	if err != nil {
		return goalRef{}, fmt.Errorf("touch goal: %w", err)
	}
	if len(rows) == 0 {
		return goalRef{}, goalWriteRefused(tx, a, goalID)
	}
	if rows[0].LifecycleStatus == GoalEnteredInError {
		return goalRef{}, goalFrozen()
	}
	r := rows[0]
	return goalRef{ClientID: r.ClientID, Version: r.Version, Sensitivity: r.Sensitivity}, nil
}

// GoalChange is what happened to a goal, in its goal.updated or
// goal.proposed event.
type GoalChange string

// The changes a goal event names (GoalChanges lists them for the contract).
const (
	GoalChangeCreated     GoalChange = "created"
	GoalChangeUpdated     GoalChange = "updated"
	GoalChangeAccepted    GoalChange = "accepted"
	GoalChangeRejected    GoalChange = "rejected"
	GoalChangeCheckIn     GoalChange = "check_in"
	GoalChangeStepAdded   GoalChange = "step_added"
	GoalChangeStepUpdated GoalChange = "step_updated"
	GoalChangeStepDeleted GoalChange = "step_deleted"
)

// GoalChanges lists every GoalChange, for the event contract (asyncapi.yaml).
func GoalChanges() []GoalChange {
	return []GoalChange{GoalChangeCreated, GoalChangeUpdated, GoalChangeAccepted, GoalChangeRejected,
		GoalChangeCheckIn, GoalChangeStepAdded, GoalChangeStepUpdated, GoalChangeStepDeleted}
}

// GoalEventData is the data of goal.updated and goal.proposed: ids and
// states, never the goal's words.
type GoalEventData struct {
	GoalID  uuid.UUID  `json:"goal_id"`
	Version int64      `json:"version"`
	Change  GoalChange `json:"change"`
	// Fields names the fields the change touched (history field names), when it is not a creation.
	Fields []string `json:"fields,omitempty"`
}

func emitGoalEvent(tx *gorm.DB, typ string, clientID, goalID uuid.UUID, version int64, change GoalChange, fields []string) error {
	return EmitEvent(tx, Event{Type: typ, ClientID: clientID, SubjectID: goalID,
		Data: GoalEventData{GoalID: goalID, Version: version, Change: change, Fields: fields}})
}

// ClientPersonID returns the person a client record belongs to, to tell the
// goals a client wrote from those a worker proposed (FHIR Goal.expressedBy).
// Callers have already read the client's goals, so it needs no scope of its own.
func (s *Store) ClientPersonID(ctx context.Context, clientID uuid.UUID) (uuid.UUID, error) {
	var id uuid.UUID
	if err := s.db.WithContext(ctx).Raw(`SELECT person_id FROM clients WHERE id = ?`, clientID).Row().Scan(&id); err != nil {
		return uuid.Nil, fmt.Errorf("client person: %w", err)
	}
	return id, nil
}
