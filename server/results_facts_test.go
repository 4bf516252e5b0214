package server

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tiltline/survey"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata")

// The three things to know on the golden demo (300 responses, seed 7),
// pinned in every language: a change to what they say shows up as a diff
// to review (go test ./server -run ThreeThings -update).
func TestThreeThingsGolden(t *testing.T) {
	a, _, _ := newTestApp(t)
	m := a.models.Latest()
	ctx := context.Background()
	demo, err := survey.CreateDemo(ctx, a.db, m, survey.DemoOptions{Responses: 300, Seed: 7, Now: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC), Secret: a.cfg.Secret, Reset: true}) // replaces the app's demo
	if err != nil {
		t.Fatal(err)
	}
	var cp survey.Campaign
	if err := a.db.Read.First(&cp, demo.CampaignID).Error; err != nil {
		t.Fatal(err)
	}
	rows, err := survey.LoadReportRows(ctx, a.db, cp.ID)
	if err != nil {
		t.Fatal(err)
	}
	rep := survey.BuildReport(m, &cp, rows, survey.ReportFilter{}, nil)
	bench := survey.BuildBenchmark(m, nil, survey.ReferenceSet(), survey.BenchmarkFilter{}, cp.OrganisationID)
	var got strings.Builder
	for _, lang := range survey.Locales {
		facts := keyFacts(rep, benchmarkView(bench, rep, m, lang), m, lang, func(id string, data map[string]any) string { return a.i18n.T(lang, id, data) })
		if len(facts) != 3 {
			t.Errorf("%s: %d things, want 3", lang, len(facts))
		}
		for _, f := range facts {
			fmt.Fprintf(&got, "%s %s\n    → %s\n", lang, f.Text, f.Href)
		}
	}
	path := filepath.Join("testdata", "three_things_demo.golden.txt")
	if *updateGolden {
		if err := os.WriteFile(path, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got.String() != string(want) {
		t.Errorf("three things differ from the golden file:\n%s", got.String())
	}
}

// The campaign overview lists each campaign with its status, release date,
// responses, rate, overall score and change since the previous wave.
func TestCampaignOverview(t *testing.T) {
	a, _, _ := newTestApp(t)
	demo := biggerDemo(t, a, 120)
	f := managerFlow(t, a, demo)
	code, page := f.get("/results")
	if code != http.StatusOK {
		t.Fatalf("/results = %d", code)
	}
	for _, want := range []string{`<table class="data overview">`, fmt.Sprintf(`href="/results/%d"`, demo.CampaignID), fmt.Sprintf(`href="/results/%d"`, demo.PreviousCampaignID), " responded", "real change"} {
		if !strings.Contains(page, want) {
			t.Errorf("overview lacks %q", want)
		}
	}
}

// Below k the page shows the count so far and how many more are needed,
// and nothing else: no filters, no figures, no trend.
func TestBelowKShowsOnlyTheCount(t *testing.T) {
	a, demo, _ := newTestApp(t)
	a.db.Write.Model(&survey.Campaign{}).Where("id = ?", demo.CampaignID).Update("k_min", 50)
	f := managerFlow(t, a, demo)
	code, page := f.get(fmt.Sprintf("/results/%d", demo.CampaignID))
	if code != http.StatusOK {
		t.Fatal(code)
	}
	shown, _ := survey.CountResponses(t.Context(), a.db, demo.CampaignID)
	want := fmt.Sprintf("%d responses so far; %d more are needed", shown, 50-shown)
	if !strings.Contains(page, want) {
		t.Errorf("below-k page lacks %q", want)
	}
	for _, not := range []string{`<form method="get" class="filters"`, "<svg", "trend-h", "export.xlsx"} {
		if strings.Contains(page, not) {
			t.Errorf("below-k page shows %q", not)
		}
	}
}
