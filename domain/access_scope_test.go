package domain

import (
	"fmt"
	"slices"
	"testing"

	"github.com/google/uuid"
)

// The reaches of the access log (the client and auditing administrators)
// and of the apps (the client alone), and a client's revocation of the
// token's app, written out.
func TestClientScopePrivacyReaches(t *testing.T) {
	db := pgDB(t)
	person, client := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	actor := func(roles ...string) Actor {
		a := Actor{PersonID: person, Roles: roles}
		if slices.Contains(roles, RoleClient) {
			a.ClientID = client
		}
		return a
	}
	// Through an app, the scope leaves out the clients who revoked it, as
	// the statement reads them (client_apps), never a list kept with the actor.
	viaApp := actor(RoleClient)
	viaApp.AppID = "budget-app"
	adminViaApp := actor(RoleAdmin)
	adminViaApp.AppID = "budget-app"
	const allowed = "NOT EXISTS (SELECT 1 FROM client_apps ra WHERE ra.app_id = $%d AND ra.client_id = g.client_id AND ra.revoked_at IS NOT NULL)"
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
		{"through an app: the clients who revoked it are out", viaApp, ReachCare,
			"((g.client_id = $1) AND " + fmt.Sprintf(allowed, 2) + ")", []any{client, "budget-app"}},
		{"through an app, admin", adminViaApp, ReachRecord, "(TRUE AND " + fmt.Sprintf(allowed, 1) + ")", []any{"budget-app"}},
		{"through an app, nothing to see anyway", adminViaApp, ReachCare, "FALSE", nil},
		{"as if no client had revoked it", viaApp.withoutRevocations(), ReachCare, "(g.client_id = $1)", []any{client}},
	}
	for _, c := range cases {
		sql, vars := render(t, db, "?", c.a.ClientScope("g.client_id", c.reach))
		if sql != c.sql || !slices.Equal(vars, c.wantVars) {
			t.Errorf("%s:\n got %s %v\nwant %s %v", c.name, sql, vars, c.sql, c.wantVars)
		}
	}
}
