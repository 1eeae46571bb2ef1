package domain

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/waypoint-portal/waypoint/domain/hsds"
)

// Directory administration: create, replace and delete services,
// organizations and locations. Each write is one transaction that also
// rebuilds the search rows it affects. The API's bodies cannot embed other
// objects; they reference them by id.

// invalidBody turns an hsds validation error into a 422 naming the member.
func invalidBody(err error) error {
	var fe *hsds.FieldError
	if errors.As(err, &fe) {
		return Invalid(fe.Field, "%s", fe.Message)
	}
	return err
}

// CreateService adds a service with a new id.
func (s *Store) CreateService(ctx context.Context, a Actor, in hsds.Service) (DirectoryService, error) {
	if err := canWriteDirectory(a); err != nil {
		return DirectoryService{}, err
	}
	in.ID, in.Organization, in.LastModified = newID(), nil, time.Now().UTC()
	if err := hsds.ValidateService(&in, true); err != nil {
		return DirectoryService{}, invalidBody(err)
	}
	var out DirectoryService
	err := s.tx(ctx, func(tx *gorm.DB) error {
		w := newDirWriter(tx, true, true)
		if err := w.service(&in); err != nil {
			return directoryError(err)
		}
		if err := w.finish(); err != nil {
			return err
		}
		return scanJSONRow(tx, &out, `SELECT `+serviceFullJSON+` FROM services s WHERE s.id = ?`, in.ID)
	})
	return out, err
}

// ReplaceService replaces a service (PUT) if its version satisfies pre.
func (s *Store) ReplaceService(ctx context.Context, a Actor, id uuid.UUID, pre Precondition, in hsds.Service) (DirectoryService, error) {
	if err := canWriteDirectory(a); err != nil {
		return DirectoryService{}, err
	}
	in.ID, in.Organization, in.LastModified = id, nil, time.Now().UTC()
	if err := hsds.ValidateService(&in, true); err != nil {
		return DirectoryService{}, invalidBody(err)
	}
	var out DirectoryService
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := conditionalUpdate(ctx, tx, "services", id, pre, map[string]any{"last_modified": in.LastModified}, nil); err != nil {
			return renameNotFound(err, "service")
		}
		w := newDirWriter(tx, true, false)
		if err := w.service(&in); err != nil {
			return directoryError(err)
		}
		if err := w.finish(); err != nil {
			return err
		}
		return scanJSONRow(tx, &out, `SELECT `+serviceFullJSON+` FROM services s WHERE s.id = ?`, id)
	})
	return out, err
}

// DeleteService removes a service if its version satisfies pre. A service
// clients were referred to stays (409): their referral history needs it.
func (s *Store) DeleteService(ctx context.Context, a Actor, id uuid.UUID, pre Precondition) error {
	if err := canWriteDirectory(a); err != nil {
		return err
	}
	return s.tx(ctx, func(tx *gorm.DB) error {
		return deleteVersioned(tx, "services", "service", id, pre,
			"clients have been referred to this service; set its status to inactive or defunct instead")
	})
}

// CreateOrganization adds an organization with a new id.
func (s *Store) CreateOrganization(ctx context.Context, a Actor, in hsds.Organization) (DirectoryOrganization, error) {
	if err := canWriteDirectory(a); err != nil {
		return DirectoryOrganization{}, err
	}
	in.ID, in.Locations, in.Services = newID(), nil, nil
	if err := hsds.ValidateOrganization(&in, true); err != nil {
		return DirectoryOrganization{}, invalidBody(err)
	}
	err := s.tx(ctx, func(tx *gorm.DB) error {
		w := newDirWriter(tx, true, true)
		if err := w.organization(&in); err != nil {
			return directoryError(err)
		}
		return w.finish()
	})
	if err != nil {
		return DirectoryOrganization{}, err
	}
	return s.GetOrganization(ctx, in.ID)
}

// ReplaceOrganization replaces an organization's own members (not its
// locations or services) if its version satisfies pre.
func (s *Store) ReplaceOrganization(ctx context.Context, a Actor, id uuid.UUID, pre Precondition, in hsds.Organization) (DirectoryOrganization, error) {
	if err := canWriteDirectory(a); err != nil {
		return DirectoryOrganization{}, err
	}
	in.ID, in.Locations, in.Services = id, nil, nil
	if err := hsds.ValidateOrganization(&in, true); err != nil {
		return DirectoryOrganization{}, invalidBody(err)
	}
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := conditionalUpdate(ctx, tx, "organizations", id, pre, map[string]any{}, nil); err != nil {
			return renameNotFound(err, "organization")
		}
		w := newDirWriter(tx, true, false)
		if err := w.organization(&in); err != nil {
			return directoryError(err)
		}
		return w.finish()
	})
	if err != nil {
		return DirectoryOrganization{}, err
	}
	return s.GetOrganization(ctx, id)
}

