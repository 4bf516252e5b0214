package cells

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
)

var roles = []string{"crm-leader", "business-analyst", "marketing-planner", "product-manager", "hr-manager",
	"technologist", "direct-sales", "indirect-sales", "campaign-owner", "service-owner", "call-centre-agent", "researcher"}
var bands = []string{"senior-manager", "manager", "staff"}

func TestGeneraliseHierarchy(t *testing.T) {
	counts := map[Attrs]int{
		{1, "a", "staff"}:          7, // its own cell
		{1, "b", "staff"}:          2, // pooled by role with c
		{1, "c", "staff"}:          3,
		{1, "d", "manager"}:        1, // pooled by role, then unit, with unit 2's managers
		{2, "a", "manager"}:        4,
		{1, "e", "senior-manager"}: 4, // no pool of seniors holds 5: Top
		{4, "a", "staff"}:          1, // Top as well
	}
	p := Generalise(counts, 5)
	want := map[Attrs]Attrs{
		{1, "a", "staff"}:          {1, "a", "staff"},
		{1, "b", "staff"}:          {1, Other, "staff"},
		{1, "c", "staff"}:          {1, Other, "staff"},
		{1, "d", "manager"}:        {NoUnit, Other, "manager"},
		{2, "a", "manager"}:        {NoUnit, Other, "manager"},
		{1, "e", "senior-manager"}: Top,
		{4, "a", "staff"}:          Top,
	}
	for tuple, cell := range want {
		if got := p.Cell(tuple); got != cell {
			t.Errorf("cell of %v = %v, want %v", tuple, got, cell)
		}
	}
	// A tuple never seen joins its unit's pool, else its band's, else Top.
	if got := p.Cell(Attrs{1, "f", "staff"}); got != (Attrs{1, Other, "staff"}) {
		t.Errorf("unseen tuple of a pooled unit and band: %v", got)
	}
	if got := p.Cell(Attrs{9, "a", "manager"}); got != (Attrs{NoUnit, Other, "manager"}) {
		t.Errorf("unseen unit, pooled band: %v", got)
	}
	if got := p.Cell(Attrs{9, "a", "staff"}); got != Top {
		t.Errorf("unseen unit: %v", got)
	}
	sizes := p.Sizes(counts)
	if sizes[Top] != 5 || sizes[Attrs{1, Other, "staff"}] != 5 || sizes[Attrs{NoUnit, Other, "manager"}] != 5 {
		t.Errorf("sizes %v", sizes)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var q Partition
	if err := json.Unmarshal(b, &q); err != nil || !q.Equal(p) || q.Cell(Attrs{1, "f", "staff"}) != (Attrs{1, Other, "staff"}) {
		t.Fatalf("stored partition differs: %s (%v)", b, err)
	}
}

func TestPlanHoldsBackSmallChanges(t *testing.T) {
	var h History
	waiting := map[Attrs]int{{1, "a", "staff"}: 6, {2, "a", "staff"}: 1}
	d := Plan(h, waiting, 5)
	if d == nil || d.Taken != 6 || d.HeldBack != 1 {
		t.Fatalf("first release: %+v", d)
	}
	h = apply(h, d)
	// One more person: nothing may change.
	if d := Plan(h, map[Attrs]int{{1, "a", "staff"}: 1}, 5); d != nil {
		t.Fatalf("a release for one new response: %+v", d)
	}
	// Five more in the same cell: released together.
	d = Plan(h, map[Attrs]int{{1, "a", "staff"}: 5, {2, "a", "staff"}: 1}, 5)
	if d == nil || d.Taken != 5 || d.HeldBack != 1 {
		t.Fatalf("five more: %+v", d)
	}
}

// Released responses keep their cell's profile: a pool shown once stays
// whole, new people of a role it pooled may form a cell of their own, and
// new small groups join it.
func TestReleasedPoolsStayWhole(t *testing.T) {
	var h History
	// Two roles of three each: pooled into (1, other, staff) of six.
	d := Plan(h, map[Attrs]int{{1, "a", "staff"}: 3, {1, "b", "staff"}: 3}, 5)
	pool := Attrs{1, Other, "staff"}
	if d == nil || d.Partition.Cell(Attrs{1, "a", "staff"}) != pool {
		t.Fatalf("first: %+v", d)
	}
	h = apply(h, d)
	if h.Added[pool][0] != 6 {
		t.Fatalf("history keeps %v, want the pool's 6", h.Added)
	}
	// Five more "a": a cell of their own; the pool of six stays as it was.
	d = Plan(h, map[Attrs]int{{1, "a", "staff"}: 5}, 5)
	if d == nil || d.Taken != 5 || d.Partition.Cell(Attrs{1, "a", "staff"}) != (Attrs{1, "a", "staff"}) || d.Partition.Cell(pool) != pool {
		t.Fatalf("five more a: %+v", d)
	}
	h = apply(h, d)
	// Two "c" and three "d": too few for cells, together enough to join the pool.
	d = Plan(h, map[Attrs]int{{1, "c", "staff"}: 2, {1, "d", "staff"}: 3}, 5)
	if d == nil || d.Taken != 5 || d.Partition.Cell(Attrs{1, "c", "staff"}) != pool || d.Partition.Cell(pool) != pool {
		t.Fatalf("c and d: %+v", d)
	}
}

func apply(h History, d *Decision) History {
	if h.Added == nil {
		h.Added = map[Attrs][]int{}
	}
	j := len(h.Partitions)
	h.Partitions = append(h.Partitions, d.Partition)
	for tuple, n := range d.Take {
		tuple = d.Partition.Cell(tuple) // stored under its cell's profile
		a := h.Added[tuple]
		for len(a) <= j {
			a = append(a, 0)
		}
		a[j] += n
		h.Added[tuple] = a
	}
	return h
}

// The attacker's view: every view the product shows a manager in every
// release — the whole campaign, every filter combination of unit, role and
// band (including the pooled "other" values), and leaders against staff —
// is a set of responses. An attacker who combines the shown counts and sums
// of any of them, across releases, can isolate no set smaller than the
// classes of responses that belong to exactly the same views. So: every
// such class holds at least k.
func TestAttackerCannotIsolateFewerThanK(t *testing.T) {
	seeds := 60
	if testing.Short() {
		seeds = 15
	}
	for seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { attackRandomCampaign(t, uint64(seed)) })
	}
}

