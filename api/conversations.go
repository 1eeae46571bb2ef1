package api

import (
	"context"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/domain"
)

// ConversationLink points a conversation at a goal or referral.
type ConversationLink struct {
	Kind string    `json:"kind" rule:"conversation.link_kind" example:"goal" doc:"What the conversation is about"`
	ID   uuid.UUID `json:"id" doc:"The goal's or referral's id: one of the conversation client's own (not a goal entered in error)"`
}

// ConversationParticipant is someone taking part in a conversation.
type ConversationParticipant struct {
	PersonID    uuid.UUID  `json:"person_id"`
	DisplayName string     `json:"display_name" rule:"person.name" example:"Wanda Okafor"`
	Role        string     `json:"role" rule:"conversation.participant_role" example:"worker"`
	ReadUpTo    *uuid.UUID `json:"read_up_to,omitempty" doc:"The last message this participant has read; absent before they read any"`
	Active      bool       `json:"active" example:"true" doc:"False for a worker who has left the client's care team: they no longer see the conversation"`
}

// Message is one message in a conversation.
type Message struct {
	ID             uuid.UUID   `json:"id" doc:"UUIDv7: ids sort in the order messages were sent"`
	ConversationID uuid.UUID   `json:"conversation_id"`
	SenderID       uuid.UUID   `json:"sender_id" doc:"The person who sent it"`
	Body           string      `json:"body" rule:"message.body" example:"Can we move Thursday's appointment to the afternoon?" doc:"Plain text"`
	CreatedAt      time.Time   `json:"created_at"`
	ReadBy         []uuid.UUID `json:"read_by" rule:"message.read_by" doc:"Participants other than the sender who have read this message"`
}

func messageDTO(m domain.Message) Message {
	rb := m.ReadBy
	if rb == nil {
		rb = []uuid.UUID{}
	}
	return Message{ID: m.ID, ConversationID: m.ConversationID, SenderID: m.SenderID, Body: m.Body,
		CreatedAt: m.CreatedAt.UTC(), ReadBy: rb}
}

// Conversation is a conversation between a client and workers of their care team.
type Conversation struct {
	ID             uuid.UUID                 `json:"id"`
	ClientID       uuid.UUID                 `json:"client_id"`
	Subject        string                    `json:"subject" rule:"conversation.subject" example:"Housing application" doc:"Optional subject; empty when not set"`
	Link           *ConversationLink         `json:"link,omitempty" doc:"The goal or referral this conversation is about, if any (absent also when it is a goal the caller may not see)"`
	Sensitivity    *string                   `json:"sensitivity" rule:"sensitivity" example:"sud" doc:"null, or sud: only the client and the workers they consented to for sud see the conversation"`
	CreatedBy      uuid.UUID                 `json:"created_by"`
	CreatedAt      time.Time                 `json:"created_at"`
	LastActivityAt time.Time                 `json:"last_activity_at" doc:"When the last message was sent, or the conversation started"`
	Participants   []ConversationParticipant `json:"participants" rule:"conversation.participants" doc:"The client and the workers taking part"`
	LastMessage    *Message                  `json:"last_message,omitempty" doc:"The newest message; absent before the first"`
	UnreadCount    int64                     `json:"unread_count" rule:"count" example:"2" doc:"Messages from others after the caller's read marker"`
}

func conversationDTO(c domain.Conversation) Conversation {
	out := Conversation{ID: c.ID, ClientID: c.ClientID, Subject: c.Subject, Sensitivity: c.Sensitivity, CreatedBy: c.CreatedBy,
		CreatedAt: c.CreatedAt.UTC(), LastActivityAt: c.LastActivityAt().UTC(), UnreadCount: c.UnreadCount,
		Participants: make([]ConversationParticipant, 0, len(c.Participants.V))}
	if c.LinkKind != nil && c.LinkID != nil {
		out.Link = &ConversationLink{Kind: *c.LinkKind, ID: *c.LinkID}
	}
	for _, p := range c.Participants.V {
		out.Participants = append(out.Participants, ConversationParticipant{PersonID: p.PersonID, DisplayName: p.DisplayName,
			Role: p.Role, ReadUpTo: p.ReadUpTo, Active: p.Active})
	}
	if c.LastMessage.V != nil {
		m := messageDTO(*c.LastMessage.V)
		out.LastMessage = &m
	}
	return out
}

