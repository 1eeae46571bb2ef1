package domain

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/waypoint-portal/waypoint/domain/geohash"
	"github.com/waypoint-portal/waypoint/domain/insights"
)

// UnmetNeedAreaPrecision is the geohash precision of an unmet need's area:
// the cells insights publish.
const UnmetNeedAreaPrecision = insights.AreaPrecision

// Unmet needs are recorded anonymously (migration 00061): a row holds a
// taxonomy term, a geohash-5 cell, a language subtag, a reason and the ISO
// week, never a person id, an exact point or free text. person_mark only
// lets publication count a person once per cell and week.

// unmetNeed is one need to record; nil members are unknown (NULL).
type unmetNeed struct {
	Source   string
	Term     *uuid.UUID
	Area     *string // geohash of precision UnmetNeedAreaPrecision
	Language *string // BCP 47 primary subtag, lower case
	Reason   *string // nil for a search
}

// weekKeyGrace is how long a week's key outlives the week: keys of weeks that
// ended more than this long ago are deleted when a new week's key is made,
// after which that week's marks can no longer be tied to anyone.
const weekKeyGrace = 8 * 24 * time.Hour

// isoWeek is the Monday (UTC) of the ISO week at t.
func isoWeek(t time.Time) time.Time {
	t = t.UTC()
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
}

// weekKeysExpireBefore is the first Monday whose key is still kept at now: a
// week ends 7 days after its Monday, and its key goes weekKeyGrace later.
func weekKeysExpireBefore(now time.Time) time.Time {
	return now.UTC().Add(-7*24*time.Hour - weekKeyGrace)
}

