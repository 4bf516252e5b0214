package survey_test

import (
	"testing"

	"tiltline/survey"
	"tiltline/survey/surveytest"
)

// An earlier wave's report built while its rows stream past is the report
// built from the rows kept in memory, number for number, on both
// databases, for the current wave and the one before; a campaign without
// a release is too few, as BuildReport says of no rows.
func TestReportFromTheStreamIsTheReportFromTheRows(t *testing.T) {
	for _, dialect := range surveytest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			db := surveytest.Open(t, dialect)
			m := surveytest.Model(t)
			demo := surveytest.Demo(t, db, 120)
			names := map[int64]string{}
			for _, id := range []int64{demo.CampaignID, demo.PreviousCampaignID} {
				c, err := survey.CampaignOf(t.Context(), db, 0, id)
				if err != nil {
					t.Fatal(err)
				}
				rows, err := survey.LoadReportRows(t.Context(), db, id)
				if err != nil {
					t.Fatal(err)
				}
				want := survey.BuildReport(m, c, rows, survey.ReportFilter{}, names)
				got, rel, err := survey.BuildReleasedReport(t.Context(), db, m, c, names)
				if err != nil || rel == nil {
					t.Fatalf("campaign %d: release %v, %v", id, rel, err)
				}
				if want.Suppressed || want.LeadersVsStaff == nil || len(want.Units) == 0 {
					t.Fatalf("campaign %d: the demo's report should show leaders and units: %+v", id, want)
				}
				if diff := reportDifference(want, got); diff != "" {
					t.Fatalf("campaign %d: %s", id, diff)
				}
			}
			// A campaign with no release: no rows, too few.
			c := &survey.Campaign{ID: 999_999, KMin: 5, Status: survey.StatusOpen}
			got, rel, err := survey.BuildReleasedReport(t.Context(), db, m, c, names)
			if err != nil || rel != nil || !got.Suppressed || got.Reason != "too_few" {
				t.Fatalf("no release: %+v, %v, %v", got, rel, err)
			}
		})
	}
}
