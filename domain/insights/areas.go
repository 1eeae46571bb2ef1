package insights

// AreaPrecision is the geohash precision of the recorded and published
// areas: a geohash-5 cell is about 4.9 km × 4.9 km, coarse enough to name no
// one's street.
const AreaPrecision = 5

// AreaPrefixMax is the longest area filter: one published cell.
const AreaPrefixMax = AreaPrecision
