package survey

import (
	"math"
	"testing"
)

func TestScoreHistogramStatistics(t *testing.T) {
	tests := []struct {
		name   string
		h      Histogram
		mean   Value
		dkRate Value
		rwg    Value
	}{
		{"nothing answered has no mean, rate or rWG", Histogram{4, 0, 0, 0, 0, 0, 0}, Value{}, Value{}, Value{}},
		{"score is (5 - level)/4 x 100: level 1 is 100", Histogram{0, 1}, Value{100, true}, Value{0, true}, Value{}},
		{"score of level 5 is 0 and one answer has no rWG", Histogram{0, 0, 0, 0, 0, 1}, Value{0, true}, Value{0, true}, Value{}},
		{"mean is over answered levels only", Histogram{0, 1, 1, 1, 1, 1}, Value{50, true}, Value{0, true}, Value{0, true}},
		{"don't know is excluded from the mean and counted as a rate", Histogram{3, 0, 2, 0, 0, 0, 2}, Value{75, true}, Value{0.5, true}, Value{1, true}},
		{"only don't knows: no score but a rate of 1", Histogram{0, 0, 0, 0, 0, 0, 3}, Value{}, Value{1, true}, Value{}},
		{"rWG of full agreement is 1", Histogram{0, 0, 3}, Value{75, true}, Value{0, true}, Value{1, true}},
		{"rWG is 1 - s2/2 with the sample variance: levels 2,3 give 0.75", Histogram{0, 0, 1, 1}, Value{62.5, true}, Value{0, true}, Value{0.75, true}},
		{"rWG below 0 is clipped to 0: levels 1,5", Histogram{0, 1, 0, 0, 0, 1}, Value{50, true}, Value{0, true}, Value{0, true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, c := range []struct {
				what      string
				got, want Value
			}{{"mean", tc.h.Mean(), tc.mean}, {"don't-know rate", tc.h.DontKnowRate(), tc.dkRate}, {"rWG", tc.h.RWG(), tc.rwg}} {
				if c.got.Valid != c.want.Valid || math.Abs(c.got.V-c.want.V) > 1e-9 || math.IsNaN(c.got.V) {
					t.Errorf("%s = %+v, want %+v", c.what, c.got, c.want)
				}
			}
		})
	}
	if got := (Histogram{0, 1, 2, 3, 4, 5}).ByScore(); got[0] != 5 || got[4] != 1 {
		t.Errorf("ByScore must order by ascending score (level 5 first): %v", got)
	}
}

// uniform builds a packed response answering every practice with the given
// intention and reality values.
func uniform(m *Model, intention, reality byte) []byte {
	a := make([]byte, m.AnswerSlots())
	for _, p := range m.Practices() {
		a[m.Slot(p, Intention)] = intention
		a[m.Slot(p, Reality)] = reality
	}
	return a
}

func TestTallyCountsEverySlotInOnePass(t *testing.T) {
	m := mustModel(t)
	answers := [][]byte{uniform(m, 1, 5), uniform(m, 2, DontKnow), uniform(m, 1, 0)}
	tl := m.Tally(answers)
	if tl.N != 3 || len(tl.Slots) != m.AnswerSlots() {
		t.Fatalf("N = %d, slots = %d", tl.N, len(tl.Slots))
	}
	if got := tl.Slots[0]; got != (Histogram{0, 2, 1, 0, 0, 0, 0}) {
		t.Errorf("intention slot 0 = %v", got)
	}
	if got := tl.Slots[1]; got != (Histogram{1, 0, 0, 0, 0, 1, 1}) {
		t.Errorf("reality slot 1 = %v", got)
	}

	inc := m.NewTally()
	for _, a := range answers {
		inc.Add(a)
	}
	if inc.N != tl.N || inc.Slots[5] != tl.Slots[5] {
		t.Error("Tally.Add one by one must equal Model.Tally")
	}

	t.Run("short vectors and invalid bytes count as unanswered", func(t *testing.T) {
		x := m.NewTally()
		x.Add([]byte{9, 3})
		if x.Slots[0] != (Histogram{1}) || x.Slots[1] != (Histogram{0, 0, 0, 1}) || x.Slots[2] != (Histogram{1}) {
			t.Errorf("slots = %v %v %v", x.Slots[0], x.Slots[1], x.Slots[2])
		}
	})
	t.Run("merging tallies adds them", func(t *testing.T) {
		a, b := m.Tally(answers[:1]), m.Tally(answers[1:])
		a.Merge(b)
		if a.N != 3 || a.Slots[0] != tl.Slots[0] || a.Slots[1] != tl.Slots[1] {
			t.Errorf("merged = %d %v %v", a.N, a.Slots[0], a.Slots[1])
		}
	})
}

