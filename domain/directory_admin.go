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

// dirKind is what differs between the kinds of directory object an
// administrator writes; putDirectory and deleteDirectory do the rest.
type dirKind[T any] struct {
	table, what string
	// prepare sets the id and clears what the API may not embed.
	prepare  func(in *T, id uuid.UUID)
	validate func(in *T) error
	write    func(w *dirWriter, in *T) error
	// set is what a replace writes on the row besides its version.
	set func(in *T) map[string]any
}

func serviceKind() dirKind[hsds.Service] {
	return dirKind[hsds.Service]{table: "services", what: "service",
		prepare: func(in *hsds.Service, id uuid.UUID) {
			in.ID, in.Organization, in.LastModified = id, nil, time.Now().UTC()
		},
		validate: func(in *hsds.Service) error { return hsds.ValidateService(in, true) },
		write:    (*dirWriter).service,
		set:      func(in *hsds.Service) map[string]any { return map[string]any{"last_modified": in.LastModified} },
	}
}

func organizationKind() dirKind[hsds.Organization] {
	return dirKind[hsds.Organization]{table: "organizations", what: "organization",
		prepare:  func(in *hsds.Organization, id uuid.UUID) { in.ID, in.Locations, in.Services = id, nil, nil },
		validate: func(in *hsds.Organization) error { return hsds.ValidateOrganization(in, true) },
		write:    (*dirWriter).organization,
		set:      func(*hsds.Organization) map[string]any { return map[string]any{} },
	}
}

func locationKind() dirKind[hsds.Location] {
	return dirKind[hsds.Location]{table: "locations", what: "location",
		prepare:  func(in *hsds.Location, id uuid.UUID) { in.ID = id },
		validate: func(in *hsds.Location) error { return hsds.ValidateLocation(in, true) },
		write:    (*dirWriter).location,
		set:      func(*hsds.Location) map[string]any { return map[string]any{} },
	}
}

// putDirectory creates (with a new id) or replaces (id, if its version
// satisfies pre) one directory object in one transaction that also rebuilds the
// search rows it affects. read, when set, reads the result inside that
// transaction. It returns the object's id.
func putDirectory[T any](ctx context.Context, s *Store, a Actor, k dirKind[T], replace bool, id uuid.UUID, pre Precondition, in T,
	read func(tx *gorm.DB, id uuid.UUID) error) (uuid.UUID, error) {
	if err := canWriteDirectory(a); err != nil {
		return uuid.Nil, err
	}
	if !replace {
		id = newID()
	}
	k.prepare(&in, id)
	if err := k.validate(&in); err != nil {
		return uuid.Nil, invalidBody(err)
	}
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if replace {
			if err := conditionalUpdate(ctx, tx, k.table, id, pre, k.set(&in), nil); err != nil {
				return renameNotFound(err, k.what)
			}
		}
		w := newDirWriter(tx, true, !replace)
		if err := k.write(w, &in); err != nil {
			return directoryError(err)
		}
		if err := w.finish(); err != nil {
			return err
		}
		if read == nil {
			return nil
		}
		return read(tx, id)
	})
	return id, err
}

// deleteDirectory removes one directory object if its version satisfies pre;
// inUse explains the 409 when other rows still need it.
func (s *Store) deleteDirectory(ctx context.Context, a Actor, table, what string, id uuid.UUID, pre Precondition, inUse string) error {
	if err := canWriteDirectory(a); err != nil {
		return err
	}
	return s.tx(ctx, func(tx *gorm.DB) error {
		return deleteVersioned(tx, table, what, id, pre, inUse)
	})
}

// readService reads a service back inside the transaction that wrote it.
func readService(out *DirectoryService) func(tx *gorm.DB, id uuid.UUID) error {
	return func(tx *gorm.DB, id uuid.UUID) error {
		return scanJSONRow(tx, out, `SELECT `+serviceFullJSON+` FROM services s WHERE s.id = ?`, id)
	}
}

// CreateService adds a service with a new id.
func (s *Store) CreateService(ctx context.Context, a Actor, in hsds.Service) (DirectoryService, error) {
	var out DirectoryService
	_, err := putDirectory(ctx, s, a, serviceKind(), false, uuid.Nil, AnyVersion(), in, readService(&out))
	return out, err
}

// ReplaceService replaces a service (PUT) if its version satisfies pre.
func (s *Store) ReplaceService(ctx context.Context, a Actor, id uuid.UUID, pre Precondition, in hsds.Service) (DirectoryService, error) {
	var out DirectoryService
	_, err := putDirectory(ctx, s, a, serviceKind(), true, id, pre, in, readService(&out))
	return out, err
}

// DeleteService removes a service if its version satisfies pre. A service
// clients were referred to stays (409): their referral history needs it.
func (s *Store) DeleteService(ctx context.Context, a Actor, id uuid.UUID, pre Precondition) error {
	return s.deleteDirectory(ctx, a, "services", "service", id, pre,
		"clients have been referred to this service; set its status to inactive or defunct instead")
}

// CreateOrganization adds an organization with a new id.
func (s *Store) CreateOrganization(ctx context.Context, a Actor, in hsds.Organization) (DirectoryOrganization, error) {
	id, err := putDirectory(ctx, s, a, organizationKind(), false, uuid.Nil, AnyVersion(), in, nil)
	if err != nil {
		return DirectoryOrganization{}, err
	}
	return s.GetOrganization(ctx, id)
}

// ReplaceOrganization replaces an organization's own members (not its
// locations or services) if its version satisfies pre.
func (s *Store) ReplaceOrganization(ctx context.Context, a Actor, id uuid.UUID, pre Precondition, in hsds.Organization) (DirectoryOrganization, error) {
	id, err := putDirectory(ctx, s, a, organizationKind(), true, id, pre, in, nil)
	if err != nil {
		return DirectoryOrganization{}, err
	}
	return s.GetOrganization(ctx, id)
}

// DeleteOrganization removes an organization that has no services or locations left.
func (s *Store) DeleteOrganization(ctx context.Context, a Actor, id uuid.UUID, pre Precondition) error {
	return s.deleteDirectory(ctx, a, "organizations", "organization", id, pre,
		"the organization still has services or locations; delete or move them first")
}

// CreateLocation adds a location with a new id.
func (s *Store) CreateLocation(ctx context.Context, a Actor, in hsds.Location) (DirectoryLocation, error) {
	id, err := putDirectory(ctx, s, a, locationKind(), false, uuid.Nil, AnyVersion(), in, nil)
	if err != nil {
		return DirectoryLocation{}, err
	}
	return s.GetLocation(ctx, id)
}

// ReplaceLocation replaces a location if its version satisfies pre; the services
// delivered there are re-indexed (place, hours, languages) in the same transaction.
func (s *Store) ReplaceLocation(ctx context.Context, a Actor, id uuid.UUID, pre Precondition, in hsds.Location) (DirectoryLocation, error) {
	id, err := putDirectory(ctx, s, a, locationKind(), true, id, pre, in, nil)
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