// NewConversation starts a conversation.
type NewConversation struct {
	ClientID    *uuid.UUID        `json:"client_id,omitempty" doc:"Workers: the client on your caseload. Clients: leave it out (or give your own id)"`
	WorkerIDs   []uuid.UUID       `json:"worker_ids,omitempty" rule:"conversation.worker_ids" uniqueItems:"true" doc:"Care-team members to include. A client who lists none talks with the whole care team; a worker is always included themself"`
	Subject     string            `json:"subject,omitempty" rule:"conversation.subject" example:"Housing application"`
	Link        *ConversationLink `json:"link,omitempty" doc:"A goal or referral this conversation is about"`
	Sensitivity *string           `json:"sensitivity,omitempty" rule:"sensitivity" nullable:"true" example:"sud" doc:"Only the client may label a conversation (403 for workers); at least one worker taking part must have the client's consent for the label (422 otherwise)"`
}

// ConversationPatch is a JSON Merge Patch of a conversation.
type ConversationPatch struct {
	Sensitivity *string `json:"sensitivity,omitempty" rule:"sensitivity" nullable:"true" example:"sud" doc:"The client's alone (403 for workers); null clears it"`
}

type patchConversationInput struct {
	ConversationID uuid.UUID `path:"conversationId" doc:"Conversation id"`
	RawBody        []byte
	Body           ConversationPatch `contentType:"application/merge-patch+json"`
}

type createConversationInput struct {
	Body NewConversation
}

type conversationOutput struct {
	Status       int
	Redisclosure string `header:"Waypoint-Redisclosure" doc:"The 42 CFR Part 2 redisclosure notice: present exactly when the response carries a record labelled sud"`
	Body         Conversation
}

func conversationOut(c domain.Conversation, status int) *conversationOutput {
	return &conversationOutput{Status: status, Redisclosure: redisclosure(c.Sensitivity), Body: conversationDTO(c)}
}

type listConversationsInput struct {
	PageParams
}

type conversationsOutput struct {
	Redisclosure string `header:"Waypoint-Redisclosure" doc:"The 42 CFR Part 2 redisclosure notice: present exactly when the response carries a record labelled sud"`
	Body         Page[Conversation]
}

// Inputs name their path field: Huma skips embedded structs of unexported types.
type listMessagesInput struct {
	ConversationID uuid.UUID `path:"conversationId" doc:"Conversation id"`
	PageParams
	Before string `query:"before" format:"uuid" doc:"Messages older than this message id (the newest of them). Without before or after: the newest messages"`
	After  string `query:"after" format:"uuid" doc:"Messages newer than this message id (the oldest of them): use it to catch up"`
}

type messagesOutput struct {
	Redisclosure string `header:"Waypoint-Redisclosure" doc:"The 42 CFR Part 2 redisclosure notice: present exactly when the response carries a record labelled sud"`
	Body         Page[Message]
}

// NewMessage is a message to send.
type NewMessage struct {
	Body string `json:"body" rule:"message.body" example:"Can we move Thursday's appointment to the afternoon?" doc:"Plain text, 1-4000 characters"`
}

type postMessageInput struct {
	ConversationID uuid.UUID `path:"conversationId" doc:"Conversation id"`
	Body           NewMessage
}

type messageOutput struct {
	Status       int
	Redisclosure string `header:"Waypoint-Redisclosure" doc:"The 42 CFR Part 2 redisclosure notice: present exactly when the response carries a record labelled sud"`
	Body         Message
}

// ReadMarker moves the caller's read marker.
type ReadMarker struct {
	UpTo uuid.UUID `json:"up_to" doc:"The newest message the caller has read"`
}

type markReadInput struct {
	ConversationID uuid.UUID `path:"conversationId" doc:"Conversation id"`
	Body           ReadMarker
}

