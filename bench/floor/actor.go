package floor

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// authorize does what the product's authenticate middleware does before the
// database: a bearer token, verified; the per-person limit; the operation's
// scope; a Waypoint role, unless the operation is open to people without
// one (rolelessOK: the goal reads, for supporters).
func (f *Floor) authorize(w http.ResponseWriter, r *http.Request, scope string, rolelessOK bool) (*principal, *stmtSet, bool) {
	scheme, raw, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(raw) == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="waypoint"`)
		problem(w, http.StatusUnauthorized, "a bearer access token is required")
		return nil, nil, false
	}
	p, err := f.v.verify(strings.TrimSpace(raw))
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="waypoint", error="invalid_token"`)
		problem(w, http.StatusUnauthorized, "the access token is invalid or expired")
		return nil, nil, false
	}
	// Counted per person before anything else is spent (as the product does).
	if !f.person.take(w, p.issuer+"\x00"+p.subject) {
		return nil, nil, false
	}
	if !p.hasScope(scope) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="waypoint", error="insufficient_scope", scope="`+scope+`"`)
		problem(w, http.StatusForbidden, "this token lacks the scope "+scope)
		return nil, nil, false
	}
	if len(p.roles) == 0 && !rolelessOK {
		problem(w, http.StatusForbidden, "this account holds no Waypoint role")
		return nil, nil, false
	}
	return p, f.stmts.of(p), true
}

// actorArgs are the statement parameters $1..$3 that resolve the person.
func actorArgs(p *principal, more ...any) []any {
	return append([]any{p.issuer, p.subject, p.rolesJSON}, more...)
}

// withPerson runs one statement (run reports whether the person was known
// with current roles). A first sight or a role change is provisioned as the
// product does, then the statement runs once more: two round trips on the
// rare path, one on the hot one.
func (f *Floor) withPerson(ctx context.Context, p *principal, run func() (known bool, err error)) error {
	for attempt := 0; ; attempt++ {
		known, err := run()
		if err != nil || known {
			return err
		}
		if attempt > 0 {
			return errors.New("floor: person not visible after provisioning")
		}
		if err := f.provision(ctx, p); err != nil {
			return err
		}
	}
}

// provisionSQL is the product's (domain/people.go): upsert the person with
// the token's roles and, for the client role, their client record.
const provisionSQL = `
WITH upserted AS (
	INSERT INTO people (id, issuer, subject, display_name, roles)
	VALUES ($1, $2, $3, $4, $5::jsonb)
	ON CONFLICT (issuer, subject) DO UPDATE
		SET roles = EXCLUDED.roles, updated_at = now(), version = people.version + 1
		WHERE people.roles IS DISTINCT FROM EXCLUDED.roles
	RETURNING id, roles
), person AS (
	SELECT id, roles FROM upserted
	UNION ALL
	SELECT id, roles FROM people
	WHERE issuer = $2 AND subject = $3 AND NOT EXISTS (SELECT 1 FROM upserted)
), new_client AS (
	INSERT INTO clients (id, person_id)
	SELECT $6, id FROM person WHERE jsonb_exists(roles, 'client')
	ON CONFLICT (person_id) DO NOTHING
	RETURNING id
)
SELECT person.id,
	CASE WHEN jsonb_exists(person.roles, 'client') THEN
		COALESCE((SELECT id FROM new_client), (SELECT c.id FROM clients c WHERE c.person_id = person.id))
	END
FROM person`

func (f *Floor) provision(ctx context.Context, p *principal) error {
	name := strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, p.name))
	if len(name) > 200 {
		name = strings.ToValidUTF8(name[:200], "")
	}
	for attempt := 0; attempt < 3; attempt++ {
		var personID uuid.UUID
		var clientID *uuid.UUID
		err := f.pool.QueryRow(ctx, provisionSQL, newID(), p.issuer, p.subject, name, p.rolesJSON, newID()).Scan(&personID, &clientID)
		if errors.Is(err, pgx.ErrNoRows) {
			continue // a concurrent first request committed after our snapshot
		}
		if err != nil {
			return fmt.Errorf("provision person: %w", err)
		}
		if !p.client || clientID != nil {
			return nil
		}
	}
	return errors.New("provision person: row not visible after upsert")
}

func newID() uuid.UUID { return uuid.Must(uuid.NewV7()) }
