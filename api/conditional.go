package api

import (
	"strconv"
	"strings"

	"github.com/waypoint-portal/waypoint/domain"
)

// ifMatchVersion reads a strong ETag from If-Match. DESIGN.md asks for 428 when
// it is missing and 412 when it cannot match; Huma's conditional package does
// weak comparison and never answers 428, hence this helper.
func ifMatchVersion(h string) int64 {
	h = strings.TrimSpace(h)
	if h == "" {
		return domain.VersionMissing
	}
	// Anything that is not one of our strong ETags can never match; version 0
	// never exists, so the conditional update answers 412 with the current ETag.
	if !strings.HasPrefix(h, `"`) || !strings.HasSuffix(h, `"`) || len(h) < 3 {
		return 0
	}
	v, err := strconv.ParseInt(h[1:len(h)-1], 10, 64)
	if err != nil || v < 1 {
		return 0
	}
	return v
}
