package survey_test

import (
	"context"
	"fmt"
	"testing"

	"tiltline/survey"
	"tiltline/survey/surveytest"
)

func TestReportOnTheDemoShowsTheSeedsPatternsUnderSuppression(t *testing.T) {
	ctx := context.Background()
	db := surveytest.Open(t, "sqlite")
	m := surveytest.Model(t)
	res := createDemo(t, db, 2000)
	var c survey.Campaign
	db.Read.First(&c, res.CampaignID)
	rows, err := survey.LoadReportRows(ctx, db, c.ID)
	// A few responses no cell of k can hold may wait.
	if err != nil || len(rows) < 1990 || len(rows) > 2000 {
		t.Fatalf("%d rows, %v", len(rows), err)
	}
	units, _ := survey.Units(ctx, db, c.OrganisationID)
	names := map[int64]string{}
	var small int64
	for _, u := range units {
		names[u.ID] = u.Name
		if u.Name == "Innovation Lab" {
			small = u.ID
		}
	}
	rep := survey.BuildReport(m, &c, rows, survey.ReportFilter{}, names)
	if rep.Suppressed || *rep.Responses != len(rows) || !rep.Preliminary {
		t.Fatalf("report: %+v", rep)
	}
	if o := *rep.Overall.CEM; o < 28 || o > 40 {
		t.Errorf("overall CEM %.1f, want around 35", o)
	}
	if *rep.Overall.Gap <= 0 {
		t.Error("intention should run ahead of reality")
	}
	lv := rep.LeadersVsStaff
	if !lv.Available || lv.Overall.Diff == nil || *lv.Overall.Diff < 8 || lv.Overall.P > 0.05 {
		t.Errorf("senior managers' over-estimation not visible: %+v", lv.Overall)
	}
	if len(rep.Sections) != 13 || len(rep.Practices) != len(m.Practices()) {
		t.Errorf("%d sections, %d practices", len(rep.Sections), len(rep.Practices))
	}
	// The unit of 3 is no group of its own: its people are among the
	// pooled "other units", and every group shown holds at least k.
	for _, g := range [][]survey.ReportGroup{rep.Units, rep.Roles, rep.Seniority} {
		for _, u := range g {
			if u.Name == "Innovation Lab" {
				t.Error("the unit of 3 is shown")
			}
			if u.Suppressed || u.Responses == nil || *u.Responses < c.KMin {
				t.Errorf("group %q: suppressed %v, %v responses", u.Key, u.Suppressed, u.Responses)
			}
		}
	}
	if len(rep.Units) < 2 || rep.Units[0].Key != "" {
		t.Errorf("no pooled units group first: %+v", rep.Units[0])
	}

	cases := []struct {
		name   string
		f      survey.ReportFilter
		reason string
	}{
		{"the unit of 3 is too few", survey.ReportFilter{UnitID: &small}, "too_few"},
		{"a role is a real view", survey.ReportFilter{Role: "researcher"}, ""},
		{"a seniority band is a real view", survey.ReportFilter{Seniority: "staff"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := survey.BuildReport(m, &c, rows, tc.f, names)
			if r.Reason != tc.reason || (tc.reason != "") != r.Suppressed {
				t.Errorf("reason %q, suppressed %v", r.Reason, r.Suppressed)
			}
			if r.Suppressed && (r.Responses != nil || r.Overall != nil || r.Practices != nil) {
				t.Error("a suppressed view shows numbers")
			}
		})
	}
	// Differencing: a view that is its superset minus fewer than k people is refused.
	var big int64
	for id, n := range names {
		if n == "Retail Banking" {
			big = id
		}
	}
	rowsPlus := append([]survey.ReportRow{}, rows...)
	for i := range rowsPlus {
		if rowsPlus[i].UnitID != nil && *rowsPlus[i].UnitID == big {
			rowsPlus[i].Role = "campaign-owner"
		}
	}
	odd := 0
	for i := range rowsPlus {
		if rowsPlus[i].UnitID != nil && *rowsPlus[i].UnitID == big && odd < 2 {
			rowsPlus[i].Role = "researcher"
			odd++
		}
	}
	r := survey.BuildReport(m, &c, rowsPlus, survey.ReportFilter{UnitID: &big, Role: "campaign-owner"}, names)
	if r.Reason != "differencing" {
		t.Errorf("unit minus 2 people: reason %q, want differencing", r.Reason)
	}
}

// BenchmarkReport measures building the whole unfiltered report from rows
// already in memory (what the API does on a cache hit), at 10k and 100k
// respondents: go test ./survey -bench Report -run XXX
func BenchmarkReport(b *testing.B) {
	m := surveytest.Model(b)
	for _, n := range []int{10_000, 100_000} {
		rows := make([]survey.ReportRow, n)
		units := []int64{1, 2, 3, 4, 5, 6}
		sen := []string{"senior-manager", "manager", "staff", "staff", "staff"}
		for i := range rows {
			a := make([]byte, m.AnswerSlots())
			for j := range a {
				a[j] = byte(1 + (i*7+j*13)%6)
			}
			rows[i] = survey.ReportRow{UnitID: &units[i%len(units)], Role: m.Roles[i%len(m.Roles)].Key, Seniority: sen[i%len(sen)], Answers: a}
		}
		c := &survey.Campaign{ID: 1, KMin: 5, Status: survey.StatusOpen}
		b.Run(fmt.Sprintf("respondents=%d", n), func(b *testing.B) {
			for b.Loop() {
				survey.BuildReport(m, c, rows, survey.ReportFilter{}, nil)
			}
		})
	}
}
