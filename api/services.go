package api

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"time"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/domain"
	"github.com/waypoint-portal/waypoint/domain/hsds"
)

// The resource directory speaks Open Referral HSDS 3.0: objects use the HSDS
// member names and shapes of package hsds (the same definition the import and
// export files use), and GET /v1/services takes HSDS's query parameters and
// answers with its paginated shape.

// NDJSONType is the media type of format=ndjson (one JSON object per line).
const NDJSONType = "application/x-ndjson"

// OptionalParam is a query parameter that may be absent (Huma parameters
// cannot be pointers): Set tells whether it was sent.
type OptionalParam[T any] struct {
	Value T
	Set   bool
}

// Schema documents the parameter as its value type.
func (o OptionalParam[T]) Schema(r huma.Registry) *huma.Schema {
	return huma.SchemaFromType(r, reflect.TypeOf(o.Value))
}

// Receiver lets Huma parse into Value.
func (o *OptionalParam[T]) Receiver() reflect.Value { return reflect.ValueOf(o).Elem().Field(0) }

// OnParamSet records whether the parameter was present.
func (o *OptionalParam[T]) OnParamSet(isSet bool, _ any) { o.Set = isSet }

// ServiceResult is one search result: the HSDS service (organization id,
// name and description; languages; schedules; phones; its locations, nearest
// first) with the distance to its nearest location when the search has a point.
type ServiceResult struct {
	hsds.Service
	DistanceKM *float64 `json:"distance_km,omitempty" example:"1.284" doc:"Distance from lat/lon to the service's nearest location, in km (Waypoint extension; only when a point is given)"`
}

// ServicePage is a page of search results in HSDS's paginated shape.
type ServicePage struct {
	TotalItems int             `json:"total_items" rule:"count" example:"42" doc:"Number of services matching, over all pages"`
	TotalPages int             `json:"total_pages" rule:"count" example:"3"`
	PageNumber int             `json:"page_number" rule:"page.number" example:"1" doc:"This page's number, from 1"`
	Size       int             `json:"size" rule:"page.length" example:"20" doc:"Number of services on this page"`
	FirstPage  bool            `json:"first_page"`
	LastPage   bool            `json:"last_page"`
	Empty      bool            `json:"empty" doc:"True when this page has no services"`
	Contents   []ServiceResult `json:"contents" rule:"page.items"`
}

// ServiceDetail is a service in full (as HSDS's service_full example): its
// organization, locations with addresses, schedules, phones, languages,
// taxonomy terms (attributes), eligibility, fees (cost_options) and accessibility.
type ServiceDetail struct {
	hsds.Service
	Version int64 `json:"version" rule:"version" example:"3" doc:"Version, also the ETag (Waypoint extension)"`
}

