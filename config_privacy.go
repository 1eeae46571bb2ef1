package main

import (
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/waypoint-portal/waypoint/auth/devissuer"
	"github.com/waypoint-portal/waypoint/domain"
)

// minAccessLogRetention refuses a retention that would empty the log by
// mistake ("7m" is seven minutes to Go, not seven months).
const minAccessLogRetention = 24 * time.Hour

// loadPrivacy reads the access log's retention and the first-party apps.
// In dev mode, unless WAYPOINT_FIRST_PARTY_APPS says otherwise, the dev
// token's app is first-party, so the README walkthrough cannot lock alice
// out of her own data by revoking it.
func (c *serveConfig) loadPrivacy(env lookupEnv) error {
	const retentionVar = "WAYPOINT_ACCESS_LOG_RETENTION"
	c.AccessLogRetention = domain.DefaultAccessLogRetention
	if v := strings.TrimSpace(getenv(env, retentionVar)); v != "" {
		d, ok := parseRetention(v)
		if !ok || d < minAccessLogRetention {
			return configErrorf("%s must be at least one day, as a Go duration (61320h), days (30d) or years of 365 days (7y), got %q", retentionVar, v)
		}
		c.AccessLogRetention = d
	}
	v, set := env("WAYPOINT_FIRST_PARTY_APPS")
	if !set && c.Dev {
		c.FirstPartyApps = []string{devissuer.DefaultClientID}
		return nil
	}
	for _, app := range strings.Split(v, ",") {
		if app = strings.TrimSpace(app); app == "" {
			continue
		}
		if strings.IndexFunc(app, unicode.IsControl) >= 0 || len([]rune(app)) > domain.MaxAppID {
			return configErrorf("WAYPOINT_FIRST_PARTY_APPS must list app ids (azp/client_id) separated by commas, got %q", app)
		}
		c.FirstPartyApps = append(c.FirstPartyApps, app)
	}
	return nil
}

// parseRetention reads a Go duration, or a whole number of days (d) or of
// years of 365 days (y), up to 100 years.
func parseRetention(v string) (time.Duration, bool) {
	if d, err := time.ParseDuration(v); err == nil {
		return d, true
	}
	unit := map[byte]time.Duration{'d': 24 * time.Hour, 'y': 365 * 24 * time.Hour}[v[len(v)-1]]
	if unit == 0 {
		return 0, false
	}
	n, err := strconv.Atoi(v[:len(v)-1])
	if err != nil || n < 1 || n > int(100*365*24*time.Hour/unit) {
		return 0, false
	}
	return time.Duration(n) * unit, true
}
