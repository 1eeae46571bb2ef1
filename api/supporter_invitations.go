package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/domain"
)

const supporterTag = "Supporters"

// SupporterInvitation is a client's invitation of a supporter: a one-time
// code with the shares it grants.
type SupporterInvitation struct {
	ID       uuid.UUID `json:"id" doc:"Invitation id (UUIDv7)"`
	ClientID uuid.UUID `json:"client_id" doc:"The client who invites"`
	Code     string    `json:"code,omitempty" rule:"supporter.code" example:"7KQ2-M9XD-4HTB" doc:"The one-time code to hand to the person invited (12 letters and digits; case, dashes and spaces do not matter when typed, O reads as 0, I and L as 1). Only in the answer to the request that created the invitation: Waypoint keeps only its hash and cannot show it again (a retry with the same Idempotency-Key gets a new code for the same invitation, and the first stops working)."`
	Shares   []string  `json:"shares" rule:"supporter.shares" example:"[\"goals\",\"saved_services\"]" doc:"What the supporter will be able to read (never change)"`
	// AccessExpiresAt is when the granted access will end.
	AccessExpiresAt *time.Time `json:"access_expires_at" doc:"When the supporter's access ends by itself; null: when the client ends it"`
	ExpiresAt       time.Time  `json:"expires_at" doc:"Until when the code can be redeemed (7 days after creation)"`
	CreatedAt       time.Time  `json:"created_at"`
}

