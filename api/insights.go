package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/negotiation"
	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/domain"
	"github.com/waypoint-portal/waypoint/domain/geohash"
)

const (
	insightsTag = "Insights"
	mediaCSV    = "text/csv"
	// maxInsightsCSV bounds the CSV answer: the most cells, each a line of
	// at most about 500 characters (a directory name is the long part).
	maxInsightsCSV = domain.MaxInsightCells*500 + 200
)

// InsightTerm is a taxonomy term of the directory.
type InsightTerm struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name,omitempty" rule:"hsds.optional_name" example:"Legal Aid" doc:"Absent when the term has since left the directory"`
}

// UnmetNeedCell is one published cell: how many distinct people in one ISO
// week needed something and did not get it, by the dimensions of group_by.
// A dimension of group_by whose member is absent is unknown for that cell
// (a need without category, place, language or reason).
type UnmetNeedCell struct {
	Week         string       `json:"week" rule:"insights.week" pattern:"^[0-9]{4}-W[0-9]{2}$" example:"2026-W47" doc:"ISO 8601 week"`
	TaxonomyTerm *InsightTerm `json:"taxonomy_term,omitempty"`
	Area         *string      `json:"area,omitempty" rule:"unmet_need.area" pattern:"^[0-9b-hjkmnp-z]{5}$" example:"c23n9" doc:"Geohash of precision 5 (about 5 km)"`
	Language     *string      `json:"language,omitempty" rule:"unmet_need.language" pattern:"^[a-z]{2,3}$" example:"es"`
	Reason       *string      `json:"reason,omitempty" rule:"unmet_need.reason" pattern:"^[a-z_]{1,40}$" example:"capacity" doc:"Why a referral was declined, or the kind of barrier"`
	Source       *string      `json:"source,omitempty" rule:"unmet_need.source"`
	Count        int          `json:"count" rule:"insights.count" example:"14" doc:"Distinct people: at least k"`
}

// UnmetNeedInsights is the published, k-anonymous table of unmet needs.
type UnmetNeedInsights struct {
	GroupBy         []string        `json:"group_by" rule:"insights.group_by" example:"[\"week\",\"taxonomy\"]" doc:"What each cell is grouped by: week always, then the dimensions asked for and those the filters add"`
	K               int             `json:"k" rule:"insights.k" doc:"No published cell counts fewer people"`
	From            string          `json:"from" format:"date" example:"2026-09-07" doc:"Monday of the first ISO week"`
	To              string          `json:"to" format:"date" example:"2026-11-29" doc:"Sunday of the last ISO week"`
	Cells           []UnmetNeedCell `json:"cells" rule:"insights.cells"`
	SuppressedCells int             `json:"suppressed_cells" rule:"insights.suppressed_cells" doc:"Cells of the request left out: fewer than k people, or suppressed so that such a cell cannot be recovered from the others"`
}

// GapCentre is the centre of a gap's area.
type GapCentre struct {
	Lat float64 `json:"lat" minimum:"-90" maximum:"90" example:"47.5708"`
	Lon float64 `json:"lon" minimum:"-180" maximum:"180" example:"-122.2778"`
}

// GapService is an existing service near a gap that carries its term.
type GapService struct {
	ID         uuid.UUID `json:"id"`
	Name       string    `json:"name" rule:"hsds.name" example:"Eastside Legal Assistance"`
	DistanceKM float64   `json:"distance_km" rule:"insights.distance_km" example:"13.6" doc:"From the centre of the area, rounded to 0.1 km"`
}

// DirectoryGap is a taxonomy term × area where searches found nothing.
type DirectoryGap struct {
	TaxonomyTerm    InsightTerm  `json:"taxonomy_term"`
	Area            string       `json:"area" rule:"unmet_need.area" pattern:"^[0-9b-hjkmnp-z]{5}$" example:"c23n9"`
	Centre          GapCentre    `json:"centre"`
	People          int          `json:"people" rule:"insights.count" example:"48" doc:"The sum of the published weekly counts (a week under k adds nothing)"`
	Weeks           int          `json:"weeks" rule:"insights.weeks" example:"4" doc:"Weeks the cell was published in"`
	NearestServices []GapService `json:"nearest_services" rule:"insights.gap_services" doc:"Nearest first; empty when no active service with a place carries the term"`
}

