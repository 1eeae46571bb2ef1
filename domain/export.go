package domain

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// ExportSection is one part of a client's export ("Download my data"): a
// member of the document and one query producing its rows, one JSON object
// each, in the shape the API gives the same record.
type ExportSection struct {
	// Name is the member of the export document holding the section.
	Name string
	// One marks a section that is one object rather than a list.
	One bool
	// Client is the client id column of the rows (e.g. "g.client_id").
	Client string
	// SQL selects one json or jsonb column per row, in a stable order served
	// by an index. Its last "?" stands for the condition that the row belongs
	// to the exported client and that the actor may export it.
	SQL string
	// Vars fill the "?"s before that one (shared expressions such as
	// activeParticipant), if any.
	Vars []any
}

// exportPageSize is how many rows each FETCH reads: memory stays flat however
// many rows a section has, and each FETCH is one short statement (so the
// statement timeout applies per page, never to the whole download).
const exportPageSize = 1000

// ExportSections lists the sections of a client's export in document order.
// A new section is one entry here and one in api/export.go (its schema type).
func ExportSections() []ExportSection {
	return []ExportSection{
		{Name: "profile", One: true, Client: "c.id", SQL: exportProfileSQL},
		{Name: "care_team", Client: "m.client_id", SQL: careTeamExportSQL},
		{Name: "supporters", Client: "s.client_id", SQL: `SELECT to_jsonb(x) - 'id' FROM (` + supporterSelect + ` WHERE ?) x
			ORDER BY x.id`},
		{Name: "supporter_invitations", Client: "i.client_id", SQL: `SELECT to_jsonb(x) FROM (SELECT ` + invitationColumns + `
			FROM supporter_invitations i WHERE ? AND ` + pendingInvitation + `) x ORDER BY x.id`},
		{Name: "consents", Client: "sc.client_id", SQL: consentExportSQL,
			Vars: []any{careTeamMember(column("sc.client_id"), column("sc.person_id"))}},
		{Name: "goals", Client: "g.client_id", SQL: `SELECT to_jsonb(x) FROM (SELECT ` + goalColumns + `
			FROM goals g ` + goalRatingJoin + ` WHERE ?) x ORDER BY x.id`},
		{Name: "goal_check_ins", Client: "ci.client_id", SQL: `SELECT jsonb_build_object('id', ci.id, 'goal_id', ci.goal_id,
			'rating', ci.rating, 'note', ci.note, 'mood', ci.mood, 'created_at', ci.created_at,
			'author', jsonb_build_object('person_id', ci.author_person_id, 'display_name', p.display_name, 'role', ci.author_role))
			FROM goal_check_ins ci JOIN people p ON p.id = ci.author_person_id WHERE ? ORDER BY ci.id`},
		{Name: "goal_history", Client: "h.client_id", SQL: `SELECT jsonb_build_object('id', h.id, 'goal_id', h.goal_id,
			'at', h.at, 'field', h.field, 'old_value', h.old_value, 'new_value', h.new_value,
			'actor', jsonb_build_object('person_id', h.actor_person_id, 'display_name', p.display_name, 'role', h.actor_role))
			FROM goal_history h JOIN people p ON p.id = h.actor_person_id WHERE ? ORDER BY h.id`},
		{Name: "saved_services", Client: "ss.client_id", SQL: `SELECT jsonb_build_object('service', ` + exportServiceJSON + `,
			'saved_by', ss.saved_by, 'saved_at', ss.saved_at)
			FROM saved_services ss JOIN services sv ON sv.id = ss.service_id JOIN organizations o ON o.id = sv.organization_id
			WHERE ? ORDER BY ss.id`},
		{Name: "referrals", Client: "r.client_id", SQL: exportReferralsSQL},
		{Name: "conversations", Client: "c.client_id", SQL: exportConversationsSQL, Vars: []any{activeParticipant()}},
		{Name: "messages", Client: "m.client_id", SQL: `SELECT ` + messageJSON + ` FROM messages m
			WHERE ? ORDER BY m.conversation_id, m.id`},
		{Name: "assessments", Client: "a.client_id", SQL: `SELECT to_jsonb(x) FROM (` + assessmentSelect + ` WHERE ?) x ORDER BY x.id`,
			Vars: []any{textArray(AssessmentDomains()), clause.Expr{SQL: "TRUE"}}},
		{Name: "assessment_goals", Client: "ag.client_id", SQL: `SELECT jsonb_build_object('goal_id', ag.goal_id,
			'assessment_id', ag.assessment_id, 'domain', ag.domain, 'template_id', ag.template_id, 'adopted_by', ag.adopted_by,
			'adopted_at', ag.adopted_at) FROM assessment_goals ag WHERE ? ORDER BY ag.goal_id`},
		{Name: "service_feedback", Client: "f.client_id", SQL: `SELECT jsonb_build_object('id', f.id,
			'service', jsonb_build_object('id', sv.id, 'name', sv.name), 'referral_id', f.referral_id, 'kind', f.kind,
			'text', f.text, 'reporter_role', f.reporter_role, 'status', f.status, 'resolution_note', f.resolution_note,
			'resolved_by', f.resolved_by, 'resolved_at', f.resolved_at, 'version', f.version, 'created_at', f.created_at)
			FROM service_feedback f JOIN services sv ON sv.id = f.service_id WHERE ? ORDER BY f.id`},
		{Name: "access_log", Client: "l.client_id", SQL: `SELECT jsonb_build_object('id', l.id, 'at', l.at, 'action', l.action,
			'resource', l.resource, 'resource_id', l.resource_id, 'label', l.label, 'app_id', NULLIF(l.app_id, ''),
			'request_id', l.request_id,
			'actor', jsonb_build_object('id', l.actor_person_id, 'display_name', p.display_name, 'relationship', l.relationship))
			FROM access_log l JOIN people p ON p.id = l.actor_person_id WHERE ? ORDER BY l.id`},
	}
}

