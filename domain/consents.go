package domain

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// RedisclosureNotice goes with every disclosure of a record labelled sud:
// the short notice 42 CFR 2.32(a)(2) allows, as one header-safe line. API
// responses carry it in the Waypoint-Redisclosure header; an export carries
// it (and RedisclosureNoticeFull) with the records.
const RedisclosureNotice = "42 CFR part 2 prohibits unauthorized use or disclosure of these records."

// RedisclosureNoticeFull is the long form of the notice (42 CFR 2.32(a)(1)).
const RedisclosureNoticeFull = "This record which has been disclosed to you is protected by Federal confidentiality " +
	"rules (42 CFR part 2). These rules prohibit you from using or disclosing this record, or testimony that describes " +
	"the information contained in this record, in any civil, criminal, administrative, or legislative proceedings by any " +
	"Federal, State, or local authority, against the patient, unless authorized by the consent of the patient, except " +
	"as provided at 42 CFR 2.12(c)(5) or as authorized by a court in accordance with 42 CFR 2.64 or 2.65. In addition, " +
	"the Federal rules prohibit you from making any further disclosure of this record unless authorized by the written " +
	"consent of the person to whom it pertains, or as otherwise permitted by 42 CFR part 2. A general authorization for " +
	"the release of medical or other information is NOT sufficient for this purpose (see 42 CFR 2.31). The Federal rules " +
	"restrict any use of the information to investigate or prosecute with regard to a crime any patient with a substance " +
	"use disorder, except as provided at 42 CFR 2.12(c)(5) and 2.65."

// Consent is a client's consent that a worker on their care team may see
// their records labelled Label.
type Consent struct {
	ClientID    uuid.UUID
	Label       string
	PersonID    uuid.UUID
	DisplayName string
	GrantedAt   time.Time
	// OnCareTeam is false for a worker who has left the care team since: the
	// consent stays until the client withdraws it, but counts only while
	// they are on the team.
	OnCareTeam bool
}

// consentExportSQL is every consent of the client the last "?" names, as
// ListConsents shows them to the client (for the export, domain/export.go);
// its first "?" is careTeamMember(sc.client_id, sc.person_id).
const consentExportSQL = `SELECT jsonb_build_object('label', sc.label, 'person_id', sc.person_id, 'display_name', p.display_name,
	'granted_at', sc.granted_at, 'on_care_team', ?)
	FROM sensitivity_consents sc JOIN people p ON p.id = sc.person_id WHERE ? ORDER BY sc.label, sc.granted_at, sc.person_id`

func consentSelect(clientID uuid.UUID) clause.Expr {
	return clause.Expr{SQL: `SELECT sc.client_id, sc.label, sc.person_id, p.display_name, sc.granted_at, ? AS on_care_team
		FROM sensitivity_consents sc JOIN people p ON p.id = sc.person_id WHERE sc.client_id = ?`,
		Vars: []any{careTeamMember(column("sc.client_id"), column("sc.person_id")), clientID}}
}

// ListConsents lists a client's consents. The client sees all of them; a
// worker on their care team sees only their own (so they know what they are
// trusted with, and learn nothing of anyone else's); anyone else gets 404.
func (s *Store) ListConsents(ctx context.Context, a Actor, clientID uuid.UUID) ([]Consent, error) {
	out := []Consent{}
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if _, err := getClient(tx, a, clientID, ReachCare, ResourceConsent); err != nil {
			return err
		}
		q, args := `? ORDER BY sc.label, sc.granted_at, sc.person_id`, []any{consentSelect(clientID)}
		if !a.IsClient(clientID) {
			q, args = `? AND sc.person_id = ? ORDER BY sc.label`, []any{consentSelect(clientID), a.PersonID}
		}
		if err := tx.Raw(q, args...).Scan(&out).Error; err != nil {
			return fmt.Errorf("list consents: %w", err)
		}
		return logAccess(tx, a, ActionRead, ResourceConsent, []uuid.UUID{clientID}, []string{""})
	})
	return out, err
}

// requireClientConsent is the check of every consent change: the client
// record must be visible (404), and the actor must be that client (403).
func requireClientConsent(tx *gorm.DB, a Actor, clientID uuid.UUID) error {
	if _, err := getClient(tx, a, clientID, ReachCare, ResourceConsent); err != nil {
		return err
	}
	if !a.IsClient(clientID) {
		return Forbidden("only the client gives or withdraws consent to see their sensitive records")
	}
	return nil
}

// GrantConsent lets personID, a worker on the client's care team, see the
// client's records labelled label; only the client may. It is idempotent:
// created reports whether the consent is new. A person not on the care team
// is 422: a consent for them could do nothing, and would look as if it did.
func (s *Store) GrantConsent(ctx context.Context, a Actor, clientID uuid.UUID, label string, personID uuid.UUID) (c Consent, created bool, err error) {
	err = s.tx(ctx, func(tx *gorm.DB) error {
		if err := requireClientConsent(tx, a, clientID); err != nil {
			return err
		}
		var onTeam bool
		if err := tx.Raw(`SELECT ?`, careTeamMember(clientID, personID)).Scan(&onTeam).Error; err != nil {
			return fmt.Errorf("check care team: %w", err)
		}
		if !onTeam {
			return InvalidIn(SourceTarget, "personId", "this person is not on your care team; consent is for the workers on it")
		}
		if err := serializeCount(tx, countConsents, clientID); err != nil {
			return err
		}
		var inserted []bool
		if err := tx.Raw(`INSERT INTO sensitivity_consents (client_id, label, person_id) VALUES (?, ?, ?)
			ON CONFLICT DO NOTHING RETURNING true`, clientID, label, personID).Scan(&inserted).Error; err != nil {
			return fmt.Errorf("grant consent: %w", err)
		}
		created = len(inserted) == 1
		if err := checkCount(tx, MaxConsents, `SELECT count(*) FROM sensitivity_consents WHERE client_id = ?`, clientID,
			"you have given %d consents, the most there can be; withdraw one you no longer need first", MaxConsents); err != nil {
			return err
		}
		var rows []Consent
		if err := tx.Raw(`? AND sc.label = ? AND sc.person_id = ?`, consentSelect(clientID), label, personID).Scan(&rows).Error; err != nil {
			return fmt.Errorf("read consent: %w", err)
		}
		if len(rows) != 1 {
			return fmt.Errorf("read consent: %d rows", len(rows))
		}
		c = rows[0]
		return nil
	})
	return c, created, err
}

// WithdrawConsent ends personID's consent for label at once: every
// visibility check and every event delivery reads the consents table. Only
// the client may; withdrawing a consent that does not exist succeeds. The
// worker's open streams get goal.hidden and conversation.hidden for what
// they could see until now, so their views can drop it.
func (s *Store) WithdrawConsent(ctx context.Context, a Actor, clientID uuid.UUID, label string, personID uuid.UUID) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		if err := requireClientConsent(tx, a, clientID); err != nil {
			return err
		}
		res := tx.Exec(`DELETE FROM sensitivity_consents WHERE client_id = ? AND label = ? AND person_id = ?`, clientID, label, personID)
		if res.Error != nil {
			return fmt.Errorf("withdraw consent: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return nil
		}
		return emitConsentWithdrawn(tx, clientID, label, personID)
	})
}
