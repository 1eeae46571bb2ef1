package domain

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// UnmetNeedsCSVColumns are the columns of an unmet-needs table grouped by
// groupBy (week is always there): the dimensions' columns, then count.
func UnmetNeedsCSVColumns(groupBy []string) []string {
	cols := []string{"week", "week_start"}
	for _, d := range groupBy {
		switch d {
		case InsightTaxonomy:
			cols = append(cols, "taxonomy_term_id", "taxonomy_term_name")
		case InsightSource, InsightArea, InsightLanguage, InsightReason:
			cols = append(cols, d)
		}
	}
	return append(cols, "count")
}

// WriteUnmetNeedsCSV writes the published cells as CSV (RFC 4180, a header
// row); an unknown member is an empty field.
func WriteUnmetNeedsCSV(w io.Writer, ins UnmetNeedInsights) error {
	cw := csv.NewWriter(w)
	cols := UnmetNeedsCSVColumns(ins.GroupBy)
	if err := cw.Write(cols); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	for _, c := range ins.Cells {
		rec := make([]string, 0, len(cols))
		for _, col := range cols {
			switch col {
			case "week":
				rec = append(rec, c.Week)
			case "week_start":
				rec = append(rec, c.WeekStart.Format(time.DateOnly))
			case "taxonomy_term_id", "taxonomy_term_name":
				v := ""
				if c.TaxonomyTerm != nil {
					v = c.TaxonomyTerm.ID
					if col == "taxonomy_term_name" {
						v = c.TaxonomyTerm.Name
					}
				}
				rec = append(rec, csvText(v))
			case InsightSource:
				rec = append(rec, deref(c.Source, ""))
			case InsightArea:
				rec = append(rec, deref(c.Area, ""))
			case InsightLanguage:
				rec = append(rec, deref(c.Language, ""))
			case InsightReason:
				rec = append(rec, deref(c.Reason, ""))
			case "count":
				rec = append(rec, strconv.Itoa(c.Count))
			}
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
	}
	cw.Flush()
	return cw.Error()
}

// DirectoryGapsCSVColumns are the columns of the directory-gaps table.
func DirectoryGapsCSVColumns() []string {
	cols := []string{"taxonomy_term_id", "taxonomy_term_name", "area", "people", "weeks"}
	for i := 1; i <= MaxGapServices; i++ {
		n := strconv.Itoa(i)
		cols = append(cols, "nearest_"+n+"_service_id", "nearest_"+n+"_service_name", "nearest_"+n+"_distance_km")
	}
	return cols
}

// WriteDirectoryGapsCSV writes the ranked gaps as CSV with a header row.
func WriteDirectoryGapsCSV(w io.Writer, gaps DirectoryGaps) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(DirectoryGapsCSVColumns()); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	for _, g := range gaps.Gaps {
		rec := []string{g.TaxonomyTerm.ID, csvText(g.TaxonomyTerm.Name), g.Area, strconv.Itoa(g.People), strconv.Itoa(g.Weeks)}
		for i := range MaxGapServices {
			if i < len(g.Nearest) {
				n := g.Nearest[i]
				rec = append(rec, n.ID.String(), csvText(n.Name), strconv.FormatFloat(n.DistanceKM, 'f', 1, 64))
			} else {
				rec = append(rec, "", "", "")
			}
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvText keeps a directory name from being read as a spreadsheet formula
// (CSV injection): one starting with = + - @ or a control gets a leading '.
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