type person struct {
	t     Attrs
	entry int // release that first showed them; -1 not yet
}

func attackRandomCampaign(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 7))
	k := []int{3, 5, 5, 7}[rng.IntN(4)]
	nUnits := 1 + rng.IntN(8)
	var people []person
	for u := 1; u <= nUnits; u++ {
		size := 1 + rng.IntN(30)
		nRoles := 1 + rng.IntN(len(roles))
		for range size {
			people = append(people, person{t: Attrs{int64(u), roles[rng.IntN(nRoles)], bands[rng.IntN(3)]}, entry: -1})
		}
	}
	if rng.IntN(3) == 0 { // some without a unit
		for range rng.IntN(6) {
			people = append(people, person{t: Attrs{NoUnit, roles[rng.IntN(3)], bands[rng.IntN(3)]}, entry: -1})
		}
	}
	rng.Shuffle(len(people), func(i, j int) { people[i], people[j] = people[j], people[i] })

	var h History
	// Arrivals in random batches, a release attempt after each batch, and
	// a final one when the campaign closes.
	arrived := 0
	kNow, raiseAt := k, -1
	if rng.IntN(3) == 0 { // an admin raises k half-way
		raiseAt = len(people) / 2
	}
	for arrived < len(people) {
		arrived = min(len(people), arrived+1+rng.IntN(8))
		if raiseAt >= 0 && arrived >= raiseAt && kNow == k {
			kNow = k + 2
		}
		waiting := map[Attrs]int{}
		for _, p := range people[:arrived] {
			if p.entry < 0 {
				waiting[p.t]++
			}
		}
		d := Plan(h, waiting, kNow)
		if d == nil {
			continue
		}
		j := len(h.Partitions)
		h = apply(h, d)
		for i := range people[:arrived] {
			p := &people[i]
			if p.entry < 0 && d.Take[p.t] > 0 {
				// Released: from now on only the cell's profile is kept.
				p.entry, p.t = j, d.Partition.Cell(p.t)
			}
		}
		for tuple, n := range d.Take {
			if n != waiting[tuple] {
				t.Fatalf("release %d took %d of %d waiting %v: all or none", j, n, waiting[tuple], tuple)
			}
		}
	}
	shown, held := 0, 0
	for _, p := range people {
		if p.entry >= 0 {
			shown++
		} else {
			held++
		}
	}
	t.Logf("k=%d (raised to %d), %d people, %d releases, %d shown, %d held back", k, kNow, len(people), len(h.Partitions), shown, held)

	// Every cell of every release holds 0 or at least k, or, after k was
	// raised, is not shown: cells under the release's k are hidden.
	sizes := make([]map[Attrs]int, len(h.Partitions))
	for j, part := range h.Partitions {
		sizes[j] = map[Attrs]int{}
		for _, p := range people {
			if p.entry >= 0 && p.entry <= j {
				sizes[j][part.Cell(p.t)]++
			}
		}
		for c, n := range sizes[j] {
			if n > 0 && n < k {
				t.Fatalf("release %d: cell %v holds %d < k=%d", j, c, n, k)
			}
		}
	}
	shownIn := func(j int, p person) bool {
		return p.entry >= 0 && p.entry <= j && sizes[j][h.Partitions[j].Cell(p.t)] >= h.Partitions[j].K
	}

	// Every view of every release, as sets; each person's signature is the
	// list of views containing them.
	sig := make([][]byte, len(people))
	unitVals := []int64{-1, NoUnit}
	for u := 1; u <= nUnits; u++ {
		unitVals = append(unitVals, int64(u))
	}
	roleVals := append([]string{"", Other}, roles...)
	bandVals := append([]string{"", Other}, bands...)
	view := 0
	mark := func(in func(g Attrs) bool, j int) {
		for i, p := range people {
			if shownIn(j, p) && in(h.Partitions[j].Cell(p.t)) {
				sig[i] = fmt.Appendf(sig[i], "%d,", view)
			}
		}
		view++
	}
	for j := range h.Partitions {
		for _, u := range unitVals {
			for _, r := range roleVals {
				for _, s := range bandVals {
					mark(func(g Attrs) bool {
						return (u < 0 || g.Unit == u) && (r == "" || g.Role == r) && (s == "" || g.Seniority == s)
					}, j)
				}
			}
		}
		// Leaders against staff: seniors, and others whose band is known.
		mark(func(g Attrs) bool { return g.Seniority != "senior-manager" && g.Seniority != Other }, j)
	}
	classes := map[string]int{}
	for i, p := range people {
		if p.entry >= 0 {
			classes[string(sig[i])]++
		}
	}
	for s, n := range classes {
		if n < k {
			t.Fatalf("%d people share exactly the views %q: an attacker isolates them (k=%d)", n, s, k)
		}
	}
}
