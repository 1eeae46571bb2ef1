package domain

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/waypoint-portal/waypoint/domain/hsds"
)

// Referral statuses.
const (
	ReferralSent         = "sent"
	ReferralAcknowledged = "acknowledged"
	ReferralAccepted     = "accepted"
	ReferralDeclined     = "declined"
	ReferralCompleted    = "completed"
	ReferralCancelled    = "cancelled"
)

// ReferralStatuses lists every status in flow order.
func ReferralStatuses() []string {
	return []string{ReferralSent, ReferralAcknowledged, ReferralAccepted, ReferralDeclined, ReferralCompleted, ReferralCancelled}
}

// ReferralTransitions is the referral's status table: the statuses a
// referral in status from may move to. The service acknowledges, then
// accepts or declines; an accepted referral is completed; any referral still
// in progress can be cancelled. declined, completed and cancelled are final.
func ReferralTransitions(from string) []string {
	switch from {
	case ReferralSent:
		return []string{ReferralAcknowledged, ReferralCancelled}
	case ReferralAcknowledged:
		return []string{ReferralAccepted, ReferralDeclined, ReferralCancelled}
	case ReferralAccepted:
		return []string{ReferralCompleted, ReferralCancelled}
	}
	return nil
}

// MaxReferralStatusChanges is the most entries a referral's status history
// can have: the referral being made, then the longest walk through
// ReferralTransitions. The table has no cycle (declined, completed and
// cancelled end every walk); if it ever had one, every test would panic here.
func MaxReferralStatusChanges() int {
	var longest func(from string, depth int) int
	longest = func(from string, depth int) int {
		if depth > len(ReferralStatuses()) {
			panic("ReferralTransitions has a cycle: a status history would have no bound")
		}
		n := 0
		for _, to := range ReferralTransitions(from) {
			n = max(n, 1+longest(to, depth+1))
		}
		return n
	}
	return 1 + longest(ReferralSent, 0)
}

// checkReferralTransition is nil when from -> to is allowed, else a 409 naming both states.
func checkReferralTransition(from, to string) error {
	if slices.Contains(ReferralTransitions(from), to) {
		return nil
	}
	next := ReferralTransitions(from)
	msg := "a referral that is " + from + " cannot become " + to
	if len(next) == 0 {
		msg += "; " + from + " is final"
	} else {
		msg += "; from " + from + " it can become " + strings.Join(next, ", ")
	}
	return &Error{Kind: KindConflict, Source: SourceContent, Field: "status", Message: msg}
}

// referralNote checks a note's length in characters, as the column's CHECK
// counts them (not bytes: a note in Amharic or with emoji is not shorter).
func referralNote(note string) error {
	if utf8.RuneCountInString(note) > MaxReferralNote {
		return Invalid("note", "note is longer than %d characters", MaxReferralNote)
	}
	return nil
}

// ReferralStatusChange is one row of a referral's status history.
type ReferralStatusChange struct {
	FromStatus    *string   `json:"from_status"`
	ToStatus      string    `json:"to_status"`
	ChangedBy     uuid.UUID `json:"changed_by"`
	ChangedByName string    `json:"changed_by_name"`
	ActorRole     string    `json:"actor_role"`
	ChangedAt     time.Time `json:"changed_at"`
}

// Referral sends a client to a service, optionally for one of their goals.
type Referral struct {
	ID            uuid.UUID
	ClientID      uuid.UUID
	Service       ServiceSummary
	GoalID        *uuid.UUID
	Status        string
	Note          string
	CreatedBy     uuid.UUID
	CreatedAt     time.Time
	UpdatedAt     time.Time
	Version       int64
	StatusHistory []ReferralStatusChange
}

type referralRow struct {
	ID        uuid.UUID
	ClientID  uuid.UUID
	GoalID    *uuid.UUID
	Status    string
	Note      string
	CreatedBy uuid.UUID
	CreatedAt time.Time
	UpdatedAt time.Time
	Version   int64
	History   JSONValue[[]ReferralStatusChange]
	Svc       serviceSummaryRow `gorm:"embedded"`
	// GoalHidden is set when the linked goal is one the actor may not see.
	GoalHidden bool
}

