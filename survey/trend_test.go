package survey

import (
	"math/rand/v2"
	"testing"
)

// trendRows makes n respondents answering every practice on both dimensions
// around a level (1 best … 5 worst), spread by ±1 at random.
func trendRows(m *Model, rng *rand.Rand, n int, level int) []ReportRow {
	rows := make([]ReportRow, n)
	for i := range rows {
		a := make([]byte, m.AnswerSlots())
		for j := range a {
			l := level + rng.IntN(3) - 1
			a[j] = byte(min(max(l, 1), 5))
		}
		rows[i] = ReportRow{Role: "sales", Seniority: "staff", Answers: a}
	}
	return rows
}

func TestTrendSeparatesChangeFromNoise(t *testing.T) {
	m := mustModel(t)
	rng := rand.New(rand.NewPCG(1, 2))
	wave := func(id int64, rows []ReportRow, f ReportFilter) TrendWave {
		c := &Campaign{ID: id, Name: "Wave", KMin: 5, Status: StatusClosed}
		return TrendWave{Campaign: c, Report: BuildReport(m, c, rows, f, nil)}
	}
	a := trendRows(m, rng, 60, 3)
	same := trendRows(m, rng, 60, 3)
	better := trendRows(m, rng, 60, 2)
	tr := BuildTrend([]TrendWave{wave(1, a, ReportFilter{}), wave(2, same, ReportFilter{}), wave(3, better, ReportFilter{})})
	if len(tr) != 3 || tr[0].Change != nil {
		t.Fatalf("trend %+v", tr)
	}
	if c := tr[1].Change; c == nil || c.Significant || *c.Low > 0 || *c.High < 0 {
		t.Errorf("same distribution judged a change: %+v", c)
	}
	c := tr[2].Change
	if c == nil || !c.Significant || *c.Diff < 20 || *c.Diff > 30 || *c.Low <= 0 {
		t.Errorf("one level better (about +25 points) not judged a change: %+v", c)
	}
	if len(tr[2].SectionChanges) != 13 || !tr[2].SectionChanges[0].Significant {
		t.Errorf("section changes: %+v", tr[2].SectionChanges)
	}
	// A wave below k shows nothing, and no change is computed next to it.
	tr = BuildTrend([]TrendWave{wave(1, a, ReportFilter{}), wave(2, better[:4], ReportFilter{}), wave(3, better, ReportFilter{})})
	if !tr[1].Suppressed || tr[1].CEM != nil || tr[1].Change != nil || tr[2].Change != nil {
		t.Errorf("suppressed wave: %+v / %+v", tr[1], tr[2])
	}
	// A filter applies to respondents' own scores too: nobody matches → suppressed.
	tr = BuildTrend([]TrendWave{wave(1, a, ReportFilter{Role: "it"}), wave(2, better, ReportFilter{Role: "it"})})
	if !tr[0].Suppressed || tr[1].Change != nil {
		t.Errorf("filtered trend: %+v", tr)
	}
}
