package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/waypoint-portal/waypoint/api/apitest"
)

// dbState fingerprints every application table (row count and an md5 of
// the rows in a stable order), so a test can prove that a refused request
// changed nothing. The access log is left out: it may record denied
// attempts; so are the counts of invitation codes tried, which exist to
// count refused redemptions. Migration bookkeeping is left out too.
type dbState struct {
	query string
}

// newDBState lists the tables once and builds the one statement that
// fingerprints them all.
func newDBState(t testing.TB, e *apitest.Env) *dbState {
	t.Helper()
	var tables []string
	err := e.DB.Raw(`SELECT table_name::text FROM information_schema.tables
		WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
		  AND table_name NOT IN ('access_log', 'supporter_redeem_attempts', 'goose_db_version')
		ORDER BY table_name`).Scan(&tables).Error
	if err != nil || len(tables) < 10 {
		t.Fatalf("list tables: %v (%d tables)", err, len(tables))
	}
	parts := make([]string, len(tables))
	for i, name := range tables {
		parts[i] = fmt.Sprintf(`SELECT '%[1]s' AS name, count(*) AS n,
			md5(coalesce(string_agg(x::text, E'\n' ORDER BY x::text), '')) AS h FROM %[1]q x`, name)
	}
	return &dbState{query: strings.Join(parts, " UNION ALL ") + " ORDER BY name"}
}

// snapshot returns one line per table: "name rows md5".
func (s *dbState) snapshot(t testing.TB, e *apitest.Env) []string {
	t.Helper()
	// Events get their positions after commit, on the server's own time: settle
	// them, so only what a request wrote shows as a change.
	e.Positioned()
	var rows []struct {
		Name string
		N    int64
		H    string
	}
	if err := e.DB.Raw(s.query).Scan(&rows).Error; err != nil {
		t.Fatalf("fingerprint tables: %v", err)
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = fmt.Sprintf("%s %d %s", r.Name, r.N, r.H)
	}
	return out
}

// changedTables names the tables whose fingerprint differs.
func changedTables(before, after []string) []string {
	var out []string
	for i := range before {
		if i >= len(after) || before[i] != after[i] {
			out = append(out, strings.Fields(before[i])[0])
		}
	}
	return out
}
