package domain

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Conversation links the client with workers of their care team.
type Conversation struct {
	ID       uuid.UUID
	ClientID uuid.UUID
	Subject  string
	// LinkKind and LinkID are nil also when the link names a goal the actor
	// may not see (a private goal, or one labelled without their consent).
	LinkKind *string
	LinkID   *uuid.UUID
	// Sensitivity is a label such as sud, or nil: see ConversationScope.
	Sensitivity *string
	CreatedBy   uuid.UUID
	CreatedAt   time.Time
	// ActivityID orders conversations by newest activity (the last message's
	// id, or the conversation's own id before the first message).
	ActivityID   uuid.UUID
	Participants JSONValue[[]Participant]
	LastMessage  JSONValue[*Message]
	// UnreadCount counts others' messages after the actor's read marker.
	UnreadCount int64
}

// LastActivityAt is when the last message was sent, or the conversation started.
func (c Conversation) LastActivityAt() time.Time {
	if c.LastMessage.V != nil {
		return c.LastMessage.V.CreatedAt
	}
	return c.CreatedAt
}

// Participant is someone taking part in a conversation.
type Participant struct {
	PersonID    uuid.UUID  `json:"person_id"`
	DisplayName string     `json:"display_name"`
	Role        string     `json:"role"`
	ReadUpTo    *uuid.UUID `json:"read_up_to"`
	// Active is false for a worker who has left the client's care team: they
	// no longer see the conversation.
	Active bool `json:"active"`
}

// conversationVisible is the condition under which the actor sees
// conversation c: Actor.ConversationScope, the one definition.
func conversationVisible(a Actor) clause.Expr { return a.ConversationScope("c") }

// messageJSON renders message m (with who has read it) as one jsonb value.
const messageJSON = `jsonb_build_object('id', m.id, 'conversation_id', m.conversation_id, 'sender_id', m.sender_id,
	'body', m.body, 'created_at', m.created_at,
	'read_by', COALESCE((SELECT jsonb_agg(rp.person_id ORDER BY rp.read_at, rp.person_id) FROM conversation_participants rp
		WHERE rp.client_id = m.client_id AND rp.conversation_id = m.conversation_id
		AND rp.person_id <> m.sender_id AND rp.read_up_to >= m.id), '[]'::jsonb))`

// conversationSelect reads conversations from the actor's participant rows
// ("me"), each with participants, last message and unread count, in one
// statement: no query per conversation. Its arguments are the membership
// test for "active", the goal visibility a goal link must pass to be shown,
// and the actor's person id: see conversationsOf.
const conversationSelect = `SELECT c.id, c.client_id, c.subject, CASE WHEN lk.shown THEN c.link_kind END AS link_kind,
	CASE WHEN lk.shown THEN c.link_id END AS link_id, c.sensitivity, c.created_by, c.created_at, c.activity_id,
	(SELECT jsonb_agg(jsonb_build_object('person_id', p.person_id, 'display_name', pe.display_name, 'role', p.role,
			'read_up_to', p.read_up_to,
			'active', ?)
		ORDER BY p.role, p.joined_at, p.person_id)
		FROM conversation_participants p JOIN people pe ON pe.id = p.person_id
		WHERE p.client_id = c.client_id AND p.conversation_id = c.id) AS participants,
	(SELECT ` + messageJSON + ` FROM messages m
		WHERE m.client_id = c.client_id AND m.conversation_id = c.id AND m.id = c.last_message_id) AS last_message,
	(SELECT count(*) FROM messages um WHERE um.client_id = c.client_id AND um.conversation_id = c.id
		AND um.sender_id <> me.person_id AND (me.read_up_to IS NULL OR um.id > me.read_up_to)) AS unread_count
	FROM conversation_participants me
	JOIN conversations c ON c.client_id = me.client_id AND c.id = me.conversation_id
	CROSS JOIN LATERAL (SELECT c.link_kind IS DISTINCT FROM 'goal' OR EXISTS (SELECT 1 FROM goals lg
		WHERE lg.client_id = c.client_id AND lg.id = c.link_id AND ?) AS shown) lk
	WHERE me.person_id = ?`

// conversationsOf is conversationSelect for the actor, to be followed by
// further conditions ("? AND c.id = ?").
func conversationsOf(a Actor) clause.Expr {
	return clause.Expr{SQL: conversationSelect, Vars: []any{activeParticipant(), a.GoalScope("lg", ReachCare), a.PersonID}}
}

// activeParticipant holds for a participant p who still takes part: the
// client, or a worker still on the client's care team who, when the
// conversation carries a sensitivity label, has the client's consent for it.
func activeParticipant() clause.Expr {
	return clause.Expr{SQL: `(p.role = 'client' OR (? AND EXISTS (SELECT 1 FROM conversations ac
		WHERE ac.client_id = p.client_id AND ac.id = p.conversation_id AND ?)))`,
		Vars: []any{careTeamMember(column("p.client_id"), column("p.person_id")),
			consented(column("ac.client_id"), column("ac.sensitivity"), column("p.person_id"))}}
}

