package domain

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Event types delivered on the live stream.
const (
	EventMessageCreated      = "message.created"
	EventMessageRead         = "message.read"
	EventGoalUpdated         = "goal.updated"
	EventGoalProposed        = "goal.proposed"
	EventReferralUpdated     = "referral.updated"
	EventConversationCreated = "conversation.created"
	// EventGoalHidden and EventConversationHidden tell someone that a record
	// they could see is gone for them (record_hidden.go).
	EventGoalHidden         = "goal.hidden"
	EventConversationHidden = "conversation.hidden"
	// EventAgendaDue tells the client, and those of their circle who may see
	// the item, that an agenda item came due (reminders.go).
	EventAgendaDue = "agenda.due"
)

// EventsChannel is the PostgreSQL NOTIFY channel; payloads carry only the event seq.
const EventsChannel = "waypoint_events"

// Event is something a client and their care team should hear about live.
type Event struct {
	Type      string
	ClientID  uuid.UUID
	SubjectID uuid.UUID
	Data      any
}

// EmitEvent writes ev to the outbox inside tx, addressed to the client and
// their current care team. The row has no position yet: after commit the
// positioner gives it one (outbox.go) and notifies listeners, so no event
// announces a change that did not happen, and no writer waits for another;
// a lost notification is recovered from the outbox. Store.tx wakes the
// positioner; code committing its own transaction calls WakePositioner. Event data is delivered to every recipient without an
// access-log entry, so it should carry ids and states, not the client's words.
func EmitEvent(tx *gorm.DB, ev Event) error {
	return emitEvent(tx, ev, clientRecipients(ev.ClientID))
}

// clientRecipients selects the people a client's event goes to by default:
// the client and their current care team.
func clientRecipients(clientID uuid.UUID) clause.Expr {
	return clause.Expr{SQL: `SELECT person_id FROM clients WHERE id = ?
			UNION SELECT p.id FROM people p WHERE ?`, Vars: []any{clientID, careTeamMember(clientID, column("p.id"))}}
}

// emitConversationEvent addresses ev to the participants of a conversation
// who may still see it: the client and workers still on the care team.
func emitConversationEvent(tx *gorm.DB, ev Event, conversationID uuid.UUID) error {
	return emitEvent(tx, ev, clause.Expr{SQL: `SELECT p.person_id FROM conversation_participants p
			WHERE p.client_id = ? AND p.conversation_id = ? AND ?`, Vars: []any{ev.ClientID, conversationID, activeParticipant()}})
}

// emitEvent writes ev addressed to the people recipients selects.
func emitEvent(tx *gorm.DB, ev Event, recipients clause.Expr) error {
	return emitKeyed(tx, ev, ev.ClientID, uuid.Nil, recipients)
}

// emitKeyed writes ev keyed by client (client-scoped events) or group
// (group events; uuid.Nil for none), addressed to recipients.
func emitKeyed(tx *gorm.DB, ev Event, client, group uuid.UUID, recipients clause.Expr) error {
	data, err := json.Marshal(ev.Data)
	if err != nil {
		return fmt.Errorf("encode %s event: %w", ev.Type, err)
	}
	var subject *uuid.UUID
	if ev.SubjectID != uuid.Nil {
		subject = &ev.SubjectID
	}
	err = tx.Exec(`INSERT INTO events (id, client_id, group_id, type, subject_id, recipients, data)
		VALUES (?, ?, ?, ?, ?, ARRAY(?), ?::jsonb)`, newID(), nilIfZero(client), nilIfZero(group), ev.Type, subject, recipients, string(data)).Error
	if err != nil {
		return fmt.Errorf("emit %s event: %w", ev.Type, err)
	}
	markEmitted(tx)
	return nil
}

// eventFrom is emitEvent for a WITH clause of a statement that does the
// work too: the INSERT of an event of type typ about subject for the row of
// src (none when src is empty), whose client is in column clientCol, with
// data (a jsonb expression, see jsonData), addressed to recipients. The
// caller marks the statement's tx as having emitted when it inserted one.
func eventFrom(typ string, subject uuid.UUID, src, clientCol string, data, recipients clause.Expr) clause.Expr {
	return clause.Expr{SQL: `INSERT INTO events (id, client_id, type, subject_id, recipients, data)
		SELECT ?::uuid, ` + clientCol + `, ?::text, ?::uuid, ARRAY(?), ? FROM ` + src,
		Vars: []any{newID(), typ, subject, recipients, data}}
}

