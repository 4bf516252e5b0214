// Package cells decides which respondents' answers may be shown together.
//
// Every response belongs to one cell of (unit, role, seniority). Cells
// smaller than k are generalised by a fixed hierarchy until every non-empty
// cell holds at least k responses, and everything a reader sees is computed
// from whole cells. Results change only in releases (Plan), and a release is
// made only when every group of responses a reader could single out by
// comparing it with the earlier ones holds 0 or at least k responses. Then
// any sum or difference of anything shown, now or over time, describes at
// least k people.
//
// The package is pure: it works on counts of attribute tuples, and the
// survey package stores and applies its decisions.
package cells

import (
	"cmp"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Other stands for a pooled role or seniority band.
const Other = "other"

// NoUnit is the unit of a response without one, and of pooled units.
const NoUnit int64 = 0

// MinK is the smallest k anything is released under.
const MinK = 3

// Attrs is a response's profile: unit (NoUnit for none), role and seniority
// band, as given, or a cell's generalised profile.
type Attrs struct {
	Unit      int64
	Role      string
	Seniority string
}

func (a Attrs) String() string {
	return strconv.FormatInt(a.Unit, 10) + "/" + a.Role + "/" + a.Seniority
}

// Hierarchy levels: each step pools more of a tuple's attributes.
func roleLevel(t Attrs) Attrs { return Attrs{t.Unit, Other, t.Seniority} }
func unitLevel(t Attrs) Attrs { return Attrs{NoUnit, Other, t.Seniority} }

// Top is the cell of everything that no unit could hold on its own.
var Top = Attrs{NoUnit, Other, Other}

// Partition maps attribute tuples to cells. A cell's own profile maps to the
// cell (released responses keep only that); tuples it has not seen go to
// the pooled cell of their unit and band, else of their band, else Top.
type Partition struct {
	K     int
	cells map[Attrs]Attrs // seen tuple -> its cell
	set   map[Attrs]bool  // the cells
}

// Generalise builds the partition for the given counts under k:
//
//  1. a tuple (unit, role, band) with at least k responses is a cell;
//  2. otherwise its role is pooled: (unit, other, band), a cell when the
//     tuples pooled there hold at least k;
//  3. otherwise its unit too: (no unit, other, band), likewise;
//  4. otherwise its band too: Top.
//
// Bands are pooled last: senior managers against everyone else is the
// comparison the product exists for, and small units' seniors together
// usually make a cell of their own.
//
// Top may hold fewer than k: Plan holds such responses back.
func Generalise(counts map[Attrs]int, k int) *Partition {
	k = max(k, MinK)
	p := &Partition{K: k, cells: map[Attrs]Attrs{}, set: map[Attrs]bool{}}
	size := map[Attrs]int{} // cells so far
	pool := func(level func(Attrs) Attrs, todo []Attrs) []Attrs {
		sum := map[Attrs]int{}
		for _, t := range todo {
			sum[level(t)] += counts[t]
		}
		var rest []Attrs
		for _, t := range todo {
			// A pool joins a cell of the same profile if there is one
			// (responses released earlier are stored under their cell's).
			if c := level(t); size[c]+sum[c] >= k {
				p.cells[t] = c
			} else {
				rest = append(rest, t)
			}
		}
		for _, t := range todo {
			if c, ok := p.cells[t]; ok {
				size[c] += counts[t]
			}
		}
		return rest
	}
	var todo []Attrs
	for _, t := range sortedKeys(counts) {
		if counts[t] <= 0 {
			continue
		}
		if counts[t] >= k {
			p.cells[t] = t
			size[t] += counts[t]
		} else {
			todo = append(todo, t)
		}
	}
	todo = pool(roleLevel, todo)
	todo = pool(unitLevel, todo)
	for _, t := range todo {
		p.cells[t] = Top
	}
	for _, c := range p.cells {
		p.set[c] = true
	}
	return p
}

// Cell is the cell of a tuple.
func (p *Partition) Cell(t Attrs) Attrs {
	if c, ok := p.cells[t]; ok {
		return c
	}
	if p.set[t] { // a cell's own profile: released responses are stored under it
		return t
	}
	if c := roleLevel(t); p.set[c] {
		return c
	}
	if c := unitLevel(t); p.set[c] {
		return c
	}
	return Top
}

// Cells lists the partition's cells in a fixed order.
func (p *Partition) Cells() []Attrs { return sortedKeys(p.set) }

// Sizes counts the responses per cell.
func (p *Partition) Sizes(counts map[Attrs]int) map[Attrs]int {
	out := map[Attrs]int{}
	for t, n := range counts {
		if n > 0 {
			out[p.Cell(t)] += n
		}
	}
	return out
}

type stored struct {
	K     int        `json:"k"`
	Cells [][2]Attrs `json:"cells"` // [tuple, cell]
}

// MarshalJSON stores the partition: k and the seen tuples with their cells.
func (p *Partition) MarshalJSON() ([]byte, error) {
	s := stored{K: p.K, Cells: make([][2]Attrs, 0, len(p.cells))}
	for _, t := range sortedKeys(p.cells) {
		s.Cells = append(s.Cells, [2]Attrs{t, p.cells[t]})
	}
	return json.Marshal(s)
}

// UnmarshalJSON reads what MarshalJSON stored.
func (p *Partition) UnmarshalJSON(b []byte) error {
	var s stored
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	p.K, p.cells, p.set = s.K, make(map[Attrs]Attrs, len(s.Cells)), map[Attrs]bool{}
	for _, tc := range s.Cells {
		p.cells[tc[0]], p.set[tc[1]] = tc[1], true
	}
	return nil
}

// Equal says whether two partitions put every tuple in the same cell.
func (p *Partition) Equal(q *Partition) bool {
	return p.K == q.K && maps.Equal(p.cells, q.cells)
}

// History is what has been released of a campaign: each release's
// partition, and per tuple how many responses each release added.
type History struct {
	Partitions []*Partition
	// Added[t][j] is the number of responses of tuple t first released in
	// release j (0-based, as Partitions).
	Added map[Attrs][]int
}

// Decision is the next release: its partition and, per tuple, how many of
// the waiting responses go into it (all or none of a tuple's).
type Decision struct {
	Partition *Partition
	Take      map[Attrs]int
	Taken     int
	HeldBack  int
}

// Plan decides the next release for responses waiting per tuple. It returns
// nil when nothing would change. A release must keep two promises:
//
//   - every cell holds 0 or at least k responses;
//   - a reader who compares it with every earlier release cannot single out
//     fewer than k responses: grouping responses by the release they were
//     first shown in and the cells they have been in since, every group
//     holds 0 or at least k (its own release's k).
//
// The partition is the hierarchy's for the new totals when that keeps the
// promises, else the last release's (which always keeps the second), or,
// when k was raised, the last release's with its small cells pooled.
// Waiting responses that would form a group under k are held back.
func Plan(h History, waiting map[Attrs]int, k int) *Decision {
	k = max(k, MinK)
	totals := map[Attrs]int{}
	for t, n := range waiting {
		totals[t] += n
	}
	for t, added := range h.Added {
		for _, n := range added {
			totals[t] += n
		}
	}
	candidates := []*Partition{Generalise(totals, k)}
	var last *Partition
	if len(h.Partitions) > 0 {
		last = h.Partitions[len(h.Partitions)-1]
		if last.K >= k {
			candidates = append(candidates, last)
		} else {
			candidates = append(candidates, coarsen(last, totals, k))
		}
	}
	for _, p := range candidates {
		d, ok := try(h, waiting, p, k)
		if !ok {
			continue
		}
		// A release that adds nobody is made only to apply a raised k.
		if d.Taken == 0 && (last == nil || last.K >= k) {
			return nil
		}
		return d
	}
	return nil
}

// coarsen pools the cells of p that hold fewer than k, by the same
// hierarchy, into coarser ones: for a raised k. Whole cells move, so no
// group shown before is split.
func coarsen(p *Partition, totals map[Attrs]int, k int) *Partition {
	g := Generalise(p.Sizes(totals), k)
	out := &Partition{K: g.K, cells: make(map[Attrs]Attrs, len(p.cells)), set: map[Attrs]bool{}}
	for t := range totals {
		c := g.Cell(p.Cell(t))
		out.cells[t] = c
		out.set[c] = true
	}
	return out
}

// try checks a partition against the history and decides what it can take.
func try(h History, waiting map[Attrs]int, p *Partition, k int) (*Decision, bool) {
	// Old responses: group by (first release, cells since), with p.
	for j := range h.Partitions {
		groups := map[string]int{}
		for t, added := range h.Added {
			if j < len(added) && added[j] > 0 {
				groups[signature(h.Partitions[j:], p, t)] += added[j]
			}
		}
		for _, n := range groups {
			if n < h.Partitions[j].K {
				return nil, false
			}
		}
	}
	// Waiting responses: the group of a new one is its new cell, so a cell
	// takes its waiting ones only when they are at least k, and itself then
	// holds at least k. (A cell of released responses under k can only come
	// from a raised k: such a cell is not shown until k new ones join it.)
	released := map[Attrs]int{}
	for t, added := range h.Added {
		for _, n := range added {
			released[p.Cell(t)] += n
		}
	}
	newIn := p.Sizes(waiting)
	d := &Decision{Partition: p, Take: map[Attrs]int{}}
	for t, n := range waiting {
		if n <= 0 {
			continue
		}
		c := p.Cell(t)
		if takeable(newIn[c], k) > 0 && released[c]+newIn[c] >= k {
			d.Take[t] = n
			d.Taken += n
		} else {
			d.HeldBack += n
		}
	}
	return d, true
}

// takeable is how many of n new responses of one group may be released.
func takeable(n, k int) int {
	if n >= k {
		return n
	}
	return 0
}

func signature(ps []*Partition, p *Partition, t Attrs) string {
	var b strings.Builder
	for _, q := range ps {
		b.WriteString(q.Cell(t).String())
		b.WriteByte('|')
	}
	b.WriteString(p.Cell(t).String())
	return b.String()
}

func sortedKeys[V any](m map[Attrs]V) []Attrs {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b Attrs) int {
		return cmp.Or(cmp.Compare(a.Unit, b.Unit), cmp.Compare(a.Role, b.Role), cmp.Compare(a.Seniority, b.Seniority))
	})
	return keys
}
