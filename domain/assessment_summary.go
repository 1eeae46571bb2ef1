package domain

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// RatingPoint is one confirmed rating of a domain: which assessment, when.
type RatingPoint struct {
	AssessmentID uuid.UUID
	Rating       int
	Priority     bool
	ConfirmedAt  time.Time
}

// DomainSummary is one domain across a client's confirmed assessments.
type DomainSummary struct {
	Domain string
	// Latest, Previous and First are nil until there are that many ratings
	// (Previous needs two; First is Latest when there is one).
	Latest, Previous, First *RatingPoint
	// ChangeSinceFirst and ChangeSincePrevious are Latest minus First and
	// minus Previous; nil while there is no earlier rating to compare.
	ChangeSinceFirst, ChangeSincePrevious *int
	Trend                                 string
	// Points are the newest MaxSummaryPoints ratings, oldest first (a sparkline).
	Points []RatingPoint
}

// summarize computes a domain's summary from its ratings, oldest first
// (the newest MaxSummaryPoints of them, and the first ever as first when
// it is older than those). Trend: fewer than two ratings is
// insufficient_data; otherwise the latest against the previous: higher is
// improving, lower worsening, the same steady.
func summarize(domain string, first *RatingPoint, points []RatingPoint) DomainSummary {
	d := DomainSummary{Domain: domain, Trend: TrendInsufficientData, Points: points}
	if len(points) == 0 {
		d.Points = []RatingPoint{}
		return d
	}
	latest := points[len(points)-1]
	d.Latest = &latest
	if first == nil {
		f := points[0]
		first = &f
	}
	d.First = first
	if len(points) >= 2 {
		prev := points[len(points)-2]
		d.Previous = &prev
		ch := latest.Rating - prev.Rating
		d.ChangeSincePrevious = &ch
		switch {
		case ch > 0:
			d.Trend = TrendImproving
		case ch < 0:
			d.Trend = TrendWorsening
		default:
			d.Trend = TrendSteady
		}
	}
	if first.AssessmentID != latest.AssessmentID {
		ch := latest.Rating - first.Rating
		d.ChangeSinceFirst = &ch
	}
	return d
}

// AssessmentSummary summarizes a client's confirmed assessments per domain
// (drafts never count), for every domain the actor may see ratings of: a
// worker without the client's sud consent, and supporters, get no
// substance_use entry. The client, their care team and supporters the
// client shares assessments with may read it; anyone else gets NotFound.
func (s *Store) AssessmentSummary(ctx context.Context, a Actor, clientID uuid.UUID) ([]DomainSummary, error) {
	var out []DomainSummary
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if _, err := getClient(tx, a, clientID, ReachAssessmentsShared, ResourceAssessment); err != nil {
			return err
		}
		var rows []struct {
			Domain       string
			AssessmentID uuid.UUID
			Rating       int
			Priority     bool
			ConfirmedAt  time.Time
			Newest       int
			Oldest       int
		}
		if err := tx.Raw(`SELECT x.* FROM (
				SELECT r.domain, a.id AS assessment_id, r.rating, r.priority, a.confirmed_at,
					row_number() OVER (PARTITION BY r.domain ORDER BY a.confirmed_at DESC, a.id DESC) AS newest,
					row_number() OVER (PARTITION BY r.domain ORDER BY a.confirmed_at, a.id) AS oldest
				FROM assessments a JOIN assessment_ratings r ON r.client_id = a.client_id AND r.assessment_id = a.id
				WHERE a.client_id = ? AND a.status = 'confirmed' AND ? AND ?) x
			WHERE x.newest <= ? OR x.oldest = 1
			ORDER BY x.domain, x.confirmed_at, x.assessment_id`,
			clientID, a.AssessmentScope("a"), a.RatingScope("r"), MaxSummaryPoints).Scan(&rows).Error; err != nil {
			return fmt.Errorf("read assessment summary: %w", err)
		}
		firsts := map[string]*RatingPoint{}
		points := map[string][]RatingPoint{}
		for _, r := range rows {
			p := RatingPoint{AssessmentID: r.AssessmentID, Rating: r.Rating, Priority: r.Priority, ConfirmedAt: r.ConfirmedAt}
			if r.Oldest == 1 {
				firsts[r.Domain] = &p
			}
			if r.Newest <= MaxSummaryPoints {
				points[r.Domain] = append(points[r.Domain], p)
			}
		}
		for _, d := range AssessmentDomains() {
			if label := DomainSensitivity(d); label != nil {
				ok, err := seesLabel(tx, a, clientID, *label)
				if err != nil {
					return err
				}
				if !ok {
					continue
				}
			}
			out = append(out, summarize(d, firsts[d], points[d]))
		}
		return logAccess(tx, a, ActionRead, ResourceAssessment, []uuid.UUID{clientID}, []string{""})
	})
	return out, err
}
