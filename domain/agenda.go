package domain

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// AgendaItem is something due for a client: a step's due date, a goal's
// check-in, a referral waiting for a follow-up (and, with groups, a session).
type AgendaItem struct {
	Kind     string
	DueAt    time.Time
	ClientID uuid.UUID
	Title    string
	RefType  string
	RefID    uuid.UUID
	// GoalID is the goal a step or check-in belongs to (nil otherwise).
	GoalID *uuid.UUID
	// Sensitivity is the goal's label (the redisclosure notice).
	Sensitivity *string
	// GroupID is a session's group (nil otherwise).
	GroupID *uuid.UUID
	Overdue bool
}

// AgendaFilter is the window and page of an agenda.
type AgendaFilter struct {
	From, To time.Time
	Cursor   string
	Limit    int
}

// agendaZone is a client's time zone (clients cl): their day boundaries.
const agendaZone = `COALESCE(cl.contact_preferences ->> 'time_zone', 'UTC')`

// agendaArms is the agenda as a UNION ALL of one SELECT per kind, each
// giving (kind, due_at, client_id, title, ref_type, ref_id, goal_id,
// sensitivity, group_id, overdue). goals narrows the goals (alias g) whose
// steps and check-ins are listed, clients the clients (column client_id of
// the arm's main table) whose referrals are, sessions the (group, member
// client) pairs whose group sessions are. Every arm reads through an index
// that starts with its due column, with client_id or with group_id.
//
//   - step_due: an open step with a due date of an open goal; due at the
//     start of that day in the client's time zone, overdue once the day is
//     over there.
//   - check_in_due: an active goal with a cadence; due a cadence after the
//     client's last check-in (or after the cadence was set, if later).
//   - referral_follow_up: a referral still waiting (sent, acknowledged,
//     accepted) with no change for 14 days.
//   - group_session: a session of a group the client is a member of, at its
//     start, one item per member (never overdue: it happened or not).
func agendaArms(goals, referralClients func(col string) clause.Expr, sessions func(groupCol, clientCol string) clause.Expr) clause.Expr {
	open := textArray(slices.DeleteFunc(GoalOpenStatuses(), func(s string) bool { return s == GoalProposed }))
	return clause.Expr{SQL: `SELECT 'step_due'::text AS kind, (s.due_date::timestamp AT TIME ZONE ` + agendaZone + `) AS due_at,
			s.client_id, s.title, 'step'::text AS ref_type, s.id AS ref_id, g.id AS goal_id, g.sensitivity, NULL::uuid AS group_id,
			((s.due_date + 1)::timestamp AT TIME ZONE ` + agendaZone + `) <= now() AS overdue
		FROM goal_steps s JOIN goals g ON g.client_id = s.client_id AND g.id = s.goal_id JOIN clients cl ON cl.id = s.client_id
		WHERE s.due_date IS NOT NULL AND s.done_at IS NULL AND g.lifecycle_status = ANY(?::text[]) AND ?
		UNION ALL
		SELECT 'check_in_due', d.due_at, g.client_id, g.title, 'goal', g.id, g.id, g.sensitivity, NULL::uuid, d.due_at <= now()
		FROM goals g CROSS JOIN LATERAL (SELECT GREATEST(COALESCE(g.check_in_since, g.created_at),
				(SELECT max(ci.created_at) FROM goal_check_ins ci
					WHERE ci.client_id = g.client_id AND ci.goal_id = g.id AND ci.author_role = 'client')) + g.check_in_every::interval AS due_at) d
		WHERE g.check_in_every IS NOT NULL AND g.lifecycle_status = 'active' AND ?
		UNION ALL
		SELECT 'referral_follow_up', r.updated_at + ?::interval, r.client_id, left(sv.name, ` + strconv.Itoa(MaxGoalTitle) + `), 'referral', r.id, NULL::uuid, NULL::text,
			NULL::uuid, r.updated_at + ?::interval <= now()
		FROM referrals r JOIN services sv ON sv.id = r.service_id
		WHERE r.status IN ('sent', 'acknowledged', 'accepted') AND ?
		UNION ALL
		SELECT 'group_session', gs.starts_at, gm.client_id, left(gr.name, ` + strconv.Itoa(MaxGoalTitle) + `), 'group_session', gs.id, NULL::uuid, NULL::text,
			gs.group_id, FALSE
		FROM group_sessions gs JOIN groups gr ON gr.id = gs.group_id
			JOIN group_members gm ON gm.group_id = gs.group_id AND gm.status = 'member'
		WHERE ?`,
		Vars: []any{open, goals("g"), goals("g"), followUpInterval(), followUpInterval(), referralClients("r.client_id"),
			sessions("gs.group_id", "gm.client_id")}}
}