func (r referralRow) referral() Referral {
	h := r.History.V
	if h == nil {
		h = []ReferralStatusChange{}
	}
	return Referral{ID: r.ID, ClientID: r.ClientID, Service: r.Svc.summary(), GoalID: r.GoalID, Status: r.Status, Note: r.Note,
		CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, Version: r.Version, StatusHistory: h}
}

// referralSelect reads referrals r with their service and status history in
// one statement. Its one argument is the actor's GoalScope for alias lg
// (referralGoalScope): the goal_id of a goal the actor may not see reads as
// null, so a referral never shows that a private or labelled goal exists.
const referralSelect = `SELECT r.id, r.client_id,
	CASE WHEN r.goal_id IS NULL OR EXISTS (SELECT 1 FROM goals lg WHERE lg.client_id = r.client_id AND lg.id = r.goal_id AND ?)
		THEN r.goal_id END AS goal_id, r.status, r.note, r.created_by, r.created_at, r.updated_at, r.version,
	(SELECT coalesce(jsonb_agg(jsonb_build_object('from_status', h.from_status, 'to_status', h.to_status,
		'changed_by', h.changed_by, 'changed_by_name', p.display_name, 'actor_role', h.actor_role, 'changed_at', h.changed_at)
		ORDER BY h.id), '[]')
	 FROM referral_status_history h JOIN people p ON p.id = h.changed_by
	 WHERE h.client_id = r.client_id AND h.referral_id = r.id) AS history,
	` + serviceSummaryColumns + `
	FROM referrals r JOIN services sv ON sv.id = r.service_id JOIN organizations o ON o.id = sv.organization_id`

// ReferralInput creates a referral.
type ReferralInput struct {
	ServiceID uuid.UUID
	GoalID    *uuid.UUID
	Note      string
}

// CreateReferral refers a client to a service. The client themself and the
// workers on their care team may; anyone else gets 404. The referral starts
// as sent; the change is recorded, announced (referral.updated) and, when a
// goal is linked, written to the goal's history, all in one transaction.
func (s *Store) CreateReferral(ctx context.Context, a Actor, clientID uuid.UUID, in ReferralInput) (Referral, error) {
	if err := referralNote(in.Note); err != nil {
		return Referral{}, err
	}
	var out Referral
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := writableClient(tx, a, clientID, ReachReferralsShared, ResourceReferral); err != nil {
			return err
		}
		var status []string
		if err := tx.Raw(`SELECT status FROM services WHERE id = ?`, in.ServiceID).Scan(&status).Error; err != nil {
			return fmt.Errorf("look up service: %w", err)
		}
		if len(status) == 0 {
			return Invalid("service_id", "no service has this id")
		}
		if status[0] != hsds.StatusActive {
			return Invalid("service_id", "the service is %s; refer to an active service", status[0])
		}
		if in.GoalID != nil {
			if err := lockClientGoal(tx, a, clientID, *in.GoalID, "goal_id"); err != nil {
				return err
			}
		}
		id := newID()
		err := tx.Exec(`INSERT INTO referrals (client_id, id, service_id, goal_id, status, note, created_by)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, clientID, id, in.ServiceID, in.GoalID, ReferralSent, strings.TrimSpace(in.Note), a.PersonID).Error
		if err != nil {
			return fmt.Errorf("create referral: %w", err)
		}
		if err := recordReferralStatus(tx, a, clientID, id, nil, ReferralSent); err != nil {
			return err
		}
		if in.GoalID != nil {
			if err := referralGoalHistory(tx, a, clientID, *in.GoalID, id, nil, ReferralSent); err != nil {
				return err
			}
		}
		if out, err = readReferral(tx, a, clientID, id); err != nil {
			return err
		}
		if err := emitReferralEvent(tx, out); err != nil {
			return err
		}
		return logAccess(tx, a, ActionWrite, ResourceReferral, []uuid.UUID{clientID}, []string{id.String()})
	})
	return out, err
}

func recordReferralStatus(tx *gorm.DB, a Actor, clientID, referralID uuid.UUID, from *string, to string) error {
	err := tx.Exec(`INSERT INTO referral_status_history (client_id, id, referral_id, from_status, to_status, changed_by, actor_role)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, clientID, newID(), referralID, from, to, a.PersonID, actorRoleFor(a, clientID)).Error
	if err != nil {
		return fmt.Errorf("record referral status: %w", err)
	}
	return nil
}

