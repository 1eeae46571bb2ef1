package domain

import (
	"context"
	"errors"

	"github.com/google/uuid"
	"gorm.io/gorm/clause"
)

// errGoalMissed: the one-statement change matched no row.
var errGoalMissed = errors.New("goal change matched no row")

// applyGoalChangeOnce is applyGoalChange in one statement, sent without
// BEGIN and COMMIT (issue #12: a PATCH took four round trips, the floor one):
// the conditional update, the per-field history diffed in SQL, the
// goal.updated event, the access log and the app's use are data-modifying
// WITH clauses, so they commit together or not at all. A change that
// changes nothing aborts itself (waypoint_changed, migration 00066) and is
// answered with the goal as it is, as before. Changes of visibility or
// sensitivity, which may hide the goal from someone (goal.hidden), and work
// inside a request's own transaction keep the two-statement path.
func (s *Store) applyGoalChangeOnce(ctx context.Context, a Actor, id uuid.UUID, c goalChange, cond clause.Expr) (Goal, error) {
	cols := goalContentColumns()
	names, fields := make(textArray, len(cols)), make(textArray, len(cols))
	// History ids are taken in order, so history sorts as it was written.
	ids := make(uuidArray, len(cols))
	for i, col := range cols {
		names[i], fields[i], ids[i] = col[0], col[1], newID()
	}
	data := clause.Expr{SQL: `jsonb_build_object('goal_id', upd.id, 'version', upd.version, 'change', ?::text,
		'fields', (SELECT jsonb_agg(d.field ORDER BY d.ord) FROM diff d))`, Vars: []any{string(c.change)}}
	recipients := clause.Expr{SQL: `SELECT person_id FROM clients WHERE id = upd.client_id
		UNION SELECT p.id FROM people p WHERE ?`, Vars: []any{careTeamMember(column("upd.client_id"), column("p.id"))}}
	q := `WITH old AS (SELECT g.* FROM goals g WHERE ? FOR UPDATE),
		upd AS (UPDATE goals g SET ?, version = g.version + 1, updated_at = now()
			FROM old WHERE g.client_id = old.client_id AND g.id = old.id RETURNING g.*),
		diff AS (SELECT c.field, c.ord, o.j -> c.col AS o, n.j -> c.col AS n, row_number() OVER (ORDER BY c.ord) AS k
			FROM (SELECT to_jsonb(old) AS j FROM old) o, (SELECT to_jsonb(upd) AS j FROM upd) n,
				unnest(?::text[], ?::text[]) WITH ORDINALITY AS c(col, field, ord)
			WHERE o.j -> c.col IS DISTINCT FROM n.j -> c.col),
		h AS (INSERT INTO goal_history (client_id, id, goal_id, actor_person_id, actor_role, at, field, old_value, new_value, sensitivity)
			SELECT u.client_id, (?::uuid[])[d.k], u.id, ?::uuid, CASE WHEN u.client_id = ? THEN 'client' ELSE ?::text END, ts.at,
				d.field, NULLIF(d.o, 'null'::jsonb), NULLIF(d.n, 'null'::jsonb), u.sensitivity
			FROM upd u, diff d, (SELECT clock_timestamp() AS at) ts),
		ev AS (?), logged AS (?), used AS (?)
		SELECT ` + goalColumns + ` FROM upd g ` + goalRatingJoin + `
		WHERE waypoint_changed((SELECT count(*) FROM diff)) > 0`
	g, err := scanGoal(rawSized(s.db.WithContext(ctx), q, cond, clause.Expr{SQL: joinSets(c.sets), Vars: c.args},
		names, fields, ids, a.PersonID, nilIfZero(a.ClientID), actorRoleFor(a, uuid.Nil),
		eventFrom(EventGoalUpdated, id, "upd", "upd.client_id", data, recipients),
		logAccessFrom(a, ActionWrite, ResourceGoal, "upd", "upd.client_id", "upd.id", "upd.title"),
		appUse(a, "upd.client_id", "upd")), errGoalMissed)
	switch {
	case err == nil:
		s.WakePositioner()
		return g, nil
	case pgCode(err) == pgNoChange:
		return s.GetGoal(ctx, a, id)
	case errors.Is(err, errGoalMissed):
		return Goal{}, s.settleMiss(ctx, goalMiss(s.db.WithContext(ctx), a, id, c, false))
	}
	return Goal{}, err
}
