package domain

import (
	"context"
	"database/sql/driver"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Assessment statuses: a draft (the client or a care-team worker with them
// may change it) until the client confirms it; confirmed assessments never
// change and are what the summary reads.
const (
	AssessmentDraft     = "draft"
	AssessmentConfirmed = "confirmed"
)

// AssessmentStatuses lists the statuses.
func AssessmentStatuses() []string { return []string{AssessmentDraft, AssessmentConfirmed} }

// Limits of assessments.
const (
	// MaxAssessmentStrengths bounds what the client says is going well in a domain.
	MaxAssessmentStrengths = 1000
	// MaxTemplateID bounds a goal template id.
	MaxTemplateID = 64
	// MaxSummaryPoints bounds the ratings per domain the summary returns (a sparkline).
	MaxSummaryPoints = 12
	// MaxSuggestionSearches bounds the directory searches suggested per domain.
	MaxSuggestionSearches = 3
	// MaxSuggestionTemplates bounds the goal templates suggested per domain.
	MaxSuggestionTemplates = 4
	// MaxDomainLabel and MaxDomainAnchor bound a domain's label and an
	// anchor's text in any language (a test reads every one).
	MaxDomainLabel  = 60
	MaxDomainAnchor = 200
	// MaxSuggestionReason bounds a suggestion's reason.
	MaxSuggestionReason = 200
	// MaxSuggestionHref bounds a suggested directory search's URL.
	MaxSuggestionHref = 400
)

// AssessmentRating is one domain's rating in an assessment.
type AssessmentRating struct {
	Domain    string  `json:"domain"`
	Rating    int     `json:"rating"`
	Priority  bool    `json:"priority"`
	Strengths *string `json:"strengths"`
	// Sensitivity is sud for substance use (RatingScope), else nil.
	Sensitivity *string `json:"sensitivity"`
}

// AssessmentRatings are an assessment's ratings in AssessmentDomains order,
// read as one JSON array.
type AssessmentRatings []AssessmentRating

// Scan implements sql.Scanner.
func (r *AssessmentRatings) Scan(src any) error { return scanJSON(src, (*[]AssessmentRating)(r)) }

// Value implements driver.Valuer.
func (r AssessmentRatings) Value() (driver.Value, error) {
	return JSONValue[[]AssessmentRating]{V: r}.Value()
}

// Assessment is a client's self-assessment.
type Assessment struct {
	ClientID    uuid.UUID
	ID          uuid.UUID
	Status      string
	Ratings     AssessmentRatings
	CreatedBy   uuid.UUID
	CreatedAt   time.Time
	UpdatedAt   time.Time
	ConfirmedAt *time.Time
	Version     int64
}

// Sensitivity is sud when the assessment as read carries a sud rating
// (the response then carries the redisclosure notice), else nil.
func (a Assessment) Sensitivity() *string {
	for _, r := range a.Ratings {
		if r.Sensitivity != nil {
			return r.Sensitivity
		}
	}
	return nil
}

// RatingInput is one domain's rating as written.
type RatingInput struct {
	Domain    string
	Rating    int
	Priority  bool
	Strengths string
}

// AssessmentInput starts an assessment. Status "" is the actor's default:
// confirmed for the client, draft for a care-team worker (who may ask for
// nothing else).
type AssessmentInput struct {
	Ratings []RatingInput
	Status  string
}

// assessmentSelect reads assessments a with their ratings (one JSON array,
// in domain order) that the actor may see: its arguments are the domain
// order and the actor's RatingScope for alias r.
const assessmentSelect = `SELECT a.client_id, a.id, a.status, a.created_by, a.created_at, a.updated_at, a.confirmed_at, a.version,
	COALESCE((SELECT jsonb_agg(jsonb_build_object('domain', r.domain, 'rating', r.rating, 'priority', r.priority,
		'strengths', r.strengths, 'sensitivity', r.sensitivity) ORDER BY array_position(?::text[], r.domain))
		FROM assessment_ratings r WHERE r.client_id = a.client_id AND r.assessment_id = a.id AND ?), '[]') AS ratings
	FROM assessments a`

func assessmentArgs(a Actor) []any {
	return []any{textArray(AssessmentDomains()), a.RatingScope("r")}
}

func assessmentTarget(id uuid.UUID) target {
	return target{what: "assessment", resource: ResourceAssessment, id: id, lookup: func(a Actor, id uuid.UUID) clause.Expr {
		return clause.Expr{SQL: `SELECT a.client_id, ? AS visible FROM assessments a WHERE a.id = ?`,
			Vars: []any{a.AssessmentScope("a"), id}}
	}}
}

// checkRatings validates ratings as written: known domains, each once,
// ratings 1-5, strengths bounded. It returns the strengths trimmed.
func checkRatings(in []RatingInput) ([]*string, error) {
	if len(in) > len(AssessmentDomains()) {
		return nil, Invalid("ratings", "at most %d ratings, one per domain", len(AssessmentDomains()))
	}
	seen := map[string]bool{}
	strengths := make([]*string, len(in))
	for i, r := range in {
		at := "ratings[" + strconv.Itoa(i) + "]"
		if !slices.Contains(AssessmentDomains(), r.Domain) {
			return nil, Invalid(at+".domain", "domain must be one of %s", strings.Join(AssessmentDomains(), ", "))
		}
		if seen[r.Domain] {
			return nil, Invalid(at+".domain", "%s is rated twice; rate each domain once", r.Domain)
		}
		seen[r.Domain] = true
		if r.Rating < MinAssessmentRating || r.Rating > MaxAssessmentRating {
			return nil, Invalid(at+".rating", "a rating is a whole number from %d (in crisis) to %d (thriving)", MinAssessmentRating, MaxAssessmentRating)
		}
		s, err := optText(at+".strengths", r.Strengths, MaxAssessmentStrengths)
		if err != nil {
			return nil, err
		}
		strengths[i] = s
	}
	return strengths, nil
}

// seesLabel reports whether the actor may see clientID's records labelled
// label (RatingScope, evaluated for a value).
func seesLabel(tx *gorm.DB, a Actor, clientID uuid.UUID, label string) (bool, error) {
	var ok []bool
	if err := tx.Raw(`SELECT ? FROM (SELECT ?::uuid AS client_id, ?::text AS sensitivity) r`,
		a.RatingScope("r"), clientID, label).Scan(&ok).Error; err != nil {
		return false, fmt.Errorf("read consent: %w", err)
	}
	return len(ok) == 1 && ok[0], nil
}

// checkLabelledDomains refuses ratings of a labelled domain (substance use)
// from an actor who may not see such ratings: they would write a record
// they could not read back (403 naming the rating).
func checkLabelledDomains(tx *gorm.DB, a Actor, clientID uuid.UUID, in []RatingInput) error {
	for i, r := range in {
		label := DomainSensitivity(r.Domain)
		if label == nil {
			continue
		}
		ok, err := seesLabel(tx, a, clientID, *label)
		if err != nil {
			return err
		}
		if !ok {
			return &Error{Kind: KindForbidden, Source: SourceContent, Field: "ratings[" + strconv.Itoa(i) + "].domain",
				Message: "only the client and the care-team workers they consented to for " + *label + " records may rate " + r.Domain}
		}
	}
	return nil
}

// insertRatings writes ratings of an assessment (upserting: a draft's
// rating keeps its row, and the goals adopted from it their link).
func insertRatings(tx *gorm.DB, clientID, id uuid.UUID, in []RatingInput, strengths []*string) error {
	for i, r := range in {
		if err := tx.Exec(`INSERT INTO assessment_ratings (client_id, assessment_id, domain, rating, priority, strengths, sensitivity)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (client_id, assessment_id, domain) DO UPDATE SET rating = EXCLUDED.rating,
				priority = EXCLUDED.priority, strengths = EXCLUDED.strengths`,
			clientID, id, r.Domain, r.Rating, r.Priority, strengths[i], DomainSensitivity(r.Domain)).Error; err != nil {
			return fmt.Errorf("write rating: %w", err)
		}
	}
	return nil
}

// CreateAssessment records a self-assessment for a client. The client's
// own is confirmed unless they keep it a draft; a care-team worker starts one
// with the client: always a draft, until the client confirms it (asking
// for confirmed is 403). Supporters: 403; anyone else: 404.
func (s *Store) CreateAssessment(ctx context.Context, a Actor, clientID uuid.UUID, in AssessmentInput) (Assessment, error) {
	strengths, err := checkRatings(in.Ratings)
	if err != nil {
		return Assessment{}, err
	}
	if in.Status != "" && !slices.Contains(AssessmentStatuses(), in.Status) {
		return Assessment{}, Invalid("status", "status must be one of %s", strings.Join(AssessmentStatuses(), ", "))
	}
	var out Assessment
	err = s.tx(ctx, func(tx *gorm.DB) error {
		if err := writableClient(tx, a, clientID, ReachAssessmentsShared, ResourceAssessment); err != nil {
			return err
		}
		status := in.Status
		switch {
		case status == "" && a.IsClient(clientID):
			status = AssessmentConfirmed
		case status == "":
			status = AssessmentDraft
		case status == AssessmentConfirmed && !a.IsClient(clientID):
			return &Error{Kind: KindForbidden, Source: SourceContent, Field: "status",
				Message: "only the client confirms their assessment; start it as a draft for them to confirm"}
		}
		if status == AssessmentConfirmed && len(in.Ratings) == 0 {
			return Invalid("ratings", "a confirmed assessment rates at least one domain")
		}
		if err := checkLabelledDomains(tx, a, clientID, in.Ratings); err != nil {
			return err
		}
		id := newID()
		if err := tx.Exec(`INSERT INTO assessments (client_id, id, status, created_by, confirmed_at)
			VALUES (?, ?, ?, ?, CASE WHEN ? = 'confirmed' THEN now() END)`, clientID, id, status, a.PersonID, status).Error; err != nil {
			return fmt.Errorf("insert assessment: %w", err)
		}
		if err := insertRatings(tx, clientID, id, in.Ratings, strengths); err != nil {
			return err
		}
		if out, err = readAssessment(tx, a, clientID, id); err != nil {
			return err
		}
		return logAccess(tx, a, ActionWrite, ResourceAssessment, []uuid.UUID{clientID}, []string{id.String()})
	})
	return out, err
}

func readAssessment(tx *gorm.DB, a Actor, clientID, id uuid.UUID) (Assessment, error) {
	var rows []Assessment
	if err := tx.Raw(assessmentSelect+` WHERE a.client_id = ? AND a.id = ?`,
		append(assessmentArgs(a), clientID, id)...).Scan(&rows).Error; err != nil {
		return Assessment{}, fmt.Errorf("read assessment: %w", err)
	}
	if len(rows) == 0 {
		return Assessment{}, NotFound("assessment")
	}
	return rows[0], nil
}

// GetAssessment returns one assessment the actor may see (AssessmentScope),
// with the ratings they may see (RatingScope); else NotFound.
func (s *Store) GetAssessment(ctx context.Context, a Actor, id uuid.UUID) (Assessment, error) {
	var out Assessment
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var rows []Assessment
		if err := tx.Raw(assessmentSelect+` WHERE a.id = ? AND ?`, append(assessmentArgs(a), id, a.AssessmentScope("a"))...).
			Scan(&rows).Error; err != nil {
			return fmt.Errorf("read assessment: %w", err)
		}
		if len(rows) == 0 {
			return missing(a, assessmentTarget(id))
		}
		out = rows[0]
		return logAccess(tx, a, ActionRead, ResourceAssessment, []uuid.UUID{out.ClientID}, []string{id.String()})
	})
	return out, err
}

