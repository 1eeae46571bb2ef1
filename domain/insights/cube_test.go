package insights

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// randomWeek is a week of rows: people with one to three needs each, drawn
// from small domains so that cells of every size occur.
func randomWeek(r *rand.Rand) []Row {
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	var rows []Row
	for p := range r.IntN(120) {
		mark := fmt.Sprintf("m%03d", p)
		for range 1 + r.IntN(3) {
			src := pick("search", "search", "declined_referral", "barrier")
			reason := ""
			if src != "search" {
				reason = pick("capacity", "cost", "language")
			}
			rows = append(rows, Row{Mark: mark, Values: Values{src, pick("legal", "food", "housing", ""),
				pick("c23nb", "c23nc", "c22yz", ""), pick("es", "en", "so", ""), reason}})
		}
	}
	return rows
}

func TestSuppressionProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(16, 3))
	published, suppressed := 0, 0
	for i := range 400 {
		rows := randomWeek(r)
		w := BuildWeek(rows)
		for _, c := range w.order {
			if c.Suppressed {
				suppressed++
				continue
			}
			published++
			if c.Count < K {
				t.Fatalf("week %d: published cell %q counts %d < %d", i, c.key(), c.Count, K)
			}
		}
		w.Lines(func(p Cell, d Dim, children []Cell) {
			n, sum := 0, 0
			for _, c := range children {
				if c.Suppressed {
					n++
					sum += c.Count
				}
			}
			if n != 0 && (n < 2 || sum < K) {
				t.Fatalf("week %d: under published %q by dim %d, %d suppressed children sum %d: recoverable", i, p.Values, d, n, sum)
			}
		})
		for _, p := range w.order {
			if !p.Suppressed {
				continue
			}
			for d := Dim(0); d < NumDims; d++ {
				kids := w.Cells(p.Mask|MaskOf(d), func(v Values) bool {
					for e := Dim(0); e < NumDims; e++ {
						if p.Mask.Has(e) && v[e] != p.Values[e] {
							return false
						}
					}
					return true
				})
				if p.Mask.Has(d) || len(kids) == 0 {
					continue
				}
				if !slices.ContainsFunc(kids, func(c Cell) bool { return c.Suppressed }) {
					t.Fatalf("week %d: suppressed %q is the sum of its published children by dim %d", i, p.key(), d)
				}
			}
		}
		// Same data in another order: the same pattern (nothing depends on
		// map order or on how the rows came).
		shuffled := append([]Row(nil), rows...)
		r.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
		w2 := BuildWeek(shuffled)
		for _, c := range w.order {
			c2, ok := w2.Lookup(c.Mask, c.Values)
			if !ok || c2.Count != c.Count || c2.Suppressed != c.Suppressed {
				t.Fatalf("week %d: cell %q is %+v, from shuffled rows %+v", i, c.key(), *c, c2)
			}
		}
		// Two overlapping requests (all areas by taxonomy, and one area
		// prefix by taxonomy and language) see every common cell alike.
		byTaxArea := w.Cells(MaskOf(DimTaxonomy, DimArea), nil)
		inC23 := w.Cells(MaskOf(DimTaxonomy, DimArea), func(v Values) bool { return strings.HasPrefix(v[DimArea], "c23") })
		for _, c := range inC23 {
			found := false
			for _, o := range byTaxArea {
				if o.Values == c.Values {
					found = true
					if o.Count != c.Count || o.Suppressed != c.Suppressed {
						t.Fatalf("week %d: cell %v differs between requests: %+v vs %+v", i, c.Values, o, c)
					}
				}
			}
			if !found {
				t.Fatalf("week %d: cell %v of the filtered request is not in the wider one", i, c.Values)
			}
		}
	}
	if published == 0 || suppressed == 0 {
		t.Fatalf("the random weeks published %d and suppressed %d cells: both must occur for the test to mean anything", published, suppressed)
	}
	t.Logf("published %d, suppressed %d", published, suppressed)
}

// A week of exactly the rules' edge cases.
func TestSuppressionExample(t *testing.T) {
	var rows []Row
	add := func(n int, lang string) {
		for i := range n {
			rows = append(rows, Row{Mark: fmt.Sprintf("%s%d", lang, i), Values: Values{"search", "legal", "c23nb", lang, ""}})
		}
	}
	add(12, "es")
	add(12, "en")
	add(3, "so") // primary: 3 < 10
	w := BuildWeek(rows)
	so, _ := w.Lookup(MaskOf(DimLanguage), Values{DimLanguage: "so"})
	en, _ := w.Lookup(MaskOf(DimLanguage), Values{DimLanguage: "en"})
	es, _ := w.Lookup(MaskOf(DimLanguage), Values{DimLanguage: "es"})
	total, _ := w.Lookup(0, Values{})
	if !so.Suppressed || total.Count != 27 || total.Suppressed {
		t.Fatalf("so %+v, total %+v", so, total)
	}
	// so alone would be total - en - es: one of the 12s goes too (the
	// smallest, ties by key: en).
	if !en.Suppressed || es.Suppressed {
		t.Fatalf("complementary suppression: en %+v, es %+v", en, es)
	}
}
