// Package hsds is the Open Referral Human Services Data Specification (HSDS
// 3.0) as Go types: the one definition of the directory's wire format, used by
// the API, by `waypoint hsds import` and by `waypoint hsds export`, so the
// files and the API cannot drift apart. Member names and shapes follow the
// HSDS 3.0 JSON schemas; Waypoint adds one extension member, Location.Timezone.
//
// The package knows nothing of PostgreSQL or HTTP. Struct tags other than json
// (doc, example, format) describe the schema for the OpenAPI document; a rule
// tag names the declaration (codes.go, through domain.Rules) that fills in a
// member's enum or bounds.
package hsds

import (
	"time"

	"github.com/google/uuid"
)

// Service is what an organization offers to people: food, shelter, care, advice.
type Service struct {
	ID                     uuid.UUID           `json:"id" doc:"HSDS id (UUID)"`
	OrganizationID         uuid.UUID           `json:"organization_id,omitzero" doc:"The organization that provides the service (omitted when organization is embedded)"`
	ProgramID              uuid.UUID           `json:"program_id,omitzero"`
	Name                   string              `json:"name" rule:"hsds.name" example:"Ballard Food Pantry"`
	AlternateName          string              `json:"alternate_name,omitempty" rule:"hsds.optional_name"`
	Description            string              `json:"description,omitempty" rule:"hsds.description" example:"Free groceries for individuals and families."`
	URL                    string              `json:"url,omitempty" rule:"hsds.url" example:"https://example.org/pantry"`
	Email                  string              `json:"email,omitempty" rule:"hsds.email" example:"pantry@example.org"`
	Status                 string              `json:"status" rule:"hsds.service_status" example:"active"`
	InterpretationServices string              `json:"interpretation_services,omitempty" rule:"hsds.text"`
	ApplicationProcess     string              `json:"application_process,omitempty" rule:"hsds.text" example:"Walk in during open hours."`
	FeesDescription        string              `json:"fees_description,omitempty" rule:"hsds.text" example:"Free"`
	WaitTime               string              `json:"wait_time,omitempty" rule:"hsds.text"`
	Fees                   string              `json:"fees,omitempty" rule:"hsds.text"`
	Accreditations         string              `json:"accreditations,omitempty" rule:"hsds.text"`
	EligibilityDescription string              `json:"eligibility_description,omitempty" rule:"hsds.text" example:"Anyone in need of food."`
	MinimumAge             *float64            `json:"minimum_age,omitempty" minimum:"0" example:"18" doc:"Youngest eligible age in years"`
	MaximumAge             *float64            `json:"maximum_age,omitempty" minimum:"0" example:"64" doc:"Oldest eligible age in years"`
	AssuredDate            string              `json:"assured_date,omitempty" rule:"hsds.date"`
	AssurerEmail           string              `json:"assurer_email,omitempty" rule:"hsds.email"`
	Licenses               string              `json:"licenses,omitempty" rule:"hsds.text"`
	Alert                  string              `json:"alert,omitempty" rule:"hsds.text"`
	LastModified           time.Time           `json:"last_modified,omitzero" doc:"When the service record last changed"`
	Phones                 []Phone             `json:"phones,omitempty" rule:"hsds.list"`
	Schedules              []Schedule          `json:"schedules,omitempty" rule:"hsds.list"`
	ServiceAreas           []ServiceArea       `json:"service_areas,omitempty" rule:"hsds.list"`
	ServiceAtLocations     []ServiceAtLocation `json:"service_at_locations,omitempty" rule:"hsds.listed"`
	Languages              []Language          `json:"languages,omitempty" rule:"hsds.list"`
	Organization           *Organization       `json:"organization,omitempty"`
	Funding                []Funding           `json:"funding,omitempty" rule:"hsds.list"`
	CostOptions            []CostOption        `json:"cost_options,omitempty" rule:"hsds.list"`
	Program                *Program            `json:"program,omitempty"`
	RequiredDocuments      []RequiredDocument  `json:"required_documents,omitempty" rule:"hsds.list"`
	Contacts               []Contact           `json:"contacts,omitempty" rule:"hsds.list"`
	Attributes             []Attribute         `json:"attributes,omitempty" rule:"hsds.list" doc:"Classifications; an attribute with a taxonomy term files the service under that term"`
	Metadata               []Metadata          `json:"metadata,omitempty" rule:"hsds.linked_records"`
}

