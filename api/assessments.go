package api

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/domain"
)

const assessmentTag = "Assessments"

// AssessmentRating is one life domain's rating in an assessment.
type AssessmentRating struct {
	Domain      string  `json:"domain" rule:"assessment.domain" example:"housing" doc:"The life domain (GET /v1/assessment-domains lists them with labels and anchors)"`
	Rating      int     `json:"rating" rule:"assessment.rating" example:"2" doc:"1 (in crisis) to 5 (thriving)"`
	Priority    bool    `json:"priority" doc:"The client wants to work on this domain now (suggestions are made for priority domains)"`
	Strengths   *string `json:"strengths" rule:"assessment.strengths" example:"My sister lets us stay while I look" doc:"What is going well in this domain, in the client's words; null when not given"`
	Sensitivity *string `json:"sensitivity" rule:"sensitivity" example:"sud" doc:"sud for substance_use (visible only to the client and the care-team workers they consented to), else null"`
}

// Assessment is a client's self-assessment of their life domains.
type Assessment struct {
	ID          uuid.UUID          `json:"id" doc:"Assessment id (UUIDv7)"`
	ClientID    uuid.UUID          `json:"client_id" doc:"The client whose assessment this is"`
	Status      string             `json:"status" rule:"assessment.status" example:"confirmed" doc:"draft: may still change; confirmed: the client confirmed it, it never changes and counts in the summary"`
	Ratings     []AssessmentRating `json:"ratings" rule:"assessment.ratings" nullable:"false" doc:"One rating per domain rated, in domain order; the ratings you may not see (substance_use without the client's sud consent) are left out"`
	CreatedBy   uuid.UUID          `json:"created_by" doc:"The person who started it: the client, or a care-team worker starting it with them"`
	CreatedAt   time.Time          `json:"created_at"`
	UpdatedAt   time.Time          `json:"updated_at"`
	ConfirmedAt *time.Time         `json:"confirmed_at" nullable:"true" doc:"When the client confirmed it; null for a draft"`
	Version     int64              `json:"version" rule:"version" example:"1" doc:"Version, also the ETag"`
}

func assessmentDTO(a domain.Assessment) Assessment {
	ratings := make([]AssessmentRating, len(a.Ratings))
	for i, r := range a.Ratings {
		ratings[i] = AssessmentRating{Domain: r.Domain, Rating: r.Rating, Priority: r.Priority, Strengths: r.Strengths, Sensitivity: r.Sensitivity}
	}
	var confirmed *time.Time
	if a.ConfirmedAt != nil {
		t := a.ConfirmedAt.UTC()
		confirmed = &t
	}
	return Assessment{ID: a.ID, ClientID: a.ClientID, Status: a.Status, Ratings: ratings, CreatedBy: a.CreatedBy,
		CreatedAt: a.CreatedAt.UTC(), UpdatedAt: a.UpdatedAt.UTC(), ConfirmedAt: confirmed, Version: a.Version}
}

// AssessmentRatingInput rates one domain.
type AssessmentRatingInput struct {
	Domain    string `json:"domain" rule:"assessment.domain" example:"housing"`
	Rating    int    `json:"rating" rule:"assessment.rating" example:"2" doc:"1 (in crisis) to 5 (thriving)"`
	Priority  bool   `json:"priority,omitempty" doc:"Mark the domain as one to work on now (default false)"`
	Strengths string `json:"strengths,omitempty" rule:"assessment.strengths" example:"My sister lets us stay while I look" doc:"What is going well"`
}

func ratingInputs(in []AssessmentRatingInput) []domain.RatingInput {
	out := make([]domain.RatingInput, len(in))
	for i, r := range in {
		out[i] = domain.RatingInput{Domain: r.Domain, Rating: r.Rating, Priority: r.Priority, Strengths: r.Strengths}
	}
	return out
}

// AssessmentCreate starts an assessment.
type AssessmentCreate struct {
	Ratings []AssessmentRatingInput `json:"ratings" rule:"assessment.ratings" nullable:"false" doc:"Each domain at most once; any subset of the domains (a confirmed assessment rates at least one)"`
	Status  string                  `json:"status,omitempty" rule:"assessment.status" example:"confirmed" doc:"The client: confirmed (default) or draft. A care-team worker: draft (default and only choice; 403 otherwise)"`
}

