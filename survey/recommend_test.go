package survey

import (
	"slices"
	"testing"
)

func f(v float64) Num { return &v }

func TestRecommendClassifiesAndOrders(t *testing.T) {
	rep := &Report{
		Practices: []ReportPractice{
			{ID: "AP-01", Subsection: "customer-management-strategy", ReportScore: ReportScore{Intention: f(30), Reality: f(20), CEM: f(25), Gap: f(10)}, DontKnowRate: f(0.05)},
			{ID: "AP-02", Subsection: "customer-management-strategy", ReportScore: ReportScore{Intention: f(80), Reality: f(40), CEM: f(60), Gap: f(40)}, DontKnowRate: f(0.05)},
			{ID: "RE-01", Subsection: "welcoming-and-getting-to-know", ReportScore: ReportScore{Intention: f(55), Reality: f(70), CEM: f(62.5), Gap: f(-15)}, DontKnowRate: f(0.05)},
			{ID: "TS-01", Subsection: "current-technology-capability", ReportScore: ReportScore{Intention: f(60), Reality: f(55), CEM: f(57.5), Gap: f(5)}, DontKnowRate: f(0.4)},
			{ID: "PR-01", Subsection: "understanding-customer-needs", ReportScore: ReportScore{Intention: f(70), Reality: f(65), CEM: f(67.5), Gap: f(5)}, DontKnowRate: f(0.1)},
			{ID: "PO-01", Subsection: "leadership-organisation-and-culture", ReportScore: ReportScore{Intention: f(70), Reality: f(62), CEM: f(66), Gap: f(8)}, DontKnowRate: f(0.1)},
		},
		LeadersVsStaff: &LeadersVsStaff{Available: true, Practices: []LeaderComparison{{ID: "PO-01", Delta: 0.5, Magnitude: DeltaLarge, Q: 0.01, Significant: true}}},
	}
	got := Recommend(rep, nil, 10)
	kinds := map[string][]string{}
	for _, r := range got {
		kinds[r.Practice] = r.Kinds
	}
	want := map[string]string{"AP-01": StrategyGap, "AP-02": ExecutionGap, "RE-01": HiddenStrength, "TS-01": Unknown, "PO-01": VerifyFirst}
	for id, k := range want {
		found := false
		for _, x := range kinds[id] {
			found = found || x == k
		}
		if !found {
			t.Errorf("%s: kinds %v, want %s", id, kinds[id], k)
		}
	}
	if _, ok := kinds["PR-01"]; ok {
		t.Error("a practice with no reason was recommended")
	}
	if got[0].Practice != "AP-01" || got[0].Priority != 75 {
		t.Errorf("first = %s (%v), want the lowest CEM first", got[0].Practice, got[0].Priority)
	}
	if w := Recommend(rep, map[string]float64{"AP": 0.1}, 10); w[0].Practice == "AP-01" {
		t.Error("a section weight must change the order")
	}
	if len(Recommend(rep, nil, 2)) != 2 || Recommend(&Report{Suppressed: true}, nil, 10) != nil {
		t.Error("limit or suppression ignored")
	}
	prev := &Report{Practices: []ReportPractice{{ID: "AP-01", ReportScore: ReportScore{CEM: f(20)}}}}
	WithMovement(got, prev)
	if got[0].Movement == nil || *got[0].Movement != 5 {
		t.Errorf("movement = %v, want +5", got[0].Movement)
	}
}

// A "don't know" rate of 34 % is above the 30 % line: it must survive
// rounding in the report and make the practice an "unknown".
func TestDontKnowRateKeepsItsPrecision(t *testing.T) {
	m := mustModel(t)
	p := m.Practices()[0]
	rows := make([]ReportRow, 100)
	for i := range rows {
		a := make([]byte, m.AnswerSlots())
		for j := range a {
			a[j] = 3
		}
		if i < 34 {
			a[m.Slot(p, Intention)], a[m.Slot(p, Reality)] = DontKnow, DontKnow
		}
		rows[i] = ReportRow{Answers: a}
	}
	rep := BuildReport(m, &Campaign{ID: 1, KMin: 5}, rows, ReportFilter{}, nil)
	if got := rep.Practices[0].DontKnowRate; got == nil || *got != 0.34 {
		t.Fatalf("don't-know rate = %v, want 0.34", got)
	}
	for _, r := range Recommend(rep, nil, len(rep.Practices)) {
		if r.Practice == p.ID {
			if !slices.Contains(r.Kinds, Unknown) {
				t.Errorf("kinds %v lack %q", r.Kinds, Unknown)
			}
			return
		}
	}
	t.Errorf("%s is not recommended at all", p.ID)
}
