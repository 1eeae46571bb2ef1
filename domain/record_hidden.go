package domain

import (
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Telling people that a record is gone for them. When the client makes a
// goal private, labels a goal or conversation, or withdraws a consent, the
// people who could see the record until then and cannot now get one event,
// goal.hidden or conversation.hidden, carrying nothing but the record's id:
// no more than "it is gone", which their view needs in order to drop it.
// Everything else about the record stops reaching them at once, because
// eventSelect reads the record's current state at delivery.

// HiddenEventData is the data of goal.hidden and conversation.hidden: the id
// of the record the recipient no longer sees.
type HiddenEventData struct {
	GoalID         *uuid.UUID `json:"goal_id,omitempty"`
	ConversationID *uuid.UUID `json:"conversation_id,omitempty"`
}

// goalAudience selects the people other than the client who see a goal of
// client with this visibility and sensitivity label (each a column or a
// value): the care-team workers it is shared with. Whoever else a goal is
// shared with belongs here too, so that they hear when it is hidden.
func goalAudience(client, visibility, label any) clause.Expr {
	return clause.Expr{SQL: `SELECT p.id FROM people p WHERE ? AND ?`, Vars: []any{
		careTeamMember(client, column("p.id")), sharedWith(client, visibility, label, column("p.id"))}}
}

// emitGoalHidden sends goal.hidden to whoever saw the goal before a change
// (old and new are its rows as JSON) and does not after it.
func emitGoalHidden(tx *gorm.DB, clientID, goalID uuid.UUID, old, new map[string]json.RawMessage) error {
	if string(old["visibility"]) == string(new["visibility"]) && string(old["sensitivity"]) == string(new["sensitivity"]) {
		return nil
	}
	var ov, nv string
	var ol, nl *string
	for _, f := range []struct {
		raw json.RawMessage
		to  any
	}{{old["visibility"], &ov}, {new["visibility"], &nv}, {old["sensitivity"], &ol}, {new["sensitivity"], &nl}} {
		if err := json.Unmarshal(f.raw, f.to); err != nil {
			return fmt.Errorf("read goal labels: %w", err)
		}
	}
	lost := clause.Expr{SQL: `(?) EXCEPT (?)`, Vars: []any{goalAudience(clientID, ov, ol), goalAudience(clientID, nv, nl)}}
	return emitEvent(tx, Event{Type: EventGoalHidden, ClientID: clientID, SubjectID: goalID,
		Data: HiddenEventData{GoalID: &goalID}}, lost)
}

// emitConversationHidden sends conversation.hidden to the workers taking
// part in a conversation who could see it with label old and cannot with
// label new.
func emitConversationHidden(tx *gorm.DB, clientID, conversationID uuid.UUID, old, new *string) error {
	if new == nil || (old != nil && *old == *new) {
		return nil // nobody loses sight of it
	}
	lost := clause.Expr{SQL: `SELECT p.person_id FROM conversation_participants p
		WHERE p.client_id = ? AND p.conversation_id = ? AND p.role = 'worker' AND ? AND ? AND NOT ?`,
		Vars: []any{clientID, conversationID, careTeamMember(column("p.client_id"), column("p.person_id")),
			consented(column("p.client_id"), old, column("p.person_id")), consented(column("p.client_id"), new, column("p.person_id"))}}
	return emitEvent(tx, Event{Type: EventConversationHidden, ClientID: clientID, SubjectID: conversationID,
		Data: HiddenEventData{ConversationID: &conversationID}}, lost)
}

// emitConsentWithdrawn tells personID, whose consent for label the client
// just withdrew, which of the client's records are gone for them: the goals
// with that label shared with the care team, and the conversations with it
// they take part in. Someone no longer on the care team saw none of them.
func emitConsentWithdrawn(tx *gorm.DB, clientID uuid.UUID, label string, personID uuid.UUID) error {
	var gone []struct {
		Kind string
		ID   uuid.UUID
	}
	err := tx.Raw(`SELECT 'goal' AS kind, g.id FROM goals g WHERE g.client_id = ? AND g.sensitivity = ? AND g.visibility = ? AND ?
		UNION ALL
		SELECT 'conversation', c.id FROM conversations c JOIN conversation_participants p
			ON p.client_id = c.client_id AND p.conversation_id = c.id AND p.person_id = ?
		WHERE c.client_id = ? AND c.sensitivity = ? AND ?`,
		clientID, label, VisibilityCareTeam, careTeamMember(clientID, personID),
		personID, clientID, label, careTeamMember(clientID, personID)).Scan(&gone).Error
	if err != nil {
		return fmt.Errorf("find records behind a consent: %w", err)
	}
	to := clause.Expr{SQL: `SELECT ?::uuid`, Vars: []any{personID}}
	for _, r := range gone {
		ev := Event{Type: EventGoalHidden, ClientID: clientID, SubjectID: r.ID, Data: HiddenEventData{GoalID: &r.ID}}
		if r.Kind == "conversation" {
			ev = Event{Type: EventConversationHidden, ClientID: clientID, SubjectID: r.ID, Data: HiddenEventData{ConversationID: &r.ID}}
		}
		if err := emitEvent(tx, ev, to); err != nil {
			return err
		}
	}
	return nil
}
