package survey

import (
	"math"
	"slices"
	"testing"
)

func TestReferenceSetMatchesPublishedFigures(t *testing.T) {
	ref := ReferenceSet()
	if len(ref) != 650 {
		t.Fatalf("entries = %d, want 650", len(ref))
	}
	overall := make([]float64, len(ref))
	var sum float64
	yearSum, yearN := map[int]float64{}, map[int]int{}
	for i, e := range ref {
		overall[i] = e.Overall
		sum += e.Overall
		yearSum[e.Year] += e.Overall
		yearN[e.Year]++
		var s float64
		for _, v := range e.Sections {
			s += v
		}
		if len(e.Sections) != 13 {
			t.Fatalf("entry %d has %d sections", i, len(e.Sections))
		}
		if d := math.Abs(s/13 - e.Overall); d > 0.5 {
			t.Errorf("entry %d: sections average %.2f, overall %.2f", i, s/13, e.Overall)
		}
	}
	slices.Sort(overall)
	if m := sum / 650; math.Abs(m-35) > 0.01 {
		t.Errorf("mean = %.3f, want 35", m)
	}
	if overall[0] != 17 || overall[649] != 67 {
		t.Errorf("range = %.2f–%.2f, want 17–67", overall[0], overall[649])
	}
	if p := Quantile(overall, 0.75); math.Abs(p-41) > 0.01 {
		t.Errorf("P75 = %.3f, want 41", p)
	}
	// The published trend (33, 33, 32, 33, 34, 35), shifted by the same amount.
	shift := yearSum[1999]/float64(yearN[1999]) - 33
	for i, want := range []float64{33, 33, 32, 33, 34, 35} {
		y := 1999 + i
		got := yearSum[y]/float64(yearN[y]) - shift
		if math.Abs(got-want) > 0.1 {
			t.Errorf("%d mean (shifted back) = %.2f, want %.0f", y, got, want)
		}
	}
	if &ReferenceSet()[0] != &ref[0] {
		t.Error("the reference set is generated more than once")
	}
	if again := generateReference(); again[100].Overall != ref[100].Overall || again[100].Sections["AP"] != ref[100].Sections["AP"] {
		t.Error("the reference set is not deterministic")
	}
}

func TestBuildBenchmarkSourcesAndSuppression(t *testing.T) {
	m := mustModel(t)
	ref := ReferenceSet()
	b := BuildBenchmark(m, nil, ref, BenchmarkFilter{}, 0)
	if b.Source != SourceReference || !b.Illustrative || b.Entries != 650 || b.Suppressed {
		t.Fatalf("no pool: %+v", b)
	}
	if b.Overall.P75 != 41 || len(b.Sections) != 13 {
		t.Errorf("overall %+v, %d sections", b.Overall, len(b.Sections))
	}
	if r := b.Rank(67); r < 99.8 {
		t.Errorf("rank of the best = %.1f", r)
	}
	if r := b.Rank(10); r != 0 {
		t.Errorf("rank below the worst = %.1f", r)
	}
	if r := b.Rank(41); math.Abs(r-75) > 0.3 {
		t.Errorf("rank of P75 = %.1f, want about 75", r)
	}
	// A filter that leaves fewer than 10 entries shows nothing.
	tiny := BuildBenchmark(m, nil, ref, BenchmarkFilter{Sector: "healthcare", Region: "middle-east-africa", Year: 2001, SizeBand: "5000+"}, 0)
	if !tiny.Suppressed || tiny.Overall != nil || tiny.Sections != nil || tiny.Rank(50) != -1 {
		t.Errorf("small filter: %+v", tiny)
	}
	// The pool replaces the reference set at 30 entries for the filter.
	pool := make([]BenchmarkScores, 30)
	for i := range pool {
		pool[i] = BenchmarkScores{OrganisationID: int64(1 + i), Sector: "retail", Year: 2026, Overall: float64(40 + i), Sections: map[string]float64{"AP": float64(40 + i)}}
	}
	if b := BuildBenchmark(m, pool[:29], ref, BenchmarkFilter{Sector: "retail"}, 0); b.Source != SourceReference {
		t.Errorf("29 pool entries: source %s", b.Source)
	}
	b = BuildBenchmark(m, pool, ref, BenchmarkFilter{Sector: "retail"}, 0)
	if b.Source != SourcePool || b.Illustrative || b.Entries != 30 {
		t.Fatalf("30 pool entries: %+v", b)
	}
	if b.Overall.P50 != 54.5 || b.Sections[0].ID != "AP" || b.Sections[0].P50 != 54.5 {
		t.Errorf("pool percentiles: %+v %+v", b.Overall, b.Sections[0])
	}
	if b.Sections[1].Percentiles != nil {
		t.Errorf("a section nobody reported has figures: %+v", b.Sections[1])
	}
}

