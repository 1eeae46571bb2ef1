package domain

import (
	"math"
	"strings"

	"github.com/waypoint-portal/waypoint/domain/valid"
)

// MaxListPage bounds HSDS page numbers (services, taxonomy terms), so that
// (page-1) * per_page stays a small OFFSET whatever a caller sends.
const MaxListPage = 1_000_000

// Search bounds: what the API documents, checked here too so that no caller
// of the store (the API, the benchmarks, fuzzing) can hand PostgreSQL a NaN
// point or an overflowing offset.
const (
	MaxSearchRadiusKM = 500
	MaxAge            = 130
)

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// checkPage checks HSDS pagination; 0 means "default" for both.
func checkPage(page, perPage int) error {
	if page < 0 || page > MaxListPage {
		return InvalidIn(SourceSelection, "page", "page must be between 1 and %d", MaxListPage)
	}
	if perPage < 0 || perPage > MaxPageSize {
		return InvalidIn(SourceSelection, "per_page", "per_page must be between 1 and %d", MaxPageSize)
	}
	return nil
}

// check rejects filters no search can run with, naming the query parameter.
func (f SearchFilter) check() error {
	if err := checkPage(f.Page, f.PerPage); err != nil {
		return err
	}
	if n := f.Near; n != nil {
		switch {
		case !finite(n.Lat) || n.Lat < -90 || n.Lat > 90:
			return InvalidIn(SourceSelection, "lat", "lat must be a number from -90 to 90")
		case !finite(n.Lon) || n.Lon < -180 || n.Lon > 180:
			return InvalidIn(SourceSelection, "lon", "lon must be a number from -180 to 180")
		case !finite(n.RadiusKM) || n.RadiusKM <= 0 || n.RadiusKM > MaxSearchRadiusKM:
			return InvalidIn(SourceSelection, "radius_km", "radius_km must be above 0 and at most %d", MaxSearchRadiusKM)
		}
	}
	if a := f.Age; a != nil && (!finite(*a) || *a < 0 || *a > MaxAge) {
		return InvalidIn(SourceSelection, "age", "age must be a number from 0 to %d", MaxAge)
	}
	for _, t := range []struct{ field, v string }{{"search", f.Search}, {"language", f.Language}} {
		if !valid.Text(t.v) {
			return InvalidIn(SourceSelection, t.field, "contains U+0000 or invalid UTF-8")
		}
	}
	for _, st := range f.Statuses {
		if !valid.Text(st) || strings.TrimSpace(st) == "" {
			return InvalidIn(SourceSelection, "status", "status must be one of the service statuses")
		}
	}
	for _, t := range []struct {
		field string
		zero  bool
		err   error
	}{{"at", f.At.IsZero(), valid.Year(f.At)}, {"modified_after", f.ModifiedAfter.IsZero(), valid.Year(f.ModifiedAfter)}} {
		if !t.zero && t.err != nil {
			return InvalidIn(SourceSelection, t.field, "%s", t.err.Error())
		}
	}
	return nil
}

// check rejects unusable taxonomy term filters.
func (f TermFilter) check() error {
	if err := checkPage(f.Page, f.PerPage); err != nil {
		return err
	}
	if !valid.Text(f.Search) {
		return InvalidIn(SourceSelection, "search", "contains U+0000 or invalid UTF-8")
	}
	return nil
}