type searchServicesInput struct {
	Search         string                 `query:"search" maxLength:"200" example:"food pantry" doc:"Full text over name, description, organization and taxonomy terms (web search syntax: quotes for phrases, - to exclude, or). Ranked; a search that finds nothing is retried with misspelt words corrected."`
	TaxonomyTermID uuid.UUID              `query:"taxonomy_term_id" format:"uuid" doc:"Services filed under this taxonomy term or any narrower one (422 when no term has this id)"`
	OrganizationID uuid.UUID              `query:"organization_id" format:"uuid" doc:"Services of this organization"`
	Lat            OptionalParam[float64] `query:"lat" minimum:"-90" maximum:"90" example:"47.61" doc:"Latitude of the point to search around (with lon and radius_km)"`
	Lon            OptionalParam[float64] `query:"lon" minimum:"-180" maximum:"180" example:"-122.33" doc:"Longitude of the point"`
	RadiusKM       OptionalParam[float64] `query:"radius_km" exclusiveMinimum:"0" maximum:"500" example:"5" doc:"Radius around the point in km (default 10)"`
	OpenNow        bool                   `query:"open_now" doc:"Only services open now (or at 'at'), evaluated in each location's own time zone"`
	At             time.Time              `query:"at" example:"2025-06-04T18:00:00Z" doc:"The moment open_now refers to (RFC 3339); default now"`
	Language       string                 `query:"language" rule:"language_tag" pattern:"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$" example:"es" doc:"Services offered in this language: ISO 639-1 or 639-3 code (es and spa are the same)"`
	Age            OptionalParam[float64] `query:"age" minimum:"0" maximum:"130" example:"34" doc:"Services whose eligible age range includes this age"`
	ModifiedAfter  time.Time              `query:"modified_after" doc:"Services modified on or after this time (RFC 3339)"`
	Status         []string               `query:"status" rule:"hsds.service_status" doc:"Service statuses to include (comma-separated); default active"`
	Sort           string                 `query:"sort" enum:"relevance,distance,name" doc:"Order: default distance with a point, relevance with search, else name"`
	Page           int                    `query:"page" rule:"page.number" default:"1" doc:"Page number, from 1 (HSDS); pages past the last are empty"`
	PerPage        int                    `query:"per_page" rule:"page.size" default:"20" doc:"Services per page, 1-100 (HSDS)"`
	Format         string                 `query:"format" enum:"json,ndjson" default:"json" doc:"json: one HSDS page; ndjson: every matching service, one per line, without pagination (HSDS)"`
}

func (in *searchServicesInput) filter() (domain.SearchFilter, error) {
	f := domain.SearchFilter{
		Search: in.Search, TaxonomyTermID: in.TaxonomyTermID, OrganizationID: in.OrganizationID,
		OpenNow: in.OpenNow, At: in.At, Language: in.Language, ModifiedAfter: in.ModifiedAfter,
		Statuses: in.Status, Sort: in.Sort, Page: in.Page, PerPage: in.PerPage,
	}
	// Huma checks ranges; these are the combinations it cannot express.
	switch {
	case in.Lat.Set != in.Lon.Set:
		field := "query.lon"
		if in.Lon.Set {
			field = "query.lat"
		}
		return f, invalidInput(field, "lat and lon go together")
	case in.RadiusKM.Set && !in.Lat.Set:
		return f, invalidInput("query.lat", "radius_km needs lat and lon")
	case !in.OpenNow && !in.At.IsZero():
		return f, invalidInput("query.at", "at is the moment for open_now; set open_now=true")
	}
	if in.Lat.Set {
		r := 10.0
		if in.RadiusKM.Set {
			r = in.RadiusKM.Value
		}
		f.Near = &domain.Near{Lat: in.Lat.Value, Lon: in.Lon.Value, RadiusKM: r}
	}
	if in.Age.Set {
		a := in.Age.Value
		f.Age = &a
	}
	return f, nil
}

type streamOutput struct {
	Body func(huma.Context)
}

// ServicePath is the {serviceId} path parameter.
type ServicePath struct {
	ServiceID uuid.UUID `path:"serviceId" doc:"Service id"`
}

type serviceOutput struct {
	ETag     string `header:"ETag" doc:"Strong ETag: the service's version"`
	Location string `header:"Location" doc:"The service's URL (on create)"`
	Status   int
	Body     ServiceDetail
}

func serviceOut(d domain.DirectoryService, status int) *serviceOutput {
	o := &serviceOutput{ETag: etag(d.Version), Status: status,
		Body: ServiceDetail{Service: d.Service, Version: d.Version}}
	if status == http.StatusCreated {
		o.Location = "/v1/services/" + d.ID.String()
	}
	return o
}

