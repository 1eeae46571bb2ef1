package api_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// serialTests are the top-level tests that do not call t.Parallel, each with
// the reason. Go runs every such test alone, before any parallel one starts,
// so they see a quiet process.
var serialTests = map[string]string{
	"TestStreamsLeaveNoGoroutines": "goleak looks at every goroutine of the process, other tests' too",
	"TestHubStopEndsStreams":       "goleak looks at every goroutine of the process, other tests' too",
	"TestStreamOutlivesServerTimeouts": "its server's 200 ms read and write timeouts bound ordinary requests too, " +
		"which a machine busy with parallel tests (and -race) can overrun",
}

// Every top-level test of the package starts with t.Parallel() (each has its
// own database, server and issuer), unless serialTests says why not: a new
// test that forgets it would quietly make the suite slower.
func TestEveryTestRunsInParallel(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*_test.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("list the test files: %v", err)
	}
	fset := token.NewFileSet()
	seen := map[string]bool{}
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatalf("parse %s: %v", name, err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || !strings.HasPrefix(fn.Name.Name, "Test") || !takesT(fn) {
				continue
			}
			test := fn.Name.Name
			seen[test] = true
			_, serial := serialTests[test]
			switch parallel := startsParallel(fn); {
			case serial && parallel:
				t.Errorf("%s: %s calls t.Parallel() but is listed in serialTests", fset.Position(fn.Pos()), test)
			case !serial && !parallel:
				t.Errorf("%s: %s must start with t.Parallel(), or be listed in serialTests with the reason it cannot",
					fset.Position(fn.Pos()), test)
			}
		}
	}
	for test, why := range serialTests {
		if !seen[test] {
			t.Errorf("serialTests lists %s, which no test file declares", test)
		}
		if strings.TrimSpace(why) == "" {
			t.Errorf("serialTests gives no reason for %s", test)
		}
	}
}

// takesT reports a func(x *testing.T).
func takesT(fn *ast.FuncDecl) bool {
	ps := fn.Type.Params.List
	if len(ps) != 1 || len(ps[0].Names) != 1 {
		return false
	}
	star, ok := ps[0].Type.(*ast.StarExpr)
	if !ok {
		return false
	}
	sel, ok := star.X.(*ast.SelectorExpr)
	return ok && sel.Sel.Name == "T" && isIdent(sel.X, "testing")
}

// startsParallel reports whether fn's first statement is <t>.Parallel().
func startsParallel(fn *ast.FuncDecl) bool {
	if fn.Body == nil || len(fn.Body.List) == 0 {
		return false
	}
	stmt, ok := fn.Body.List[0].(*ast.ExprStmt)
	if !ok {
		return false
	}
	call, ok := stmt.X.(*ast.CallExpr)
	if !ok || len(call.Args) != 0 {
		return false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	return ok && sel.Sel.Name == "Parallel" && isIdent(sel.X, fn.Type.Params.List[0].Names[0].Name)
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}