// AssessmentFilter selects a page of a client's assessments.
type AssessmentFilter struct {
	Status string
	Cursor string
	Limit  int
}

// ListAssessments lists a client's assessments the actor may see, newest first.
func (s *Store) ListAssessments(ctx context.Context, a Actor, clientID uuid.UUID, f AssessmentFilter) ([]Assessment, string, error) {
	q, args := assessmentSelect+` WHERE a.client_id = ? AND ?`, append(assessmentArgs(a), clientID, a.AssessmentScope("a"))
	if f.Status != "" {
		q += ` AND a.status = ?`
		args = append(args, f.Status)
	}
	return listPage(ctx, s, f.Cursor, listSpec[Assessment]{what: "assessments", query: q, args: args,
		col: "a.id", filter: ListFilter{Limit: f.Limit, Desc: true}, id: func(x Assessment) uuid.UUID { return x.ID },
		before: func(tx *gorm.DB) error {
			_, err := getClient(tx, a, clientID, ReachAssessmentsShared, ResourceAssessment)
			return err
		},
		after: func(tx *gorm.DB, _ []Assessment) error {
			return logAccess(tx, a, ActionRead, ResourceAssessment, []uuid.UUID{clientID}, []string{""})
		}})
}

// lockAssessment locks an assessment the actor may change (ReachCare) and
// returns its client, status and version; a supporter who sees it gets 403,
// anyone else NotFound.
func lockAssessment(tx *gorm.DB, a Actor, id uuid.UUID) (clientID uuid.UUID, status string, version int64, err error) {
	var cur []struct {
		ClientID uuid.UUID
		Status   string
		Version  int64
	}
	if err := tx.Raw(`SELECT a.client_id, a.status, a.version FROM assessments a WHERE a.id = ? AND ? FOR UPDATE OF a`,
		id, a.ClientScope("a.client_id", ReachCare)).Scan(&cur).Error; err != nil {
		return uuid.Nil, "", 0, fmt.Errorf("read assessment: %w", err)
	}
	if len(cur) == 0 {
		return uuid.Nil, "", 0, refusedWrite(tx, missing(a, assessmentTarget(id)), `assessments a WHERE a.id = ? AND ?`, id, a.AssessmentScope("a"))
	}
	return cur[0].ClientID, cur[0].Status, cur[0].Version, nil
}

