package survey_test

import (
	"context"
	"testing"
	"time"

	"tiltline/survey"
	"tiltline/survey/surveytest"
)

func TestContributeToPool(t *testing.T) {
	for _, d := range surveytest.Dialects() {
		t.Run(d, func(t *testing.T) {
			db := surveytest.Open(t, d)
			m := surveytest.Model(t)
			ctx := context.Background()
			res, err := survey.CreateDemo(ctx, db, m, survey.DemoOptions{Responses: 40})
			if err != nil {
				t.Fatal(err)
			}
			var org survey.Organisation
			var c survey.Campaign
			db.Read.First(&c, res.PreviousCampaignID)
			db.Read.First(&org, c.OrganisationID)
			rows, err := survey.LoadReportRows(ctx, db, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			rep := survey.BuildReport(m, &c, rows, survey.ReportFilter{}, nil)
			now := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
			for range 2 { // again after the demo did: updates, never duplicates
				if err := survey.ContributeToPool(ctx, db, &org, &c, rep, now); err != nil {
					t.Fatal(err)
				}
			}
			pool, err := survey.LoadPool(ctx, db)
			if err != nil || len(pool) != 1 {
				t.Fatalf("pool = %v, %v", pool, err)
			}
			e := pool[0]
			year := 2026
			if c.ClosesAt != nil {
				year = c.ClosesAt.Year()
			}
			if e.Overall != *rep.Overall.CEM || e.Sector != org.Sector || e.Year != year || len(e.Sections) != 13 {
				t.Errorf("entry %+v", e)
			}
			org.BenchmarkOptIn = false
			if err := survey.ContributeToPool(ctx, db, &org, &c, rep, now); err != nil {
				t.Fatal(err)
			}
			if pool, _ := survey.LoadPool(ctx, db); len(pool) != 0 {
				t.Errorf("opted out but %d entries stay", len(pool))
			}
			org.BenchmarkOptIn = true
			small := survey.BuildBenchmark(m, nil, nil, survey.BenchmarkFilter{}, 0)
			if !small.Suppressed {
				t.Errorf("empty benchmark not suppressed: %+v", small)
			}
		})
	}
}
