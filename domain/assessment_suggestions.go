package domain

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// TaxonomyTermRef names a directory taxonomy term a suggestion searches.
type TaxonomyTermRef struct {
	ID   uuid.UUID
	Code string
	Name string
}

// TemplateSuggestion is a goal template suggested for a priority domain,
// with the goal adopted from it in this assessment, if any (and visible).
type TemplateSuggestion struct {
	Template      GoalTemplate
	AdoptedGoalID *uuid.UUID
}

// DomainSuggestions are the suggestions for one priority domain.
type DomainSuggestions struct {
	Domain    string
	Rating    int
	Templates []TemplateSuggestion
	// Terms are the directory's taxonomy terms for the domain
	// (DomainTaxonomyCodes that the directory has), broadest first.
	Terms []TaxonomyTermRef
}

// Suggestions turn an assessment's priorities into actions the client may
// take: nothing happens until they (or a worker proposing) act on one.
type Suggestions struct {
	AssessmentID uuid.UUID
	ClientID     uuid.UUID
	// PreferredLanguage is the client's, for directory searches ("" when not set).
	PreferredLanguage string
	// ForClient: the caller is the client (the reasons say "you").
	ForClient bool
	Domains   []DomainSuggestions
}

// assessmentForAction reads the client of an assessment the actor may act
// on (the client and their care team); a supporter who sees it gets 403,
// anyone else NotFound.
func assessmentForAction(tx *gorm.DB, a Actor, id uuid.UUID) (uuid.UUID, error) {
	var ids []uuid.UUID
	if err := tx.Raw(`SELECT a.client_id FROM assessments a WHERE a.id = ? AND ?`, id, a.ClientScope("a.client_id", ReachCare)).
		Scan(&ids).Error; err != nil {
		return uuid.Nil, fmt.Errorf("read assessment: %w", err)
	}
	if len(ids) == 0 {
		var seen []bool
		if err := tx.Raw(`SELECT true FROM assessments a WHERE a.id = ? AND ?`, id, a.AssessmentScope("a")).Scan(&seen).Error; err != nil {
			return uuid.Nil, fmt.Errorf("read assessment: %w", err)
		}
		if len(seen) > 0 {
			return uuid.Nil, Forbidden("suggestions are for the client and their care team to act on; supporters read the assessment itself")
		}
		return uuid.Nil, missing(a, assessmentTarget(id))
	}
	return ids[0], nil
}

// AssessmentSuggestions lists, for each priority domain of the assessment
// that the actor may see, goal templates and the directory terms to search.
func (s *Store) AssessmentSuggestions(ctx context.Context, a Actor, id uuid.UUID) (Suggestions, error) {
	out := Suggestions{AssessmentID: id}
	err := s.tx(ctx, func(tx *gorm.DB) error {
		clientID, err := assessmentForAction(tx, a, id)
		if err != nil {
			return err
		}
		out.ClientID, out.ForClient = clientID, a.IsClient(clientID)
		var ratings []struct {
			Domain string
			Rating int
		}
		if err := tx.Raw(`SELECT r.domain, r.rating FROM assessment_ratings r
			WHERE r.client_id = ? AND r.assessment_id = ? AND r.priority AND ?
			ORDER BY array_position(?::text[], r.domain)`, clientID, id, a.RatingScope("r"), textArray(AssessmentDomains())).
			Scan(&ratings).Error; err != nil {
			return fmt.Errorf("read priorities: %w", err)
		}
		var adopted []struct {
			TemplateID string
			GoalID     uuid.UUID
		}
		if err := tx.Raw(`SELECT ag.template_id, ag.goal_id FROM assessment_goals ag
			JOIN goals g ON g.client_id = ag.client_id AND g.id = ag.goal_id
			WHERE ag.client_id = ? AND ag.assessment_id = ? AND ?`, clientID, id, a.GoalScope("g", ReachCare)).
			Scan(&adopted).Error; err != nil {
			return fmt.Errorf("read adopted goals: %w", err)
		}
		if err := tx.Raw(`SELECT preferred_language FROM clients WHERE id = ?`, clientID).Scan(&out.PreferredLanguage).Error; err != nil {
			return fmt.Errorf("read preferred language: %w", err)
		}
		for _, r := range ratings {
			d := DomainSuggestions{Domain: r.Domain, Rating: r.Rating, Templates: []TemplateSuggestion{}}
			for _, t := range GoalTemplates() {
				if t.Domain != r.Domain || len(d.Templates) == MaxSuggestionTemplates {
					continue
				}
				ts := TemplateSuggestion{Template: t}
				for _, ad := range adopted {
					if ad.TemplateID == t.ID {
						g := ad.GoalID
						ts.AdoptedGoalID = &g
					}
				}
				d.Templates = append(d.Templates, ts)
			}
			codes := DomainTaxonomyCodes(r.Domain)
			if err := tx.Raw(`SELECT t.id, t.code, t.name FROM taxonomy_terms t WHERE t.code = ANY (?::text[])
				ORDER BY array_position(?::text[], t.code), t.id LIMIT ?`, textArray(codes), textArray(codes), MaxSuggestionSearches).
				Scan(&d.Terms).Error; err != nil {
				return fmt.Errorf("read taxonomy terms: %w", err)
			}
			out.Domains = append(out.Domains, d)
		}
		return logAccess(tx, a, ActionRead, ResourceAssessment, []uuid.UUID{clientID}, []string{id.String()})
	})
	return out, err
}