// Organization provides services.
type Organization struct {
	ID                      uuid.UUID                `json:"id"`
	Name                    string                   `json:"name" rule:"hsds.name" example:"Ballard Community Services"`
	AlternateName           string                   `json:"alternate_name,omitempty" rule:"hsds.optional_name"`
	Description             string                   `json:"description" rule:"hsds.description" example:"A community-based nonprofit serving Seattle since 1972."`
	Email                   string                   `json:"email,omitempty" rule:"hsds.email"`
	Website                 string                   `json:"website,omitempty" rule:"hsds.url"`
	TaxStatus               string                   `json:"tax_status,omitempty" rule:"hsds.short_text"`
	TaxID                   string                   `json:"tax_id,omitempty" rule:"hsds.short_text"`
	YearIncorporated        *float64                 `json:"year_incorporated,omitempty" example:"1972"`
	LegalStatus             string                   `json:"legal_status,omitempty" rule:"hsds.short_text"`
	Logo                    string                   `json:"logo,omitempty" rule:"hsds.url"`
	URI                     string                   `json:"uri,omitempty" rule:"hsds.url"`
	ParentOrganizationID    uuid.UUID                `json:"parent_organization_id,omitzero"`
	Funding                 []Funding                `json:"funding,omitempty" rule:"hsds.list"`
	Contacts                []Contact                `json:"contacts,omitempty" rule:"hsds.list"`
	Phones                  []Phone                  `json:"phones,omitempty" rule:"hsds.list"`
	Locations               []Location               `json:"locations,omitempty" rule:"hsds.listed"`
	Programs                []Program                `json:"programs,omitempty" rule:"hsds.list"`
	OrganizationIdentifiers []OrganizationIdentifier `json:"organization_identifiers,omitempty" rule:"hsds.list"`
	Services                []Service                `json:"services,omitempty" rule:"hsds.listed" doc:"The organization's services (in imports and organization reads)"`
	Attributes              []Attribute              `json:"attributes,omitempty" rule:"hsds.list"`
	Metadata                []Metadata               `json:"metadata,omitempty" rule:"hsds.linked_records"`
}

// Location is a place where services are delivered.
type Location struct {
	ID                     uuid.UUID       `json:"id"`
	LocationType           string          `json:"location_type" rule:"hsds.location_type" example:"physical"`
	URL                    string          `json:"url,omitempty" rule:"hsds.url"`
	OrganizationID         uuid.UUID       `json:"organization_id,omitzero"`
	Name                   string          `json:"name,omitempty" rule:"hsds.optional_name" example:"Ballard Community Center"`
	AlternateName          string          `json:"alternate_name,omitempty" rule:"hsds.optional_name"`
	Description            string          `json:"description,omitempty" rule:"hsds.description"`
	Transportation         string          `json:"transportation,omitempty" rule:"hsds.text" example:"Bus routes 40 and 44 stop outside"`
	Latitude               *float64        `json:"latitude,omitempty" example:"47.6687"`
	Longitude              *float64        `json:"longitude,omitempty" example:"-122.3841"`
	ExternalIdentifier     string          `json:"external_identifier,omitempty" rule:"hsds.short_text"`
	ExternalIdentifierType string          `json:"external_identifier_type,omitempty" rule:"hsds.short_text"`
	Timezone               string          `json:"timezone,omitempty" rule:"hsds.timezone" example:"America/Los_Angeles" doc:"Waypoint extension: the IANA time zone of the place, in which its opening hours are local times"`
	Languages              []Language      `json:"languages,omitempty" rule:"hsds.list"`
	Addresses              []Address       `json:"addresses,omitempty" rule:"hsds.addresses"`
	Contacts               []Contact       `json:"contacts,omitempty" rule:"hsds.list"`
	Accessibility          []Accessibility `json:"accessibility,omitempty" rule:"hsds.list"`
	Phones                 []Phone         `json:"phones,omitempty" rule:"hsds.list"`
	Schedules              []Schedule      `json:"schedules,omitempty" rule:"hsds.list"`
	Attributes             []Attribute     `json:"attributes,omitempty" rule:"hsds.list"`
	Metadata               []Metadata      `json:"metadata,omitempty" rule:"hsds.linked_records"`
}

