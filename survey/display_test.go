package survey_test

import (
	"testing"

	"tiltline/survey"
)

// Item 2 of issue 15: one rounding, from full precision, half away from
// zero. AP-01's intention of 50.516 showed as 50 % (the JSON's 50.5 rounded
// again, to even).
func TestRoundOnceHalfAwayFromZero(t *testing.T) {
	for _, c := range []struct {
		v    float64
		dec  int
		want string
	}{
		{50.516, 0, "51"}, // AP-01: never 50.5 → 50
		{50.5, 0, "51"},   // half away from zero, not to even
		{49.5, 0, "50"},
		{-2.5, 0, "-3"},
		{0.15, 1, "0.2"}, // stored as 0.1499…
		{2.84, 1, "2.8"}, // the trend's AP change: not 2.9 from rounded scores
		{-0.04, 1, "0.0"},
	} {
		if got := survey.FormatNumber("en", c.v, c.dec); got != c.want {
			t.Errorf("FormatNumber(%v, %d) = %s, want %s", c.v, c.dec, got, c.want)
		}
	}
	if got := survey.FormatNumber("de", 50.516, 1); got != "50,5" {
		t.Errorf("German decimal: %s", got)
	}
	if got := survey.FormatSigned("en", 2.45, 1); got != "+2.5" {
		t.Errorf("signed: %s", got)
	}
	if got := survey.FormatSigned("en", -1, 1); got != "\u22121.0" {
		t.Errorf("signed: %s", got)
	}
	i, r := 50.516, 30.49
	if d := survey.ShownDiff(&i, &r, 0); *d != 21 { // shown 51 and 30: gap 21, not round(20.026) = 20
		t.Errorf("shown gap = %v, want 21", *d)
	}
}

// Item 3: p under 0.001 reads "< 0.001", never 0.
func TestFormatPBelowOneInAThousand(t *testing.T) {
	for p, want := range map[float64]string{0: "< 0.001", 1e-9: "< 0.001", 0.0004: "< 0.001", 0.0005: "0.001", 0.0532: "0.053", 1: "1.000"} {
		if got := survey.FormatP("en", p); got != want {
			t.Errorf("FormatP(%v) = %q, want %q", p, got, want)
		}
	}
}