// jsonData is v as a jsonb argument (event data known before the statement).
func jsonData(v any) (clause.Expr, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return clause.Expr{}, fmt.Errorf("encode event data: %w", err)
	}
	return clause.Expr{SQL: "?::jsonb", Vars: []any{string(b)}}, nil
}

// EventRecord is a committed event as delivered: Recipients holds only the
// people still entitled to it when it was read (the client, and workers
// still on the client's care team), so a worker who left the team no longer
// hears about the client.
type EventRecord struct {
	Seq  int64
	ID   uuid.UUID
	Type string
	// ClientID is uuid.Nil for an event keyed by its group alone.
	ClientID   uuid.UUID
	GroupID    *uuid.UUID
	SubjectID  *uuid.UUID
	Data       json.RawMessage
	CreatedAt  time.Time
	Recipients JSONValue[[]uuid.UUID]
	// RevokedApps lists the apps the event's client has revoked, as of the
	// read: a stream opened with one of their tokens skips the event.
	RevokedApps JSONValue[[]string]
	// RevokedBy lists, for an event keyed by its group, the apps each of its
	// recipients who is a client has revoked (by person id), as of the read.
	RevokedBy JSONValue[map[uuid.UUID][]string]
}

// DeliverableTo reports whether a stream of person's opened through app may
// carry the event: not when the event's client has revoked that app, nor,
// for a group's event, when person (a member) has.
func (e *EventRecord) DeliverableTo(app string, person uuid.UUID) bool {
	return app == "" || !slices.Contains(e.RevokedApps.V, app) && !slices.Contains(e.RevokedBy.V[person], app)
}

// eventSelect reads events with their recipients re-authorized at read time:
// for a group's events, whoever is a member or facilitator of the group now
// (groupPresent, the condition of Actor.GroupScope); else the client, and whoever is on the care team now and may still see what
// the event is about (eventSubjectShared); and the apps the client (for a
// group's event, each recipient who is a client) has revoked by then.
func eventSelect() clause.Expr {
	return clause.Expr{SQL: `SELECT e.seq, e.id, e.type, e.client_id, e.group_id, e.subject_id, e.data, e.created_at,
	to_jsonb(ARRAY(SELECT r FROM unnest(e.recipients) r WHERE CASE WHEN e.group_id IS NOT NULL THEN ?
		ELSE r = cl.person_id OR (? AND ?) END)) AS recipients,
	to_jsonb(ARRAY(SELECT ca.app_id FROM client_apps ca WHERE ca.client_id = e.client_id AND ca.revoked_at IS NOT NULL)) AS revoked_apps,
	CASE WHEN e.group_id IS NOT NULL THEN (SELECT jsonb_object_agg(rc.person_id, rc.apps) FROM (SELECT c2.person_id,
			array_agg(ca.app_id) AS apps FROM clients c2 JOIN client_apps ca ON ca.client_id = c2.id AND ca.revoked_at IS NOT NULL
			WHERE c2.person_id = ANY(e.recipients) GROUP BY c2.person_id) rc) END AS revoked_by
	FROM events e LEFT JOIN clients cl ON cl.id = e.client_id`,
		Vars: []any{groupPresent(column("e.group_id"), column("r")), careTeamMember(column("e.client_id"), column("r")), eventSubjectShared(column("r"))}}
}

// eventSubjectShared holds when person, someone other than the client, may
// still see what event e is about, as it is now: a goal's events follow the
// goal's current visibility and sensitivity (the conditions of GoalScope),
// a conversation's and its messages' the conversation's sensitivity and the
// client's consents (those of ConversationScope). So the moment a goal turns
// private or a consent is withdrawn, open streams stop carrying it, events
// written before included. goal.hidden and conversation.hidden say exactly
// that a record is gone, and were addressed to those who lost it.
func eventSubjectShared(person any) clause.Expr {
	return clause.Expr{SQL: `CASE WHEN e.type IN (?, ?) THEN TRUE
		WHEN e.type LIKE 'goal.%' OR (e.type = 'agenda.due' AND e.data ->> 'goal_id' IS NOT NULL) THEN EXISTS (SELECT 1 FROM goals g WHERE g.client_id = e.client_id AND g.id = e.subject_id AND ?)
		WHEN e.type LIKE 'conversation.%' OR e.type LIKE 'message.%' THEN EXISTS (SELECT 1 FROM conversations c
			WHERE c.client_id = e.client_id AND c.id = e.subject_id AND ?)
		ELSE TRUE END`, Vars: []any{EventGoalHidden, EventConversationHidden,
		sharedWith(column("g.client_id"), column("g.visibility"), column("g.sensitivity"), person),
		consented(column("c.client_id"), column("c.sensitivity"), person)}}
}

