package domain

import (
	"fmt"
	"strconv"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Access log actions.
const (
	ActionRead  = "read"
	ActionWrite = "write"
	// ActionExport is a download of the client's data (the export).
	ActionExport = "export"
	// ActionDenied is an attempt on an existing record of the client that
	// the actor may not see; they got 404 (settleMiss writes it).
	ActionDenied = "denied"
)

// Access log resources: the kind of record an entry is about. resource_id
// is that record's id, or "" for a list of them.
const (
	ResourceClient       = "client"        // the client record and profile (resource_id: the client)
	ResourceCareTeam     = "care_team"     // the care team (resource_id: the worker added or removed; "" for the list)
	ResourceGoal         = "goal"          // a goal, its steps and check-ins written (resource_id: the goal)
	ResourceGoalHistory  = "goal_history"  // a goal's history read (resource_id: the goal)
	ResourceGoalCheckIn  = "goal_check_in" // a goal's check-ins read (resource_id: the goal)
	ResourceReferral     = "referral"      // a referral (resource_id: the referral)
	ResourceSavedService = "saved_service" // the saved services (resource_id: the service; "" for the list)
	ResourceConversation = "conversation"  // a conversation and its messages read (resource_id: the conversation)
	ResourceMessage      = "message"       // a message written (resource_id: the message)
	ResourceReadMarker   = "read_marker"   // a read marker moved (resource_id: the conversation)
	ResourceAccessLog    = "access_log"    // the access log itself, read by an administrator
	ResourceClientApp    = "client_app"    // the client's apps (only the client's; in denied entries)
	ResourceConsent      = "consent"       // the client's consents to see sensitive records (the list)
	ResourceSupporter    = "supporter"     // a supporter's grant (resource_id: the supporter)
	ResourceAssessment   = "assessment"    // a self-assessment, its summary or suggestions (resource_id: the assessment; "" for the list or summary)
	// ResourceGroupMembership is the client's place in a group: a facilitator
	// inviting them, or seeing that a member of their group is this client of
	// their caseload (resource_id: the group).
	ResourceGroupMembership = "group_membership"
)

// AccessResources lists the resources an access-log entry may name.
func AccessResources() []string {
	return []string{ResourceClient, ResourceCareTeam, ResourceGoal, ResourceGoalHistory, ResourceGoalCheckIn,
		ResourceReferral, ResourceSavedService, ResourceConversation, ResourceMessage, ResourceReadMarker, ResourceAccessLog, ResourceClientApp, ResourceConsent, ResourceSupporter, ResourceAssessment,
		ResourceGroupMembership}
}

// Relationships of an actor to the client whose data they touched.
const (
	RelSelf           = "self"
	RelCareTeamWorker = "care_team_worker"
	RelSupporter      = "supporter"
	RelAdministrator  = "administrator"
	RelProvider       = "provider"
	RelNone           = "no_relationship"
	// RelApp is only on entries written before migration 00047, for anyone
	// with none of the relationships above.
	RelApp = "app"
)

// AccessRelationships lists the relationships an entry records.
func AccessRelationships() []string {
	return []string{RelSelf, RelCareTeamWorker, RelSupporter, RelAdministrator, RelProvider, RelNone, RelApp}
}

// relationshipSQL is the one definition of how the actor relates to the
// client in column clientCol, decided when an entry is written (so a worker
// who later leaves the team stays "care team" in old entries): the client
// themself is self (their own export), a member of the client's care team is
// care_team_worker, else someone the client made a supporter (supporters,
// migration 00041) is supporter, else an administrator is administrator,
// else staff of an organization the client was referred to (holding the
// provider role) is provider, else no_relationship (say, another worker's
// denied attempt).
func relationshipSQL(a Actor, clientCol string) clause.Expr {
	return clause.Expr{SQL: `(CASE WHEN ` + clientCol + ` = ? THEN 'self' WHEN ? THEN 'care_team_worker'
		WHEN EXISTS (SELECT 1 FROM supporters rs WHERE rs.client_id = ` + clientCol + ` AND rs.person_id = ?) THEN 'supporter'
		WHEN ? THEN 'administrator'
		WHEN ? AND EXISTS (SELECT 1 FROM referrals rr JOIN services rsv ON rsv.id = rr.service_id
			JOIN organization_staff ros ON ros.organization_id = rsv.organization_id
			WHERE rr.client_id = ` + clientCol + ` AND ros.person_id = ?) THEN 'provider'
		ELSE 'no_relationship' END)`,
		Vars: []any{nilIfZero(a.ClientID), careTeamMember(column(clientCol), a.PersonID), a.PersonID, a.Is(RoleAdmin),
			a.Is(RoleProvider), a.PersonID}}
}

// labelSQL names, in words a client recognizes, the record an entry of
// resource is about: the row of source t with client t.c and label key t.k
// (the record's id as text; "" for a list, which has no label). It is read
// when the entry is written: a goal renamed later keeps its old title here.
func labelSQL(resource string) string {
	const key = `NULLIF(t.k, '')::uuid`
	var q string
	switch resource {
	case ResourceGoal, ResourceGoalHistory, ResourceGoalCheckIn:
		q = `SELECT x.title FROM goals x WHERE x.client_id = t.c AND x.id = ` + key
	case ResourceReferral:
		q = `SELECT sv.name FROM referrals x JOIN services sv ON sv.id = x.service_id WHERE x.client_id = t.c AND x.id = ` + key
	case ResourceSavedService:
		q = `SELECT sv.name FROM services sv WHERE sv.id = ` + key
	case ResourceConversation, ResourceMessage, ResourceReadMarker:
		q = `SELECT x.subject FROM conversations x WHERE x.client_id = t.c AND x.id = ` + key
	case ResourceCareTeam, ResourceSupporter:
		q = `SELECT p.display_name FROM people p WHERE p.id = ` + key
	default:
		return `''`
	}
	// Cut to MaxAccessLabel: the sources are bounded, but the entry is
	// written whatever rows older code left behind.
	return `COALESCE(left((` + q + `), ` + strconv.Itoa(MaxAccessLabel) + `), '')`
}

// accessRow is one entry to write: the client, the record's id ("" for a
// list) and the id its label is read from ("": the record's own).
type accessRow struct {
	client     uuid.UUID
	resourceID string
	labelKey   string
}

// logAccess records, inside tx, that the actor read or wrote resources of the
// given clients (resourceIDs[i] belongs to clientIDs[i]), and that the
// actor's app acted on their data. The client's own access is not logged:
// the log exists so clients can see who else touched their data.
func logAccess(tx *gorm.DB, a Actor, action, resource string, clientIDs []uuid.UUID, resourceIDs []string) error {
	rows := make([]accessRow, len(clientIDs))
	for i, c := range clientIDs {
		rows[i].client = c
		if i < len(resourceIDs) {
			rows[i].resourceID = resourceIDs[i]
		}
	}
	return writeAccess(tx, a, action, resource, rows)
}

// writeAccess is logAccess for rows whose label comes from another record
// (a message is named by its conversation). One statement writes the entries
// and the app's use; nothing when there is neither.
func writeAccess(tx *gorm.DB, a Actor, action, resource string, rows []accessRow) error {
	var clients, logIDs []uuid.UUID
	var rids, keys []string
	others := 0
	for _, r := range rows {
		key := r.labelKey
		if key == "" {
			key = r.resourceID
		}
		clients, rids, keys = append(clients, r.client), append(rids, r.resourceID), append(keys, key)
		logIDs = append(logIDs, newID())
		if !a.IsClient(r.client) {
			others++
		}
	}
	if others == 0 && a.AppID == "" {
		return nil
	}
	use := appUse(a, "t.c", "t")
	if action == ActionDenied { // an attempt, not a use
		use = clause.Expr{SQL: "SELECT 1"}
	}
	err := tx.Exec(`WITH t AS (SELECT * FROM unnest(?::uuid[], ?::uuid[], ?::text[], ?::text[]) AS t(c, l, r, k)),
		logged AS (INSERT INTO access_log (client_id, id, actor_person_id, app_id, action, resource, resource_id,
				relationship, label, request_id)
			SELECT t.c, t.l, ?, ?, ?, ?, t.r, ?, `+labelSQL(resource)+`, ? FROM t WHERE t.c IS DISTINCT FROM ?),
		used AS (?)
		SELECT 1`,
		uuidArray(clients), uuidArray(logIDs), textArray(rids), textArray(keys),
		a.PersonID, a.AppID, action, resource, relationshipSQL(a, "t.c"), a.RequestID, nilIfZero(a.ClientID),
		use).Error
	if err != nil {
		return fmt.Errorf("write access log: %w", err)
	}
	return nil
}

// logAccessFrom is logAccess for a read that is a single statement: an
// INSERT (for a WITH clause of that statement) logging the access to the one
// row of src, unless the row is the actor's own. One round trip, and the log
// commits with the read or not at all. labelCol names the record in words.
func logAccessFrom(a Actor, action, resource, src, clientCol, resourceCol, labelCol string) clause.Expr {
	return clause.Expr{SQL: `INSERT INTO access_log (client_id, id, actor_person_id, app_id, action, resource, resource_id,
			relationship, label, request_id)
		SELECT ` + clientCol + `, ?, ?, ?, ?, ?, ` + resourceCol + `::text, ?, left(` + labelCol + `, ` + strconv.Itoa(MaxAccessLabel) + `), ? FROM ` + src +
		` WHERE ` + clientCol + ` IS DISTINCT FROM ?`,
		Vars: []any{newID(), a.PersonID, a.AppID, action, resource, relationshipSQL(a, clientCol), a.RequestID, nilIfZero(a.ClientID)}}
}

// appUse is the statement (for a WITH clause) that records that the actor's
// app acted on the data of the clients in column clientCol of src: the
// client's list of apps shows first and last use and the scopes used. It is
// on every request's path, so it writes only when the app is new for the
// client, was last recorded over a minute ago, or uses a new scope; else it
// reads one index entry. A revoked app's row stays as the client left it.
func appUse(a Actor, clientCol, src string) clause.Expr {
	if a.AppID == "" {
		return clause.Expr{SQL: "SELECT 1"}
	}
	var scopes textArray = []string{}
	if a.Scope != "" {
		scopes = []string{a.Scope}
	}
	return clause.Expr{SQL: `INSERT INTO client_apps AS ca (client_id, app_id, scopes_used)
		SELECT DISTINCT ` + clientCol + `, ?::text, ?::text[] FROM ` + src + `
		WHERE NOT EXISTS (SELECT 1 FROM client_apps f WHERE f.client_id = ` + clientCol + ` AND f.app_id = ?
			AND (f.revoked_at IS NOT NULL OR (f.last_used_at > now() - interval '1 minute' AND f.scopes_used @> ?::text[])))
		ORDER BY 1
		ON CONFLICT (client_id, app_id) DO UPDATE SET last_used_at = greatest(ca.last_used_at, now()),
			scopes_used = ARRAY(SELECT DISTINCT s FROM unnest(ca.scopes_used || EXCLUDED.scopes_used) s ORDER BY s)
		WHERE ca.revoked_at IS NULL`,
		Vars: []any{a.AppID, scopes, a.AppID, scopes}}
}

// nilIfZero binds uuid.Nil as NULL (an actor without a client record).
func nilIfZero(id uuid.UUID) any {
	if id == uuid.Nil {
		return nil
	}
	return id
}

func uuidStrings(ids []uuid.UUID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}
