package api

import (
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/negotiation"
	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/domain"
)

// FHIR R4 (4.0.1) representation of goals: GET /v1/goals/{goalId} and
// GET /v1/clients/{clientId}/goals answer Accept: application/fhir+json with
// a Goal / searchset Bundle. The data, authorization, access log and privacy
// rules are the JSON representation's: both come from the same store call.

const (
	mediaFHIR = "application/fhir+json"
	mediaJSON = "application/json"

	// fhirSDOHSystem is the Gravity Project's SDOH Clinical Care IG category code system.
	fhirSDOHSystem        = "http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes"
	fhirWaypointCategory  = "https://waypoint-portal.github.io/fhir/CodeSystem/goal-category"
	fhirAchievementSystem = "http://terminology.hl7.org/CodeSystem/goal-achievement"
	fhirPrioritySystem    = "http://terminology.hl7.org/CodeSystem/goal-priority"
)

// fhirSDOHCategory maps a Waypoint goal category onto the SDOHCC category
// of the same life area; health, family, legal, safety, wellbeing and other
// have no SDOH domain of their own and keep only Waypoint's code.
func fhirSDOHCategory(c string) (code, display string, ok bool) {
	switch c {
	case "housing":
		return "housing-instability", "Housing Instability", true
	case "food":
		return "food-insecurity", "Food Insecurity", true
	case "income":
		return "financial-insecurity", "Financial Insecurity", true
	case "education":
		return "educational-attainment", "Educational Attainment", true
	case "employment":
		return "employment-status", "Employment Status", true
	}
	return "", "", false
}

