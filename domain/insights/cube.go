// Package insights publishes unmet needs k-anonymously: per ISO week, the
// cube of distinct-person counts over every subset of the dimensions, with
// primary suppression (0 < count < K) and complementary suppression so that
// no suppressed cell can be recovered from the published ones. The pattern
// is computed from a week's data alone, never from a query: every request
// selects from the same published cells, so two overlapping requests cannot
// be differenced to single out a person.
package insights

import (
	"slices"
	"strings"
)

// K is the smallest number of distinct people a published cell counts.
const K = 10

// Dim is a dimension of the cube.
type Dim int

// The dimensions, in the order cells list them. The ISO week is not one:
// every cell is of one week (marks of different weeks never link, so
// people can only be counted distinctly within a week).
const (
	DimSource Dim = iota
	DimTaxonomy
	DimArea
	DimLanguage
	DimReason
	NumDims
)

// Mask is a set of dimensions: the ones a cell groups by.
type Mask uint8

// MaskOf is the set of dims.
func MaskOf(dims ...Dim) Mask {
	var m Mask
	for _, d := range dims {
		m |= 1 << d
	}
	return m
}

// Has reports whether d is in m.
func (m Mask) Has(d Dim) bool { return m&(1<<d) != 0 }

// Values are a cell's members per dimension; only the dimensions of its
// mask are meaningful. "" is a member too: unknown (no category, no point,
// no language, no reason).
type Values [NumDims]string

// Row is one person's need in a week (a row of unmet_needs).
type Row struct {
	Values Values
	Mark   string // the person's mark for that week
}

// Cell is a count of distinct people in a week, grouped by Mask.
type Cell struct {
	Mask       Mask
	Values     Values
	Count      int
	Suppressed bool
}

func (c *Cell) key() string { return cellKey(c.Mask, c.Values) }

func cellKey(m Mask, v Values) string {
	var b strings.Builder
	b.WriteByte(byte(m))
	for d := Dim(0); d < NumDims; d++ {
		b.WriteByte(0)
		if m.Has(d) {
			b.WriteString(v[d])
		}
	}
	return b.String()
}

// Week is the published cube of one ISO week.
type Week struct {
	cells map[string]*Cell
	order []*Cell // by mask, then values: the deterministic order
}

// BuildWeek counts rows (all of one week) at every subset of the
// dimensions and suppresses.
func BuildWeek(rows []Row) *Week {
	people := map[string]map[string]struct{}{}
	w := &Week{cells: map[string]*Cell{}}
	for _, r := range rows {
		for m := Mask(0); m < 1<<NumDims; m++ {
			var v Values
			for d := Dim(0); d < NumDims; d++ {
				if m.Has(d) {
					v[d] = r.Values[d]
				}
			}
			k := cellKey(m, v)
			if _, ok := w.cells[k]; !ok {
				c := &Cell{Mask: m, Values: v}
				w.cells[k] = c
				w.order = append(w.order, c)
				people[k] = map[string]struct{}{}
			}
			people[k][r.Mark] = struct{}{}
		}
	}
	for k, c := range w.cells {
		c.Count = len(people[k])
	}
	slices.SortFunc(w.order, func(a, b *Cell) int { return strings.Compare(a.key(), b.key()) })
	w.suppress()
	return w
}

// children indexes, for a cell and a dimension it does not group by, the
// cells that add that dimension.
func (w *Week) children() map[string][NumDims][]*Cell {
	out := map[string][NumDims][]*Cell{}
	for _, c := range w.order {
		for d := Dim(0); d < NumDims; d++ {
			if !c.Mask.Has(d) {
				continue
			}
			pv := c.Values
			pv[d] = ""
			pk := cellKey(c.Mask&^(1<<d), pv)
			line := out[pk]
			line[d] = append(line[d], c)
			out[pk] = line
		}
	}
	for k, line := range out {
		for d := range line {
			// smallest first; ties by key (order is already by key)
			slices.SortStableFunc(line[d], func(a, b *Cell) int { return a.Count - b.Count })
		}
		out[k] = line
	}
	return out
}

// lineHolds reports whether a line's suppressed cells cannot be recovered
// from its published parent: none, or at least two summing to K or more.
func lineHolds(line []*Cell) bool {
	n, sum := 0, 0
	for _, c := range line {
		if c.Suppressed {
			n++
			sum += c.Count
		}
	}
	return n == 0 || (n >= 2 && sum >= K)
}

// suppress applies primary suppression, then complementary suppression to
// a fixpoint: in every line under a published cell, suppress further
// children, smallest first, until the line holds; when no child is left to
// suppress, suppress the parent itself; and under a suppressed cell, no line
// may be all published (its sum would give the cell away). Suppression only
// grows, so it ends.
func (w *Week) suppress() {
	for _, c := range w.order {
		if c.Count > 0 && c.Count < K {
			c.Suppressed = true
		}
	}
	kids := w.children()
	for changed := true; changed; {
		changed = false
		for _, p := range w.order {
			line := kids[p.key()]
			if p.Suppressed {
				// A suppressed cell is not to be the sum of a line of
				// published children either: one of each line goes too.
				for d := Dim(0); d < NumDims; d++ {
					if !p.Mask.Has(d) && len(line[d]) > 0 && !slices.ContainsFunc(line[d], func(c *Cell) bool { return c.Suppressed }) {
						line[d][0].Suppressed, changed = true, true
					}
				}
				continue
			}
			for d := Dim(0); d < NumDims && !p.Suppressed; d++ {
				if p.Mask.Has(d) {
					continue
				}
				for _, c := range line[d] {
					if lineHolds(line[d]) {
						break
					}
					if !c.Suppressed {
						c.Suppressed, changed = true, true
					}
				}
				if !lineHolds(line[d]) {
					p.Suppressed, changed = true, true
				}
			}
		}
	}
}

// Cells are the week's cells grouped by exactly m whose members pass keep
// (nil keeps all), in the deterministic order. Suppressed cells come with
// their flag set; a caller publishes only the others, and never their count.
func (w *Week) Cells(m Mask, keep func(Values) bool) []Cell {
	var out []Cell
	for _, c := range w.order {
		if c.Mask == m && (keep == nil || keep(c.Values)) {
			out = append(out, *c)
		}
	}
	return out
}

// Lookup is the cell grouped by m with members v, if the week has it.
func (w *Week) Lookup(m Mask, v Values) (Cell, bool) {
	c, ok := w.cells[cellKey(m, v)]
	if !ok {
		return Cell{}, false
	}
	return *c, true
}

// Lines calls fn for every published cell and dimension it does not group
// by, with the children on that line (for tests of the suppression rules).
func (w *Week) Lines(fn func(parent Cell, d Dim, children []Cell)) {
	kids := w.children()
	for _, p := range w.order {
		if p.Suppressed {
			continue
		}
		for d := Dim(0); d < NumDims; d++ {
			if p.Mask.Has(d) {
				continue
			}
			var ch []Cell
			for _, c := range kids[p.key()][d] {
				ch = append(ch, *c)
			}
			fn(*p, d, ch)
		}
	}
}
