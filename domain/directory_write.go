package domain

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/waypoint-portal/waypoint/domain/hsds"
)

// dirWriter stores HSDS objects inside one transaction and remembers what it
// touched, so finish() can rebuild the search rows of every affected service
// once. Two modes:
//   - merge (imports): a record is authoritative for its scalar members, but
//     an array member it leaves out is kept, so a "lite" copy of an object
//     embedded elsewhere (HSDS list documents) does not erase the full one;
//   - replace (the API's PUT and POST): the body is the whole object.
type dirWriter struct {
	tx      *gorm.DB
	replace bool
	// bump is the version expression for upserts; PUT bumps once up front.
	bump string

	services, orgs, locs, terms map[uuid.UUID]bool
}

func newDirWriter(tx *gorm.DB, replace, bumpVersion bool) *dirWriter {
	w := &dirWriter{tx: tx, replace: replace, bump: "version + 1",
		services: map[uuid.UUID]bool{}, orgs: map[uuid.UUID]bool{}, locs: map[uuid.UUID]bool{}, terms: map[uuid.UUID]bool{}}
	if !bumpVersion {
		w.bump = "version"
	}
	return w
}

// col is one column of an upsert.
type col struct {
	name string
	val  any
	// keep: in merge mode a nil val keeps the stored value (array members left out).
	keep bool
	// cast is the SQL type of the parameter, e.g. "jsonb".
	cast string
	// object: a jsonb object member, NULL when absent (arrays default to []).
	object bool
}

// arr encodes an array member for a jsonb column; nil stays nil (absent).
func arr[T any](v []T) any {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil // hsds types always encode
	}
	return string(b)
}

