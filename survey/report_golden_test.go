package survey_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"tiltline/survey"
	"tiltline/survey/surveytest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestReportGolden pins the report JSON of the demo seed: any change to
// scoring, statistics, suppression, recommendations or the JSON shape shows
// up here as a diff to review (go test ./survey -run Golden -update).
func TestReportGolden(t *testing.T) {
	db := surveytest.Open(t, "sqlite")
	m := surveytest.Model(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	demo, err := survey.CreateDemo(ctx, db, m, survey.DemoOptions{Responses: 300, Seed: 7, Now: now, Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	var cp survey.Campaign
	if err := db.Read.First(&cp, demo.CampaignID).Error; err != nil {
		t.Fatal(err)
	}
	units, err := survey.Units(ctx, db, cp.OrganisationID)
	if err != nil {
		t.Fatal(err)
	}
	names := map[int64]string{}
	var small int64
	for _, u := range units {
		names[u.ID] = u.Name
		if u.Name == "Innovation Lab" {
			small = u.ID
		}
	}
	rows, err := survey.LoadReportRows(ctx, db, cp.ID)
	if err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]survey.ReportFilter{
		"report_demo.golden.json":       {},
		"report_demo_staff.golden.json": {Seniority: "staff"},
		"report_demo_small.golden.json": {UnitID: &small}, // the unit of 3: suppressed
	} {
		rep := survey.BuildReport(m, &cp, rows, f, names)
		got, err := goldenJSON(rep)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, '\n')
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the golden file; review with -update and git diff", name)
		}
	}
}

// goldenJSON is the report's JSON with every number cut to 10 significant
// digits: the report keeps full precision, and sums over respondents in
// the order the database returns them differ in the last bits.
func goldenJSON(rep *survey.Report) ([]byte, error) {
	js, err := json.Marshal(rep)
	if err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal(js, &v); err != nil {
		return nil, err
	}
	var cut func(any) any
	cut = func(x any) any {
		switch y := x.(type) {
		case float64:
			if y == 0 {
				return y
			}
			r, _ := strconv.ParseFloat(strconv.FormatFloat(y, 'g', 10, 64), 64)
			return r
		case map[string]any:
			for k, e := range y {
				y[k] = cut(e)
			}
		case []any:
			for i, e := range y {
				y[i] = cut(e)
			}
		}
		return x
	}
	return json.MarshalIndent(cut(v), "", "  ")
}