// NewConversation is what starting a conversation takes.
type NewConversation struct {
	// ClientID is required for workers; clients leave it empty (or give their own).
	ClientID *uuid.UUID
	// WorkerIDs are care-team members to include. A client who gives none
	// talks with the whole team; a worker is always included themself.
	WorkerIDs []uuid.UUID
	Subject   string
	LinkKind  string
	LinkID    *uuid.UUID
	// Sensitivity is "" or a label (only the client sets one).
	Sensitivity string
}

// CreateConversation starts a conversation between a client and workers on
// their care team. Clients start them with their own team; workers with a
// client on their caseload. All participants must be on the care team.
func (s *Store) CreateConversation(ctx context.Context, a Actor, in NewConversation) (Conversation, error) {
	subject := strings.TrimSpace(in.Subject)
	if err := plainText("subject", subject, 0, MaxConversationSubject); err != nil {
		return Conversation{}, err
	}
	var linkKind *string
	kinds := strings.Join(ConversationLinkKinds(), " or ")
	switch {
	case in.LinkKind == "":
		if in.LinkID != nil {
			return Conversation{}, Invalid("link.kind", "give the kind of the linked item: %s", kinds)
		}
	case slices.Contains(ConversationLinkKinds(), in.LinkKind):
		if in.LinkID == nil {
			return Conversation{}, Invalid("link.id", "give the id of the linked %s", in.LinkKind)
		}
		k := in.LinkKind
		linkKind = &k
	default:
		return Conversation{}, Invalid("link.kind", "must be %s", kinds)
	}

	label, err := optEnum("sensitivity", in.Sensitivity, SensitivityLabels())
	if err != nil {
		return Conversation{}, err
	}
	var conv Conversation
	err = s.tx(ctx, func(tx *gorm.DB) error {
		clientID, workers, allTeam, err := conversationParties(tx, a, in)
		if err != nil {
			return err
		}
		if label != nil && !a.IsClient(clientID) {
			return clientOnlyField("sensitivity")
		}
		if err := lockLink(tx, a, clientID, linkKind, in.LinkID); err != nil {
			return err
		}
		id := newID()
		res := tx.Exec(`WITH c AS (
				INSERT INTO conversations (client_id, id, subject, link_kind, link_id, sensitivity, created_by, activity_id)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING client_id, id)
			INSERT INTO conversation_participants (client_id, conversation_id, person_id, role)
			SELECT c.client_id, c.id, cl.person_id, 'client' FROM c JOIN clients cl ON cl.id = c.client_id
			UNION ALL
			SELECT c.client_id, c.id, p.id, 'worker' FROM c JOIN clients cl ON cl.id = c.client_id JOIN people p ON ?
				WHERE (? OR p.id = ANY(?::uuid[])) AND p.id <> cl.person_id`,
			clientID, id, subject, linkKind, in.LinkID, label, a.PersonID, id,
			careTeamMember(column("c.client_id"), column("p.id")), allTeam, uuidArray(workers))
		if res.Error != nil {
			return fmt.Errorf("create conversation: %w", res.Error)
		}
		if res.RowsAffected < 2 {
			return Invalid("worker_ids", "the client has no care team yet, so there is nobody to talk with")
		}
		if err := requireConsentedWorker(tx, clientID, id, label); err != nil {
			return err
		}
		if err := logAccess(tx, a, ActionWrite, ResourceConversation, []uuid.UUID{clientID}, []string{id.String()}); err != nil {
			return err
		}
		if err := emitConversationEvent(tx, Event{Type: EventConversationCreated, ClientID: clientID, SubjectID: id,
			Data: ConversationEventData{ConversationID: id, ClientID: clientID, CreatedBy: a.PersonID}}, id); err != nil {
			return err
		}
		r := tx.Raw(`? AND c.id = ? AND ?`, conversationsOf(a), id, conversationVisible(a)).Scan(&conv)
		if r.Error != nil {
			return fmt.Errorf("read conversation: %w", r.Error)
		}
		if r.RowsAffected == 0 {
			return fmt.Errorf("read conversation %s: not visible to its creator", id)
		}
		return nil
	})
	return conv, err
}

