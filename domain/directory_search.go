package domain

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/waypoint-portal/waypoint/auth/tokencache"
	"github.com/waypoint-portal/waypoint/domain/hsds"
)

// Search sort orders.
const (
	SortRelevance = "relevance"
	SortDistance  = "distance"
	SortName      = "name"
)

// earthRadius is earthdistance's earth() in metres.
const earthRadius = 6378168.0

// Near is a circle on the globe.
type Near struct {
	Lat, Lon, RadiusKM float64
}

// SearchFilter is a directory search. Every filter is optional and they combine with AND.
type SearchFilter struct {
	// Search is a websearch_to_tsquery text ("food pantry", "shelter -youth", "\"legal aid\"").
	Search         string
	TaxonomyTermID uuid.UUID // the term or any narrower one
	OrganizationID uuid.UUID
	Near           *Near
	// OpenNow keeps services open at At (now when zero) in their place's local time.
	OpenNow       bool
	At            time.Time
	Language      string   // ISO 639-1 or 639-3
	Age           *float64 // eligibility range contains it
	ModifiedAfter time.Time
	Statuses      []string // default: active
	Sort          string   // default: distance with Near, relevance with Search, else name
	Page, PerPage int
}

// ServiceHit is one search result: the service's own members, its
// organization (id, name, description), languages, schedules, phones and its
// locations (nearest first), plus the distance to the nearest one.
type ServiceHit struct {
	hsds.Service
	DistanceKM *float64 `json:"distance_km,omitempty"`
}

// SearchResult is one page of hits.
type SearchResult struct {
	Hits  []ServiceHit
	Total int
	// Corrected is the search text actually used when the original found
	// nothing and a spelling correction did.
	Corrected string
}

// customPlan makes pgx send a search as an unnamed statement, planned for
// its actual values every time. A cached prepared statement would switch to
// PostgreSQL's generic plan after five runs, and a generic plan cannot know
// whether "food" matches a quarter of the directory or "dental" a twentieth.
const customPlan = pgx.QueryExecModeExec

// sqlArgs numbers positional parameters for database/sql.
type sqlArgs []any

func (a *sqlArgs) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// searchQuery is a prepared search: SQL conditions and parameters.
type searchQuery struct {
	f     SearchFilter
	args  sqlArgs
	where []string
	point string // SQL of the search point (a cube), "" without Near
	text  string // SQL of the tsquery, "" without Search
	order string
}