// UpdateAssessment replaces a draft's ratings (JSON Merge Patch replaces
// the list) if its version satisfies pre. The client and their care team
// may; a rating the actor may not see (sud, without consent) is kept as it
// is, and rating that domain is 403. A confirmed assessment is 409.
func (s *Store) UpdateAssessment(ctx context.Context, a Actor, id uuid.UUID, pre Precondition, ratings *[]RatingInput) (Assessment, error) {
	var strengths []*string
	if ratings != nil {
		var err error
		if strengths, err = checkRatings(*ratings); err != nil {
			return Assessment{}, err
		}
	}
	var out Assessment
	err := s.tx(ctx, func(tx *gorm.DB) error {
		clientID, status, version, err := lockAssessment(tx, a, id)
		if err != nil {
			return err
		}
		if err := pre.check(version); err != nil {
			return err
		}
		if status != AssessmentDraft {
			return &Error{Kind: KindConflict, Source: SourceContent, Message: "a confirmed assessment does not change; start a new one"}
		}
		if ratings == nil { // nothing changes
			if out, err = readAssessment(tx, a, clientID, id); err != nil {
				return err
			}
			return logAccess(tx, a, ActionRead, ResourceAssessment, []uuid.UUID{clientID}, []string{id.String()})
		}
		if err := checkLabelledDomains(tx, a, clientID, *ratings); err != nil {
			return err
		}
		keep := make([]string, 0, len(*ratings))
		for _, r := range *ratings {
			keep = append(keep, r.Domain)
		}
		// The ratings the actor sees and did not send go; the others stay.
		if err := tx.Exec(`DELETE FROM assessment_ratings r WHERE r.client_id = ? AND r.assessment_id = ?
			AND NOT (r.domain = ANY (?::text[])) AND ?`, clientID, id, textArray(keep), a.RatingScope("r")).Error; err != nil {
			return fmt.Errorf("remove ratings: %w", err)
		}
		if err := insertRatings(tx, clientID, id, *ratings, strengths); err != nil {
			return err
		}
		if err := conditionalUpdate(ctx, tx, "assessments", id, pre, map[string]any{}, gorm.Expr("client_id = ?", clientID)); err != nil {
			return err
		}
		if out, err = readAssessment(tx, a, clientID, id); err != nil {
			return err
		}
		return logAccess(tx, a, ActionWrite, ResourceAssessment, []uuid.UUID{clientID}, []string{id.String()})
	})
	return out, err
}