// DeleteExpiredWeekKeys deletes the keys of weeks over for longer than
// weekKeyGrace. Making a new week's key does it too; this runs hourly
// (with the access log's pruning) so that weeks without new needs do not
// keep an old key alive.
func (s *Store) DeleteExpiredWeekKeys(ctx context.Context, now time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Exec(`DELETE FROM insight_week_keys WHERE week < ?::date`,
		weekKeysExpireBefore(now).Format(time.DateOnly))
	if res.Error != nil {
		return 0, fmt.Errorf("delete expired week keys: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// recordUnmetNeeds records needs seen for person in this ISO week, in tx
// (the caller's transaction, so a need commits with the work that saw it).
// The week's key is made on first use (a concurrent first use loses the
// insert and reads the winner's key); the statement that makes it deletes
// the keys of weeks over for longer than weekKeyGrace. A need already
// counted for this person, cell and week is not counted again.
func recordUnmetNeeds(tx *gorm.DB, person uuid.UUID, now time.Time, needs []unmetNeed) error {
	if len(needs) == 0 {
		return nil
	}
	week := isoWeek(now)
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return fmt.Errorf("make week key: %w", err)
	}
	expired := weekKeysExpireBefore(now)
	if err := tx.Exec(`WITH made AS (INSERT INTO insight_week_keys (week, key) VALUES (?::date, ?)
			ON CONFLICT (week) DO NOTHING RETURNING week)
		DELETE FROM insight_week_keys k WHERE EXISTS (SELECT 1 FROM made) AND k.week < ?::date`,
		week.Format(time.DateOnly), fresh, expired.Format(time.DateOnly)).Error; err != nil {
		return fmt.Errorf("make week key: %w", err)
	}
	var key []byte
	if err := tx.Raw(`SELECT key FROM insight_week_keys WHERE week = ?::date`, week.Format(time.DateOnly)).Row().Scan(&key); err != nil {
		return fmt.Errorf("read week key: %w", err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write(person[:])
	mark := mac.Sum(nil)[:16]
	for _, n := range needs {
		if err := tx.Exec(`INSERT INTO unmet_needs (source, week, taxonomy_term, area, language, reason, person_mark)
			VALUES (?, ?::date, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			n.Source, week.Format(time.DateOnly), n.Term, n.Area, n.Language, n.Reason, mark).Error; err != nil {
			return fmt.Errorf("record unmet need: %w", err)
		}
	}
	return nil
}

var primaryLanguage = regexp.MustCompile(`^[a-z]{2,3}$`)

// needLanguage is the primary subtag of a BCP 47 tag, lower case, or nil
// when the tag has none Waypoint can record ("", "x-klingon", "i-navajo").
func needLanguage(tag string) *string {
	p, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
	if !primaryLanguage.MatchString(p) {
		return nil
	}
	return &p
}

// needArea is the geohash-5 cell of a point, or nil without a usable point.
func needArea(lat, lon *float64) *string {
	if lat == nil || lon == nil {
		return nil
	}
	h, ok := geohash.Encode(*lat, *lon, UnmetNeedAreaPrecision)
	if !ok {
		return nil
	}
	return &h
}

// needClient is what recording a client's need reads of them: the person
// (for the mark), their preferred language, and whether they help improve
// services (contact preference help_improve_services, absent = true).
type needClient struct {
	PersonID          uuid.UUID
	PreferredLanguage string
	Helps             bool
}

// readNeedClient reads clientID's needClient in tx; found is false for no client.
func readNeedClient(tx *gorm.DB, clientID uuid.UUID) (c needClient, found bool, err error) {
	var rows []needClient
	if err := tx.Raw(`SELECT c.person_id, c.preferred_language,
			(c.contact_preferences -> 'help_improve_services') IS DISTINCT FROM 'false'::jsonb AS helps
		FROM clients c WHERE c.id = ?`, clientID).Scan(&rows).Error; err != nil {
		return c, false, fmt.Errorf("read client for unmet need: %w", err)
	}
	if len(rows) == 0 {
		return c, false, nil
	}
	return rows[0], true, nil
}

// serviceNeedCell is where a need about a service falls: the service's first
// taxonomy term (by position) and the geohash-5 cell of its first location
// (by position) with coordinates; either may be nil.
func serviceNeedCell(tx *gorm.DB, serviceID uuid.UUID) (term *uuid.UUID, area *string, err error) {
	var rows []struct {
		Term     *uuid.UUID
		Lat, Lon *float64
	}
	if err := tx.Raw(`SELECT
			(SELECT a.taxonomy_term_id FROM service_attributes a WHERE a.service_id = sv.id AND a.taxonomy_term_id IS NOT NULL
				ORDER BY a.position, a.pk LIMIT 1) AS term,
			l.latitude AS lat, l.longitude AS lon
		FROM services sv LEFT JOIN LATERAL (SELECT l.latitude, l.longitude FROM service_at_locations sal
				JOIN locations l ON l.id = sal.location_id
			WHERE sal.service_id = sv.id AND l.latitude BETWEEN -90 AND 90 AND l.longitude BETWEEN -180 AND 180
			ORDER BY sal.position, sal.id LIMIT 1) l ON true
		WHERE sv.id = ?`, serviceID).Scan(&rows).Error; err != nil {
		return nil, nil, fmt.Errorf("read service for unmet need: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil, nil
	}
	return rows[0].Term, needArea(rows[0].Lat, rows[0].Lon), nil
}

// recordServiceNeed records a need about a service (a declined referral, a
// barrier) for the person: reason is the decline reason or feedback kind.
func recordServiceNeed(tx *gorm.DB, source string, serviceID, person uuid.UUID, language *string, reason string, now time.Time) error {
	term, area, err := serviceNeedCell(tx, serviceID)
	if err != nil {
		return err
	}
	return recordUnmetNeeds(tx, person, now, []unmetNeed{{Source: source, Term: term, Area: area, Language: language, Reason: &reason}})
}

// recordClientServiceNeed is recordServiceNeed for a client, unless they
// opted out of helping improve services; the language is their preferred one.
func recordClientServiceNeed(tx *gorm.DB, source string, serviceID, clientID uuid.UUID, reason string) error {
	c, found, err := readNeedClient(tx, clientID)
	if err != nil || !found || !c.Helps {
		return err
	}
	return recordServiceNeed(tx, source, serviceID, c.PersonID, needLanguage(c.PreferredLanguage), reason, time.Now())
}

// minTermSimilarity is how closely a taxonomy term's name must appear in a
// search text (pg_trgm word_similarity) to count as what the search was for.
const minTermSimilarity = 0.6

// RecordEmptySearch records the unmet need behind a directory search that
// found nothing: only for a client (an actor with a client record) who has
// not opted out; anonymous, worker and administrator searches are not
// recorded. The need's category is the search's taxonomy term, else the term
// whose name best matches the search text (none when nothing matches well:
// the text itself is never stored); its area the geohash-5 cell of the
// search point; its language the search's language filter, else the
// client's preferred language. A search with neither a term nor words (only
// a place, hours, a language...) says no need and is not recorded.
func (s *Store) RecordEmptySearch(ctx context.Context, a Actor, f SearchFilter) error {
	if !a.Is(RoleClient) || a.ClientID == uuid.Nil {
		return nil
	}
	if f.TaxonomyTermID == uuid.Nil && strings.TrimSpace(f.Search) == "" {
		return nil // no category and no words: nothing says what was needed
	}
	return s.tx(ctx, func(tx *gorm.DB) error {
		c, found, err := readNeedClient(tx, a.ClientID)
		if err != nil || !found || !c.Helps {
			return err
		}
		n := unmetNeed{Source: UnmetNeedSearch, Language: needLanguage(c.PreferredLanguage)}
		if f.Language != "" {
			n.Language = needLanguage(f.Language)
		}
		if f.Near != nil {
			n.Area = needArea(&f.Near.Lat, &f.Near.Lon)
		}
		switch {
		case f.TaxonomyTermID != uuid.Nil:
			term := f.TaxonomyTermID
			n.Term = &term
		case strings.TrimSpace(f.Search) != "":
			var terms []uuid.UUID
			text := strings.ToLower(strings.TrimSpace(f.Search))
			if err := tx.Raw(`SELECT t.id FROM taxonomy_terms t WHERE word_similarity(lower(t.name), ?) >= ?
				ORDER BY word_similarity(lower(t.name), ?) DESC, similarity(lower(t.name), ?) DESC, t.name, t.id LIMIT 1`,
				text, minTermSimilarity, text, text).Scan(&terms).Error; err != nil {
				return fmt.Errorf("match search to a taxonomy term: %w", err)
			}
			if len(terms) == 1 {
				n.Term = &terms[0]
			}
		}
		return recordUnmetNeeds(tx, c.PersonID, time.Now(), []unmetNeed{n})
	})
}