// SuggestionReason says in lang why a suggestion is made: the domain was
// marked a priority, with its rating.
func SuggestionReason(lang, domain string, rating int, forClient bool) string {
	label := AssessmentDomainText(lang, domain).Label
	r := strconv.Itoa(rating)
	if lang == LangSpanish {
		if forClient {
			return "Marcaste " + strings.ToLower(label) + " como prioridad (lo calificaste con " + r + " de 5)."
		}
		return "La persona marcó " + strings.ToLower(label) + " como prioridad (lo calificó con " + r + " de 5)."
	}
	if forClient {
		return "You marked " + strings.ToLower(label) + " as a priority (you rated it " + r + " of 5)."
	}
	return "The client marked " + strings.ToLower(label) + " as a priority (rated " + r + " of 5)."
}

// AdoptGoalTemplate creates a goal from a goal template of a domain the
// assessment rates, through the goal rules (CreateGoal): the client's own
// goal (active), or a care-team worker's proposal for the client to accept.
// The goal is linked to the assessment and domain. A substance use goal is
// labelled sud, which only the client may do (403 for a worker). Each
// template is adopted once per assessment (409). All in one transaction.
func (s *Store) AdoptGoalTemplate(ctx context.Context, a Actor, assessmentID uuid.UUID, templateID, lang string) (Goal, error) {
	t, ok := goalTemplate(templateID)
	if !ok {
		return Goal{}, Invalid("template_id", "no goal template has this id; see the assessment's suggestions")
	}
	var g Goal
	err := s.inOneTx(ctx, func(ctx context.Context) error {
		var clientID uuid.UUID
		var priority bool
		err := s.tx(ctx, func(tx *gorm.DB) error {
			var err error
			if clientID, _, _, err = lockAssessment(tx, a, assessmentID); err != nil {
				return err
			}
			var rated []bool
			if err := tx.Raw(`SELECT r.priority FROM assessment_ratings r WHERE r.client_id = ? AND r.assessment_id = ? AND r.domain = ? AND ?`,
				clientID, assessmentID, t.Domain, a.RatingScope("r")).Scan(&rated).Error; err != nil {
				return fmt.Errorf("read rating: %w", err)
			}
			if len(rated) == 0 {
				return Invalid("template_id", "this assessment does not rate %s", t.Domain)
			}
			priority = rated[0]
			if DomainSensitivity(t.Domain) != nil && !a.IsClient(clientID) {
				return &Error{Kind: KindForbidden, Source: SourceContent, Field: "template_id",
					Message: "a goal in " + t.Domain + " is labelled sensitive, which only the client can do; they can adopt it themself"}
			}
			var dup []uuid.UUID
			if err := tx.Raw(`SELECT goal_id FROM assessment_goals WHERE client_id = ? AND assessment_id = ? AND template_id = ?`,
				clientID, assessmentID, t.ID).Scan(&dup).Error; err != nil {
				return fmt.Errorf("read adopted goals: %w", err)
			}
			if len(dup) > 0 {
				return &Error{Kind: KindConflict, Source: SourceContent, Field: "template_id",
					Message: "this goal template was already adopted from this assessment"}
			}
			return nil
		})
		if err != nil {
			return err
		}
		in := GoalInput{Title: t.Title(lang), Category: t.Category, Priority: "medium"}
		if priority {
			in.Priority = "high"
		}
		if label := DomainSensitivity(t.Domain); label != nil {
			in.Sensitivity = *label
		}
		if g, err = s.CreateGoal(ctx, a, clientID, in); err != nil {
			return err
		}
		return s.tx(ctx, func(tx *gorm.DB) error {
			if err := tx.Exec(`INSERT INTO assessment_goals (client_id, goal_id, assessment_id, domain, template_id, adopted_by)
				VALUES (?, ?, ?, ?, ?, ?)`, clientID, g.ID, assessmentID, t.Domain, t.ID, a.PersonID).Error; err != nil {
				return fmt.Errorf("link adopted goal: %w", err)
			}
			return nil
		})
	})
	return g, err
}

// inOneTx runs fn with a context in which every Store.tx joins one
// transaction (an enclosing inOneTx's, or a new one committed when fn
// succeeds): store operations compose atomically.
func (s *Store) inOneTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if _, ok := ctx.Value(requestTxKey{}).(*requestTx); ok {
		return fn(ctx)
	}
	tx := s.db.WithContext(ctx).Begin()
	if tx.Error != nil {
		return fmt.Errorf("begin: %w", tx.Error)
	}
	r := &requestTx{tx: tx, mark: &emitMark{}}
	defer r.rollback()
	if err := fn(context.WithValue(ctx, requestTxKey{}, r)); err != nil {
		return err
	}
	if r.done {
		return errRequestTxDone
	}
	r.done = true
	if err := tx.Commit().Error; err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if r.mark.emitted.Load() {
		s.WakePositioner()
	}
	return nil
}
