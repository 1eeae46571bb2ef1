package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/yaml"
	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/domain"
)

// eventDoc describes one kind of frame on GET /v1/events: its SSE event
// name, the Go type whose JSON is its data (the very type the server
// marshals), and whether that data sits inside the event envelope.
type eventDoc struct {
	Type     string
	Data     any
	Envelope bool
	Scope    string
	Summary  string
}

// eventCatalog is every event the stream sends; the AsyncAPI document is
// generated from it, and the tests' stream reader (apitest.EventReader)
// checks every event they receive against the committed document.
func eventCatalog() []eventDoc {
	return []eventDoc{
		{domain.EventConversationCreated, domain.ConversationEventData{}, true, "messages:read", "A conversation the recipient takes part in was started."},
		{domain.EventMessageCreated, domain.MessageEventData{}, true, "messages:read",
			"A message was posted. No text: read it with listMessages (after=...), where each read by someone other than the client is access-logged."},
		{domain.EventMessageRead, domain.ReadEventData{}, true, "messages:read", "A participant's read marker moved: every message up to up_to is read."},
		{domain.EventGoalUpdated, domain.GoalEventData{}, true, "goals:read", "A goal changed (change says how; fields names what). Fetch it for details."},
		{domain.EventGoalProposed, domain.GoalEventData{}, true, "goals:read", "A worker proposed a goal to the client (change is created)."},
		{domain.EventReferralUpdated, domain.ReferralEventData{}, true, "referrals:read",
			"A referral was created or changed. goal_id is set only while the linked goal is shared with the whole care team."},
		{domain.EventGoalHidden, domain.HiddenEventData{}, true, "goals:read",
			"A goal the recipient could see is gone for them (made private, labelled, consent withdrawn): drop it from your view."},
		{domain.EventConversationHidden, domain.HiddenEventData{}, true, "messages:read",
			"A conversation the recipient could see is gone for them: drop it from your view."},
		{domain.EventAgendaDue, AgendaDueData{}, true, "assessments:read",
			"An item on the client's agenda came due (a step, a goal's check-in, a referral's follow-up): the client and those who may see the item get it; fetch GET /v1/me/agenda for details."},
		{domain.EventGroupInvitation, domain.GroupInvitationEventData{}, true, "groups:read",
			"A facilitator invited the recipient (a client) to a group: answer it (GET /v1/group-invitations). Keyed by client_id."},
		{domain.EventGroupMemberJoined, domain.GroupMemberEventData{}, true, "groups:read", "Someone joined a group the recipient is in. Keyed by group_id."},
		{domain.EventGroupMemberLeft, domain.GroupMemberEventData{}, true, "groups:read",
			"Someone left (or was removed from) a group the recipient is in. Keyed by group_id."},
		{domain.EventGroupPostCreated, domain.GroupPostEventData{}, true, "groups:read", "A post on a group's board. No text: read it. Keyed by group_id."},
		{domain.EventGroupPostUpdated, domain.GroupPostEventData{}, true, "groups:read",
			"A post was replied to, resolved, hidden or unhidden (change says which). Keyed by group_id."},
		{domain.EventGroupGoalProgress, domain.GroupGoalEventData{}, true, "groups:read",
			"Someone joined, left or checked in on a shared goal: fetch its aggregate. Keyed by group_id."},
		{domain.EventGroupSessionScheduled, domain.GroupSessionEventData{}, true, "groups:read", "A facilitator scheduled a session. Keyed by group_id."},
		{"resync", ResyncData{}, false, "messages:read",
			"The gap since Last-Event-ID is larger than the replay window (24 h or 1000 events): reload state through the API and continue. Its data is not enveloped."},
	}
}

// messageKey names an event type as an AsyncAPI component key: goal.updated -> goalUpdated.
func messageKey(typ string) string {
	parts := strings.FieldsFunc(typ, func(r rune) bool { return r == '.' || r == '_' })
	for i := 1; i < len(parts); i++ {
		parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
	}
	return strings.Join(parts, "")
}

