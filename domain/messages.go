package domain

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Message is one message in a conversation.
type Message struct {
	ID             uuid.UUID `json:"id"`
	ConversationID uuid.UUID `json:"conversation_id"`
	SenderID       uuid.UUID `json:"sender_id"`
	Body           string    `json:"body"`
	CreatedAt      time.Time `json:"created_at"`
	// ReadBy lists the participants other than the sender whose read marker
	// is at or past this message.
	ReadBy []uuid.UUID `json:"read_by"`
	// Sensitivity is the conversation's label (responses with a labelled
	// message carry the redisclosure notice); not part of the message JSON.
	Sensitivity *string `json:"-"`
}

// MessageEventData is the data of message.created. It carries no text:
// events reach every participant without an access-log entry, so the body is
// read through the API, where each read is logged.
type MessageEventData struct {
	ConversationID uuid.UUID `json:"conversation_id"`
	MessageID      uuid.UUID `json:"message_id"`
	SenderID       uuid.UUID `json:"sender_id"`
	CreatedAt      time.Time `json:"created_at"`
}

// ReadEventData is the data of message.read.
type ReadEventData struct {
	ConversationID uuid.UUID `json:"conversation_id"`
	PersonID       uuid.UUID `json:"person_id"`
	UpTo           uuid.UUID `json:"up_to"`
	ReadAt         time.Time `json:"read_at"`
}

// convRef is what work on a conversation's messages needs of it.
type convRef struct {
	ClientID      uuid.UUID
	LastMessageID *uuid.UUID
	Sensitivity   *string
}

