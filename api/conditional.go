package api

import (
	"errors"
	"strconv"
	"strings"

	"github.com/waypoint-portal/waypoint/domain"
)

// ifMatch is an If-Match header read as RFC 9110 §13.1.1 says: absent, "*"
// (any current representation), or a comma-separated list of entity tags of
// which only strong tags can match (weak comparison is not allowed for
// If-Match). Our strong ETags are versions, "<n>". DESIGN.md also asks for 428
// when it is missing and 412 when it cannot match; Huma's conditional package
// does weak comparison and never answers 428, hence this helper.
type ifMatch struct {
	sent     bool
	any      bool
	versions []int64
}

func parseIfMatch(h string) ifMatch {
	h = strings.TrimSpace(h)
	switch h {
	case "":
		return ifMatch{}
	case "*":
		return ifMatch{sent: true, any: true}
	}
	// A malformed header matches nothing (412), whatever tags it also lists.
	m, malformed := ifMatch{sent: true}, ifMatch{sent: true}
	for rest := h; ; {
		rest = strings.TrimLeft(rest, " \t,")
		if rest == "" {
			return m
		}
		weak := strings.HasPrefix(rest, "W/")
		if weak {
			rest = rest[2:]
		}
		// entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE; etagc excludes DQUOTE,
		// so a comma inside the quotes belongs to the tag.
		if !strings.HasPrefix(rest, `"`) {
			return malformed
		}
		end := strings.IndexByte(rest[1:], '"')
		if end < 0 {
			return malformed
		}
		opaque := rest[1 : 1+end]
		rest = strings.TrimLeft(rest[2+end:], " \t")
		if rest != "" && rest[0] != ',' {
			return malformed
		}
		if v, err := strconv.ParseInt(opaque, 10, 64); err == nil && v >= 1 && !weak && opaque == strconv.FormatInt(v, 10) {
			m.versions = append(m.versions, v)
		}
	}
}

// first is the precondition to try first: none given without the header,
// any version for "*", the first listed version, or version 0 (no resource
// ever has it) when nothing listed can match, which answers 412 with the
// current ETag.
func (m ifMatch) first() domain.Precondition {
	switch {
	case !m.sent:
		return domain.NoVersion()
	case m.any:
		return domain.AnyVersion()
	case len(m.versions) > 0:
		return domain.ExpectVersion(m.versions[0])
	}
	return domain.ExpectVersion(0)
}

func (m ifMatch) matches(v int64) bool {
	if m.any {
		return true
	}
	for _, x := range m.versions {
		if x == v {
			return true
		}
	}
	return false
}

// ifMatchAttempts bounds the retries of conditionalWrite.
const ifMatchAttempts = 3

// conditionalWrite runs write under the If-Match header h. The domain checks
// one version inside its one conditional statement; when that answers 412
// and the current version is one the header accepts (listed, or "*"), the
// write runs again with it, so "a list matches if any tag matches" holds
// while every attempt stays a single conditional statement. A change landing
// in between is another 412.
func conditionalWrite[T any](h string, write func(domain.Precondition) (T, error)) (T, error) {
	return conditionalFrom(parseIfMatch(h), write)
}

// optionalConditionalWrite is conditionalWrite where If-Match is optional:
// absent means no precondition.
func optionalConditionalWrite[T any](h string, write func(domain.Precondition) (T, error)) (T, error) {
	m := parseIfMatch(h)
	if !m.sent {
		return write(domain.AnyVersion())
	}
	return conditionalFrom(m, write)
}

func conditionalFrom[T any](m ifMatch, write func(domain.Precondition) (T, error)) (T, error) {
	pre := m.first()
	for attempt := 1; ; attempt++ {
		out, err := write(pre)
		var de *domain.Error
		if err == nil || attempt == ifMatchAttempts || !errors.As(err, &de) ||
			de.Kind != domain.KindPreconditionFailed || pre == domain.ExpectVersion(de.Version) || !m.matches(de.Version) {
			return out, err
		}
		pre = domain.ExpectVersion(de.Version)
	}
}

// conditionalDo is conditionalWrite for writes without a result (DELETE).
func conditionalDo(h string, write func(domain.Precondition) error) error {
	_, err := conditionalWrite(h, func(v domain.Precondition) (struct{}, error) { return struct{}{}, write(v) })
	return err
}
