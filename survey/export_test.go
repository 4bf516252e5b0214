package survey_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"testing"

	"tiltline/survey"
	"tiltline/survey/surveytest"
)

func TestResponsesCSVLeavesOutColumnsThatWouldSingleOutSmallGroups(t *testing.T) {
	ctx := context.Background()
	db := surveytest.Open(t, "sqlite")
	m := surveytest.Model(t)
	res := createDemo(t, db, 300)
	var c survey.Campaign
	db.Read.First(&c, res.CampaignID)
	rows, _ := survey.LoadReportRows(ctx, db, c.ID)
	names := map[int64]string{}
	units, _ := survey.Units(ctx, db, c.OrganisationID)
	for _, u := range units {
		names[u.ID] = u.Name
	}
	names[units[0].ID] = "=HYPERLINK(\"http://evil\")"
	var buf bytes.Buffer
	if err := survey.WriteResponsesCSV(&buf, m, rows, c.KMin, names); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 301 {
		t.Fatalf("%d lines, want a header and 300 responses", len(recs))
	}
	head := map[string]bool{}
	for _, h := range recs[0] {
		head[h] = true
	}
	if head["unit"] {
		t.Error("the unit column is exported although one unit has 3 respondents")
	}
	if !head["seniority"] || !head["AP-01 intention"] || !head["TS-09 reality"] {
		t.Errorf("header lacks columns: %v", recs[0][:5])
	}
	if len(recs[0]) != 1+2+2*len(m.Practices()) {
		t.Errorf("%d columns", len(recs[0]))
	}
	for _, cell := range recs[1][3:] {
		switch cell {
		case "", "0", "25", "50", "75", "100", "dk":
		default:
			t.Fatalf("unexpected cell %q", cell)
		}
	}
	// Without the small unit, the unit column is safe — and formulas are defused.
	var big []survey.ReportRow
	for _, r := range rows {
		if r.UnitID != nil && names[*r.UnitID] != "Innovation Lab" {
			big = append(big, r)
		}
	}
	buf.Reset()
	survey.WriteResponsesCSV(&buf, m, big, c.KMin, names)
	if !bytes.Contains(buf.Bytes(), []byte(",unit,")) || bytes.Contains(buf.Bytes(), []byte(",=HYPERLINK")) || !bytes.Contains(buf.Bytes(), []byte(`'=HYPERLINK`)) {
		t.Error("unit column missing, or a formula was not defused")
	}
	if err := survey.WriteResponsesCSV(&buf, m, rows[:4], 5, names); !errors.Is(err, survey.ErrTooFewToExport) {
		t.Errorf("4 responses exported: %v", err)
	}
}

func BenchmarkResponsesCSV10k(b *testing.B) {
	m := surveytest.Model(b)
	rows := make([]survey.ReportRow, 10_000)
	for i := range rows {
		a := make([]byte, m.AnswerSlots())
		for j := range a {
			a[j] = byte(1 + (i+j)%6)
		}
		rows[i] = survey.ReportRow{Role: "researcher", Seniority: "staff", Answers: a}
	}
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		survey.WriteResponsesCSV(&buf, m, rows, 5, nil)
	}
}