// EventsAfter returns up to limit positioned events with seq > after, in seq
// order. Positions become visible in increasing order (outbox.go), so a
// reader that continues from the last seq it saw misses nothing.
func (s *Store) EventsAfter(ctx context.Context, after int64, limit int) ([]EventRecord, error) {
	var out []EventRecord
	err := s.db.WithContext(ctx).Raw(`? WHERE e.seq > ? ORDER BY e.seq LIMIT ?`, eventSelect(), after, limit).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	return out, nil
}

// LastEventSeq is the highest event position (0 when none), once every
// event committed before the call is positioned: a stream that starts after
// it gets exactly the events committed after it started, not the tail of
// writes that committed just before but were not yet positioned.
func (s *Store) LastEventSeq(ctx context.Context) (int64, error) {
	if _, err := s.PositionEvents(ctx); err != nil {
		return 0, err
	}
	var seq int64
	if err := s.db.WithContext(ctx).Raw(`SELECT COALESCE(max(seq), 0) FROM events`).Scan(&seq).Error; err != nil {
		return 0, fmt.Errorf("read last event seq: %w", err)
	}
	return seq, nil
}

// Replay is what a reconnecting subscriber missed.
type Replay struct {
	Events []EventRecord
	// Resync is set when the gap is larger than the replay window (too old
	// or too many events): the subscriber should reload its state, and
	// continue from ResyncSeq.
	Resync    bool
	ResyncSeq int64
}

// ReplayEvents returns the actor's events after seq `after` (exclusive), if
// they all fit in the window: at most max events, none older than maxAge.
// Otherwise it asks for a resync from the current position; also when
// `after` is beyond the current position (say, after a database restore),
// since continuing from it would skip events.
func (s *Store) ReplayEvents(ctx context.Context, a Actor, after int64, maxAge time.Duration, max int) (Replay, error) {
	var r Replay
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var rows []EventRecord
		err := tx.Raw(`SELECT * FROM (? WHERE e.seq > ? AND e.recipients @> ARRAY[?::uuid]) x
			WHERE recipients @> to_jsonb(?::text) ORDER BY seq LIMIT ?`, eventSelect(), after, a.PersonID, a.PersonID.String(), max+1).Scan(&rows).Error
		if err != nil {
			return fmt.Errorf("replay events: %w", err)
		}
		// An event the actor was addressed but is no longer entitled to is
		// filtered above; any event at all older than the window means the
		// gap cannot be replayed in full.
		var tooOld bool
		err = tx.Raw(`SELECT EXISTS (SELECT 1 FROM events WHERE seq > ? AND created_at < now() - make_interval(secs => ?)
			AND recipients @> ARRAY[?::uuid])
			OR ? < (SELECT COALESCE(min(seq), 0) - 1 FROM events)`, after, maxAge.Seconds(), a.PersonID, after).Scan(&tooOld).Error
		if err != nil {
			return fmt.Errorf("check replay window: %w", err)
		}
		var current int64
		if err := tx.Raw(`SELECT COALESCE(max(seq), 0) FROM events`).Scan(&current).Error; err != nil {
			return fmt.Errorf("read last event seq: %w", err)
		}
		if len(rows) > max || tooOld || after > current {
			r.Resync, r.ResyncSeq = true, current
			return nil
		}
		r.Events = rows
		return nil
	})
	return r, err
}

// PruneOutbox deletes events older than keep and idempotency keys past their
// 24 hours (a claim still "running" by then belonged to a dead server), a
// bounded batch at a time; it reports how many rows went.
func (s *Store) PruneOutbox(ctx context.Context, keep time.Duration) (int64, error) {
	res := s.db.WithContext(ctx).Exec(`DELETE FROM events WHERE id IN (
		SELECT id FROM events WHERE created_at < now() - make_interval(secs => ?) LIMIT 5000)`, keep.Seconds())
	if res.Error != nil {
		return 0, fmt.Errorf("prune events: %w", res.Error)
	}
	n := res.RowsAffected
	res = s.db.WithContext(ctx).Exec(`DELETE FROM idempotency_keys WHERE (person_id, key) IN (
		SELECT person_id, key FROM idempotency_keys WHERE created_at < now() - interval '24 hours' LIMIT 5000)`)
	if res.Error != nil {
		return n, fmt.Errorf("prune idempotency keys: %w", res.Error)
	}
	return n + res.RowsAffected, nil
}
