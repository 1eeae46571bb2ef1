package domain

import (
	"slices"
	"testing"

	"github.com/google/uuid"
)

// The reaches of the access log (the client and auditing administrators)
// and of the apps (the client alone), and a client's revocation of the
// token's app, written out.
func TestClientScopePrivacyReaches(t *testing.T) {
	db := pgDB(t)
	person, client, other := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	actor := func(roles ...string) Actor {
		a := Actor{PersonID: person, Roles: roles}
		if slices.Contains(roles, RoleClient) {
			a.ClientID = client
		}
		return a
	}
	revoked := actor(RoleClient)
	revoked.RevokedBy = []uuid.UUID{client, other}
	revokedAdmin := actor(RoleAdmin)
	revokedAdmin.RevokedBy = []uuid.UUID{other}
	cases := []struct {
		name     string
		a        Actor
		reach    Reach
		sql      string
		wantVars []any
	}{
		{"client, audit", actor(RoleClient), ReachAudit, "(g.client_id = $1)", []any{client}},
		{"client, owner", actor(RoleClient), ReachOwner, "(g.client_id = $1)", []any{client}},
		{"worker, audit: the team does not read the log", actor(RoleWorker), ReachAudit, "FALSE", nil},
		{"worker, owner", actor(RoleWorker), ReachOwner, "FALSE", nil},
		{"admin, audit", actor(RoleAdmin), ReachAudit, "TRUE", nil},
		{"admin, owner: only the client decides", actor(RoleAdmin), ReachOwner, "FALSE", nil},
		{"revoked: the clients who revoked the app are out", revoked, ReachCare,
			"((g.client_id = $1) AND NOT (g.client_id = ANY($2::uuid[])))", []any{client, "{" + client.String() + "," + other.String() + "}"}},
		{"revoked, admin", revokedAdmin, ReachRecord, "(TRUE AND NOT (g.client_id = ANY($1::uuid[])))", []any{"{" + other.String() + "}"}},
		{"revoked, nothing to see anyway", revokedAdmin, ReachCare, "FALSE", nil},
	}
	for _, c := range cases {
		sql, vars := render(t, db, "?", c.a.ClientScope("g.client_id", c.reach))
		if sql != c.sql || !slices.Equal(vars, c.wantVars) {
			t.Errorf("%s:\n got %s %v\nwant %s %v", c.name, sql, vars, c.sql, c.wantVars)
		}
	}
}