// ServiceAtLocation links a service to a location where it is delivered.
type ServiceAtLocation struct {
	ID          uuid.UUID   `json:"id,omitzero"`
	ServiceID   uuid.UUID   `json:"service_id,omitzero"`
	LocationID  uuid.UUID   `json:"location_id,omitzero" doc:"The location (omitted when location is embedded)"`
	Description string      `json:"description,omitempty" rule:"hsds.text"`
	Contacts    []Contact   `json:"contacts,omitempty" rule:"hsds.list"`
	Phones      []Phone     `json:"phones,omitempty" rule:"hsds.list"`
	Schedules   []Schedule  `json:"schedules,omitempty" rule:"hsds.list" doc:"Hours of this service at this location; they override the service's and the location's"`
	Location    *Location   `json:"location,omitempty"`
	Attributes  []Attribute `json:"attributes,omitempty" rule:"hsds.list"`
	Metadata    []Metadata  `json:"metadata,omitempty" rule:"hsds.linked_records"`
}

// Schedule is a recurring opening time (RFC 5545 style), local to the place.
type Schedule struct {
	ID            uuid.UUID   `json:"id,omitzero"`
	ValidFrom     string      `json:"valid_from,omitempty" rule:"hsds.date" example:"2025-11-01" doc:"First date the schedule applies (YYYY-MM-DD)"`
	ValidTo       string      `json:"valid_to,omitempty" rule:"hsds.date" example:"2026-03-31" doc:"Last date the schedule applies (YYYY-MM-DD)"`
	DTStart       string      `json:"dtstart,omitempty" rule:"hsds.date"`
	Timezone      *float64    `json:"timezone,omitempty" rule:"hsds.utc_offset" doc:"HSDS: UTC offset in hours; used when the location has no IANA timezone"`
	Until         string      `json:"until,omitempty" rule:"hsds.date"`
	Count         *float64    `json:"count,omitempty"`
	WKST          string      `json:"wkst,omitempty" rule:"hsds.wkst"`
	Freq          string      `json:"freq,omitempty" rule:"hsds.freq" example:"WEEKLY"`
	Interval      *float64    `json:"interval,omitempty"`
	ByDay         string      `json:"byday,omitempty" rule:"hsds.short_text" example:"MO,TU,WE,TH,FR" doc:"Comma-separated weekdays (MO..SU)"`
	ByWeekNo      string      `json:"byweekno,omitempty" rule:"hsds.short_text"`
	ByMonthDay    string      `json:"bymonthday,omitempty" rule:"hsds.short_text"`
	ByYearDay     string      `json:"byyearday,omitempty" rule:"hsds.short_text"`
	Description   string      `json:"description,omitempty" rule:"hsds.text" example:"Weekdays 9am to 5pm"`
	OpensAt       string      `json:"opens_at,omitempty" rule:"hsds.short_text" example:"09:00:00" doc:"Local opening time (HH:MM or HH:MM:SS)"`
	ClosesAt      string      `json:"closes_at,omitempty" rule:"hsds.short_text" example:"17:00:00" doc:"Local closing time; at or before opens_at means the next day"`
	ScheduleLink  string      `json:"schedule_link,omitempty" rule:"hsds.url"`
	AttendingType string      `json:"attending_type,omitempty" rule:"hsds.short_text"`
	Notes         string      `json:"notes,omitempty" rule:"hsds.text"`
	Attributes    []Attribute `json:"attributes,omitempty" rule:"hsds.list"`
	Metadata      []Metadata  `json:"metadata,omitempty" rule:"hsds.linked_records"`
}