// referralGoalHistory writes a referral's status change into the linked
// goal's history, so the goal shows the help it led to (unless the goal was
// entered in error since: frozen, it takes no more history).
func referralGoalHistory(tx *gorm.DB, a Actor, clientID, goalID, referralID uuid.UUID, from *string, to string) error {
	var old any
	if from != nil {
		old = *from
	}
	return recordLinkedGoalHistory(tx, a, clientID, goalID, []FieldChange{{Field: "referral[" + referralID.String() + "].status", Old: old, New: to}})
}

// emitReferralEvent announces a change of r to the client and the care team.
// The event names the linked goal only while that goal is shared with the
// whole care team: a private or labelled goal's id stays out of it.
func emitReferralEvent(tx *gorm.DB, r Referral) error {
	goal := r.GoalID
	if goal != nil {
		var open []bool
		if err := tx.Raw(`SELECT true FROM goals WHERE client_id = ? AND id = ? AND visibility = ? AND sensitivity IS NULL`,
			r.ClientID, *goal, VisibilityCareTeam).Scan(&open).Error; err != nil {
			return fmt.Errorf("look up linked goal: %w", err)
		}
		if len(open) == 0 {
			goal = nil
		}
	}
	return EmitEvent(tx, Event{Type: EventReferralUpdated, ClientID: r.ClientID, SubjectID: r.ID, Data: ReferralEventData{
		ReferralID: r.ID, ServiceID: r.Service.ID, GoalID: goal, Status: r.Status, Version: r.Version,
	}})
}

// ReferralEventData is the data of referral.updated.
type ReferralEventData struct {
	ReferralID uuid.UUID `json:"referral_id"`
	ServiceID  uuid.UUID `json:"service_id"`
	// GoalID is null unless the linked goal is shared with the whole care team.
	GoalID  *uuid.UUID `json:"goal_id"`
	Status  string     `json:"status"`
	Version int64      `json:"version"`
}

// referralGoalScope is referralSelect's argument for the actor: a
// referral shows its goal to those who may read that goal (a supporter
// shared referrals but not goals sees no goal_id).
func referralGoalScope(a Actor) clause.Expr { return a.GoalScope("lg", ReachGoalsShared) }

func readReferral(tx *gorm.DB, a Actor, clientID, id uuid.UUID) (Referral, error) {
	var row referralRow
	res := tx.Raw(referralSelect+` WHERE r.client_id = ? AND r.id = ?`, referralGoalScope(a), clientID, id).Scan(&row)
	if res.Error != nil {
		return Referral{}, fmt.Errorf("read referral: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return Referral{}, NotFound("referral")
	}
	return row.referral(), nil
}

// GetReferral returns a referral the actor may see (client and care team).
func (s *Store) GetReferral(ctx context.Context, a Actor, id uuid.UUID) (Referral, error) {
	var out Referral
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var row referralRow
		res := tx.Raw(referralSelect+` WHERE r.id = ? AND ?`, referralGoalScope(a), id, a.ClientScope("r.client_id", ReachReferralsShared)).Scan(&row)
		if res.Error != nil {
			return fmt.Errorf("read referral: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return missing(a, referralTarget(id))
		}
		out = row.referral()
		return logAccess(tx, a, ActionRead, ResourceReferral, []uuid.UUID{out.ClientID}, []string{id.String()})
	})
	return out, err
}