// AssessmentPatch is a JSON Merge Patch of a draft.
type AssessmentPatch struct {
	Ratings *[]AssessmentRatingInput `json:"ratings,omitempty" rule:"assessment.ratings" doc:"Replaces the ratings you can see (a merge patch replaces a list)"`
}

// AssessmentPath is the {assessmentId} path parameter.
type AssessmentPath struct {
	AssessmentID uuid.UUID `path:"assessmentId" doc:"Assessment id"`
}

type createAssessmentInput struct {
	ClientPath
	Body AssessmentCreate
}

type listAssessmentsInput struct {
	ClientPath
	Status string `query:"status" rule:"assessment.status" doc:"Only assessments in this status"`
	PageParams
}

type patchAssessmentInput struct {
	AssessmentPath
	IfMatch string `header:"If-Match" doc:"The ETag from your last read (required)"`
	RawBody []byte
	Body    AssessmentPatch `contentType:"application/merge-patch+json"`
}

type confirmAssessmentInput struct {
	AssessmentPath
	IfMatch string `header:"If-Match" doc:"Optional: the ETag of the draft you read, so you confirm exactly that version (412 if it changed)"`
}

type assessmentOutput struct {
	ETag         string `header:"ETag" doc:"Strong ETag: the assessment's version"`
	Location     string `header:"Location" doc:"The assessment's URL (on create)"`
	Redisclosure string `header:"Waypoint-Redisclosure" doc:"The 42 CFR Part 2 redisclosure notice: present exactly when the response carries a record labelled sud"`
	Status       int
	Body         Assessment
}

func assessmentOut(a domain.Assessment, status int) *assessmentOutput {
	o := &assessmentOutput{ETag: etag(a.Version), Redisclosure: redisclosure(a.Sensitivity()), Status: status, Body: assessmentDTO(a)}
	if status == http.StatusCreated {
		o.Location = "/v1/assessments/" + a.ID.String()
	}
	return o
}

type assessmentsOutput struct {
	Redisclosure string `header:"Waypoint-Redisclosure" doc:"The 42 CFR Part 2 redisclosure notice: present exactly when the response carries a record labelled sud"`
	Body         Page[Assessment]
}

// LanguageParam reads Accept-Language.
type LanguageParam struct {
	AcceptLanguage string `header:"Accept-Language" example:"es, en;q=0.5" doc:"The language of labels, anchors, titles and reasons: en (default) or es"`
}

func (l LanguageParam) lang() string { return domain.NegotiateLanguage(l.AcceptLanguage) }

// LanguageHeaders are on every response whose text depends on Accept-Language.
type LanguageHeaders struct {
	ContentLanguage string `header:"Content-Language" doc:"The language of the texts: en or es"`
	Vary            string `header:"Vary" doc:"Accept-Language: the texts depend on it"`
}

func inLanguage(lang string) LanguageHeaders {
	return LanguageHeaders{ContentLanguage: lang, Vary: "Accept-Language"}
}

// AssessmentAnchor is the plain-language meaning of one rating.
type AssessmentAnchor struct {
	Rating int    `json:"rating" rule:"assessment.rating" example:"2"`
	Text   string `json:"text" rule:"assessment.anchor" example:"I stay somewhere temporary or unsafe (shelter, a friend's couch, overcrowded)."`
}

// AssessmentDomain is a life domain with its label and anchors.
type AssessmentDomain struct {
	Domain      string             `json:"domain" rule:"assessment.domain" example:"housing"`
	Label       string             `json:"label" rule:"assessment.label" example:"Housing"`
	Sensitivity *string            `json:"sensitivity" rule:"sensitivity" example:"sud" doc:"The label its ratings carry (sud for substance_use), else null"`
	Anchors     []AssessmentAnchor `json:"anchors" rule:"assessment.anchors" nullable:"false" doc:"One per rating, 1 (in crisis) to 5 (thriving)"`
}

// AssessmentDomains lists the domains in one language.
type AssessmentDomains struct {
	Language string             `json:"language" rule:"assessment.language" example:"en"`
	Domains  []AssessmentDomain `json:"domains" rule:"assessment.domains" nullable:"false"`
}

func anchorsOf(t domain.DomainText) []AssessmentAnchor {
	out := make([]AssessmentAnchor, len(t.Anchors))
	for i, a := range t.Anchors {
		out[i] = AssessmentAnchor{Rating: i + 1, Text: a}
	}
	return out
}

type assessmentDomainsOutput struct {
	LanguageHeaders
	Body AssessmentDomains
}

