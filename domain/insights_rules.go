package domain

import "github.com/waypoint-portal/waypoint/domain/insights"

// The dimensions a request for unmet-need insights may group by. The ISO
// week is always one of them, named or not.
const (
	InsightWeek     = "week"
	InsightSource   = "source"
	InsightTaxonomy = "taxonomy"
	InsightArea     = "area"
	InsightLanguage = "language"
	InsightReason   = "reason"
)

// InsightDimensions lists group_by's values, in the order cells list them.
func InsightDimensions() []string {
	return []string{InsightWeek, InsightSource, InsightTaxonomy, InsightArea, InsightLanguage, InsightReason}
}

// insightDims maps a dimension's name onto the cube's (week is not one).
var insightDims = map[string]insights.Dim{
	InsightSource: insights.DimSource, InsightTaxonomy: insights.DimTaxonomy, InsightArea: insights.DimArea,
	InsightLanguage: insights.DimLanguage, InsightReason: insights.DimReason,
}

// Bounds of insight requests and answers.
const (
	// MaxInsightWeeks is the longest range asked for: a year of ISO weeks.
	MaxInsightWeeks = 53
	// DefaultInsightWeeks is the range when none is given: the last 12
	// complete ISO weeks.
	DefaultInsightWeeks = 12
	// MaxInsightCells bounds one answer; a request that would publish more
	// is 422, asking for fewer dimensions, weeks or a smaller area.
	MaxInsightCells = 10000
	// MaxGapServices is how many nearby services a directory gap lists.
	MaxGapServices = 3
	// MaxDirectoryGaps bounds the gaps one answer ranks.
	MaxDirectoryGaps = MaxPageSize
	// minAreaPrefix is the shortest area filter (a geohash prefix): about 156 km.
	minAreaPrefix = 3
)

func insightRules() []Rule {
	groupBy := enumRule("insights.group_by", InsightDimensions())
	groupBy.MaxItems = len(InsightDimensions())
	count := rangeRule("insights.count", insights.K, MaxSafeInteger)
	return []Rule{
		groupBy,
		count,
		rangeRule("insights.k", insights.K, insights.K),
		rangeRule("insights.suppressed_cells", 0, MaxSafeInteger),
		textRule("insights.area_prefix", minAreaPrefix, insights.AreaPrefixMax),
		textRule("unmet_need.area", insights.AreaPrecision, insights.AreaPrecision),
		textRule("unmet_need.language", 2, 3),
		textRule("unmet_need.reason", 1, 40),
		textRule("insights.week", len("2026-W01"), len("2026-W01")),
		listRule("insights.cells", MaxInsightCells),
		listRule("insights.gaps", MaxDirectoryGaps),
		listRule("insights.gap_services", MaxGapServices),
		rangeRule("insights.distance_km", 0, 20040),
		rangeRule("insights.weeks", 1, MaxInsightWeeks),
	}
}
