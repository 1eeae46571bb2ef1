package domain

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"
)

// Person is an identity known to Waypoint.
type Person struct {
	ID          uuid.UUID
	Issuer      string
	Subject     string
	DisplayName string
	Pronouns    string
	Roles       Strings
	Version     int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// ClientID is set when the person has a client record and holds the client role.
	ClientID *uuid.UUID `gorm:"-"`
}

// Identity is what a verified token says about its subject.
type Identity struct {
	Issuer, Subject, Name string
	Roles                 []string
	AppID                 string
}

// knownRoles filters roles to the ones Waypoint acts on, sorted and unique,
// so that a change in unrelated provider roles does not rewrite the row.
func knownRoles(roles []string) Strings {
	out := Strings{}
	for _, r := range roles {
		if slices.Contains(KnownRoles(), r) && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return out
}

// provisionSQL upserts the person and, for the client role, their client
// record in one round trip. Roles are refreshed from the token, but the row is
// only rewritten when they changed, so the common case is a read.
const provisionSQL = `
WITH upserted AS (
	INSERT INTO people (id, issuer, subject, display_name, roles)
	VALUES (@id, @issuer, @subject, @name, @roles)
	ON CONFLICT (issuer, subject) DO UPDATE
		SET roles = EXCLUDED.roles, updated_at = now(), version = people.version + 1
		WHERE people.roles IS DISTINCT FROM EXCLUDED.roles
	RETURNING id, roles
), person AS (
	SELECT id, roles FROM upserted
	UNION ALL
	SELECT id, roles FROM people
	WHERE issuer = @issuer AND subject = @subject AND NOT EXISTS (SELECT 1 FROM upserted)
), new_client AS (
	INSERT INTO clients (id, person_id)
	SELECT @client_id, id FROM person WHERE jsonb_exists(roles, 'client')
	ON CONFLICT (person_id) DO NOTHING
	RETURNING id
)
SELECT person.id AS person_id,
	CASE WHEN jsonb_exists(person.roles, 'client') THEN
		COALESCE((SELECT id FROM new_client), (SELECT c.id FROM clients c WHERE c.person_id = person.id))
	END AS client_id
FROM person`

// personLookupSQL is Provision's common case: the person and their client
// record. (Which clients revoked the token's app is not the person's: every
// statement reads it where it applies the scope, Actor.ClientScope.)
const personLookupSQL = `SELECT p.id, p.roles, c.id FROM people p LEFT JOIN clients c ON c.person_id = p.id
	WHERE p.issuer = $1 AND p.subject = $2`

// Provision returns the actor for a verified identity, creating the person
// (and their client record when they hold the client role) on first sight.
func (s *Store) Provision(ctx context.Context, id Identity) (Actor, error) {
	roles := knownRoles(id.Roles)
	// Names come from the provider; control characters (NUL above all) cannot
	// be stored and must not lock a person out.
	name := strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, id.Name))
	if r := []rune(name); len(r) > MaxDisplayName {
		name = strings.TrimSpace(string(r[:MaxDisplayName]))
	}
	wantClient := slices.Contains(roles, RoleClient)
	var row struct {
		PersonID uuid.UUID
		Roles    Strings
		ClientID *uuid.UUID
	}
	actor := func() Actor {
		a := Actor{PersonID: row.PersonID, Roles: roles, AppID: id.AppID}
		if wantClient && row.ClientID != nil {
			a.ClientID = *row.ClientID
		}
		return a
	}
	// The common case is a known person whose roles did not change: one read,
	// no write, so every request does not become a write (and reads can go to
	// a replica later).
	// It runs on every authenticated request, so it skips GORM (statement
	// building and reflective scanning were a tenth of a goal read's CPU):
	// pgx through the pool, a prepared statement, fields scanned by hand.
	pool, err := s.pool()
	if err != nil {
		return Actor{}, err
	}
	err = pool.QueryRowContext(ctx, personLookupSQL, id.Issuer, id.Subject).Scan(&row.PersonID, &row.Roles, &row.ClientID)
	found := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Actor{}, fmt.Errorf("look up person: %w", err)
	}
	if found && slices.Equal(row.Roles, roles) && (!wantClient || row.ClientID != nil) {
		return actor(), nil
	}
	args := map[string]any{
		"id": newID(), "issuer": id.Issuer, "subject": id.Subject, "name": name,
		"roles": roles, "client_id": newID(),
	}
	// A concurrent first request for the same subject can make both halves of
	// the CTE miss the row (it committed after our snapshot); a retry sees it.
	for attempt := 0; attempt < 3; attempt++ {
		row.ClientID = nil
		res := s.db.WithContext(ctx).Raw(provisionSQL, args).Scan(&row)
		if res.Error != nil {
			return Actor{}, fmt.Errorf("provision person: %w", res.Error)
		}
		if res.RowsAffected > 0 && row.PersonID != uuid.Nil && (!wantClient || row.ClientID != nil) {
			return actor(), nil
		}
	}
	return Actor{}, errors.New("provision person: row not visible after upsert")
}

