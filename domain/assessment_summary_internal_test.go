package domain

import (
	"testing"
	"time"

	"github.com/google/uuid"
)

// The summary math: latest, previous, first, both changes and trend, for
// every count of ratings that matters, with first older than the points.
func TestSummarize(t *testing.T) {
	day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	pts := func(ratings ...int) []RatingPoint {
		out := make([]RatingPoint, len(ratings))
		for i, r := range ratings {
			out[i] = RatingPoint{AssessmentID: uuid.New(), Rating: r, ConfirmedAt: day.AddDate(0, i, 0)}
		}
		return out
	}
	ip := func(v int) *int { return &v }
	rating := func(p *RatingPoint) *int {
		if p == nil {
			return nil
		}
		return &p.Rating
	}
	same := func(a, b *int) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
	older := RatingPoint{AssessmentID: uuid.New(), Rating: 1, ConfirmedAt: day.AddDate(-1, 0, 0)}
	for _, c := range []struct {
		name                                     string
		first                                    *RatingPoint
		points                                   []RatingPoint
		latest, previous, firstR, sinceF, sinceP *int
		trend                                    string
	}{
		{"never rated", nil, nil, nil, nil, nil, nil, nil, TrendInsufficientData},
		{"once", nil, pts(3), ip(3), nil, ip(3), nil, nil, TrendInsufficientData},
		{"up", nil, pts(2, 4), ip(4), ip(2), ip(2), ip(2), ip(2), TrendImproving},
		{"down", nil, pts(4, 2, 1), ip(1), ip(2), ip(4), ip(-3), ip(-1), TrendWorsening},
		{"level", nil, pts(1, 3, 3), ip(3), ip(3), ip(1), ip(2), ip(0), TrendSteady},
		{"first older than the points", &older, pts(5, 5, 4), ip(4), ip(5), ip(1), ip(3), ip(-1), TrendWorsening},
		{"back where it began", nil, pts(2, 5, 2), ip(2), ip(5), ip(2), ip(0), ip(-3), TrendWorsening},
	} {
		d := summarize("housing", c.first, c.points)
		if !same(rating(d.Latest), c.latest) || !same(rating(d.Previous), c.previous) || !same(rating(d.First), c.firstR) ||
			!same(d.ChangeSinceFirst, c.sinceF) || !same(d.ChangeSincePrevious, c.sinceP) || d.Trend != c.trend || d.Points == nil {
			t.Errorf("%s: latest %v previous %v first %v since first %v since previous %v trend %s", c.name,
				rating(d.Latest), rating(d.Previous), rating(d.First), d.ChangeSinceFirst, d.ChangeSincePrevious, d.Trend)
		}
	}
}

func TestNegotiateLanguage(t *testing.T) {
	for header, want := range map[string]string{
		"": "en", "es": "es", "ES-mx": "es", "en-GB,es;q=0.9": "en", "es;q=0.5, en;q=0.4": "es", "fr, de": "en",
		"es;q=0": "en", "es;q=abc": "en", "*": "en", "fr, es;q=0.2": "es", ";;,,": "en", "es;q=1.5": "en",
	} {
		if got := NegotiateLanguage(header); got != want {
			t.Errorf("Accept-Language %q: %s, want %s", header, got, want)
		}
	}
}
