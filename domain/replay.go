package domain

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// Replays of idempotent requests. A stored response shows what the first
// request created; the caller may have lost access since (left the care
// team, lost a role). So before a response is replayed the caller passes the
// check a fresh request would, and the replay is written to the access log
// like any other disclosure: as a read, since nothing is written again.

// ReplayForClient re-checks a request that created resource resourceID in
// clientID's shared plans (a goal, a referral): the actor must still reach
// them, exactly as creating one needs.
func (s *Store) ReplayForClient(ctx context.Context, a Actor, clientID uuid.UUID, resource, resourceID string) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		if _, err := getClient(tx, a, clientID, ReachCare, resource); err != nil {
			return err
		}
		return logAccess(tx, a, ActionRead, resource, []uuid.UUID{clientID}, []string{resourceID})
	})
}

// ReplayForGoal re-checks a request that added to goalID (a step, a
// check-in): the actor must still see the goal.
func (s *Store) ReplayForGoal(ctx context.Context, a Actor, goalID uuid.UUID) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		g, err := goalClient(tx, a, goalID, ReachCare)
		if err != nil {
			return err
		}
		return logAccess(tx, a, ActionRead, ResourceGoal, []uuid.UUID{g.ClientID}, []string{goalID.String()})
	})
}

// ReplayForConversation re-checks a request that created resource
// resourceID in conversationID (the conversation itself, a message): the
// actor must still take part, as sending a message needs.
func (s *Store) ReplayForConversation(ctx context.Context, a Actor, conversationID uuid.UUID, resource, resourceID string) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		conv, err := lockConversation(tx, a, conversationID, false)
		if err != nil {
			return err
		}
		return writeAccess(tx, a, ActionRead, resource,
			[]accessRow{{client: conv.ClientID, resourceID: resourceID, labelKey: conversationID.String()}})
	})
}

// CheckDirectoryWrite is the check every change to the directory makes.
func CheckDirectoryWrite(a Actor) error { return canWriteDirectory(a) }

// ReplayForSupporter re-checks a redemption that made the actor a supporter
// of clientID: they must still be one (the client may have removed them).
func (s *Store) ReplayForSupporter(ctx context.Context, a Actor, clientID uuid.UUID) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		var ok []bool
		if err := tx.Raw(`SELECT true FROM supporters s WHERE s.client_id = ? AND s.person_id = ?`, clientID, a.PersonID).Scan(&ok).Error; err != nil {
			return fmt.Errorf("look up supporter: %w", err)
		}
		if len(ok) == 0 {
			return NotFound("supporter")
		}
		return logAccess(tx, a, ActionRead, ResourceSupporter, []uuid.UUID{clientID}, []string{a.PersonID.String()})
	})
}
