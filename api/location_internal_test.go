package api

import (
	"testing"

	"github.com/waypoint-portal/waypoint/domain"
)

// Domain errors name their input in domain words (a source and a path); the
// problem's errors[].location is spelled here, once, as clients see it.
func TestLocationOfDomainErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		src   domain.Source
		field string
		want  string
	}{
		{domain.SourceNone, "", ""},
		{domain.SourceContent, "", "body"},
		{domain.SourceContent, "title", "body.title"},
		{domain.SourceContent, "steps[2].title", "body.steps[2].title"},
		{domain.SourceContent, "body", "body.body"},
		{domain.SourceTarget, "stepId", "path.stepId"},
		{domain.SourceSelection, "cursor", "query.cursor"},
		{domain.SourcePrecondition, "", "header.If-Match"},
		{domain.SourceRetryKey, "", "header.Idempotency-Key"},
	} {
		if got := location(&domain.Error{Source: c.src, Field: c.field}); got != c.want {
			t.Errorf("location(%d, %q) = %q; want %q", c.src, c.field, got, c.want)
		}
	}
}
