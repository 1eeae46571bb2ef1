package api

import (
	"context"
	"net/http"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/domain"
	"github.com/waypoint-portal/waypoint/domain/hsds"
)

// LocationDetail is an HSDS location with its languages and schedules.
type LocationDetail struct {
	hsds.Location
	Version int64 `json:"version" rule:"version" example:"1" doc:"Version, also the ETag (Waypoint extension)"`
}

// LocationInput is a whole location (POST creates, PUT replaces).
type LocationInput struct {
	LocationType           string               `json:"location_type" rule:"hsds.location_type" example:"physical"`
	URL                    string               `json:"url,omitempty" rule:"hsds.url"`
	OrganizationID         uuid.UUID            `json:"organization_id,omitzero" doc:"The organization the place belongs to"`
	Name                   string               `json:"name,omitempty" rule:"hsds.optional_name" example:"Ballard Community Center"`
	AlternateName          string               `json:"alternate_name,omitempty" rule:"hsds.optional_name"`
	Description            string               `json:"description,omitempty" rule:"hsds.description"`
	Transportation         string               `json:"transportation,omitempty" rule:"hsds.text"`
	Latitude               *float64             `json:"latitude,omitempty" minimum:"-90" maximum:"90" example:"47.6687"`
	Longitude              *float64             `json:"longitude,omitempty" minimum:"-180" maximum:"180" example:"-122.3841"`
	ExternalIdentifier     string               `json:"external_identifier,omitempty" rule:"hsds.short_text"`
	ExternalIdentifierType string               `json:"external_identifier_type,omitempty" rule:"hsds.short_text"`
	Timezone               string               `json:"timezone,omitempty" rule:"hsds.timezone" example:"America/Los_Angeles" doc:"IANA time zone of the place (Waypoint extension); opening hours are local to it. Without it, a schedule's HSDS UTC offset, else UTC, is used."`
	Languages              []hsds.Language      `json:"languages,omitempty" rule:"hsds.list"`
	Addresses              []hsds.Address       `json:"addresses,omitempty" rule:"hsds.addresses"`
	Contacts               []hsds.Contact       `json:"contacts,omitempty" rule:"hsds.list"`
	Accessibility          []hsds.Accessibility `json:"accessibility,omitempty" rule:"hsds.list"`
	Phones                 []hsds.Phone         `json:"phones,omitempty" rule:"hsds.list"`
	Schedules              []hsds.Schedule      `json:"schedules,omitempty" rule:"hsds.list" doc:"Opening hours of the place (used when neither the service nor the service-at-location has its own)"`
	Attributes             []hsds.Attribute     `json:"attributes,omitempty" rule:"hsds.list"`
	Metadata               []hsds.Metadata      `json:"metadata,omitempty" rule:"hsds.linked_records"`
}

func (in LocationInput) hsds() hsds.Location {
	return hsds.Location{
		LocationType: in.LocationType, URL: in.URL, OrganizationID: in.OrganizationID, Name: in.Name,
		AlternateName: in.AlternateName, Description: in.Description, Transportation: in.Transportation,
		Latitude: in.Latitude, Longitude: in.Longitude, ExternalIdentifier: in.ExternalIdentifier,
		ExternalIdentifierType: in.ExternalIdentifierType, Timezone: in.Timezone, Languages: in.Languages,
		Addresses: in.Addresses, Contacts: in.Contacts, Accessibility: in.Accessibility, Phones: in.Phones,
		Schedules: in.Schedules, Attributes: in.Attributes, Metadata: in.Metadata,
	}
}

// LocationPath is the {locationId} path parameter.
type LocationPath struct {
	LocationID uuid.UUID `path:"locationId" doc:"Location id"`
}

type locationOutput struct {
	ETag     string `header:"ETag" doc:"Strong ETag: the location's version"`
	Location string `header:"Location" doc:"The location's URL (on create)"`
	Status   int
	Body     LocationDetail
}

func locationOut(d domain.DirectoryLocation, status int) *locationOutput {
	o := &locationOutput{ETag: etag(d.Version), Status: status,
		Body: LocationDetail{Location: d.Location, Version: d.Version}}
	if status == http.StatusCreated {
		o.Location = "/v1/locations/" + d.ID.String()
	}
	return o
}

type createLocationInput struct {
	Body LocationInput
}

type replaceLocationInput struct {
	LocationPath
	IfMatch string `header:"If-Match" doc:"The ETag from your last read (required)"`
	Body    LocationInput
}

type deleteLocationInput struct {
	LocationPath
	IfMatch string `header:"If-Match" doc:"The ETag from your last read (required)"`
}

func (s *Server) registerLocations() {
	handle(s.api, op(http.MethodGet, "/v1/locations/{locationId}", "getLocation", "Directory", "Get a location",
		"The HSDS location with addresses, accessibility, phones, languages and opening hours.",
		"services:read", http.StatusNotFound, http.StatusUnprocessableEntity),
		func(ctx context.Context, in *LocationPath) (*locationOutput, error) {
			d, err := s.store.GetLocation(ctx, in.LocationID)
			if err != nil {
				return nil, err
			}
			return locationOut(d, http.StatusOK), nil
		})

	create := Idempotent(op(http.MethodPost, "/v1/locations", "createLocation", "Directory", "Add a location",
		"Adds a place where services are delivered (new UUIDv7 id); link services to it through their service_at_locations."+directoryWriteRules,
		"directory:write", http.StatusUnprocessableEntity), replayForDirectory)
	create.DefaultStatus = http.StatusCreated
	handle(s.api, create, func(ctx context.Context, in *createLocationInput) (*locationOutput, error) {
		d, err := s.store.CreateLocation(ctx, actorFrom(ctx), in.Body.hsds())
		if err != nil {
			return nil, err
		}
		return locationOut(d, http.StatusCreated), nil
	})

	handle(s.api, op(http.MethodPut, "/v1/locations/{locationId}", "replaceLocation", "Directory", "Replace a location",
		"Replaces the location (members left out are cleared); the services delivered there are re-indexed in the same "+
			"transaction (place, hours, languages). Requires If-Match."+directoryWriteRules,
		"directory:write", http.StatusNotFound, http.StatusUnprocessableEntity, http.StatusPreconditionFailed, http.StatusPreconditionRequired),
		func(ctx context.Context, in *replaceLocationInput) (*locationOutput, error) {
			d, err := conditionalWrite(in.IfMatch, func(v domain.Precondition) (domain.DirectoryLocation, error) {
				return s.store.ReplaceLocation(ctx, actorFrom(ctx), in.LocationID, v, in.Body.hsds())
			})
			if err != nil {
				return nil, err
			}
			return locationOut(d, http.StatusOK), nil
		})

	del := op(http.MethodDelete, "/v1/locations/{locationId}", "deleteLocation", "Directory", "Delete a location",
		"Removes a location; services delivered there lose it (and are re-indexed). Requires If-Match."+directoryWriteRules,
		"directory:write", http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity,
		http.StatusPreconditionFailed, http.StatusPreconditionRequired)
	del.DefaultStatus = http.StatusNoContent
	handle(s.api, del, func(ctx context.Context, in *deleteLocationInput) (*struct{}, error) {
		return nil, conditionalDo(in.IfMatch, func(v domain.Precondition) error {
			return s.store.DeleteLocation(ctx, actorFrom(ctx), in.LocationID, v)
		})
	})
}
