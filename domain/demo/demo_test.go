package demo

import (
	"context"
	"math"
	"testing"
)

func TestSpreadKeepsDensityPastOneHundredThousand(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		n    int
		want float64
	}{
		{1, 1}, {2000, 1}, {100000, 1}, {400000, 2}, {1000000, math.Sqrt(10)},
	} {
		if got := Spread(tc.n); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("Spread(%d) = %g, want %g", tc.n, got, tc.want)
		}
	}
}

func TestSeedDirectorySpreadRefusesBadArguments(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		n      int
		spread float64
	}{
		{0, 1}, {-5, 1}, {10, 0.5}, {10, math.NaN()}, {10, math.Inf(1)}, {10, 101},
	} {
		// refused before the database is touched, so no database is given
		if _, err := SeedDirectorySpread(context.Background(), nil, tc.n, tc.spread); err == nil {
			t.Errorf("SeedDirectorySpread(n=%d, spread=%g) accepted", tc.n, tc.spread)
		}
	}
}