func TestTallyByGroupsInOnePass(t *testing.T) {
	m := mustModel(t)
	type rec struct {
		seniority string
		answers   []byte
	}
	recs := []rec{{"senior-manager", uniform(m, 1, 1)}, {"staff", uniform(m, 5, 5)}, {"senior-manager", uniform(m, 2, 2)}}
	by := TallyBy(m, recs, func(r rec) []byte { return r.answers }, func(r rec) string { return r.seniority })
	if len(by) != 2 || by["senior-manager"].N != 2 || by["staff"].N != 1 {
		t.Fatalf("groups = %v", by)
	}
	if by["senior-manager"].Slots[0] != (Histogram{0, 1, 1}) || by["staff"].Slots[0] != (Histogram{0, 0, 0, 0, 0, 1}) {
		t.Errorf("slot 0: %v / %v", by["senior-manager"].Slots[0], by["staff"].Slots[0])
	}
}

func TestScoresRollUpPracticesSectionsAndOverall(t *testing.T) {
	m := mustModel(t)
	s := m.Scores(m.Tally([][]byte{uniform(m, 1, 5), uniform(m, 1, 3)}))
	want := Score{Intention: Value{100, true}, Reality: Value{25, true}, CEM: Value{62.5, true}, Gap: Value{75, true}}
	if s.N != 2 || len(s.Practices) != len(m.Practices()) || len(s.Subsections) != len(m.Subsections()) || len(s.Sections) != 13 {
		t.Fatalf("shape: N %d, %d practices, %d subsections, %d sections", s.N, len(s.Practices), len(s.Subsections), len(s.Sections))
	}
	for name, got := range map[string]Score{
		"practice": s.Practices[0].Score, "subsection": s.Subsections[0].Score,
		"section": s.Sections[12].Score, "overall": s.Overall,
	} {
		if got != want {
			t.Errorf("%s score = %+v, want CEM = mean(I, R) and gap = I - R: %+v", name, got, want)
		}
	}
	if st := s.Practices[0].RealityStats; st.Answered != 2 || !st.ViewsDiffer || st.RWG != (Value{0, true}) {
		t.Errorf("levels 5 and 3 (s2 = 2) give rWG 0 and the views-differ flag: %+v", st)
	}
	if st := s.Practices[0].IntentionStats; st.ViewsDiffer || st.RWG != (Value{1, true}) {
		t.Errorf("full agreement: %+v", st)
	}
}

func TestScoresSectionIsTheMeanOfItsPracticesNotOfItsSubsections(t *testing.T) {
	m := mustModel(t)
	var sec *Section
	for _, s := range m.Sections {
		if len(s.Subsections) >= 2 && len(s.Subsections[0].Practices) != len(s.Subsections[1].Practices) {
			sec = s
			break
		}
	}
	if sec == nil {
		t.Skip("no section with unequal sub-sections")
	}
	a := make([]byte, m.AnswerSlots())
	for _, p := range sec.Practices() {
		a[m.Slot(p, Intention)] = 5 // 0 %
	}
	for _, p := range sec.Subsections[0].Practices {
		a[m.Slot(p, Intention)] = 1 // 100 %
	}
	s := m.Scores(m.Tally([][]byte{a}))
	want := 100 * float64(len(sec.Subsections[0].Practices)) / float64(len(sec.Practices()))
	got := s.Sections[sec.Index].Intention
	if !got.Valid || math.Abs(got.V-want) > 1e-9 {
		t.Errorf("section %s intention = %+v, want %.3f", sec.ID, got, want)
	}
	if s.Sections[sec.Index].Reality.Valid || s.Sections[sec.Index].CEM.Valid || s.Sections[sec.Index].Gap.Valid {
		t.Error("reality unanswered: reality, CEM and gap must be invalid")
	}
	// Overall = mean of the sections with a score; here only this one.
	if s.Overall.Intention != got {
		t.Errorf("overall = %+v, want the only scored section %+v", s.Overall.Intention, got)
	}
}

func TestScoresOfAGroupWithNothingAnsweredAreInvalidNotNaN(t *testing.T) {
	m := mustModel(t)
	for name, tl := range map[string]Tally{
		"no responses":        m.NewTally(),
		"only unanswered":     m.Tally([][]byte{make([]byte, m.AnswerSlots())}),
		"only don't know":     m.Tally([][]byte{uniform(m, DontKnow, DontKnow)}),
		"tally with no slots": {},
	} {
		s := m.Scores(tl)
		all := []Score{s.Overall}
		for _, p := range s.Practices {
			all = append(all, p.Score)
		}
		for _, x := range s.Sections {
			all = append(all, x.Score)
		}
		for _, x := range s.Subsections {
			all = append(all, x.Score)
		}
		for _, sc := range all {
			if sc.Intention.Valid || sc.Reality.Valid || sc.CEM.Valid || sc.Gap.Valid || math.IsNaN(sc.CEM.V) {
				t.Fatalf("%s: %+v must be invalid", name, sc)
			}
		}
		if name == "only don't know" {
			if s.DontKnowRate != (Value{1, true}) || !s.Practices[0].IntentionStats.HighDontKnow {
				t.Errorf("don't know everywhere: rate %+v, flag %v", s.DontKnowRate, s.Practices[0].IntentionStats.HighDontKnow)
			}
		} else if s.DontKnowRate.Valid {
			t.Errorf("%s: don't-know rate %+v", name, s.DontKnowRate)
		}
	}
}