// prepareSearch resolves what a search needs from the database before it
// runs (descendant taxonomy terms, time zones) and rejects unusable filters,
// naming the query parameter. It is separate so a streamed response can fail
// cleanly before its first byte.
func (s *Store) prepareSearch(ctx context.Context, db *sql.DB, f SearchFilter) (*searchQuery, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	q := &searchQuery{f: f}
	statuses := f.Statuses
	if len(statuses) == 0 {
		statuses = []string{hsds.StatusActive}
	}
	q.where = append(q.where, "ss.status = ANY ("+q.args.add(textArray(statuses).literal())+"::text[])")
	text := strings.TrimSpace(f.Search)
	if text != "" {
		q.text = "websearch_to_tsquery('english', " + q.args.add(text) + ")"
	}
	if f.Near != nil {
		lat, lon := q.args.add(f.Near.Lat), q.args.add(f.Near.Lon)
		q.point = "ll_to_earth(" + lat + "::float8, " + lon + "::float8)::cube"
		meters := f.Near.RadiusKM * 1000
		// earth_box is the indexed bounding box; the exact test compares the
		// straight-line (chord) distance, which is what earth_distance
		// converts, without its per-row conversions.
		chord := 2 * earthRadius * math.Sin(meters/(2*earthRadius))
		q.where = append(q.where,
			"earth_box(ll_to_earth("+lat+"::float8, "+lon+"::float8), "+q.args.add(meters)+"::float8) @> ss.earth",
			"cube_distance("+q.point+", ss.earth) <= "+q.args.add(chord)+"::float8")
	}
	if f.TaxonomyTermID != uuid.Nil {
		var terms string
		err := db.QueryRowContext(ctx, `WITH RECURSIVE d AS (
				SELECT id FROM taxonomy_terms WHERE id = $1
				UNION SELECT t.id FROM taxonomy_terms t JOIN d ON t.parent_id = d.id)
			SELECT coalesce(array_agg(id)::text, '') FROM d`, f.TaxonomyTermID).Scan(&terms)
		if err != nil {
			return nil, fmt.Errorf("resolve taxonomy term: %w", err)
		}
		if terms == "" {
			return nil, InvalidIn(SourceSelection, "taxonomy_term_id", "no taxonomy term has this id")
		}
		q.where = append(q.where, "ss.taxonomy_term_ids && "+q.args.add(terms)+"::uuid[]")
	}
	if f.OrganizationID != uuid.Nil {
		q.where = append(q.where, "ss.organization_id = "+q.args.add(f.OrganizationID.String())+"::uuid")
	}
	if f.Language != "" {
		q.where = append(q.where, "ss.language_codes && "+q.args.add(textArray(hsds.LanguageCodes(f.Language)).literal())+"::text[]")
	}
	if f.Age != nil {
		q.where = append(q.where, "ss.ages @> "+q.args.add(*f.Age)+"::numeric")
	}
	if !f.ModifiedAfter.IsZero() {
		q.where = append(q.where, "ss.last_modified >= "+q.args.add(f.ModifiedAfter)+"::timestamptz")
	}
	if f.OpenNow {
		if err := q.openNow(ctx, db); err != nil {
			return nil, err
		}
	}
	if q.text != "" {
		// last: PostgreSQL tests equally cheap conditions in the order
		// written, and the words are the dearest test of a row
		geo, err := s.geoFirst(ctx, db, f, text)
		switch {
		case err != nil:
			return nil, err
		case geo:
			// ts_match_vq is what @@ calls; unlike the operator, a function
			// call cannot be answered from the text index
			q.where = append(q.where, "ts_match_vq(ss.document, "+q.text+")")
		default:
			q.where = append(q.where, "ss.document @@ "+q.text)
		}
	}
	if err := q.orderBy(); err != nil {
		return nil, err
	}
	return q, nil
}

// Around a point, a search text that many places match is tested on the
// places in the circle rather than read from the text index: PostgreSQL
// would otherwise intersect the circle's few thousand candidates with every
// place the word matches ("food": a fifth of the directory) because it
// takes any circle to hold a thousandth of the rows. The rule holds for
// circles up to geoFirstMaxKM (a city); beyond that, or for a rarer text,
// the planner chooses as usual.
const (
	geoFirstMaxKM    = 50
	geoFirstMinShare = 0.02
)

// geoFirst says whether a search around a point tests its text on the
// circle's places instead of reading the text index. The estimate is
// remembered by text for shareTTL: reading pg_stats costs about a
// millisecond of the database's time, more than a search of a small
// directory, and the statistics change only when the directory is analysed.
func (s *Store) geoFirst(ctx context.Context, db *sql.DB, f SearchFilter, text string) (bool, error) {
	if f.Near == nil || f.Near.RadiusKM > geoFirstMaxKM {
		return false, nil
	}
	key, now := tokencache.KeyOf(text), time.Now()
	share, ok := s.shares.Get(key, now, nil)
	if !ok {
		err := db.QueryRowContext(ctx, `SELECT directory_text_share(websearch_to_tsquery('english', $1))`, text).Scan(&share)
		if err != nil {
			return false, fmt.Errorf("estimate search text: %w", err)
		}
		s.shares.Put(key, share, now, now.Add(shareTTL))
	}
	return share.Valid && share.Float64 >= geoFirstMinShare, nil
}

// shareTTL is how long a search text's estimate is reused; the Store keeps
// at most shareCacheSize of them.
const (
	shareTTL       = 5 * time.Minute
	shareCacheSize = 10000
)

