package domain

import (
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// Links to a client's goals and referrals from elsewhere (a referral's goal,
// a conversation's subject). A link must name a record of the same client,
// and a goal entered in error is frozen: nothing new may attach to it. The
// checks lock the linked row (FOR SHARE) until the caller's transaction ends,
// so the goal cannot be marked entered-in-error, nor the record leave,
// between the check and the write that links it.

// lockClientGoal checks, in tx, that goalID is one of clientID's goals that
// the actor sees and not entered in error: 422 naming field otherwise (a
// goal the actor may not see reads as none), 409 when it is frozen.
func lockClientGoal(tx *gorm.DB, a Actor, clientID, goalID uuid.UUID, field string) error {
	var status []string
	if err := tx.Raw(`SELECT g.lifecycle_status FROM goals g WHERE g.client_id = ? AND g.id = ? AND ? FOR SHARE OF g`,
		clientID, goalID, a.GoalScope("g", ReachCare)).Scan(&status).Error; err != nil {
		return fmt.Errorf("look up goal: %w", err)
	}
	if len(status) == 0 {
		return Invalid(field, "the client has no goal with this id")
	}
	if status[0] == GoalEnteredInError {
		return goalFrozenLink(field)
	}
	return nil
}

func goalFrozenLink(field string) *Error {
	return &Error{Kind: KindConflict, Source: SourceContent, Field: field, Message: "this goal was entered in error: it is frozen, " +
		"so nothing new can be linked to it (referrals, conversations), and it takes no steps, check-ins or edits"}
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

// goalTakesHistory reports, in tx, whether goalID may still get history rows
// from changes made elsewhere (a linked referral's progress): not once it is
// entered in error. The row stays locked, so it cannot freeze meanwhile.
func goalTakesHistory(tx *gorm.DB, clientID, goalID uuid.UUID) (bool, error) {
	var status []string
	if err := tx.Raw(`SELECT lifecycle_status FROM goals WHERE client_id = ? AND id = ? FOR SHARE`,
		clientID, goalID).Scan(&status).Error; err != nil {
		return false, fmt.Errorf("look up goal: %w", err)
	}
	return len(status) == 1 && status[0] != GoalEnteredInError, nil
}

// recordLinkedGoalHistory is recordGoalHistory for a change made elsewhere
// (a referral's): it writes nothing to a goal entered in error, which is frozen.
func recordLinkedGoalHistory(tx *gorm.DB, a Actor, clientID, goalID uuid.UUID, changes []FieldChange) error {
	ok, err := goalTakesHistory(tx, clientID, goalID)
	if err != nil || !ok {
		return err
	}
	return recordGoalHistory(tx, a, clientID, goalID, changes)
}
