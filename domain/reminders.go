package domain

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Reminders: what the scheduler (domain/push) does with the agenda. Every
// round the leader records the items that came due (RecordDueReminders),
// then claims deliveries (ClaimDeliveries), pushes them and marks each
// (MarkDelivered, DeferDelivery, DropPushSubscription).

// ReminderLookback is how far back a due item still gets a reminder: an item
// that came due while no scheduler ran (or before the feature existed) is on
// the agenda, but a flood of stale reminders helps no one.
const ReminderLookback = 3 * 24 * time.Hour

// AgendaRef names the record an agenda item is about.
type AgendaRef struct {
	Type string    `json:"type"`
	ID   uuid.UUID `json:"id"`
}

// AgendaDueEventData is the data of agenda.due: what came due, by id (no
// title: event data carries ids and states, not the client's words).
type AgendaDueEventData struct {
	Kind   string     `json:"kind"`
	DueAt  time.Time  `json:"due_at"`
	Ref    AgendaRef  `json:"ref"`
	GoalID *uuid.UUID `json:"goal_id,omitempty"`
}

// GroupSessionNotice is how long before a group session its reminder comes.
const GroupSessionNotice = time.Hour

// RecordDueReminders records up to limit agenda items of any client that
// came due (due_at <= now, within ReminderLookback) and have no reminder
// yet: one reminder row each (the primary key makes it once, whoever else
// records it concurrently), an agenda.due event to the client and those
// who may see the item, and a delivery per push subscription of the client.
// All in one transaction. It returns how many it recorded.
func (s *Store) RecordDueReminders(ctx context.Context, limit int) (int, error) {
	all := func(string) clause.Expr { return clause.Expr{SQL: "TRUE"} }
	allSessions := func(string, string) clause.Expr { return clause.Expr{SQL: "TRUE"} }
	var due []AgendaItem
	n := 0
	err := s.tx(ctx, func(tx *gorm.DB) error {
		// A group session is announced an hour ahead (GroupSessionNotice);
		// everything else once it is due.
		if err := tx.Raw(`SELECT * FROM (?) a WHERE a.due_at - CASE WHEN a.kind = 'group_session' THEN ?::interval ELSE interval '0' END <= now()
			AND a.due_at > now() - ?::interval
			AND NOT EXISTS (SELECT 1 FROM reminders rm WHERE rm.client_id = a.client_id AND rm.kind = a.kind
				AND rm.ref_id = a.ref_id AND rm.due_at = a.due_at)
			ORDER BY a.due_at LIMIT ?`, agendaArms(all, all, allSessions),
			fmt.Sprintf("%d seconds", int64(GroupSessionNotice/time.Second)), fmt.Sprintf("%d seconds", int64(ReminderLookback/time.Second)), limit).
			Scan(&due).Error; err != nil {
			return fmt.Errorf("read due items: %w", err)
		}
		for _, it := range due {
			id := newID()
			res := tx.Exec(`INSERT INTO reminders (client_id, kind, ref_id, due_at, id) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
				it.ClientID, it.Kind, it.RefID, it.DueAt, id)
			if res.Error != nil {
				return fmt.Errorf("record reminder: %w", res.Error)
			}
			if res.RowsAffected == 0 {
				continue // recorded concurrently
			}
			n++
			if err := tx.Exec(`INSERT INTO push_deliveries (client_id, reminder_id, subscription_id)
				SELECT p.client_id, ?, p.id FROM push_subscriptions p WHERE p.client_id = ?`, id, it.ClientID).Error; err != nil {
				return fmt.Errorf("queue push deliveries: %w", err)
			}
			if err := emitAgendaDue(tx, it); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

// emitAgendaDue announces a due item to the client and to those of their
// circle who may see it: for a goal's step or check-in, the care-team
// workers the goal is shared with (goalAudience); for a referral, the care
// team. The stream re-checks at delivery (eventSubjectShared).
func emitAgendaDue(tx *gorm.DB, it AgendaItem) error {
	data := AgendaDueEventData{Kind: it.Kind, DueAt: it.DueAt.UTC(), Ref: AgendaRef{Type: it.RefType, ID: it.RefID}, GoalID: it.GoalID}
	ev := Event{Type: EventAgendaDue, ClientID: it.ClientID, SubjectID: it.RefID, Data: data}
	if it.GroupID != nil {
		// A group session: the member alone (their care team learns nothing
		// of their groups from the stream).
		return emitEvent(tx, ev, clause.Expr{SQL: `SELECT person_id FROM clients WHERE id = ?`, Vars: []any{it.ClientID}})
	}
	if it.GoalID == nil {
		return emitEvent(tx, ev, clientRecipients(it.ClientID))
	}
	ev.SubjectID = *it.GoalID
	return emitEvent(tx, ev, clause.Expr{SQL: `SELECT person_id FROM clients WHERE id = ?
		UNION SELECT a.id FROM (?) a`, Vars: []any{it.ClientID, clause.Expr{SQL: `SELECT p.id FROM goals g JOIN people p ON ? AND ?
			WHERE g.client_id = ? AND g.id = ?`, Vars: []any{careTeamMember(column("g.client_id"), column("p.id")),
		sharedWith(column("g.client_id"), column("g.visibility"), column("g.sensitivity"), column("p.id")), it.ClientID, *it.GoalID}}}})
}

// PushDelivery is one claimed push of a reminder to one subscription.
type PushDelivery struct {
	ClientID       uuid.UUID
	ReminderID     uuid.UUID
	SubscriptionID uuid.UUID
	Endpoint       string
	P256dh         []byte
	Auth           []byte
	Attempts       int
	Kind           string
	RefID          uuid.UUID
	DueAt          time.Time
	// Previews is the client's push_previews; Title is then what the item
	// is about (empty otherwise: it never leaves the database unasked).
	Previews bool
	Title    string
}

// ClaimDeliveries claims up to limit deliveries that are not sent, not
// leased (never claimed, or their lease ran out: the sender crashed or a
// retry's backoff is over) and whose client is outside their quiet hours,
// by moving their lease to now + lease and counting the attempt, in its own
// commit. Rows another sender is claiming are skipped, not waited for.
func (s *Store) ClaimDeliveries(ctx context.Context, lease time.Duration, limit int) ([]PushDelivery, error) {
	var out []PushDelivery
	err := s.db.WithContext(ctx).Raw(`WITH pick AS (
			SELECT d.client_id, d.reminder_id, d.subscription_id FROM push_deliveries d JOIN clients c ON c.id = d.client_id
			WHERE d.sent_at IS NULL AND d.gave_up_at IS NULL AND d.lease_until <= now()
				AND NOT waypoint_in_quiet_hours(c.contact_preferences, now())
			ORDER BY d.lease_until LIMIT ? FOR UPDATE OF d SKIP LOCKED)
		UPDATE push_deliveries d SET lease_until = now() + ?::interval, attempts = d.attempts + 1
		FROM pick, push_subscriptions ps, reminders rm, clients c
		WHERE d.client_id = pick.client_id AND d.reminder_id = pick.reminder_id AND d.subscription_id = pick.subscription_id
			AND ps.client_id = d.client_id AND ps.id = d.subscription_id AND rm.client_id = d.client_id AND rm.id = d.reminder_id
			AND c.id = d.client_id
		RETURNING d.client_id, d.reminder_id, d.subscription_id, ps.endpoint, ps.p256dh, ps.auth, d.attempts,
			rm.kind, rm.ref_id, rm.due_at, COALESCE((c.contact_preferences ->> 'push_previews')::boolean, FALSE) AS previews,
			CASE WHEN COALESCE((c.contact_preferences ->> 'push_previews')::boolean, FALSE) THEN COALESCE(CASE rm.kind
				WHEN 'step_due' THEN (SELECT x.title FROM goal_steps x WHERE x.client_id = rm.client_id AND x.id = rm.ref_id)
				WHEN 'check_in_due' THEN (SELECT x.title FROM goals x WHERE x.client_id = rm.client_id AND x.id = rm.ref_id)
				WHEN 'referral_follow_up' THEN (SELECT sv.name FROM referrals x JOIN services sv ON sv.id = x.service_id
					WHERE x.client_id = rm.client_id AND x.id = rm.ref_id)
				WHEN 'group_session' THEN (SELECT gr.name FROM group_sessions x JOIN groups gr ON gr.id = x.group_id
					WHERE x.id = rm.ref_id) END, '') ELSE '' END AS title`,
		limit, fmt.Sprintf("%d milliseconds", lease.Milliseconds())).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("claim push deliveries: %w", err)
	}
	return out, nil
}

// MarkDelivered records that the push service accepted a delivery.
func (s *Store) MarkDelivered(ctx context.Context, d PushDelivery) error {
	if err := s.db.WithContext(ctx).Exec(`UPDATE push_deliveries SET sent_at = now()
		WHERE client_id = ? AND reminder_id = ? AND subscription_id = ? AND sent_at IS NULL`,
		d.ClientID, d.ReminderID, d.SubscriptionID).Error; err != nil {
		return fmt.Errorf("mark push delivered: %w", err)
	}
	return nil
}

// DeferDelivery retries a failed delivery after backoff, or gives up on it.
func (s *Store) DeferDelivery(ctx context.Context, d PushDelivery, backoff time.Duration, giveUp bool) error {
	err := s.db.WithContext(ctx).Exec(`UPDATE push_deliveries SET lease_until = now() + ?::interval,
			gave_up_at = CASE WHEN ? THEN now() END
		WHERE client_id = ? AND reminder_id = ? AND subscription_id = ? AND sent_at IS NULL`,
		fmt.Sprintf("%d milliseconds", backoff.Milliseconds()), giveUp, d.ClientID, d.ReminderID, d.SubscriptionID).Error
	if err != nil {
		return fmt.Errorf("defer push delivery: %w", err)
	}
	return nil
}

// DropPushSubscription deletes a subscription the push service says is gone
// (404 or 410), with its pending deliveries.
func (s *Store) DropPushSubscription(ctx context.Context, clientID, id uuid.UUID) error {
	if err := s.db.WithContext(ctx).Exec(`DELETE FROM push_subscriptions WHERE client_id = ? AND id = ?`, clientID, id).Error; err != nil {
		return fmt.Errorf("drop push subscription: %w", err)
	}
	return nil
}
