package api

import (
	"context"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/domain"
)

// Person is a person as the API shows them.
type Person struct {
	ID          uuid.UUID  `json:"id" doc:"Person id (UUIDv7)"`
	DisplayName string     `json:"display_name" rule:"person.name" example:"Alice Johnson" doc:"Name shown to others"`
	Pronouns    string     `json:"pronouns" rule:"person.pronouns" example:"she/her" doc:"Pronouns, if the person chose to share them"`
	Roles       []string   `json:"roles" rule:"person.roles" example:"[\"client\"]" doc:"Waypoint roles from the identity provider: client, worker, admin, directory_editor, provider (none: the person may only use /v1/me, read the directory and read what clients shared with them as a supporter)"`
	ClientID    *uuid.UUID `json:"client_id,omitempty" doc:"The person's client record, when they are a client (only on /v1/me)"`
	Version     int64      `json:"version" rule:"version" example:"1" doc:"Version, also the ETag"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

func personDTO(p domain.Person) Person {
	roles := []string(p.Roles)
	if roles == nil {
		roles = []string{}
	}
	return Person{ID: p.ID, DisplayName: p.DisplayName, Pronouns: p.Pronouns, Roles: roles, ClientID: p.ClientID,
		Version: p.Version, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

// SupportedClient is a client the caller supports, as /v1/me lists them.
type SupportedClient struct {
	ClientID        uuid.UUID  `json:"client_id" doc:"The client supported"`
	DisplayName     string     `json:"display_name" rule:"person.name" example:"Alice Johnson" doc:"The client's name"`
	Shares          []string   `json:"shares" rule:"supporter.shares" example:"[\"goals\"]" doc:"What the caller may read of theirs"`
	AccessExpiresAt *time.Time `json:"access_expires_at" doc:"When the access ends by itself; null: when the client ends it"`
}

// Me is the caller's own person, with the clients they support.
type Me struct {
	Person
	Supporting []SupportedClient `json:"supporting" rule:"person.supporting" nullable:"false" doc:"The clients who invited the caller as a supporter and whose access has not ended, with what each shares (empty for most people)"`
}

type meOutput struct {
	ETag string `header:"ETag" doc:"Strong ETag: the person's version"`
	Body Me
}

// meOut answers /v1/me: the person and the clients they support now.
func (s *Server) meOut(ctx context.Context, p domain.Person) (*meOutput, error) {
	sup, err := s.store.Supporting(ctx, actorFrom(ctx))
	if err != nil {
		return nil, err
	}
	out := &meOutput{ETag: etag(p.Version), Body: Me{Person: personDTO(p), Supporting: make([]SupportedClient, len(sup))}}
	for i, g := range sup {
		out.Body.Supporting[i] = SupportedClient{ClientID: g.ClientID, DisplayName: g.ClientDisplayName,
			Shares: orEmpty(g.Shares), AccessExpiresAt: utcPtr(g.AccessExpiresAt)}
	}
	return out, nil
}

// MePatch is a JSON Merge Patch of the caller's person.
type MePatch struct {
	DisplayName *string `json:"display_name,omitempty" rule:"person.display_name" example:"Alice J." doc:"Name shown to others"`
	Pronouns    *string `json:"pronouns,omitempty" rule:"person.pronouns" nullable:"true" example:"she/her" doc:"Pronouns; null clears them"`
}

type patchMeInput struct {
	IfMatch string `header:"If-Match" doc:"The ETag from your last read (required)"`
	RawBody []byte
	Body    MePatch `contentType:"application/merge-patch+json"`
}

func (s *Server) registerMe() {
	handle(s.api, op(http.MethodGet, "/v1/me", "getMe", "Me", "Who am I",
		"Returns the caller's person: id, display name, roles, client_id when they are a client, and the clients they support "+
			"(supporting). The person is created on the first authenticated request.", "profile:read"),
		func(ctx context.Context, _ *struct{}) (*meOutput, error) {
			a := actorFrom(ctx)
			p, err := s.store.GetPerson(ctx, a, a.PersonID)
			if err != nil {
				return nil, err
			}
			return s.meOut(ctx, p)
		})

	handle(s.api, op(http.MethodPatch, "/v1/me", "patchMe", "Me", "Change my display name or pronouns",
		"JSON Merge Patch of the caller's own person. Requires If-Match with the ETag from GET /v1/me.",
		"profile:write", http.StatusUnprocessableEntity, http.StatusPreconditionFailed, http.StatusPreconditionRequired),
		func(ctx context.Context, in *patchMeInput) (*meOutput, error) {
			a := actorFrom(ctx)
			k := parseMergeKeys(in.RawBody)
			patch := domain.PersonPatch{
				DisplayName: patchValue(k, "display_name", in.Body.DisplayName),
				Pronouns:    patchValue(k, "pronouns", in.Body.Pronouns),
			}
			p, err := conditionalWrite(in.IfMatch, func(v domain.Precondition) (domain.Person, error) {
				return s.store.UpdateMe(ctx, a, v, patch)
			})
			if err != nil {
				return nil, err
			}
			return s.meOut(ctx, p)
		})
}