// orderBy picks the sort: the one asked for, else distance with a place,
// relevance with words, name otherwise; it refuses a sort the filters
// cannot support.
func (q *searchQuery) orderBy() error {
	sort := q.f.Sort
	if sort == "" {
		switch {
		case q.f.Near != nil:
			sort = SortDistance
		case q.text != "":
			sort = SortRelevance
		default:
			sort = SortName
		}
	}
	switch sort {
	case SortDistance:
		if q.f.Near == nil {
			return InvalidIn(SourceSelection, "sort", "sort=distance needs lat, lon and radius_km")
		}
		q.order = "chord, name, service_id"
	case SortRelevance:
		if q.text == "" {
			return InvalidIn(SourceSelection, "sort", "sort=relevance needs search")
		}
		q.order = "rank DESC, name, service_id"
		if q.f.Near != nil {
			q.order = "rank DESC, chord, service_id"
		}
	case SortName:
		q.order = "name, service_id"
	default:
		return InvalidIn(SourceSelection, "sort", "sort must be relevance, distance or name")
	}
	return nil
}

// openNow adds the "open at At" condition. Opening hours are stored as
// minutes of the week per zone (see migration 00020): this computes the
// current minute in every zone the directory uses, once per request, so the
// database compares integers instead of converting times row by row.
func (q *searchQuery) openNow(ctx context.Context, db *sql.DB) error {
	at := q.f.At
	if at.IsZero() {
		at = time.Now()
	}
	rows, err := db.QueryContext(ctx, `SELECT id, name FROM directory_time_zones ORDER BY id`)
	if err != nil {
		return fmt.Errorf("read time zones: %w", err)
	}
	defer rows.Close()
	var slots, points []string
	for rows.Next() {
		var id int
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return fmt.Errorf("read time zones: %w", err)
		}
		loc, err := hsds.LoadZone(name)
		if err != nil {
			continue // a zone Go does not know cannot be evaluated; PostgreSQL and Go share the IANA database
		}
		local := at.In(loc)
		wd := (int(local.Weekday()) + 6) % 7 // Monday = 0
		m := id*10080 + wd*1440 + local.Hour()*60 + local.Minute()
		slots = append(slots, strconv.Itoa(m/60))
		points = append(points, "["+strconv.Itoa(m)+","+strconv.Itoa(m+1)+")")
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read time zones: %w", err)
	}
	if len(slots) == 0 {
		q.where = append(q.where, "FALSE")
		return nil
	}
	q.where = append(q.where,
		"ss.open_slots && "+q.args.add("{"+strings.Join(slots, ",")+"}")+"::int[]",
		// a sub-select, so the multirange is parsed once, not per row
		"ss.open_week && (SELECT "+q.args.add("{"+strings.Join(points, ",")+"}")+"::text::int4multirange)",
		"(ss.hours_valid = '(,)'::daterange OR ss.hours_valid @> ("+q.args.add(at)+"::timestamptz AT TIME ZONE ss.timezone)::date)")
	return nil
}

// hitsSQL is the grouped match set: one row per service with its nearest
// distance (as a chord), best rank and name.
func (q *searchQuery) hitsSQL() string {
	cols := []string{"ss.service_id", "min(ss.name) AS name"}
	if q.point != "" {
		cols = append(cols, "min(cube_distance("+q.point+", ss.earth)) AS chord")
	} else {
		cols = append(cols, "NULL::float8 AS chord")
	}
	if q.text != "" && strings.HasPrefix(q.order, "rank") {
		// ranking reads every match's document: only when sorting by it
		cols = append(cols, "max(ts_rank_cd(ss.document, "+q.text+")) AS rank")
	} else {
		cols = append(cols, "0::real AS rank")
	}
	return "SELECT " + strings.Join(cols, ", ") + " FROM service_search ss WHERE " +
		strings.Join(q.where, " AND ") + " GROUP BY ss.service_id"
}

