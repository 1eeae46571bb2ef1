package domain

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/waypoint-portal/waypoint/domain/geohash"
	"github.com/waypoint-portal/waypoint/domain/insights"
	"github.com/waypoint-portal/waypoint/domain/valid"
)

// InsightsQuery asks for unmet-need insights. Zero dates take the defaults.
type InsightsQuery struct {
	From, To time.Time
	// Area is a geohash prefix of 3 to 5 characters; "" for every area. When
	// given, every cell is grouped by area (and only cells inside it come
	// back), so a filter never publishes an aggregate of its own.
	Area string
	// Source, when given, likewise makes every cell grouped by source.
	Source string
	// GroupBy names dimensions of InsightDimensions; empty: taxonomy.
	GroupBy []string
}

// TermRef is a taxonomy term as insights name it; Name is empty when the
// term has since left the directory.
type TermRef struct {
	ID   string
	Name string
}

// InsightCell is one published cell: distinct people in one ISO week, by
// the dimensions asked for; a member of a grouped dimension left nil is
// unknown (a need without category, point, language or reason).
type InsightCell struct {
	Week         string // ISO week, 2026-W47
	WeekStart    time.Time
	TaxonomyTerm *TermRef
	Area         *string
	Language     *string
	Reason       *string
	Source       *string
	Count        int
}

// UnmetNeedInsights is the publication for one request.
type UnmetNeedInsights struct {
	GroupBy         []string
	K               int
	From, To        time.Time // the Monday of the first week, the Sunday of the last
	Cells           []InsightCell
	SuppressedCells int
}

// isoWeekName is the ISO 8601 week of Monday m, such as 2026-W47.
func isoWeekName(m time.Time) string {
	y, w := m.ISOWeek()
	return fmt.Sprintf("%04d-W%02d", y, w)
}

// insightWeeks resolves a range to whole ISO weeks, none of them unfinished:
// a week is published once it is over, so its cells never change after and
// reading them twice tells nothing new.
func insightWeeks(from, to, now time.Time) (first, last time.Time, err error) {
	current := isoWeek(now)
	lastDone := current.AddDate(0, 0, -7)
	for _, d := range []struct {
		t    time.Time
		name string
	}{{from, "from"}, {to, "to"}} {
		if !d.t.IsZero() {
			if err := valid.Year(d.t); err != nil {
				return first, last, InvalidIn(SourceSelection, d.name, "%s %s", d.name, err.Error())
			}
		}
	}
	switch {
	case from.IsZero() && to.IsZero():
		last = lastDone
		first = last.AddDate(0, 0, -7*(DefaultInsightWeeks-1))
	case from.IsZero():
		last = isoWeek(to)
		first = last.AddDate(0, 0, -7*(DefaultInsightWeeks-1))
	case to.IsZero():
		first = isoWeek(from)
		last = first.AddDate(0, 0, 7*(DefaultInsightWeeks-1)) // cut at the last complete week below
	default:
		first, last = isoWeek(from), isoWeek(to)
	}
	if !to.IsZero() && !from.IsZero() && to.Before(from) {
		return first, last, InvalidIn(SourceSelection, "to", "to is before from; give a range that is not empty")
	}
	if last.After(lastDone) {
		last = lastDone // the current week is not over: not published yet
	}
	if last.Before(first) {
		return first, last, InvalidIn(SourceSelection, "from",
			"from is in a week that is not over yet (weeks are published once they end; the last complete week began %s)", lastDone.Format(time.DateOnly))
	}
	if weeks := int(last.Sub(first).Hours()/24/7) + 1; weeks > MaxInsightWeeks {
		return first, last, InvalidIn(SourceSelection, "to", "the range spans %d ISO weeks; at most %d may be asked for at once", weeks, MaxInsightWeeks)
	}
	return first, last, nil
}

// checkArea checks an area filter: a geohash prefix of 3 to 5 characters.
func checkArea(field, area string) error {
	if area != "" && !geohash.Valid(area, minAreaPrefix, insights.AreaPrefixMax) {
		return InvalidIn(SourceSelection, field, "%s is a geohash prefix of %d to %d characters (0-9 and b-z without a, i, l, o), such as c23n9",
			field, minAreaPrefix, insights.AreaPrefixMax)
	}
	return nil
}

// insightMask resolves group_by and the filters to the cube's mask, and the
// dimension names the answer groups by (week first, then the cube's order).
func (q InsightsQuery) insightMask() (insights.Mask, []string, error) {
	names := q.GroupBy
	if len(names) == 0 {
		names = []string{InsightTaxonomy}
	}
	var m insights.Mask
	for _, n := range names {
		if d, ok := insightDims[n]; ok {
			m |= insights.MaskOf(d)
		} else if n != InsightWeek {
			return 0, nil, InvalidIn(SourceSelection, "group_by", "group_by takes %s, comma-separated; %q is none of them",
				strings.Join(InsightDimensions(), ", "), n)
		}
	}
	if q.Area != "" {
		m |= insights.MaskOf(insights.DimArea)
	}
	if q.Source != "" {
		if !slices.Contains(UnmetNeedSources(), q.Source) {
			return 0, nil, InvalidIn(SourceSelection, "source", "source is one of %s", strings.Join(UnmetNeedSources(), ", "))
		}
		m |= insights.MaskOf(insights.DimSource)
	}
	out := []string{InsightWeek}
	for _, n := range InsightDimensions()[1:] {
		if m.Has(insightDims[n]) {
			out = append(out, n)
		}
	}
	return m, out, nil
}

