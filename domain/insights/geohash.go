package insights

import "strings"

// geohashAlphabet is the geohash base-32 alphabet (no a, i, l, o).
const geohashAlphabet = "0123456789bcdefghjkmnpqrstuvwxyz"

// AreaPrecision is the precision of the published areas: a geohash-5 cell
// is about 4.9 km × 4.9 km, coarse enough to name no one's street.
const AreaPrecision = 5

// AreaPrefixMax is the longest area filter: one published cell.
const AreaPrefixMax = AreaPrecision

// Geohash encodes a point as a geohash of precision characters.
func Geohash(lat, lon float64, precision int) string {
	latR, lonR := [2]float64{-90, 90}, [2]float64{-180, 180}
	var b strings.Builder
	even, bit, ch := true, 0, 0
	for b.Len() < precision {
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
			b.WriteByte(geohashAlphabet[ch])
			bit, ch = 0, 0
		}
	}
	return b.String()
}

// ValidGeohash reports whether h is made only of geohash characters
// (lower case), with a length in [minLen, maxLen].
func ValidGeohash(h string, minLen, maxLen int) bool {
	if len(h) < minLen || len(h) > maxLen {
		return false
	}
	for i := 0; i < len(h); i++ {
		if strings.IndexByte(geohashAlphabet, h[i]) < 0 {
			return false
		}
	}
	return true
}

// GeohashCentre is the centre of cell h (which must be valid).
func GeohashCentre(h string) (lat, lon float64) {
	latR, lonR := [2]float64{-90, 90}, [2]float64{-180, 180}
	even := true
	for i := 0; i < len(h); i++ {
		v := strings.IndexByte(geohashAlphabet, h[i])
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
	return (latR[0] + latR[1]) / 2, (lonR[0] + lonR[1]) / 2
}
