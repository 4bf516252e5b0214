package survey_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"tiltline/survey"
	"tiltline/survey/surveytest"
)

// FuzzParseAnswers: whatever an autosave body holds, ParseAnswers either
// refuses it with ErrInvalidAnswer or returns at least one answer whose level
// is storable; what it returns survives a JSON round trip unchanged; and the
// model either places every answer on a slot of the packed vector with the
// same value, or refuses the whole batch with ErrInvalidAnswer.
func FuzzParseAnswers(f *testing.F) {
	for _, s := range []string{
		`{"practice":"AP-01","dimension":"intention","level":3}`,
		`{"practice":"AP-01","dimension":"reality","level":"dk"}`,
		`[{"practice":"AP-01","dimension":"intention","level":1},{"practice":"PR-01","dimension":"reality","level":5}]`,
		`{"practice":"AP-01","dimension":"intention","level":""}`,
		`{"practice":"AP-01","dimension":"intention","level":null}`,
		`{"practice":"AP-01","dimension":"intention"}`,
		`{"PRACTICE":"AP-01","Dimension":"reality","LEVEL":2}`,
		`{"practice":"AP-01","dimension":"intention","level":2.0}`,
		`{"practice":"AP-01","dimension":"intention","level":1e0}`,
		`{"practice":"AP-01","dimension":"intention","level":-1}`,
		`{"practice":"AP-01","dimension":"intention","level":9223372036854775808}`,
		`{"practice":"AP-01","dimension":"intention","level":true}`,
		`{"practice":"AP-01","dimension":"intention","level":[1]}`,
		`{"practice":"AP-01","practice":"AP-02","dimension":"intention","level":1}`,
		`{"practice":"AP-01","dimension":"intention","level":1} {"x":1}`,
		`[]`, `[[]]`, `null`, `[null]`, `""`, `0`, ``, ` `, `{`, `[{}]`,
		"\xef\xbb\xbf{\"practice\":\"AP-01\",\"dimension\":\"intention\",\"level\":1}",
		"{\"practice\":\"AP-\xff\",\"dimension\":\"intention\",\"level\":1}",
		`{"practice":"AP-01\u0000","dimension":"intention","level":1}`,
	} {
		f.Add([]byte(s))
	}
	m := surveytest.Model(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		answers, err := survey.ParseAnswers(body)
		if err != nil {
			if !errors.Is(err, survey.ErrInvalidAnswer) {
				t.Fatalf("error %v is not ErrInvalidAnswer", err)
			}
			if answers != nil {
				t.Fatalf("answers %v returned with an error", answers)
			}
			return
		}
		if len(answers) == 0 {
			t.Fatal("no error and no answer")
		}
		for _, a := range answers {
			if byte(a.Level) > survey.DontKnow {
				t.Fatalf("level %d cannot be stored", a.Level)
			}
		}
		out, err := json.Marshal(answers)
		if err != nil {
			t.Fatal(err)
		}
		again, err := survey.ParseAnswers(out)
		if err != nil || !reflect.DeepEqual(again, answers) {
			t.Fatalf("round trip: %s gave %v, %v; want %v", out, again, err, answers)
		}
		slots, err := m.Slots(answers)
		if err != nil {
			if !errors.Is(err, survey.ErrInvalidAnswer) || slots != nil {
				t.Fatalf("Slots: %v, %v", slots, err)
			}
			return
		}
		if len(slots) != len(answers) {
			t.Fatalf("%d slots for %d answers", len(slots), len(answers))
		}
		// One slot per (practice, dimension), and never one for two of them.
		slotOf, pairOf := map[[2]string]int{}, map[int][2]string{}
		for i, s := range slots {
			pair := [2]string{answers[i].Practice, answers[i].Dimension}
			if s.Slot < 0 || s.Slot >= m.AnswerSlots() || s.Value != byte(answers[i].Level) {
				t.Fatalf("answer %+v placed as %+v", answers[i], s)
			}
			if prev, ok := slotOf[pair]; ok && prev != s.Slot {
				t.Fatalf("%v placed on slots %d and %d", pair, prev, s.Slot)
			}
			if prev, ok := pairOf[s.Slot]; ok && prev != pair {
				t.Fatalf("slot %d holds %v and %v", s.Slot, prev, pair)
			}
			slotOf[pair], pairOf[s.Slot] = s.Slot, pair
		}
	})
}