// SummaryPoint is one confirmed rating of a domain.
type SummaryPoint struct {
	AssessmentID uuid.UUID `json:"assessment_id"`
	Rating       int       `json:"rating" rule:"assessment.rating" example:"2"`
	ConfirmedAt  time.Time `json:"confirmed_at" doc:"When the client confirmed that assessment"`
}

// DomainSummary is one domain across the client's confirmed assessments.
type DomainSummary struct {
	Domain              string             `json:"domain" rule:"assessment.domain" example:"housing"`
	Label               string             `json:"label" rule:"assessment.label" example:"Housing"`
	Priority            bool               `json:"priority" doc:"Marked a priority in the latest assessment rating it"`
	Latest              *SummaryPoint      `json:"latest" doc:"The latest confirmed rating; null when the domain was never rated"`
	Previous            *SummaryPoint      `json:"previous" doc:"The confirmed rating before the latest; null with fewer than two"`
	First               *SummaryPoint      `json:"first" doc:"The first confirmed rating ever; null when never rated"`
	ChangeSinceFirst    *int               `json:"change_since_first" rule:"assessment.change" example:"1" doc:"latest minus first; null until there are two ratings"`
	ChangeSincePrevious *int               `json:"change_since_previous" rule:"assessment.change" example:"1" doc:"latest minus previous; null until there are two ratings"`
	Trend               string             `json:"trend" rule:"goal.trend" example:"improving" doc:"insufficient_data with fewer than two ratings; else improving (latest above previous), worsening (below) or steady"`
	Points              []SummaryPoint     `json:"points" rule:"assessment.points" nullable:"false" doc:"The newest confirmed ratings (at most 12), oldest first: a sparkline"`
	Anchors             []AssessmentAnchor `json:"anchors" rule:"assessment.anchors" nullable:"false" doc:"What each rating means, in the response's language"`
}

// TransformSchema lets latest, previous and first be null (Huma cannot
// mark a referenced object schema nullable with a tag).
func (DomainSummary) TransformSchema(r huma.Registry, s *huma.Schema) *huma.Schema {
	for _, name := range []string{"latest", "previous", "first"} {
		if p := s.Properties[name]; p != nil && p.Ref != "" {
			inline := *r.SchemaFromRef(p.Ref) // a copy: the shared schema stays non-nullable
			inline.Nullable = true
			inline.Description = p.Description
			s.Properties[name] = &inline
		}
	}
	return s
}

// AssessmentSummary is the client's domains across their confirmed assessments.
type AssessmentSummary struct {
	ClientID uuid.UUID       `json:"client_id"`
	Language string          `json:"language" rule:"assessment.language" example:"en"`
	Domains  []DomainSummary `json:"domains" rule:"assessment.domains" nullable:"false" doc:"Every domain, in domain order (substance_use only for those who may see sud ratings)"`
}

func summaryPoint(p *domain.RatingPoint) *SummaryPoint {
	if p == nil {
		return nil
	}
	return &SummaryPoint{AssessmentID: p.AssessmentID, Rating: p.Rating, ConfirmedAt: p.ConfirmedAt.UTC()}
}

type summaryInput struct {
	LanguageParam
	ClientPath
}

type summaryOutput struct {
	LanguageHeaders
	Redisclosure string `header:"Waypoint-Redisclosure" doc:"The 42 CFR Part 2 redisclosure notice: present exactly when the response carries a record labelled sud"`
	Body         AssessmentSummary
}

// GoalTemplateSuggestion is a goal the client may adopt.
type GoalTemplateSuggestion struct {
	TemplateID    string     `json:"template_id" rule:"assessment.template_id" example:"find-stable-housing" doc:"Adopt it with POST /v1/assessments/{assessmentId}/goals"`
	Title         string     `json:"title" rule:"goal.title" example:"Find stable housing" doc:"The goal's title in the response's language"`
	Category      string     `json:"category" rule:"goal.category" example:"housing" doc:"The adopted goal's category"`
	Reason        string     `json:"reason" rule:"suggestion.reason" example:"You marked housing as a priority (you rated it 2 of 5)."`
	AdoptedGoalID *uuid.UUID `json:"adopted_goal_id" nullable:"true" doc:"The goal adopted from this template in this assessment, if any (and visible to you); null otherwise"`
}

