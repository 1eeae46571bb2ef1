package domain

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// A conversation may carry a sensitivity label (sud): then only the client
// and the workers taking part whom the client consented to for the label see
// it (ConversationScope). Only the client sets or clears the label.

// requireConsentedWorker refuses a new conversation labelled label (nil:
// none) in which no worker has the client's consent for the label: nobody
// but the client could read it.
func requireConsentedWorker(tx *gorm.DB, clientID, conversationID uuid.UUID, label *string) error {
	if label == nil {
		return nil
	}
	var ok bool
	err := tx.Raw(`SELECT EXISTS (SELECT 1 FROM conversation_participants p
		WHERE p.client_id = ? AND p.conversation_id = ? AND p.role = 'worker' AND ?)`,
		clientID, conversationID, consented(column("p.client_id"), *label, column("p.person_id"))).Scan(&ok).Error
	if err != nil {
		return fmt.Errorf("check consents: %w", err)
	}
	if !ok {
		return Invalid("sensitivity", "no worker in this conversation has your consent to see %s records, so nobody could read it; "+
			"give one of them consent first (PUT /v1/clients/{clientId}/consents/%s/{personId})", *label, *label)
	}
	return nil
}

// ConversationPatch changes a conversation; nil members are unchanged.
type ConversationPatch struct {
	// Sensitivity sets the label ("" clears it); the client's alone.
	Sensitivity *string
}

// UpdateConversation applies a patch. Labelling a conversation hides it at
// once from the workers without the client's consent for the label; they get
// conversation.hidden. Workers taking part get 403 (the label is the
// client's to set), anyone else 404.
func (s *Store) UpdateConversation(ctx context.Context, a Actor, id uuid.UUID, p ConversationPatch) (Conversation, error) {
	var label *string
	if p.Sensitivity != nil {
		var err error
		if label, err = optEnum("sensitivity", *p.Sensitivity, SensitivityLabels()); err != nil {
			return Conversation{}, err
		}
	}
	var conv Conversation
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if p.Sensitivity != nil {
			if err := setConversationLabel(tx, a, id, label); err != nil {
				return err
			}
		}
		r := tx.Raw(`? AND c.id = ? AND ?`, conversationsOf(a), id, conversationVisible(a)).Scan(&conv)
		if r.Error != nil {
			return fmt.Errorf("read conversation: %w", r.Error)
		}
		if r.RowsAffected == 0 {
			return missing(a, conversationTarget(id))
		}
		if p.Sensitivity != nil {
			return nil // only the client gets here, and their own access is not logged
		}
		return logAccess(tx, a, ActionRead, ResourceConversation, []uuid.UUID{conv.ClientID}, []string{id.String()})
	})
	return conv, err
}

// setConversationLabel changes a conversation's label with one conditional
// update (visible, and the actor its client), then tells the workers who
// lost sight of it.
func setConversationLabel(tx *gorm.DB, a Actor, id uuid.UUID, label *string) error {
	var rows []struct {
		ClientID uuid.UUID
		Old      *string
	}
	err := tx.Raw(`WITH old AS (SELECT c.client_id, c.id, c.sensitivity FROM conversations c WHERE c.id = ? AND ? AND ? FOR UPDATE OF c)
		UPDATE conversations c SET sensitivity = ? FROM old WHERE c.client_id = old.client_id AND c.id = old.id
		RETURNING old.client_id, old.sensitivity AS old`, id, conversationVisible(a), a.ownRecord("c.client_id"), label).Scan(&rows).Error
	if err != nil {
		return fmt.Errorf("label conversation: %w", err)
	}
	if len(rows) == 0 {
		if _, err := lockConversation(tx, a, id, false); err != nil {
			return err
		}
		return clientOnlyField("sensitivity")
	}
	return emitConversationHidden(tx, rows[0].ClientID, id, rows[0].Old, label)
}
