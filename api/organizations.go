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
	Version int64 `json:"version" example:"2" doc:"Version, also the ETag (Waypoint extension)"`
}

// OrganizationInput is a whole organization (POST creates, PUT replaces its
// own members). Its locations and services are managed on their own resources.
type OrganizationInput struct {
	Name                    string                        `json:"name" minLength:"1" maxLength:"300" example:"Ballard Community Services"`
	AlternateName           string                        `json:"alternate_name,omitempty" maxLength:"300"`
	Description             string                        `json:"description" maxLength:"10000" example:"A community-based nonprofit serving Seattle since 1972."`
	Email                   string                        `json:"email,omitempty" maxLength:"254"`
	Website                 string                        `json:"website,omitempty" maxLength:"2000"`
	TaxStatus               string                        `json:"tax_status,omitempty" maxLength:"200"`
	TaxID                   string                        `json:"tax_id,omitempty" maxLength:"200"`
	YearIncorporated        *float64                      `json:"year_incorporated,omitempty" minimum:"1000" maximum:"3000"`
	LegalStatus             string                        `json:"legal_status,omitempty" maxLength:"200"`
	Logo                    string                        `json:"logo,omitempty" maxLength:"2000"`
	URI                     string                        `json:"uri,omitempty" maxLength:"2000"`
	ParentOrganizationID    uuid.UUID                     `json:"parent_organization_id,omitzero"`
	Funding                 []hsds.Funding                `json:"funding,omitempty" maxItems:"50"`
	Contacts                []hsds.Contact                `json:"contacts,omitempty" maxItems:"50"`
	Phones                  []hsds.Phone                  `json:"phones,omitempty" maxItems:"50"`
	Programs                []hsds.Program                `json:"programs,omitempty" maxItems:"50"`
	OrganizationIdentifiers []hsds.OrganizationIdentifier `json:"organization_identifiers,omitempty" maxItems:"50"`
	Attributes              []hsds.Attribute              `json:"attributes,omitempty" maxItems:"50"`
	Metadata                []hsds.Metadata               `json:"metadata,omitempty" maxItems:"200"`
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
	ETag         string `header:"ETag" doc:"Strong ETag: the organization's version"`
	Location     string `header:"Location" doc:"The organization's URL (on create)"`
	CacheControl string `header:"Cache-Control"`
	Status       int
	Body         OrganizationDetail
}

func organizationOut(d domain.DirectoryOrganization, status int) *organizationOutput {
	o := &organizationOutput{ETag: etag(d.Version), CacheControl: "no-cache", Status: status,
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
			d, err := s.store.ReplaceOrganization(ctx, actorFrom(ctx), in.OrganizationID, ifMatchVersion(in.IfMatch), in.Body.hsds())
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
		return nil, s.store.DeleteOrganization(ctx, actorFrom(ctx), in.OrganizationID, ifMatchVersion(in.IfMatch))
	})
}