// exportProfileSQL is the client's person and client record, as GET /v1/me
// and GET /v1/clients/{clientId} show them.
const exportProfileSQL = `SELECT jsonb_build_object(
	'person', jsonb_build_object('id', p.id, 'display_name', p.display_name, 'pronouns', p.pronouns, 'roles', p.roles,
		'client_id', c.id, 'version', p.version, 'created_at', p.created_at, 'updated_at', p.updated_at),
	'client', jsonb_build_object('id', c.id, 'person_id', c.person_id, 'display_name', p.display_name,
		'strengths', c.strengths, 'interests', c.interests, 'preferred_language', c.preferred_language,
		'contact_preferences', jsonb_build_object('channels', '[]'::jsonb, 'help_improve_services', true) || c.contact_preferences,
		'version', c.version, 'created_at', c.created_at, 'updated_at', c.updated_at))
	FROM clients c JOIN people p ON p.id = c.person_id WHERE ?`

// exportServiceJSON is the summary of directory service sv (organization o)
// that saved services and referrals show.
const exportServiceJSON = `jsonb_build_object('id', sv.id, 'name', sv.name, 'status', sv.status,
	'description', sv.description, 'organization', jsonb_build_object('id', o.id, 'name', o.name))`

// exportReferralsSQL is every referral with its service and status history.
const exportReferralsSQL = `SELECT jsonb_build_object('id', r.id, 'client_id', r.client_id, 'service', ` + exportServiceJSON + `,
	'goal_id', r.goal_id, 'status', r.status, 'note', r.note, 'created_by', r.created_by, 'created_at', r.created_at,
	'updated_at', r.updated_at, 'version', r.version, 'shared_with_provider', to_jsonb(r.shared_with_provider),
	'decline_reason', r.decline_reason,
	'status_history', (SELECT coalesce(jsonb_agg(jsonb_build_object('from_status', h.from_status, 'to_status', h.to_status,
		'changed_by', h.changed_by, 'changed_by_name', hp.display_name, 'actor_role', h.actor_role, 'changed_at', h.changed_at)
		ORDER BY h.id), '[]')
		FROM referral_status_history h JOIN people hp ON hp.id = h.changed_by
		WHERE h.client_id = r.client_id AND h.referral_id = r.id))
	FROM referrals r JOIN services sv ON sv.id = r.service_id JOIN organizations o ON o.id = sv.organization_id
	WHERE ? ORDER BY r.id`

// exportConversationsSQL is every conversation of the client as the client
// sees it in GET /v1/conversations (participants, last message, the client's
// unread count); the messages themselves are their own section. Its first
// "?" is activeParticipant().
const exportConversationsSQL = `SELECT jsonb_build_object('id', c.id, 'client_id', c.client_id, 'subject', c.subject,
	'sensitivity', c.sensitivity,
	'link', CASE WHEN c.link_kind IS NOT NULL THEN jsonb_build_object('kind', c.link_kind, 'id', c.link_id) END,
	'created_by', c.created_by, 'created_at', c.created_at,
	'last_activity_at', COALESCE((SELECT lm.created_at FROM messages lm
		WHERE lm.client_id = c.client_id AND lm.conversation_id = c.id AND lm.id = c.last_message_id), c.created_at),
	'participants', (SELECT coalesce(jsonb_agg(jsonb_build_object('person_id', p.person_id, 'display_name', pe.display_name,
			'role', p.role, 'read_up_to', p.read_up_to, 'active', ?)
		ORDER BY p.role, p.joined_at, p.person_id), '[]')
		FROM conversation_participants p JOIN people pe ON pe.id = p.person_id
		WHERE p.client_id = c.client_id AND p.conversation_id = c.id),
	'last_message', (SELECT ` + messageJSON + ` FROM messages m
		WHERE m.client_id = c.client_id AND m.conversation_id = c.id AND m.id = c.last_message_id),
	'unread_count', (SELECT count(*) FROM messages um WHERE um.client_id = c.client_id AND um.conversation_id = c.id
		AND um.sender_id <> cl.person_id AND (me.read_up_to IS NULL OR um.id > me.read_up_to)))
	FROM conversations c JOIN clients cl ON cl.id = c.client_id
	LEFT JOIN conversation_participants me ON me.client_id = c.client_id AND me.conversation_id = c.id
		AND me.person_id = cl.person_id
	WHERE ? ORDER BY c.id`