// ServiceAtLocationInput places a service at an existing location.
type ServiceAtLocationInput struct {
	ID          uuid.UUID        `json:"id,omitzero" doc:"Keep the id to keep the link; omit for a new one"`
	LocationID  uuid.UUID        `json:"location_id" doc:"An existing location (create it with POST /v1/locations)"`
	Description string           `json:"description,omitempty" rule:"hsds.text"`
	Contacts    []hsds.Contact   `json:"contacts,omitempty" rule:"hsds.list"`
	Phones      []hsds.Phone     `json:"phones,omitempty" rule:"hsds.list"`
	Schedules   []hsds.Schedule  `json:"schedules,omitempty" rule:"hsds.list" doc:"Hours of the service at this location; they override the service's own"`
	Attributes  []hsds.Attribute `json:"attributes,omitempty" rule:"hsds.list"`
	Metadata    []hsds.Metadata  `json:"metadata,omitempty" rule:"hsds.linked_records"`
}

// AttributeInput files a service under an existing taxonomy term.
type AttributeInput struct {
	ID             uuid.UUID       `json:"id,omitzero"`
	TaxonomyTermID uuid.UUID       `json:"taxonomy_term_id" doc:"An existing taxonomy term (see GET /v1/taxonomy_terms)"`
	LinkType       string          `json:"link_type,omitempty" rule:"hsds.short_text"`
	LinkEntity     string          `json:"link_entity,omitempty" rule:"hsds.short_text" example:"service"`
	Value          string          `json:"value,omitempty" rule:"hsds.text"`
	Label          string          `json:"label,omitempty" rule:"hsds.short_text"`
	Metadata       []hsds.Metadata `json:"metadata,omitempty" rule:"hsds.linked_records"`
}

// ServiceInput is a whole service (POST creates, PUT replaces). HSDS members;
// the organization, locations and taxonomy terms are referenced by id.
type ServiceInput struct {
	OrganizationID         uuid.UUID                `json:"organization_id" doc:"The organization that provides the service"`
	ProgramID              uuid.UUID                `json:"program_id,omitzero"`
	Name                   string                   `json:"name" rule:"hsds.name" example:"Ballard Food Pantry"`
	AlternateName          string                   `json:"alternate_name,omitempty" rule:"hsds.optional_name"`
	Description            string                   `json:"description,omitempty" rule:"hsds.description" example:"Free groceries for individuals and families."`
	URL                    string                   `json:"url,omitempty" rule:"hsds.url"`
	Email                  string                   `json:"email,omitempty" rule:"email"`
	Status                 string                   `json:"status" rule:"hsds.service_status" example:"active"`
	InterpretationServices string                   `json:"interpretation_services,omitempty" rule:"hsds.text"`
	ApplicationProcess     string                   `json:"application_process,omitempty" rule:"hsds.text"`
	FeesDescription        string                   `json:"fees_description,omitempty" rule:"hsds.text" example:"Free"`
	WaitTime               string                   `json:"wait_time,omitempty" rule:"hsds.text"`
	Fees                   string                   `json:"fees,omitempty" rule:"hsds.text"`
	Accreditations         string                   `json:"accreditations,omitempty" rule:"hsds.text"`
	EligibilityDescription string                   `json:"eligibility_description,omitempty" rule:"hsds.text"`
	MinimumAge             *float64                 `json:"minimum_age,omitempty" minimum:"0" maximum:"130" example:"18"`
	MaximumAge             *float64                 `json:"maximum_age,omitempty" minimum:"0" maximum:"130"`
	AssuredDate            string                   `json:"assured_date,omitempty" rule:"hsds.date"`
	AssurerEmail           string                   `json:"assurer_email,omitempty" rule:"email"`
	Licenses               string                   `json:"licenses,omitempty" rule:"hsds.text"`
	Alert                  string                   `json:"alert,omitempty" rule:"hsds.text"`
	Phones                 []hsds.Phone             `json:"phones,omitempty" rule:"hsds.list"`
	Schedules              []hsds.Schedule          `json:"schedules,omitempty" rule:"hsds.list"`
	ServiceAreas           []hsds.ServiceArea       `json:"service_areas,omitempty" rule:"hsds.list"`
	ServiceAtLocations     []ServiceAtLocationInput `json:"service_at_locations,omitempty" rule:"hsds.linked_records"`
	Languages              []hsds.Language          `json:"languages,omitempty" rule:"hsds.list"`
	Funding                []hsds.Funding           `json:"funding,omitempty" rule:"hsds.list"`
	CostOptions            []hsds.CostOption        `json:"cost_options,omitempty" rule:"hsds.list"`
	Program                *hsds.Program            `json:"program,omitempty"`
	RequiredDocuments      []hsds.RequiredDocument  `json:"required_documents,omitempty" rule:"hsds.list"`
	Contacts               []hsds.Contact           `json:"contacts,omitempty" rule:"hsds.list"`
	Attributes             []AttributeInput         `json:"attributes,omitempty" rule:"hsds.list"`
	Metadata               []hsds.Metadata          `json:"metadata,omitempty" rule:"hsds.linked_records"`
}

