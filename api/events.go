package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/waypoint-portal/waypoint/auth"
	"github.com/waypoint-portal/waypoint/domain"
	"github.com/waypoint-portal/waypoint/domain/live"
)

// EventsConfig tunes the live event stream; zero values take the defaults.
type EventsConfig struct {
	// Heartbeat is the interval of keep-alive comments (default 20 s).
	Heartbeat time.Duration
	// WriteTimeout bounds one write to a stream; a client that does not
	// take its data within it is disconnected (default 10 s).
	WriteTimeout time.Duration
	// ReplayWindow and ReplayMax bound what a reconnect with Last-Event-ID
	// replays (defaults 24 h, 1000 events); beyond them the stream asks the
	// client to resync.
	ReplayWindow time.Duration
	ReplayMax    int
	// Retry is the reconnect delay suggested to clients (default 2 s).
	Retry time.Duration
}

func (c *EventsConfig) defaults() {
	if c.Heartbeat <= 0 {
		c.Heartbeat = 20 * time.Second
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.ReplayWindow <= 0 {
		c.ReplayWindow = 24 * time.Hour
	}
	if c.ReplayMax <= 0 {
		c.ReplayMax = 1000
	}
	if c.Retry <= 0 {
		c.Retry = 2 * time.Second
	}
}

// liveEvent is the data: line of each event on the stream.
type liveEvent struct {
	ID        uuid.UUID       `json:"id"`
	Seq       int64           `json:"seq"`
	Type      string          `json:"type"`
	ClientID  *uuid.UUID      `json:"client_id,omitempty"`
	GroupID   *uuid.UUID      `json:"group_id,omitempty"`
	SubjectID *uuid.UUID      `json:"subject_id,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
	Data      json.RawMessage `json:"data"`
}

// The types below only document the stream in the OpenAPI document.

// EventEnvelope is what every event's data carries besides its own data.
// (Exported: Huma documents embedded structs only when their type is exported.)
type EventEnvelope struct {
	ID        uuid.UUID  `json:"id" doc:"Event id; the same on every delivery and replay"`
	Seq       int64      `json:"seq" rule:"event.seq" example:"1234" doc:"Position in the event log, also the SSE id: send it back as Last-Event-ID"`
	ClientID  *uuid.UUID `json:"client_id,omitempty" doc:"The client the event concerns: every event but a group's (keyed by group_id) carries it"`
	GroupID   *uuid.UUID `json:"group_id,omitempty" doc:"The group a group event concerns (group.member.*, group.post.*, group.goal.progress, group.session.scheduled)"`
	SubjectID *uuid.UUID `json:"subject_id,omitempty" doc:"The resource the event is about (for conversation and message events, the conversation)"`
	CreatedAt time.Time  `json:"created_at"`
}

// MessageCreatedData is the data of message.created. Message text is not in
// events: read it with listMessages (after=...), where each read by someone
// other than the client is access-logged.
type MessageCreatedData struct {
	ConversationID uuid.UUID `json:"conversation_id"`
	MessageID      uuid.UUID `json:"message_id"`
	SenderID       uuid.UUID `json:"sender_id"`
	CreatedAt      time.Time `json:"created_at"`
}

// MessageReadData is the data of message.read.
type MessageReadData struct {
	ConversationID uuid.UUID `json:"conversation_id"`
	PersonID       uuid.UUID `json:"person_id" doc:"Who read"`
	UpTo           uuid.UUID `json:"up_to" doc:"Their read marker: every message up to this id"`
	ReadAt         time.Time `json:"read_at"`
}

// ConversationCreatedData is the data of conversation.created.
type ConversationCreatedData struct {
	ConversationID uuid.UUID `json:"conversation_id"`
	ClientID       uuid.UUID `json:"client_id"`
	CreatedBy      uuid.UUID `json:"created_by"`
}

// resyncReason is why a stream starts with resync (the only reason there is).
const resyncReason = "the gap since Last-Event-ID is larger than the replay window (24 h or 1000 events)"

// ResyncData is the data of resync: the gap since Last-Event-ID is larger
// than the replay window, so reload state through the API and continue.
type ResyncData struct {
	Seq    int64  `json:"seq" rule:"event.position" doc:"The stream continues after this position (0: before the first event)"`
	Reason string `json:"reason" rule:"event.resync_reason" example:"the gap since Last-Event-ID is larger than the replay window (24 h or 1000 events)"`
}

type messageCreatedEvent struct {
	EventEnvelope
	Type string             `json:"type" rule:"event.message_created"`
	Data MessageCreatedData `json:"data"`
}

type messageReadEvent struct {
	EventEnvelope
	Type string          `json:"type" rule:"event.message_read"`
	Data MessageReadData `json:"data"`
}

type conversationCreatedEvent struct {
	EventEnvelope
	Type string                  `json:"type" rule:"event.conversation_created"`
	Data ConversationCreatedData `json:"data"`
}

type otherEvent struct {
	EventEnvelope
	Type string         `json:"type" rule:"event.record_changed"`
	Data map[string]any `json:"data" doc:"Ids and states of the changed goal or referral; fetch it for details"`
}

// RecordHiddenData is the data of goal.hidden and conversation.hidden: a
// record the recipient could see is gone for them (the client made it
// private, labelled it, or withdrew their consent). Drop it from your view.
type RecordHiddenData struct {
	GoalID         *uuid.UUID `json:"goal_id,omitempty" doc:"goal.hidden: the goal"`
	ConversationID *uuid.UUID `json:"conversation_id,omitempty" doc:"conversation.hidden: the conversation"`
}

type recordHiddenEvent struct {
	EventEnvelope
	Type string           `json:"type" rule:"event.record_hidden"`
	Data RecordHiddenData `json:"data"`
}

type groupInvitationEvent struct {
	EventEnvelope
	Type string                          `json:"type" rule:"event.group_invitation"`
	Data domain.GroupInvitationEventData `json:"data"`
}

type groupMemberEvent struct {
	EventEnvelope
	Type string                      `json:"type" rule:"event.group_member"`
	Data domain.GroupMemberEventData `json:"data"`
}

type groupPostEvent struct {
	EventEnvelope
	Type string                    `json:"type" rule:"event.group_post"`
	Data domain.GroupPostEventData `json:"data"`
}

type groupGoalProgressEvent struct {
	EventEnvelope
	Type string                    `json:"type" rule:"event.group_goal_progress"`
	Data domain.GroupGoalEventData `json:"data"`
}

type groupSessionEvent struct {
	EventEnvelope
	Type string                       `json:"type" rule:"event.group_session_scheduled"`
	Data domain.GroupSessionEventData `json:"data"`
}

type eventsInput struct {
	LastEventID      string `header:"Last-Event-ID" pattern:"^[0-9]{1,18}$" maxLength:"18" doc:"The id of the last event received; the stream first replays what was missed (bounded: 24 h, 1000 events)"`
	LastEventIDQuery string `query:"last_event_id" pattern:"^[0-9]{1,18}$" maxLength:"18" doc:"Same as the Last-Event-ID header, for EventSource polyfills that cannot set it; the header wins"`
}

const eventsDescription = "A Server-Sent Events stream of the caller's events: message.created, message.read and conversation.created " +
	"for conversations they take part in, goal.updated, goal.proposed and referral.updated for clients they support, " +
	"group.invitation for a client invited to a group, and the events of the groups they are a member of or facilitate " +
	"(group.member.joined|left, group.post.created|updated, group.goal.progress, group.session.scheduled). " +
	"Each event has `id:` (its position, also `seq` in the data), `event:` (the type) and `data:` (JSON). " +
	"Events carry ids and states, never message text: fetch what changed through the API.\n\n" +
	"The stream starts at the present; its first frame is `retry:` with `id:` (the current position) and no data, which sets the client's " +
	"last event id without dispatching an event. Reconnect with `Last-Event-ID` (browsers' EventSource does this itself) to replay " +
	"what was missed from the database, then continue " +
	"live, with nothing missed or doubled. If the gap is larger than 24 h or 1000 events, the stream starts with a `resync` event: reload " +
	"your conversations and continue. A comment line is sent every 20 s to keep proxies from closing an idle stream. A client that stops " +
	"reading is disconnected rather than allowed to hold up others; reconnecting with Last-Event-ID recovers everything. " +
	"Events are re-authorized at delivery: a worker who leaves a client's care team stops receiving that client's events at once, " +
	"and the events of a goal the client made private, or of a goal or conversation labelled sud whose consent the client " +
	"withdrew (or never gave), stop reaching them at once, events written before included; so do all of a client's events on a stream opened through an app the client revokes. Whoever could see such a record " +
	"until then gets one goal.hidden or conversation.hidden carrying only its id, to drop it from their view. A group's events " +
	"(keyed by group_id, not client_id) reach only its current members and facilitators, checked at delivery: a member who leaves or is " +
	"removed stops receiving them at once, events written before included. A referral.updated " +
	"event names its goal_id only while that goal is shared with the whole care team.\n\n" +
	"The bearer token goes in the Authorization header; browser EventSource cannot set headers, so use a fetch-based SSE client. " +
	"The stream ends when the access token expires: reconnect with a fresh token and Last-Event-ID, nothing is lost. " +
	"Goal events need the goals:read scope, referral events referrals:read and group events groups:read (each implied by its write scope); " +
	"without them those events are skipped."

func (s *Server) registerEvents() {
	o := op(http.MethodGet, "/v1/events", "streamEvents", "Events", "Stream live events", eventsDescription+
		" At most 10 streams per person are open at once (429 beyond).",
		"messages:read", http.StatusUnprocessableEntity, http.StatusTooManyRequests, http.StatusServiceUnavailable)
	reg := s.api.OpenAPI().Components.Schemas
	var variants []*huma.Schema
	for _, v := range []struct {
		names []any
		t     any
	}{
		{[]any{domain.EventConversationCreated}, conversationCreatedEvent{}},
		{[]any{domain.EventMessageCreated}, messageCreatedEvent{}},
		{[]any{domain.EventMessageRead}, messageReadEvent{}},
		{[]any{domain.EventGoalUpdated, domain.EventGoalProposed, domain.EventReferralUpdated}, otherEvent{}},
		{[]any{domain.EventGoalHidden, domain.EventConversationHidden}, recordHiddenEvent{}},
		{[]any{domain.EventAgendaDue}, agendaDueEvent{}},
		{[]any{domain.EventGroupInvitation}, groupInvitationEvent{}},
		{[]any{domain.EventGroupMemberJoined, domain.EventGroupMemberLeft}, groupMemberEvent{}},
		{[]any{domain.EventGroupPostCreated, domain.EventGroupPostUpdated}, groupPostEvent{}},
		{[]any{domain.EventGroupGoalProgress}, groupGoalProgressEvent{}},
		{[]any{domain.EventGroupSessionScheduled}, groupSessionEvent{}},
		{[]any{"resync"}, ResyncData{}},
	} {
		variants = append(variants, &huma.Schema{
			Title: strings.TrimSuffix(strings.TrimPrefix(fmt.Sprint(v.names), "["), "]"),
			Type:  huma.TypeObject,
			Properties: map[string]*huma.Schema{
				"id": {Type: huma.TypeInteger, Format: "int64", Minimum: ptr(0.0), Maximum: ptr(float64(domain.MaxSafeInteger)),
					Description: "The event's position (seq); send it back as Last-Event-ID"},
				"event": {Type: huma.TypeString, Enum: v.names, Description: "The event type"},
				"data":  reg.Schema(reflect.TypeOf(v.t), true, ""),
			},
			Required: []string{"id", "event", "data"},
		})
	}
	o.Responses = map[string]*huma.Response{"200": {
		Description: "An endless text/event-stream. Each element below is one event, written as `id:`, `event:` and `data:` lines.",
		Content: map[string]*huma.MediaType{"text/event-stream": {Schema: &huma.Schema{
			Title:       "Server-Sent Events",
			Description: "Each oneOf object is one possible event, serialized as UTF-8 text per the SSE specification.",
			Type:        huma.TypeArray,
			Items:       &huma.Schema{OneOf: variants},
		}}},
	}}
	handle(s.api, o, func(ctx context.Context, in *eventsInput) (*huma.StreamResponse, error) {
		if s.hub == nil {
			return nil, unavailable(ctx, "live events are not available on this server")
		}
		last, resume := int64(0), false
		for _, v := range []string{in.LastEventID, in.LastEventIDQuery} {
			if v != "" {
				last, _ = strconv.ParseInt(v, 10, 64) // the pattern guarantees digits
				resume = true
				break
			}
		}
		a := actorFrom(ctx)
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		sub, err := s.hub.Subscribe(sctx, a.PersonID)
		cancel()
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return nil, err
			}
			if errors.Is(err, live.ErrTooManyStreams) {
				return nil, huma.ErrorWithHeaders(newProblem(ctx, http.StatusTooManyRequests,
					"too many open event streams for this person; close one (one stream per device is enough)"),
					http.Header{"Retry-After": []string{"10"}})
			}
			return nil, unavailable(ctx, "live events are unavailable right now; retry shortly")
		}
		var rp domain.Replay
		if resume {
			rp, err = s.store.ReplayEvents(ctx, a, last, s.events.ReplayWindow, s.events.ReplayMax)
		} else {
			// A new stream starts at the present: read after subscribing, so
			// whatever commits later arrives through the hub.
			last, err = s.store.LastEventSeq(ctx)
		}
		if err != nil {
			sub.Close()
			return nil, err
		}
		g := grantFrom(ctx)
		return &huma.StreamResponse{Body: func(hctx huma.Context) { s.stream(hctx, sub, rp, last, g) }}, nil
	})
}

func unavailable(ctx context.Context, msg string) error {
	return huma.ErrorWithHeaders(newProblem(ctx, http.StatusServiceUnavailable, msg), http.Header{"Retry-After": []string{"2"}})
}

// stream writes replayed events, then live ones, until the client leaves,
// falls behind, or the hub stops. Every write has its own deadline instead
// of the server's WriteTimeout, and the read deadline is cleared, so only a
// client that stops reading ends the stream.
func (s *Server) stream(hctx huma.Context, sub *live.Subscription, rp domain.Replay, last int64, g grant) {
	r, w := humago.Unwrap(hctx)
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)

	sw := &sseWriter{w: w, rc: rc, timeout: s.events.WriteTimeout}
	last, ok := s.replay(sw, rp, last, g)
	if !ok {
		sub.Close()
		return
	}
	// HTTP/1.1: the stream goes on without this goroutine (events_conn.go).
	if s.handOff(r, rc, sub, last, g) {
		return
	}
	defer sub.Close()
	s.follow(r.Context(), sw, sub, last, g)
}

// sseWriter buffers frames and writes them with a deadline of their own.
type sseWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
	buf     []byte
}

// flush writes and flushes the buffer; false means the client is gone or
// stopped reading.
func (sw *sseWriter) flush() bool {
	_ = sw.rc.SetWriteDeadline(time.Now().Add(sw.timeout))
	_, err := sw.w.Write(sw.buf)
	if err == nil {
		err = sw.rc.Flush()
	}
	sw.buf = sw.buf[:0]
	return err == nil
}

// replay writes the starting position and the replayed events; it returns
// the last sequence number sent and false when the client is gone.
func (s *Server) replay(sw *sseWriter, rp domain.Replay, last int64, g grant) (int64, bool) {
	// The first frame carries only the starting position: per the SSE
	// specification an id without data updates the client's last event id
	// without dispatching an event, so a reconnect resumes from here even
	// if nothing arrived in between.
	sw.buf = append(sw.buf, "retry: "...)
	sw.buf = strconv.AppendInt(sw.buf, s.events.Retry.Milliseconds(), 10)
	sw.buf = append(sw.buf, "\nid: "...)
	sw.buf = strconv.AppendInt(sw.buf, last, 10)
	sw.buf = append(sw.buf, "\n\n"...)
	if rp.Resync {
		d, _ := json.Marshal(ResyncData{Seq: rp.ResyncSeq, Reason: resyncReason})
		sw.buf = appendFrame(sw.buf, rp.ResyncSeq, "resync", d)
		last = rp.ResyncSeq
	}
	for i := range rp.Events {
		if g.delivers(&rp.Events[i]) {
			sw.buf = appendEvent(sw.buf, &rp.Events[i])
		}
		last = rp.Events[i].Seq
		if len(sw.buf) > 16<<10 && !sw.flush() {
			return last, false
		}
	}
	return last, sw.flush()
}

// follow writes live events and heartbeats until the client leaves, the
// token expires or the hub drops the subscription: the stream's own
// goroutine, for connections that cannot be hijacked (HTTP/2).
func (s *Server) follow(ctx context.Context, sw *sseWriter, sub *live.Subscription, last int64, g grant) {
	tick := time.NewTicker(s.events.Heartbeat)
	defer tick.Stop()
	// The token was checked once, at connect; the stream must not outlive it.
	// The client reconnects with a fresh token and Last-Event-ID, losing nothing.
	var expired <-chan time.Time
	if !g.Expiry.IsZero() {
		t := time.NewTimer(time.Until(g.Expiry))
		defer t.Stop()
		expired = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-expired:
			return
		case <-sub.Gone():
			return
		case <-tick.C:
			sw.buf = append(sw.buf, ": heartbeat\n\n"...)
		case <-sub.Wake():
			for _, ev := range sub.Take() {
				if ev.Seq > last { // not already sent by the replay
					if g.delivers(ev) {
						sw.buf = appendEvent(sw.buf, ev)
					}
					last = ev.Seq
				}
			}
		}
		if len(sw.buf) > 0 && !sw.flush() {
			return
		}
		if cap(sw.buf) > 64<<10 {
			sw.buf = nil // do not keep a burst's buffer for an idle stream
		}
	}
}

// delivers re-authorizes each event for the stream's token at delivery:
// its scopes (eventAllowed), and the client's decision about its app (an app
// the client revoked hears nothing more of them, even on a stream opened before).
func (g grant) delivers(ev *domain.EventRecord) bool {
	return eventAllowed(ev.Type, g.Scopes) && ev.DeliverableTo(g.App, g.Person)
}

// eventAllowed applies the token's scopes to each event: the stream itself
// needs messages:read, goal events also goals:read, referral events
// referrals:read (auth.ScopesAllow: a write scope implies its family's read).
func eventAllowed(typ string, scopes []string) bool {
	switch {
	case strings.HasPrefix(typ, "goal."):
		return auth.ScopesAllow(scopes, "goals:read")
	case strings.HasPrefix(typ, "referral."):
		return auth.ScopesAllow(scopes, "referrals:read")
	case strings.HasPrefix(typ, "agenda."):
		return auth.ScopesAllow(scopes, "assessments:read")
	case strings.HasPrefix(typ, "group."):
		return auth.ScopesAllow(scopes, "groups:read")
	}
	return true
}

func appendEvent(buf []byte, ev *domain.EventRecord) []byte {
	var client *uuid.UUID
	if ev.ClientID != uuid.Nil {
		client = &ev.ClientID
	}
	d, err := json.Marshal(liveEvent{ID: ev.ID, Seq: ev.Seq, Type: ev.Type, ClientID: client, GroupID: ev.GroupID, SubjectID: ev.SubjectID,
		CreatedAt: ev.CreatedAt.UTC(), Data: ev.Data})
	if err != nil { // outbox data is JSON from PostgreSQL; never expected
		d = []byte(`{}`)
	}
	return appendFrame(buf, ev.Seq, ev.Type, d)
}

func appendFrame(buf []byte, id int64, event string, data []byte) []byte {
	buf = append(buf, "id: "...)
	buf = strconv.AppendInt(buf, id, 10)
	buf = append(buf, "\nevent: "...)
	buf = append(buf, event...)
	buf = append(buf, "\ndata: "...)
	buf = append(buf, data...)
	return append(buf, "\n\n"...)
}

// CloseStreams waits until the hijacked event streams have ended, after the
// hub stopped (each finishes its response and closes); when ctx ends first
// it closes what is left. Part of a graceful shutdown: http.Server.Shutdown
// does not know hijacked connections.
func (s *Server) CloseStreams(ctx context.Context) error { return s.conns.closeAll(ctx) }

// DetachedStreams is the number of event streams open on hijacked
// connections (without a goroutine of their own).
func (s *Server) DetachedStreams() int { return s.conns.Len() }

func registerHubMetrics(reg *prometheus.Registry, h *live.Hub, cs *connStreams) {
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "waypoint_events_detached_streams", Help: "Open live event streams served on hijacked connections, without a goroutine of their own."},
			func() float64 { return float64(cs.Len()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "waypoint_events_subscribers", Help: "Open live event streams in this process."},
			func() float64 { return float64(h.Stats().Subscribers) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "waypoint_events_delivered_total", Help: "Events handed to live streams."},
			func() float64 { return float64(h.Stats().Delivered) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "waypoint_events_dropped_streams_total", Help: "Streams ended because the client fell behind."},
			func() float64 { return float64(h.Stats().Dropped) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "waypoint_events_listener_reconnects_total", Help: "Reconnects of the LISTEN connection."},
			func() float64 { return float64(h.Stats().Reconnects) }),
	)
}
