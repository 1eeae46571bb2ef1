package domain

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// The consent to see labelled records has one definition, consented in
// actor.go: outside it and consents.go (which keeps the table: list, grant,
// withdraw), no Go code in domain or api names the table (rules.go names its
// label column for the CHECK comparison).
func TestConsentCheckDefinedOnce(t *testing.T) {
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
			if strings.Contains(string(b), "sensitivity_consents") {
				found = append(found, filepath.ToSlash(path))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(found)
	if !slices.Equal(found, []string{"actor.go", "consents.go", "rules.go"}) {
		t.Errorf("sensitivity_consents named in %v; only actor.go (consented) and consents.go may", found)
	}
}

// Every place that decides who sees a goal or a conversation, or who hears
// about one, goes through that one consent check; goals also through their
// visibility, and both through ClientScope.
func TestVisibilityUsesTheOneConsentCheck(t *testing.T) {
	db := pgDB(t)
	worker := Actor{PersonID: uuid.Must(uuid.NewV7()), Roles: []string{RoleWorker}}
	for name, expr := range map[string]any{
		"GoalScope":              worker.GoalScope("g", ReachCare),
		"ConversationScope":      worker.ConversationScope("c"),
		"conversation recipient": activeParticipant(),
		"event re-authorization": eventSelect(),
		"conversation list":      conversationsOf(worker),
	} {
		// Only consented names the table (TestConsentCheckDefinedOnce).
		got := renderedSQL(t, db, expr)
		if !strings.Contains(got, "FROM sensitivity_consents sc") {
			t.Errorf("%s does not use consented:\n%s", name, got)
		}
		if name == "GoalScope" || name == "event re-authorization" {
			if !strings.Contains(got, "g.visibility::text = 'care_team'") {
				t.Errorf("%s does not check the goal's visibility:\n%s", name, got)
			}
		}
	}
	scope := renderedSQL(t, db, worker.GoalScope("g", ReachCare))
	if client := renderedSQL(t, db, worker.ClientScope("g.client_id", ReachCare)); !strings.HasPrefix(scope, "("+client+" AND ") {
		t.Errorf("GoalScope does not start from ClientScope:\n%s\n%s", scope, client)
	}
}
