package domain

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// memberSQL is careTeamMember rendered for client column col and a person
// bound as $n.
func memberSQL(col, n string) string {
	return "EXISTS (SELECT 1 FROM care_team_members ctm WHERE ctm.client_id = " + col + " AND ctm.person_id = " + n + ")"
}

// grantSQL is supporterGrant rendered for client column col, a person bound
// as $p and a share bound as $s.
func grantSQL(col, p, s string) string {
	return "EXISTS (SELECT 1 FROM supporters sg WHERE sg.client_id = " + col + " AND sg.person_id = " + p +
		" AND " + s + " = ANY (sg.shares) AND (sg.access_expires_at IS NULL OR sg.access_expires_at > now()))"
}

// ClientScope for every kind of actor: what it lets through, written out.
func TestClientScopeRendering(t *testing.T) {
	db := pgDB(t)
	person, client := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	actor := func(roles ...string) Actor {
		a := Actor{PersonID: person, Roles: roles}
		if slices.Contains(roles, RoleClient) {
			a.ClientID = client
		}
		return a
	}
	cases := []struct {
		name     string
		a        Actor
		reach    Reach
		sql      string
		wantVars []any
	}{
		{"client, care", actor(RoleClient), ReachCare, "(g.client_id = $1)", []any{client}},
		{"client, record", actor(RoleClient), ReachRecord, "(g.client_id = $1)", []any{client}},
		{"worker, care", actor(RoleWorker), ReachCare, "(" + memberSQL("g.client_id", "$1") + ")", []any{person}},
		{"worker, record", actor(RoleWorker), ReachRecord, "(" + memberSQL("g.client_id", "$1") + ")", []any{person}},
		{"client and worker", actor(RoleClient, RoleWorker), ReachCare,
			"(g.client_id = $1 OR " + memberSQL("g.client_id", "$2") + ")", []any{client, person}},
		{"admin, record", actor(RoleAdmin), ReachRecord, "TRUE", nil},
		{"admin, care: admins do not read plans", actor(RoleAdmin), ReachCare, "FALSE", nil},
		{"admin and worker, care", actor(RoleAdmin, RoleWorker), ReachCare, "(" + memberSQL("g.client_id", "$1") + ")", []any{person}},
		{"directory editor", actor(RoleDirectoryEditor), ReachRecord, "FALSE", nil},
		{"no role", actor(), ReachRecord, "FALSE", nil},
		{"client role without a client record", Actor{PersonID: person, Roles: []string{RoleClient}}, ReachCare, "FALSE", nil},
		// The client's privacy settings are the client's alone.
		{"client, owner", actor(RoleClient), ReachOwner, "(g.client_id = $1)", []any{client}},
		{"client and worker, owner (the export: not the worker's)", actor(RoleClient, RoleWorker), ReachOwner, "(g.client_id = $1)", []any{client}},
		{"worker, owner", actor(RoleWorker), ReachOwner, "FALSE", nil},
		{"admin, owner", actor(RoleAdmin), ReachOwner, "FALSE", nil},
		// Shared reaches: the care reach, plus a supporter's grant of that share, whatever the roles.
		{"client, goals shared", actor(RoleClient), ReachGoalsShared,
			"(g.client_id = $1 OR " + grantSQL("g.client_id", "$2", "$3") + ")", []any{client, person, "goals"}},
		{"worker, referrals shared", actor(RoleWorker), ReachReferralsShared,
			"(" + memberSQL("g.client_id", "$1") + " OR " + grantSQL("g.client_id", "$2", "$3") + ")", []any{person, person, "referrals"}},
		{"no role, saved services shared", actor(), ReachSavedServicesShared,
			"(" + grantSQL("g.client_id", "$1", "$2") + ")", []any{person, "saved_services"}},
		{"admin, assessments shared", actor(RoleAdmin), ReachAssessmentsShared,
			"(" + grantSQL("g.client_id", "$1", "$2") + ")", []any{person, "assessments"}},
	}
	for _, c := range cases {
		sql, vars := render(t, db, "?", c.a.ClientScope("g.client_id", c.reach))
		if sql != c.sql || !slices.Equal(vars, c.wantVars) {
			t.Errorf("%s:\n got %s %v\nwant %s %v", c.name, sql, vars, c.sql, c.wantVars)
		}
	}
}

