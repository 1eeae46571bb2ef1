package domain

import (
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Role names, as carried in the token's roles claim.
const (
	RoleClient = "client"
	RoleWorker = "worker"
	RoleAdmin  = "admin"
	// RoleDirectoryEditor maintains the resource directory; no client data.
	RoleDirectoryEditor = "directory_editor"
	// RoleProvider is staff of a directory organization: it sees the
	// referrals to its organizations' services, only as the client shares them.
	RoleProvider = "provider"
	// RoleOrganizer reads the anonymised, k-anonymous community insights and
	// nothing else: for every other operation it is a person without a role.
	RoleOrganizer = "organizer"
)

// KnownRoles lists the roles Waypoint acts on; other roles in a token are ignored.
func KnownRoles() []string {
	return []string{RoleClient, RoleWorker, RoleAdmin, RoleDirectoryEditor, RoleProvider, RoleOrganizer}
}

// ActsOnRecords reports whether the actor holds a role that reaches beyond
// what a person without a role may do (read and change their own person,
// read the public directory, what a client shares with them): any known role but organizer, whose
// only right is reading community insights (no person's record).
func (a Actor) ActsOnRecords() bool {
	return slices.ContainsFunc(a.Roles, func(r string) bool { return r != RoleOrganizer })
}

// ReadsInsights reports whether the actor may read the community insights.
func (a Actor) ReadsInsights() bool {
	return a.Is(RoleAdmin) || a.Is(RoleWorker) || a.Is(RoleOrganizer)
}

// Actor is the person behind a request, resolved from a verified token and
// the people table. Every domain operation takes one.
type Actor struct {
	PersonID uuid.UUID
	// ClientID is the actor's own client record; uuid.Nil unless they hold the client role.
	ClientID uuid.UUID
	Roles    []string
	// AppID is the OAuth2 client the token was issued to; recorded in the
	// access log. ClientScope leaves out the records of the clients who
	// revoked it, read by the statement that applies the scope.
	AppID string
	// ignoreRevocations is the actor as if no client had revoked their app
	// (withoutRevocations: what settleMiss asks).
	ignoreRevocations bool
	// RequestID names the request in the access log (X-Request-Id).
	RequestID string
	// Scope is the scope the operation being run declares; it goes into the
	// client's record of what each app used.
	Scope string
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
	// administer; they do not read people's plans. Every write to those
	// records uses it.
	ReachCare
	// ReachAudit covers the record of who touched the client's data (the
	// access log): the client, and administrators auditing it.
	ReachAudit
	// ReachOwner is the client alone: what only the client decides (the apps
	// allowed to act on their data, their supporters and invitations) and the
	// download of all their data (the export).
	ReachOwner
	// The shared reaches are ReachCare plus the client's supporters holding an
	// unexpired grant of that share. They are for reading only: the read
	// paths of goals (with their steps, check-ins and history), referrals,
	// saved services and assessments. Supporters never write.
	ReachGoalsShared
	ReachReferralsShared
	ReachSavedServicesShared
	ReachAssessmentsShared
)

// Supporter shares: what a client may let a supporter read.
const (
	ShareGoals         = "goals"
	ShareReferrals     = "referrals"
	ShareSavedServices = "saved_services"
	ShareAssessments   = "assessments"
)

// SupporterShares lists the shares, in order.
func SupporterShares() []string {
	return []string{ShareGoals, ShareReferrals, ShareSavedServices, ShareAssessments}
}

// share is the supporter share a shared reach admits ("" for the others).
func (r Reach) share() string {
	switch r {
	case ReachGoalsShared:
		return ShareGoals
	case ReachReferralsShared:
		return ShareReferrals
	case ReachSavedServicesShared:
		return ShareSavedServices
	case ReachAssessmentsShared:
		return ShareAssessments
	}
	return ""
}

// ClientScope is the condition that holds only for rows whose client id
// column clientCol the actor may reach: a GORM expression to pass as a "?"
// argument (tx.Raw("... WHERE r.id = ? AND ?", id, a.ClientScope("r.client_id", ReachCare))).
// It is the one place where client visibility is decided; every
// client-scoped query must include it, so a foreign client is simply "not found".
func (a Actor) ClientScope(clientCol string, reach Reach) clause.Expr {
	scope := a.reachScope(clientCol, reach)
	if a.AppID == "" || a.ignoreRevocations || scope.SQL == "FALSE" {
		return scope
	}
	// The client revoked the token's app: none of their records, whoever's
	// token it is.
	return clause.Expr{SQL: "(? AND ?)", Vars: []any{scope, a.appAllowedBy(column(clientCol))}}
}

// ProviderScope is the condition that holds only for referral rows under
// alias (columns client_id, service_id) that the actor sees as a provider:
// it holds the provider role, is staff of the organization offering the
// referral's service, and the client has not revoked the token's app. It is
// ClientScope's counterpart for providers, the one place deciding which
// referrals a provider reaches; what of a referral they see is the client's
// choice (shared_with_provider, providerReferralSelect).
func (a Actor) ProviderScope(alias string) clause.Expr {
	if !a.Is(RoleProvider) {
		return clause.Expr{SQL: "FALSE"}
	}
	scope := clause.Expr{SQL: `EXISTS (SELECT 1 FROM services ps JOIN organization_staff os ON os.organization_id = ps.organization_id
		WHERE ps.id = ` + alias + `.service_id AND os.person_id = ?)`, Vars: []any{a.PersonID}}
	if a.AppID == "" || a.ignoreRevocations {
		return scope
	}
	return clause.Expr{SQL: "(? AND ?)", Vars: []any{scope, a.appAllowedBy(column(alias + ".client_id"))}}
}

// appAllowedBy holds unless client (a column or a value) revoked the
// actor's app. It is read by the statement that applies it, so a revocation
// takes effect at the next statement on every replica, and nothing about it
// is kept between requests (the actor may come from a cache, api/authn.go).
// With no revocations of the app (the usual case) it is one probe of an
// empty partial index (client_apps_revoked_idx).
func (a Actor) appAllowedBy(client any) clause.Expr {
	return clause.Expr{SQL: "NOT EXISTS (SELECT 1 FROM client_apps ra WHERE ra.app_id = ? AND ra.client_id = ? AND ra.revoked_at IS NOT NULL)",
		Vars: []any{a.AppID, client}}
}

// reachScope is ClientScope before the client's decisions about apps.
func (a Actor) reachScope(clientCol string, reach Reach) clause.Expr {
	admin := a.Is(RoleAdmin) && (reach == ReachRecord || reach == ReachAudit)
	if admin {
		return clause.Expr{SQL: "TRUE"}
	}
	var parts []string
	var vars []any
	if a.ClientID != uuid.Nil && a.Is(RoleClient) {
		parts = append(parts, clientCol+" = ?")
		vars = append(vars, a.ClientID)
	}
	if a.Is(RoleWorker) && reach != ReachOwner && reach != ReachAudit {
		parts = append(parts, "?")
		vars = append(vars, careTeamMember(column(clientCol), a.PersonID))
	}
	if share := reach.share(); share != "" {
		// Any person may be a supporter, whatever their roles (or none).
		parts = append(parts, "?")
		vars = append(vars, supporterGrant(column(clientCol), a.PersonID, share))
	}
	if len(parts) == 0 {
		return clause.Expr{SQL: "FALSE"}
	}
	return clause.Expr{SQL: "(" + strings.Join(parts, " OR ") + ")", Vars: vars}
}

// appRevokedBy reports whether clientID revoked the actor's app (a
// refusal's explanation: 403 rather than 404).
func appRevokedBy(tx *gorm.DB, a Actor, clientID uuid.UUID) (bool, error) {
	if a.AppID == "" {
		return false, nil
	}
	var revoked []bool
	if err := tx.Raw("SELECT NOT ?", a.appAllowedBy(clientID)).Scan(&revoked).Error; err != nil {
		return false, fmt.Errorf("read app revocation: %w", err)
	}
	return len(revoked) == 1 && revoked[0], nil
}

// withoutRevocations is the actor as if no client had revoked their app:
// what they could see but for the clients' decisions.
func (a Actor) withoutRevocations() Actor {
	a.ignoreRevocations = true
	return a
}

// SupporterScope is the condition on a supporter grant row under alias
// (columns client_id, person_id) that the actor may see: the client sees
// every grant of theirs, a supporter their own and no one else's (never
// the care team or administrators: who supports a client is the client's).
// An app the client revoked sees no grant of theirs, the supporter's own
// included (it names the client).
func (a Actor) SupporterScope(alias string) clause.Expr {
	own := clause.Expr{SQL: alias + ".person_id = ?", Vars: []any{a.PersonID}}
	if a.AppID != "" && !a.ignoreRevocations {
		own = clause.Expr{SQL: "(? AND ?)", Vars: []any{own, a.appAllowedBy(column(alias + ".client_id"))}}
	}
	return clause.Expr{SQL: "(? OR ?)", Vars: []any{a.ClientScope(alias+".client_id", ReachOwner), own}}
}

// GoalScope is ClientScope for goal rows under alias (a goal's steps,
// check-ins and history go through their goal): a goal's own visibility and
// sensitivity narrow who of the client's circle may see it. The client sees
// all their goals; anyone else whom ClientScope lets in (the care team, and
// whoever later grants reach to) sees a goal only while it is shared with
// the care team and, when it carries a sensitivity label, only as a
// care-team worker the client consented to for that label (sharedWith).
// Every goal query takes it instead of ClientScope, so goal visibility is
// decided here alone.
func (a Actor) GoalScope(alias string, reach Reach) clause.Expr {
	return clause.Expr{SQL: "(? AND (? OR ?))", Vars: []any{a.ClientScope(alias+".client_id", reach),
		a.ownRecord(alias + ".client_id"),
		sharedWith(column(alias+".client_id"), column(alias+".visibility"), column(alias+".sensitivity"), a.PersonID)}}
}

// ConversationScope is the condition under which the actor sees the
// conversation row under alias: ClientScope (the client, or a worker still
// on the care team), taking part in it, and, for a conversation with a
// sensitivity label, being the client or a worker the client consented to
// for that label. Admins are never participants.
func (a Actor) ConversationScope(alias string) clause.Expr {
	client := alias + ".client_id"
	return clause.Expr{SQL: `(? AND EXISTS (SELECT 1 FROM conversation_participants vp
		WHERE vp.client_id = ` + client + ` AND vp.conversation_id = ` + alias + `.id AND vp.person_id = ?) AND (? OR ?))`,
		Vars: []any{a.ClientScope(client, ReachCare), a.PersonID, a.ownRecord(client),
			consented(column(client), column(alias+".sensitivity"), a.PersonID)}}
}

// ownRecord holds for rows of the actor's own client record.
func (a Actor) ownRecord(clientCol string) clause.Expr {
	if a.ClientID == uuid.Nil || !a.Is(RoleClient) {
		return clause.Expr{SQL: "FALSE"}
	}
	return clause.Expr{SQL: clientCol + " = ?", Vars: []any{a.ClientID}}
}

// sharedWith holds when person, someone of client's circle other than the
// client, may see a record of client with this visibility and sensitivity
// label: it is shared with the care team and person has the client's
// consent for its label, if any. Each argument is a column or a value, so
// event recipients can be computed for a goal's state before a change.
func sharedWith(client, visibility, label, person any) clause.Expr {
	return clause.Expr{SQL: "(?::text = 'care_team' AND ?)", Vars: []any{visibility, consented(client, label, person)}}
}

// consented holds when person may see client's records labelled label: no
// label, or a consent of the client's for it and person still on the care
// team (a consent outlives a worker's time on the team, but only counts on it).
func consented(client, label, person any) clause.Expr {
	return clause.Expr{SQL: `(?::text IS NULL OR (EXISTS (SELECT 1 FROM sensitivity_consents sc
		WHERE sc.client_id = ? AND sc.label = ?::text AND sc.person_id = ?) AND ?))`,
		Vars: []any{label, client, label, person, careTeamMember(client, person)}}
}

// AssessmentScope is the condition under which the actor sees the
// assessment row under alias: the client and their care team see every
// assessment of the client, drafts included; a supporter the client shares
// assessments with sees the confirmed ones (a draft is work in progress).
// Which of its ratings they see is RatingScope's.
func (a Actor) AssessmentScope(alias string) clause.Expr {
	return clause.Expr{SQL: "(? OR (" + alias + ".status = 'confirmed' AND ?))",
		Vars: []any{a.ClientScope(alias+".client_id", ReachCare), a.ClientScope(alias+".client_id", ReachAssessmentsShared)}}
}

// RatingScope narrows the ratings of an assessment the actor sees (alias:
// assessment_ratings, columns client_id and sensitivity) by their label, as
// GoalScope does goals: an unlabelled rating is seen with its assessment; a
// rating labelled sud (substance use) only by the client and the care-team
// workers the client consented to (supporters never).
func (a Actor) RatingScope(alias string) clause.Expr {
	return clause.Expr{SQL: "(? OR ?)", Vars: []any{a.ownRecord(alias + ".client_id"),
		consented(column(alias+".client_id"), column(alias+".sensitivity"), a.PersonID)}}
}