func followUpInterval() string {
	return fmt.Sprintf("%d seconds", int64(ReferralFollowUpAfter/time.Second))
}

// Agenda lists what is due for the actor between f.From and f.To: a client's
// own items, a worker's across their caseload (the goals they may see:
// GoalScope; a private goal or a labelled one without consent is not
// there), ordered by due time, so overdue items come first. One statement
// for the page; each item of someone else's record read is written to that
// client's access log in the same transaction.
func (s *Store) Agenda(ctx context.Context, a Actor, f AgendaFilter) ([]AgendaItem, string, error) {
	after, err := decodeAgendaCursor(f.Cursor)
	if err != nil {
		return nil, "", err
	}
	// A group's session is on a member's agenda, and on a worker's when
	// they facilitate the group and the member is on their caseload (what
	// facilitators see of their members anyway): never because a worker is
	// on the care team of a member of a group they do not facilitate.
	arms := agendaArms(func(alias string) clause.Expr { return a.GoalScope(alias, ReachCare) },
		func(col string) clause.Expr { return a.ClientScope(col, ReachCare) },
		func(groupCol, clientCol string) clause.Expr {
			return clause.Expr{SQL: "(? AND ?)", Vars: []any{a.GroupScope(groupCol, GroupContent), a.ClientScope(clientCol, ReachCare)}}
		})
	q := `SELECT * FROM (?) a WHERE a.due_at >= ? AND a.due_at < ?`
	args := []any{arms, f.From, f.To}
	if after != nil {
		q += ` AND (a.due_at, a.kind, a.ref_id) > (?, ?, ?)`
		args = append(args, after.dueAt, after.kind, after.refID)
	}
	q += ` ORDER BY a.due_at, a.kind, a.ref_id LIMIT ?`
	args = append(args, f.Limit+1)
	var rows []AgendaItem
	more := false
	err = s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Raw(q, args...).Scan(&rows).Error; err != nil {
			return fmt.Errorf("read agenda: %w", err)
		}
		if more = len(rows) > f.Limit; more {
			rows = rows[:f.Limit]
		}
		var clients [3][]uuid.UUID
		var ids [3][]string
		for _, r := range rows {
			if a.IsClient(r.ClientID) {
				continue
			}
			i, id := 0, r.RefID // a referral
			switch {
			case r.GoalID != nil:
				i, id = 1, *r.GoalID
			case r.GroupID != nil: // the member's place in the group
				i, id = 2, *r.GroupID
			}
			clients[i], ids[i] = append(clients[i], r.ClientID), append(ids[i], id.String())
		}
		for i, res := range []string{ResourceReferral, ResourceGoal, ResourceGroupMembership} {
			if len(clients[i]) == 0 {
				continue
			}
			if err := logAccess(tx, a, ActionRead, res, clients[i], ids[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if more {
		last := rows[len(rows)-1]
		next = encodeAgendaCursor(last.DueAt, last.Kind, last.RefID)
	}
	return rows, next, nil
}

type agendaCursor struct {
	dueAt time.Time
	kind  string
	refID uuid.UUID
}

// The agenda's cursor is the base64url of the last item's due time
// (microseconds), kind and reference id: the page's sort key.
func encodeAgendaCursor(dueAt time.Time, kind string, ref uuid.UUID) string {
	b := binary.BigEndian.AppendUint64(nil, uint64(dueAt.UnixMicro()))
	b = append(b, ref[:]...)
	b = append(b, kind...)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeAgendaCursor(c string) (*agendaCursor, error) {
	if c == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) < 25 || !slices.Contains(AgendaKinds(), string(b[24:])) {
		return nil, InvalidIn(SourceSelection, "cursor", "cursor is not one this API returned")
	}
	return &agendaCursor{dueAt: time.UnixMicro(int64(binary.BigEndian.Uint64(b[:8]))).UTC(), refID: uuid.UUID(b[8:24]),
		kind: strings.Clone(string(b[24:]))}, nil
}