// A pool view counts organisations, not entries: at least 10, none holding
// more than a fifth of the entries, never the viewer's own. Otherwise the
// reference set stands in, as for a thin pool.
func TestBuildBenchmarkCountsOrganisations(t *testing.T) {
	m := mustModel(t)
	ref := ReferenceSet()
	f := BenchmarkFilter{Sector: "retail"}
	// entries gives org i (1…) perOrg[i-1] entries, one a year.
	entries := func(perOrg ...int) []BenchmarkScores {
		var out []BenchmarkScores
		for i, n := range perOrg {
			for y := range n {
				v := float64(30 + len(out))
				out = append(out, BenchmarkScores{OrganisationID: int64(i + 1), Sector: "retail", Year: 2020 + y,
					Overall: v, Sections: map[string]float64{"AP": v, "EE": v}})
			}
		}
		return out
	}
	// 30 entries of 9 organisations (over the years): not shown.
	nine := entries(4, 4, 4, 3, 3, 3, 3, 3, 3)
	if b := BuildBenchmark(m, nine, ref, f, 0); b.Source != SourceReference || b.Organisations != 0 {
		t.Errorf("30 entries of 9 organisations: source %s, %d organisations", b.Source, b.Organisations)
	}
	// 30 entries of 10 organisations, three years each: the pool, saying so.
	ten := entries(3, 3, 3, 3, 3, 3, 3, 3, 3, 3)
	b := BuildBenchmark(m, ten, ref, f, 0)
	if b.Source != SourcePool || b.Entries != 30 || b.Organisations != 10 || b.Sections[0].Percentiles == nil {
		t.Errorf("30 entries of 10 organisations: %+v", b)
	}
	// One organisation holding more than a fifth: 7 of 30 is too many, 6 is not.
	if b := BuildBenchmark(m, entries(7, 3, 3, 3, 3, 3, 3, 3, 1, 1), ref, f, 0); b.Source != SourceReference {
		t.Errorf("one organisation with 7 of 30 entries: source %s", b.Source)
	}
	if b := BuildBenchmark(m, entries(6, 3, 3, 3, 3, 3, 3, 3, 2, 1), ref, f, 0); b.Source != SourcePool || b.Organisations != 10 {
		t.Errorf("one organisation with 6 of 30 entries: source %s", b.Source)
	}
	// The viewer's own entries are left out: organisation 11, with ten years
	// of entries, dominates the pool of 40 (not shown to anyone); to itself
	// it is compared with the other ten's 30.
	eleven := append(slices.Clone(ten), entries(append(slices.Repeat([]int{0}, 10), 10)...)...)
	for i := range eleven[30:] {
		eleven[30+i].Overall = 99
	}
	if b := BuildBenchmark(m, eleven, ref, f, 0); b.Source != SourceReference {
		t.Errorf("organisation 11 with 10 of 40 entries: source %s", b.Source)
	}
	b = BuildBenchmark(m, eleven, ref, f, 11)
	if b.Source != SourcePool || b.Entries != 30 || b.Organisations != 10 {
		t.Fatalf("viewer 11 among 11 organisations: source %s, %d entries, %d organisations", b.Source, b.Entries, b.Organisations)
	}
	if slices.Contains(b.overall, 99) {
		t.Error("the viewer's own scores are in its comparison group")
	}
	// Without the viewer's entries the pool of 10 organisations is 9: the reference set.
	if b := BuildBenchmark(m, ten, ref, f, 3); b.Source != SourceReference {
		t.Errorf("viewer 3 of 10 organisations: source %s", b.Source)
	}
	// A section reported by 9 organisations shows no figures in a view of 10.
	some := entries(3, 3, 3, 3, 3, 3, 3, 3, 3, 3)
	for i := range some {
		if some[i].OrganisationID == 10 {
			delete(some[i].Sections, "EE")
		}
	}
	b = BuildBenchmark(m, some, ref, f, 0)
	shown := map[string]bool{}
	for _, s := range b.Sections {
		shown[s.ID] = s.Percentiles != nil
	}
	if b.Source != SourcePool || !shown["AP"] || shown["EE"] {
		t.Errorf("a section of 9 organisations: source %s, shown %v", b.Source, shown)
	}
}

// The comparison group's form offers only choices with figures behind
// them: no "other" sector in the reference set, and no year where a
// narrow region has too few assessments.
func TestBenchmarkChoicesHaveSomethingBehindThem(t *testing.T) {
	m := mustModel(t)
	all := BuildBenchmark(m, nil, ReferenceSet(), BenchmarkFilter{}, 0).Choices
	if slices.Contains(all.Sectors, "other") || len(all.Years) != 6 {
		t.Errorf("whole reference set: sectors %v, years %v", all.Sectors, all.Years)
	}
	narrow := BuildBenchmark(m, nil, ReferenceSet(), BenchmarkFilter{Region: "middle-east-africa", Sector: "insurance"}, 0).Choices
	if len(narrow.Years) != 0 {
		t.Errorf("years offered for a group of a handful: %v", narrow.Years)
	}
}
