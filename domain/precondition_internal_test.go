package domain

import (
	"errors"
	"testing"
)

// The zero Precondition fails closed (428), "any" matches every version, and
// an expected version matches only itself; the SQL condition agrees.
func TestPrecondition(t *testing.T) {
	var zero Precondition
	if zero != NoVersion() || zero.Matches(1) || !IsKind(zero.check(1), KindPreconditionRequired) {
		t.Fatalf("zero value is not NoVersion or does not answer 428: %v", zero.check(1))
	}
	if !AnyVersion().Matches(7) || AnyVersion().check(7) != nil {
		t.Fatal("AnyVersion refused a version")
	}
	if !ExpectVersion(3).Matches(3) || ExpectVersion(3).Matches(4) {
		t.Fatal("ExpectVersion(3) matched wrongly")
	}
	var de *Error
	if err := ExpectVersion(3).check(4); !errors.As(err, &de) || de.Kind != KindPreconditionFailed || de.Version != 4 {
		t.Fatalf("stale check = %v; want 412 carrying version 4", err)
	}
	for p, want := range map[Precondition]string{NoVersion(): "FALSE", AnyVersion(): "TRUE", ExpectVersion(5): "v = ?"} {
		if got := p.sql("v"); got.SQL != want {
			t.Errorf("%v.sql = %q; want %q", p, got.SQL, want)
		}
	}
}
