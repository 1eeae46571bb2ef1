package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/waypoint-portal/waypoint/domain"
	"github.com/waypoint-portal/waypoint/domain/insights"
)

// insightsExport writes the community insights as open data: the finest
// published unmet-need cells, the directory gaps, and a Frictionless Data
// Package describing both. It publishes exactly what an organizer may read
// through the API (the last 12 complete ISO weeks), never more.
func insightsExport(ctx context.Context, e cli, st *openedStore, args []string) error {
	dir := args[0]
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("insights export: %w", err)
	}
	// The operator exports as an organizer would read.
	as := domain.Actor{Roles: []string{domain.RoleOrganizer}}
	all := []string{domain.InsightSource, domain.InsightTaxonomy, domain.InsightArea, domain.InsightLanguage, domain.InsightReason}
	needs, err := st.UnmetNeedInsights(ctx, as, domain.InsightsQuery{GroupBy: all})
	if err != nil {
		return fmt.Errorf("insights export: %w", err)
	}
	gaps, err := st.DirectoryGaps(ctx, as, domain.GapsQuery{Limit: domain.MaxDirectoryGaps, From: needs.From, To: needs.To})
	if err != nil {
		return fmt.Errorf("insights export: %w", err)
	}
	var a, b bytes.Buffer
	if err := domain.WriteUnmetNeedsCSV(&a, needs); err != nil {
		return err
	}
	if err := domain.WriteDirectoryGapsCSV(&b, gaps); err != nil {
		return err
	}
	pkg, err := json.MarshalIndent(dataPackage(needs, time.Now().UTC()), "", "  ")
	if err != nil {
		return fmt.Errorf("insights export: %w", err)
	}
	for name, body := range map[string][]byte{"unmet-needs.csv": a.Bytes(), "directory-gaps.csv": b.Bytes(), "datapackage.json": append(pkg, '\n')} {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			return fmt.Errorf("insights export: %w", err)
		}
	}
	fmt.Fprintf(e.stdout, "exported to %s: unmet-needs.csv (%d cells, %d suppressed), directory-gaps.csv (%d gaps), datapackage.json; weeks %s to %s, k = %d\n",
		dir, len(needs.Cells), needs.SuppressedCells, len(gaps.Gaps), needs.From.Format(time.DateOnly), needs.To.Format(time.DateOnly), needs.K)
	return nil
}

type dpField struct {
	Name        string         `json:"name"`
	Type        string         `json:"type"`
	Format      string         `json:"format,omitempty"`
	Description string         `json:"description"`
	Constraints map[string]any `json:"constraints,omitempty"`
}

// dataPackage is the Frictionless Data Package (tabular) of the export.
func dataPackage(needs domain.UnmetNeedInsights, now time.Time) map[string]any {
	k := insights.K
	suppression := fmt.Sprintf("Every row counts at least k = %d distinct people. Cells with fewer are suppressed (left out), and "+
		"further cells are suppressed (complementary suppression) so that no left-out cell can be recovered from the published "+
		"ones by subtraction. Which cells are published depends only on each week's data, so different extracts cannot be "+
		"differenced to single anyone out. People are counted distinctly within one ISO week only: rows of different weeks "+
		"must not be added up as counts of people.", k)
	dims := []dpField{
		{Name: "week", Type: "string", Description: "ISO 8601 week, such as 2026-W47", Constraints: map[string]any{"required": true, "pattern": `^[0-9]{4}-W[0-9]{2}$`}},
		{Name: "week_start", Type: "date", Description: "Monday of the week (UTC)", Constraints: map[string]any{"required": true}},
		{Name: "source", Type: "string", Description: "search: a directory search found nothing; declined_referral: a referral was declined; barrier: a barrier was reported on a service",
			Constraints: map[string]any{"enum": domain.UnmetNeedSources()}},
		{Name: "taxonomy_term_id", Type: "string", Format: "uuid", Description: "The directory's taxonomy term; empty when the need had no recognisable category"},
		{Name: "taxonomy_term_name", Type: "string", Description: "The term's name (empty when it has left the directory)"},
		{Name: "area", Type: "string", Description: "Geohash of precision 5 (about 5 km × 5 km); empty when there was no place", Constraints: map[string]any{"pattern": `^[0-9b-hjkmnp-z]{5}$`}},
		{Name: "language", Type: "string", Description: "BCP 47 primary language subtag; empty when unknown"},
		{Name: "reason", Type: "string", Description: "Why a referral was declined, or the kind of barrier; empty for searches"},
		{Name: "count", Type: "integer", Description: "Distinct people in the cell that week", Constraints: map[string]any{"required": true, "minimum": k}},
	}
	byName := map[string]dpField{}
	for _, f := range dims {
		byName[f.Name] = f
	}
	var needFields []dpField
	for _, c := range domain.UnmetNeedsCSVColumns(needs.GroupBy) {
		needFields = append(needFields, byName[c])
	}
	gapFields := []dpField{byName["taxonomy_term_id"], byName["taxonomy_term_name"], byName["area"],
		{Name: "people", Type: "integer", Description: "Sum over the weeks of the cell's published weekly counts of searches that found nothing (a week under k adds nothing; a person searching in several weeks counts in each)", Constraints: map[string]any{"minimum": k}},
		{Name: "weeks", Type: "integer", Description: "Weeks the cell was published in", Constraints: map[string]any{"minimum": 1}}}
	for i := 1; i <= domain.MaxGapServices; i++ {
		n := fmt.Sprint(i)
		gapFields = append(gapFields,
			dpField{Name: "nearest_" + n + "_service_id", Type: "string", Format: "uuid", Description: "The " + ordinal(i) + " nearest active service carrying the term (or a narrower one)"},
			dpField{Name: "nearest_" + n + "_service_name", Type: "string", Description: "Its name"},
			dpField{Name: "nearest_" + n + "_distance_km", Type: "number", Description: "Its distance from the centre of the area, km, rounded to 0.1"})
	}
	period := needs.From.Format(time.DateOnly) + " to " + needs.To.Format(time.DateOnly)
	resource := func(name, title, desc string, fields []dpField) map[string]any {
		return map[string]any{"name": name, "path": name + ".csv", "title": title, "description": desc,
			"profile": "tabular-data-resource", "format": "csv", "mediatype": "text/csv", "encoding": "utf-8",
			"dialect": map[string]any{"header": true, "delimiter": ","},
			"schema":  map[string]any{"fields": fields, "missingValues": []string{""}}}
	}
	return map[string]any{
		"profile": "tabular-data-package", "name": "waypoint-community-insights", "title": "Waypoint community insights: unmet needs",
		"description": "What people needed and did not get, " + period + ", anonymous at collection (no person id, no exact place, no free text) " +
			"and k-anonymous at publication. " + suppression,
		"created":  now.Format(time.RFC3339),
		"keywords": []string{"unmet needs", "social services", "k-anonymity"},
		"k":        k,
		"temporal": map[string]string{"start": needs.From.Format(time.DateOnly), "end": needs.To.Format(time.DateOnly)},
		"resources": []any{
			resource("unmet-needs", "Unmet needs by week, source, taxonomy term, area, language and reason",
				"The finest published cells. "+suppression, needFields),
			resource("directory-gaps", "Directory gaps: where a new service would help most",
				"Taxonomy term × area cells of directory searches that found nothing, ranked by their published weekly counts, with the nearest services that carry the term.", gapFields),
		},
	}
}

func ordinal(i int) string { return [...]string{"", "first", "second", "third"}[i] }
