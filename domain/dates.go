package domain

import "github.com/waypoint-portal/waypoint/domain/valid"

// optDate checks an optional calendar date (YYYY-MM-DD, "" for none) with
// the rule every layer shares (valid.Date), naming field when it fails.
func optDate(field, s string) (*string, error) {
	if s == "" {
		return nil, nil
	}
	if _, err := valid.Date(s); err != nil {
		return nil, Invalid(field, "%s", err.Error())
	}
	return &s, nil
}