// ReadState is the caller's read marker in a conversation.
type ReadState struct {
	ConversationID uuid.UUID  `json:"conversation_id"`
	ReadUpTo       *uuid.UUID `json:"read_up_to,omitempty" doc:"The caller's read marker after this call; it never moves backwards, so it may be later than up_to"`
	UnreadCount    int64      `json:"unread_count" rule:"count" example:"0" doc:"Messages from others after the marker"`
}

type readStateOutput struct {
	Body ReadState
}

func parseMessageID(field, s string) (*uuid.UUID, error) {
	if s == "" {
		return nil, nil
	}
	id, err := uuid.Parse(s)
	if err != nil {
		return nil, invalidInput(field, "must be a message id (UUID)")
	}
	return &id, nil
}

func (s *Server) registerConversations() {
	handle(s.api, op(http.MethodGet, "/v1/conversations", "listConversations", "Messages", "List my conversations",
		"The caller's conversations, newest activity first, each with its participants, last message and the caller's unread count. "+
			"Workers see only conversations of clients still on their caseload; administrators take part in none. "+
			"The order follows activity, so a conversation that gets a new message while you page moves to the top "+
			"and is not on later pages: on message.created, reload from the first page.",
		"messages:read", http.StatusUnprocessableEntity),
		func(ctx context.Context, in *listConversationsInput) (*conversationsOutput, error) {
			cs, next, err := s.store.ListConversations(ctx, actorFrom(ctx), in.Cursor, in.Limit)
			if err != nil {
				return nil, err
			}
			return &conversationsOutput{Redisclosure: redisclosureOf(cs, func(c domain.Conversation) *string { return c.Sensitivity }),
				Body: newPage(cs, next, conversationDTO)}, nil
		})

	create := Idempotent(op(http.MethodPost, "/v1/conversations", "createConversation", "Messages", "Start a conversation",
		"A client starts a conversation with their care team (all of it, or the members listed in worker_ids); a worker starts one "+
			"with a client on their caseload (client_id), joined by any other care-team members listed. Everyone listed must be on the "+
			"client's care team (422 naming the entry otherwise). A link must name a goal or referral of the same client (422 naming "+
			"body.link.id otherwise); a goal entered in error is frozen and cannot be linked (409). "+
			"Only the client may label it sensitive (sensitivity sud; 403 for workers): then only the client and the workers "+
			"taking part whom the client consented to for sud see it, and at least one of them must have that consent (422). "+
			"Participants receive conversation.created. Administrators cannot take part (403). "+
			"A replay (same Idempotency-Key) by someone no longer taking part is 404.",
		"messages:write", http.StatusNotFound, http.StatusUnprocessableEntity), s.replayForConversation("", domain.ResourceConversation))
	create.DefaultStatus = http.StatusCreated
	handle(s.api, create,
		func(ctx context.Context, in *createConversationInput) (*conversationOutput, error) {
			nc := domain.NewConversation{ClientID: in.Body.ClientID, WorkerIDs: in.Body.WorkerIDs, Subject: in.Body.Subject}
			if in.Body.Sensitivity != nil {
				nc.Sensitivity = *in.Body.Sensitivity
			}
			if in.Body.Link != nil {
				nc.LinkKind, nc.LinkID = in.Body.Link.Kind, &in.Body.Link.ID
			}
			c, err := s.store.CreateConversation(ctx, actorFrom(ctx), nc)
			if err != nil {
				return nil, err
			}
			return conversationOut(c, http.StatusCreated), nil
		})

	handle(s.api, op(http.MethodPatch, "/v1/conversations/{conversationId}", "patchConversation", "Messages", "Change a conversation",
		"JSON Merge Patch of a conversation: its sensitivity. Only the client may set or clear it (403 for the workers taking "+
			"part, 404 for anyone else). Labelling it sud hides it at once from the workers without the client's consent for sud "+
			"(they get conversation.hidden); clearing the label shows it to the whole conversation again. Conversations carry no "+
			"version, so no If-Match is needed: the last change wins. A patch without members returns the conversation.",
		"messages:write", http.StatusNotFound, http.StatusUnprocessableEntity, tooLarge, badType),
		func(ctx context.Context, in *patchConversationInput) (*conversationOutput, error) {
			k := parseMergeKeys(in.RawBody)
			c, err := s.store.UpdateConversation(ctx, actorFrom(ctx), in.ConversationID,
				domain.ConversationPatch{Sensitivity: patchValue(k, "sensitivity", in.Body.Sensitivity)})
			if err != nil {
				return nil, err
			}
			return conversationOut(c, http.StatusOK), nil
		})

	s.registerMessages()
}