// Phone is a telephone number.
type Phone struct {
	ID          uuid.UUID   `json:"id,omitzero"`
	Number      string      `json:"number" rule:"hsds.short_text" example:"+1 206 555 0100"`
	Extension   *float64    `json:"extension,omitempty"`
	Type        string      `json:"type,omitempty" rule:"hsds.short_text" example:"voice"`
	Description string      `json:"description,omitempty" rule:"hsds.text"`
	Languages   []Language  `json:"languages,omitempty" rule:"hsds.list"`
	Attributes  []Attribute `json:"attributes,omitempty" rule:"hsds.list"`
	Metadata    []Metadata  `json:"metadata,omitempty" rule:"hsds.linked_records"`
}

// Language is a language a service, location or phone line offers.
type Language struct {
	ID         uuid.UUID   `json:"id,omitzero"`
	Name       string      `json:"name,omitempty" rule:"hsds.optional_name" example:"Spanish"`
	Code       string      `json:"code,omitempty" rule:"hsds.short_text" example:"es" doc:"ISO 639-1 or 639-3 code (a BCP 47 tag is accepted)"`
	Note       string      `json:"note,omitempty" rule:"hsds.text"`
	Attributes []Attribute `json:"attributes,omitempty" rule:"hsds.list"`
	Metadata   []Metadata  `json:"metadata,omitempty" rule:"hsds.linked_records"`
}

// Address is a postal or physical address of a location.
type Address struct {
	ID            uuid.UUID   `json:"id,omitzero"`
	Attention     string      `json:"attention,omitempty" rule:"hsds.short_text"`
	Address1      string      `json:"address_1" rule:"hsds.short_text" example:"5410 22nd Ave NW"`
	Address2      string      `json:"address_2,omitempty" rule:"hsds.short_text"`
	City          string      `json:"city" rule:"hsds.short_text" example:"Seattle"`
	Region        string      `json:"region,omitempty" rule:"hsds.short_text"`
	StateProvince string      `json:"state_province" rule:"hsds.short_text" example:"WA"`
	PostalCode    string      `json:"postal_code" rule:"hsds.short_text" example:"98107"`
	Country       string      `json:"country" rule:"hsds.short_text" example:"US"`
	AddressType   string      `json:"address_type" rule:"hsds.address_type" example:"physical"`
	Attributes    []Attribute `json:"attributes,omitempty" rule:"hsds.list"`
	Metadata      []Metadata  `json:"metadata,omitempty" rule:"hsds.linked_records"`
}

// Accessibility describes how accessible a location is.
type Accessibility struct {
	ID          uuid.UUID   `json:"id,omitzero"`
	Description string      `json:"description,omitempty" rule:"hsds.text" example:"Wheelchair accessible entrance and restroom"`
	Details     string      `json:"details,omitempty" rule:"hsds.text"`
	URL         string      `json:"url,omitempty" rule:"hsds.url"`
	Attributes  []Attribute `json:"attributes,omitempty" rule:"hsds.list"`
	Metadata    []Metadata  `json:"metadata,omitempty" rule:"hsds.linked_records"`
}

// CostOption is a fee for a service.
type CostOption struct {
	ID                uuid.UUID   `json:"id,omitzero"`
	ValidFrom         string      `json:"valid_from,omitempty" rule:"hsds.date"`
	ValidTo           string      `json:"valid_to,omitempty" rule:"hsds.date"`
	Option            string      `json:"option,omitempty" rule:"hsds.text" example:"Under 18s and over 60s"`
	Currency          string      `json:"currency,omitempty" rule:"hsds.short_text" example:"USD"`
	Amount            *float64    `json:"amount,omitempty" example:"0"`
	AmountDescription string      `json:"amount_description,omitempty" rule:"hsds.text"`
	Attributes        []Attribute `json:"attributes,omitempty" rule:"hsds.list"`
	Metadata          []Metadata  `json:"metadata,omitempty" rule:"hsds.linked_records"`
}