func (in ServiceInput) hsds() hsds.Service {
	s := hsds.Service{
		OrganizationID: in.OrganizationID, ProgramID: in.ProgramID, Name: in.Name, AlternateName: in.AlternateName,
		Description: in.Description, URL: in.URL, Email: in.Email, Status: in.Status,
		InterpretationServices: in.InterpretationServices, ApplicationProcess: in.ApplicationProcess,
		FeesDescription: in.FeesDescription, WaitTime: in.WaitTime, Fees: in.Fees, Accreditations: in.Accreditations,
		EligibilityDescription: in.EligibilityDescription, MinimumAge: in.MinimumAge, MaximumAge: in.MaximumAge,
		AssuredDate: in.AssuredDate, AssurerEmail: in.AssurerEmail, Licenses: in.Licenses, Alert: in.Alert,
		Phones: in.Phones, Schedules: in.Schedules, ServiceAreas: in.ServiceAreas, Languages: in.Languages,
		Funding: in.Funding, CostOptions: in.CostOptions, Program: in.Program, RequiredDocuments: in.RequiredDocuments,
		Contacts: in.Contacts, Metadata: in.Metadata,
	}
	for _, sal := range in.ServiceAtLocations {
		s.ServiceAtLocations = append(s.ServiceAtLocations, hsds.ServiceAtLocation{
			ID: sal.ID, LocationID: sal.LocationID, Description: sal.Description, Contacts: sal.Contacts,
			Phones: sal.Phones, Schedules: sal.Schedules, Attributes: sal.Attributes, Metadata: sal.Metadata,
		})
	}
	for _, a := range in.Attributes {
		s.Attributes = append(s.Attributes, hsds.Attribute{
			ID: a.ID, TaxonomyTermID: a.TaxonomyTermID, LinkType: a.LinkType, LinkEntity: a.LinkEntity,
			Value: a.Value, Label: a.Label, Metadata: a.Metadata,
		})
	}
	return s
}

type createServiceInput struct {
	Body ServiceInput
}

type replaceServiceInput struct {
	ServicePath
	IfMatch string `header:"If-Match" doc:"The ETag from your last read (required)"`
	Body    ServiceInput
}

type deleteServiceInput struct {
	ServicePath
	IfMatch string `header:"If-Match" doc:"The ETag from your last read (required)"`
}

const directoryWriteRules = " Needs the directory:write scope and the admin or directory_editor role (a person or a machine client maintaining listings); " +
	"everyone else gets 403, including tokens that carry no Waypoint role."

