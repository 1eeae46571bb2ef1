package domain

import (
	"slices"
	"strings"

	"github.com/google/uuid"
	"gorm.io/gorm/clause"
)

// Role names, as carried in the token's roles claim.
const (
	RoleClient = "client"
	RoleWorker = "worker"
	RoleAdmin  = "admin"
	// RoleDirectoryEditor maintains the resource directory; no client data.
	RoleDirectoryEditor = "directory_editor"
)

// KnownRoles lists the roles Waypoint acts on; other roles in a token are ignored.
func KnownRoles() []string { return []string{RoleClient, RoleWorker, RoleAdmin, RoleDirectoryEditor} }

// HasRole reports whether the actor holds any role Waypoint knows. Without
// one a person may only read and change their own person and read the
// public directory.
func (a Actor) HasRole() bool { return len(a.Roles) > 0 }

// Actor is the person behind a request, resolved from a verified token and
// the people table. Every domain operation takes one.
type Actor struct {
	PersonID uuid.UUID
	// ClientID is the actor's own client record; uuid.Nil unless they hold the client role.
	ClientID uuid.UUID
	Roles    []string
	// AppID is the OAuth2 client the token was issued to; recorded in the access log.
	AppID string
}

// Is reports whether the actor holds role r.
func (a Actor) Is(r string) bool { return slices.Contains(a.Roles, r) }

// IsClient reports whether clientID is the actor's own client record.
func (a Actor) IsClient(clientID uuid.UUID) bool {
	return a.ClientID != uuid.Nil && a.ClientID == clientID
}

// Reach says how far a client-scoped query may see.
type Reach int

const (
	// ReachRecord covers the client record and care team: the client, their
	// care team and administrators (who assign care teams).
	ReachRecord Reach = iota
	// ReachCare covers what the client shares with their care team only
	// (goals, referrals, messages): the client and their care team. Admins
	// administer; they do not read people's plans.
	ReachCare
	// ReachOwn covers what is the client's alone to take (the download of
	// all their data): the client and nobody else.
	ReachOwn
)

// ClientScope is the condition that holds only for rows whose client id
// column clientCol the actor may reach: a GORM expression to pass as a "?"
// argument (tx.Raw("... WHERE r.id = ? AND ?", id, a.ClientScope("r.client_id", ReachCare))).
// It is the one place where client visibility is decided; every
// client-scoped query must include it, so a foreign client is simply "not found".
func (a Actor) ClientScope(clientCol string, reach Reach) clause.Expr {
	if reach == ReachRecord && a.Is(RoleAdmin) {
		return clause.Expr{SQL: "TRUE"}
	}
	var parts []string
	var vars []any
	if a.ClientID != uuid.Nil && a.Is(RoleClient) {
		parts = append(parts, clientCol+" = ?")
		vars = append(vars, a.ClientID)
	}
	if a.Is(RoleWorker) && reach != ReachOwn {
		parts = append(parts, "?")
		vars = append(vars, careTeamMember(column(clientCol), a.PersonID))
	}
	if len(parts) == 0 {
		return clause.Expr{SQL: "FALSE"}
	}
	return clause.Expr{SQL: "(" + strings.Join(parts, " OR ") + ")", Vars: vars}
}

// GoalScope is ClientScope for goal rows under alias (a goal's steps,
// check-ins and history go through their goal): a goal's own visibility and
// sensitivity narrow who of the client's circle may see it. Every goal query
// takes it instead of ClientScope, so goal visibility is decided here alone.
func (a Actor) GoalScope(alias string, reach Reach) clause.Expr {
	return a.ClientScope(alias+".client_id", reach)
}
