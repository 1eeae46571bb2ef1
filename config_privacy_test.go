package main

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPrivacyConfig(t *testing.T) {
	dev := func(m map[string]string) map[string]string { m["WAYPOINT_DEV"] = "true"; return m }
	for _, v := range []string{"7m", "23h", "0", "-1h", "seven years", "7", "y", "0y", "101y", "36501d", "99999999999999999999d", "7 y", "7Y"} {
		var stderr bytes.Buffer
		code := run(context.Background(), []string{"serve"}, env(dev(map[string]string{"WAYPOINT_ACCESS_LOG_RETENTION": v})), &bytes.Buffer{}, &stderr)
		if code != exitConfig || !strings.Contains(stderr.String(), "WAYPOINT_ACCESS_LOG_RETENTION") || strings.Count(strings.TrimSpace(stderr.String()), "\n") != 0 {
			t.Errorf("retention %q: exit %d, %q; want exit 2 naming the variable", v, code, stderr.String())
		}
	}
	for v, want := range map[string]time.Duration{"": 61320 * time.Hour, "7y": 61320 * time.Hour, "61320h": 61320 * time.Hour,
		"30d": 720 * time.Hour, "24h": 24 * time.Hour, "100y": 876000 * time.Hour} {
		c, err := loadServeConfig(env(dev(map[string]string{"WAYPOINT_ACCESS_LOG_RETENTION": v})), false)
		if err != nil || c.AccessLogRetention != want {
			t.Errorf("retention %q: %s (%v), want %s", v, c.AccessLogRetention, err, want)
		}
	}
	// First-party apps: the dev token's app in dev mode unless set; none otherwise.
	for _, tc := range []struct {
		env  map[string]string
		want []string
	}{
		{dev(map[string]string{}), []string{"waypoint-dev-cli"}},
		{dev(map[string]string{"WAYPOINT_FIRST_PARTY_APPS": ""}), nil},
		{dev(map[string]string{"WAYPOINT_FIRST_PARTY_APPS": " web , ,ios"}), []string{"web", "ios"}},
		{map[string]string{"OIDC_ISSUER_URL": "https://id.example.org", "OIDC_AUDIENCE": "waypoint"}, nil},
		{map[string]string{"OIDC_ISSUER_URL": "https://id.example.org", "OIDC_AUDIENCE": "waypoint", "WAYPOINT_FIRST_PARTY_APPS": "web"}, []string{"web"}},
	} {
		c, err := loadServeConfig(env(tc.env), false)
		if err != nil || !slices.Equal(c.FirstPartyApps, tc.want) {
			t.Errorf("%v: first-party %q (%v), want %q", tc.env, c.FirstPartyApps, err, tc.want)
		}
	}
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"serve"}, env(dev(map[string]string{"WAYPOINT_FIRST_PARTY_APPS": "web,bad\x01app"})),
		&bytes.Buffer{}, &stderr); code != exitConfig || !strings.Contains(stderr.String(), "WAYPOINT_FIRST_PARTY_APPS") {
		t.Errorf("a control character in an app id: exit %d, %q", code, stderr.String())
	}
}
