package survey_test

import (
	"math/rand/v2"
	"testing"

	"tiltline/survey"
	"tiltline/survey/surveytest"
)

// Own scores and tallies are summed in tight loops; they must still be the
// definitions: a section's score is the mean LevelScore of its practices
// answered with a level, the overall the mean of the sections' scores, and
// a tally counts every slot, out-of-range bytes and missing slots as
// unanswered. Random vectors, short ones and bytes outside 0..6 included.
func TestOwnScoresAndTalliesFollowTheirDefinitions(t *testing.T) {
	m := surveytest.Model(t)
	rng := rand.New(rand.NewPCG(7, 11))
	tally, want := m.NewTally(), m.NewTally()
	for k := range 3000 {
		n := m.AnswerSlots()
		if k%3 == 0 {
			n = rng.IntN(n + 1)
		}
		answers := make([]byte, n)
		for i := range answers {
			answers[i] = byte(rng.IntN(7))
			if rng.IntN(20) == 0 {
				answers[i] = byte(rng.IntN(256))
			}
		}
		got := m.OwnScores(answers)
		var all [2]float64
		var alln [2]int
		for si, s := range m.Sections {
			var sum [2]float64
			var cnt [2]int
			for _, p := range s.Practices() {
				for d, dim := range survey.Dimensions {
					if slot := m.Slot(p, dim); slot < len(answers) && answers[slot] >= 1 && answers[slot] <= survey.NumLevels {
						sum[d] += survey.LevelScore(int(answers[slot]))
						cnt[d]++
					}
				}
			}
			for d := range 2 {
				v := survey.Value{}
				if cnt[d] > 0 {
					v = survey.Value{V: sum[d] / float64(cnt[d]), Valid: true}
					all[d] += v.V
					alln[d]++
				}
				if g := [2]survey.Value{got[si+1].Intention, got[si+1].Reality}[d]; g != v {
					t.Fatalf("vector %d (%d slots), section %d, dimension %d: %+v, want %+v", k, n, si, d, g, v)
				}
			}
		}
		for d := range 2 {
			v := survey.Value{}
			if alln[d] > 0 {
				v = survey.Value{V: all[d] / float64(alln[d]), Valid: true}
			}
			if g := [2]survey.Value{got[0].Intention, got[0].Reality}[d]; g != v {
				t.Fatalf("vector %d (%d slots), overall, dimension %d: %+v, want %+v", k, n, d, g, v)
			}
		}

		tally.Add(answers)
		want.N++
		for i := range want.Slots {
			v := survey.Unanswered
			if i < len(answers) && answers[i] <= survey.DontKnow {
				v = answers[i]
			}
			want.Slots[i][v]++
		}
	}
	for i := range want.Slots {
		if tally.Slots[i] != want.Slots[i] {
			t.Fatalf("tally slot %d: %v, want %v", i, tally.Slots[i], want.Slots[i])
		}
	}
}
