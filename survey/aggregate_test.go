package survey_test

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"tiltline/survey"
	"tiltline/survey/surveytest"
)

// A big view is gathered on every core and the parts added up: the report
// must be the one a single pass gives, number for number (the moments are
// merged pairwise, so the last digits may differ; nothing shown does).
func TestBigReportIsTheSameOnOneCoreAndOnMany(t *testing.T) {
	m := surveytest.Model(t)
	rng := rand.New(rand.NewPCG(7, 11))
	units := []int64{1, 2, 3}
	roles := []string{"agent", "sales", "it"}
	bands := []string{"staff", "middle", survey.SeniorBand}
	rows := make([]survey.ReportRow, 50_000)
	for i := range rows {
		u := units[rng.IntN(len(units))]
		lean := byte(1 + i%5)
		rows[i] = survey.ReportRow{UnitID: &u, Role: roles[rng.IntN(3)], Seniority: bands[rng.IntN(3)],
			Answers: answers(m, func(*survey.Practice, string) byte {
				switch r := rng.IntN(10); {
				case r == 0:
					return 0
				case r == 1:
					return survey.DontKnow
				case r < 6:
					return lean
				default:
					return byte(1 + rng.IntN(5))
				}
			})}
	}
	c := closedCampaign(5)
	prev := runtime.GOMAXPROCS(1)
	one := survey.BuildReport(m, c, rows, survey.ReportFilter{}, nil)
	runtime.GOMAXPROCS(max(prev, 4))
	many := survey.BuildReport(m, c, rows, survey.ReportFilter{}, nil)
	runtime.GOMAXPROCS(prev)
	if one.LeadersVsStaff == nil || !one.LeadersVsStaff.Available || len(one.Units) != 3 {
		t.Fatalf("the test view lacks what it compares: leaders %+v, %d units", one.LeadersVsStaff, len(one.Units))
	}
	if diff := reportDifference(one, many); diff != "" {
		t.Fatal(diff)
	}
}

// reportDifference is the first place two reports' JSON differ, numbers
// within 1e-9; empty when they agree.
func reportDifference(want, got *survey.Report) string {
	var a, b any
	ja, _ := json.Marshal(want)
	jb, _ := json.Marshal(got)
	_ = json.Unmarshal(ja, &a)
	_ = json.Unmarshal(jb, &b)
	return firstDifference("report", a, b)
}

// firstDifference walks two decoded JSON values; numbers may differ by 1e-9.
func firstDifference(path string, a, b any) string {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return fmt.Sprintf("%s: %v vs %v", path, a, b)
		}
		for k := range x {
			if d := firstDifference(path+"."+k, x[k], y[k]); d != "" {
				return d
			}
		}
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return fmt.Sprintf("%s: %d vs %d items", path, len(x), len(y))
		}
		for i := range x {
			if d := firstDifference(fmt.Sprintf("%s[%d]", path, i), x[i], y[i]); d != "" {
				return d
			}
		}
	case float64:
		y, ok := b.(float64)
		if !ok || math.Abs(x-y) > 1e-9*math.Max(1, math.Abs(x)) {
			return fmt.Sprintf("%s: %v vs %v", path, a, b)
		}
	default:
		if a != b {
			return fmt.Sprintf("%s: %v vs %v", path, a, b)
		}
	}
	return ""
}
