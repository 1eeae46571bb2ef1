package api

import (
	"context"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/domain"
)

// Supporter is a person a client lets read some of their records.
type Supporter struct {
	ClientID          uuid.UUID  `json:"client_id" doc:"The client supported"`
	PersonID          uuid.UUID  `json:"person_id" doc:"The supporter"`
	DisplayName       string     `json:"display_name" rule:"person.name" example:"Sam Johnson" doc:"The supporter's name"`
	ClientDisplayName string     `json:"client_display_name" rule:"person.name" example:"Alice Johnson" doc:"The client's name"`
	Shares            []string   `json:"shares" rule:"supporter.shares" example:"[\"goals\"]" doc:"What the supporter may read (never change)"`
	AccessExpiresAt   *time.Time `json:"access_expires_at" doc:"When the access ends by itself; null: when the client (or the supporter) ends it"`
	Status            string     `json:"status" rule:"supporter.status" example:"active" doc:"expired once access_expires_at has passed: the supporter then reads nothing until the client sets a new date"`
	AddedAt           time.Time  `json:"added_at"`
	UpdatedAt         time.Time  `json:"updated_at"`
	Version           int64      `json:"version" rule:"version" example:"1" doc:"Version, also the ETag"`
}

func supporterDTO(s domain.Supporter) Supporter {
	return Supporter{ClientID: s.ClientID, PersonID: s.PersonID, DisplayName: s.DisplayName,
		ClientDisplayName: s.ClientDisplayName, Shares: orEmpty(s.Shares), AccessExpiresAt: utcPtr(s.AccessExpiresAt),
		Status: s.Status, AddedAt: s.AddedAt.UTC(), UpdatedAt: s.UpdatedAt.UTC(), Version: s.Version}
}

// SupporterPatch is a JSON Merge Patch of a supporter's grant.
type SupporterPatch struct {
	Shares          *[]string  `json:"shares,omitempty" rule:"supporter.shares" minItems:"1" example:"[\"goals\",\"referrals\"]" doc:"Replaces the shares (at least one; to end access, DELETE the supporter)"`
	AccessExpiresAt *time.Time `json:"access_expires_at,omitempty" nullable:"true" doc:"A new end of access (in the future); null: no end date"`
}

// SupporterPath addresses one supporter of a client.
type SupporterPath struct {
	ClientID uuid.UUID `path:"clientId" doc:"Client id"`
	PersonID uuid.UUID `path:"personId" doc:"The supporter's person id"`
}

type listSupportersInput struct {
	ClientPath
	PageParams
}

type supportersOutput struct {
	Body Page[Supporter]
}

type supporterOutput struct {
	ETag string `header:"ETag" doc:"Strong ETag: the grant's version"`
	Body Supporter
}

type patchSupporterInput struct {
	SupporterPath
	IfMatch string `header:"If-Match" doc:"The ETag from your last read (required)"`
	RawBody []byte
	Body    SupporterPatch `contentType:"application/merge-patch+json"`
}

func (s *Server) registerSupporters() {
	handle(s.api, op(http.MethodGet, "/v1/clients/{clientId}/supporters", "listSupporters", supporterTag, "List a client's supporters",
		"The people the client lets read some of their records, oldest first, with what each may read and until when. "+
			"The client sees all of them; a supporter sees only themself (never who else supports the client). The care team "+
			"and administrators get 403, anyone else 404. A supporter's read is recorded in the client's access log.",
		"privacy:read", notFound, invalid),
		func(ctx context.Context, in *listSupportersInput) (*supportersOutput, error) {
			rows, next, err := s.store.ListSupporters(ctx, actorFrom(ctx), in.ClientID, in.Cursor, in.Limit)
			if err != nil {
				return nil, err
			}
			return &supportersOutput{Body: newPage(rows, next, supporterDTO)}, nil
		})

	handle(s.api, op(http.MethodGet, "/v1/clients/{clientId}/supporters/{personId}", "getSupporter", supporterTag, "Get a supporter",
		"One supporter's grant and its ETag: for the client, or for the supporter themself; anyone else gets 404.",
		"privacy:read", notFound, invalid),
		func(ctx context.Context, in *SupporterPath) (*supporterOutput, error) {
			sp, err := s.store.GetSupporter(ctx, actorFrom(ctx), in.ClientID, in.PersonID)
			if err != nil {
				return nil, err
			}
			return &supporterOutput{ETag: etag(sp.Version), Body: supporterDTO(sp)}, nil
		})

	handle(s.api, op(http.MethodPatch, "/v1/clients/{clientId}/supporters/{personId}", "patchSupporter", supporterTag,
		"Change what a supporter may read",
		"JSON Merge Patch of the shares and the end of access (null: none); the next request of the supporter sees the change. "+
			"The client only (the supporter themself: 403; anyone else: 404). Requires If-Match: 428 without it, 412 with the "+
			"current ETag when the grant changed since.",
		"privacy:write", notFound, invalid, stale, noMatch, tooLarge, badType),
		func(ctx context.Context, in *patchSupporterInput) (*supporterOutput, error) {
			k := parseMergeKeys(in.RawBody)
			p := domain.SupporterPatch{
				Shares:          patchValue(k, "shares", in.Body.Shares),
				AccessExpiresAt: patchValue(k, "access_expires_at", in.Body.AccessExpiresAt),
			}
			sp, err := conditionalWrite(in.IfMatch, func(v domain.Precondition) (domain.Supporter, error) {
				return s.store.UpdateSupporter(ctx, actorFrom(ctx), in.ClientID, in.PersonID, v, p)
			})
			if err != nil {
				return nil, err
			}
			return &supporterOutput{ETag: etag(sp.Version), Body: supporterDTO(sp)}, nil
		})

	del := op(http.MethodDelete, "/v1/clients/{clientId}/supporters/{personId}", "deleteSupporter", supporterTag,
		"End a supporter's access",
		"Ends the access at once: the supporter's next request sees nothing of the client. The client may remove any "+
			"supporter (idempotent: 204 also when the person was not one); a supporter may leave a client's circle "+
			"(404 once they have). No If-Match: a membership, like a care team's. The care team and administrators get 403, "+
			"anyone else 404.",
		"privacy:write", notFound, invalid)
	del.DefaultStatus = http.StatusNoContent
	handle(s.api, del, func(ctx context.Context, in *SupporterPath) (*struct{}, error) {
		return nil, s.store.RemoveSupporter(ctx, actorFrom(ctx), in.ClientID, in.PersonID)
	})
}