// A supporter grant row is seen by the client it belongs to and by the
// supporter themself, nobody else.
func TestSupporterScopeRendering(t *testing.T) {
	db := pgDB(t)
	person, client := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	sql, vars := render(t, db, "?", Actor{PersonID: person, ClientID: client, Roles: []string{RoleClient, RoleWorker}}.SupporterScope("s"))
	if sql != "((s.client_id = $1) OR s.person_id = $2)" || !slices.Equal(vars, []any{client, person}) {
		t.Errorf("got %s %v", sql, vars)
	}
	sql, vars = render(t, db, "?", Actor{PersonID: person, Roles: []string{RoleAdmin}}.SupporterScope("s"))
	if sql != "(FALSE OR s.person_id = $1)" || !slices.Equal(vars, []any{person}) {
		t.Errorf("admin: got %s %v", sql, vars)
	}
}

// What a grant lets a supporter read is decided in supporterGrant alone:
// no other Go code tests a grant's shares.
func TestSupporterGrantDefinedOnce(t *testing.T) {
	var found []string
	for _, dir := range []string{".", "../api"} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range entries {
			if !strings.HasSuffix(d.Name(), ".go") || strings.HasSuffix(d.Name(), "_test.go") {
				continue
			}
			b, err := os.ReadFile(filepath.Join(dir, d.Name()))
			if err != nil {
				t.Fatal(err)
			}
			for i := strings.Count(string(b), "ANY (sg.shares)") + strings.Count(string(b), ".shares @>"); i > 0; i-- {
				found = append(found, d.Name())
			}
		}
	}
	if !slices.Equal(found, []string{"supporters.go"}) {
		t.Errorf("grant shares tested in %v; only supporterGrant (supporters.go) may", found)
	}
}

// Conversations and events decide "still on the care team" with the same
// careTeamMember as ClientScope.
func TestMembershipUsedByConversationsAndEvents(t *testing.T) {
	db := pgDB(t)
	for name, got := range map[string]string{
		"conversation participant": renderedSQL(t, db, activeParticipant()),
		"event re-authorization":   renderedSQL(t, db, eventSelect()),
		"conversation list":        renderedSQL(t, db, conversationsOf(Actor{PersonID: uuid.Must(uuid.NewV7())})),
	} {
		if !strings.Contains(got, memberSQL("p.client_id", "p.person_id")) && !strings.Contains(got, memberSQL("e.client_id", "r")) {
			t.Errorf("%s does not use careTeamMember:\n%s", name, got)
		}
	}

	// The statements that address events, captured as they are sent.
	var sent []string
	capture := db.Session(&gorm.Session{DryRun: true, NewDB: true})
	if err := capture.Callback().Raw().After("gorm:raw").Register("test:capture", func(tx *gorm.DB) {
		sent = append(sent, tx.Statement.SQL.String())
	}); err != nil {
		t.Fatal(err)
	}
	client := uuid.Must(uuid.NewV7())
	if err := EmitEvent(capture, Event{Type: EventGoalUpdated, ClientID: client}); err != nil {
		t.Fatal(err)
	}
	if err := emitConversationEvent(capture, Event{Type: EventMessageCreated, ClientID: client}, uuid.Must(uuid.NewV7())); err != nil {
		t.Fatal(err)
	}
	// ($7: the events row takes id, client_id, group_id, type and subject_id before its recipients.)
	if len(sent) != 2 || !strings.Contains(sent[0], memberSQL("$7", "p.id")) || !strings.Contains(sent[1], memberSQL("p.client_id", "p.person_id")) {
		t.Errorf("event recipients do not use careTeamMember:\n%s", strings.Join(sent, "\n---\n"))
	}
}

func renderedSQL(t *testing.T, db *gorm.DB, expr any) string {
	t.Helper()
	sql, _ := render(t, db, "?", expr)
	return sql
}

// Care-team membership has one definition: outside care_team.go (which
// keeps the table: list, add, remove, and careTeamMember), no Go code in
// domain or api names the table, so nobody can write the test out again.
func TestCareTeamMembershipDefinedOnce(t *testing.T) {
	var found []string
	for _, dir := range []string{".", "../api"} {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if n := strings.Count(string(b), "care_team_members"); n > 0 {
				found = append(found, filepath.ToSlash(path))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(found, []string{"care_team.go"}) {
		t.Errorf("care_team_members named in %v; only care_team.go may (use careTeamMember)", found)
	}
	b, err := os.ReadFile("care_team.go")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "ctm.person_id"); n != 1 {
		t.Errorf("care_team.go tests membership %d times; careTeamMember is the one", n)
	}
}
