package api

import (
	"context"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/domain"
)

const privacyTag = "Privacy"

// AccessActor is who touched the client's data, and how they relate to the client.
type AccessActor struct {
	ID           *uuid.UUID `json:"id,omitempty" doc:"The person's id; absent in an administrator's view of a supporter's entry (whom the client chose is theirs)"`
	DisplayName  string     `json:"display_name,omitempty" rule:"person.name" example:"Wanda Lee" doc:"Their display name now; absent where id is"`
	Relationship string     `json:"relationship" rule:"access_log.relationship" example:"care_team_worker" doc:"Their relationship to the client when it happened: care_team_worker (on the client's care team), supporter (someone the client invited), administrator, provider (staff of a service the client was referred to), self (the client, on their own export), no_relationship (anyone else, e.g. a denied attempt), app (anyone else, on entries written before December 2026)"`
}

// AccessLogEntry is one read, write, export or denied attempt on the
// client's data by someone other than the client, ready to be said in plain
// words: "Wanda Lee (your care team) viewed your goal 'Find stable housing'".
type AccessLogEntry struct {
	ID         uuid.UUID   `json:"id" doc:"Entry id (UUIDv7)"`
	At         time.Time   `json:"at" doc:"When it happened"`
	Action     string      `json:"action" rule:"access_log.action" example:"read" doc:"read, write, export, or denied: they asked for a record of yours they may not see, and were told it does not exist"`
	Resource   string      `json:"resource" rule:"access_log.resource" example:"goal" doc:"The kind of record"`
	ResourceID string      `json:"resource_id" rule:"access_log.resource_id" example:"0193f5e2-6c1a-7b3e-9d2f-3a4b5c6d7e8f" doc:"The record's id; empty for a list of records"`
	Label      string      `json:"label" rule:"access_log.label" example:"Find stable housing" doc:"The record in words, as it was then (a goal's title, a referral's service, a conversation's subject); empty when there is none, and always empty for an administrator (the words are the client's)"`
	Actor      AccessActor `json:"actor"`
	AppID      string      `json:"app_id,omitempty" rule:"app.id" example:"budget-buddy" doc:"The app (OAuth2 client) they used; absent when the token named none"`
	AppName    string      `json:"app_name,omitempty" rule:"app.id" example:"budget-buddy" doc:"The app's name (its id: Waypoint keeps no app registry)"`
	RequestID  string      `json:"request_id" rule:"request_id" example:"01936f5e-6c1a-7b3e-9d2f-3a4b5c6d7e8f" doc:"The request's id (X-Request-Id), for support"`
}

func accessEntryDTO(apps domain.Apps) func(domain.AccessEntry) AccessLogEntry {
	return func(e domain.AccessEntry) AccessLogEntry {
		out := AccessLogEntry{ID: e.ID, At: e.At.UTC(), Action: e.Action, Resource: e.Resource, ResourceID: e.ResourceID,
			Label: e.Label, Actor: AccessActor{DisplayName: e.ActorName, Relationship: e.Relationship},
			AppID: e.AppID, RequestID: e.RequestID}
		if e.ActorID != uuid.Nil {
			out.Actor.ID = &e.ActorID
		}
		if e.AppID != "" {
			out.AppName = apps.Name(e.AppID)
		}
		return out
	}
}

type listAccessLogInput struct {
	ClientPath
	ActorID  uuid.UUID `query:"actor_id" doc:"Only entries of this person"`
	Resource string    `query:"resource" rule:"access_log.resource" doc:"Only entries about this kind of record"`
	Action   string    `query:"action" rule:"access_log.action" doc:"Only entries of this action (denied: the attempts that were refused)"`
	Since    time.Time `query:"since" example:"2025-06-01T00:00:00Z" doc:"Only entries at or after this time (RFC 3339)"`
	Until    time.Time `query:"until" example:"2025-07-01T00:00:00Z" doc:"Only entries before this time (RFC 3339); not before since"`
	PageParams
}

type accessLogOutput struct {
	Body Page[AccessLogEntry]
}

const accessLogDoc = "Every read, write and export of the client's data by someone other than the client, and every denied " +
	"attempt (someone asked for an existing record of the client they may not see; they got 404, as for a record that does " +
	"not exist), newest first. Each entry says who (and their relationship to the client then), through which app, did what " +
	"to which record (with its label at the time), when, and the request id. The client reads their own log; administrators " +
	"may read it for audit, and that read is itself an entry: they see who touched the data and when, not the records' labels, " +
	"and a supporter's entries without the supporter's identity. The client's care team gets 403; anyone else 404. " +
	"Entries cannot be changed or deleted; they are kept for the configured retention (default 7 years)."

func (s *Server) registerAccessLog() {
	handle(s.api, op(http.MethodGet, "/v1/clients/{clientId}/access-log", "listAccessLog", privacyTag,
		"List who touched the client's data", accessLogDoc, "privacy:read", http.StatusNotFound, http.StatusUnprocessableEntity),
		func(ctx context.Context, in *listAccessLogInput) (*accessLogOutput, error) {
			rows, next, err := s.store.ListAccessLog(ctx, actorFrom(ctx), in.ClientID, domain.AccessFilter{
				ActorID: in.ActorID, Resource: in.Resource, Action: in.Action, Since: in.Since, Until: in.Until,
				Cursor: in.Cursor, Limit: in.Limit,
			})
			if err != nil {
				return nil, err
			}
			return &accessLogOutput{Body: newPage(rows, next, accessEntryDTO(s.apps))}, nil
		})
}
