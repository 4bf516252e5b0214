package server

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"tiltline/survey"
)

// Issue 15, items 1, 2, 3 and 9 as the manager reads them.

// Item 1: a filtered view's rate divides by its own group's invitations,
// not the organisation's; where respondents chose the group themselves,
// the count shows without a rate, and says why.
func TestFilteredResponseRateUsesTheGroupsInvitations(t *testing.T) {
	a, demo, _ := newTestApp(t)
	f := managerFlow(t, a, demo)
	rows, err := survey.LoadReportRows(t.Context(), a.db, demo.CampaignID)
	if err != nil {
		t.Fatal(err)
	}
	staff := len(survey.FilterRows(rows, survey.ReportFilter{Seniority: "staff"}))
	var invited, all int64
	a.db.Read.Table("invitations i").Joins("JOIN participants p ON p.id = i.participant_id").
		Where("i.campaign_id = ? AND p.seniority = ?", demo.CampaignID, "staff").Count(&invited)
	a.db.Read.Model(&survey.Invitation{}).Where("campaign_id = ?", demo.CampaignID).Count(&all)
	if invited == all || invited == 0 {
		t.Fatalf("the demo should invite staff and others: %d of %d", invited, all)
	}
	path := fmt.Sprintf("/results/%d", demo.CampaignID)
	// The whole campaign first: its rate needs only the total, and the
	// split by profile a filtered view then needs must still be counted.
	_, page := f.get(path)
	whole := fmt.Sprintf("%d <span class=\"muted small\">/ %d · %s responded", len(rows), all, survey.FormatNumber("en", 100*float64(len(rows))/float64(all), 0)+" %")
	if !strings.Contains(page, whole) {
		t.Errorf("whole campaign's view lacks %q", whole)
	}
	code, page := f.get(path + "?seniority=staff")
	if code != http.StatusOK {
		t.Fatalf("staff view = %d", code)
	}
	want := fmt.Sprintf("%d <span class=\"muted small\">/ %d · %s responded", staff, invited, survey.FormatNumber("en", 100*float64(staff)/float64(invited), 0)+" %")
	if !strings.Contains(page, want) {
		t.Errorf("staff view lacks %q (rate against the organisation's %d invitations?)", want, all)
	}
	// Respondents choose their seniority: no rate, and why.
	a.db.Write.Model(&survey.Campaign{}).Where("id = ?", demo.CampaignID).Update("ask_seniority", true)
	_, page = f.get(path + "?seniority=staff")
	if strings.Contains(page, " responded</span>") || !strings.Contains(page, "no rate: respondents chose this group themselves") {
		t.Error("a self-chosen group must show its count without a rate, and say why")
	}
	// The API carries the same.
	r := get(t, a, fmt.Sprintf("/api/v1/campaigns/%d/report?seniority=staff", demo.CampaignID), "Authorization", "Bearer "+demo.APIToken)
	if b := body(t, r); !strings.Contains(b, `"no_rate":"self_chosen"`) {
		t.Error("the API's participation lacks the reason there is no rate")
	}
}

var practiceRowRE = regexp.MustCompile(`>([A-Z]{2}-\d\d)</a> <span class="statement">.*?</th>\s*<td class="num">(\d+) %.*?</td><td class="num">(\d+) %.*?</td><td class="num">(-?\d+)</td>`)

// Item 2: every figure is rounded once, from full precision, half away
// from zero; the gap shown is the difference of the figures shown.
func TestPageRoundsOnceAndGapsAddUp(t *testing.T) {
	a, demo, _ := newTestApp(t)
	f := managerFlow(t, a, demo)
	code, page := f.get(fmt.Sprintf("/results/%d", demo.CampaignID))
	if code != http.StatusOK {
		t.Fatal(code)
	}
	var cp survey.Campaign
	a.db.Read.First(&cp, demo.CampaignID)
	rows, _ := survey.LoadReportRows(t.Context(), a.db, demo.CampaignID)
	rep := survey.BuildReport(a.models.Latest(), &cp, rows, survey.ReportFilter{}, nil)
	full := map[string]survey.ReportPractice{}
	halves := 0
	for _, p := range rep.Practices {
		full[p.ID] = p
		if p.Intention != nil && *p.Intention-float64(int(*p.Intention)) == 0.5 {
			halves++
		}
	}
	if halves == 0 {
		t.Fatal("the demo should have practices on an exact half, where rounding to even differs")
	}
	found := practiceRowRE.FindAllStringSubmatch(page, -1)
	if len(found) != len(rep.Practices) {
		t.Fatalf("parsed %d practice rows of %d", len(found), len(rep.Practices))
	}
	for _, m := range found {
		p := full[m[1]]
		i, _ := strconv.Atoi(m[2])
		r, _ := strconv.Atoi(m[3])
		g, _ := strconv.Atoi(m[4])
		if want := survey.FormatNumber("en", *p.Intention, 0); m[2] != want {
			t.Errorf("%s intention shows %s, want %s (from %v)", m[1], m[2], want, *p.Intention)
		}
		if g != i-r {
			t.Errorf("%s: gap %d beside %d and %d", m[1], g, i, r)
		}
	}
}

// Item 3: p under 0.001 reads "< 0.001" on the page, never "0".
func TestPageWritesTinyPAsBelowOneInAThousand(t *testing.T) {
	p := &Page{Lang: "en"}
	if got := p.PV(3e-9); got != "< 0.001" {
		t.Errorf("PV(3e-9) = %q", got)
	}
	if got := (&Page{Lang: "de"}).PV(0.0532); got != "= 0,053" {
		t.Errorf("PV(0.0532) in German = %q", got)
	}
}

// Item 9: the response file applies the filters like every other download:
// an unknown value is a 400, a known one selects its rows.
func TestResponseFileAppliesFilters(t *testing.T) {
	a, demo, _ := newTestApp(t)
	f := managerFlow(t, a, demo)
	base := fmt.Sprintf("/results/%d/export.csv", demo.CampaignID)
	if code, _ := f.get(base + "?role=astronaut"); code != http.StatusBadRequest {
		t.Errorf("unknown role = %d, want 400", code)
	}
	rows, _ := survey.LoadReportRows(t.Context(), a.db, demo.CampaignID)
	staff := len(survey.FilterRows(rows, survey.ReportFilter{Seniority: "staff"}))
	code, csv := f.get(base + "?seniority=staff")
	if code != http.StatusOK || strings.Count(csv, "\r\n") != staff+1 {
		t.Errorf("staff file = %d with %d lines, want %d rows", code, strings.Count(csv, "\r\n")-1, staff)
	}
}
