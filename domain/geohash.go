package domain

import "math"

// geohashAlphabet is the geohash base-32 alphabet (no a, i, l, o).
const geohashAlphabet = "0123456789bcdefghjkmnpqrstuvwxyz"

// UnmetNeedAreaPrecision is the geohash precision of an unmet need's area:
// five characters, a cell of about 4.9 km by 4.9 km at the equator.
const UnmetNeedAreaPrecision = 5

// geohash encodes a point as a geohash of precision characters, alternating
// longitude and latitude bisections (longitude first), five bits a
// character. ok is false for a point off the globe or not a number.
func geohash(lat, lon float64, precision int) (hash string, ok bool) {
	if math.IsNaN(lat) || math.IsNaN(lon) || lat < -90 || lat > 90 || lon < -180 || lon > 180 || precision < 1 {
		return "", false
	}
	latLo, latHi, lonLo, lonHi := -90.0, 90.0, -180.0, 180.0
	out := make([]byte, 0, precision)
	even, bit, ch := true, 0, 0
	for len(out) < precision {
		if even {
			mid := (lonLo + lonHi) / 2
			if lon >= mid {
				ch = ch<<1 | 1
				lonLo = mid
			} else {
				ch <<= 1
				lonHi = mid
			}
		} else {
			mid := (latLo + latHi) / 2
			if lat >= mid {
				ch = ch<<1 | 1
				latLo = mid
			} else {
				ch <<= 1
				latHi = mid
			}
		}
		even = !even
		if bit++; bit == 5 {
			out = append(out, geohashAlphabet[ch])
			bit, ch = 0, 0
		}
	}
	return string(out), true
}

// geohashCell decodes a geohash into the bounds of its cell (for tests and
// the property that a point lies in the cell of its own hash).
func geohashCell(hash string) (latLo, latHi, lonLo, lonHi float64, ok bool) {
	latLo, latHi, lonLo, lonHi = -90, 90, -180, 180
	even := true
	for i := 0; i < len(hash); i++ {
		v := -1
		for j := 0; j < len(geohashAlphabet); j++ {
			if geohashAlphabet[j] == hash[i] {
				v = j
				break
			}
		}
		if v < 0 {
			return 0, 0, 0, 0, false
		}
		for b := 4; b >= 0; b-- {
			one := v>>b&1 == 1
			if even {
				mid := (lonLo + lonHi) / 2
				if one {
					lonLo = mid
				} else {
					lonHi = mid
				}
			} else {
				mid := (latLo + latHi) / 2
				if one {
					latLo = mid
				} else {
					latHi = mid
				}
			}
			even = !even
		}
	}
	return latLo, latHi, lonLo, lonHi, true
}
