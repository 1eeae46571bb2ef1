package api

import (
	"time"

	"github.com/waypoint-portal/waypoint/domain"
)

// dateRange parses an optional date range of query parameters (Huma has
// already checked their format; "" is unset, the zero time).
func dateRange(fromName, from, toName, to string) (f, t time.Time, err error) {
	for _, p := range []struct {
		name, v string
		out     *time.Time
	}{{fromName, from, &f}, {toName, to, &t}} {
		if p.v == "" {
			continue
		}
		if *p.out, err = time.Parse(time.DateOnly, p.v); err != nil {
			return f, t, domain.InvalidIn(domain.SourceSelection, p.name, "%s is a date such as 2026-09-07", p.name)
		}
	}
	return f, t, nil
}
