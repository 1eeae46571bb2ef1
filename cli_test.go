package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/waypoint-portal/waypoint/api"
)

type result struct {
	code           int
	stdout, stderr string
}

func runCLI(e lookupEnv, args ...string) result {
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, e, &out, &errOut)
	return result{code, out.String(), errOut.String()}
}

// oneLine reports whether s is exactly one line.
func oneLine(s string) bool { return strings.Count(s, "\n") == 1 && strings.HasSuffix(s, "\n") }

// unreachableEnv points at a database nobody listens on: a command that
// tried to use it would fail with exit 1, so exit 0 or 2 proves it did not.
var unreachableEnv = env(map[string]string{"DATABASE_URL": unreachableURL})

const unreachableURL = "postgres://postgres@127.0.0.1:1/waypoint_unreachable?sslmode=disable"

// Every command and group answers --help and -h with its usage on stdout and
// exit 0, and does nothing else (hsds import --help imports nothing, openapi
// --help prints no spec).
func TestHelpForEveryCommand(t *testing.T) {
	invocations := [][]string{{"help"}, {"-h"}, {"--help"}}
	words := map[string]bool{}
	for _, c := range commands() {
		name := strings.Fields(c.name)
		for _, h := range []string{"--help", "-h"} {
			invocations = append(invocations, append(append([]string{}, name...), h))
		}
		invocations = append(invocations, append([]string{"help"}, name...))
		if len(name) == 2 && !words[name[0]] {
			words[name[0]] = true
			invocations = append(invocations, []string{name[0], "--help"}, []string{name[0], "-h"}, []string{"help", name[0]})
		}
	}
	// Flags stop at the first argument: help after it is still help.
	invocations = append(invocations, []string{"hsds", "import", "some-dir", "--help"}, []string{"hsds", "export", "out", "-h"},
		[]string{"dev", "token", "--subject", "alice", "extra", "--help"})
	for _, args := range invocations {
		r := runCLI(unreachableEnv, args...)
		if r.code != exitOK || r.stderr != "" || !strings.HasPrefix(r.stdout, "usage: waypoint") {
			t.Errorf("waypoint %s: exit %d, stdout %q, stderr %q; want exit 0 and usage on stdout",
				strings.Join(args, " "), r.code, firstLine(r.stdout), r.stderr)
		}
		if strings.Contains(r.stdout, "openapi: 3") {
			t.Errorf("waypoint %s printed the OpenAPI document", strings.Join(args, " "))
		}
	}
	r := runCLI(unreachableEnv, "help")
	for _, c := range commands() {
		if !strings.Contains(r.stdout, "  "+c.name) {
			t.Errorf("waypoint help does not list %q", c.name)
		}
	}
	if !strings.Contains(r.stdout, "Exit status") {
		t.Error("waypoint help does not explain exit statuses")
	}
	if r := runCLI(unreachableEnv, "demo", "seed", "--help"); !strings.Contains(r.stdout, "-services") {
		t.Errorf("demo seed --help lacks its flags: %s", r.stdout)
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// Usage errors exit 2 with one line on stderr, before touching anything.
func TestUsageErrorsExit2WithOneLine(t *testing.T) {
	cases := [][]string{
		{}, {"frobnicate"}, {"help", "frobnicate"}, {"--frob"},
		{"migrate"}, {"migrate", "down"}, {"dev"}, {"dev", "mint"}, {"hsds"}, {"demo", "grow"},
		{"serve", "--frob"}, {"serve", "extra"}, {"serve", "--dev=maybe"},
		{"migrate", "up", "--frob"}, {"migrate", "status", "now"},
		{"dev", "token"}, {"dev", "token", "--frob"}, {"dev", "token", "--subject", "a", "--role", "wizard"},
		{"dev", "token", "--subject", "stranger"}, {"dev", "token", "--subject", "alice", "--role", "client", "--no-role"},
		{"dev", "token", "--subject", "alice", "--server", "127.0.0.1:8080"},
		{"dev", "token", "--subject", "a", "--ttl", "soon"}, {"dev", "token", "--subject", "a", "--ttl", "-1h"},
		{"openapi", "--json"}, {"openapi", "extra"}, {"version", "--short"},
		{"hsds", "import"}, {"hsds", "import", "a", "b"}, {"hsds", "export", "--frob", "dir"}, {"hsds", "export"},
		{"demo", "seed", "--services", "0"}, {"demo", "seed", "--services", "many"}, {"demo", "seed", "extra"},
	}
	for _, args := range cases {
		r := runCLI(unreachableEnv, args...)
		if r.code != exitConfig || !oneLine(r.stderr) || r.stdout != "" {
			t.Errorf("waypoint %s: exit %d, stdout %q, stderr %q; want exit 2 and one line on stderr",
				strings.Join(args, " "), r.code, r.stdout, r.stderr)
		}
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		r := runCLI(unreachableEnv, args...)
		if r.code != exitOK || !oneLine(r.stdout) || !strings.HasPrefix(r.stdout, "waypoint ") ||
			!strings.Contains(r.stdout, "API "+api.Version) || r.stderr != "" {
			t.Errorf("waypoint %s: exit %d, stdout %q, stderr %q", strings.Join(args, " "), r.code, r.stdout, r.stderr)
		}
	}
}

// A command that runs and fails exits 1, and a connection error names the
// configured database (not the maintenance database used to create it).
func TestRuntimeErrorsExit1NamingTheDatabase(t *testing.T) {
	for _, args := range [][]string{{"migrate", "up"}, {"migrate", "status"}, {"hsds", "export", t.TempDir()}, {"demo", "seed"}} {
		r := runCLI(unreachableEnv, args...)
		if r.code != exitRuntime || !strings.Contains(r.stderr, `"waypoint_unreachable"`) || strings.Contains(r.stderr, "database=postgres") {
			t.Errorf("waypoint %s: exit %d, stderr %q; want exit 1 naming waypoint_unreachable", strings.Join(args, " "), r.code, r.stderr)
		}
	}
}

// freshDatabase names a database that does not exist yet (the commands
// create it) and drops it when the test ends.
func freshDatabase(t *testing.T) string {
	t.Helper()
	name := "waypoint_cli_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:12]
	t.Cleanup(func() {
		ctx := context.Background()
		if conn, err := pgx.Connect(ctx, "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"); err == nil {
			_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			conn.Close(ctx)
		}
	})
	return "postgres://postgres@127.0.0.1:5432/" + name + "?sslmode=disable"
}

// The shipped image sets WAYPOINT_ADDR=0.0.0.0:8080; with WAYPOINT_DEV=true
// (and even broken server-only settings) the database-only commands still
// run: they read the database configuration and nothing else.
func TestDatabaseOnlyCommandsRunInTheShippedImage(t *testing.T) {
	shipped := map[string]string{"DATABASE_URL": freshDatabase(t), "WAYPOINT_ADDR": "0.0.0.0:8080", "WAYPOINT_DEV": "true"}
	image := map[string]string{"WAYPOINT_METRICS_ADDR": "nonsense", "WAYPOINT_LOG_LEVEL": "loud", "OIDC_ISSUER_URL": "ftp://x"}
	for k, v := range shipped {
		image[k] = v
	}
	dir := t.TempDir()
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"migrate", "status"}, "pending"},
		{[]string{"migrate", "up"}, "applied"},
		{[]string{"migrate", "status"}, "applied"},
		{[]string{"demo", "seed", "--services", "25"}, "seeded the directory: 25 new service(s)"},
		{[]string{"hsds", "export", dir}, "exported to " + dir},
		{[]string{"hsds", "import", dir}, "imported"},
	}
	for _, s := range steps {
		r := runCLI(env(image), s.args...)
		if r.code != exitOK || !strings.Contains(r.stdout, s.want) {
			t.Fatalf("waypoint %s: exit %d, stdout %q, stderr %q", strings.Join(s.args, " "), r.code, r.stdout, r.stderr)
		}
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "*")); len(files) == 0 {
		t.Fatal("hsds export wrote nothing")
	}
	// The server itself still refuses dev mode on a public address.
	if r := runCLI(env(shipped), "serve"); r.code != exitConfig || !oneLine(r.stderr) || !strings.Contains(r.stderr, "not a loopback") {
		t.Fatalf("serve in the image with WAYPOINT_DEV: exit %d, stderr %q", r.code, r.stderr)
	}
}

