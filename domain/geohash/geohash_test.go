package geohash

import (
	"math"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// Known geohashes from the reference implementation (geohash.org and the
// Wikipedia article's worked example).
func TestGeohashKnownVectors(t *testing.T) {
	for _, c := range []struct {
		lat, lon float64
		want     string
	}{
		{42.6, -5.6, "ezs42"},                    // Wikipedia's example
		{57.64911, 10.40744, "u4pruydqqvj"},      // geohash.org's example
		{-25.382708, -49.265506, "6gkzwgjzn820"}, // Curitiba
		{0, 0, "s0000"},
		{-90, -180, "00000"},
		{90, 180, "zzzzz"},
	} {
		got, ok := Encode(c.lat, c.lon, len(c.want))
		if !ok || got != c.want {
			t.Errorf("Encode(%v, %v, %d) = %q %v, want %q", c.lat, c.lon, len(c.want), got, ok, c.want)
		}
	}
}

func TestGeohashRefusesPointsOffTheGlobe(t *testing.T) {
	for _, p := range [][2]float64{{math.NaN(), 0}, {0, math.NaN()}, {91, 0}, {-90.1, 0}, {0, 180.5}, {0, math.Inf(-1)}} {
		if h, ok := Encode(p[0], p[1], 5); ok {
			t.Errorf("Encode(%v, %v) = %q, want refused", p[0], p[1], h)
		}
	}
}

// Properties: a hash has the asked length in the alphabet the unmet_needs
// CHECK allows; the point lies in its cell; a longer hash starts with the
// shorter one (cells nest).
func TestGeohashProperties(t *testing.T) {
	check := regexp.MustCompile(`^[0-9b-hjkmnp-z]{5}$`)
	r := rand.New(rand.NewPCG(1, 2))
	for range 5000 {
		lat, lon := r.Float64()*180-90, r.Float64()*360-180
		h5, ok := Encode(lat, lon, 5)
		if !ok || !check.MatchString(h5) {
			t.Fatalf("Encode(%v, %v) = %q, not a five-character geohash", lat, lon, h5)
		}
		h9, _ := Encode(lat, lon, 9)
		if !strings.HasPrefix(h9, h5) {
			t.Fatalf("Encode(%v, %v): %q does not start with %q", lat, lon, h9, h5)
		}
		latLo, latHi, lonLo, lonHi, ok := Cell(h5)
		if !ok || lat < latLo || lat > latHi || lon < lonLo || lon > lonHi {
			t.Fatalf("(%v, %v) is not in the cell of %q: [%v, %v] x [%v, %v]", lat, lon, h5, latLo, latHi, lonLo, lonHi)
		}
		// A precision-5 cell is 360/2^13 degrees of longitude by 180/2^12 of latitude.
		if math.Abs((lonHi-lonLo)-360.0/8192) > 1e-9 || math.Abs((latHi-latLo)-180.0/4096) > 1e-9 {
			t.Fatalf("cell of %q has the wrong size", h5)
		}
	}
}

// Centre lies in its cell and encodes back to it; Valid takes only the
// alphabet, in lower case, within the lengths asked.
func TestCentreAndValid(t *testing.T) {
	if g, _ := Encode(47.55, -122.28, 5); g != "c23n9" || !Valid(g, 5, 5) { // Rainier Valley
		t.Fatalf("geohash %q", g)
	}
	for _, p := range [][2]float64{{47.55, -122.28}, {-33.9, 151.2}, {0, 0}, {89.9, 179.9}} {
		g, _ := Encode(p[0], p[1], 5)
		lat, lon := Centre(g)
		if back, _ := Encode(lat, lon, 5); back != g || math.Abs(lat-p[0]) > 0.03 || math.Abs(lon-p[1]) > 0.03 {
			t.Errorf("%v: %s centre %v,%v", p, g, lat, lon)
		}
	}
	for _, bad := range []string{"c2", "c22zpa", "C22Z", "c22i", "c22 z"} {
		if Valid(bad, 3, 5) {
			t.Errorf("%q valid", bad)
		}
	}
	if _, _, _, _, ok := Cell("c2i"); ok {
		t.Error(`Cell("c2i") decoded`)
	}
}