// conversationParties decides whom a new conversation is between: the
// client (the actor, or a client on the worker's caseload) and workers, every
// one of them on the client's care team. A client who names nobody talks
// with the whole team (allTeam); a worker always takes part themself.
func conversationParties(tx *gorm.DB, a Actor, in NewConversation) (clientID uuid.UUID, workers []uuid.UUID, allTeam bool, err error) {
	workers = in.WorkerIDs
	switch {
	case a.Is(RoleClient) && a.ClientID != uuid.Nil && (in.ClientID == nil || *in.ClientID == a.ClientID):
		// Through the scope all the same: the client may have revoked the token's app.
		if _, err := getClient(tx, a, a.ClientID, ReachCare, ResourceConversation); err != nil {
			return uuid.Nil, nil, false, err
		}
		clientID = a.ClientID
		allTeam = len(workers) == 0
	case a.Is(RoleWorker) && in.ClientID == nil:
		return uuid.Nil, nil, false, Invalid("client_id", "give the client this conversation is with")
	case a.Is(RoleWorker):
		// ReachCare: the client must be on the worker's caseload. A foreign
		// and a missing client read the same, so nothing leaks.
		if _, err := getClient(tx, a, *in.ClientID, ReachCare, ResourceConversation); err != nil {
			if IsKind(err, KindNotFound) {
				return uuid.Nil, nil, false, Invalid("client_id", "no client with this id is on your caseload")
			}
			return uuid.Nil, nil, false, err
		}
		clientID = *in.ClientID
		if !containsID(workers, a.PersonID) {
			workers = append([]uuid.UUID{a.PersonID}, workers...)
		}
	case in.ClientID != nil && a.Is(RoleClient):
		return uuid.Nil, nil, false, Invalid("client_id", "clients start conversations about themselves; leave client_id empty")
	default:
		return uuid.Nil, nil, false, Forbidden("only a client and the workers on their care team take part in conversations")
	}

	if len(in.WorkerIDs) > 0 {
		var missing []int
		err = tx.Raw(`SELECT t.i FROM unnest(?::uuid[]) WITH ORDINALITY AS t(id, i) WHERE NOT ? ORDER BY t.i`,
			uuidArray(in.WorkerIDs), careTeamMember(clientID, column("t.id"))).Scan(&missing).Error
		if err != nil {
			return uuid.Nil, nil, false, fmt.Errorf("check participants: %w", err)
		}
		if len(missing) > 0 {
			return uuid.Nil, nil, false, Invalid(fmt.Sprintf("worker_ids[%d]", missing[0]-1), "this person is not on the client's care team")
		}
	}
	return clientID, workers, allTeam, nil
}

// lockLink checks that a conversation's link names a record of its client
// that the actor sees (422 naming body.link.id otherwise) and not a goal
// entered in error (409), locking it until the conversation is written.
func lockLink(tx *gorm.DB, a Actor, clientID uuid.UUID, kind *string, id *uuid.UUID) error {
	switch {
	case kind == nil || id == nil:
		return nil
	case *kind == LinkGoal:
		return lockClientGoal(tx, a, clientID, *id, "link.id")
	default:
		return lockClientReferral(tx, clientID, *id, "link.id")
	}
}

// ConversationEventData is the data of conversation.created.
type ConversationEventData struct {
	ConversationID uuid.UUID `json:"conversation_id"`
	ClientID       uuid.UUID `json:"client_id"`
	CreatedBy      uuid.UUID `json:"created_by"`
}

// ListConversations lists the actor's conversations, newest activity first.
func (s *Store) ListConversations(ctx context.Context, a Actor, cursor string, limit int) ([]Conversation, string, error) {
	before, err := decodeCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	q := `? AND ?`
	all := []any{conversationsOf(a), conversationVisible(a)}
	if before != uuid.Nil {
		q += ` AND c.activity_id < ?`
		all = append(all, before)
	}
	q += ` ORDER BY c.activity_id DESC LIMIT ?`
	all = append(all, limit+1)
	var out []Conversation
	err = s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Raw(q, all...).Scan(&out).Error; err != nil {
			return fmt.Errorf("list conversations: %w", err)
		}
		clients := make([]uuid.UUID, 0, len(out))
		ids := make([]string, 0, len(out))
		for i, c := range out {
			if i < limit {
				clients = append(clients, c.ClientID)
				ids = append(ids, c.ID.String())
			}
		}
		return logAccess(tx, a, ActionRead, ResourceConversation, clients, ids)
	})
	if err != nil {
		return nil, "", err
	}
	out, next := page(out, limit, func(c Conversation) uuid.UUID { return c.ActivityID })
	return out, next, nil
}

func containsID(ids []uuid.UUID, id uuid.UUID) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// plainText checks a user-written text: length in characters within
// [min, max], and no control characters other than tab and line breaks.
func plainText(field, s string, min, max int) error {
	n := 0
	for _, r := range s {
		n++
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f {
			return Invalid(field, "must be plain text without control characters")
		}
	}
	if n < min || n > max {
		if min > 0 && n < min {
			return Invalid(field, "must not be empty")
		}
		return Invalid(field, "must be at most %d characters", max)
	}
	return nil
}
