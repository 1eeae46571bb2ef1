package api

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/domain"
)

// ContactPreferences says how and when the client wants to be reached.
type ContactPreferences struct {
	Channels            []string    `json:"channels" rule:"client.contact_channels" nullable:"false" uniqueItems:"true" doc:"Preferred channels, most preferred first" example:"[\"app\",\"sms\"]"`
	Phone               string      `json:"phone,omitempty" rule:"client.phone" pattern:"^[^\\p{Cc}\\p{Cf}\\p{Zl}\\p{Zp}]*$" patternDescription:"one line of text without control or formatting characters" example:"+1 206 555 0100" doc:"Phone number for calls or texts"`
	Email               string      `json:"email,omitempty" rule:"email" format:"email" example:"alice@example.org"`
	BestTimes           string      `json:"best_times,omitempty" rule:"client.best_times" example:"weekday mornings" doc:"When contact is welcome, in the client's words"`
	SafeToLeaveMessage  *bool       `json:"safe_to_leave_message,omitempty" doc:"Whether a voicemail or visible message is safe; when false, workers must not leave one"`
	TimeZone            string      `json:"time_zone,omitempty" rule:"client.time_zone" example:"America/Los_Angeles" doc:"IANA time zone: the client's day boundaries (when a step is due) and quiet hours; UTC when not set"`
	QuietHours          *QuietHours `json:"quiet_hours,omitempty" doc:"No reminder reaches the client's phone in this span of local time; 21:00 to 08:00 when not set"`
	PushPreviews        *bool       `json:"push_previews,omitempty" doc:"Whether reminders on the phone say what they are about; when not true (the default) they say only \"You have a reminder from Waypoint\" (phones are shared). Only the client may set it"`
	HelpImproveServices *bool       `json:"help_improve_services,omitempty" doc:"Whether Waypoint may count this client's unmet needs to show where services are missing: a directory search that finds nothing, a referral declined, a barrier they report. What is recorded is anonymous: the need's category (a taxonomy term, never the words searched), a coarse area (a geohash cell of about 5 km, never the point), a language, a reason (the decline reason or barrier kind) and the ISO week, with a mark that only lets one person count once per cell and week and cannot be tied back to them once the week's key is deleted (about two weeks later). Never the person, their client record or any text. On (true) until the client turns it off (false); always shown. Only the client may set it"`
}

// QuietHours is a span of local times of day; it may cross midnight.
type QuietHours struct {
	Start string `json:"start" rule:"client.clock" pattern:"^([01][0-9]|2[0-3]):[0-5][0-9]$" example:"21:00" doc:"HH:MM, local time"`
	End   string `json:"end" rule:"client.clock" pattern:"^([01][0-9]|2[0-3]):[0-5][0-9]$" example:"08:00" doc:"HH:MM, local time"`
}

// Client is a client's profile.
type Client struct {
	ID                 uuid.UUID          `json:"id"`
	PersonID           uuid.UUID          `json:"person_id"`
	DisplayName        string             `json:"display_name" rule:"person.name" example:"Alice Johnson"`
	Strengths          []string           `json:"strengths" rule:"client.profile_list" example:"[\"resourceful\",\"good with people\"]" doc:"Strengths, in the client's own words"`
	Interests          []string           `json:"interests" rule:"client.profile_list" example:"[\"gardening\"]"`
	PreferredLanguage  string             `json:"preferred_language" rule:"language_tag" example:"es" doc:"BCP 47 language tag; empty when not set"`
	ContactPreferences ContactPreferences `json:"contact_preferences"`
	Version            int64              `json:"version" rule:"version" example:"3"`
	CreatedAt          time.Time          `json:"created_at"`
	UpdatedAt          time.Time          `json:"updated_at"`
}