// DirectorySearchSuggestion is a directory search for a priority domain.
type DirectorySearchSuggestion struct {
	TaxonomyTermID *uuid.UUID `json:"taxonomy_term_id" nullable:"true" doc:"The taxonomy term searched; null for a text search"`
	TermCode       *string    `json:"term_code" rule:"hsds.short_text" example:"BH" doc:"Its code; null for a text search"`
	TermName       *string    `json:"term_name" rule:"hsds.name" example:"Housing" doc:"Its name; null for a text search"`
	Search         *string    `json:"search" rule:"assessment.label" example:"Housing" doc:"The words searched when the directory has none of the domain's terms; else null"`
	Language       *string    `json:"language" rule:"language_tag" example:"es" doc:"The client's preferred language: services offered in it; null when the client has not set one"`
	Href           string     `json:"href" rule:"suggestion.href" example:"/v1/services?taxonomy_term_id=0190a000-0005-7000-8000-000000000004&language=es&lat=47.61&lon=-122.33" doc:"The search, ready to GET (GET /v1/services)"`
	Reason         string     `json:"reason" rule:"suggestion.reason" example:"You marked housing as a priority (you rated it 2 of 5)."`
}

// DomainSuggestions are the suggestions for one priority domain.
type DomainSuggestions struct {
	Domain            string                      `json:"domain" rule:"assessment.domain" example:"housing"`
	Label             string                      `json:"label" rule:"assessment.label" example:"Housing"`
	Rating            int                         `json:"rating" rule:"assessment.rating" example:"2"`
	Reason            string                      `json:"reason" rule:"suggestion.reason" example:"You marked housing as a priority (you rated it 2 of 5)."`
	GoalTemplates     []GoalTemplateSuggestion    `json:"goal_templates" rule:"suggestion.goal_templates" nullable:"false"`
	DirectorySearches []DirectorySearchSuggestion `json:"directory_searches" rule:"suggestion.directory_searches" nullable:"false"`
}

// AssessmentSuggestions turn an assessment's priorities into possible actions.
type AssessmentSuggestions struct {
	AssessmentID uuid.UUID           `json:"assessment_id"`
	ClientID     uuid.UUID           `json:"client_id"`
	Language     string              `json:"language" rule:"assessment.language" example:"es"`
	Domains      []DomainSuggestions `json:"domains" rule:"assessment.domains" nullable:"false" doc:"One entry per priority domain you may see, in domain order"`
}

type suggestionsInput struct {
	LanguageParam
	AssessmentPath
	Lat      OptionalParam[float64] `query:"lat" minimum:"-90" maximum:"90" example:"47.61" doc:"Latitude of the point to search around (with lon): the client's location, which Waypoint does not keep"`
	Lon      OptionalParam[float64] `query:"lon" minimum:"-180" maximum:"180" example:"-122.33" doc:"Longitude of the point"`
	RadiusKM OptionalParam[float64] `query:"radius_km" exclusiveMinimum:"0" maximum:"500" example:"5" doc:"Radius around the point in km (the directory's default when absent)"`
}

type suggestionsOutput struct {
	LanguageHeaders
	Redisclosure string `header:"Waypoint-Redisclosure" doc:"The 42 CFR Part 2 redisclosure notice: present exactly when the response carries a record labelled sud (a substance_use priority)"`
	Body         AssessmentSuggestions
}

// AdoptGoalTemplate adopts a suggested goal template.
type AdoptGoalTemplate struct {
	TemplateID string `json:"template_id" rule:"assessment.template_id" example:"find-stable-housing" doc:"One of the suggestions' template_id; its domain must be rated in this assessment"`
}

type adoptInput struct {
	LanguageParam
	AssessmentPath
	Body AdoptGoalTemplate
}