// ListReferrals lists a client's referrals, newest first.
func (s *Store) ListReferrals(ctx context.Context, a Actor, clientID uuid.UUID, status, cursor string, limit int) ([]Referral, string, error) {
	after, err := decodeCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	var rows []referralRow
	err = s.tx(ctx, func(tx *gorm.DB) error {
		if _, err := getClient(tx, a, clientID, ReachReferralsShared, ResourceReferral); err != nil {
			return err
		}
		q, args := referralSelect+` WHERE r.client_id = ?`, []any{referralGoalScope(a), clientID}
		if status != "" {
			q += ` AND r.status = ?`
			args = append(args, status)
		}
		q, args = pageClause(q, args, "r.id", after, ListFilter{Limit: limit, Desc: true})
		if err := tx.Raw(q, args...).Scan(&rows).Error; err != nil {
			return fmt.Errorf("list referrals: %w", err)
		}
		return logAccess(tx, a, ActionRead, ResourceReferral, []uuid.UUID{clientID}, []string{""})
	})
	if err != nil {
		return nil, "", err
	}
	rows, next := page(rows, limit, func(r referralRow) uuid.UUID { return r.ID })
	out := make([]Referral, len(rows))
	for i, r := range rows {
		out[i] = r.referral()
	}
	return out, next, nil
}

// ReferralPatch changes a referral; nil members are unchanged. GoalID set to
// a pointer to uuid.Nil unlinks the goal.
type ReferralPatch struct {
	Status *string
	Note   *string
	GoalID *uuid.UUID
}

// UpdateReferral applies a patch if its version satisfies pre: one conditional
// UPDATE, then the status history, the goal history of the linked goal(s)
// and a referral.updated event in the same transaction. A status the table
// does not allow is 409 naming both states.
func (s *Store) UpdateReferral(ctx context.Context, a Actor, id uuid.UUID, pre Precondition, p ReferralPatch) (Referral, error) {
	if p.Note != nil {
		if err := referralNote(*p.Note); err != nil {
			return Referral{}, err
		}
	}
	if p.Status != nil && !slices.Contains(ReferralStatuses(), *p.Status) {
		return Referral{}, Invalid("status", "status must be one of %s", strings.Join(ReferralStatuses(), ", "))
	}
	var out Referral
	err := s.tx(ctx, func(tx *gorm.DB) error {
		// Lock the row (authorization in the same statement): the status
		// history must record the status this change really came from.
		var cur []referralRow
		if err := tx.Raw(`SELECT r.client_id, r.status, r.goal_id, r.version, (r.goal_id IS NOT NULL AND NOT EXISTS (
				SELECT 1 FROM goals lg WHERE lg.client_id = r.client_id AND lg.id = r.goal_id AND ?)) AS goal_hidden
			FROM referrals r WHERE r.id = ? AND ? FOR UPDATE OF r`,
			referralGoalScope(a), id, a.ClientScope("r.client_id", ReachCare)).Scan(&cur).Error; err != nil {
			return fmt.Errorf("read referral: %w", err)
		}
		if len(cur) == 0 {
			return refusedWrite(tx, missing(a, referralTarget(id)), `referrals r WHERE r.id = ? AND ?`,
				id, a.ClientScope("r.client_id", ReachReferralsShared))
		}
		c := cur[0]
		if err := pre.check(c.Version); err != nil {
			return err
		}
		if err := p.behindHiddenGoal(c); err != nil {
			return err
		}
		set := map[string]any{}
		statusChanged := p.Status != nil && *p.Status != c.Status
		if statusChanged {
			if err := checkReferralTransition(c.Status, *p.Status); err != nil {
				return err
			}
			set["status"] = *p.Status
		}
		if p.Note != nil {
			set["note"] = strings.TrimSpace(*p.Note)
		}
		newGoal, goalChanged, err := referralGoalPatch(tx, a, c, p.GoalID)
		if err != nil {
			return err
		}
		if p.GoalID != nil {
			set["goal_id"] = newGoal
		}
		if len(set) == 0 { // nothing changes: answer with the referral as it is
			var err error
			if out, err = readReferral(tx, a, c.ClientID, id); err != nil {
				return err
			}
			return logAccess(tx, a, ActionRead, ResourceReferral, []uuid.UUID{c.ClientID}, []string{id.String()})
		}
		if err := conditionalUpdate(ctx, tx, "referrals", id, pre, set, gorm.Expr("client_id = ?", c.ClientID)); err != nil {
			return err
		}
		if statusChanged {
			from := c.Status
			if err := recordReferralStatus(tx, a, c.ClientID, id, &from, *p.Status); err != nil {
				return err
			}
		}
		if err := referralGoalChanges(tx, a, c, id, p, statusChanged, goalChanged, newGoal); err != nil {
			return err
		}
		if out, err = readReferral(tx, a, c.ClientID, id); err != nil {
			return err
		}
		if err := emitReferralEvent(tx, out); err != nil {
			return err
		}
		return logAccess(tx, a, ActionWrite, ResourceReferral, []uuid.UUID{c.ClientID}, []string{id.String()})
	})
	return out, err
}

