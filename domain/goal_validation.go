package domain

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Validation helpers. The API validates the same rules from its schema; the
// domain checks again because it is the last line before the database.

// requiredTitle trims a goal's or step's title, which must not be empty.
func requiredTitle(field, s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", Invalid(field, "a title is required")
	}
	if utf8.RuneCountInString(s) > max {
		return "", Invalid(field, "a title has at most %d characters", max)
	}
	return s, nil
}

// optText trims s; empty means "not set" (NULL).
func optText(field, s string, max int) (*string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	if utf8.RuneCountInString(s) > max {
		return nil, Invalid(field, "at most %d characters", max)
	}
	return &s, nil
}

func optEnum(field, s string, allowed []string) (*string, error) {
	if s == "" {
		return nil, nil
	}
	if !slices.Contains(allowed, s) {
		return nil, Invalid(field, "must be one of %s", strings.Join(allowed, ", "))
	}
	return &s, nil
}

func goalStrengths(field string, in []string) (Strings, error) {
	out := cleanList(in)
	if len(out) > MaxGoalStrengths {
		return nil, Invalid(field, "at most %d strengths", MaxGoalStrengths)
	}
	for i, v := range out {
		if utf8.RuneCountInString(v) > MaxStrengthLen {
			return nil, Invalid(fmt.Sprintf("%s[%d]", field, i), "at most %d characters", MaxStrengthLen)
		}
	}
	return out, nil
}

func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func ptrTo[T any](v T) *T { return &v }