func (s *Server) registerServices() {
	search := op(http.MethodGet, "/v1/services", "searchServices", "Directory", "Search the resource directory",
		"Finds services the way people look for help: words (ranked full text, typo tolerant), a place and radius "+
			"(sorted by distance, with distance_km), open now in each place's own time zone (or at a given moment, "+
			"handling hours past midnight), a language, an age, a category (taxonomy term and everything under it), "+
			"an organization, recent changes. Filters combine. Open Referral HSDS 3.0 parameters and paginated shape; "+
			"format=ndjson streams every match, one service per line. Any signed-in person with services:read may search. "+
			"When a client's search finds nothing (first page), an anonymous unmet need is counted: its taxonomy term (or the "+
			"term best matching the words; never the words), the geohash-5 cell of lat/lon, the language and the ISO week, "+
			"never who searched; unless the client turned off contact_preferences.help_improve_services.",
		"services:read", http.StatusBadRequest, http.StatusUnprocessableEntity)
	pageSchema := s.api.OpenAPI().Components.Schemas.Schema(reflect.TypeOf(ServicePage{}), true, "ServicePage")
	itemSchema := s.api.OpenAPI().Components.Schemas.Schema(reflect.TypeOf(ServiceResult{}), true, "ServiceResult")
	search.Responses = map[string]*huma.Response{"200": {
		Description: "One HSDS page of services (json), or every matching service, one per line (ndjson)",
		Headers: map[string]*huma.Param{"Search-Corrected": {
			Description: "Present when search matched nothing as typed and these corrected words were searched instead (unless the correction is over 400 characters)",
			Schema:      &huma.Schema{Type: "string"}, Example: "food pantry",
		}},
		Content: map[string]*huma.MediaType{
			"application/json": {Schema: pageSchema},
			NDJSONType:         {Schema: itemSchema},
		},
	}}
	handle(s.api, search, s.searchServices)

	handle(s.api, op(http.MethodGet, "/v1/services/{serviceId}", "getService", "Directory", "Get a service in full",
		"The whole HSDS service: organization, locations with addresses and accessibility, schedules, phones, "+
			"languages, taxonomy terms, eligibility, fees. The ETag serves If-Match on PUT and DELETE.",
		"services:read", http.StatusNotFound, http.StatusUnprocessableEntity),
		func(ctx context.Context, in *ServicePath) (*serviceOutput, error) {
			d, err := s.store.GetService(ctx, in.ServiceID)
			if err != nil {
				return nil, err
			}
			return serviceOut(d, http.StatusOK), nil
		})

	create := Idempotent(op(http.MethodPost, "/v1/services", "createService", "Directory", "Add a service",
		"Adds a service to the directory (new UUIDv7 id). The organization, locations and taxonomy terms must exist; "+
			"an unknown one is 422 naming the member."+directoryWriteRules,
		"directory:write", http.StatusUnprocessableEntity), replayForDirectory)
	create.DefaultStatus = http.StatusCreated
	handle(s.api, create, func(ctx context.Context, in *createServiceInput) (*serviceOutput, error) {
		d, err := s.store.CreateService(ctx, actorFrom(ctx), in.Body.hsds())
		if err != nil {
			return nil, err
		}
		return serviceOut(d, http.StatusCreated), nil
	})

	handle(s.api, op(http.MethodPut, "/v1/services/{serviceId}", "replaceService", "Directory", "Replace a service",
		"Replaces the whole service (members left out are cleared) and re-indexes it for search in the same transaction. "+
			"Requires If-Match (missing: 428, stale: 412)."+directoryWriteRules,
		"directory:write", http.StatusNotFound, http.StatusUnprocessableEntity, http.StatusPreconditionFailed, http.StatusPreconditionRequired),
		func(ctx context.Context, in *replaceServiceInput) (*serviceOutput, error) {
			d, err := conditionalWrite(in.IfMatch, func(v domain.Precondition) (domain.DirectoryService, error) {
				return s.store.ReplaceService(ctx, actorFrom(ctx), in.ServiceID, v, in.Body.hsds())
			})
			if err != nil {
				return nil, err
			}
			return serviceOut(d, http.StatusOK), nil
		})

	del := op(http.MethodDelete, "/v1/services/{serviceId}", "deleteService", "Directory", "Delete a service",
		"Removes a service (and clients' bookmarks of it). A service clients were referred to stays, so their "+
			"referral history keeps it: 409; set its status to inactive or defunct instead. Requires If-Match."+directoryWriteRules,
		"directory:write", http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity,
		http.StatusPreconditionFailed, http.StatusPreconditionRequired)
	del.DefaultStatus = http.StatusNoContent
	handle(s.api, del, func(ctx context.Context, in *deleteServiceInput) (*struct{}, error) {
		return nil, conditionalDo(in.IfMatch, func(v domain.Precondition) error {
			return s.store.DeleteService(ctx, actorFrom(ctx), in.ServiceID, v)
		})
	})
}