// lockConversation finds a conversation the actor may see and, with lock,
// holds its row until the transaction ends, so messages of one conversation
// are written one at a time.
func lockConversation(tx *gorm.DB, a Actor, id uuid.UUID, lock bool) (convRef, error) {
	q := `SELECT c.client_id, c.last_message_id, c.sensitivity FROM conversations c WHERE c.id = ? AND ?`
	if lock {
		q += ` FOR UPDATE OF c`
	}
	var row convRef
	res := tx.Raw(q, id, conversationVisible(a)).Scan(&row)
	if res.Error != nil {
		return convRef{}, fmt.Errorf("find conversation: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return convRef{}, missing(a, conversationTarget(id))
	}
	return row, nil
}

// PostMessage adds a message to a conversation the actor takes part in.
// With keep (a request under an Idempotency-Key), the same statement
// claims the key and keeps the response keep renders for the message, so
// the claim, the message and the kept response commit together or not at
// all; a key already used is not run again: its kept response is returned
// as replay (the caller re-authorizes it before answering with it), or a
// 422 (another request) or 409 (still running elsewhere).
//
// One statement, one round trip: the conversation locked within the
// actor's reach, and only while its last message is older than the new
// id, the claim, the message, the conversation's last message, the
// sender's read marker, the access log, the app's use and the
// message.created event. The id (a UUIDv7, rendered into the kept
// response before the statement runs) must sort after the conversation's
// last message, so ids grow in commit order; when it does not (another
// post overtook it, or a clock behind), the statement writes nothing and
// runs again in a transaction that locks the conversation before choosing
// the id.
func (s *Store) PostMessage(ctx context.Context, a Actor, conversationID uuid.UUID, body string, keep *Keep[Message]) (m Message, replay *SavedOutcome, err error) {
	if strings.TrimSpace(body) == "" {
		return Message{}, nil, Invalid("body", "must not be empty")
	}
	if err := plainText("body", body, 1, MaxMessageLength); err != nil {
		return Message{}, nil, err
	}
	id := newID()
	m, last, err := s.postMessageOnce(ctx, s.db, a, conversationID, id, body, keep)
	if err == nil && m.ID == uuid.Nil && last != nil && bytes.Compare(last[:], id[:]) >= 0 {
		// Another post to the conversation took a later id first. Hold the
		// conversation's lock, then choose the id: nothing can overtake it
		// now (a loop of tries could lose again and again).
		err = s.tx(ctx, func(tx *gorm.DB) error {
			var locked struct{ Last *uuid.UUID }
			if err := tx.Raw(`SELECT last_message_id AS last FROM conversations WHERE id = ? FOR UPDATE`, conversationID).
				Scan(&locked).Error; err != nil {
				return fmt.Errorf("lock conversation: %w", err)
			}
			id = nextMessageID(locked.Last)
			m, last, err = s.postMessageOnce(ctx, tx, a, conversationID, id, body, keep)
			return err
		})
		if err == nil && m.ID == uuid.Nil && last != nil && bytes.Compare(last[:], id[:]) >= 0 {
			return Message{}, nil, fmt.Errorf("post message: id %s not after %s under the conversation's lock", id, last)
		}
	}
	switch {
	case err != nil:
		return Message{}, nil, s.settleMiss(ctx, err)
	case m.ID != uuid.Nil:
		s.WakePositioner() // committed with its message.created event
		return m, nil, nil
	}
	// Nothing written, and the id was free: the key is already used (only a
	// claim can keep the statement from writing then).
	if keep == nil {
		return Message{}, nil, errors.New("post message: nothing written without a key")
	}
	replay, err = s.usedKey(ctx, a.PersonID, keep.Key, keep.Hash)
	return Message{}, replay, err
}

// renderMessage is the response keep renders for m, in the two forms the
// statement chooses from by the conversation's label (which it reads):
// unlabelled, and labelled sud (with the redisclosure notice). Only the
// headers may differ.
func renderMessage(keep *Keep[Message], m Message) (plain, sud SavedOutcome, err error) {
	if plain, err = keep.Render(m); err != nil {
		return SavedOutcome{}, SavedOutcome{}, fmt.Errorf("render the kept response: %w", err)
	}
	m.Sensitivity = ptrTo(SensitivitySUD)
	if sud, err = keep.Render(m); err != nil {
		return SavedOutcome{}, SavedOutcome{}, fmt.Errorf("render the kept response: %w", err)
	}
	if plain.Code != sud.Code || !bytes.Equal(plain.Body, sud.Body) {
		return SavedOutcome{}, SavedOutcome{}, errors.New("render the kept response: a label may change its headers only")
	}
	return plain, sud, nil
}

// postMessageOnce runs PostMessage's statement once for message id. It
// returns the message written; or, writing nothing, the conversation's last
// message (an id at or after id means: run again with a later one), with
// m.ID zero; or the miss of a conversation out of reach.
func (s *Store) postMessageOnce(ctx context.Context, db *gorm.DB, a Actor, conversationID, id uuid.UUID, body string, keep *Keep[Message]) (m Message, last *uuid.UUID, err error) {
	now := uuidTime(id)
	m = Message{ID: id, ConversationID: conversationID, SenderID: a.PersonID, Body: body, CreatedAt: now, ReadBy: []uuid.UUID{}}
	args := map[string]any{"conv": conversationID, "id": id, "sender": a.PersonID, "body": body, "at": now,
		"visible": conversationVisible(a), "key": "", "hash": []byte(nil), "code": 0, "resp": []byte(nil), "meta": nil, "meta_sud": nil}
	if keep != nil {
		plain, sud, err := renderMessage(keep, m)
		if err != nil {
			return Message{}, nil, err
		}
		args["key"], args["hash"], args["code"], args["resp"], args["meta"], args["meta_sud"] =
			keep.Key, keep.Hash, plain.Code, plain.Body, metaArg(plain.Meta), metaArg(sud.Meta)
	}
	data, err := jsonData(MessageEventData{ConversationID: conversationID, MessageID: id, SenderID: a.PersonID, CreatedAt: now})
	if err != nil {
		return Message{}, nil, err
	}
	// A message is named by its conversation's subject.
	args["logged"] = logAccessFrom(a, ActionWrite, ResourceMessage, "m", "m.client_id", "m.id", "m.subject")
	args["used"] = appUse(a, "m.client_id", "m")
	args["event"] = eventFrom(EventMessageCreated, conversationID, "m", "m.client_id", data, clause.Expr{SQL: `SELECT p.person_id
		FROM conversation_participants p WHERE p.client_id = m.client_id AND p.conversation_id = m.conversation_id AND ?`,
		Vars: []any{activeParticipant()}})
	var rows []struct {
		Found       bool
		Last        *uuid.UUID
		Inserted    bool
		Sensitivity *string
	}
	if err := db.WithContext(ctx).Raw(postMessageSQL, args).Scan(&rows).Error; err != nil {
		return Message{}, nil, fmt.Errorf("post message: %w", err)
	}
	switch {
	case len(rows) != 1 || !rows[0].Found:
		return Message{}, nil, missing(a, conversationTarget(conversationID))
	case !rows[0].Inserted:
		return Message{}, rows[0].Last, nil
	}
	m.Sensitivity = rows[0].Sensitivity
	return m, nil, nil
}

// postMessageSQL is PostMessage's statement. With a key (@key not empty)
// the claim is taken as the product's other claims are (a new key, an
// expired one, or a running claim of the same request whose server died),
// but done at once with the kept response (@code, @resp, and the headers
// @meta, or @meta_sud for a conversation labelled sud); the message is
// written only if the claim was taken, and is tagged with the claim's
// token (claimToken). The sender has read their own message.
const postMessageSQL = `WITH conv AS (SELECT c.client_id, c.last_message_id, c.sensitivity, c.subject FROM conversations c
		WHERE c.id = @conv AND @visible FOR UPDATE OF c),
	ok AS (SELECT conv.* FROM conv WHERE conv.last_message_id IS NULL OR conv.last_message_id < @id),
	claim AS (INSERT INTO idempotency_keys (person_id, key, request_hash, state, status, headers, body, locked_until)
		SELECT @sender, @key, @hash, 'done', @code, CASE WHEN ok.sensitivity = 'sud' THEN CAST(@meta_sud AS jsonb) ELSE CAST(@meta AS jsonb) END,
			@resp, now()
		FROM ok WHERE @key <> ''
		ON CONFLICT (person_id, key) DO UPDATE
			SET request_hash = EXCLUDED.request_hash, state = 'done', status = EXCLUDED.status, headers = EXCLUDED.headers,
				body = EXCLUDED.body, locked_until = EXCLUDED.locked_until, ` + claimTakeover + `),
	m AS (INSERT INTO messages (client_id, conversation_id, id, sender_id, body, idempotency_token, created_at)
		SELECT ok.client_id, @conv, @id, @sender, @body,
			(SELECT @key || '@' || (extract(epoch FROM claim.created_at) * 1000000)::bigint FROM claim), @at
		FROM ok WHERE @key = '' OR EXISTS (SELECT 1 FROM claim)
		RETURNING client_id, conversation_id, id, COALESCE((SELECT subject FROM conv), '') AS subject),
	cu AS (UPDATE conversations c SET last_message_id = m.id, activity_id = m.id FROM m
		WHERE c.client_id = m.client_id AND c.id = m.conversation_id),
	ru AS (UPDATE conversation_participants p SET read_up_to = m.id, read_at = @at FROM m
		WHERE p.client_id = m.client_id AND p.conversation_id = m.conversation_id AND p.person_id = @sender
		AND (p.read_up_to IS NULL OR p.read_up_to < m.id)),
	logged AS (@logged), used AS (@used), ev AS (@event)
	SELECT EXISTS (SELECT 1 FROM conv) AS found, (SELECT last_message_id FROM conv) AS last,
		EXISTS (SELECT 1 FROM m) AS inserted, (SELECT sensitivity FROM conv) AS sensitivity`

// nextMessageID returns a new UUIDv7 greater than last. The caller holds the
// conversation's row lock, so ids grow in commit order even when replicas'
// clocks disagree: a clock behind the last message continues from it.
func nextMessageID(last *uuid.UUID) uuid.UUID {
	id := newID()
	if last == nil || bytes.Compare(id[:], last[:]) > 0 {
		return id
	}
	return successorV7(*last)
}

// successorV7 is the next UUIDv7 after u: the 74 bits of rand_a and rand_b
// count up as one number, carrying into the millisecond timestamp.
func successorV7(u uuid.UUID) uuid.UUID {
	ts := binary.BigEndian.Uint64(u[0:8]) >> 16
	a := binary.BigEndian.Uint16(u[6:8]) & 0x0fff
	b := binary.BigEndian.Uint64(u[8:16]) & (1<<62 - 1)
	b++
	if b == 1<<62 {
		b = 0
		a++
		if a == 1<<12 {
			a = 0
			ts++
		}
	}
	var out uuid.UUID
	binary.BigEndian.PutUint64(out[0:8], ts<<16|0x7000|uint64(a))
	binary.BigEndian.PutUint64(out[8:16], 0x8000000000000000|b)
	return out
}

// uuidTime is the millisecond timestamp of a UUIDv7.
func uuidTime(u uuid.UUID) time.Time {
	return time.UnixMilli(int64(binary.BigEndian.Uint64(u[0:8]) >> 16)).UTC()
}

// messageRow scans one messageJSON column (GORM needs a struct around it).
type messageRow struct {
	M JSONValue[Message]
}

// MessageQuery selects a page of messages. Pages are always in id order
// (oldest first). With After the page follows that message; with Before it
// is the newest messages older than it; with neither, the newest messages.
// NextCursor continues in the same direction.
type MessageQuery struct {
	Cursor string
	Limit  int
	Before *uuid.UUID
	After  *uuid.UUID
}

// Message cursors carry the direction and the id to continue from.
const (
	cursorForward  = 'a'
	cursorBackward = 'b'
)

func encodeMessageCursor(dir byte, id uuid.UUID) string {
	return base64.RawURLEncoding.EncodeToString(append([]byte{dir}, id[:]...))
}

func decodeMessageCursor(c string) (dir byte, id uuid.UUID, err error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) != 17 || (b[0] != cursorForward && b[0] != cursorBackward) {
		return 0, uuid.Nil, InvalidIn(SourceSelection, "cursor", "cursor is not one this API returned")
	}
	return b[0], uuid.UUID(b[1:]), nil
}

