package domain

import (
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// Links to a client's goals and referrals from elsewhere (a conversation's
// subject). A link must name a record of the same client. The checks lock the
// linked row (FOR SHARE) until the caller's transaction ends, so it cannot
// change or leave between the check and the write that links it.

// lockClientGoal checks, in tx, that goalID is one of clientID's goals:
// 422 naming field otherwise.
func lockClientGoal(tx *gorm.DB, clientID, goalID uuid.UUID, field string) error {
	var n []int
	if err := tx.Raw(`SELECT 1 FROM goals WHERE client_id = ? AND id = ? FOR SHARE`,
		clientID, goalID).Scan(&n).Error; err != nil {
		return fmt.Errorf("look up goal: %w", err)
	}
	if len(n) == 0 {
		return Invalid(field, "the client has no goal with this id")
	}
	return nil
}

// lockClientReferral checks, in tx, that referralID is one of clientID's
// referrals: 422 naming field otherwise.
func lockClientReferral(tx *gorm.DB, clientID, referralID uuid.UUID, field string) error {
	var n []int
	if err := tx.Raw(`SELECT 1 FROM referrals WHERE client_id = ? AND id = ? FOR SHARE`,
		clientID, referralID).Scan(&n).Error; err != nil {
		return fmt.Errorf("look up referral: %w", err)
	}
	if len(n) == 0 {
		return Invalid(field, "the client has no referral with this id")
	}
	return nil
}
