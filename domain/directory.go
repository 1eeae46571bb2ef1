package domain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/waypoint-portal/waypoint/domain/hsds"
)

// The resource directory speaks HSDS (package hsds) on both sides: writes
// take hsds objects and store them in the tables of migration 00020; reads
// build the HSDS JSON in SQL (one round trip, no N+1) and decode it into the
// same types. The SQL below names columns as HSDS names members, so a column
// renamed without its JSON member fails the round-trip tests.

// DirectoryService is a service as stored, with its version (the ETag).
type DirectoryService struct {
	hsds.Service
	Version int64 `json:"version"`
}

// DirectoryOrganization is an organization as stored, with its version.
type DirectoryOrganization struct {
	hsds.Organization
	Version int64 `json:"version"`
}

// DirectoryLocation is a location as stored, with its version.
type DirectoryLocation struct {
	hsds.Location
	Version int64 `json:"version"`
}

// Internal columns that are not HSDS members.
const (
	ownerCols    = `'{pk,position,service_id,location_id,service_at_location_id}'::text[]`
	recordCols   = `'{version,created_at,updated_at}'::text[]`
	termDropCols = `'{created_at,updated_at,taxonomy_id}'::text[]`
)

// schedulesJSON and languagesJSON render the rows owned by owner (e.g. "x.service_id = s.id").
func schedulesJSON(owner string) string {
	return `(SELECT coalesce(jsonb_agg(to_jsonb(x) - ` + ownerCols + ` ORDER BY x.position), '[]') FROM schedules x WHERE ` + owner + `)`
}

func languagesJSON(owner string) string {
	return `(SELECT coalesce(jsonb_agg(to_jsonb(x) - ` + ownerCols + ` ORDER BY x.position), '[]') FROM languages x WHERE ` + owner + `)`
}

// termJSON renders taxonomy term t with its taxonomy embedded.
func termJSON(t string) string {
	return `((to_jsonb(` + t + `) - ` + termDropCols + `) || jsonb_build_object('taxonomy_detail',
		(SELECT to_jsonb(tx) - '{created_at,updated_at}'::text[] FROM taxonomies tx WHERE tx.id = ` + t + `.taxonomy_id)))`
}

// locationJSON renders location l with its languages and schedules; its
// organization_id is left out when it is the enclosing organization's.
func locationJSON(l, enclosingOrg string) string {
	return `((to_jsonb(` + l + `) - ` + recordCols + ` - CASE WHEN ` + l + `.organization_id IS NOT DISTINCT FROM ` + enclosingOrg + ` THEN 'organization_id' ELSE '' END)
		|| jsonb_build_object('languages', ` + languagesJSON("x.location_id = "+l+".id") + `,
		                      'schedules', ` + schedulesJSON("x.location_id = "+l+".id") + `))`
}

// organizationJSON renders organization o with its locations.
func organizationJSON(o string) string {
	return `((to_jsonb(` + o + `) - '{created_at,updated_at}'::text[]) || jsonb_build_object('locations',
		(SELECT coalesce(jsonb_agg(` + locationJSON("ol", o+".id") + ` ORDER BY ol.id), '[]') FROM locations ol WHERE ol.organization_id = ` + o + `.id)))`
}

// serviceJSON renders service s in full, the way HSDS's service_full example
// does: organization, schedules, languages, attributes with their taxonomy
// terms, and service_at_locations with their locations embedded.
const serviceJSON = `((to_jsonb(s) - '{organization_id,created_at,updated_at}'::text[]) || jsonb_build_object(
	'organization', (SELECT ` + "%ORG%" + ` FROM organizations o WHERE o.id = s.organization_id),
	'schedules', %SCHED%,
	'languages', %LANG%,
	'attributes', (SELECT coalesce(jsonb_agg((to_jsonb(a) - '{pk,position,service_id,taxonomy_term_id}'::text[])
	                  || jsonb_build_object('taxonomy_term', (SELECT %TERM% FROM taxonomy_terms t WHERE t.id = a.taxonomy_term_id))
	                  ORDER BY a.position), '[]') FROM service_attributes a WHERE a.service_id = s.id),
	'service_at_locations', (SELECT coalesce(jsonb_agg((to_jsonb(sal) - '{position,service_id,location_id}'::text[])
	                  || jsonb_build_object('schedules', %SALSCHED%,
	                                        'location', (SELECT %LOC% FROM locations l WHERE l.id = sal.location_id))
	                  ORDER BY sal.position), '[]') FROM service_at_locations sal WHERE sal.service_id = s.id)))`

