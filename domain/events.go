package domain

import (
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// Event types delivered on the live stream.
const (
	EventMessageCreated      = "message.created"
	EventMessageRead         = "message.read"
	EventGoalUpdated         = "goal.updated"
	EventGoalProposed        = "goal.proposed"
	EventReferralUpdated     = "referral.updated"
	EventConversationCreated = "conversation.created"
)

// EventsChannel is the PostgreSQL NOTIFY channel; payloads carry only the event seq.
const EventsChannel = "waypoint_events"

// Event is something a client and their care team should hear about live.
type Event struct {
	Type      string
	ClientID  uuid.UUID
	SubjectID uuid.UUID
	Data      any
}

// EmitEvent writes ev to the outbox inside tx, addressed to the client and
// their current care team, and notifies listeners with the new row's seq. The
// notification is sent only if tx commits, so no event announces a change that
// did not happen; a lost notification is recovered from the outbox.
func EmitEvent(tx *gorm.DB, ev Event) error {
	data, err := json.Marshal(ev.Data)
	if err != nil {
		return fmt.Errorf("encode %s event: %w", ev.Type, err)
	}
	var subject *uuid.UUID
	if ev.SubjectID != uuid.Nil {
		subject = &ev.SubjectID
	}
	err = tx.Exec(`WITH ins AS (
		INSERT INTO events (id, client_id, type, subject_id, recipients, data)
		VALUES (?, ?, ?, ?, ARRAY(
			SELECT person_id FROM clients WHERE id = ?
			UNION SELECT person_id FROM care_team_members WHERE client_id = ?), ?::jsonb)
		RETURNING seq)
		SELECT pg_notify(?, seq::text) FROM ins`,
		newID(), ev.ClientID, ev.Type, subject, ev.ClientID, ev.ClientID, string(data), EventsChannel).Error
	if err != nil {
		return fmt.Errorf("emit %s event: %w", ev.Type, err)
	}
	return nil
}