// AsyncAPI renders the AsyncAPI 3.0 document of the event stream as JSON.
func AsyncAPI() ([]byte, error) {
	reg := huma.NewMapRegistry("#/components/schemas/", huma.DefaultSchemaNamer)
	reg.RegisterTypeAlias(reflect.TypeFor[uuid.UUID](), reflect.TypeFor[uuidText]())
	envelope := reg.Schema(reflect.TypeFor[liveEvent](), false, "")
	docs := reg.Schema(reflect.TypeFor[EventEnvelope](), false, "")
	for name, p := range envelope.Properties {
		if d := docs.Properties[name]; d != nil {
			p.Description = d.Description
		}
	}
	channelMessages := map[string]any{}
	componentMessages := map[string]any{}
	var opMessages []any
	for _, ev := range eventCatalog() {
		data := reg.Schema(reflect.TypeOf(ev.Data), true, "")
		refine(reg, ev.Data)
		payload := data
		if ev.Envelope {
			props := make(map[string]*huma.Schema, len(envelope.Properties))
			for k, v := range envelope.Properties {
				props[k] = v
			}
			props["type"] = &huma.Schema{Type: huma.TypeString, Enum: []any{ev.Type}, Description: "The event type, also the SSE event: field"}
			props["data"] = data
			env := *envelope
			env.Properties = props
			env.PrecomputeMessages()
			payload = &env
		}
		key := messageKey(ev.Type)
		componentMessages[key] = map[string]any{
			"name":        ev.Type,
			"title":       ev.Type,
			"summary":     ev.Summary,
			"description": fmt.Sprintf("Sent as `event: %s`, with `id:` its seq and `data:` this payload as one JSON line. Needs the %s scope.", ev.Type, ev.Scope),
			"contentType": "application/json",
			"payload":     payload,
		}
		channelMessages[key] = map[string]any{"$ref": "#/components/messages/" + key}
		opMessages = append(opMessages, map[string]any{"$ref": "#/channels/events/messages/" + key})
	}
	// The envelope's properties are copied into each payload above; the
	// registry's own entries for its types would be unused components.
	schemas := reg.Map()
	delete(schemas, "LiveEvent")
	delete(schemas, "EventEnvelope")
	doc := map[string]any{
		"asyncapi": "3.0.0",
		"info": map[string]any{
			"title":   "Waypoint live events",
			"version": Version,
			"description": "The Server-Sent Events stream GET /v1/events, the companion of the OpenAPI document at /openapi.yaml. " +
				"Generated from the Go types the server sends (`waypoint asyncapi`; `make openapi` writes openapi/asyncapi.yaml).",
			"license": map[string]any{"name": "Apache-2.0"},
			"contact": map[string]any{"name": "Waypoint", "url": "https://github.com/waypoint-portal/waypoint"},
			"tags":    []any{map[string]any{"name": "Events", "description": "Live events (Server-Sent Events) for the caller"}},
		},
		"defaultContentType": "application/json",
		"channels": map[string]any{"events": map[string]any{
			"address":     "/v1/events",
			"title":       "The caller's live events",
			"description": eventsDescription,
			"messages":    channelMessages,
		}},
		"operations": map[string]any{"receiveEvents": map[string]any{
			"action":  "receive",
			"title":   "Stream live events",
			"summary": "GET /v1/events with a bearer token (messages:read); text/event-stream.",
			"description": "Open GET /v1/events with Accept: text/event-stream and the access token in the Authorization header; " +
				"each frame is one of the messages below (its SSE event: field is the message name). Reconnect with Last-Event-ID to resume.",
			"channel":  map[string]any{"$ref": "#/channels/events"},
			"messages": opMessages,
			"security": []any{map[string]any{"$ref": "#/components/securitySchemes/bearer"}},
		}},
		"components": map[string]any{
			"messages": componentMessages,
			"schemas":  schemas,
			"securitySchemes": map[string]any{"bearer": map[string]any{
				"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
				"description": "The same OIDC access token as the REST API, in the Authorization header (use a fetch-based SSE client: EventSource cannot set headers).",
			}},
		},
	}
	return json.Marshal(doc)
}

// refine adds what the Go types cannot say by themselves: the enums of
// states the domain defines, and which members may be null.
func refine(reg huma.Registry, data any) {
	switch data.(type) {
	case domain.GoalEventData:
		s := reg.SchemaFromRef("#/components/schemas/GoalEventData")
		enum := []any{}
		for _, c := range domain.GoalChanges() {
			enum = append(enum, string(c))
		}
		s.Properties["change"].Enum = enum
		s.Properties["change"].Description = "How the goal changed"
		s.PrecomputeMessages()
	case domain.ReferralEventData:
		s := reg.SchemaFromRef("#/components/schemas/ReferralEventData")
		enum := []any{}
		for _, st := range domain.ReferralStatuses() {
			enum = append(enum, st)
		}
		s.Properties["status"].Enum = enum
		s.Properties["goal_id"].Nullable = true
		s.PrecomputeMessages()
	}
}

// AsyncAPIYAML is AsyncAPI as YAML, the committed form.
func AsyncAPIYAML() ([]byte, error) {
	j, err := AsyncAPI()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := yaml.Convert(&buf, bytes.NewReader(j)); err != nil {
		return nil, fmt.Errorf("render AsyncAPI: %w", err)
	}
	return buf.Bytes(), nil
}

// serveDocument serves a generated document with its media type.
func serveDocument(body []byte, contentType string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		_, _ = w.Write(body)
	}
}