// ListMessages returns a page of a conversation's messages. Because ids are
// assigned in commit order, paging forward with after= never skips or repeats
// a message while new ones arrive.
func (s *Store) ListMessages(ctx context.Context, a Actor, conversationID uuid.UUID, q MessageQuery) ([]Message, string, error) {
	dir, from := byte(cursorBackward), uuid.Nil
	switch {
	case q.Cursor != "" && (q.Before != nil || q.After != nil):
		return nil, "", InvalidIn(SourceSelection, "cursor", "a cursor already says where to continue; do not combine it with before or after")
	case q.Before != nil && q.After != nil:
		return nil, "", InvalidIn(SourceSelection, "after", "give before or after, not both")
	case q.Cursor != "":
		var err error
		if dir, from, err = decodeMessageCursor(q.Cursor); err != nil {
			return nil, "", err
		}
	case q.After != nil:
		dir, from = cursorForward, *q.After
	case q.Before != nil:
		from = *q.Before
	}
	var rows []messageRow
	var label *string
	err := s.tx(ctx, func(tx *gorm.DB) error {
		conv, err := lockConversation(tx, a, conversationID, false)
		if err != nil {
			return err
		}
		clientID := conv.ClientID
		label = conv.Sensitivity
		sql := `SELECT ` + messageJSON + ` AS m FROM messages m WHERE m.client_id = ? AND m.conversation_id = ?`
		args := []any{clientID, conversationID}
		if dir == cursorForward {
			sql += ` AND m.id > ? ORDER BY m.id LIMIT ?`
			args = append(args, from, q.Limit+1)
		} else {
			if from != uuid.Nil {
				sql += ` AND m.id < ?`
				args = append(args, from)
			}
			sql += ` ORDER BY m.id DESC LIMIT ?`
			args = append(args, q.Limit+1)
		}
		if err := tx.Raw(sql, args...).Scan(&rows).Error; err != nil {
			return fmt.Errorf("list messages: %w", err)
		}
		return logAccess(tx, a, ActionRead, ResourceConversation, []uuid.UUID{clientID}, []string{conversationID.String()})
	})
	if err != nil {
		return nil, "", err
	}
	out := make([]Message, 0, len(rows))
	for _, r := range rows {
		m := r.M.V
		m.Sensitivity = label
		out = append(out, m)
	}
	next := ""
	if len(out) > q.Limit {
		out = out[:q.Limit]
		next = encodeMessageCursor(dir, out[len(out)-1].ID)
	}
	if dir == cursorBackward {
		slices.Reverse(out)
	}
	return out, next, nil
}

