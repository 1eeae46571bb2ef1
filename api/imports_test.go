package api_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// HTTP stays out of domain and the database stays out of api: api (tests
// included) never imports the PostgreSQL driver; domain translates its
// errors (domain.AsError).
func TestAPIDoesNotImportTheDatabaseDriver(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no api sources found: %v", err)
	}
	more, _ := filepath.Glob("*/*.go")
	for _, f := range append(files, more...) {
		parsed, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range parsed.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(path, "github.com/jackc/") {
				t.Errorf("%s imports %s; translate database errors in domain instead", f, path)
			}
		}
	}
}
