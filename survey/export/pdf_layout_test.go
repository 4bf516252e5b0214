package export_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"gopkg.in/yaml.v3"

	"tiltline/locales"
	"tiltline/survey"
	"tiltline/survey/export"
	"tiltline/survey/surveytest"
)

// fullDoc is exportDoc with what sits beside the report on the page: the
// reference benchmark, a rate and two waves.
func fullDoc(t *testing.T, locale string) *export.Doc {
	d := exportDoc(t, 400, locale, survey.ReportFilter{})
	d.Benchmark = survey.BuildBenchmark(d.Model, nil, survey.ReferenceSet(), survey.BenchmarkFilter{}, 0)
	invited, rate := 571, 400.0/571
	d.Participation = &survey.Participation{Responses: *d.Report.Responses, Invited: &invited, Rate: &rate}
	rows := exportRows(d.Model, 400)
	prev := &survey.Campaign{ID: 41, Name: "Wave 2025", WaveLabel: "2025", Status: survey.StatusClosed, KMin: 5}
	d.Trend = survey.BuildTrend([]survey.TrendWave{
		{Campaign: prev, Report: survey.BuildReport(d.Model, prev, rows[:300], survey.ReportFilter{}, exportUnits)},
		{Campaign: d.Campaign, Report: d.Report}})
	return d
}

// realT translates with the shipped locale files, so text has its real length.
func realT(t *testing.T, lang string) func(string, map[string]any) string {
	bundle := i18n.NewBundle(language.English)
	bundle.RegisterUnmarshalFunc("yaml", yaml.Unmarshal)
	files, err := fs.Glob(locales.FS, "*."+lang+".yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("locale files for %s: %v", lang, err)
	}
	for _, f := range files {
		if _, err := bundle.LoadMessageFileFS(locales.FS, f); err != nil {
			t.Fatal(err)
		}
	}
	l := i18n.NewLocalizer(bundle, lang)
	return func(id string, data map[string]any) string {
		s, err := l.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data})
		if err != nil {
			return id
		}
		return s
	}
}

// No two pieces of text overlap on the radar page (positions from the PDF
// writer itself), nor anywhere else, in any of the shipped languages.
func TestPDFTextNeverOverlaps(t *testing.T) {
	for _, lang := range survey.Locales {
		d := fullDoc(t, lang)
		d.T = realT(t, lang)
		boxes, err := export.PDFLayout(d)
		if err != nil {
			t.Fatal(err)
		}
		radarPage := 0
		for _, b := range boxes {
			if b.Text == d.T("results.radar", nil) {
				radarPage = b.Page
			}
		}
		if radarPage == 0 {
			t.Fatal("no radar heading")
		}
		onRadar := 0
		const tol = 0.05 // mm
		for i, a := range boxes {
			if a.Page == radarPage {
				onRadar++
			}
			for _, b := range boxes[i+1:] {
				if a.Page != b.Page {
					continue
				}
				if a.X+a.W > b.X+tol && b.X+b.W > a.X+tol && a.Y+a.H > b.Y+tol && b.Y+b.H > a.Y+tol {
					t.Errorf("%s page %d: %q (%.1f,%.1f %.1f×%.1f) overlaps %q (%.1f,%.1f %.1f×%.1f)", lang, a.Page,
						a.Text, a.X, a.Y, a.W, a.H, b.Text, b.X, b.Y, b.W, b.H)
				}
			}
		}
		if onRadar < 13+4 {
			t.Errorf("%s: only %d text boxes on the radar page", lang, onRadar)
		}
	}
}

// pdftotext finds every section name, the response rate and the comparison
// position in the PDF, and pages for the heatmap and the trend.
func TestPDFCarriesSectionsRateAndPosition(t *testing.T) {
	d := fullDoc(t, "en")
	d.T = func(id string, data map[string]any) string {
		switch id {
		case "results.rate":
			return fmt.Sprint(data["Rate"], " responded")
		case "results.things.position_reference":
			return fmt.Sprint("above ", data["Rank"], " % of ", data["N"])
		}
		return id
	}
	var buf bytes.Buffer
	if err := export.WritePDF(&buf, d); err != nil {
		t.Fatal(err)
	}
	text, ok := surveytest.PDFText(t, buf.Bytes())
	if !ok {
		t.Skip("pdftotext (poppler-utils) is not installed")
	}
	rank := d.Benchmark.Rank(*d.Report.Overall.CEM)
	want := []string{"400 / 571", "70 % responded", fmt.Sprintf("above %s %% of 650", survey.FormatNumber("en", rank, 0)), "results.heat.units", "results.trend.title"}
	for _, s := range d.Model.Sections {
		want = append(want, s.Title.In("en"))
	}
	flat := strings.Join(strings.Fields(text), " ")
	for _, w := range want {
		if !strings.Contains(flat, w) {
			t.Errorf("PDF text lacks %q", w)
		}
	}
}
