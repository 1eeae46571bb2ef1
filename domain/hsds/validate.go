package hsds

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/domain/valid"
)

// FieldError is a problem with one member of an HSDS object. Field is a path
// relative to the object, e.g. "schedules[0].opens_at".
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

func fieldErr(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

var (
	bydayRe    = regexp.MustCompile(`^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$`)
	langCodeRe = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$`)
)

// ParseTime reads an HSDS time of day (HH:MM or HH:MM:SS) and returns it as HH:MM:SS.
func ParseTime(v string) (string, bool) {
	for _, layout := range []string{"15:04:05", "15:04"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.Format("15:04:05"), true
		}
	}
	return "", false
}

// LoadZone loads an IANA time zone by name. "Local" and "" are refused: a
// directory entry must name a real place's zone.
func LoadZone(name string) (*time.Location, error) {
	if name == "" || name == "Local" {
		return nil, fmt.Errorf("not an IANA time zone name")
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown IANA time zone %q", name)
	}
	return loc, nil
}

// Strict selects the stricter checks of the API (coordinates must be on the
// globe) over the leniency imports need for published feeds.
type Strict bool

// ValidateService checks a service and everything it embeds: first the
// limits of every member (Limits), then its rules. It normalises times of day
// to HH:MM:SS. The organization may be embedded or referenced.
func ValidateService(s *Service, strict Strict) error {
	if err := checkLimits(s); err != nil {
		return err
	}
	return validateService(s, strict)
}

// ValidateOrganization checks an organization and the locations and services
// it embeds (limits first, then rules).
func ValidateOrganization(o *Organization, strict Strict) error {
	if err := checkLimits(o); err != nil {
		return err
	}
	return validateOrganization(o, strict)
}

// ValidateLocation checks a location (limits first, then rules).
func ValidateLocation(l *Location, strict Strict) error {
	if err := checkLimits(l); err != nil {
		return err
	}
	return validateLocation(l, strict)
}

// ValidateTaxonomyTerm checks a taxonomy term and the taxonomy it embeds.
func ValidateTaxonomyTerm(t *TaxonomyTerm) error {
	if err := checkLimits(t); err != nil {
		return err
	}
	return validateTaxonomyTerm(t)
}

// ValidateTaxonomy checks a taxonomy.
func ValidateTaxonomy(t *Taxonomy) error {
	if err := checkLimits(t); err != nil {
		return err
	}
	return validateTaxonomy(t)
}

// ValidateServiceAtLocation checks a standalone service-at-location record,
// which must embed or reference both its service and its location.
func ValidateServiceAtLocation(sal *ServiceAtLocation, service *Service, strict Strict) error {
	if err := checkLimits(service); err != nil {
		return prefix("service", err)
	}
	if err := checkLimits(sal); err != nil {
		return err
	}
	return validateServiceAtLocation(sal, service, strict)
}

// validateService checks a service and everything it embeds, and normalises
// times of day to HH:MM:SS. The organization may be embedded or referenced.
func validateService(s *Service, strict Strict) error {
	if s.Name = strings.TrimSpace(s.Name); s.Name == "" {
		return fieldErr("name", "is required")
	}
	if !slices.Contains(ServiceStatuses(), s.Status) {
		return fieldErr("status", "must be one of %s", strings.Join(ServiceStatuses(), ", "))
	}
	if s.Organization == nil && s.OrganizationID == uuid.Nil {
		return fieldErr("organization_id", "is required (or embed organization)")
	}
	if s.Organization != nil {
		if err := validateOrganization(s.Organization, strict); err != nil {
			return prefix("organization", err)
		}
	}
	if s.MinimumAge != nil && *s.MinimumAge < 0 {
		return fieldErr("minimum_age", "must not be negative")
	}
	if s.MaximumAge != nil && *s.MaximumAge < 0 {
		return fieldErr("maximum_age", "must not be negative")
	}
	if s.MinimumAge != nil && s.MaximumAge != nil && *s.MinimumAge > *s.MaximumAge {
		return fieldErr("maximum_age", "must not be below minimum_age")
	}
	if err := validateSchedules("schedules", s.Schedules); err != nil {
		return err
	}
	if err := validateCostOptions("cost_options", s.CostOptions); err != nil {
		return err
	}
	if err := validateLanguages("languages", s.Languages); err != nil {
		return err
	}
	if err := validatePhonesAndContacts("", s.Phones, s.Contacts); err != nil {
		return err
	}
	seenLoc := map[uuid.UUID]bool{}
	for i := range s.ServiceAtLocations {
		sal := &s.ServiceAtLocations[i]
		f := fmt.Sprintf("service_at_locations[%d]", i)
		if sal.Location != nil {
			if err := validateLocation(sal.Location, strict); err != nil {
				return prefix(f+".location", err)
			}
			sal.LocationID = sal.Location.ID
		}
		if sal.LocationID == uuid.Nil {
			return fieldErr(f+".location_id", "is required (or embed location)")
		}
		if seenLoc[sal.LocationID] {
			return fieldErr(f+".location_id", "lists the same location twice")
		}
		seenLoc[sal.LocationID] = true
		if err := validateSchedules(f+".schedules", sal.Schedules); err != nil {
			return err
		}
		if err := validatePhonesAndContacts(f+".", sal.Phones, sal.Contacts); err != nil {
			return err
		}
	}
	for i := range s.Attributes {
		a := &s.Attributes[i]
		if a.TaxonomyTerm != nil {
			if err := validateTaxonomyTerm(a.TaxonomyTerm); err != nil {
				return prefix(fmt.Sprintf("attributes[%d].taxonomy_term", i), err)
			}
			a.TaxonomyTermID = a.TaxonomyTerm.ID
		}
	}
	if s.Program != nil && s.Program.ID == uuid.Nil && s.Program.Name == "" {
		return fieldErr("program.name", "is required")
	}
	return nil
}

// validateOrganization checks an organization and the locations and services it embeds.
func validateOrganization(o *Organization, strict Strict) error {
	if o.Name = strings.TrimSpace(o.Name); o.Name == "" {
		return fieldErr("name", "is required")
	}
	if o.ParentOrganizationID != uuid.Nil && o.ParentOrganizationID == o.ID {
		return fieldErr("parent_organization_id", "cannot be the organization itself")
	}
	if err := validatePhonesAndContacts("", o.Phones, o.Contacts); err != nil {
		return err
	}
	for i := range o.Locations {
		if err := validateLocation(&o.Locations[i], strict); err != nil {
			return prefix(fmt.Sprintf("locations[%d]", i), err)
		}
	}
	for i := range o.Services {
		s := &o.Services[i]
		if s.OrganizationID == uuid.Nil && s.Organization == nil {
			s.OrganizationID = o.ID
		}
		if err := validateService(s, strict); err != nil {
			return prefix(fmt.Sprintf("services[%d]", i), err)
		}
	}
	return nil
}

// validateLocation checks a location.
func validateLocation(l *Location, strict Strict) error {
	if !slices.Contains(LocationTypes(), l.LocationType) {
		return fieldErr("location_type", "must be one of %s", strings.Join(LocationTypes(), ", "))
	}
	if (l.Latitude == nil) != (l.Longitude == nil) {
		return fieldErr("latitude", "latitude and longitude go together")
	}
	if strict && l.Latitude != nil {
		if *l.Latitude < -90 || *l.Latitude > 90 {
			return fieldErr("latitude", "must be between -90 and 90")
		}
		if *l.Longitude < -180 || *l.Longitude > 180 {
			return fieldErr("longitude", "must be between -180 and 180")
		}
	}
	if l.Timezone != "" {
		if _, err := LoadZone(l.Timezone); err != nil {
			return fieldErr("timezone", "%v", err)
		}
	}
	for i, a := range l.Addresses {
		if !slices.Contains(AddressTypes(), a.AddressType) {
			return fieldErr(fmt.Sprintf("addresses[%d].address_type", i), "must be one of %s", strings.Join(AddressTypes(), ", "))
		}
	}
	if err := validateSchedules("schedules", l.Schedules); err != nil {
		return err
	}
	if err := validateLanguages("languages", l.Languages); err != nil {
		return err
	}
	return validatePhonesAndContacts("", l.Phones, l.Contacts)
}

// validateTaxonomyTerm checks a taxonomy term.
func validateTaxonomyTerm(t *TaxonomyTerm) error {
	if t.Name = strings.TrimSpace(t.Name); t.Name == "" {
		return fieldErr("name", "is required")
	}
	if t.ParentID != uuid.Nil && t.ParentID == t.ID {
		return fieldErr("parent_id", "cannot be the term itself")
	}
	if t.TaxonomyDetail != nil {
		if err := validateTaxonomy(t.TaxonomyDetail); err != nil {
			return prefix("taxonomy_detail", err)
		}
		t.TaxonomyID = t.TaxonomyDetail.ID
	}
	return nil
}

// validateTaxonomy checks a taxonomy.
func validateTaxonomy(t *Taxonomy) error {
	if t.Name = strings.TrimSpace(t.Name); t.Name == "" {
		return fieldErr("name", "is required")
	}
	return nil
}

// validateServiceAtLocation checks a standalone service-at-location record,
// which must embed or reference both its service and its location.
func validateServiceAtLocation(sal *ServiceAtLocation, service *Service, strict Strict) error {
	if service != nil {
		if err := validateService(service, strict); err != nil {
			return prefix("service", err)
		}
	}
	if sal.Location != nil {
		if err := validateLocation(sal.Location, strict); err != nil {
			return prefix("location", err)
		}
		sal.LocationID = sal.Location.ID
	}
	if sal.ServiceID == uuid.Nil {
		return fieldErr("service_id", "is required (or embed service)")
	}
	if sal.LocationID == uuid.Nil {
		return fieldErr("location_id", "is required (or embed location)")
	}
	if err := validateSchedules("schedules", sal.Schedules); err != nil {
		return err
	}
	return validatePhonesAndContacts("", sal.Phones, sal.Contacts)
}

func validateSchedules(field string, ss []Schedule) error {
	for i := range ss {
		s := &ss[i]
		f := fmt.Sprintf("%s[%d]", field, i)
		for _, t := range []struct {
			name string
			v    *string
		}{{"opens_at", &s.OpensAt}, {"closes_at", &s.ClosesAt}} {
			if *t.v == "" {
				continue
			}
			norm, ok := ParseTime(*t.v)
			if !ok {
				return fieldErr(f+"."+t.name, "must be a time of day like 09:00 or 17:30:00")
			}
			*t.v = norm
		}
		if (s.OpensAt == "") != (s.ClosesAt == "") {
			return fieldErr(f+".closes_at", "opens_at and closes_at go together")
		}
		if s.Freq != "" && !slices.Contains(Frequencies(), s.Freq) {
			return fieldErr(f+".freq", "must be %s", strings.Join(Frequencies(), " or "))
		}
		// wkst is a bare weekday code (the column's CHECK allows nothing
		// else); only byday items carry an ordinal.
		if s.WKST != "" && !slices.Contains(Weekdays(), s.WKST) {
			return fieldErr(f+".wkst", "must be a weekday code (MO..SU)")
		}
		if s.ByDay != "" {
			for _, d := range strings.Split(s.ByDay, ",") {
				if !bydayRe.MatchString(strings.ToUpper(strings.TrimSpace(d))) {
					return fieldErr(f+".byday", "must list weekday codes like MO,TU,WE (got %q)", d)
				}
			}
		}
		if s.Timezone != nil && (*s.Timezone < MinUTCOffset || *s.Timezone > MaxUTCOffset) {
			return fieldErr(f+".timezone", "must be a UTC offset in hours between %d and %d", MinUTCOffset, MaxUTCOffset)
		}
		if err := validPeriod(f, s.ValidFrom, s.ValidTo); err != nil {
			return err
		}
	}
	return nil
}

// validPeriod checks an optional valid_from / valid_to pair: dates in
// valid.Date's range, and not ending before they start.
func validPeriod(field, from, to string) error {
	var dates [2]time.Time
	for i, d := range []struct{ name, v string }{{"valid_from", from}, {"valid_to", to}} {
		if d.v == "" {
			continue
		}
		t, err := valid.Date(d.v)
		if err != nil {
			return fieldErr(field+"."+d.name, "%v", err)
		}
		dates[i] = t
	}
	if !dates[0].IsZero() && !dates[1].IsZero() && dates[1].Before(dates[0]) {
		return fieldErr(field+".valid_to", "must not be before valid_from (%s)", from)
	}
	return nil
}

func validateCostOptions(field string, cs []CostOption) error {
	for i, c := range cs {
		if err := validPeriod(fmt.Sprintf("%s[%d]", field, i), c.ValidFrom, c.ValidTo); err != nil {
			return err
		}
	}
	return nil
}

func validateLanguages(field string, ls []Language) error {
	for i, l := range ls {
		if l.Code != "" && !langCodeRe.MatchString(l.Code) {
			return fieldErr(fmt.Sprintf("%s[%d].code", field, i), "must be an ISO 639 code like es or spa")
		}
	}
	return nil
}

func validatePhones(field string, ps []Phone) error {
	for i, p := range ps {
		if strings.TrimSpace(p.Number) == "" {
			return fieldErr(fmt.Sprintf("%s[%d].number", field, i), "is required")
		}
		if err := validateLanguages(fmt.Sprintf("%s[%d].languages", field, i), p.Languages); err != nil {
			return err
		}
	}
	return nil
}

// validatePhonesAndContacts checks a record's phones and its contacts'
// phones (whose language codes are checked as the record's own are); field
// prefixes the names of both.
func validatePhonesAndContacts(field string, phones []Phone, contacts []Contact) error {
	if err := validatePhones(field+"phones", phones); err != nil {
		return err
	}
	for i, c := range contacts {
		if err := validatePhones(fmt.Sprintf("%scontacts[%d].phones", field, i), c.Phones); err != nil {
			return err
		}
	}
	return nil
}

func prefix(p string, err error) error {
	if fe, ok := err.(*FieldError); ok {
		return &FieldError{Field: p + "." + fe.Field, Message: fe.Message}
	}
	return err
}

// iso639 pairs the ISO 639-1 and 639-3 codes of the languages most often
// offered by human services, so a search for "es" finds "spa" and back.
var iso639 = map[string]string{
	"en": "eng", "es": "spa", "zh": "zho", "vi": "vie", "ko": "kor", "ru": "rus", "tl": "tgl", "ar": "ara",
	"so": "som", "am": "amh", "fr": "fra", "de": "deu", "pt": "por", "ja": "jpn", "hi": "hin", "ur": "urd",
	"bn": "ben", "pa": "pan", "fa": "fas", "uk": "ukr", "pl": "pol", "ht": "hat", "ti": "tir", "om": "orm",
	"sw": "swa", "my": "mya", "km": "khm", "lo": "lao", "ne": "nep", "ps": "pus", "sm": "smo",
	"to": "ton", "mh": "mah", "it": "ita", "el": "ell", "he": "heb", "tr": "tur", "ro": "ron", "sk": "slk",
	"cs": "ces", "hu": "hun", "th": "tha", "id": "ind", "ms": "msa", "ta": "tam", "te": "tel", "gu": "guj",
}

// LanguageCodes returns the codes to match for an ISO 639-1 or 639-3 code
// (or BCP 47 tag): its primary subtag, lowercased, and its counterpart.
func LanguageCodes(code string) []string {
	c := strings.ToLower(strings.SplitN(strings.TrimSpace(code), "-", 2)[0])
	out := []string{c}
	if three, ok := iso639[c]; ok {
		out = append(out, three)
	}
	for two, three := range iso639 {
		if three == c {
			out = append(out, two)
		}
	}
	return out
}
