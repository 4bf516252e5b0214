package survey_test

import (
	"context"
	"math"
	"testing"

	"tiltline/survey"
	"tiltline/survey/surveytest"
)

// PracticeChanges, from sums, gives what PracticeChange gives from the
// scores themselves under the trend's rule; and nothing for a view that is
// not shown.
func TestPracticeChangesAgreeWithTheTrendsRule(t *testing.T) {
	db := surveytest.Open(t, "sqlite")
	m := surveytest.Model(t)
	ctx := context.Background()
	res, err := survey.CreateDemo(ctx, db, m, survey.DemoOptions{Responses: 60, Secret: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	load := func(id int64, f survey.ReportFilter) (*survey.Report, []survey.ReportRow) {
		c, _ := survey.CampaignOf(ctx, db, 0, id)
		rows, err := survey.LoadReportRows(ctx, db, id)
		if err != nil {
			t.Fatal(err)
		}
		return survey.BuildReport(m, c, rows, f, nil), rows
	}
	from, rf := load(res.PreviousCampaignID, survey.ReportFilter{})
	to, rt := load(res.CampaignID, survey.ReportFilter{})
	all := survey.PracticeChanges(m, m, from, to)
	if len(all) != len(m.Practices()) {
		t.Fatalf("%d practices with a change, want %d", len(all), len(m.Practices()))
	}
	same := func(a, b survey.Num) bool {
		return a == nil && b == nil || a != nil && b != nil && math.Abs(*a-*b) < 1e-9
	}
	for _, p := range m.Practices() {
		for i, d := range survey.Dimensions {
			one, got := survey.PracticeChange(m, m, from, to, rf, rt, p.ID, d), all[p.ID][i]
			if one == nil || got == nil || !same(one.Diff, got.Diff) || !same(one.Low, got.Low) || !same(one.High, got.High) || one.Significant != got.Significant {
				t.Fatalf("%s %s: %+v from the scores, %+v from the sums", p.ID, d, one, got)
			}
		}
	}
	hidden, _ := load(res.PreviousCampaignID, survey.ReportFilter{Role: "no-such-role"})
	if got := survey.PracticeChanges(m, m, hidden, to); got != nil {
		t.Errorf("a change from a suppressed view: %d practices", len(got))
	}
}