var serviceFullJSON = strings.NewReplacer(
	"%ORG%", organizationJSON("o"),
	"%SCHED%", schedulesJSON("x.service_id = s.id"),
	"%LANG%", languagesJSON("x.service_id = s.id"),
	"%TERM%", termJSON("t"),
	"%SALSCHED%", schedulesJSON("x.service_at_location_id = sal.id"),
	"%LOC%", locationJSON("l", "s.organization_id"),
).Replace(serviceJSON)

// GetService returns one service in full. The directory is public to anyone
// allowed to search it, so no client scope applies.
func (s *Store) GetService(ctx context.Context, id uuid.UUID) (DirectoryService, error) {
	var out DirectoryService
	err := scanJSONRow(s.db.WithContext(ctx), &out, `SELECT `+serviceFullJSON+` FROM services s WHERE s.id = ?`, id)
	if errors.Is(err, errNoRow) {
		return out, NotFound("service")
	}
	return out, err
}

// GetOrganization returns an organization with its locations and its services
// (name, status and description only; read a service for the rest).
func (s *Store) GetOrganization(ctx context.Context, id uuid.UUID) (DirectoryOrganization, error) {
	var out DirectoryOrganization
	err := scanJSONRow(s.db.WithContext(ctx), &out, `SELECT `+organizationJSON("o")+` || jsonb_build_object('services',
		(SELECT coalesce(jsonb_agg(jsonb_build_object('id', sv.id, 'name', sv.name, 'status', sv.status, 'description', sv.description)
		        ORDER BY sv.name, sv.id), '[]') FROM services sv WHERE sv.organization_id = o.id))
		FROM organizations o WHERE o.id = ?`, id)
	if errors.Is(err, errNoRow) {
		return out, NotFound("organization")
	}
	return out, err
}

// GetLocation returns a location with its languages and schedules.
func (s *Store) GetLocation(ctx context.Context, id uuid.UUID) (DirectoryLocation, error) {
	var out DirectoryLocation
	err := scanJSONRow(s.db.WithContext(ctx), &out, `SELECT `+locationJSON("l", "NULL::uuid")+` || jsonb_build_object('version', l.version)
		FROM locations l WHERE l.id = ?`, id)
	if errors.Is(err, errNoRow) {
		return out, NotFound("location")
	}
	return out, err
}

// TermFilter narrows ListTaxonomyTerms.
type TermFilter struct {
	ParentID   uuid.UUID
	TopOnly    bool
	TaxonomyID uuid.UUID
	Search     string
	Page       int
	PerPage    int
}