// DeleteOrganization removes an organization that has no services or locations left.
func (s *Store) DeleteOrganization(ctx context.Context, a Actor, id uuid.UUID, pre Precondition) error {
	if err := canWriteDirectory(a); err != nil {
		return err
	}
	return s.tx(ctx, func(tx *gorm.DB) error {
		return deleteVersioned(tx, "organizations", "organization", id, pre,
			"the organization still has services or locations; delete or move them first")
	})
}

// CreateLocation adds a location with a new id.
func (s *Store) CreateLocation(ctx context.Context, a Actor, in hsds.Location) (DirectoryLocation, error) {
	if err := canWriteDirectory(a); err != nil {
		return DirectoryLocation{}, err
	}
	in.ID = newID()
	if err := hsds.ValidateLocation(&in, true); err != nil {
		return DirectoryLocation{}, invalidBody(err)
	}
	err := s.tx(ctx, func(tx *gorm.DB) error {
		w := newDirWriter(tx, true, true)
		if err := w.location(&in); err != nil {
			return directoryError(err)
		}
		return w.finish()
	})
	if err != nil {
		return DirectoryLocation{}, err
	}
	return s.GetLocation(ctx, in.ID)
}

// ReplaceLocation replaces a location if its version satisfies pre; the services
// delivered there are re-indexed (place, hours, languages) in the same transaction.
func (s *Store) ReplaceLocation(ctx context.Context, a Actor, id uuid.UUID, pre Precondition, in hsds.Location) (DirectoryLocation, error) {
	if err := canWriteDirectory(a); err != nil {
		return DirectoryLocation{}, err
	}
	in.ID = id
	if err := hsds.ValidateLocation(&in, true); err != nil {
		return DirectoryLocation{}, invalidBody(err)
	}
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := conditionalUpdate(ctx, tx, "locations", id, pre, map[string]any{}, nil); err != nil {
			return renameNotFound(err, "location")
		}
		w := newDirWriter(tx, true, false)
		if err := w.location(&in); err != nil {
			return directoryError(err)
		}
		return w.finish()
	})
	if err != nil {
		return DirectoryLocation{}, err
	}
	return s.GetLocation(ctx, id)
}

// DeleteLocation removes a location; services delivered there lose it.
func (s *Store) DeleteLocation(ctx context.Context, a Actor, id uuid.UUID, pre Precondition) error {
	if err := canWriteDirectory(a); err != nil {
		return err
	}
	return s.tx(ctx, func(tx *gorm.DB) error {
		var services []uuid.UUID
		if err := tx.Raw(`SELECT service_id FROM service_at_locations WHERE location_id = ?`, id).Scan(&services).Error; err != nil {
			return fmt.Errorf("find services at location: %w", err)
		}
		if err := deleteVersioned(tx, "locations", "location", id, pre, "the location is in use"); err != nil {
			return err
		}
		w := newDirWriter(tx, true, true)
		for _, sv := range services {
			w.services[sv] = true
		}
		return w.finish()
	})
}

// deleteVersioned deletes one row if its version satisfies pre, telling
// "gone" (404), "no If-Match" (428) and "stale" (412) apart with one read.
func deleteVersioned(tx *gorm.DB, table, what string, id uuid.UUID, pre Precondition, inUse string) error {
	res := tx.Exec(`DELETE FROM `+table+` WHERE id = ? AND ?`, id, pre.sql("version"))
	if res.Error != nil {
		var pg *pgconn.PgError
		if errors.As(res.Error, &pg) && pg.Code == pgForeignKey {
			return &Error{Kind: KindConflict, Message: inUse}
		}
		return fmt.Errorf("delete %s: %w", what, res.Error)
	}
	if res.RowsAffected == 1 {
		return nil
	}
	var current []int64
	if err := tx.Raw(`SELECT version FROM `+table+` WHERE id = ?`, id).Scan(&current).Error; err != nil {
		return fmt.Errorf("read %s version: %w", what, err)
	}
	if len(current) == 0 {
		return NotFound(what)
	}
	if err := pre.check(current[0]); err != nil {
		return err
	}
	// The version matches now: a concurrent change got in between.
	return Stale(current[0])
}

func renameNotFound(err error, what string) error {
	if IsKind(err, KindNotFound) {
		return NotFound(what)
	}
	return err
}
