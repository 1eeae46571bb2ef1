package api

import (
	"context"
	"net/http"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/domain"
	"github.com/waypoint-portal/waypoint/domain/hsds"
)

// OrganizationDetail is an HSDS organization with its locations and services
// (services by id, name, status and description; read each for the rest).
type OrganizationDetail struct {
	hsds.Organization
	Version int64 `json:"version" rule:"version" example:"2" doc:"Version, also the ETag (Waypoint extension)"`
}

// OrganizationInput is a whole organization (POST creates, PUT replaces its
// own members). Its locations and services are managed on their own resources.
type OrganizationInput struct {
	Name                    string                        `json:"name" rule:"hsds.name" example:"Ballard Community Services"`
	AlternateName           string                        `json:"alternate_name,omitempty" rule:"hsds.optional_name"`
	Description             string                        `json:"description" rule:"hsds.description" example:"A community-based nonprofit serving Seattle since 1972."`
	Email                   string                        `json:"email,omitempty" rule:"email"`
	Website                 string                        `json:"website,omitempty" rule:"hsds.url"`
	TaxStatus               string                        `json:"tax_status,omitempty" rule:"hsds.short_text"`
	TaxID                   string                        `json:"tax_id,omitempty" rule:"hsds.short_text"`
	YearIncorporated        *float64                      `json:"year_incorporated,omitempty" minimum:"1000" maximum:"3000"`
	LegalStatus             string                        `json:"legal_status,omitempty" rule:"hsds.short_text"`
	Logo                    string                        `json:"logo,omitempty" rule:"hsds.url"`
	URI                     string                        `json:"uri,omitempty" rule:"hsds.url"`
	ParentOrganizationID    uuid.UUID                     `json:"parent_organization_id,omitzero"`
	Funding                 []hsds.Funding                `json:"funding,omitempty" rule:"hsds.list"`
	Contacts                []hsds.Contact                `json:"contacts,omitempty" rule:"hsds.list"`
	Phones                  []hsds.Phone                  `json:"phones,omitempty" rule:"hsds.list"`
	Programs                []hsds.Program                `json:"programs,omitempty" rule:"hsds.list"`
	OrganizationIdentifiers []hsds.OrganizationIdentifier `json:"organization_identifiers,omitempty" rule:"hsds.list"`
	Attributes              []hsds.Attribute              `json:"attributes,omitempty" rule:"hsds.list"`
	Metadata                []hsds.Metadata               `json:"metadata,omitempty" rule:"hsds.linked_records"`
}

func (in OrganizationInput) hsds() hsds.Organization {
	return hsds.Organization{
		Name: in.Name, AlternateName: in.AlternateName, Description: in.Description, Email: in.Email, Website: in.Website,
		TaxStatus: in.TaxStatus, TaxID: in.TaxID, YearIncorporated: in.YearIncorporated, LegalStatus: in.LegalStatus,
		Logo: in.Logo, URI: in.URI, ParentOrganizationID: in.ParentOrganizationID, Funding: in.Funding,
		Contacts: in.Contacts, Phones: in.Phones, Programs: in.Programs, OrganizationIdentifiers: in.OrganizationIdentifiers,
		Attributes: in.Attributes, Metadata: in.Metadata,
	}
}

// OrganizationPath is the {organizationId} path parameter.
type OrganizationPath struct {
	OrganizationID uuid.UUID `path:"organizationId" doc:"Organization id"`
}

type organizationOutput struct {
	ETag     string `header:"ETag" doc:"Strong ETag: the organization's version"`
	Location string `header:"Location" doc:"The organization's URL (on create)"`
	Status   int
	Body     OrganizationDetail
}

func organizationOut(d domain.DirectoryOrganization, status int) *organizationOutput {
	o := &organizationOutput{ETag: etag(d.Version), Status: status,
		Body: OrganizationDetail{Organization: d.Organization, Version: d.Version}}
	if status == http.StatusCreated {
		o.Location = "/v1/organizations/" + d.ID.String()
	}
	return o
}

type createOrganizationInput struct {
	Body OrganizationInput
}

type replaceOrganizationInput struct {
	OrganizationPath
	IfMatch string `header:"If-Match" doc:"The ETag from your last read (required)"`
	Body    OrganizationInput
}

type deleteOrganizationInput struct {
	OrganizationPath
	IfMatch string `header:"If-Match" doc:"The ETag from your last read (required)"`
}

func (s *Server) registerOrganizations() {
	handle(s.api, op(http.MethodGet, "/v1/organizations/{organizationId}", "getOrganization", "Directory", "Get an organization",
		"The HSDS organization with its locations and services.",
		"services:read", http.StatusNotFound, http.StatusUnprocessableEntity),
		func(ctx context.Context, in *OrganizationPath) (*organizationOutput, error) {
			d, err := s.store.GetOrganization(ctx, in.OrganizationID)
			if err != nil {
				return nil, err
			}
			return organizationOut(d, http.StatusOK), nil
		})

	create := Idempotent(op(http.MethodPost, "/v1/organizations", "createOrganization", "Directory", "Add an organization",
		"Adds an organization (new UUIDv7 id)."+directoryWriteRules, "directory:write", http.StatusUnprocessableEntity), replayForDirectory)
	create.DefaultStatus = http.StatusCreated
	handle(s.api, create, func(ctx context.Context, in *createOrganizationInput) (*organizationOutput, error) {
		d, err := s.store.CreateOrganization(ctx, actorFrom(ctx), in.Body.hsds())
		if err != nil {
			return nil, err
		}
		return organizationOut(d, http.StatusCreated), nil
	})

	handle(s.api, op(http.MethodPut, "/v1/organizations/{organizationId}", "replaceOrganization", "Directory", "Replace an organization",
		"Replaces the organization's own members (members left out are cleared); its services are re-indexed (the "+
			"organization's name is searchable). Requires If-Match."+directoryWriteRules,
		"directory:write", http.StatusNotFound, http.StatusUnprocessableEntity, http.StatusPreconditionFailed, http.StatusPreconditionRequired),
		func(ctx context.Context, in *replaceOrganizationInput) (*organizationOutput, error) {
			d, err := conditionalWrite(in.IfMatch, func(v domain.Precondition) (domain.DirectoryOrganization, error) {
				return s.store.ReplaceOrganization(ctx, actorFrom(ctx), in.OrganizationID, v, in.Body.hsds())
			})
			if err != nil {
				return nil, err
			}
			return organizationOut(d, http.StatusOK), nil
		})

	del := op(http.MethodDelete, "/v1/organizations/{organizationId}", "deleteOrganization", "Directory", "Delete an organization",
		"Removes an organization that has no services or locations left (409 otherwise). Requires If-Match."+directoryWriteRules,
		"directory:write", http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity,
		http.StatusPreconditionFailed, http.StatusPreconditionRequired)
	del.DefaultStatus = http.StatusNoContent
	handle(s.api, del, func(ctx context.Context, in *deleteOrganizationInput) (*struct{}, error) {
		return nil, conditionalDo(in.IfMatch, func(v domain.Precondition) error {
			return s.store.DeleteOrganization(ctx, actorFrom(ctx), in.OrganizationID, v)
		})
	})
}