const personColumns = `p.id, p.issuer, p.subject, p.display_name, p.pronouns, p.roles, p.version, p.created_at, p.updated_at`

// GetPerson returns a person by id. Only the person themself and admins use it.
func (s *Store) GetPerson(ctx context.Context, a Actor, id uuid.UUID) (Person, error) {
	if id != a.PersonID && !a.Is(RoleAdmin) {
		return Person{}, NotFound("person")
	}
	var p Person
	res := s.db.WithContext(ctx).Raw(`SELECT `+personColumns+` FROM people p WHERE p.id = ?`, id).Scan(&p)
	if res.Error != nil {
		return Person{}, fmt.Errorf("get person: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return Person{}, NotFound("person")
	}
	if id == a.PersonID && a.ClientID != uuid.Nil {
		cid := a.ClientID
		p.ClientID = &cid
	}
	return p, nil
}

// PersonPatch is a JSON Merge Patch of a person's own fields; nil means unchanged.
type PersonPatch struct {
	DisplayName *string
	Pronouns    *string
}

// UpdateMe applies a patch to the actor's own person with one conditional UPDATE.
func (s *Store) UpdateMe(ctx context.Context, a Actor, pre Precondition, patch PersonPatch) (Person, error) {
	set := map[string]any{}
	if patch.DisplayName != nil {
		name := strings.TrimSpace(*patch.DisplayName)
		if name == "" {
			return Person{}, Invalid("display_name", "a display name cannot be blank")
		}
		set["display_name"] = name
	}
	if patch.Pronouns != nil {
		set["pronouns"] = strings.TrimSpace(*patch.Pronouns)
	}
	if err := conditionalUpdate(ctx, s.db, "people", a.PersonID, pre, set, nil); err != nil {
		if IsKind(err, KindNotFound) {
			return Person{}, NotFound("person")
		}
		return Person{}, err
	}
	return s.GetPerson(ctx, a, a.PersonID)
}

// PeopleFilter narrows ListPeople.
type PeopleFilter struct {
	Role   string
	Query  string
	Cursor string
	Limit  int
}

// ListPeople lists people for administrators (to assign care teams).
func (s *Store) ListPeople(ctx context.Context, a Actor, f PeopleFilter) ([]Person, string, error) {
	if !a.Is(RoleAdmin) {
		return nil, "", Forbidden("only administrators can list people")
	}
	after, err := decodeCursor(f.Cursor)
	if err != nil {
		return nil, "", err
	}
	q := s.db.WithContext(ctx).Table("people p").Select(personColumns).Order("p.id").Limit(f.Limit + 1)
	if after != uuid.Nil {
		q = q.Where("p.id > ?", after)
	}
	if f.Role != "" {
		q = q.Where("p.roles @> ?::jsonb", Strings{f.Role})
	}
	if f.Query != "" {
		q = q.Where("p.display_name ILIKE ?", "%"+escapeLike(f.Query)+"%")
	}
	var people []Person
	if err := q.Scan(&people).Error; err != nil {
		return nil, "", fmt.Errorf("list people: %w", err)
	}
	people, next := page(people, f.Limit, func(p Person) uuid.UUID { return p.ID })
	return people, next, nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