// DirectoryGaps ranks where a new service would help most.
type DirectoryGaps struct {
	K    int            `json:"k" rule:"insights.k"`
	From string         `json:"from" format:"date" example:"2026-09-07"`
	To   string         `json:"to" format:"date" example:"2026-11-29"`
	Gaps []DirectoryGap `json:"gaps" rule:"insights.gaps"`
}

// InsightRange is the range of weeks an insights request reads.
type InsightRange struct {
	From string `query:"from" format:"date" example:"2026-09-07" doc:"First day; its whole ISO week counts. Default: the last 12 complete ISO weeks"`
	To   string `query:"to" format:"date" example:"2026-11-29" doc:"Last day; its whole ISO week counts (a week not yet over is never published). Not before from; at most 53 weeks after"`
	Area string `query:"area" rule:"insights.area_prefix" pattern:"^[0-9b-hjkmnp-z]{3,5}$" example:"c23n" doc:"Only areas inside this geohash prefix (3 to 5 characters); every cell is then grouped by area"`
}

// dates parses the range.
func (r InsightRange) dates() (from, to time.Time, err error) {
	return dateRange("from", r.From, "to", r.To)
}

type unmetNeedsInput struct {
	InsightRange
	Source  string   `query:"source" rule:"unmet_need.source" doc:"Only needs of this source; every cell is then grouped by source"`
	GroupBy []string `query:"group_by" rule:"insights.group_by" doc:"Dimensions, comma-separated (default taxonomy); week is always one"`
	acceptInput
}

// unmetNeedsOutput writes the body itself: JSON or CSV, as negotiated.
type unmetNeedsOutput struct {
	Vary string `header:"Vary" doc:"Accept: the representation depends on it"`
	Body func(huma.Context)
}

type directoryGapsInput struct {
	InsightRange
	Limit int `query:"limit" rule:"page.size" default:"20" doc:"How many gaps (1-100)"`
}

type directoryGapsOutput struct {
	Body DirectoryGaps
}

const insightsReaders = "Administrators, workers and organizers (403 for anyone else). "

func (s *Server) registerInsights() {
	unmet := op(http.MethodGet, "/v1/insights/unmet-needs", "getUnmetNeedInsights", insightsTag, "Unmet needs, k-anonymous",
		insightsReaders+"How many distinct people needed something and did not get it: searches of the directory that found "+
			"nothing, declined referrals (reason: why), barriers reported on services (reason: the kind). Counted per ISO week, "+
			"always (a person can be counted once only within a week), by the dimensions of group_by. Only fixed cells are "+
			"published: every cell counts at least k = 10 people, and complementary suppression leaves no suppressed cell "+
			"recoverable from the published ones; which cells are suppressed depends on the week's data alone, never on the "+
			"request, and area and source filters make their dimension part of every cell, so no two requests can be differenced "+
			"to single anyone out. Only ISO weeks that are over are published.\n\n"+
			"With `Accept: text/csv` the same cells come as CSV with a header row (week, week_start, the dimensions' columns, count).",
		"insights:read", invalid)
	reg := s.api.OpenAPI().Components.Schemas
	unmet.Responses = map[string]*huma.Response{"200": {
		Description: "OK. With Accept: text/csv, the same cells as CSV (Vary: Accept).",
		Content: map[string]*huma.MediaType{
			mediaJSON: {Schema: reg.Schema(reflect.TypeFor[UnmetNeedInsights](), true, "")},
			mediaCSV: {Schema: &huma.Schema{Type: huma.TypeString, MaxLength: ptr(maxInsightsCSV)},
				Example: "week,week_start,taxonomy_term_id,taxonomy_term_name,count\n" +
					"2026-W47,2026-11-16,01936f5e-6c1a-7b3e-9d2f-3a4b5c6d7e8f,Legal Aid,14\n"},
		},
	}}
	handle(s.api, unmet, func(ctx context.Context, in *unmetNeedsInput) (*unmetNeedsOutput, error) {
		from, to, err := in.dates()
		if err != nil {
			return nil, err
		}
		ins, err := s.store.UnmetNeedInsights(ctx, actorFrom(ctx), domain.InsightsQuery{From: from, To: to, Area: in.Area,
			Source: in.Source, GroupBy: in.GroupBy})
		if err != nil {
			return nil, err
		}
		var b bytes.Buffer
		ct := mediaJSON
		if wantsCSV(in.accept) {
			ct = mediaCSV + "; charset=utf-8; header=present"
			err = domain.WriteUnmetNeedsCSV(&b, ins)
		} else {
			err = json.NewEncoder(&b).Encode(unmetNeedsDTO(ins))
		}
		if err != nil {
			return nil, fmt.Errorf("render insights: %w", err)
		}
		return &unmetNeedsOutput{Vary: "Accept", Body: func(hctx huma.Context) {
			hctx.SetHeader("Content-Type", ct)
			hctx.SetStatus(http.StatusOK)
			_, _ = hctx.BodyWriter().Write(b.Bytes())
		}}, nil
	})

	handle(s.api, op(http.MethodGet, "/v1/insights/directory-gaps", "getDirectoryGapInsights", insightsTag,
		"Where a new service would help most",
		insightsReaders+"Taxonomy term × area (geohash-5) cells of directory searches that found nothing, ranked by the sum "+
			"over the weeks of their published weekly counts (weeks under k add nothing), each with the nearest active "+
			"services that carry the term or a narrower one (up to 3, distance from the centre of the area). Same weeks "+
			"and cells as getUnmetNeedInsights.",
		"insights:read", invalid),
		func(ctx context.Context, in *directoryGapsInput) (*directoryGapsOutput, error) {
			from, to, err := in.dates()
			if err != nil {
				return nil, err
			}
			g, err := s.store.DirectoryGaps(ctx, actorFrom(ctx), domain.GapsQuery{From: from, To: to, Area: in.Area, Limit: in.Limit})
			if err != nil {
				return nil, err
			}
			return &directoryGapsOutput{Body: directoryGapsDTO(g)}, nil
		})
}

