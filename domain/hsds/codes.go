package hsds

// The closed code lists and the length limits of the directory, declared
// once: validation here, the OpenAPI schema (through the API's rule tags,
// see domain.Rules) and the CHECK constraints of the migrations all use or
// are tested against these.

// Service statuses (HSDS enum).
const (
	StatusActive            = "active"
	StatusInactive          = "inactive"
	StatusDefunct           = "defunct"
	StatusTemporarilyClosed = "temporarily closed"
)

// ServiceStatuses lists the valid service statuses.
func ServiceStatuses() []string {
	return []string{StatusActive, StatusInactive, StatusDefunct, StatusTemporarilyClosed}
}

// LocationTypes lists HSDS location types.
func LocationTypes() []string { return []string{"physical", "postal", "virtual"} }

// AddressTypes lists HSDS address types (the same codes as location types,
// a separate list in HSDS).
func AddressTypes() []string { return []string{"physical", "postal", "virtual"} }

// Weekdays lists the RFC 5545 weekday codes (a schedule's wkst; byday adds
// an optional ordinal to each).
func Weekdays() []string { return []string{"MO", "TU", "WE", "TH", "FR", "SA", "SU"} }

// Frequencies lists the schedule recurrences Waypoint understands (freq).
func Frequencies() []string { return []string{"WEEKLY", "MONTHLY"} }

// The furthest UTC offsets, in hours, a schedule's timezone may carry.
const (
	MinUTCOffset = -14
	MaxUTCOffset = 14
)

// Length limits, in characters, of what the API accepts for directory
// records. Imports of published feeds are not held to them.
const (
	MaxName        = 300   // names and alternate names
	MaxDescription = 10000 // descriptions of organizations, services and locations
	MaxText        = 2000  // other free text: fees, eligibility, a link's value, ...
	MaxShortText   = 200   // identifiers, types and labels
	MaxURL         = 2000
	MaxDate        = 40 // assured_date as written
	MaxTimezone    = 64 // an IANA time zone name
)

// Count limits of the lists the API accepts in a directory record.
const (
	MaxListItems     = 50  // phones, contacts, schedules, languages, ...
	MaxAddresses     = 20  // addresses of a location
	MaxLinkedRecords = 200 // metadata entries; a service's service-at-locations
)
