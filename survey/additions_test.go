package survey_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"tiltline/survey"
	"tiltline/survey/surveytest"
)

// TestParticipantsAddedAfterOpeningAreRecorded: every addition to a
// campaign's list once it has opened is recorded, as counts by day, account
// and method, in the transaction that adds; before opening nothing is; and
// the record names none of the people added.
func TestParticipantsAddedAfterOpeningAreRecorded(t *testing.T) {
	for _, dialect := range surveytest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			db, m, c := importFixture(t, dialect)
			ada := &survey.User{OrganisationID: &c.OrganisationID, Email: "ada@acme.example", Name: "Ada Admin", Role: survey.RoleOrgAdmin}
			bob := &survey.User{OrganisationID: &c.OrganisationID, Email: "bob@acme.example", Role: survey.RoleOrgAdmin}
			if err := db.Write.Create([]*survey.User{ada, bob}).Error; err != nil {
				t.Fatal(err)
			}
			file := func(from, n int) string {
				var b strings.Builder
				b.WriteString("email,name\n")
				for i := from; i < from+n; i++ {
					fmt.Fprintf(&b, "person%d@example.com,Person Number%d\n", i, i)
				}
				return b.String()
			}
			// In draft: the list being drawn up, not recorded.
			if _, err := survey.ImportParticipants(ctx, db, testSecret, c, preview(t, db, m, c, file(0, 20)), false, ada); err != nil {
				t.Fatal(err)
			}
			if _, err := survey.AddParticipant(ctx, db, testSecret, c, survey.ImportRow{Email: "early@example.com"}, ada); err != nil {
				t.Fatal(err)
			}
			if got := additions(t, db, c.ID); len(got) != 0 {
				t.Fatalf("additions before opening recorded: %+v", got)
			}

			stale := *c // the caller's copy still says draft; the campaign row decides
			if err := survey.SetCampaignStatus(ctx, db, c, survey.StatusOpen); err != nil {
				t.Fatal(err)
			}
			if _, err := survey.ImportParticipants(ctx, db, testSecret, &stale, preview(t, db, m, c, file(20, 12)), false, ada); err != nil {
				t.Fatal(err)
			}
			// A file whose people are all in already adds nothing, and records nothing.
			if _, err := survey.ImportParticipants(ctx, db, testSecret, c, &survey.ImportPreview{Rows: []survey.ImportRow{{Line: 2, Email: "person20@example.com"}}}, false, ada); err != nil {
				t.Fatal(err)
			}
			for _, email := range []string{"late1@example.com", "late2@example.com"} {
				if _, err := survey.AddParticipant(ctx, db, testSecret, c, survey.ImportRow{Email: email, Name: "Late Comer"}, bob); err != nil {
					t.Fatal(err)
				}
			}
			// A refused add records nothing.
			if _, err := survey.AddParticipant(ctx, db, testSecret, c, survey.ImportRow{Email: "late1@example.com"}, bob); err == nil {
				t.Fatal("a second add of the same email was accepted")
			}
			if err := survey.SetCampaignStatus(ctx, db, c, survey.StatusClosed); err != nil {
				t.Fatal(err)
			}
			if _, err := survey.AddParticipant(ctx, db, testSecret, c, survey.ImportRow{Email: "after-close@example.com"}, ada); err != nil {
				t.Fatal(err)
			}
			// Deleting the account keeps its name in the trail.
			if err := db.Write.Delete(&survey.User{}, ada.ID).Error; err != nil {
				t.Fatal(err)
			}

			got := additions(t, db, c.ID)
			today := time.Now().UTC().Truncate(24 * time.Hour)
			want := []survey.AdditionDay{
				{Day: today, Added: 12, By: "Ada Admin", Method: survey.AddedByImport},
				{Day: today, Added: 2, By: "bob@acme.example", Method: survey.AddedByHand},
				{Day: today, Added: 1, By: "Ada Admin", Method: survey.AddedByHand},
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("additions\n got %+v\nwant %+v", got, want)
			}

			var cells []string
			for _, row := range surveytest.Rows(t, db.Read, "SELECT * FROM participant_additions") {
				cells = append(cells, row...)
			}
			for _, cell := range cells {
				if strings.Contains(cell, "example.com") || strings.Contains(cell, "Late Comer") || strings.Contains(cell, "Person Number") {
					t.Errorf("the trail names someone added: %q", cell)
				}
			}
			if len(cells) == 0 {
				t.Error("no rows read: the check above proves nothing")
			}
		})
	}
}

func additions(t *testing.T, db *survey.DB, campaignID int64) []survey.AdditionDay {
	t.Helper()
	got, err := survey.ParticipantAdditions(context.Background(), db, campaignID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}
