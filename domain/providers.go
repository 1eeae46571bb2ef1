package domain

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// OrganizationStaff is a person linked to a directory organization: with the
// provider role they act for it (ProviderScope).
type OrganizationStaff struct {
	OrganizationID uuid.UUID
	PersonID       uuid.UUID
	DisplayName    string
	AddedBy        uuid.UUID
	AddedAt        time.Time
}

func requireAdmin(a Actor) error {
	if a.Is(RoleAdmin) {
		return nil
	}
	return Forbidden("linking people to organizations needs the admin role")
}

// AddOrganizationStaff links a person to an organization (admins only). It
// is idempotent; created reports whether the link is new. The person must
// exist (404 naming personId), as must the organization (404).
func (s *Store) AddOrganizationStaff(ctx context.Context, a Actor, orgID, personID uuid.UUID) (m OrganizationStaff, created bool, err error) {
	if err := requireAdmin(a); err != nil {
		return m, false, err
	}
	err = s.tx(ctx, func(tx *gorm.DB) error {
		var found []struct{ Org, Person bool }
		if err := tx.Raw(`SELECT EXISTS (SELECT 1 FROM organizations WHERE id = ?) AS org, EXISTS (SELECT 1 FROM people WHERE id = ?) AS person`,
			orgID, personID).Scan(&found).Error; err != nil {
			return fmt.Errorf("look up organization and person: %w", err)
		}
		if !found[0].Org {
			return NotFound("organization")
		}
		if !found[0].Person {
			return &Error{Kind: KindNotFound, Source: SourceTarget, Field: "personId", Message: "person not found"}
		}
		var inserted []bool
		if err := tx.Raw(`INSERT INTO organization_staff (organization_id, person_id, added_by) VALUES (?, ?, ?)
			ON CONFLICT (organization_id, person_id) DO UPDATE SET added_by = organization_staff.added_by
			RETURNING (xmax = 0)`, orgID, personID, a.PersonID).Scan(&inserted).Error; err != nil {
			return fmt.Errorf("add organization staff: %w", err)
		}
		created = len(inserted) == 1 && inserted[0]
		return tx.Raw(`SELECT s.organization_id, s.person_id, p.display_name, s.added_by, s.added_at
			FROM organization_staff s JOIN people p ON p.id = s.person_id WHERE s.organization_id = ? AND s.person_id = ?`,
			orgID, personID).Scan(&m).Error
	})
	return m, created, err
}

// RemoveOrganizationStaff unlinks a person from an organization (admins
// only); idempotent. They lose sight of its referrals at once.
func (s *Store) RemoveOrganizationStaff(ctx context.Context, a Actor, orgID, personID uuid.UUID) error {
	if err := requireAdmin(a); err != nil {
		return err
	}
	return s.tx(ctx, func(tx *gorm.DB) error {
		var org []bool
		if err := tx.Raw(`SELECT true FROM organizations WHERE id = ?`, orgID).Scan(&org).Error; err != nil {
			return fmt.Errorf("look up organization: %w", err)
		}
		if len(org) == 0 {
			return NotFound("organization")
		}
		if err := tx.Exec(`DELETE FROM organization_staff WHERE organization_id = ? AND person_id = ?`, orgID, personID).Error; err != nil {
			return fmt.Errorf("remove organization staff: %w", err)
		}
		return nil
	})
}

// ProviderReferralFilter narrows a provider's referral list.
type ProviderReferralFilter struct {
	Status    string
	ServiceID *uuid.UUID
	// Since keeps referrals changed at or after it.
	Since *time.Time
}

// ListProviderReferrals lists, newest first, the referrals to services of
// the organizations the actor is staff of (ProviderScope), as the provider
// sees them. Only providers may (403 for others); every referral listed is
// written to its client's access log.
func (s *Store) ListProviderReferrals(ctx context.Context, a Actor, f ProviderReferralFilter, cursor string, limit int) ([]Referral, string, error) {
	if !a.Is(RoleProvider) {
		return nil, "", Forbidden("this list is for providers: staff of a directory organization")
	}
	after, err := decodeCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	var rows []referralRow
	err = s.tx(ctx, func(tx *gorm.DB) error {
		q, args := providerReferralSelect+` WHERE ?`, []any{a.ProviderScope("r")}
		if f.Status != "" {
			q += ` AND r.status = ?`
			args = append(args, f.Status)
		}
		if f.ServiceID != nil {
			q += ` AND r.service_id = ?`
			args = append(args, *f.ServiceID)
		}
		if f.Since != nil {
			q += ` AND r.updated_at >= ?`
			args = append(args, *f.Since)
		}
		q, args = pageClause(q, args, "r.id", after, ListFilter{Limit: limit, Desc: true})
		if err := tx.Raw(q, args...).Scan(&rows).Error; err != nil {
			return fmt.Errorf("list provider referrals: %w", err)
		}
		shown := rows[:min(len(rows), limit)]
		clients, ids := make([]uuid.UUID, len(shown)), make([]string, len(shown))
		for i, r := range shown {
			clients[i], ids[i] = r.ClientID, r.ID.String()
		}
		return logAccess(tx, a, ActionRead, ResourceReferral, clients, ids)
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
