package domain

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// ServiceSummary names a directory service where another resource points to it.
type ServiceSummary struct {
	ID               uuid.UUID
	Name             string
	Status           string
	Description      string
	OrganizationID   uuid.UUID
	OrganizationName string
}

const serviceSummaryColumns = `sv.id AS service_id, sv.name AS service_name, sv.status AS service_status,
	sv.description AS service_description, o.id AS organization_id, o.name AS organization_name`

// serviceSummaryRow is how the summary columns scan.
type serviceSummaryRow struct {
	ServiceID          uuid.UUID
	ServiceName        string
	ServiceStatus      string
	ServiceDescription string
	OrganizationID     uuid.UUID
	OrganizationName   string
}

func (r serviceSummaryRow) summary() ServiceSummary {
	return ServiceSummary{ID: r.ServiceID, Name: r.ServiceName, Status: r.ServiceStatus, Description: r.ServiceDescription,
		OrganizationID: r.OrganizationID, OrganizationName: r.OrganizationName}
}

// SavedService is a service on a client's list.
type SavedService struct {
	ID      uuid.UUID
	Service ServiceSummary
	SavedBy uuid.UUID
	SavedAt time.Time
}

type savedRow struct {
	ID      uuid.UUID
	SavedBy uuid.UUID
	SavedAt time.Time
	Svc     serviceSummaryRow `gorm:"embedded"`
}

func (r savedRow) saved() SavedService {
	return SavedService{ID: r.ID, Service: r.Svc.summary(), SavedBy: r.SavedBy, SavedAt: r.SavedAt}
}

const savedSelect = `SELECT ss.id, ss.saved_by, ss.saved_at, ` + serviceSummaryColumns + `
	FROM saved_services ss JOIN services sv ON sv.id = ss.service_id JOIN organizations o ON o.id = sv.organization_id`

// ListSavedServices lists a client's saved services, oldest first. The
// client and their care team may see it; others get 404.
func (s *Store) ListSavedServices(ctx context.Context, a Actor, clientID uuid.UUID, cursor string, limit int) ([]SavedService, string, error) {
	rows, next, err := listPage(ctx, s, cursor, listSpec[savedRow]{what: "saved services",
		query: savedSelect + ` WHERE ss.client_id = ?`, args: []any{clientID},
		col: "ss.id", filter: ListFilter{Limit: limit}, id: func(r savedRow) uuid.UUID { return r.ID },
		before: func(tx *gorm.DB) error {
			_, err := getClient(tx, a, clientID, ReachSavedServicesShared, ResourceSavedService)
			return err
		},
		after: func(tx *gorm.DB, _ []savedRow) error {
			return logAccess(tx, a, ActionRead, ResourceSavedService, []uuid.UUID{clientID}, []string{""})
		}})
	if err != nil {
		return nil, "", err
	}
	out := make([]SavedService, len(rows))
	for i, r := range rows {
		out[i] = r.saved()
	}
	return out, next, nil
}

// SaveService puts a service on a client's list. Idempotent: created
// reports whether it was new; saving again changes nothing.
func (s *Store) SaveService(ctx context.Context, a Actor, clientID, serviceID uuid.UUID) (out SavedService, created bool, err error) {
	err = s.tx(ctx, func(tx *gorm.DB) error {
		if err := writableClient(tx, a, clientID, ReachSavedServicesShared, ResourceSavedService); err != nil {
			return err
		}
		var inserted []bool
		err := tx.Raw(`INSERT INTO saved_services (client_id, service_id, id, saved_by)
			SELECT ?, sv.id, ?, ? FROM services sv WHERE sv.id = ?
			ON CONFLICT (client_id, service_id) DO UPDATE SET saved_by = saved_services.saved_by
			RETURNING (xmax = 0)`, clientID, newID(), a.PersonID, serviceID).Scan(&inserted).Error
		if err != nil {
			return fmt.Errorf("save service: %w", err)
		}
		if len(inserted) == 0 {
			return &Error{Kind: KindNotFound, Source: SourceTarget, Field: "serviceId", Message: "service not found"}
		}
		created = inserted[0]
		var row savedRow
		if err := tx.Raw(savedSelect+` WHERE ss.client_id = ? AND ss.service_id = ?`, clientID, serviceID).Scan(&row).Error; err != nil {
			return fmt.Errorf("read saved service: %w", err)
		}
		out = row.saved()
		if !created {
			return nil
		}
		return logAccess(tx, a, ActionWrite, ResourceSavedService, []uuid.UUID{clientID}, []string{serviceID.String()})
	})
	return out, created, err
}

// UnsaveService takes a service off a client's list; removing one that is
// not there succeeds, so retries are safe.
func (s *Store) UnsaveService(ctx context.Context, a Actor, clientID, serviceID uuid.UUID) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		if err := writableClient(tx, a, clientID, ReachSavedServicesShared, ResourceSavedService); err != nil {
			return err
		}
		res := tx.Exec(`DELETE FROM saved_services WHERE client_id = ? AND service_id = ?`, clientID, serviceID)
		if res.Error != nil {
			return fmt.Errorf("unsave service: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return nil
		}
		return logAccess(tx, a, ActionWrite, ResourceSavedService, []uuid.UUID{clientID}, []string{serviceID.String()})
	})
}