// Attribute links an object to a taxonomy term.
type Attribute struct {
	ID             uuid.UUID     `json:"id,omitzero"`
	LinkID         uuid.UUID     `json:"link_id,omitzero"`
	TaxonomyTermID uuid.UUID     `json:"taxonomy_term_id,omitzero" doc:"The term (omitted when taxonomy_term is embedded)"`
	LinkType       string        `json:"link_type,omitempty" rule:"hsds.short_text"`
	LinkEntity     string        `json:"link_entity,omitempty" rule:"hsds.short_text" example:"service"`
	Value          string        `json:"value,omitempty" rule:"hsds.text"`
	Label          string        `json:"label,omitempty" rule:"hsds.short_text"`
	TaxonomyTerm   *TaxonomyTerm `json:"taxonomy_term,omitempty"`
	Metadata       []Metadata    `json:"metadata,omitempty" rule:"hsds.linked_records"`
}

// TaxonomyTerm is a category in a (hierarchical) taxonomy.
type TaxonomyTerm struct {
	ID             uuid.UUID  `json:"id"`
	Code           string     `json:"code,omitempty" rule:"hsds.short_text" example:"BD-1800.2000"`
	Name           string     `json:"name" rule:"hsds.name" example:"Food Pantries"`
	Description    string     `json:"description" rule:"hsds.description" example:"Groceries to take home, free of charge"`
	ParentID       uuid.UUID  `json:"parent_id,omitzero" doc:"The broader term; absent for a top-level term"`
	Taxonomy       string     `json:"taxonomy,omitempty" rule:"hsds.short_text"`
	TaxonomyDetail *Taxonomy  `json:"taxonomy_detail,omitempty"`
	Language       string     `json:"language,omitempty" rule:"hsds.short_text" example:"en"`
	TaxonomyID     uuid.UUID  `json:"taxonomy_id,omitzero" doc:"The taxonomy (omitted when taxonomy_detail is embedded)"`
	TermURI        string     `json:"term_uri,omitempty" rule:"hsds.url"`
	Metadata       []Metadata `json:"metadata,omitempty" rule:"hsds.linked_records"`
}

// Taxonomy is a published classification scheme.
type Taxonomy struct {
	ID          uuid.UUID  `json:"id"`
	Name        string     `json:"name" rule:"hsds.name" example:"Waypoint demo taxonomy"`
	Description string     `json:"description" rule:"hsds.description"`
	URI         string     `json:"uri,omitempty" rule:"hsds.url"`
	Version     string     `json:"version,omitempty" rule:"hsds.short_text"`
	Metadata    []Metadata `json:"metadata,omitempty" rule:"hsds.linked_records"`
}

// Contact is a person to contact about a service, location or organization.
type Contact struct {
	ID         uuid.UUID   `json:"id,omitzero"`
	Name       string      `json:"name,omitempty" rule:"hsds.optional_name"`
	Title      string      `json:"title,omitempty" rule:"hsds.short_text"`
	Department string      `json:"department,omitempty" rule:"hsds.short_text"`
	Email      string      `json:"email,omitempty" rule:"hsds.email"`
	Phones     []Phone     `json:"phones,omitempty" rule:"hsds.list"`
	Attributes []Attribute `json:"attributes,omitempty" rule:"hsds.list"`
	Metadata   []Metadata  `json:"metadata,omitempty" rule:"hsds.linked_records"`
}

// Funding is a source of an organization's or service's money.
type Funding struct {
	ID         uuid.UUID   `json:"id,omitzero"`
	Source     string      `json:"source,omitempty" rule:"hsds.text"`
	Attributes []Attribute `json:"attributes,omitempty" rule:"hsds.list"`
	Metadata   []Metadata  `json:"metadata,omitempty" rule:"hsds.linked_records"`
}

// Program groups related services of an organization.
type Program struct {
	ID            uuid.UUID   `json:"id,omitzero"`
	Name          string      `json:"name" rule:"hsds.optional_name"`
	AlternateName string      `json:"alternate_name,omitempty" rule:"hsds.optional_name"`
	Description   string      `json:"description" rule:"hsds.description"`
	Attributes    []Attribute `json:"attributes,omitempty" rule:"hsds.list"`
	Metadata      []Metadata  `json:"metadata,omitempty" rule:"hsds.linked_records"`
}