func clientDTO(c domain.Client) Client {
	cp := c.ContactPreferences.V
	if cp.Channels == nil {
		cp.Channels = []string{}
	}
	if cp.HelpImproveServices == nil {
		// Shown as it stands: on until the client turns it off, so they see it.
		on := true
		cp.HelpImproveServices = &on
	}
	return Client{
		ID: c.ID, PersonID: c.PersonID, DisplayName: c.DisplayName,
		Strengths: orEmpty(c.Strengths), Interests: orEmpty(c.Interests), PreferredLanguage: c.PreferredLanguage,
		ContactPreferences: ContactPreferences{Channels: cp.Channels, Phone: cp.Phone, Email: cp.Email,
			BestTimes: cp.BestTimes, SafeToLeaveMessage: cp.SafeToLeaveMessage, TimeZone: cp.TimeZone,
			QuietHours: quietHoursDTO(cp.QuietHours), PushPreviews: cp.PushPreviews, HelpImproveServices: cp.HelpImproveServices},
		Version: c.Version, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

type clientOutput struct {
	ETag string `header:"ETag" doc:"Strong ETag: the client's version"`
	Body Client
}

func clientOut(c domain.Client) *clientOutput {
	return &clientOutput{ETag: etag(c.Version), Body: clientDTO(c)}
}

type listClientsInput struct {
	Q           string `query:"q" maxLength:"100" doc:"Case-insensitive substring of the client's display name"`
	GoalDueFrom string `query:"goal_due_from" format:"date" example:"2025-07-14" doc:"Only clients with an open goal you may see (not completed, cancelled, rejected or entered in error) whose target date is on or after this date"`
	GoalDueTo   string `query:"goal_due_to" format:"date" example:"2025-07-20" doc:"Only clients with an open goal you may see whose target date is on or before this date (not before goal_due_from). With goal_due_from: goals due in that week, say"`
	PageParams
}

// dates parses the goal-due range.
func (in *listClientsInput) dates() (from, to time.Time, err error) {
	return dateRange("goal_due_from", in.GoalDueFrom, "goal_due_to", in.GoalDueTo)
}

type clientsOutput struct {
	Body Page[Client]
}

// ClientPath is the {clientId} path parameter (exported: Huma only reads exported embedded structs).
type ClientPath struct {
	ClientID uuid.UUID `path:"clientId" doc:"Client id"`
}

// ClientPatch is a JSON Merge Patch of a client profile; null clears a field.
type ClientPatch struct {
	Strengths          *[]string                `json:"strengths,omitempty" rule:"client.profile_list" nullable:"true" doc:"Replaces the list; null clears it"`
	Interests          *[]string                `json:"interests,omitempty" rule:"client.profile_list" nullable:"true" doc:"Replaces the list; null clears it"`
	PreferredLanguage  *string                  `json:"preferred_language,omitempty" rule:"language_tag" nullable:"true" pattern:"^([A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*)?$" example:"es" doc:"BCP 47 tag; null clears it"`
	ContactPreferences *ContactPreferencesPatch `json:"contact_preferences,omitempty" doc:"Merged member by member (RFC 7396): members you leave out are kept, null removes one; null for the whole object resets it"`
}

// TransformSchema lets contact_preferences be null (reset); Huma cannot mark
// a referenced object schema nullable with a tag.
func (ClientPatch) TransformSchema(r huma.Registry, s *huma.Schema) *huma.Schema {
	if p := s.Properties["contact_preferences"]; p != nil && p.Ref != "" {
		inline := *r.SchemaFromRef(p.Ref) // a copy: the shared schema stays non-nullable
		inline.Nullable = true
		inline.Description = p.Description
		s.Properties["contact_preferences"] = &inline
	}
	return s
}

// ContactPreferencesPatch is the merge patch of contact preferences.
type ContactPreferencesPatch struct {
	Channels            *[]string   `json:"channels,omitempty" rule:"client.contact_channels" nullable:"true" uniqueItems:"true" example:"[\"app\",\"sms\"]"`
	Phone               *string     `json:"phone,omitempty" rule:"client.phone" nullable:"true" pattern:"^[^\\p{Cc}\\p{Cf}\\p{Zl}\\p{Zp}]*$" patternDescription:"one line of text without control or formatting characters" example:"+1 206 555 0100"`
	Email               *string     `json:"email,omitempty" rule:"email" nullable:"true" format:"email" example:"alice@example.org"`
	BestTimes           *string     `json:"best_times,omitempty" rule:"client.best_times" nullable:"true" example:"weekday mornings"`
	SafeToLeaveMessage  *bool       `json:"safe_to_leave_message,omitempty" nullable:"true" doc:"Whether a voicemail or visible message is safe"`
	TimeZone            *string     `json:"time_zone,omitempty" rule:"client.time_zone" nullable:"true" example:"America/Los_Angeles" doc:"IANA time zone name; null: UTC"`
	QuietHours          *QuietHours `json:"quiet_hours,omitempty" doc:"Both start and end; null: the default 21:00 to 08:00"`
	PushPreviews        *bool       `json:"push_previews,omitempty" nullable:"true" doc:"The client's alone (403 for anyone else); null: false"`
	HelpImproveServices *bool       `json:"help_improve_services,omitempty" nullable:"true" doc:"The client's alone (403 for anyone else); null: true (on). See ContactPreferences.help_improve_services for exactly what is recorded"`
}

// TransformSchema lets quiet_hours be null (back to the default), as
// ClientPatch does for the whole object.
func (ContactPreferencesPatch) TransformSchema(r huma.Registry, s *huma.Schema) *huma.Schema {
	if p := s.Properties["quiet_hours"]; p != nil && p.Ref != "" {
		inline := *r.SchemaFromRef(p.Ref)
		inline.Nullable = true
		inline.Description = p.Description
		s.Properties["quiet_hours"] = &inline
	}
	return s
}

func quietHoursDTO(q *domain.QuietHours) *QuietHours {
	if q == nil {
		return nil
	}
	return &QuietHours{Start: q.Start, End: q.End}
}

type patchClientInput struct {
	ClientPath
	IfMatch string `header:"If-Match" doc:"The ETag from your last read (required)"`
	RawBody []byte
	Body    ClientPatch `contentType:"application/merge-patch+json"`
}

func (s *Server) registerClients() {
	handle(s.api, op(http.MethodGet, "/v1/clients", "listClients", "Clients", "List clients I may see",
		"A worker sees their caseload, an administrator every client, a client only themself. Ordered by id (creation time). "+
			"goal_due_from and goal_due_to keep the clients with an open goal due in that range among the goals you may see "+
			"(a client's private goals, and sensitive ones without the client's consent, do not count): "+
			"`?goal_due_from=2025-07-14&goal_due_to=2025-07-20` is your clients with goals due that week.",
		"profile:read", http.StatusUnprocessableEntity),
		func(ctx context.Context, in *listClientsInput) (*clientsOutput, error) {
			from, to, err := in.dates()
			if err != nil {
				return nil, err
			}
			rows, next, err := s.store.ListClients(ctx, actorFrom(ctx), domain.ClientFilter{Query: in.Q,
				GoalDueFrom: from, GoalDueTo: to, Cursor: in.Cursor, Limit: in.Limit})
			if err != nil {
				return nil, err
			}
			return &clientsOutput{Body: newPage(rows, next, clientDTO)}, nil
		})

	handle(s.api, op(http.MethodGet, "/v1/clients/{clientId}", "getClient", "Clients", "Get a client profile",
		"Visible to the client, the workers on their care team and administrators; anyone else gets 404. "+
			"Reads by anyone but the client are recorded in the client's access log.",
		"profile:read", http.StatusNotFound, http.StatusUnprocessableEntity),
		func(ctx context.Context, in *ClientPath) (*clientOutput, error) {
			c, err := s.store.GetClient(ctx, actorFrom(ctx), in.ClientID)
			if err != nil {
				return nil, err
			}
			return clientOut(c), nil
		})

	handle(s.api, op(http.MethodPatch, "/v1/clients/{clientId}", "patchClient", "Clients", "Change a client profile",
		"JSON Merge Patch of strengths, interests, preferred language and contact preferences. "+
			"The client and the workers on their care team may change it (administrators: 403). Requires If-Match.",
		"profile:write", http.StatusNotFound, http.StatusUnprocessableEntity, http.StatusPreconditionFailed, http.StatusPreconditionRequired),
		func(ctx context.Context, in *patchClientInput) (*clientOutput, error) {
			a := actorFrom(ctx)
			k := parseMergeKeys(in.RawBody)
			patch := domain.ClientPatch{
				Strengths:          patchValue(k, "strengths", in.Body.Strengths),
				Interests:          patchValue(k, "interests", in.Body.Interests),
				PreferredLanguage:  patchValue(k, "preferred_language", in.Body.PreferredLanguage),
				ContactPreferences: rawMember(in.RawBody, "contact_preferences"),
			}
			c, err := conditionalWrite(in.IfMatch, func(v domain.Precondition) (domain.Client, error) {
				return s.store.UpdateClient(ctx, a, in.ClientID, v, patch)
			})
			if err != nil {
				return nil, err
			}
			return clientOut(c), nil
		})
}

// rawMember returns one member of a JSON object body as sent (nil when absent),
// for nested merge patches applied by the database.
func rawMember(body []byte, name string) json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return nil
	}
	return m[name]
}
