package survey_test

import (
	"fmt"
	"testing"

	"tiltline/survey"
	"tiltline/survey/surveytest"
)

// The response-rate table hides small units by the same rule as every
// breakdown (SuppressGroups): two units under k hide the next-smallest too
// when together they hold fewer than k, or the campaign total minus the
// shown units would give the pair's counts.
func TestResponseRatesHideUntilTheHiddenHoldK(t *testing.T) {
	ctx := t.Context()
	db := surveytest.Open(t, "sqlite")
	org := survey.Organisation{Name: "Rates Ltd"}
	if err := db.Write.Create(&org).Error; err != nil {
		t.Fatal(err)
	}
	cp := survey.Campaign{OrganisationID: org.ID, Name: "Rates", ModelVersion: 1, KMin: 5, Status: survey.StatusOpen, Locales: "en"}
	if err := db.Write.Create(&cp).Error; err != nil {
		t.Fatal(err)
	}
	invited := map[string]int{"Audit": 2, "Branch": 1, "Call centre": 10, "Direct": 12}
	n := 0
	for name, count := range invited {
		u := survey.BusinessUnit{OrganisationID: org.ID, Name: name}
		if err := db.Write.Create(&u).Error; err != nil {
			t.Fatal(err)
		}
		for range count {
			n++
			p := survey.Participant{CampaignID: cp.ID, Email: fmt.Sprintf("p%d@example.com", n), UnitID: &u.ID, Locale: "en"}
			if err := db.Write.Create(&p).Error; err != nil {
				t.Fatal(err)
			}
			inv := survey.Invitation{ID: fmt.Sprintf("inv-%d", n), ParticipantID: p.ID, CampaignID: cp.ID, TokenHash: fmt.Sprintf("h%d", n), Status: survey.InviteCompleted}
			if err := db.Write.Create(&inv).Error; err != nil {
				t.Fatal(err)
			}
		}
	}
	rates, err := survey.ResponseRates(ctx, db, &cp)
	if err != nil {
		t.Fatal(err)
	}
	hidden, hiddenInvited := map[string]bool{}, 0
	for _, r := range rates {
		hidden[r.Unit] = r.Suppressed
		if r.Suppressed {
			hiddenInvited += invited[r.Unit]
			if r.Invited != 0 || r.Opened != 0 || r.Completed != 0 {
				t.Errorf("hidden unit %s shows counts %+v", r.Unit, r)
			}
		}
	}
	want := map[string]bool{"Audit": true, "Branch": true, "Call centre": true, "Direct": false}
	if fmt.Sprint(hidden) != fmt.Sprint(want) {
		t.Errorf("hidden = %v, want %v (Audit 2 + Branch 1 < k = 5: the next-smallest hides too)", hidden, want)
	}
	if hiddenInvited < 5 {
		t.Errorf("the hidden units together hold %d invitations, fewer than k", hiddenInvited)
	}
}