// wantsCSV reports whether Accept prefers CSV over JSON (absent or */*: JSON).
func wantsCSV(accept string) bool {
	return accept != "" && negotiation.SelectQValueFast(accept, []string{mediaJSON, mediaCSV}) == mediaCSV
}

func insightTerm(t domain.TermRef) InsightTerm {
	id, _ := uuid.Parse(t.ID) // a uuid column, as text
	return InsightTerm{ID: id, Name: t.Name}
}

func unmetNeedsDTO(ins domain.UnmetNeedInsights) UnmetNeedInsights {
	out := UnmetNeedInsights{GroupBy: ins.GroupBy, K: ins.K, From: ins.From.Format(time.DateOnly), To: ins.To.Format(time.DateOnly),
		Cells: make([]UnmetNeedCell, len(ins.Cells)), SuppressedCells: ins.SuppressedCells}
	for i, c := range ins.Cells {
		out.Cells[i] = UnmetNeedCell{Week: c.Week, Area: c.Area, Language: c.Language, Reason: c.Reason, Source: c.Source, Count: c.Count}
		if c.TaxonomyTerm != nil {
			t := insightTerm(*c.TaxonomyTerm)
			out.Cells[i].TaxonomyTerm = &t
		}
	}
	return out
}

func directoryGapsDTO(g domain.DirectoryGaps) DirectoryGaps {
	out := DirectoryGaps{K: g.K, From: g.From.Format(time.DateOnly), To: g.To.Format(time.DateOnly), Gaps: make([]DirectoryGap, len(g.Gaps))}
	for i, gap := range g.Gaps {
		lat, lon := geohash.Centre(gap.Area)
		d := DirectoryGap{TaxonomyTerm: insightTerm(gap.TaxonomyTerm), Area: gap.Area, Centre: GapCentre{Lat: lat, Lon: lon},
			People: gap.People, Weeks: gap.Weeks, NearestServices: make([]GapService, len(gap.Nearest))}
		for j, n := range gap.Nearest {
			d.NearestServices[j] = GapService{ID: n.ID, Name: n.Name, DistanceKM: n.DistanceKM}
		}
		out.Gaps[i] = d
	}
	return out
}