// fhirDisplay turns a hyphenated code into its display ("in-progress": "In Progress").
func fhirDisplay(code string) string {
	words := strings.Split(code, "-")
	for i, w := range words {
		if w != "" {
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
	}
	return strings.Join(words, " ")
}

// FHIRCoding is an R4 Coding.
type FHIRCoding struct {
	System  string `json:"system" maxLength:"200"`
	Code    string `json:"code" maxLength:"100"`
	Display string `json:"display,omitempty" maxLength:"200"`
}

// FHIRCodeableConcept is an R4 CodeableConcept.
type FHIRCodeableConcept struct {
	Coding []FHIRCoding `json:"coding,omitempty" maxItems:"10"`
	Text   string       `json:"text,omitempty" maxLength:"10000"`
}

// FHIRReference is an R4 Reference.
type FHIRReference struct {
	Reference string `json:"reference,omitempty" maxLength:"200" example:"Patient/01890a5d-ac96-774b-bcce-b302099a8057"`
	Type      string `json:"type,omitempty" maxLength:"100" example:"Patient"`
	Display   string `json:"display,omitempty" maxLength:"200"`
}

// FHIRIdentifier is an R4 Identifier.
type FHIRIdentifier struct {
	System string `json:"system" maxLength:"200"`
	Value  string `json:"value" maxLength:"200"`
}

// FHIRMeta is an R4 Meta.
type FHIRMeta struct {
	VersionID   string `json:"versionId" maxLength:"20" doc:"The goal's version (its ETag)"`
	LastUpdated string `json:"lastUpdated" maxLength:"40" doc:"When the goal last changed"`
}

// FHIRAnnotation is an R4 Annotation (text only).
type FHIRAnnotation struct {
	Text string `json:"text" maxLength:"20000"`
}

// FHIRGoalTarget is an R4 Goal.target with a due date.
type FHIRGoalTarget struct {
	DueDate string `json:"dueDate" format:"date" maxLength:"10"`
}

// FHIRGoal is a goal as an R4 Goal resource.
type FHIRGoal struct {
	ResourceType      string                `json:"resourceType" enum:"Goal"`
	ID                string                `json:"id" maxLength:"64"`
	Meta              FHIRMeta              `json:"meta"`
	Identifier        []FHIRIdentifier      `json:"identifier" maxItems:"1"`
	LifecycleStatus   string                `json:"lifecycleStatus" rule:"goal.lifecycle_status"`
	AchievementStatus *FHIRCodeableConcept  `json:"achievementStatus,omitempty"`
	Category          []FHIRCodeableConcept `json:"category,omitempty" maxItems:"2" doc:"The SDOHCC category when the life area has one, and Waypoint's own code"`
	Priority          FHIRCodeableConcept   `json:"priority"`
	Description       FHIRCodeableConcept   `json:"description" doc:"The goal's title, in the client's words"`
	Subject           FHIRReference         `json:"subject" doc:"Patient/{clientId}"`
	StartDate         string                `json:"startDate" format:"date" maxLength:"10"`
	Target            []FHIRGoalTarget      `json:"target,omitempty" maxItems:"1"`
	StatusReason      string                `json:"statusReason,omitempty" maxLength:"1000"`
	ExpressedBy       FHIRReference         `json:"expressedBy" doc:"Patient/{clientId} when the client wrote it, Practitioner/{personId} when a care-team worker proposed it"`
	Addresses         []FHIRReference       `json:"addresses,omitempty" maxItems:"1" doc:"The SDOH concern the goal addresses (display only: Waypoint keeps no Condition resources)"`
	Note              []FHIRAnnotation      `json:"note,omitempty" maxItems:"3" doc:"Description, why it matters and strengths used"`
}

// ContentType implements huma.ContentTypeFilter: a FHIR body is sent as
// application/fhir+json whatever the negotiation picked.
func (FHIRGoal) ContentType(string) string { return mediaFHIR }

// ContentType implements huma.ContentTypeFilter.
func (FHIRGoalBundle) ContentType(string) string { return mediaFHIR }

// FHIRBundleLink is an R4 Bundle.link.
type FHIRBundleLink struct {
	Relation string `json:"relation" enum:"self,next"`
	URL      string `json:"url" maxLength:"1000"`
}

// FHIRBundleSearch is an R4 Bundle.entry.search.
type FHIRBundleSearch struct {
	Mode string `json:"mode" enum:"match"`
}

// FHIRGoalEntry is an R4 Bundle.entry holding a Goal.
type FHIRGoalEntry struct {
	FullURL  string           `json:"fullUrl" maxLength:"200"`
	Resource FHIRGoal         `json:"resource"`
	Search   FHIRBundleSearch `json:"search"`
}

// FHIRGoalBundle is an R4 searchset Bundle of goals, one page of the list.
type FHIRGoalBundle struct {
	ResourceType string           `json:"resourceType" enum:"Bundle"`
	Type         string           `json:"type" enum:"searchset"`
	Timestamp    string           `json:"timestamp" maxLength:"40"`
	Link         []FHIRBundleLink `json:"link" maxItems:"2" doc:"self, and next while there are more goals (follow it to page on)"`
	Entry        []FHIRGoalEntry  `json:"entry,omitempty" maxItems:"100"`
}

// wantsFHIR reports whether the Accept header prefers the FHIR JSON media
// type over plain JSON (absent or */* means plain JSON).
func wantsFHIR(accept string) bool {
	return accept != "" && negotiation.SelectQValueFast(accept, []string{mediaJSON, mediaFHIR}) == mediaFHIR
}

// fhirGoal maps a goal onto R4. clientPerson is the client's person id, to
// tell a goal the client wrote from one a worker proposed.
func fhirGoal(g domain.Goal, clientPerson uuid.UUID) FHIRGoal {
	patient := FHIRReference{Reference: "Patient/" + g.ClientID.String(), Type: "Patient"}
	f := FHIRGoal{
		ResourceType:    "Goal",
		ID:              g.ID.String(),
		Meta:            FHIRMeta{VersionID: strconv.FormatInt(g.Version, 10), LastUpdated: g.UpdatedAt.UTC().Format(time.RFC3339)},
		Identifier:      []FHIRIdentifier{{System: "urn:ietf:rfc:3986", Value: "urn:uuid:" + g.ID.String()}},
		LifecycleStatus: g.LifecycleStatus,
		Priority: FHIRCodeableConcept{Coding: []FHIRCoding{{System: fhirPrioritySystem,
			Code: g.Priority + "-priority", Display: fhirDisplay(g.Priority + "-priority")}}},
		Description: FHIRCodeableConcept{Text: g.Title},
		Subject:     patient,
		StartDate:   g.CreatedAt.UTC().Format(time.DateOnly),
		ExpressedBy: patient,
	}
	if g.CreatedBy != clientPerson {
		f.ExpressedBy = FHIRReference{Reference: "Practitioner/" + g.CreatedBy.String(), Type: "Practitioner"}
	}
	if a := g.AchievementStatus; a != nil {
		f.AchievementStatus = &FHIRCodeableConcept{Coding: []FHIRCoding{{System: fhirAchievementSystem, Code: *a, Display: fhirDisplay(*a)}}}
	}
	if c := g.Category; c != nil {
		if code, display, ok := fhirSDOHCategory(*c); ok {
			f.Category = append(f.Category, FHIRCodeableConcept{Coding: []FHIRCoding{{System: fhirSDOHSystem, Code: code, Display: display}}})
			f.Addresses = []FHIRReference{{Display: display}}
		}
		f.Category = append(f.Category, FHIRCodeableConcept{Coding: []FHIRCoding{{System: fhirWaypointCategory, Code: *c}}})
	}
	if g.TargetDate != nil {
		f.Target = []FHIRGoalTarget{{DueDate: *g.TargetDate}}
	}
	if g.StatusReason != nil && *g.StatusReason != "" {
		f.StatusReason = *g.StatusReason
	}
	if g.Description != nil && *g.Description != "" {
		f.Note = append(f.Note, FHIRAnnotation{Text: *g.Description})
	}
	if g.WhyItMatters != nil && *g.WhyItMatters != "" {
		f.Note = append(f.Note, FHIRAnnotation{Text: "Why it matters: " + *g.WhyItMatters})
	}
	if len(g.StrengthsUsed) > 0 {
		f.Note = append(f.Note, FHIRAnnotation{Text: "Strengths used: " + strings.Join(g.StrengthsUsed, ", ")})
	}
	return f
}

// fhirGoalBundle is one page of a client's goals as a searchset Bundle whose
// links repeat the request's filters, with the next page's cursor on next.
func fhirGoalBundle(rows []domain.Goal, next string, clientPerson uuid.UUID, in *listGoalsInput, now time.Time) FHIRGoalBundle {
	b := FHIRGoalBundle{ResourceType: "Bundle", Type: "searchset", Timestamp: now.UTC().Format(time.RFC3339)}
	page := func(cursor string) string {
		q := url.Values{}
		if len(in.LifecycleStatus) > 0 {
			q.Set("lifecycle_status", strings.Join(in.LifecycleStatus, ","))
		}
		if len(in.Category) > 0 {
			q.Set("category", strings.Join(in.Category, ","))
		}
		q.Set("limit", strconv.Itoa(in.Limit))
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		return "/v1/clients/" + in.ClientID.String() + "/goals?" + q.Encode()
	}
	b.Link = []FHIRBundleLink{{Relation: "self", URL: page(in.Cursor)}}
	if next != "" {
		b.Link = append(b.Link, FHIRBundleLink{Relation: "next", URL: page(next)})
	}
	for _, g := range rows {
		b.Entry = append(b.Entry, FHIRGoalEntry{FullURL: "/v1/goals/" + g.ID.String(), Resource: fhirGoal(g, clientPerson),
			Search: FHIRBundleSearch{Mode: "match"}})
	}
	return b
}

// acceptInput reads the Accept header without declaring it as a parameter
// (OpenAPI ignores Accept parameters; the media types are in the responses).
type acceptInput struct {
	accept string
}

// Resolve implements huma.Resolver.
func (a *acceptInput) Resolve(ctx huma.Context) []error {
	a.accept = ctx.Header("Accept")
	return nil
}

// withFHIR documents the operation's 200 in both media types: plain JSON
// (jsonType) and FHIR (fhirType, with an example).
func withFHIR(api huma.API, o huma.Operation, jsonType, fhirType reflect.Type, example any, what string) huma.Operation {
	reg := api.OpenAPI().Components.Schemas
	o.Responses = map[string]*huma.Response{"200": {
		Description: "OK. With Accept: application/fhir+json, " + what + " (FHIR R4 4.0.1; the same data, authorization and " +
			"access log as the JSON representation; Vary: Accept).",
		Content: map[string]*huma.MediaType{
			mediaJSON: {Schema: reg.Schema(jsonType, true, "")},
			mediaFHIR: {Schema: reg.Schema(fhirType, true, ""), Example: example},
		},
	}}
	return o
}

func fhirGoalExample() FHIRGoal {
	client := uuid.MustParse("01890a5d-ac96-774b-bcce-b302099a8057")
	worker := uuid.MustParse("01890a5d-ac96-774b-bcce-b302099a8058")
	cat, desc, target := "housing", "A one-bedroom near my daughter's school", "2025-09-30"
	ach := "in-progress"
	at := time.Date(2025, 3, 1, 9, 30, 0, 0, time.UTC)
	return fhirGoal(domain.Goal{
		ClientID: client, ID: uuid.MustParse("01890a5d-ac96-774b-bcce-b302099a8059"), Title: "Move into my own apartment",
		Description: &desc, StrengthsUsed: []string{"persistent"}, Category: &cat, Priority: "high", TargetDate: &target,
		LifecycleStatus: "active", AchievementStatus: &ach, CreatedBy: worker, CreatedAt: at, UpdatedAt: at, Version: 4,
	}, uuid.MustParse("01890a5d-ac96-774b-bcce-b302099a8060"))
}

func fhirBundleExample() FHIRGoalBundle {
	g := fhirGoalExample()
	return FHIRGoalBundle{ResourceType: "Bundle", Type: "searchset", Timestamp: "2025-03-02T10:00:00Z",
		Link: []FHIRBundleLink{
			{Relation: "self", URL: "/v1/clients/01890a5d-ac96-774b-bcce-b302099a8057/goals?limit=1"},
			{Relation: "next", URL: "/v1/clients/01890a5d-ac96-774b-bcce-b302099a8057/goals?cursor=eyJpZCI6IjAxOD&limit=1"},
		},
		Entry: []FHIRGoalEntry{{FullURL: "/v1/goals/" + g.ID, Resource: g, Search: FHIRBundleSearch{Mode: "match"}}}}
}
