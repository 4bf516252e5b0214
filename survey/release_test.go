package survey_test

import (
	"context"
	"slices"
	"testing"

	"tiltline/survey"
	"tiltline/survey/surveytest"
)

// Submitted responses wait sealed; a release takes them only when every
// cell it changes grows by at least k, and every view reads the release.
func TestReleasesChangeResultsOnlyInStepsOfK(t *testing.T) {
	for _, dialect := range surveytest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			db, m, rs := respondents(t, dialect, 14)
			c := rs[0].Campaign
			submit := func(r *survey.Respondent) { submitInOneCell(t, db, m, rs[0], r) }
			publish := func() *survey.Release {
				t.Helper()
				r, err := survey.PublishRelease(ctx, db, testSecret, c.ID)
				if err != nil {
					t.Fatal(err)
				}
				return r
			}
			shown := func() int {
				rows, err := survey.LoadReportRows(ctx, db, c.ID)
				if err != nil {
					t.Fatal(err)
				}
				return len(rows)
			}
			for _, r := range rs[:4] {
				submit(r)
			}
			if r := publish(); r != nil || shown() != 0 {
				t.Fatalf("4 responses under k=5 released: %+v", r)
			}
			submit(rs[4])
			first := publish()
			if first == nil || first.Seq != 1 || first.Shown != 5 || shown() != 5 {
				t.Fatalf("5 responses: release %+v, %d shown", first, shown())
			}
			// One to four more change nothing; the release says they wait.
			for i, r := range rs[5:9] {
				submit(r)
				if got := publish(); got.Seq != 1 || shown() != 5 {
					t.Fatalf("%d more: release %d, %d shown", i+1, got.Seq, shown())
				}
			}
			submit(rs[9])
			second := publish()
			if second.Seq != 2 || second.Shown != 10 || second.HeldBack != 0 || shown() != 10 {
				t.Fatalf("five more: %+v, %d shown", second, shown())
			}
			var pending int64
			db.Read.Table("pending_responses").Where("campaign_id = ?", c.ID).Count(&pending)
			if pending != 0 {
				t.Errorf("%d pending rows left after release", pending)
			}
			// Rows read as their cell: one cell of ten, under its own profile.
			rows, _ := survey.LoadReportRows(ctx, db, c.ID)
			for _, row := range rows {
				if row.Role != "researcher" || row.Seniority != "staff" {
					t.Fatalf("row profile %q/%q", row.Role, row.Seniority)
				}
			}
			// Raising k regroups the release; lowering it is refused by the
			// form, and a release never goes below what it was made with.
			if err := db.Write.Model(&survey.Campaign{}).Where("id = ?", c.ID).Update("k_min", 11).Error; err != nil {
				t.Fatal(err)
			}
			third := publish()
			if third.Seq != 3 || third.K != 11 || shown() != 0 {
				t.Fatalf("k raised to 11: %+v, %d shown", third, shown())
			}
		})
	}
}

// The publisher's sweep finds a campaign while something of it waits: a
// pending response, or responses stored before releases existed; not once
// everything is released.
func TestCampaignsWaitingAreThoseWithSomethingToRelease(t *testing.T) {
	for _, dialect := range surveytest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			db, m, rs := respondents(t, dialect, 6)
			c := rs[0].Campaign
			waiting := func() bool {
				t.Helper()
				ids, err := survey.CampaignsWaiting(ctx, db)
				if err != nil {
					t.Fatal(err)
				}
				return slices.Contains(ids, c.ID)
			}
			submit := func(r *survey.Respondent) { submitInOneCell(t, db, m, rs[0], r) }
			if waiting() {
				t.Fatal("a campaign without responses waits")
			}
			for _, r := range rs[:5] {
				submit(r)
			}
			if !waiting() {
				t.Fatal("five pending responses do not wait")
			}
			if r, err := survey.PublishRelease(ctx, db, testSecret, c.ID); err != nil || r == nil || r.Shown != 5 {
				t.Fatalf("release %+v, %v", r, err)
			}
			if waiting() {
				t.Fatal("a fully released campaign still waits")
			}
			// Responses from before releases: stored, with no release.
			if err := db.Write.Exec("DELETE FROM releases WHERE campaign_id = ?", c.ID).Error; err != nil {
				t.Fatal(err)
			}
			if !waiting() {
				t.Fatal("responses stored before releases do not wait")
			}
		})
	}
}

// submitInOneCell answers as r in the unit of first, role and band fixed:
// everyone submitted this way shares one cell.
func submitInOneCell(t *testing.T, db *survey.DB, m *survey.Model, first, r *survey.Respondent) {
	t.Helper()
	ctx := context.Background()
	unit := first.Participant.UnitID
	if _, err := survey.StartDraft(ctx, db, m, r, survey.Profile{UnitID: unit, Role: "researcher", Seniority: "staff", Locale: "en"}); err != nil {
		t.Fatal(err)
	}
	if err := survey.Submit(ctx, db, testSecret, r); err != nil {
		t.Fatal(err)
	}
}