func invitationDTO(i domain.SupporterInvitation) SupporterInvitation {
	return SupporterInvitation{ID: i.ID, ClientID: i.ClientID, Code: i.Code, Shares: orEmpty(i.Shares),
		AccessExpiresAt: utcPtr(i.AccessExpiresAt), ExpiresAt: i.ExpiresAt.UTC(), CreatedAt: i.CreatedAt.UTC()}
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// SupporterInvitationCreate is what the client grants with an invitation.
type SupporterInvitationCreate struct {
	Shares          []string   `json:"shares" rule:"supporter.shares" minItems:"1" example:"[\"goals\",\"saved_services\"]" doc:"Any non-empty set of goals (with their steps, check-ins and history), referrals, saved_services, assessments: read-only"`
	AccessExpiresAt *time.Time `json:"access_expires_at,omitempty" doc:"When the supporter's access ends by itself (in the future); leave out for access until the client ends it"`
}

// RedeemRequest carries an invitation code.
type RedeemRequest struct {
	Code string `json:"code" rule:"supporter.code" example:"7KQ2-M9XD-4HTB" doc:"The code the client gave you"`
}

type createInvitationInput struct {
	ClientPath
	Body SupporterInvitationCreate
}

type invitationCreatedOutput struct {
	Body SupporterInvitation
}

type listInvitationsInput struct {
	ClientPath
	PageParams
}

type invitationsOutput struct {
	Body Page[SupporterInvitation]
}

// InvitationPath addresses one invitation of a client.
type InvitationPath struct {
	ClientID     uuid.UUID `path:"clientId" doc:"Client id"`
	InvitationID uuid.UUID `path:"invitationId" doc:"Invitation id"`
}

type redeemInput struct {
	Body RedeemRequest
}

type redeemOutput struct {
	Location string `header:"Location" doc:"The new supporter's URL"`
	ETag     string `header:"ETag" doc:"Strong ETag: the grant's version"`
	Body     Supporter
}

func (s *Server) registerSupporterInvitations() {
	create := IdempotentSecret(op(http.MethodPost, "/v1/clients/{clientId}/supporter-invitations", "createSupporterInvitation", supporterTag,
		"Invite a supporter",
		"The client (only the client: their care team and administrators get 403, anyone else 404) invites a person of their "+
			"choosing — family, a friend, a peer advocate — to read some of their records. The answer carries a one-time code "+
			"to hand over in person or by a channel the client trusts; it can be redeemed once, within 7 days, by whoever holds it "+
			"(POST /v1/supporter-invitations/redeem). Waypoint stores only the code's hash, so it is shown this once. "+
			"Unlike other creations, a retry with the same Idempotency-Key answers the same invitation with a new code "+
			"(the first one, never received, stops working).",
		"privacy:write", notFound, invalid, tooLarge, badType), "code", s.renewInvitationCode)
	create.DefaultStatus = http.StatusCreated
	handle(s.api, create, func(ctx context.Context, in *createInvitationInput) (*invitationCreatedOutput, error) {
		inv, err := s.store.CreateSupporterInvitation(ctx, actorFrom(ctx), in.ClientID, domain.InvitationInput{
			Shares: in.Body.Shares, AccessExpiresAt: in.Body.AccessExpiresAt,
		})
		if err != nil {
			return nil, err
		}
		return &invitationCreatedOutput{Body: invitationDTO(inv)}, nil
	})

	handle(s.api, op(http.MethodGet, "/v1/clients/{clientId}/supporter-invitations", "listSupporterInvitations", supporterTag,
		"List pending supporter invitations",
		"The client's invitations that can still be redeemed (not used, cancelled or expired), oldest first, without their "+
			"codes. The client only (care team and administrators: 403; anyone else: 404).",
		"privacy:read", notFound, invalid),
		func(ctx context.Context, in *listInvitationsInput) (*invitationsOutput, error) {
			rows, next, err := s.store.ListSupporterInvitations(ctx, actorFrom(ctx), in.ClientID, in.Cursor, in.Limit)
			if err != nil {
				return nil, err
			}
			return &invitationsOutput{Body: newPage(rows, next, invitationDTO)}, nil
		})

	del := op(http.MethodDelete, "/v1/clients/{clientId}/supporter-invitations/{invitationId}", "cancelSupporterInvitation", supporterTag,
		"Cancel a supporter invitation",
		"Voids the code at once. The client only. Idempotent (204 also when the invitation is already gone or expired; "+
			"no If-Match: an invitation never changes). An invitation already redeemed is 409: remove the supporter instead.",
		"privacy:write", notFound, invalid, conflict)
	del.DefaultStatus = http.StatusNoContent
	handle(s.api, del, func(ctx context.Context, in *InvitationPath) (*struct{}, error) {
		return nil, s.store.CancelSupporterInvitation(ctx, actorFrom(ctx), in.ClientID, in.InvitationID)
	})

	redeem := Idempotent(op(http.MethodPost, "/v1/supporter-invitations/redeem", "redeemSupporterInvitation", supporterTag,
		"Redeem a supporter invitation",
		"Any signed-in person, with or without a Waypoint role, becomes a supporter of the client who gave them the code, "+
			"with the shares the invitation names. A code that is wrong, expired, cancelled or already used is the same 404 "+
			"(nothing tells them apart); a code that is not 12 letters and digits is 422. Each person may try 10 codes per hour "+
			"(429 with Retry-After after that; a successful redemption starts the count again). Redeeming your own invitation is "+
			"422; redeeming one from a client you already support is 409 (the client changes your shares instead), and so is "+
			"redeeming one while you support 100 clients, the most one person can; in all these cases the code stays valid. "+
			"The client's access log records the redemption.",
		"privacy:write", notFound, invalid, conflict, http.StatusTooManyRequests, tooLarge, badType), s.replayForSupporter)
	redeem.DefaultStatus = http.StatusCreated
	handle(s.api, redeem, func(ctx context.Context, in *redeemInput) (*redeemOutput, error) {
		sp, err := s.store.RedeemSupporterInvitation(ctx, actorFrom(ctx), in.Body.Code)
		if err != nil {
			return nil, err
		}
		return &redeemOutput{Location: supporterURL(sp.ClientID, sp.PersonID), ETag: etag(sp.Version), Body: supporterDTO(sp)}, nil
	})
}

func supporterURL(clientID, personID uuid.UUID) string {
	return "/v1/clients/" + clientID.String() + "/supporters/" + personID.String()
}

// renewInvitationCode answers a replayed invitation: the stored body lacks
// the code, so the invitation gets a new one (the client only, as creating).
func (s *Server) renewInvitationCode(ctx context.Context, hc huma.Context, stored []byte) ([]byte, error) {
	clientID, err := pathUUID(hc, "clientId")
	if err != nil {
		return nil, err
	}
	var inv SupporterInvitation
	if err := json.Unmarshal(stored, &inv); err != nil {
		return nil, fmt.Errorf("decode stored invitation: %w", err)
	}
	if inv.Code, err = s.store.ReissueInvitationCode(ctx, actorFrom(ctx), clientID, inv.ID); err != nil {
		return nil, err
	}
	return json.Marshal(inv)
}

// replayForSupporter guards a replayed redemption: the caller must still
// hold the grant it created.
func (s *Server) replayForSupporter(ctx context.Context, _ huma.Context, body []byte) error {
	var sp struct {
		ClientID uuid.UUID `json:"client_id"`
	}
	if err := json.Unmarshal(body, &sp); err != nil {
		return fmt.Errorf("decode stored supporter: %w", err)
	}
	return s.store.ReplayForSupporter(ctx, actorFrom(ctx), sp.ClientID)
}
