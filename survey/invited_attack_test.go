package survey_test

import (
	"testing"

	"tiltline/survey"
)

// An attacker who knows the participant list (every admin does) and reads
// the rate of each view learns nothing about a hidden group: a suppressed
// view gets no participation at all, so neither its count nor a rate from
// which the count could be worked back (rate × invitations).
func TestParticipationOfAHiddenViewShowsNothing(t *testing.T) {
	unit := int64(7)
	invited := []survey.InvitedGroup{{UnitID: &unit, Role: "agent", N: 12}, {UnitID: &unit, Role: "manager", N: 3}}
	c := &survey.Campaign{}
	three := 3
	hidden := &survey.Report{Suppressed: true, Responses: &three, Filter: survey.ReportFilter{UnitID: &unit, Role: "manager"}}
	if p := survey.ParticipationOf(c, invited, hidden); p != nil {
		t.Fatalf("a suppressed view shows participation %+v", p)
	}
	// The same view shown (k reached) gives its own group's rate: 3 of 3.
	shown := &survey.Report{Responses: &three, Filter: survey.ReportFilter{UnitID: &unit, Role: "manager"}}
	p := survey.ParticipationOf(c, invited, shown)
	if p == nil || p.Invited == nil || *p.Invited != 3 || p.Rate == nil || *p.Rate != 1 {
		t.Fatalf("shown view: %+v, want 3 of 3 invited", p)
	}
}
