package export_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"strings"
	"testing"

	"tiltline/survey"
	"tiltline/survey/export"
	"tiltline/survey/surveytest"
)

func TestResponsesCSVLeavesOutColumnsThatWouldSingleOutSmallGroups(t *testing.T) {
	ctx := context.Background()
	db := surveytest.Open(t, "sqlite")
	m := surveytest.Model(t)
	res := surveytest.Demo(t, db, 300)
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
	if err := export.WriteResponsesCSV(&buf, m, rows, c.KMin, names); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(rows)+1 || len(rows) < 290 {
		t.Fatalf("%d lines for %d released of 300 responses", len(recs), len(rows))
	}
	// The export carries the attributes of each response's cell: every
	// combination of them is shared by at least k rows, so a row's profile
	// matches no fewer than k people of the participant list.
	if strings.Join(recs[0][:4], ",") != "response,unit,role,seniority" || len(recs[0]) != 4+2*len(m.Practices()) {
		t.Fatalf("header %v… (%d columns)", recs[0][:5], len(recs[0]))
	}
	combos := map[string]int{}
	for _, rec := range recs[1:] {
		combos[strings.Join(rec[1:4], "|")]++
		if rec[1] == "Innovation Lab" {
			t.Error("the unit of 3 is exported by name")
		}
		for _, cell := range rec[4:] {
			switch cell {
			case "", "0", "25", "50", "75", "100", "dk":
			default:
				t.Fatalf("unexpected cell %q", cell)
			}
		}
	}
	for combo, n := range combos {
		if n < survey.EffectiveK(c.KMin) {
			t.Errorf("%d rows share %q", n, combo)
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
	export.WriteResponsesCSV(&buf, m, big, c.KMin, names)
	if !bytes.Contains(buf.Bytes(), []byte(",unit,")) || bytes.Contains(buf.Bytes(), []byte(",=HYPERLINK")) || !bytes.Contains(buf.Bytes(), []byte(`'=HYPERLINK`)) {
		t.Error("unit column missing, or a formula was not defused")
	}
	if err := export.WriteResponsesCSV(&buf, m, rows[:4], 5, names); !errors.Is(err, export.ErrTooFew) {
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
		export.WriteResponsesCSV(&buf, m, rows, 5, nil)
	}
}