// Export is an open export of one client's data: one read-only REPEATABLE
// READ transaction, so every section reads the same snapshot and the
// document is consistent however long the download takes. Close it.
type Export struct {
	tx       *gorm.DB
	actor    Actor
	clientID uuid.UUID
	// At is the moment of the snapshot.
	At time.Time
	// Sensitive says the export holds records labelled sud (42 CFR Part 2),
	// which must travel with the redisclosure notice.
	Sensitive bool
}

// OpenExport starts the export of a client's data. Only the client may
// export it (ReachOwner): anyone else gets NotFound, as for a record they
// cannot see (and their attempt is logged as denied). The export is written
// to the client's access log (action export, relationship self) with the
// app's use, and committed before any data is read, so an export that fails
// halfway is still on record.
func (s *Store) OpenExport(ctx context.Context, a Actor, clientID uuid.UUID) (*Export, error) {
	db := s.db.WithContext(ctx)
	var logged int64
	err := db.Raw(`WITH c AS (SELECT c.id FROM clients c WHERE c.id = ? AND ?),
		logged AS (INSERT INTO access_log (client_id, id, actor_person_id, app_id, action, resource, resource_id,
				relationship, label, request_id)
			SELECT c.id, ?, ?, ?, ?, ?, c.id::text, ?, '', ? FROM c RETURNING 1),
		used AS (?)
		SELECT count(*) FROM logged`,
		clientID, a.ClientScope("c.id", ReachOwner), newID(), a.PersonID, a.AppID, ActionExport, ResourceClient,
		relationshipSQL(a, "c.id"), a.RequestID, appUse(a, "c.id", "c")).Scan(&logged).Error
	if err != nil {
		return nil, fmt.Errorf("log export: %w", err)
	}
	if logged == 0 {
		return nil, s.settleMiss(ctx, missing(a, clientTarget(clientID, ReachOwner, ResourceClient)))
	}
	tx := db.Begin(&sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if tx.Error != nil {
		return nil, fmt.Errorf("begin export: %w", tx.Error)
	}
	e := &Export{tx: tx, actor: a, clientID: clientID}
	// The first statement takes the snapshot; now() is its time.
	if err := tx.Raw(`SELECT now()`).Row().Scan(&e.At); err != nil {
		e.Close()
		return nil, fmt.Errorf("start export: %w", err)
	}
	// Labels sit on goals, conversations and assessment ratings; the goals'
	// check-ins and history and the conversations' messages are covered by them.
	err = tx.Raw(`SELECT EXISTS (SELECT 1 FROM goals WHERE client_id = ? AND sensitivity IS NOT NULL)
		OR EXISTS (SELECT 1 FROM conversations WHERE client_id = ? AND sensitivity IS NOT NULL)
		OR EXISTS (SELECT 1 FROM assessment_ratings WHERE client_id = ? AND sensitivity IS NOT NULL)`,
		clientID, clientID, clientID).Row().Scan(&e.Sensitive)
	if err != nil {
		e.Close()
		return nil, fmt.Errorf("start export: %w", err)
	}
	return e, nil
}

// Rows calls fn with each row of section sec, one JSON object at a time, as
// pages arrive from a server-side cursor. An error from fn stops it.
func (e *Export) Rows(sec ExportSection, fn func(row []byte) error) error {
	cond := clause.Expr{SQL: "(" + sec.Client + " = ? AND ?)", Vars: []any{e.clientID, e.actor.ClientScope(sec.Client, ReachOwner)}}
	vars := append(slices.Clone(sec.Vars), cond)
	if err := e.tx.Exec(`DECLARE export_rows NO SCROLL CURSOR FOR `+sec.SQL, vars...).Error; err != nil {
		return fmt.Errorf("export %s: %w", sec.Name, err)
	}
	for {
		n, err := e.fetch(fn)
		if err != nil {
			return fmt.Errorf("export %s: %w", sec.Name, err)
		}
		if n < exportPageSize {
			break
		}
	}
	if err := e.tx.Exec(`CLOSE export_rows`).Error; err != nil {
		return fmt.Errorf("export %s: %w", sec.Name, err)
	}
	return nil
}

// fetch reads one page of the open cursor and returns how many rows it had.
func (e *Export) fetch(fn func(row []byte) error) (int, error) {
	rows, err := e.tx.Raw(fmt.Sprintf(`FETCH FORWARD %d FROM export_rows`, exportPageSize)).Rows()
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	var row sql.RawBytes
	for rows.Next() {
		if err := rows.Scan(&row); err != nil {
			return n, err
		}
		n++
		if err := fn(row); err != nil {
			return n, err
		}
	}
	return n, rows.Err()
}

// Close ends the export's transaction (it wrote nothing).
func (e *Export) Close() {
	e.tx.Rollback()
}