// keep is the filter of the query's area and source, on a cell's members.
func (q InsightsQuery) keep(v insights.Values) bool {
	return (q.Area == "" || strings.HasPrefix(v[insights.DimArea], q.Area)) &&
		(q.Source == "" || v[insights.DimSource] == q.Source)
}

// publishedWeek is one ISO week's published cube.
type publishedWeek struct {
	start time.Time
	cube  *insights.Week
}

// insightCubes builds the cube of every week from first to last that has
// data. Each is computed from its week's rows alone, whatever was asked.
func (s *Store) insightCubes(ctx context.Context, first, last time.Time) ([]publishedWeek, error) {
	rows, err := s.db.WithContext(ctx).Raw(`SELECT week, source, coalesce(taxonomy_term::text, ''), coalesce(area, ''),
			coalesce(language, ''), coalesce(reason, ''), person_mark
		FROM unmet_needs WHERE week BETWEEN ?::date AND ?::date ORDER BY week`,
		first.Format(time.DateOnly), last.Format(time.DateOnly)).Rows()
	if err != nil {
		return nil, fmt.Errorf("read unmet needs: %w", err)
	}
	defer rows.Close()
	var out []publishedWeek
	var cur []insights.Row
	var curWeek time.Time
	flush := func() {
		if len(cur) > 0 {
			out = append(out, publishedWeek{start: curWeek, cube: insights.BuildWeek(cur)})
		}
		cur = nil
	}
	for rows.Next() {
		var week time.Time
		var r insights.Row
		var mark []byte
		v := &r.Values
		if err := rows.Scan(&week, &v[insights.DimSource], &v[insights.DimTaxonomy], &v[insights.DimArea],
			&v[insights.DimLanguage], &v[insights.DimReason], &mark); err != nil {
			return nil, fmt.Errorf("read unmet needs: %w", err)
		}
		week = week.UTC()
		if !week.Equal(curWeek) {
			flush()
			curWeek = week
		}
		r.Mark = string(mark)
		cur = append(cur, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read unmet needs: %w", err)
	}
	flush()
	return out, nil
}

// termNames names taxonomy terms by id (a term gone from the directory is absent).
func (s *Store) termNames(ctx context.Context, ids []string) (map[string]string, error) {
	out := map[string]string{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct{ ID, Name string }
	if err := s.db.WithContext(ctx).Raw(`SELECT id::text AS id, name FROM taxonomy_terms WHERE id = ANY (?::uuid[])`,
		textArray(ids)).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("name taxonomy terms: %w", err)
	}
	for _, r := range rows {
		out[r.ID] = r.Name
	}
	return out, nil
}

// UnmetNeedInsights publishes the unmet needs of the weeks asked for, by
// the dimensions asked for: only cells counting at least insights.K
// distinct people and left published by complementary suppression. Admins,
// workers and organizers may read them (403 for anyone else); they carry no
// person's data, so nothing is written to any access log.
func (s *Store) UnmetNeedInsights(ctx context.Context, a Actor, q InsightsQuery) (UnmetNeedInsights, error) {
	return s.unmetNeedInsights(ctx, a, q, time.Now())
}

func (s *Store) unmetNeedInsights(ctx context.Context, a Actor, q InsightsQuery, now time.Time) (UnmetNeedInsights, error) {
	if !a.ReadsInsights() {
		return UnmetNeedInsights{}, Forbidden("community insights are for administrators, workers and organizers")
	}
	if err := checkArea("area", q.Area); err != nil {
		return UnmetNeedInsights{}, err
	}
	mask, groupBy, err := q.insightMask()
	if err != nil {
		return UnmetNeedInsights{}, err
	}
	first, last, err := insightWeeks(q.From, q.To, now)
	if err != nil {
		return UnmetNeedInsights{}, err
	}
	weeks, err := s.insightCubes(ctx, first, last)
	if err != nil {
		return UnmetNeedInsights{}, err
	}
	out := UnmetNeedInsights{GroupBy: groupBy, K: insights.K, From: first, To: last.AddDate(0, 0, 6)}
	var terms []string
	for _, w := range weeks {
		for _, c := range w.cube.Cells(mask, q.keep) {
			if c.Suppressed {
				out.SuppressedCells++
				continue
			}
			if len(out.Cells) == MaxInsightCells {
				return UnmetNeedInsights{}, InvalidIn(SourceSelection, "group_by",
					"the answer would hold more than %d cells; group by fewer dimensions, or ask for fewer weeks or a smaller area", MaxInsightCells)
			}
			out.Cells = append(out.Cells, insightCell(w.start, mask, c))
			if t := c.Values[insights.DimTaxonomy]; mask.Has(insights.DimTaxonomy) && t != "" {
				terms = append(terms, t)
			}
		}
	}
	names, err := s.termNames(ctx, terms)
	if err != nil {
		return UnmetNeedInsights{}, err
	}
	for i := range out.Cells {
		if t := out.Cells[i].TaxonomyTerm; t != nil {
			t.Name = names[t.ID]
		}
	}
	return out, nil
}

func insightCell(week time.Time, m insights.Mask, c insights.Cell) InsightCell {
	out := InsightCell{Week: isoWeekName(week), WeekStart: week, Count: c.Count}
	member := func(d insights.Dim) *string {
		if !m.Has(d) || c.Values[d] == "" {
			return nil
		}
		v := c.Values[d]
		return &v
	}
	out.Source, out.Area, out.Language, out.Reason = member(insights.DimSource), member(insights.DimArea),
		member(insights.DimLanguage), member(insights.DimReason)
	if t := member(insights.DimTaxonomy); t != nil {
		out.TaxonomyTerm = &TermRef{ID: *t}
	}
	return out
}