func directorySearch(t *domain.TaxonomyTermRef, search, lang string, in *suggestionsInput) DirectorySearchSuggestion {
	q := url.Values{}
	out := DirectorySearchSuggestion{}
	if t != nil {
		id, code, name := t.ID, t.Code, t.Name
		out.TaxonomyTermID, out.TermCode, out.TermName = &id, &code, &name
		q.Set("taxonomy_term_id", id.String())
	} else {
		out.Search = &search
		q.Set("search", search)
	}
	if lang != "" {
		out.Language = &lang
		q.Set("language", lang)
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	if in.Lat.Set && in.Lon.Set {
		q.Set("lat", f(in.Lat.Value))
		q.Set("lon", f(in.Lon.Value))
		if in.RadiusKM.Set {
			q.Set("radius_km", f(in.RadiusKM.Value))
		}
	}
	out.Href = "/v1/services?" + q.Encode()
	return out
}

func (s *Server) registerAssessments() {
	handle(s.api, op(http.MethodGet, "/v1/assessment-domains", "listAssessmentDomains", assessmentTag, "List the life domains",
		"The fourteen life domains of a self-assessment, fixed, in the order to show them, each with its label and a plain-language "+
			"anchor per rating (1 in crisis ... 5 thriving) in the language Accept-Language prefers (en or es; en by default), so a front "+
			"end never hard-codes them. Content-Language says which. substance_use ratings are labelled sud.",
		"assessments:read"),
		func(_ context.Context, in *LanguageParam) (*assessmentDomainsOutput, error) {
			lang := in.lang()
			out := &assessmentDomainsOutput{LanguageHeaders: inLanguage(lang), Body: AssessmentDomains{Language: lang}}
			for _, t := range domain.AssessmentDomainTexts(lang) {
				out.Body.Domains = append(out.Body.Domains, AssessmentDomain{Domain: t.Domain, Label: t.Label,
					Sensitivity: domain.DomainSensitivity(t.Domain), Anchors: anchorsOf(t)})
			}
			return out, nil
		})

	create := Idempotent(op(http.MethodPost, "/v1/clients/{clientId}/assessments", "createAssessment", assessmentTag, "Start a self-assessment",
		"The client rates their situation in any of the life domains, 1 (in crisis) to 5 (thriving), with what is going well "+
			"(strengths) and which domains are priorities. The client's is confirmed at once unless they ask for a draft. A care-team "+
			"worker starts one with the client: it is a draft until the client confirms it (asking for confirmed is 403). substance_use "+
			"ratings are labelled sud: a worker without the client's sud consent may not rate it (403). Supporters: 403; anyone else: 404.",
		"assessments:write", notFound, invalid, tooLarge, badType), s.replayForClient(domain.ResourceAssessment))
	create.DefaultStatus = http.StatusCreated
	handle(s.api, create, func(ctx context.Context, in *createAssessmentInput) (*assessmentOutput, error) {
		a, err := s.store.CreateAssessment(ctx, actorFrom(ctx), in.ClientID, domain.AssessmentInput{
			Ratings: ratingInputs(in.Body.Ratings), Status: in.Body.Status})
		if err != nil {
			return nil, err
		}
		return assessmentOut(a, http.StatusCreated), nil
	})

	handle(s.api, op(http.MethodGet, "/v1/clients/{clientId}/assessments", "listAssessments", assessmentTag, "List a client's assessments",
		"Newest first. The client and their care team see drafts and confirmed ones; a supporter the client shares assessments with "+
			"sees the confirmed ones. substance_use ratings only for those who may see sud records. Anyone else: 404. Reads by others "+
			"than the client are in the client's access log.",
		"assessments:read", notFound, invalid),
		func(ctx context.Context, in *listAssessmentsInput) (*assessmentsOutput, error) {
			rows, next, err := s.store.ListAssessments(ctx, actorFrom(ctx), in.ClientID,
				domain.AssessmentFilter{Status: in.Status, Cursor: in.Cursor, Limit: in.Limit})
			if err != nil {
				return nil, err
			}
			return &assessmentsOutput{Redisclosure: redisclosureOf(rows, domain.Assessment.Sensitivity), Body: newPage(rows, next, assessmentDTO)}, nil
		})

	handle(s.api, op(http.MethodGet, "/v1/clients/{clientId}/assessments/summary", "getAssessmentSummary", assessmentTag, "Summarize a client's assessments",
		"Per domain, across the client's confirmed assessments (drafts never count): the latest, previous and first rating, the "+
			"change since the first and the previous, the trend (improving, worsening or steady: latest against previous; "+
			"insufficient_data with fewer than two ratings), the newest ratings for a sparkline, and the anchors in the language "+
			"Accept-Language prefers: what a front end needs for a radar chart. Same readers as the list; substance_use appears only "+
			"for those who may see sud ratings.",
		"assessments:read", notFound, invalid),
		func(ctx context.Context, in *summaryInput) (*summaryOutput, error) {
			rows, err := s.store.AssessmentSummary(ctx, actorFrom(ctx), in.ClientID)
			if err != nil {
				return nil, err
			}
			lang := in.lang()
			out := &summaryOutput{LanguageHeaders: inLanguage(lang), Body: AssessmentSummary{ClientID: in.ClientID, Language: lang, Domains: []DomainSummary{}}}
			for _, d := range rows {
				t := domain.AssessmentDomainText(lang, d.Domain)
				ds := DomainSummary{Domain: d.Domain, Label: t.Label, Latest: summaryPoint(d.Latest), Previous: summaryPoint(d.Previous),
					First: summaryPoint(d.First), ChangeSinceFirst: d.ChangeSinceFirst, ChangeSincePrevious: d.ChangeSincePrevious,
					Trend: d.Trend, Points: make([]SummaryPoint, len(d.Points)), Anchors: anchorsOf(t)}
				for i := range d.Points {
					ds.Points[i] = *summaryPoint(&d.Points[i])
				}
				if d.Latest != nil {
					ds.Priority = d.Latest.Priority
					if h := redisclosure(domain.DomainSensitivity(d.Domain)); h != "" {
						out.Redisclosure = h
					}
				}
				out.Body.Domains = append(out.Body.Domains, ds)
			}
			return out, nil
		})

	handle(s.api, op(http.MethodGet, "/v1/assessments/{assessmentId}", "getAssessment", assessmentTag, "Get an assessment",
		"One assessment with the ratings you may see, and its ETag. Same readers as the list.",
		"assessments:read", notFound, invalid),
		func(ctx context.Context, in *AssessmentPath) (*assessmentOutput, error) {
			a, err := s.store.GetAssessment(ctx, actorFrom(ctx), in.AssessmentID)
			if err != nil {
				return nil, err
			}
			return assessmentOut(a, http.StatusOK), nil
		})

	handle(s.api, op(http.MethodPatch, "/v1/assessments/{assessmentId}", "patchAssessment", assessmentTag, "Change a draft assessment",
		"JSON Merge Patch of a draft: ratings replaces the ratings you can see (a substance_use rating you may not see stays as it "+
			"is; rating it is 403). The client and their care team may; a confirmed assessment never changes (409). Requires "+
			"If-Match (missing: 428, stale: 412).",
		"assessments:write", notFound, invalid, conflict, stale, noMatch, tooLarge, badType),
		func(ctx context.Context, in *patchAssessmentInput) (*assessmentOutput, error) {
			k := parseMergeKeys(in.RawBody)
			var ratings *[]domain.RatingInput
			if k.sent("ratings") {
				if k["ratings"] || in.Body.Ratings == nil {
					return nil, domain.Invalid("ratings", "ratings cannot be null; send [] to remove the ratings you can see")
				}
				r := ratingInputs(*in.Body.Ratings)
				ratings = &r
			}
			a, err := conditionalWrite(in.IfMatch, func(v domain.Precondition) (domain.Assessment, error) {
				return s.store.UpdateAssessment(ctx, actorFrom(ctx), in.AssessmentID, v, ratings)
			})
			if err != nil {
				return nil, err
			}
			return assessmentOut(a, http.StatusOK), nil
		})

	handle(s.api, op(http.MethodPost, "/v1/assessments/{assessmentId}/confirm", "confirmAssessment", assessmentTag, "Confirm a draft assessment",
		"The client confirms a draft (one they or a care-team worker with them started): it becomes part of their history and the "+
			"summary, and never changes again. Only the client may (403 for their care team); a confirmed assessment or a draft "+
			"without ratings is 409. Send If-Match to confirm exactly the version you read.",
		"assessments:write", notFound, invalid, conflict, stale),
		func(ctx context.Context, in *confirmAssessmentInput) (*assessmentOutput, error) {
			a, err := optionalConditionalWrite(in.IfMatch, func(v domain.Precondition) (domain.Assessment, error) {
				return s.store.ConfirmAssessment(ctx, actorFrom(ctx), in.AssessmentID, v)
			})
			if err != nil {
				return nil, err
			}
			return assessmentOut(a, http.StatusOK), nil
		})

	handle(s.api, op(http.MethodGet, "/v1/assessments/{assessmentId}/suggestions", "listAssessmentSuggestions", assessmentTag, "Suggest next steps",
		"For each priority domain of the assessment (that you may see): goal templates the client may adopt, and directory searches "+
			"(the taxonomy terms mapped to the domain that the directory has, else a text search; in the client's preferred language; "+
			"near lat/lon when given), each with a reason. Nothing happens automatically: the client adopts a template (POST "+
			"/v1/assessments/{assessmentId}/goals) or follows a search. Titles and reasons are in the language Accept-Language "+
			"prefers. The client and their care team may; supporters 403; anyone else 404.",
		"assessments:read", notFound, invalid),
		func(ctx context.Context, in *suggestionsInput) (*suggestionsOutput, error) {
			if in.Lat.Set != in.Lon.Set {
				return nil, domain.InvalidIn(domain.SourceSelection, "lat", "give lat and lon together")
			}
			sg, err := s.store.AssessmentSuggestions(ctx, actorFrom(ctx), in.AssessmentID)
			if err != nil {
				return nil, err
			}
			lang := in.lang()
			out := &suggestionsOutput{LanguageHeaders: inLanguage(lang), Body: AssessmentSuggestions{
				AssessmentID: sg.AssessmentID, ClientID: sg.ClientID, Language: lang, Domains: []DomainSuggestions{}}}
			for _, d := range sg.Domains {
				reason := domain.SuggestionReason(lang, d.Domain, d.Rating, sg.ForClient)
				label := domain.AssessmentDomainText(lang, d.Domain).Label
				ds := DomainSuggestions{Domain: d.Domain, Label: label, Rating: d.Rating, Reason: reason,
					GoalTemplates: []GoalTemplateSuggestion{}, DirectorySearches: []DirectorySearchSuggestion{}}
				for _, t := range d.Templates {
					ds.GoalTemplates = append(ds.GoalTemplates, GoalTemplateSuggestion{TemplateID: t.Template.ID, Title: t.Template.Title(lang),
						Category: t.Template.Category, Reason: reason, AdoptedGoalID: t.AdoptedGoalID})
				}
				for i := range d.Terms {
					ds.DirectorySearches = append(ds.DirectorySearches, directorySearch(&d.Terms[i], "", sg.PreferredLanguage, in))
				}
				if len(d.Terms) == 0 {
					ds.DirectorySearches = append(ds.DirectorySearches, directorySearch(nil, label, sg.PreferredLanguage, in))
				}
				for i := range ds.DirectorySearches {
					ds.DirectorySearches[i].Reason = reason
				}
				if h := redisclosure(domain.DomainSensitivity(d.Domain)); h != "" {
					out.Redisclosure = h
				}
				out.Body.Domains = append(out.Body.Domains, ds)
			}
			return out, nil
		})

	adopt := Idempotent(op(http.MethodPost, "/v1/assessments/{assessmentId}/goals", "adoptGoalTemplate", assessmentTag, "Adopt a suggested goal",
		"Creates a goal from a goal template of a domain this assessment rates, through the ordinary goal rules: the client's own goal "+
			"(active), or, from a care-team worker, a proposal the client accepts or rejects. Its title is the template's in the "+
			"language Accept-Language prefers (the client may change it like any goal), its category the domain's, its priority high "+
			"for a priority domain; a substance_use goal is labelled sud, which only the client may do (403 for a worker). Each "+
			"template is adopted once per assessment (409); the suggestions then show adopted_goal_id. Supporters: 403; anyone else: 404.",
		"goals:write", notFound, invalid, conflict, tooLarge, badType), s.replayForCreatedGoal)
	adopt.DefaultStatus = http.StatusCreated
	handle(s.api, adopt, func(ctx context.Context, in *adoptInput) (*goalCreatedOutput, error) {
		g, err := s.store.AdoptGoalTemplate(ctx, actorFrom(ctx), in.AssessmentID, in.Body.TemplateID, in.lang())
		if err != nil {
			return nil, err
		}
		return &goalCreatedOutput{Location: "/v1/goals/" + g.ID.String(), ETag: etag(g.Version),
			Redisclosure: redisclosure(g.Sensitivity), Body: goalDTO(g)}, nil
	})
}

// AssessmentGoalLink says which goal was adopted from which assessment's
// suggestions (the client's export lists them).
type AssessmentGoalLink struct {
	GoalID       uuid.UUID `json:"goal_id"`
	AssessmentID uuid.UUID `json:"assessment_id"`
	Domain       string    `json:"domain" rule:"assessment.domain" example:"housing"`
	TemplateID   string    `json:"template_id" rule:"assessment_goal.template_id" example:"find-stable-housing"`
	AdoptedBy    uuid.UUID `json:"adopted_by" doc:"The client, or the care-team worker who proposed it"`
	AdoptedAt    time.Time `json:"adopted_at"`
}
