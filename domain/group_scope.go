package domain

import (
	"strings"

	"github.com/google/uuid"
	"gorm.io/gorm/clause"
)

// GroupLevel says how much of a group a query may see.
type GroupLevel int

const (
	// GroupContent covers what happens in a group: members, goals, posts,
	// sessions. Its current members (accepted, not left or removed) and its
	// facilitators see it.
	GroupContent GroupLevel = iota
	// GroupExistence covers that the group exists: name, purpose, kind,
	// facilitators and member count. GroupContent, plus administrators.
	GroupExistence
)

// GroupScope is the condition that holds only for groups (id column
// groupCol) the actor may see at level: the one definition of group
// visibility, used by every group query and by event delivery (through
// groupPresent). A client is in while their membership is 'member' (an
// invited client sees only their invitation, a former member nothing) and
// the token's app is not one they revoked; a worker while they facilitate
// the group (being on a member's care team gives nothing here); an
// administrator sees existence only. Everyone else: not found.
func (a Actor) GroupScope(groupCol string, level GroupLevel) clause.Expr {
	var parts []string
	var vars []any
	if m := a.groupMember(groupCol); m.SQL != "FALSE" {
		parts, vars = append(parts, "?"), append(vars, m)
	}
	if f := a.groupFacilitator(groupCol); f.SQL != "FALSE" {
		parts, vars = append(parts, "?"), append(vars, f)
	}
	if level == GroupExistence && a.Is(RoleAdmin) {
		parts = append(parts, "TRUE")
	}
	if len(parts) == 0 {
		return clause.Expr{SQL: "FALSE"}
	}
	return clause.Expr{SQL: "(" + strings.Join(parts, " OR ") + ")", Vars: vars}
}

// groupMember holds while the actor is a current member of the group in
// column groupCol (and the token's app is not one they revoked).
func (a Actor) groupMember(groupCol string) clause.Expr {
	if a.ClientID == uuid.Nil || !a.Is(RoleClient) {
		return clause.Expr{SQL: "FALSE"}
	}
	m := clause.Expr{SQL: `EXISTS (SELECT 1 FROM group_members gsm WHERE gsm.group_id = ` + groupCol +
		` AND gsm.person_id = ? AND gsm.status = 'member')`, Vars: []any{a.PersonID}}
	if a.AppID == "" || a.ignoreRevocations {
		return m
	}
	return clause.Expr{SQL: "(? AND ?)", Vars: []any{m, a.appAllowedBy(a.ClientID)}}
}

// groupFacilitator holds while the actor, a worker, facilitates the group in column groupCol.
func (a Actor) groupFacilitator(groupCol string) clause.Expr {
	if !a.Is(RoleWorker) {
		return clause.Expr{SQL: "FALSE"}
	}
	return clause.Expr{SQL: `EXISTS (SELECT 1 FROM group_facilitators gsf WHERE gsf.group_id = ` + groupCol +
		` AND gsf.person_id = ?)`, Vars: []any{a.PersonID}}
}

// groupPresent holds while person (a column or value) is a current member
// or a facilitator of group: whom a group's events reach at delivery.
func groupPresent(group, person any) clause.Expr {
	return clause.Expr{SQL: `(EXISTS (SELECT 1 FROM group_members gpm WHERE gpm.group_id = ? AND gpm.person_id = ? AND gpm.status = 'member')
		OR EXISTS (SELECT 1 FROM group_facilitators gpf WHERE gpf.group_id = ? AND gpf.person_id = ?))`,
		Vars: []any{group, person, group, person}}
}