// behindHiddenGoal adapts the patch of an actor who may not see the goal the
// referral c serves (it reads as unlinked to them): unlinking changes
// nothing, and relinking, which would drop the client's link unseen, is the
// client's to do.
func (p *ReferralPatch) behindHiddenGoal(c referralRow) error {
	if !c.GoalHidden || p.GoalID == nil {
		return nil
	}
	if *p.GoalID != uuid.Nil {
		return &Error{Kind: KindForbidden, Source: SourceContent, Field: "goal_id",
			Message: "only the client can change which goal this referral serves"}
	}
	p.GoalID = nil
	return nil
}

// referralGoalPatch reads a patch's goal_id (nil: not in the patch; a
// pointer to uuid.Nil: unlink). A goal newly linked must be the client's and
// not entered in error; it stays locked until the change commits.
func referralGoalPatch(tx *gorm.DB, a Actor, c referralRow, patch *uuid.UUID) (newGoal *uuid.UUID, changed bool, err error) {
	if patch == nil {
		return nil, false, nil
	}
	if *patch != uuid.Nil {
		g := *patch
		newGoal = &g
	}
	if sameGoal(c.GoalID, newGoal) {
		return newGoal, false, nil
	}
	if newGoal != nil {
		if err := lockClientGoal(tx, a, c.ClientID, *newGoal, "goal_id"); err != nil {
			return nil, false, err
		}
	}
	return newGoal, true, nil
}

func sameGoal(a, b *uuid.UUID) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// referralGoalChanges records a referral change in the history of the goals
// it concerns: a status change in the linked goal; linking and unlinking in
// the goal gained and the goal lost. A goal entered in error is left as it is.
func referralGoalChanges(tx *gorm.DB, a Actor, c referralRow, id uuid.UUID, p ReferralPatch, statusChanged, goalChanged bool, newGoal *uuid.UUID) error {
	field := "referral[" + id.String() + "]"
	status := c.Status
	if statusChanged {
		status = *p.Status
	}
	if goalChanged && c.GoalID != nil {
		if err := recordLinkedGoalHistory(tx, a, c.ClientID, *c.GoalID, []FieldChange{{Field: field, Old: map[string]any{"status": c.Status}, New: nil}}); err != nil {
			return err
		}
	}
	if goalChanged && newGoal != nil {
		return recordLinkedGoalHistory(tx, a, c.ClientID, *newGoal, []FieldChange{{Field: field, Old: nil, New: map[string]any{"status": status}}})
	}
	if statusChanged && c.GoalID != nil && !goalChanged {
		from := c.Status
		return referralGoalHistory(tx, a, c.ClientID, *c.GoalID, id, &from, *p.Status)
	}
	return nil
}