// itemSQL is the hit for page row p: the service's ready-made search
// document (service_summaries, rendered by directory_refresh) and its distance.
const itemSQL = `d.doc, round((sec_to_gc(p.chord) / 1000)::numeric, 3)`

// SearchServices runs a directory search and returns one page. A search
// text that matches nothing is retried once with its misspelt words
// corrected from the directory's vocabulary (pg_trgm).
func (s *Store) SearchServices(ctx context.Context, f SearchFilter) (SearchResult, error) {
	db, err := s.db.DB()
	if err != nil {
		return SearchResult{}, fmt.Errorf("database handle: %w", err)
	}
	q, err := s.prepareSearch(ctx, db, f)
	if err != nil {
		return SearchResult{}, err
	}
	res, err := q.page(ctx, db)
	if err != nil || res.Total > 0 || q.text == "" {
		return res, err
	}
	var fixed string
	if err := db.QueryRowContext(ctx, `SELECT directory_spellfix($1)`, f.Search).Scan(&fixed); err != nil {
		return SearchResult{}, fmt.Errorf("correct search: %w", err)
	}
	if fixed == "" || strings.EqualFold(fixed, strings.Join(strings.Fields(f.Search), " ")) {
		return res, nil
	}
	f.Search = fixed
	if q, err = s.prepareSearch(ctx, db, f); err != nil {
		return SearchResult{}, err
	}
	res, err = q.page(ctx, db)
	if res.Total > 0 {
		res.Corrected = fixed
	}
	return res, err
}

// pageSQL is the statement of one page: the total and the page's hits (a
// single row with a NULL document when there are none). It adds the paging
// parameters to q.args, so a query is rendered once.
func (q *searchQuery) pageSQL() string {
	limit, offset := q.args.add(q.f.PerPage), q.args.add((q.f.Page-1)*q.f.PerPage)
	return `WITH hits AS (` + q.hitsSQL() + `),
		p AS (SELECT * FROM hits ORDER BY ` + q.order + ` LIMIT ` + limit + ` OFFSET ` + offset + `)
		SELECT (SELECT count(*) FROM hits), ` + itemSQL + `
		FROM (SELECT 1) one LEFT JOIN p ON true LEFT JOIN service_summaries d ON d.service_id = p.service_id
		ORDER BY ` + prefixed("p.", q.order)
}

func (q *searchQuery) page(ctx context.Context, db *sql.DB) (SearchResult, error) {
	query := q.pageSQL()
	rows, err := db.QueryContext(ctx, query, append([]any{customPlan}, q.args...)...)
	if err != nil {
		return SearchResult{}, fmt.Errorf("search services: %w", err)
	}
	defer rows.Close()
	res := SearchResult{Hits: []ServiceHit{}}
	for rows.Next() {
		var doc []byte
		var km *float64
		if err := rows.Scan(&res.Total, &doc, &km); err != nil {
			return SearchResult{}, fmt.Errorf("search services: %w", err)
		}
		if doc == nil {
			continue
		}
		h, err := q.hit(doc, km)
		if err != nil {
			return SearchResult{}, err
		}
		res.Hits = append(res.Hits, h)
	}
	if err := rows.Err(); err != nil {
		return SearchResult{}, fmt.Errorf("search services: %w", err)
	}
	return res, nil
}

