package domain

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/domain/geohash"
	"github.com/waypoint-portal/waypoint/domain/hsds"
	"github.com/waypoint-portal/waypoint/domain/insights"
)

// GapsQuery asks where searches most often find nothing.
type GapsQuery struct {
	From, To time.Time
	Area     string // geohash prefix of 3 to 5 characters; "" for every area
	Limit    int    // 1..MaxDirectoryGaps; 0: 20
}

// NearbyService is an existing service carrying a gap's taxonomy term, with
// its distance from the centre of the gap's area.
type NearbyService struct {
	ID         uuid.UUID
	Name       string
	DistanceKM float64 // rounded to 0.1 km
}

// DirectoryGap is a taxonomy term × geohash-5 area where searches found
// nothing, ranked by People: the sum over the weeks of its published weekly
// counts (a suppressed week adds nothing, so no suppressed count leaks).
type DirectoryGap struct {
	TaxonomyTerm TermRef
	Area         string
	People       int
	Weeks        int // how many weeks were published
	Nearest      []NearbyService
}

// DirectoryGaps is the ranking for one request.
type DirectoryGaps struct {
	K        int
	From, To time.Time
	Gaps     []DirectoryGap
}

// DirectoryGaps ranks the taxonomy term × area cells of searches that found
// nothing by their published weekly counts, each with the nearest active
// services that carry the term (or a narrower one): where a new service
// would help most. Same readers as UnmetNeedInsights.
func (s *Store) DirectoryGaps(ctx context.Context, a Actor, q GapsQuery) (DirectoryGaps, error) {
	return s.directoryGaps(ctx, a, q, time.Now())
}

func (s *Store) directoryGaps(ctx context.Context, a Actor, q GapsQuery, now time.Time) (DirectoryGaps, error) {
	if !a.ReadsInsights() {
		return DirectoryGaps{}, Forbidden("community insights are for administrators, workers and organizers")
	}
	if err := checkArea("area", q.Area); err != nil {
		return DirectoryGaps{}, err
	}
	if q.Limit == 0 {
		q.Limit = 20
	}
	if q.Limit < 1 || q.Limit > MaxDirectoryGaps {
		return DirectoryGaps{}, InvalidIn(SourceSelection, "limit", "limit is from 1 to %d", MaxDirectoryGaps)
	}
	first, last, err := insightWeeks(q.From, q.To, now)
	if err != nil {
		return DirectoryGaps{}, err
	}
	weeks, err := s.insightCubes(ctx, first, last)
	if err != nil {
		return DirectoryGaps{}, err
	}
	mask := insights.MaskOf(insights.DimSource, insights.DimTaxonomy, insights.DimArea)
	keep := func(v insights.Values) bool {
		return v[insights.DimSource] == UnmetNeedSearch && v[insights.DimTaxonomy] != "" && v[insights.DimArea] != "" &&
			strings.HasPrefix(v[insights.DimArea], q.Area)
	}
	byCell := map[[2]string]*DirectoryGap{}
	var gaps []*DirectoryGap
	for _, w := range weeks {
		for _, c := range w.cube.Cells(mask, keep) {
			if c.Suppressed {
				continue
			}
			k := [2]string{c.Values[insights.DimTaxonomy], c.Values[insights.DimArea]}
			g, ok := byCell[k]
			if !ok {
				g = &DirectoryGap{TaxonomyTerm: TermRef{ID: k[0]}, Area: k[1]}
				byCell[k] = g
				gaps = append(gaps, g)
			}
			g.People += c.Count
			g.Weeks++
		}
	}
	slices.SortFunc(gaps, func(x, y *DirectoryGap) int {
		if x.People != y.People {
			return y.People - x.People
		}
		if c := strings.Compare(x.TaxonomyTerm.ID, y.TaxonomyTerm.ID); c != 0 {
			return c
		}
		return strings.Compare(x.Area, y.Area)
	})
	gaps = gaps[:min(len(gaps), q.Limit)]
	out := DirectoryGaps{K: insights.K, From: first, To: last.AddDate(0, 0, 6), Gaps: make([]DirectoryGap, 0, len(gaps))}
	if len(gaps) == 0 {
		return out, nil
	}
	ids := make([]string, len(gaps))
	for i, g := range gaps {
		ids[i] = g.TaxonomyTerm.ID
	}
	names, err := s.termNames(ctx, ids)
	if err != nil {
		return DirectoryGaps{}, err
	}
	if err := s.nearestServices(ctx, gaps); err != nil {
		return DirectoryGaps{}, err
	}
	for _, g := range gaps {
		g.TaxonomyTerm.Name = names[g.TaxonomyTerm.ID]
		out.Gaps = append(out.Gaps, *g)
	}
	return out, nil
}

// nearestServices fills each gap's Nearest in one statement: per gap, the
// active services with a place whose terms include the gap's term or one
// below it, nearest to the centre of its area first (the directory's
// service_search rows and earthdistance, as a search near a point uses).
func (s *Store) nearestServices(ctx context.Context, gaps []*DirectoryGap) error {
	terms, lats, lons := make([]string, len(gaps)), make([]string, len(gaps)), make([]string, len(gaps))
	for i, g := range gaps {
		lat, lon := geohash.Centre(g.Area)
		terms[i], lats[i], lons[i] = g.TaxonomyTerm.ID, fmt.Sprint(lat), fmt.Sprint(lon)
	}
	var rows []struct {
		N         int
		ServiceID uuid.UUID
		Name      string
		KM        float64
	}
	err := s.db.WithContext(ctx).Raw(`WITH RECURSIVE g AS (
			SELECT * FROM unnest(?::uuid[], ?::float8[], ?::float8[]) WITH ORDINALITY AS g(term, lat, lon, n)),
		d AS (SELECT DISTINCT term AS root, term AS id FROM g
			UNION SELECT d.root, t.id FROM taxonomy_terms t JOIN d ON t.parent_id = d.id)
		SELECT g.n, s.service_id, s.name, round((sec_to_gc(s.chord) / 1000)::numeric, 1)::float8 AS km FROM g CROSS JOIN LATERAL (
			SELECT ss.service_id, min(ss.name) AS name, min(cube_distance(ll_to_earth(g.lat, g.lon)::cube, ss.earth)) AS chord
			FROM service_search ss
			WHERE ss.status = ? AND ss.earth IS NOT NULL
				AND ss.taxonomy_term_ids && ARRAY(SELECT d.id FROM d WHERE d.root = g.term)
			GROUP BY ss.service_id ORDER BY chord, ss.service_id LIMIT ?) s
		ORDER BY g.n, s.chord, s.service_id`,
		textArray(terms), textArray(lats), textArray(lons), hsds.StatusActive, MaxGapServices).Scan(&rows).Error
	if err != nil {
		return fmt.Errorf("nearest services of directory gaps: %w", err)
	}
	for _, r := range rows {
		g := gaps[r.N-1]
		// sec_to_gc: the chord back to the great-circle distance, as the directory search reports it
		g.Nearest = append(g.Nearest, NearbyService{ID: r.ServiceID, Name: r.Name, DistanceKM: r.KM})
	}
	return nil
}