// registerMessages wires the operations on a conversation's messages.
func (s *Server) registerMessages() {
	handle(s.api, op(http.MethodGet, "/v1/conversations/{conversationId}/messages", "listMessages", "Messages", "List messages",
		"Messages of a conversation the caller takes part in, always oldest first within a page. Without before or after: the newest "+
			"messages, and next_cursor pages to older ones. With after: the messages following that one, and next_cursor continues forward; "+
			"paging forward never skips or repeats a message while new ones arrive. Each message lists who has read it. "+
			"404 when the caller does not take part, or is a worker no longer on the client's care team.",
		"messages:read", http.StatusNotFound, http.StatusUnprocessableEntity),
		func(ctx context.Context, in *listMessagesInput) (*messagesOutput, error) {
			before, err := parseMessageID("query.before", in.Before)
			if err != nil {
				return nil, err
			}
			after, err := parseMessageID("query.after", in.After)
			if err != nil {
				return nil, err
			}
			ms, next, err := s.store.ListMessages(ctx, actorFrom(ctx), in.ConversationID,
				domain.MessageQuery{Cursor: in.Cursor, Limit: in.Limit, Before: before, After: after})
			if err != nil {
				return nil, err
			}
			return &messagesOutput{Redisclosure: redisclosureOf(ms, func(m domain.Message) *string { return m.Sensitivity }),
				Body: newPage(ms, next, messageDTO)}, nil
		})

	post := Idempotent(op(http.MethodPost, "/v1/conversations/{conversationId}/messages", "postMessage", "Messages", "Send a message",
		"Sends a plain-text message (1-4000 characters). Send an Idempotency-Key when the request may be retried (phones on bad "+
			"connections should always send one): a retry with the same key and body replays the first 201 byte for byte, so the "+
			"message appears once. Participants receive message.created. The sender's read marker moves to their own message.",
		"messages:write", http.StatusNotFound, http.StatusUnprocessableEntity), s.replayForConversation("conversationId", domain.ResourceMessage))
	// Its work is Store.PostMessage alone, which claims the key and keeps
	// the response in the statement that writes the message.
	post = KeptByWork(post)
	post.DefaultStatus = http.StatusCreated
	handle(s.api, post,
		func(ctx context.Context, in *postMessageInput) (*messageOutput, error) {
			m, saved, err := s.store.PostMessage(ctx, actorFrom(ctx), in.ConversationID, in.Body.Body,
				keepFor(ctx, http.StatusCreated, func(m domain.Message) (http.Header, any) {
					h := http.Header{}
					if r := redisclosure(m.Sensitivity); r != "" {
						h.Set("Waypoint-Redisclosure", r)
					}
					return h, messageDTO(m)
				}))
			if err != nil {
				return nil, err
			}
			if saved != nil {
				replayKept(ctx, saved)
				return nil, nil
			}
			return &messageOutput{Status: http.StatusCreated, Redisclosure: redisclosure(m.Sensitivity), Body: messageDTO(m)}, nil
		})

	handle(s.api, op(http.MethodPost, "/v1/conversations/{conversationId}/read", "markConversationRead", "Messages", "Mark messages read",
		"Moves the caller's read marker to up_to, a message of this conversation (422 otherwise). The marker never moves backwards: "+
			"an older up_to leaves it where it is, so retries and out-of-order calls are safe. When it moves, participants receive message.read.",
		"messages:write", http.StatusNotFound, http.StatusUnprocessableEntity),
		func(ctx context.Context, in *markReadInput) (*readStateOutput, error) {
			st, err := s.store.MarkRead(ctx, actorFrom(ctx), in.ConversationID, in.Body.UpTo)
			if err != nil {
				return nil, err
			}
			return &readStateOutput{Body: ReadState{ConversationID: in.ConversationID, ReadUpTo: st.ReadUpTo, UnreadCount: st.UnreadCount}}, nil
		})
}
