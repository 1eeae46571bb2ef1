package api

import (
	"context"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/domain"
)

// OrganizationRef names an organization.
type OrganizationRef struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name" rule:"hsds.name" example:"Ballard Community Services"`
}

// ServiceSummary names a directory service (read it in full at /v1/services/{id}).
type ServiceSummary struct {
	ID           uuid.UUID       `json:"id"`
	Name         string          `json:"name" rule:"hsds.name" example:"Ballard Food Pantry"`
	Status       string          `json:"status" rule:"hsds.service_status" example:"active"`
	Description  string          `json:"description,omitempty" rule:"hsds.description"`
	Organization OrganizationRef `json:"organization"`
}

func serviceSummaryDTO(s domain.ServiceSummary) ServiceSummary {
	return ServiceSummary{ID: s.ID, Name: s.Name, Status: s.Status, Description: s.Description,
		Organization: OrganizationRef{ID: s.OrganizationID, Name: s.OrganizationName}}
}

// SavedService is a service on a client's list.
type SavedService struct {
	Service ServiceSummary `json:"service"`
	SavedBy uuid.UUID      `json:"saved_by" doc:"Who saved it: the client or a worker on their care team"`
	SavedAt time.Time      `json:"saved_at"`
}

func savedDTO(s domain.SavedService) SavedService {
	return SavedService{Service: serviceSummaryDTO(s.Service), SavedBy: s.SavedBy, SavedAt: s.SavedAt}
}

// SavedServicePath addresses one saved service of a client.
type SavedServicePath struct {
	ClientID  uuid.UUID `path:"clientId" doc:"Client id"`
	ServiceID uuid.UUID `path:"serviceId" doc:"Service id"`
}

type listSavedInput struct {
	ClientPath
	PageParams
}

type savedPageOutput struct {
	Body Page[SavedService]
}

type savedOutput struct {
	Status int
	Body   SavedService
}

func (s *Server) registerSavedServices() {
	handle(s.api, op(http.MethodGet, "/v1/clients/{clientId}/saved-services", "listSavedServices", "Saved services",
		"List a client's saved services",
		"The services the client keeps on their list, oldest first. Visible to the client and their care team; "+
			"anyone else (administrators included) gets 404. Reads by a worker are recorded in the client's access log. "+
			"The list is the client's own data, so it needs profile:read (services:read covers only the public directory).",
		"profile:read", http.StatusNotFound, http.StatusUnprocessableEntity),
		func(ctx context.Context, in *listSavedInput) (*savedPageOutput, error) {
			rows, next, err := s.store.ListSavedServices(ctx, actorFrom(ctx), in.ClientID, in.Cursor, in.Limit)
			if err != nil {
				return nil, err
			}
			return &savedPageOutput{Body: newPage(rows, next, savedDTO)}, nil
		})

	handle(s.api, alsoAnswers(op(http.MethodPut, "/v1/clients/{clientId}/saved-services/{serviceId}", "saveService", "Saved services",
		"Save a service to a client's list",
		"Idempotent membership (no If-Match): 201 when added, 200 when it was already there. The client and workers on "+
			"their care team may (scope profile:write); others get 404, as does an unknown service.",
		"profile:write", http.StatusNotFound, http.StatusUnprocessableEntity), http.StatusCreated),
		func(ctx context.Context, in *SavedServicePath) (*savedOutput, error) {
			sv, created, err := s.store.SaveService(ctx, actorFrom(ctx), in.ClientID, in.ServiceID)
			if err != nil {
				return nil, err
			}
			st := http.StatusOK
			if created {
				st = http.StatusCreated
			}
			return &savedOutput{Status: st, Body: savedDTO(sv)}, nil
		})

	del := op(http.MethodDelete, "/v1/clients/{clientId}/saved-services/{serviceId}", "unsaveService", "Saved services",
		"Remove a service from a client's list",
		"Idempotent (204 whether or not it was saved; no If-Match). The client and workers on their care team may "+
			"(scope profile:write); others get 404.",
		"profile:write", http.StatusNotFound, http.StatusUnprocessableEntity)
	del.DefaultStatus = http.StatusNoContent
	handle(s.api, del, func(ctx context.Context, in *SavedServicePath) (*struct{}, error) {
		return nil, s.store.UnsaveService(ctx, actorFrom(ctx), in.ClientID, in.ServiceID)
	})
}