// StreamServices runs a search without pagination (HSDS format=ndjson) and
// calls fn for every hit in order, as rows arrive. Errors from fn stop it.
func (s *Store) StreamServices(ctx context.Context, f SearchFilter, fn func(ServiceHit) error) error {
	db, err := s.db.DB()
	if err != nil {
		return fmt.Errorf("database handle: %w", err)
	}
	q, err := s.prepareSearch(ctx, db, f)
	if err != nil {
		return err
	}
	query := `WITH p AS (` + q.hitsSQL() + `)
		SELECT ` + itemSQL + ` FROM p JOIN service_summaries d ON d.service_id = p.service_id
		ORDER BY ` + prefixed("p.", q.order)
	rows, err := db.QueryContext(ctx, query, append([]any{customPlan}, q.args...)...)
	if err != nil {
		return fmt.Errorf("search services: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var doc []byte
		var km *float64
		if err := rows.Scan(&doc, &km); err != nil {
			return fmt.Errorf("search services: %w", err)
		}
		h, err := q.hit(doc, km)
		if err != nil {
			return err
		}
		if err := fn(h); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("search services: %w", err)
	}
	return nil
}

// CheckSearch validates a search without running it (for streamed responses).
func (s *Store) CheckSearch(ctx context.Context, f SearchFilter) error {
	db, err := s.db.DB()
	if err != nil {
		return fmt.Errorf("database handle: %w", err)
	}
	_, err = s.prepareSearch(ctx, db, f)
	return err
}

// ExplainSearch returns PostgreSQL's plan for a search's page statement
// (EXPLAIN without costs), for tests to show which indexes each filter uses.
func (s *Store) ExplainSearch(ctx context.Context, f SearchFilter) (string, error) {
	return s.explainSearch(ctx, f, "COSTS OFF")
}

// ExplainAnalyzeSearch runs a search under EXPLAIN (ANALYZE, BUFFERS), for
// the benchmark's record of what a search reads and where its time goes.
func (s *Store) ExplainAnalyzeSearch(ctx context.Context, f SearchFilter) (string, error) {
	return s.explainSearch(ctx, f, "ANALYZE, BUFFERS")
}

func (s *Store) explainSearch(ctx context.Context, f SearchFilter, options string) (string, error) {
	db, err := s.db.DB()
	if err != nil {
		return "", fmt.Errorf("database handle: %w", err)
	}
	q, err := s.prepareSearch(ctx, db, f)
	if err != nil {
		return "", err
	}
	if f.PerPage == 0 {
		f.PerPage, f.Page = 20, 1
		q.f = f
	}
	rows, err := db.QueryContext(ctx, "EXPLAIN ("+options+") "+q.pageSQL(), append([]any{customPlan}, q.args...)...)
	if err != nil {
		return "", fmt.Errorf("explain search: %w", err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return "", fmt.Errorf("explain search: %w", err)
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String(), rows.Err()
}

// hit decodes a search document; with a search point, the service's
// locations are put nearest first.
func (q *searchQuery) hit(doc []byte, km *float64) (ServiceHit, error) {
	var h ServiceHit
	if err := json.Unmarshal(doc, &h); err != nil {
		return h, fmt.Errorf("decode search hit: %w", err)
	}
	h.DistanceKM = km
	if n := q.f.Near; n != nil && len(h.ServiceAtLocations) > 1 {
		d := func(sal hsds.ServiceAtLocation) float64 {
			if l := sal.Location; l != nil && l.Latitude != nil && *l.Latitude >= -90 && *l.Latitude <= 90 {
				return greatCircleKM(n.Lat, n.Lon, *l.Latitude, *l.Longitude)
			}
			return math.Inf(1)
		}
		slices.SortStableFunc(h.ServiceAtLocations, func(a, b hsds.ServiceAtLocation) int { return cmp.Compare(d(a), d(b)) })
	}
	// The nearest hsds.MaxListed places, or the first by position.
	hsds.TrimListed(&h.Service)
	return h, nil
}

// greatCircleKM is the haversine distance on earthdistance's sphere.
func greatCircleKM(lat1, lon1, lat2, lon2 float64) float64 {
	rad := math.Pi / 180
	dlat, dlon := (lat2-lat1)*rad, (lon2-lon1)*rad
	a := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dlon/2)*math.Sin(dlon/2)
	return 2 * earthRadius / 1000 * math.Asin(math.Sqrt(a))
}

// prefixed qualifies the columns of an ORDER BY list.
func prefixed(p, order string) string {
	parts := strings.Split(order, ", ")
	for i, c := range parts {
		parts[i] = p + c
	}
	return strings.Join(parts, ", ")
}
