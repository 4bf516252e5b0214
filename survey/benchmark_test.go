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