func obj[T any](v *T) any {
	if v == nil {
		return nil
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func nilUUID(id uuid.UUID) any {
	if id == uuid.Nil {
		return nil
	}
	return id
}

// upsert inserts or updates one row of table by id. Parameters are
// positional: GORM leaves named parameters whose value is nil unreplaced.
func (w *dirWriter) upsert(table string, id uuid.UUID, cols []col, versioned bool) error {
	names := []string{"id"}
	vals := []string{"?"}
	valArgs := []any{id}
	sets := []string{}
	var setArgs []any
	for _, c := range cols {
		p := "?"
		if c.cast != "" {
			p += "::" + c.cast
		}
		names = append(names, `"`+c.name+`"`)
		isArray := c.cast == "jsonb" && !c.object
		switch {
		case c.keep && !w.replace:
			def := "NULL"
			if isArray {
				def = "'[]'::jsonb"
			}
			vals = append(vals, "COALESCE("+p+", "+def+")")
			valArgs = append(valArgs, c.val)
			sets = append(sets, fmt.Sprintf(`"%s" = COALESCE(%s, %s."%s")`, c.name, p, table, c.name))
			setArgs = append(setArgs, c.val)
		case c.keep && isArray:
			// replace mode: an absent array is an empty one
			vals = append(vals, "COALESCE("+p+", '[]'::jsonb)")
			valArgs = append(valArgs, c.val)
			sets = append(sets, fmt.Sprintf(`"%s" = EXCLUDED."%s"`, c.name, c.name))
		default:
			vals = append(vals, p)
			valArgs = append(valArgs, c.val)
			sets = append(sets, fmt.Sprintf(`"%s" = EXCLUDED."%s"`, c.name, c.name))
		}
	}
	if versioned {
		sets = append(sets, fmt.Sprintf("version = %s.%s", table, w.bump), "updated_at = now()")
	}
	q := fmt.Sprintf(`INSERT INTO %s (%s) VALUES (%s) ON CONFLICT (id) DO UPDATE SET %s`,
		table, strings.Join(names, ", "), strings.Join(vals, ", "), strings.Join(sets, ", "))
	if err := w.tx.Exec(q, append(valArgs, setArgs...)...).Error; err != nil {
		return fmt.Errorf("store %s %s: %w", strings.TrimSuffix(table, "s"), id, err)
	}
	return nil
}

func (w *dirWriter) taxonomy(t *hsds.Taxonomy) error {
	return w.upsert("taxonomies", t.ID, []col{
		{name: "name", val: t.Name}, {name: "description", val: t.Description}, {name: "uri", val: t.URI},
		{name: "version", val: t.Version}, {name: "metadata", val: arr(t.Metadata), keep: true, cast: "jsonb"},
	}, false)
}

func (w *dirWriter) term(t *hsds.TaxonomyTerm) error {
	if t.TaxonomyDetail != nil {
		if err := w.taxonomy(t.TaxonomyDetail); err != nil {
			return err
		}
		t.TaxonomyID = t.TaxonomyDetail.ID
	}
	w.terms[t.ID] = true
	return w.upsert("taxonomy_terms", t.ID, []col{
		{name: "code", val: t.Code}, {name: "name", val: t.Name}, {name: "description", val: t.Description},
		{name: "parent_id", val: nilUUID(t.ParentID), cast: "uuid"}, {name: "taxonomy", val: t.Taxonomy},
		{name: "taxonomy_id", val: nilUUID(t.TaxonomyID), cast: "uuid"}, {name: "language", val: t.Language},
		{name: "term_uri", val: t.TermURI}, {name: "metadata", val: arr(t.Metadata), keep: true, cast: "jsonb"},
	}, false)
}

func (w *dirWriter) organization(o *hsds.Organization) error {
	fillOrganizationIDs(o)
	w.orgs[o.ID] = true
	err := w.upsert("organizations", o.ID, []col{
		{name: "name", val: o.Name}, {name: "alternate_name", val: o.AlternateName}, {name: "description", val: o.Description},
		{name: "email", val: o.Email}, {name: "website", val: o.Website}, {name: "tax_status", val: o.TaxStatus},
		{name: "tax_id", val: o.TaxID}, {name: "year_incorporated", val: o.YearIncorporated, cast: "numeric"},
		{name: "legal_status", val: o.LegalStatus}, {name: "logo", val: o.Logo}, {name: "uri", val: o.URI},
		{name: "parent_organization_id", val: nilUUID(o.ParentOrganizationID), cast: "uuid"},
		{name: "funding", val: arr(o.Funding), keep: true, cast: "jsonb"},
		{name: "contacts", val: arr(o.Contacts), keep: true, cast: "jsonb"},
		{name: "phones", val: arr(o.Phones), keep: true, cast: "jsonb"},
		{name: "programs", val: arr(o.Programs), keep: true, cast: "jsonb"},
		{name: "organization_identifiers", val: arr(o.OrganizationIdentifiers), keep: true, cast: "jsonb"},
		{name: "attributes", val: arr(o.Attributes), keep: true, cast: "jsonb"},
		{name: "metadata", val: arr(o.Metadata), keep: true, cast: "jsonb"},
	}, true)
	if err != nil {
		return err
	}
	for i := range o.Locations {
		l := &o.Locations[i]
		if l.OrganizationID == uuid.Nil {
			l.OrganizationID = o.ID
		}
		if err := w.location(l); err != nil {
			return err
		}
	}
	for i := range o.Services {
		sv := &o.Services[i]
		if sv.OrganizationID == uuid.Nil && sv.Organization == nil {
			sv.OrganizationID = o.ID
		}
		if err := w.service(sv); err != nil {
			return err
		}
	}
	return nil
}

func (w *dirWriter) location(l *hsds.Location) error {
	fillLocationIDs(l)
	w.locs[l.ID] = true
	err := w.upsert("locations", l.ID, []col{
		{name: "location_type", val: l.LocationType}, {name: "url", val: l.URL},
		// an embedded copy without organization_id keeps the stored one
		{name: "organization_id", val: nilUUID(l.OrganizationID), keep: true, cast: "uuid"},
		{name: "name", val: l.Name}, {name: "alternate_name", val: l.AlternateName}, {name: "description", val: l.Description},
		{name: "transportation", val: l.Transportation},
		{name: "latitude", val: l.Latitude, cast: "float8"}, {name: "longitude", val: l.Longitude, cast: "float8"},
		{name: "external_identifier", val: l.ExternalIdentifier}, {name: "external_identifier_type", val: l.ExternalIdentifierType},
		{name: "timezone", val: l.Timezone},
		{name: "addresses", val: arr(l.Addresses), keep: true, cast: "jsonb"},
		{name: "contacts", val: arr(l.Contacts), keep: true, cast: "jsonb"},
		{name: "accessibility", val: arr(l.Accessibility), keep: true, cast: "jsonb"},
		{name: "phones", val: arr(l.Phones), keep: true, cast: "jsonb"},
		{name: "attributes", val: arr(l.Attributes), keep: true, cast: "jsonb"},
		{name: "metadata", val: arr(l.Metadata), keep: true, cast: "jsonb"},
	}, true)
	if err != nil {
		return err
	}
	if err := w.languages("location_id", l.ID, l.Languages); err != nil {
		return err
	}
	return w.schedules("location_id", l.ID, l.Schedules)
}

func (w *dirWriter) service(s *hsds.Service) error {
	if s.Organization != nil {
		if err := w.organization(s.Organization); err != nil {
			return err
		}
		s.OrganizationID = s.Organization.ID
	}
	fillServiceIDs(s)
	if s.LastModified.IsZero() {
		s.LastModified = time.Now().UTC()
	}
	w.services[s.ID] = true
	err := w.upsert("services", s.ID, []col{
		{name: "organization_id", val: s.OrganizationID, cast: "uuid"},
		{name: "program_id", val: nilUUID(s.ProgramID), cast: "uuid"},
		{name: "program", val: obj(s.Program), keep: true, cast: "jsonb", object: true},
		{name: "name", val: s.Name}, {name: "alternate_name", val: s.AlternateName}, {name: "description", val: s.Description},
		{name: "url", val: s.URL}, {name: "email", val: s.Email}, {name: "status", val: s.Status},
		{name: "interpretation_services", val: s.InterpretationServices}, {name: "application_process", val: s.ApplicationProcess},
		{name: "fees_description", val: s.FeesDescription}, {name: "wait_time", val: s.WaitTime}, {name: "fees", val: s.Fees},
		{name: "accreditations", val: s.Accreditations}, {name: "eligibility_description", val: s.EligibilityDescription},
		{name: "minimum_age", val: s.MinimumAge, cast: "numeric"}, {name: "maximum_age", val: s.MaximumAge, cast: "numeric"},
		{name: "assured_date", val: s.AssuredDate}, {name: "assurer_email", val: s.AssurerEmail},
		{name: "licenses", val: s.Licenses}, {name: "alert", val: s.Alert},
		{name: "last_modified", val: s.LastModified, cast: "timestamptz"},
		{name: "phones", val: arr(s.Phones), keep: true, cast: "jsonb"},
		{name: "service_areas", val: arr(s.ServiceAreas), keep: true, cast: "jsonb"},
		{name: "funding", val: arr(s.Funding), keep: true, cast: "jsonb"},
		{name: "cost_options", val: arr(s.CostOptions), keep: true, cast: "jsonb"},
		{name: "required_documents", val: arr(s.RequiredDocuments), keep: true, cast: "jsonb"},
		{name: "contacts", val: arr(s.Contacts), keep: true, cast: "jsonb"},
		{name: "metadata", val: arr(s.Metadata), keep: true, cast: "jsonb"},
	}, true)
	if err != nil {
		return err
	}
	if err := w.schedules("service_id", s.ID, s.Schedules); err != nil {
		return err
	}
	if err := w.languages("service_id", s.ID, s.Languages); err != nil {
		return err
	}
	if err := w.attributes(s.ID, s.Attributes); err != nil {
		return err
	}
	return w.serviceAtLocations(s.ID, s.ServiceAtLocations)
}

// schedules replaces the schedules of one owner (merge mode: only when sent).
func (w *dirWriter) schedules(ownerCol string, owner uuid.UUID, ss []hsds.Schedule) error {
	if ss == nil && !w.replace {
		return nil
	}
	if err := w.tx.Exec(`DELETE FROM schedules WHERE `+ownerCol+` = ?`, owner).Error; err != nil {
		return fmt.Errorf("replace schedules: %w", err)
	}
	if len(ss) == 0 {
		return nil
	}
	err := w.tx.Exec(`INSERT INTO schedules (`+ownerCol+`, position, id, valid_from, valid_to, dtstart, timezone, until, count,
			wkst, freq, "interval", byday, byweekno, bymonthday, byyearday, description, opens_at, closes_at,
			schedule_link, attending_type, notes, attributes, metadata)
		SELECT ?, e.n - 1, (e.d->>'id')::uuid, coalesce(e.d->>'valid_from', ''), coalesce(e.d->>'valid_to', ''),
			coalesce(e.d->>'dtstart', ''), (e.d->>'timezone')::numeric, coalesce(e.d->>'until', ''), (e.d->>'count')::numeric,
			coalesce(e.d->>'wkst', ''), coalesce(e.d->>'freq', ''), (e.d->>'interval')::numeric, coalesce(e.d->>'byday', ''),
			coalesce(e.d->>'byweekno', ''), coalesce(e.d->>'bymonthday', ''), coalesce(e.d->>'byyearday', ''),
			coalesce(e.d->>'description', ''), (e.d->>'opens_at')::time, (e.d->>'closes_at')::time,
			coalesce(e.d->>'schedule_link', ''), coalesce(e.d->>'attending_type', ''), coalesce(e.d->>'notes', ''),
			coalesce(e.d->'attributes', '[]'), coalesce(e.d->'metadata', '[]')
		FROM jsonb_array_elements(?::jsonb) WITH ORDINALITY AS e(d, n)`, owner, arr(ss)).Error
	if err != nil {
		return fmt.Errorf("store schedules: %w", err)
	}
	return nil
}

func (w *dirWriter) languages(ownerCol string, owner uuid.UUID, ls []hsds.Language) error {
	if ls == nil && !w.replace {
		return nil
	}
	if err := w.tx.Exec(`DELETE FROM languages WHERE `+ownerCol+` = ?`, owner).Error; err != nil {
		return fmt.Errorf("replace languages: %w", err)
	}
	if len(ls) == 0 {
		return nil
	}
	err := w.tx.Exec(`INSERT INTO languages (`+ownerCol+`, position, id, name, code, note, attributes, metadata)
		SELECT ?, e.n - 1, (e.d->>'id')::uuid, coalesce(e.d->>'name', ''), coalesce(e.d->>'code', ''), coalesce(e.d->>'note', ''),
			coalesce(e.d->'attributes', '[]'), coalesce(e.d->'metadata', '[]')
		FROM jsonb_array_elements(?::jsonb) WITH ORDINALITY AS e(d, n)`, owner, arr(ls)).Error
	if err != nil {
		return fmt.Errorf("store languages: %w", err)
	}
	return nil
}

func (w *dirWriter) attributes(service uuid.UUID, as []hsds.Attribute) error {
	if as == nil && !w.replace {
		return nil
	}
	for i := range as {
		if as[i].TaxonomyTerm != nil {
			if err := w.term(as[i].TaxonomyTerm); err != nil {
				return err
			}
			as[i].TaxonomyTermID = as[i].TaxonomyTerm.ID
		}
	}
	if err := w.tx.Exec(`DELETE FROM service_attributes WHERE service_id = ?`, service).Error; err != nil {
		return fmt.Errorf("replace attributes: %w", err)
	}
	if len(as) == 0 {
		return nil
	}
	rows := make([]hsds.Attribute, len(as))
	for i, a := range as {
		a.TaxonomyTerm = nil // stored as a reference
		rows[i] = a
	}
	err := w.tx.Exec(`INSERT INTO service_attributes (service_id, position, id, taxonomy_term_id, link_type, link_entity, value, label, metadata)
		SELECT ?, e.n - 1, (e.d->>'id')::uuid, (e.d->>'taxonomy_term_id')::uuid, coalesce(e.d->>'link_type', ''),
			coalesce(e.d->>'link_entity', ''), coalesce(e.d->>'value', ''), coalesce(e.d->>'label', ''), coalesce(e.d->'metadata', '[]')
		FROM jsonb_array_elements(?::jsonb) WITH ORDINALITY AS e(d, n)`, service, arr(rows)).Error
	if err != nil {
		return fmt.Errorf("store attributes: %w", err)
	}
	return nil
}

func (w *dirWriter) serviceAtLocations(service uuid.UUID, sals []hsds.ServiceAtLocation) error {
	if sals == nil && !w.replace {
		return nil
	}
	keep := make(uuidArray, 0, len(sals))
	for i := range sals {
		if sals[i].Location != nil {
			if err := w.location(sals[i].Location); err != nil {
				return err
			}
			sals[i].LocationID = sals[i].Location.ID
		}
		keep = append(keep, sals[i].ID)
	}
	// Links this record no longer lists go, and so do links it moves here
	// from another service (that service's search rows are rebuilt too).
	var moved []uuid.UUID
	err := w.tx.Raw(`WITH gone AS (
			DELETE FROM service_at_locations
			WHERE (service_id = ? AND NOT (id = ANY (?::uuid[]))) OR (id = ANY (?::uuid[]) AND service_id <> ?)
			RETURNING service_id)
		SELECT DISTINCT service_id FROM gone`, service, keep, keep, service).Scan(&moved).Error
	if err != nil {
		return fmt.Errorf("replace service at locations: %w", err)
	}
	for _, id := range moved {
		w.services[id] = true
	}
	for i := range sals {
		sal := &sals[i]
		// merge mode keeps arrays the record leaves out; replace mode empties them
		keepOr := func(c string) string {
			if w.replace {
				return "COALESCE(?::jsonb, '[]'::jsonb)"
			}
			return "COALESCE(?::jsonb, service_at_locations." + c + ")"
		}
		contacts, phones, attrs, meta := arr(sal.Contacts), arr(sal.Phones), arr(sal.Attributes), arr(sal.Metadata)
		err := w.tx.Exec(`INSERT INTO service_at_locations (id, service_id, location_id, position, description, contacts, phones, attributes, metadata)
			VALUES (?, ?, ?, ?, ?, COALESCE(?::jsonb, '[]'), COALESCE(?::jsonb, '[]'), COALESCE(?::jsonb, '[]'), COALESCE(?::jsonb, '[]'))
			ON CONFLICT (id) DO UPDATE SET service_id = EXCLUDED.service_id, location_id = EXCLUDED.location_id,
				position = EXCLUDED.position, description = EXCLUDED.description,
				contacts = `+keepOr("contacts")+`, phones = `+keepOr("phones")+`,
				attributes = `+keepOr("attributes")+`, metadata = `+keepOr("metadata"),
			sal.ID, service, sal.LocationID, i, sal.Description, contacts, phones, attrs, meta, contacts, phones, attrs, meta).Error
		if err != nil {
			return fmt.Errorf("store service at location %s: %w", sal.ID, err)
		}
		if err := w.schedules("service_at_location_id", sal.ID, sal.Schedules); err != nil {
			return err
		}
	}
	return nil
}

// serviceAtLocation stores a standalone service-at-location record (HSDS
// service_at_location documents), appended to its service's locations.
func (w *dirWriter) serviceAtLocation(sal *hsds.ServiceAtLocation, service *hsds.Service) error {
	if service != nil {
		if err := w.service(service); err != nil {
			return err
		}
		sal.ServiceID = service.ID
	}
	if sal.Location != nil {
		if err := w.location(sal.Location); err != nil {
			return err
		}
		sal.LocationID = sal.Location.ID
	}
	if sal.ID == uuid.Nil {
		sal.ID = newID()
	}
	w.services[sal.ServiceID] = true
	contacts, phones, attrs, meta := arr(sal.Contacts), arr(sal.Phones), arr(sal.Attributes), arr(sal.Metadata)
	err := w.tx.Exec(`INSERT INTO service_at_locations (id, service_id, location_id, position, description, contacts, phones, attributes, metadata)
		VALUES (?, ?, ?, (SELECT coalesce(max(position) + 1, 0) FROM service_at_locations WHERE service_id = ?),
		        ?, COALESCE(?::jsonb, '[]'), COALESCE(?::jsonb, '[]'), COALESCE(?::jsonb, '[]'), COALESCE(?::jsonb, '[]'))
		ON CONFLICT (id) DO UPDATE SET service_id = EXCLUDED.service_id, location_id = EXCLUDED.location_id,
			description = EXCLUDED.description,
			contacts = COALESCE(?::jsonb, service_at_locations.contacts),
			phones = COALESCE(?::jsonb, service_at_locations.phones),
			attributes = COALESCE(?::jsonb, service_at_locations.attributes),
			metadata = COALESCE(?::jsonb, service_at_locations.metadata)`,
		sal.ID, sal.ServiceID, sal.LocationID, sal.ServiceID, sal.Description, contacts, phones, attrs, meta,
		contacts, phones, attrs, meta).Error
	if err != nil {
		return fmt.Errorf("store service at location %s: %w", sal.ID, err)
	}
	return w.schedules("service_at_location_id", sal.ID, sal.Schedules)
}

// finish rebuilds the search rows of every service the writes touched:
// directly, through its organization (name), its locations (place, hours,
// languages) or its taxonomy terms (names).
func (w *dirWriter) finish() error {
	err := w.tx.Exec(`SELECT directory_refresh(ARRAY(
		SELECT unnest(?::uuid[])
		UNION SELECT id FROM services WHERE organization_id = ANY (?::uuid[])
		UNION SELECT service_id FROM service_at_locations WHERE location_id = ANY (?::uuid[])
		UNION SELECT service_id FROM service_attributes WHERE taxonomy_term_id = ANY (?::uuid[])))`,
		sortedIDs(w.services), sortedIDs(w.orgs), sortedIDs(w.locs), sortedIDs(w.terms)).Error
	if err != nil {
		return fmt.Errorf("refresh search index: %w", err)
	}
	return nil
}
