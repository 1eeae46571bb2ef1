// Package geohash encodes points as geohashes and decodes geohash cells:
// the coarse, fixed areas in which unmet needs are recorded and published.
package geohash

import (
	"math"
	"strings"
)

// alphabet is the geohash base-32 alphabet (no a, i, l, o).
const alphabet = "0123456789bcdefghjkmnpqrstuvwxyz"

// Encode encodes a point as a geohash of precision characters, alternating
// longitude and latitude bisections (longitude first), five bits a
// character. ok is false for a point off the globe or not a number.
func Encode(lat, lon float64, precision int) (hash string, ok bool) {
	if math.IsNaN(lat) || math.IsNaN(lon) || lat < -90 || lat > 90 || lon < -180 || lon > 180 || precision < 1 {
		return "", false
	}
	latR, lonR := [2]float64{-90, 90}, [2]float64{-180, 180}
	out := make([]byte, 0, precision)
	even, bit, ch := true, 0, 0
	for len(out) < precision {
		r, v := &latR, lat
		if even {
			r, v = &lonR, lon
		}
		mid := (r[0] + r[1]) / 2
		ch <<= 1
		if v >= mid {
			ch |= 1
			r[0] = mid
		} else {
			r[1] = mid
		}
		even = !even
		if bit++; bit == 5 {
			out = append(out, alphabet[ch])
			bit, ch = 0, 0
		}
	}
	return string(out), true
}

// Valid reports whether h is made only of geohash characters (lower case),
// with a length in [minLen, maxLen].
func Valid(h string, minLen, maxLen int) bool {
	if len(h) < minLen || len(h) > maxLen {
		return false
	}
	for i := 0; i < len(h); i++ {
		if strings.IndexByte(alphabet, h[i]) < 0 {
			return false
		}
	}
	return true
}

// Cell decodes h into the bounds of its cell; ok is false when h holds a
// character outside the alphabet.
func Cell(h string) (latLo, latHi, lonLo, lonHi float64, ok bool) {
	latR, lonR := [2]float64{-90, 90}, [2]float64{-180, 180}
	even := true
	for i := 0; i < len(h); i++ {
		v := strings.IndexByte(alphabet, h[i])
		if v < 0 {
			return 0, 0, 0, 0, false
		}
		for bit := 4; bit >= 0; bit-- {
			r := &latR
			if even {
				r = &lonR
			}
			mid := (r[0] + r[1]) / 2
			if v>>bit&1 == 1 {
				r[0] = mid
			} else {
				r[1] = mid
			}
			even = !even
		}
	}
	return latR[0], latR[1], lonR[0], lonR[1], true
}

// Centre is the centre of cell h (the globe's centre point for an invalid h).
func Centre(h string) (lat, lon float64) {
	latLo, latHi, lonLo, lonHi, _ := Cell(h)
	return (latLo + latHi) / 2, (lonLo + lonHi) / 2
}
