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

// Length limits, in characters (Unicode code points), of directory records.
// Validate* holds every record to them, whether it comes from the API or from
// an imported feed, and the API's schemas carry them (the rule tags of the
// types name them, see Limits), so nothing the directory serves is longer
// than its contract says.
const (
	MaxName        = 300   // names and alternate names
	MaxDescription = 10000 // descriptions of organizations, services and locations; audit values
	MaxText        = 2000  // other free text: fees, eligibility, a link's value, ...
	MaxShortText   = 200   // identifiers, types, labels, codes, times of day
	MaxURL         = 2000
	MaxDate        = 40  // assured_date and the other dates as written
	MaxTimezone    = 64  // an IANA time zone name
	MaxEmail       = 254 // RFC 5321: the longest address that can be delivered
	// MaxExtent bounds a service area's extent, a polygon as GeoJSON or WKT:
	// room for a county outline at street detail.
	MaxExtent = 100000
)

// Count limits of the lists in a directory record.
const (
	MaxListItems     = 50  // phones, contacts, schedules, languages, ...
	MaxAddresses     = 20  // addresses of a location
	MaxLinkedRecords = 200 // metadata entries; the locations a service body lists
	// MaxListed bounds what a read shows of a list made of records written
	// one by one (an organization's locations and services, the places a
	// service is delivered at): the first MaxListed, in the list's order.
	MaxListed = 1000
)

// Limit is one declared bound of HSDS members: a length, or a list's count.
// The members it applies to name it in their rule tag.
type Limit struct {
	Name           string
	MinLen, MaxLen int
	MaxItems       int
	// Listed marks a list assembled from records written one by one (a
	// location names its organization): no single write can be held to
	// MaxItems, so reads show the first MaxItems (TrimListed) instead.
	Listed bool
}

// Limits lists the length and count limits of directory records.
func Limits() []Limit {
	return []Limit{
		{Name: "hsds.name", MinLen: 1, MaxLen: MaxName},
		{Name: "hsds.optional_name", MaxLen: MaxName},
		{Name: "hsds.description", MaxLen: MaxDescription},
		{Name: "hsds.text", MaxLen: MaxText},
		{Name: "hsds.short_text", MaxLen: MaxShortText},
		{Name: "hsds.url", MaxLen: MaxURL},
		{Name: "hsds.date", MaxLen: MaxDate},
		{Name: "hsds.timezone", MaxLen: MaxTimezone},
		{Name: "hsds.email", MaxLen: MaxEmail},
		{Name: "hsds.extent", MaxLen: MaxExtent},
		{Name: "hsds.list", MaxItems: MaxListItems},
		{Name: "hsds.addresses", MaxItems: MaxAddresses},
		{Name: "hsds.linked_records", MaxItems: MaxLinkedRecords},
		{Name: "hsds.listed", MaxItems: MaxListed, Listed: true},
	}
}