// searchServices answers one HSDS page as JSON, or hands format=ndjson to
// streamServices.
func (s *Server) searchServices(ctx context.Context, in *searchServicesInput) (*streamOutput, error) {
	f, err := in.filter()
	if err != nil {
		return nil, err
	}
	if in.Format == "ndjson" {
		return s.streamServices(ctx, f)
	}
	res, err := s.store.SearchServices(ctx, f)
	if err != nil {
		return nil, err
	}
	if res.Total == 0 && f.Page == 1 {
		// What a client looked for and did not find counts, anonymously, as an
		// unmet need; failing to count it must not fail their search.
		if err := s.store.RecordEmptySearch(ctx, actorFrom(ctx), f); err != nil {
			s.log.Error("record unmet need of an empty search", "error", err.Error())
		}
	}
	page := ServicePage{TotalItems: res.Total, PageNumber: f.Page, Size: len(res.Hits),
		FirstPage: f.Page == 1, Empty: len(res.Hits) == 0, Contents: make([]ServiceResult, len(res.Hits))}
	page.TotalPages = (res.Total + f.PerPage - 1) / f.PerPage
	page.LastPage = f.Page >= page.TotalPages
	for i, h := range res.Hits {
		page.Contents[i] = ServiceResult{Service: h.Service, DistanceKM: h.DistanceKM}
	}
	body, err := json.Marshal(page)
	if err != nil {
		return nil, err
	}
	return &streamOutput{Body: func(hctx huma.Context) {
		hctx.SetHeader("Content-Type", "application/json")
		if h := searchCorrectedHeader(res.Corrected); h != "" {
			hctx.SetHeader("Search-Corrected", h)
		}
		if l := nextLink(hctx.URL(), page); l != "" {
			hctx.SetHeader("Link", l)
		}
		hctx.SetStatus(http.StatusOK)
		_, _ = hctx.BodyWriter().Write(body)
	}}, nil
}

// searchCorrectedHeader is the Search-Corrected value for a corrected
// search, or "" for none. A correction longer than the header's bound is not
// announced: its words come from the directory's vocabulary, which nothing
// bounds (the results are still those of the corrected search).
func searchCorrectedHeader(corrected string) string {
	if utf8.RuneCountInString(corrected) > maxSearchCorrected {
		return ""
	}
	return corrected
}

// streamServices answers format=ndjson: every match, one service per line,
// flushed as rows arrive. Bad filters fail before the first byte; a failure
// mid-stream can only end the stream (and is logged).
func (s *Server) streamServices(ctx context.Context, f domain.SearchFilter) (*streamOutput, error) {
	if err := s.store.CheckSearch(ctx, f); err != nil {
		return nil, err
	}
	return &streamOutput{Body: func(hctx huma.Context) {
		hctx.SetHeader("Content-Type", NDJSONType)
		hctx.SetStatus(http.StatusOK)
		w := hctx.BodyWriter()
		flusher, _ := w.(http.Flusher)
		enc := json.NewEncoder(w)
		n := 0
		err := s.store.StreamServices(hctx.Context(), f, func(h domain.ServiceHit) error {
			if err := enc.Encode(ServiceResult{Service: h.Service, DistanceKM: h.DistanceKM}); err != nil {
				return err
			}
			if n++; n%100 == 0 && flusher != nil {
				flusher.Flush()
			}
			return nil
		})
		if err != nil {
			if ri := requestInfoFrom(hctx.Context()); ri != nil {
				ri.Err = err
			}
			s.log.Error("ndjson stream ended early", "error", err.Error())
		}
	}}, nil
}
