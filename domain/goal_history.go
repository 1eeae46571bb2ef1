package domain

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// FieldChange is one changed field of a goal (or of something attached to
// it), as recorded in the goal's history. Field names follow the JSON of the
// API: "title", "steps[<stepId>].title", "steps[<stepId>]" (a step created or
// deleted), "check_ins[<id>]", "referral[<id>].status". Old and New are any
// JSON-encodable values; nil is null.
type FieldChange struct {
	Field    string
	Old, New any
}

// recordGoalHistory writes one history row per change, attributed to the
// actor, inside tx: the history commits with the change or not at all.
// Callers must have checked that the actor may change the goal.
func recordGoalHistory(tx *gorm.DB, a Actor, clientID, goalID uuid.UUID, changes []FieldChange) error {
	if len(changes) == 0 {
		return nil
	}
	ins, err := goalHistoryInsert(a, clientID, goalID, changes)
	if err != nil {
		return err
	}
	if err := tx.Exec("?", ins).Error; err != nil {
		return fmt.Errorf("write goal history: %w", err)
	}
	return nil
}

// goalHistoryInsert is recordGoalHistory's INSERT, for a statement of its
// own or a WITH clause of one that does more (changes is not empty).
func goalHistoryInsert(a Actor, clientID, goalID uuid.UUID, changes []FieldChange) (clause.Expr, error) {
	ids := make(uuidArray, len(changes))
	fields := make([]string, len(changes))
	olds := make([]string, len(changes))
	news := make([]string, len(changes))
	for i, c := range changes {
		// Ids are taken in order, so history sorts as it was written.
		ids[i] = newID()
		fields[i] = c.Field
		o, err := json.Marshal(c.Old)
		if err != nil {
			return clause.Expr{}, fmt.Errorf("encode history %s: %w", c.Field, err)
		}
		n, err := json.Marshal(c.New)
		if err != nil {
			return clause.Expr{}, fmt.Errorf("encode history %s: %w", c.Field, err)
		}
		olds[i], news[i] = string(o), string(n)
	}
	// Each row keeps the goal's label as of the change (for a change of the
	// label, the label it had or got): ListGoalHistory shows a row by it.
	return clause.Expr{SQL: `INSERT INTO goal_history (client_id, id, goal_id, actor_person_id, actor_role, at, field, old_value, new_value,
			sensitivity)
		SELECT ?, t.id, ?, ?, ?, ts.at, t.f, NULLIF(t.o, 'null'::jsonb), NULLIF(t.n, 'null'::jsonb),
			COALESCE(CASE WHEN t.f = 'sensitivity' THEN COALESCE(t.n #>> '{}', t.o #>> '{}') END,
				CASE WHEN t.f = 'goal' THEN t.n ->> 'sensitivity' END,
				(SELECT g.sensitivity FROM goals g WHERE g.client_id = ? AND g.id = ?))
		FROM (SELECT clock_timestamp() AS at) ts,
			unnest(?::uuid[], ?::text[], ?::jsonb[], ?::jsonb[]) AS t(id, f, o, n)`,
		Vars: []any{clientID, goalID, a.PersonID, actorRoleFor(a, clientID), clientID, goalID,
			ids, textArray(fields), textArray(olds), textArray(news)}}, nil
}

// actorRoleFor says in which capacity a acts on clientID's data.
func actorRoleFor(a Actor, clientID uuid.UUID) string {
	switch {
	case a.IsClient(clientID):
		return RoleClient
	case a.Is(RoleWorker):
		return RoleWorker
	case a.Is(RoleAdmin):
		return RoleAdmin
	case a.Is(RoleProvider):
		return RoleProvider
	}
	return RoleOther
}

// GoalHistoryEntry is one recorded change.
type GoalHistoryEntry struct {
	ID               uuid.UUID
	GoalID           uuid.UUID
	ActorPersonID    uuid.UUID
	ActorDisplayName string
	ActorRole        string
	At               time.Time
	Field            string
	OldValue         JSONValue[any]
	NewValue         JSONValue[any]
	// Sensitivity is the goal's label when the change was made (see
	// CheckIn.Sensitivity): the row is shown by it, not by today's label.
	Sensitivity *string
}

// ListFilter pages a goal's sub-list (history, check-ins).
type ListFilter struct {
	Cursor string
	Limit  int
	// Desc lists newest first.
	Desc bool
}

// ListGoalHistory lists who changed what on a goal, oldest first unless
// f.Desc. Visible to the client, their care team and the supporters the
// client shares goals with; a linked referral's status changes are left out
// for a supporter who is not also shared referrals.
func (s *Store) ListGoalHistory(ctx context.Context, a Actor, goalID uuid.UUID, f ListFilter) ([]GoalHistoryEntry, string, error) {
	after, err := decodeCursor(f.Cursor)
	if err != nil {
		return nil, "", err
	}
	var out []GoalHistoryEntry
	err = s.tx(ctx, func(tx *gorm.DB) error {
		g, err := goalClient(tx, a, goalID, ReachGoalsShared)
		if err != nil {
			return err
		}
		clientID := g.ClientID
		// A row written while the goal was labelled is shown, to anyone but
		// the client, only under a consent for that label: clearing a label
		// does not disclose what was written under it. Nor does a later
		// change's old value: it is null when the field (or the goal, at its
		// creation) was last written under a label the reader may not see.
		own := a.IsClient(clientID)
		q, args := `SELECT h.id, h.goal_id, h.actor_person_id, p.display_name AS actor_display_name, h.actor_role, h.at,
				h.field, h.new_value, h.sensitivity,
				CASE WHEN ? OR NOT EXISTS (SELECT 1 FROM goal_history e WHERE e.client_id = h.client_id AND e.goal_id = h.goal_id
					AND e.id < h.id AND e.field IN (h.field, 'goal') AND NOT ?) THEN h.old_value END AS old_value
			FROM goal_history h JOIN people p ON p.id = h.actor_person_id
			WHERE h.client_id = ? AND h.goal_id = ? AND (h.field NOT LIKE 'referral[%' OR ?) AND (? OR ?)`,
			[]any{own, consented(column("e.client_id"), column("e.sensitivity"), a.PersonID),
				clientID, goalID, a.ClientScope("h.client_id", ReachReferralsShared),
				own, consented(column("h.client_id"), column("h.sensitivity"), a.PersonID)}
		q, args = pageClause(q, args, "h.id", after, f)
		if err := tx.Raw(q, args...).Scan(&out).Error; err != nil {
			return fmt.Errorf("list goal history: %w", err)
		}
		return logAccess(tx, a, ActionRead, ResourceGoalHistory, []uuid.UUID{clientID}, []string{goalID.String()})
	})
	if err != nil {
		return nil, "", err
	}
	out, next := page(out, f.Limit, func(h GoalHistoryEntry) uuid.UUID { return h.ID })
	return out, next, nil
}

// pageClause appends the cursor condition, order and limit+1 for a list
// ordered by the UUIDv7 column col.
func pageClause(q string, args []any, col string, after uuid.UUID, f ListFilter) (string, []any) {
	op, dir := " > ?", " ASC"
	if f.Desc {
		op, dir = " < ?", " DESC"
	}
	if after != uuid.Nil {
		q += " AND " + col + op
		args = append(args, after)
	}
	q += " ORDER BY " + col + dir + " LIMIT ?"
	return q, append(args, f.Limit+1)
}