// ReadState is the actor's read marker in a conversation.
type ReadState struct {
	ConversationID uuid.UUID
	ReadUpTo       *uuid.UUID
	UnreadCount    int64
	// Moved reports whether this call advanced the marker.
	Moved bool
}

// MarkRead moves the actor's read marker to upTo, a message of the
// conversation. The marker never moves backwards: the update is conditional
// on the current marker being older, so concurrent calls cannot undo each other.
func (s *Store) MarkRead(ctx context.Context, a Actor, conversationID, upTo uuid.UUID) (ReadState, error) {
	st := ReadState{ConversationID: conversationID}
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var row struct {
			ClientID     *uuid.UUID
			MessageFound bool
			MovedTo      *uuid.UUID
			ReadAt       *time.Time
		}
		err := tx.Raw(`WITH conv AS (
				SELECT c.client_id, c.id FROM conversations c WHERE c.id = ? AND ?),
			msg AS (
				SELECT m.id FROM messages m JOIN conv ON m.client_id = conv.client_id AND m.conversation_id = conv.id
				WHERE m.id = ?),
			upd AS (
				UPDATE conversation_participants p SET read_up_to = msg.id, read_at = clock_timestamp()
				FROM conv, msg
				WHERE p.client_id = conv.client_id AND p.conversation_id = conv.id AND p.person_id = ?
				AND (p.read_up_to IS NULL OR p.read_up_to < msg.id)
				RETURNING p.read_up_to, p.read_at)
			SELECT (SELECT client_id FROM conv) AS client_id, EXISTS (SELECT 1 FROM msg) AS message_found,
				(SELECT read_up_to FROM upd) AS moved_to, (SELECT read_at FROM upd) AS read_at`,
			conversationID, conversationVisible(a), upTo, a.PersonID).Scan(&row).Error
		if err != nil {
			return fmt.Errorf("move read marker: %w", err)
		}
		if row.ClientID == nil {
			return missing(a, conversationTarget(conversationID))
		}
		if !row.MessageFound {
			return Invalid("up_to", "no message with this id in this conversation")
		}
		err = tx.Raw(`SELECT me.read_up_to, (SELECT count(*) FROM messages um WHERE um.client_id = me.client_id
				AND um.conversation_id = me.conversation_id AND um.sender_id <> me.person_id
				AND (me.read_up_to IS NULL OR um.id > me.read_up_to)) AS unread_count
			FROM conversation_participants me WHERE me.client_id = ? AND me.conversation_id = ? AND me.person_id = ?`,
			*row.ClientID, conversationID, a.PersonID).Scan(&st).Error
		if err != nil {
			return fmt.Errorf("read marker: %w", err)
		}
		if row.MovedTo == nil {
			return nil
		}
		st.Moved = true
		if err := logAccess(tx, a, ActionWrite, ResourceReadMarker, []uuid.UUID{*row.ClientID}, []string{conversationID.String()}); err != nil {
			return err
		}
		return emitConversationEvent(tx, Event{Type: EventMessageRead, ClientID: *row.ClientID, SubjectID: conversationID,
			Data: ReadEventData{ConversationID: conversationID, PersonID: a.PersonID, UpTo: *row.MovedTo, ReadAt: row.ReadAt.UTC()}}, conversationID)
	})
	return st, err
}