// A bulk load leaves the directory ready for its first searches: demo seed
// and hsds import end with VACUUM (ANALYZE) of the directory tables.
func TestBulkLoadsRefreshDirectoryStatistics(t *testing.T) {
	url := freshDatabase(t)
	e := env(map[string]string{"DATABASE_URL": url})
	ctx := context.Background()
	refreshed := func(step string) {
		t.Helper()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var missing []string
		if err := conn.QueryRow(ctx, `SELECT coalesce(array_agg(relname ORDER BY relname), '{}') FROM pg_stat_user_tables
			WHERE relname IN ('services', 'service_search', 'service_summaries', 'locations')
			AND (last_vacuum IS NULL OR last_analyze IS NULL)`).Scan(&missing); err != nil {
			t.Fatal(err)
		}
		if len(missing) > 0 {
			t.Fatalf("after %s, not vacuumed and analysed: %v", step, missing)
		}
		if _, err := conn.Exec(ctx, `SELECT pg_stat_reset()`); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	for _, s := range [][]string{{"migrate", "up"}, {"demo", "seed", "--services", "25"}} {
		if r := runCLI(e, s...); r.code != exitOK {
			t.Fatalf("waypoint %s: exit %d, stderr %q", strings.Join(s, " "), r.code, r.stderr)
		}
	}
	refreshed("demo seed")
	if r := runCLI(e, "hsds", "export", dir); r.code != exitOK {
		t.Fatalf("hsds export: exit %d, stderr %q", r.code, r.stderr)
	}
	r := runCLI(e, "hsds", "import", dir)
	if r.code != exitOK || !strings.Contains(r.stdout, "refreshed the directory's statistics") {
		t.Fatalf("hsds import: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	refreshed("hsds import")
}