// RequiredDocument is a document needed to use a service.
type RequiredDocument struct {
	ID         uuid.UUID   `json:"id,omitzero"`
	Document   string      `json:"document,omitempty" rule:"hsds.text" example:"Photo ID"`
	URI        string      `json:"uri,omitempty" rule:"hsds.url"`
	Attributes []Attribute `json:"attributes,omitempty" rule:"hsds.list"`
	Metadata   []Metadata  `json:"metadata,omitempty" rule:"hsds.linked_records"`
}

// ServiceArea is the geographic area a service covers.
type ServiceArea struct {
	ID          uuid.UUID   `json:"id,omitzero"`
	Name        string      `json:"name,omitempty" rule:"hsds.optional_name"`
	Description string      `json:"description,omitempty" rule:"hsds.description"`
	Extent      string      `json:"extent,omitempty" rule:"hsds.extent"`
	ExtentType  string      `json:"extent_type,omitempty" rule:"hsds.short_text"`
	URI         string      `json:"uri,omitempty" rule:"hsds.url"`
	Attributes  []Attribute `json:"attributes,omitempty" rule:"hsds.list"`
	Metadata    []Metadata  `json:"metadata,omitempty" rule:"hsds.linked_records"`
}

// OrganizationIdentifier is an official identifier of an organization.
type OrganizationIdentifier struct {
	ID               uuid.UUID   `json:"id,omitzero"`
	IdentifierScheme string      `json:"identifier_scheme,omitempty" rule:"hsds.short_text"`
	IdentifierType   string      `json:"identifier_type" rule:"hsds.short_text"`
	Identifier       string      `json:"identifier" rule:"hsds.short_text"`
	Attributes       []Attribute `json:"attributes,omitempty" rule:"hsds.list"`
	Metadata         []Metadata  `json:"metadata,omitempty" rule:"hsds.linked_records"`
}

// Metadata records a change to a field (HSDS audit trail).
type Metadata struct {
	ID               uuid.UUID `json:"id,omitzero"`
	ResourceID       uuid.UUID `json:"resource_id,omitzero"`
	ResourceType     string    `json:"resource_type,omitempty" rule:"hsds.short_text"`
	LastActionDate   string    `json:"last_action_date" rule:"hsds.date"`
	LastActionType   string    `json:"last_action_type" rule:"hsds.short_text"`
	FieldName        string    `json:"field_name" rule:"hsds.short_text"`
	PreviousValue    string    `json:"previous_value" rule:"hsds.description"`
	ReplacementValue string    `json:"replacement_value" rule:"hsds.description"`
	UpdatedBy        string    `json:"updated_by" rule:"hsds.short_text"`
}

// Page is HSDS's paginated list shape.
type Page[T any] struct {
	TotalItems int  `json:"total_items" example:"42" doc:"Number of items matching, over all pages"`
	TotalPages int  `json:"total_pages" example:"3"`
	PageNumber int  `json:"page_number" example:"1" doc:"This page's number, from 1"`
	Size       int  `json:"size" example:"20" doc:"Number of items on this page"`
	FirstPage  bool `json:"first_page"`
	LastPage   bool `json:"last_page"`
	Empty      bool `json:"empty" doc:"True when this page has no items"`
	Contents   []T  `json:"contents"`
}

// NewPage builds a Page for page number page (from 1) of perPage items.
func NewPage[T any](items []T, total, page, perPage int) Page[T] {
	if items == nil {
		items = []T{}
	}
	pages := 0
	if perPage > 0 {
		pages = (total + perPage - 1) / perPage
	}
	return Page[T]{
		TotalItems: total, TotalPages: pages, PageNumber: page, Size: len(items),
		FirstPage: page == 1, LastPage: page >= pages, Empty: len(items) == 0, Contents: items,
	}
}
