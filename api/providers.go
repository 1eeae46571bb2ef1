package api

import (
	"context"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/domain"
)

// StaffPath addresses one person's link to an organization.
type StaffPath struct {
	OrganizationID uuid.UUID `path:"organizationId" doc:"Organization id"`
	PersonID       uuid.UUID `path:"personId" doc:"The staff member's person id"`
}

// OrganizationStaff is a person linked to a directory organization; with the
// provider role they see the referrals to its services, as clients share them.
type OrganizationStaff struct {
	OrganizationID uuid.UUID `json:"organization_id"`
	PersonID       uuid.UUID `json:"person_id"`
	DisplayName    string    `json:"display_name" rule:"person.name" example:"Pia Novak"`
	AddedBy        uuid.UUID `json:"added_by" doc:"The administrator who linked them"`
	AddedAt        time.Time `json:"added_at"`
}

type staffOutput struct {
	Status int
	Body   OrganizationStaff
}

type listProviderReferralsInput struct {
	Status    string    `query:"status" rule:"referral.status" doc:"Only referrals in this status"`
	ServiceID uuid.UUID `query:"service_id" doc:"Only referrals to this service"`
	Since     time.Time `query:"since" doc:"Only referrals changed at or after this time (RFC 3339)"`
	PageParams
}

func (s *Server) registerProviders() {
	handle(s.api, alsoAnswers(op(http.MethodPut, "/v1/organizations/{organizationId}/staff/{personId}", "putOrganizationStaff", "Providers",
		"Link a person to an organization as staff",
		"Administrators only (403 for others). With the provider role, the person then sees the referrals to the organization's "+
			"services, only as each client shares them, and may move their status. Idempotent: 201 when linked, 200 when already "+
			"staff. An unknown organization or person is 404.",
		"directory:write", http.StatusNotFound, http.StatusUnprocessableEntity), http.StatusCreated),
		func(ctx context.Context, in *StaffPath) (*staffOutput, error) {
			m, created, err := s.store.AddOrganizationStaff(ctx, actorFrom(ctx), in.OrganizationID, in.PersonID)
			if err != nil {
				return nil, err
			}
			st := http.StatusOK
			if created {
				st = http.StatusCreated
			}
			return &staffOutput{Status: st, Body: OrganizationStaff{OrganizationID: m.OrganizationID, PersonID: m.PersonID,
				DisplayName: m.DisplayName, AddedBy: m.AddedBy, AddedAt: m.AddedAt.UTC()}}, nil
		})

	del := op(http.MethodDelete, "/v1/organizations/{organizationId}/staff/{personId}", "deleteOrganizationStaff", "Providers",
		"Unlink a person from an organization",
		"Administrators only (403 for others). Idempotent (204 whether or not they were staff). They lose sight of the "+
			"organization's referrals at once. An unknown organization is 404.",
		"directory:write", http.StatusNotFound, http.StatusUnprocessableEntity)
	del.DefaultStatus = http.StatusNoContent
	handle(s.api, del, func(ctx context.Context, in *StaffPath) (*struct{}, error) {
		return nil, s.store.RemoveOrganizationStaff(ctx, actorFrom(ctx), in.OrganizationID, in.PersonID)
	})

	handle(s.api, op(http.MethodGet, "/v1/provider/referrals", "listProviderReferrals", "Providers", "List the referrals to my organizations",
		"For providers (staff of directory organizations; 403 for other roles): the referrals to the services of your organizations, "+
			"newest first, each as the client shares it (shared holds the client's shared details; goal_id is null; note is empty "+
			"unless shared). Filters: status, service_id, since (changed at or after). Every referral listed is written to its "+
			"client's access log with relationship provider.",
		"referrals:read", http.StatusUnprocessableEntity),
		func(ctx context.Context, in *listProviderReferralsInput) (*referralsOutput, error) {
			f := domain.ProviderReferralFilter{Status: in.Status}
			if in.ServiceID != uuid.Nil {
				f.ServiceID = &in.ServiceID
			}
			if !in.Since.IsZero() {
				f.Since = &in.Since
			}
			rows, next, err := s.store.ListProviderReferrals(ctx, actorFrom(ctx), f, in.Cursor, in.Limit)
			if err != nil {
				return nil, err
			}
			return &referralsOutput{Body: newPage(rows, next, referralDTO)}, nil
		})
}
