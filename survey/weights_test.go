package survey

import "testing"

func TestSectionWeights(t *testing.T) {
	w := ParseSectionWeights("RE=2, TS=0.5,XX,AP=abc,PE=0,CX=11")
	if len(w) != 2 || w["RE"] != 2 || w["TS"] != 0.5 {
		t.Errorf("parsed %v", w)
	}
	if got := FormatSectionWeights(map[string]float64{"TS": 0.5, "RE": 2, "AP": 1}); got != "RE=2,TS=0.5" {
		t.Errorf("formatted %q", got)
	}
	for in, want := range map[string]float64{"": 1, "2": 2, " 1,5 ": 1.5, "0.1": 0.1, "10": 10} {
		if got, ok := ParseWeightField(in); !ok || got != want {
			t.Errorf("field %q = %v, %v", in, got, ok)
		}
	}
	for _, bad := range []string{"0", "-1", "10.5", "x", "NaN", "1e400"} {
		if _, ok := ParseWeightField(bad); ok {
			t.Errorf("field %q accepted", bad)
		}
	}
}
