package survey_test

import (
	"context"
	"encoding/json"
	"math"
	"testing"
	"time"

	"tiltline/survey"
	"tiltline/survey/surveytest"
)

// Issue 15, items 3–8: the numbers a reader sees must be the true ones.

// answers packs one response: intention and reality level per practice
// (0 leaves it unanswered).
func answers(m *survey.Model, level func(p *survey.Practice, dim string) byte) []byte {
	a := make([]byte, m.AnswerSlots())
	for _, p := range m.Practices() {
		for _, d := range survey.Dimensions {
			a[m.Slot(p, d)] = level(p, d)
		}
	}
	return a
}

func everywhere(l byte) func(*survey.Practice, string) byte {
	return func(*survey.Practice, string) byte { return l }
}

func closedCampaign(k int) *survey.Campaign {
	return &survey.Campaign{ID: 1, Name: "Wave", KMin: k, Status: survey.StatusClosed}
}

// demoReport is the golden demo's whole-organisation report.
func demoReport(t *testing.T) (*survey.Model, *survey.Report) {
	t.Helper()
	db := surveytest.Open(t, "sqlite")
	m := surveytest.Model(t)
	ctx := context.Background()
	demo, err := survey.CreateDemo(ctx, db, m, survey.DemoOptions{Responses: 300, Seed: 7, Now: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC), Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	var cp survey.Campaign
	if err := db.Read.First(&cp, demo.CampaignID).Error; err != nil {
		t.Fatal(err)
	}
	rows, err := survey.LoadReportRows(ctx, db, cp.ID)
	if err != nil {
		t.Fatal(err)
	}
	return m, survey.BuildReport(m, &cp, rows, survey.ReportFilter{}, nil)
}

// Item 3: p under 0.001 was stored as 0 and q vanished from the JSON when
// it rounded to zero. Both are always present, at full precision.
func TestReportJSONKeepsPAndQ(t *testing.T) {
	_, rep := demoReport(t)
	js, err := json.Marshal(rep.LeadersVsStaff)
	if err != nil {
		t.Fatal(err)
	}
	var lv struct {
		Overall   map[string]any   `json:"overall"`
		Sections  []map[string]any `json:"sections"`
		Practices []map[string]any `json:"practices"`
	}
	if err := json.Unmarshal(js, &lv); err != nil {
		t.Fatal(err)
	}
	all := append(append([]map[string]any{lv.Overall}, lv.Sections...), lv.Practices...)
	if len(lv.Practices) == 0 {
		t.Fatal("the demo should list practices where views part")
	}
	for _, c := range all {
		p, okP := c["p"].(float64)
		_, okQ := c["q"].(float64)
		if !okP || !okQ {
			t.Fatalf("%v: p and q must both be present", c["id"])
		}
		if p == 0 {
			t.Errorf("%v: p stored as 0; keep full precision", c["id"])
		}
	}
	if p := rep.LeadersVsStaff.Overall.P; p >= 0.001 || survey.FormatP("en", p) != "< 0.001" {
		t.Errorf("demo overall p = %v should read < 0.001", p)
	}
}

// smallView is the case: 5 senior managers and 21 others who
// differ on every practice by the same pattern — a large δ (0.52) whose
// normal approximation gives p = 0.046 but whose exact p is 0.067.
func smallView(m *survey.Model) []survey.ReportRow {
	var rows []survey.ReportRow
	add := func(n int, band string, level byte) {
		for range n {
			rows = append(rows, survey.ReportRow{Seniority: band, Answers: answers(m, func(p *survey.Practice, d string) byte {
				if d == survey.Intention {
					return 2
				}
				return level
			})})
		}
	}
	add(5, survey.SeniorBand, 3) // 50 points
	add(14, "staff", 4)          // 25
	add(4, "staff", 3)           // 50
	add(3, "staff", 2)           // 75
	return rows
}

// Item 4: the exact permutation p is the one shown whenever it is computed.
func TestSmallGroupsShowTheExactP(t *testing.T) {
	m := surveytest.Model(t)
	rep := survey.BuildReport(m, closedCampaign(5), smallView(m), survey.ReportFilter{}, nil)
	lv := rep.LeadersVsStaff
	if !lv.Available || lv.Seniors != 5 || lv.Others != 21 {
		t.Fatalf("want 5 seniors against 21 others, got %+v", lv)
	}
	if len(lv.Practices) != len(m.Practices()) {
		t.Fatalf("every practice has a large δ: %d listed", len(lv.Practices))
	}
	for _, p := range lv.Practices {
		if !p.Exact || math.Abs(p.P-0.0674) > 0.0005 {
			t.Fatalf("%s: p = %v (exact %t), want the exact 0.067", p.ID, p.P, p.Exact)
		}
	}
}

// Item 5: a large δ without q ≤ 0.05 is indicative, never a finding: not
// significant, and not a reason to "verify first".
func TestEffectSizeAloneIsNoFinding(t *testing.T) {
	m := surveytest.Model(t)
	rep := survey.BuildReport(m, closedCampaign(5), smallView(m), survey.ReportFilter{}, nil)
	for _, p := range rep.LeadersVsStaff.Practices {
		if p.Significant || p.Q <= 0.05 {
			t.Fatalf("%s: q = %v counted as a finding", p.ID, p.Q)
		}
	}
	for _, r := range rep.Recommendations {
		for _, k := range r.Kinds {
			if k == survey.VerifyFirst {
				t.Fatalf("%s: verify first on δ alone", r.Practice)
			}
		}
	}
	// Sections are adjusted across the 13 sections and overall.
	for _, s := range append([]survey.LeaderComparison{*rep.LeadersVsStaff.Overall}, rep.LeadersVsStaff.Sections...) {
		if s.Q < s.P {
			t.Errorf("%s: q %v below p %v", s.ID, s.Q, s.P)
		}
	}
}

// Item 6: the trend's interval uses Welch's t with its degrees of freedom.
// Two waves of three whose variances are equal have df = 4, t = 2.776.
func TestTrendIntervalUsesWelchT(t *testing.T) {
	m := surveytest.Model(t)
	wave := func(id int64, levels ...byte) survey.TrendWave {
		var rows []survey.ReportRow
		for _, l := range levels {
			rows = append(rows, survey.ReportRow{Seniority: "staff", Answers: answers(m, everywhere(l))})
		}
		c := closedCampaign(3)
		c.ID = id
		return survey.TrendWave{Campaign: c, Report: survey.BuildReport(m, c, rows, survey.ReportFilter{}, nil)}
	}
	tr := survey.BuildTrend([]survey.TrendWave{wave(1, 5, 4, 3), wave(2, 4, 3, 2)}) // 0, 25, 50 → 25, 50, 75
	ch := tr[1].Change
	if ch == nil || ch.Diff == nil || ch.DF == nil {
		t.Fatalf("no change: %+v", ch)
	}
	se := math.Sqrt(625.0/3 + 625.0/3)
	if math.Abs(*ch.DF-4) > 1e-9 || math.Abs(*ch.Diff-25) > 1e-9 {
		t.Fatalf("df = %v, diff = %v", *ch.DF, *ch.Diff)
	}
	if want := 25 - 2.776445*se; math.Abs(*ch.Low-want) > 1e-3 {
		t.Errorf("low = %v, want %v (t for df 4, not z)", *ch.Low, want)
	}
	if ch.Significant {
		t.Error("an interval spanning zero is noise")
	}
}

// Item 7: one definition of a respondent's own score. Senior managers'
// reality in leaders against staff is the same number as in the seniority
// breakdown, even when respondents answer different numbers of practices.
func TestOneOwnScoreEverywhere(t *testing.T) {
	m := surveytest.Model(t)
	var rows []survey.ReportRow
	for i := range 10 {
		band := "staff"
		if i < 5 {
			band = survey.SeniorBand
		}
		first := i == 0
		rows = append(rows, survey.ReportRow{Seniority: band, Answers: answers(m, func(p *survey.Practice, d string) byte {
			if first { // answers only each sub-section's first practice, at the best level
				if p.Subsection.Practices[0] == p {
					return 1
				}
				return 0
			}
			return byte(2 + i%3)
		})})
	}
	rep := survey.BuildReport(m, closedCampaign(5), rows, survey.ReportFilter{}, nil)
	var senior *survey.ReportGroup
	for i := range rep.Seniority {
		if rep.Seniority[i].Key == survey.SeniorBand {
			senior = &rep.Seniority[i]
		}
	}
	if senior == nil || senior.Overall == nil {
		t.Fatal("no senior managers in the breakdown")
	}
	lv := rep.LeadersVsStaff
	if math.Abs(*lv.Overall.Senior-*senior.Overall.Reality) > 1e-9 {
		t.Errorf("senior reality: %v in leaders against staff, %v in the breakdown", *lv.Overall.Senior, *senior.Overall.Reality)
	}
	// The trend's own scores: overall is the mean of the respondent's section scores.
	if own := m.OwnScores(rows[0].Answers)[0].CEM; !own.Valid || own.V != 100 {
		t.Errorf("own overall score of the first respondent = %v, want 100", own)
	}
}

// Item 8: practice and section scores carry their 95 % half-width.
func TestScoresCarryTheirInterval(t *testing.T) {
	m := surveytest.Model(t)
	var rows []survey.ReportRow
	levels := []byte{1, 2, 2, 3, 3, 3, 4, 4, 5, 5, 2, 3, 4, 4, 3, 2, 1, 5, 3, 3, 4, 2, 3, 4, 3, 2} // 26 people
	for _, l := range levels {
		rows = append(rows, survey.ReportRow{Seniority: "staff", Answers: answers(m, everywhere(l))})
	}
	rep := survey.BuildReport(m, closedCampaign(5), rows, survey.ReportFilter{}, nil)
	var sum, sq float64
	for _, l := range levels {
		sum += survey.LevelScore(int(l))
	}
	mean := sum / 26
	for _, l := range levels {
		d := survey.LevelScore(int(l)) - mean
		sq += d * d
	}
	want := 2.059539 * math.Sqrt(sq/25/26) // t(25)
	p := rep.Practices[0]
	if p.Margin == nil || p.Margin.Reality == nil || math.Abs(*p.Margin.Reality-want) > 1e-3 {
		t.Fatalf("practice reality ± = %v, want %.3f", p.Margin, want)
	}
	s := rep.Sections[0]
	if s.Margin == nil || s.Margin.CEM == nil || math.Abs(*s.Margin.CEM-want) > 1e-3 {
		t.Fatalf("section CEM ± = %v, want %.3f (everyone answered alike)", s.Margin, want)
	}
	js, _ := json.Marshal(p)
	var back map[string]any
	_ = json.Unmarshal(js, &back)
	if _, ok := back["margin"].(map[string]any)["reality"].(float64); !ok {
		t.Errorf("JSON lacks the margin: %s", js)
	}
}