// ConfirmAssessment is the client confirming a draft: it becomes part of
// their history (the summary) and never changes again. Only the client may
// (403 for their care team); a confirmed one is 409, as is a draft without
// ratings.
func (s *Store) ConfirmAssessment(ctx context.Context, a Actor, id uuid.UUID, pre Precondition) (Assessment, error) {
	var out Assessment
	err := s.tx(ctx, func(tx *gorm.DB) error {
		clientID, status, version, err := lockAssessment(tx, a, id)
		if err != nil {
			return err
		}
		if !a.IsClient(clientID) {
			return Forbidden("only the client confirms their assessment")
		}
		if err := pre.check(version); err != nil {
			return err
		}
		if status != AssessmentDraft {
			return &Error{Kind: KindConflict, Source: SourceContent, Message: "this assessment is already confirmed"}
		}
		var n int64
		if err := tx.Raw(`SELECT count(*) FROM assessment_ratings WHERE client_id = ? AND assessment_id = ?`, clientID, id).
			Scan(&n).Error; err != nil {
			return fmt.Errorf("count ratings: %w", err)
		}
		if n == 0 {
			return &Error{Kind: KindConflict, Source: SourceContent, Field: "ratings", Message: "rate at least one domain before confirming"}
		}
		if err := conditionalUpdate(ctx, tx, "assessments", id, pre, map[string]any{
			"status": AssessmentConfirmed, "confirmed_at": gorm.Expr("now()")}, gorm.Expr("client_id = ?", clientID)); err != nil {
			return err
		}
		if out, err = readAssessment(tx, a, clientID, id); err != nil {
			return err
		}
		return logAccess(tx, a, ActionWrite, ResourceAssessment, []uuid.UUID{clientID}, []string{id.String()})
	})
	return out, err
}
