package survey

import (
	"errors"
	"testing"
)

func TestParseAnswers(t *testing.T) {
	cases := []struct {
		name, body string
		want       int // answers parsed, or -1 for an error
	}{
		{"one answer with a level", `{"practice":"AP-01","dimension":"intention","level":3}`, 1},
		{"don't know", `{"practice":"AP-01","dimension":"reality","level":"dk"}`, 1},
		{"a list", `[{"practice":"AP-01","dimension":"intention","level":1},{"practice":"AP-02","dimension":"reality","level":5}]`, 2},
		{"level zero is no level", `{"practice":"AP-01","dimension":"intention","level":0}`, -1},
		{"level six is no level", `{"practice":"AP-01","dimension":"intention","level":6}`, -1},
		{"fractional level", `{"practice":"AP-01","dimension":"intention","level":2.5}`, -1},
		{"unknown word as level", `{"practice":"AP-01","dimension":"intention","level":"high"}`, -1},
		{"unknown field", `{"practice":"AP-01","dimension":"intention","level":1,"user":"x"}`, -1},
		{"empty list", `[]`, -1},
		{"trailing garbage", `{"practice":"AP-01","dimension":"intention","level":1} {}`, -1},
		{"not JSON", `level=3`, -1},
		{"empty body", ``, -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseAnswers([]byte(tc.body))
			if tc.want < 0 {
				if !errors.Is(err, ErrInvalidAnswer) {
					t.Errorf("want ErrInvalidAnswer, got %v (%v)", err, got)
				}
				return
			}
			if err != nil || len(got) != tc.want {
				t.Errorf("got %v, %v", got, err)
			}
		})
	}
}

func TestSlotsRejectTheWholeBatchOnOneBadAnswer(t *testing.T) {
	m := mustModel(t)
	ok := Answer{Practice: "AP-01", Dimension: Intention, Level: 2}
	for name, bad := range map[string]Answer{
		"unknown practice":  {Practice: "XX-01", Dimension: Intention, Level: 2},
		"unknown dimension": {Practice: "AP-01", Dimension: "hope", Level: 2},
	} {
		if _, err := m.Slots([]Answer{ok, bad}); !errors.Is(err, ErrInvalidAnswer) {
			t.Errorf("%s: %v", name, err)
		}
	}
	slots, err := m.Slots([]Answer{ok, {Practice: "AP-01", Dimension: Reality, Level: AnswerValue(DontKnow)}})
	if err != nil || slots[0] != (SlotValue{0, 2}) || slots[1] != (SlotValue{1, DontKnow}) {
		t.Errorf("slots = %v, %v", slots, err)
	}
}

func TestFormValues(t *testing.T) {
	for in, want := range map[string]byte{"1": 1, "5": 5, "dk": DontKnow} {
		var v AnswerValue
		if err := v.UnmarshalText([]byte(in)); err != nil || byte(v) != want {
			t.Errorf("%q -> %d, %v", in, v, err)
		}
	}
	for _, in := range []string{"0", "6", "", "10", "DK", "1 "} {
		var v AnswerValue
		if err := v.UnmarshalText([]byte(in)); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

func TestProgress(t *testing.T) {
	m := mustModel(t)
	a := make([]byte, m.AnswerSlots())
	p := m.ProgressOf(a)
	if p.Answered != 0 || p.FirstOpen() != 0 || p.Percent() != 0 {
		t.Errorf("empty: %+v", p)
	}
	for _, pr := range m.Sections[0].Practices() {
		a[m.Slot(pr, Intention)] = 3
		a[m.Slot(pr, Reality)] = DontKnow // don't know counts as answered
	}
	p = m.ProgressOf(a)
	if p.SectionsDone() != 1 || p.FirstOpen() != 1 || p.Answered != 2*len(m.Sections[0].Practices()) {
		t.Errorf("first section done: %+v", p)
	}
	for i := range a {
		a[i] = 1
	}
	if p = m.ProgressOf(a); p.FirstOpen() != -1 || p.Percent() != 100 {
		t.Errorf("all done: %+v", p)
	}
}