// ListTaxonomyTerms lists taxonomy terms by name, HSDS-paginated, with the
// total number of matches.
func (s *Store) ListTaxonomyTerms(ctx context.Context, f TermFilter) ([]hsds.TaxonomyTerm, int, error) {
	if err := f.check(); err != nil {
		return nil, 0, err
	}
	var conds []string
	var args []any
	if f.ParentID != uuid.Nil {
		conds = append(conds, "t.parent_id = ?")
		args = append(args, f.ParentID)
	}
	if f.TopOnly {
		conds = append(conds, "t.parent_id IS NULL")
	}
	if f.TaxonomyID != uuid.Nil {
		conds = append(conds, "t.taxonomy_id = ?")
		args = append(args, f.TaxonomyID)
	}
	if q := strings.TrimSpace(f.Search); q != "" {
		conds = append(conds, "(t.name ILIKE ? OR t.code ILIKE ? OR t.description ILIKE ?)")
		like := "%" + escapeLike(q) + "%"
		args = append(args, like, like, like)
	}
	where := "TRUE"
	if len(conds) > 0 {
		where = strings.Join(conds, " AND ")
	}
	var rows []struct {
		Total int
		Doc   []byte
	}
	args = append(args, f.PerPage, (f.Page-1)*f.PerPage)
	err := s.db.WithContext(ctx).Raw(`WITH m AS (SELECT t.* FROM taxonomy_terms t WHERE `+where+`),
		p AS (SELECT t.* FROM m t ORDER BY t.name, t.id LIMIT ? OFFSET ?)
		SELECT (SELECT count(*) FROM m) AS total, `+termJSON("t")+` AS doc
		FROM (SELECT 1) one LEFT JOIN p t ON true ORDER BY t.name, t.id`, args...).Scan(&rows).Error
	if err != nil {
		return nil, 0, fmt.Errorf("list taxonomy terms: %w", err)
	}
	out := []hsds.TaxonomyTerm{}
	total := 0
	for _, r := range rows {
		total = r.Total
		if len(r.Doc) == 0 || string(r.Doc) == "null" {
			continue
		}
		var t hsds.TaxonomyTerm
		if err := json.Unmarshal(r.Doc, &t); err != nil {
			return nil, 0, fmt.Errorf("decode taxonomy term: %w", err)
		}
		out = append(out, t)
	}
	return out, total, nil
}

var errNoRow = errors.New("no row")

// scanJSONRow runs a query returning one jsonb column and decodes it into v,
// a directory object as the API shows it: with at most hsds.MaxListed of the
// lists assembled from records written one by one (hsds.TrimListed; the
// export reads them whole).
func scanJSONRow(db *gorm.DB, v any, query string, args ...any) error {
	var docs [][]byte
	if err := db.Raw(query, args...).Scan(&docs).Error; err != nil {
		return fmt.Errorf("read directory: %w", err)
	}
	if len(docs) == 0 || len(docs[0]) == 0 {
		return errNoRow
	}
	if err := json.Unmarshal(docs[0], v); err != nil {
		return fmt.Errorf("decode directory row: %w", err)
	}
	hsds.TrimListed(v)
	return nil
}

// canWriteDirectory: directory changes are for administrators and directory
// editors (people or machine clients maintaining listings). A token with no
// Waypoint role is never an integration: it has no rights here. The
// operation's scope (directory:write) is checked before.
func canWriteDirectory(a Actor) error {
	if a.Is(RoleAdmin) || a.Is(RoleDirectoryEditor) {
		return nil
	}
	return Forbidden("changing the resource directory needs the admin or directory_editor role")
}

// directoryError maps constraint violations of directory writes to errors
// the caller can act on; field names the input member at fault.
func directoryError(err error) error {
	var pg *pgconn.PgError
	if !errors.As(err, &pg) {
		return err
	}
	switch pg.Code {
	case pgForeignKey:
		switch {
		case strings.Contains(pg.ConstraintName, "organization"):
			if pg.TableName == "organizations" {
				return &Error{Kind: KindConflict, Message: "the organization still has services or locations; delete or move them first"}
			}
			return Invalid("organization_id", "no organization has this id")
		case strings.Contains(pg.ConstraintName, "location"):
			if pg.TableName == "locations" {
				return &Error{Kind: KindConflict, Message: "the location is in use"}
			}
			return Invalid("service_at_locations", "a location_id names no location")
		case strings.Contains(pg.ConstraintName, "taxonomy_term"):
			return Invalid("attributes", "a taxonomy_term_id names no taxonomy term")
		case strings.Contains(pg.ConstraintName, "service"):
			if pg.TableName == "services" {
				return &Error{Kind: KindConflict, Message: "clients have saved this service or been referred to it; set its status to inactive or defunct instead"}
			}
		}
	case pgUniqueViolation:
		return &Error{Kind: KindConflict, Message: "an object with this id already exists"}
	case pgCheckViolation:
		return Invalid("", "a value is out of range (%s)", pg.ConstraintName)
	}
	return err
}
