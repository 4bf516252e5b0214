package export_test

import (
	"bytes"
	"encoding/csv"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"tiltline/survey"
	"tiltline/survey/export"
	"tiltline/survey/surveytest"
)

// exportRows makes n synthetic responses over four units of equal size and
// one unit of three (so the breakdown suppresses it), one in eight a senior
// manager who rates reality a level better than the others do.
func exportRows(m *survey.Model, n int) []survey.ReportRow {
	rng := rand.New(rand.NewPCG(7, 11))
	units := []int64{1, 2, 3, 4}
	small := int64(5)
	rows := make([]survey.ReportRow, n)
	for i := range rows {
		u := units[i%len(units)]
		if i < 3 {
			u = small
		}
		sen := "staff"
		if i%8 == 0 {
			sen = survey.SeniorBand
		}
		a := make([]byte, m.AnswerSlots())
		for j := range a {
			switch v := rng.IntN(20); {
			case v == 0:
				a[j] = survey.DontKnow
			case v == 1:
				a[j] = survey.Unanswered
			default:
				lvl := 2 + rng.IntN(4)
				if j%2 == 1 && sen == survey.SeniorBand && lvl > 1 {
					lvl--
				}
				a[j] = byte(lvl)
			}
		}
		rows[i] = survey.ReportRow{UnitID: &u, Role: "staff", Seniority: sen, Answers: a}
	}
	return rows
}

var exportUnits = map[int64]string{1: "Retail", 2: "=cmd|' /C calc'!A0", 3: "Service", 4: "Marketing", 5: "Lab"}

// exportDoc is a report over n synthetic responses, labelled by a
// translator that returns message ids (enough to see the structure).
func exportDoc(tb testing.TB, n int, locale string, f survey.ReportFilter) *export.Doc {
	m := surveytest.Model(tb)
	cp := &survey.Campaign{ID: 42, Name: "Wave 2026 – Größe", WaveLabel: "2026", Status: survey.StatusOpen, KMin: 5, ModelVersion: m.Version}
	rep := survey.BuildReport(m, cp, exportRows(m, n), f, exportUnits)
	return &export.Doc{Model: m, Campaign: cp, Report: rep, Organisation: "Demo Bank", UnitNames: exportUnits, Locale: locale,
		T:         func(id string, _ map[string]any) string { return id },
		Link:      func(slug, p string) string { return "http://test/learn/" + slug + "#" + p },
		Generated: time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)}
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int:
		return strconv.Itoa(x)
	default:
		return ""
	}
}

func TestAggregateCSVHasOneRowPerSectionAndPracticeFromTheReport(t *testing.T) {
	d := exportDoc(t, 400, "de", survey.ReportFilter{})
	d.T = func(id string, _ map[string]any) string {
		if id == "export.overall" {
			return "=SUM(A1)" // a label that would run as a formula
		}
		return id
	}
	var buf bytes.Buffer
	if err := export.WriteAggregateCSV(&buf, d); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	rep := d.Report
	if want := 1 + 1 + len(rep.Sections) + len(rep.Practices); len(recs) != want {
		t.Fatalf("%d records, want %d", len(recs), want)
	}
	if strings.Join(recs[0], ",") != "kind,id,title,intention,reality,cem,gap,answered,dont_know_rate,views_differ" {
		t.Errorf("header %v", recs[0])
	}
	if recs[1][0] != "overall" || recs[1][2] != "'=SUM(A1)" || recs[1][5] != csvNum(rep.Overall.CEM) || recs[1][7] != strconv.Itoa(*rep.Responses) {
		t.Errorf("overall row %v", recs[1])
	}
	sec := recs[2]
	if sec[0] != "section" || sec[1] != rep.Sections[0].ID || sec[2] != "Analyse und Planung" || sec[3] != csvNum(rep.Sections[0].Intention) {
		t.Errorf("first section row %v", sec)
	}
	p := recs[2+len(rep.Sections)]
	rp := rep.Practices[0]
	if p[0] != "practice" || p[1] != rp.ID || !strings.HasPrefix(p[2], "Wir stützen") || p[4] != csvNum(rp.Reality) ||
		p[6] != csvNum(rp.Gap) || p[7] != strconv.Itoa(rp.Answered) || p[8] != csvNum(rp.DontKnowRate) || p[9] != strconv.FormatBool(rp.ViewsDiffer) {
		t.Errorf("first practice row %v, report %+v", p, rp)
	}
}

func csvNum(v survey.Num) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
}

func TestFileExportsRefuseASuppressedView(t *testing.T) {
	small := int64(5)
	d := exportDoc(t, 400, "en", survey.ReportFilter{UnitID: &small})
	if !d.Report.Suppressed {
		t.Fatal("a unit of 3 must be suppressed")
	}
	for name, write := range map[string]func(io.Writer, *export.Doc) error{
		"csv": export.WriteAggregateCSV, "xlsx": export.WriteWorkbook, "pdf": export.WritePDF,
	} {
		var buf bytes.Buffer
		if err := write(&buf, d); err != export.ErrSuppressed || buf.Len() > 0 {
			t.Errorf("%s: %v, %d bytes", name, err, buf.Len())
		}
	}
}

func TestWorkbookCarriesTheReportAsNumbers(t *testing.T) {
	d := exportDoc(t, 400, "en", survey.ReportFilter{})
	var buf bytes.Buffer
	if err := export.WriteWorkbook(&buf, d); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := []string{"export.sheet.summary", "export.sheet.sections", "export.sheet.practices", "export.sheet.heatmap", "export.sheet.leaders", "export.sheet.recommendations"}
	if got := f.GetSheetList(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("sheets %v", got)
	}
	rep := d.Report
	// Numbers are numbers.
	for cell, v := range map[string]*float64{"B11": rep.Overall.CEM, "B9": rep.Overall.Intention} {
		typ, _ := f.GetCellType("export.sheet.summary", cell)
		raw, _ := f.GetCellValue("export.sheet.summary", cell, excelize.Options{RawCellValue: true})
		if typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
			t.Errorf("summary %s has type %v", cell, typ)
		}
		if got, err := strconv.ParseFloat(raw, 64); err != nil || got != *v {
			t.Errorf("summary %s = %q, want %v", cell, raw, *v)
		}
	}
	// Frozen, bold header on each sheet.
	for _, sh := range want {
		panes, err := f.GetPanes(sh)
		if err != nil || !panes.Freeze || panes.YSplit != 1 {
			t.Errorf("%s: panes %+v %v", sh, panes, err)
		}
		style, _ := f.GetCellStyle(sh, "A1")
		st, err := f.GetStyle(style)
		if err != nil || st.Font == nil || !st.Font.Bold {
			t.Errorf("%s: A1 is not bold", sh)
		}
	}
	rows, _ := f.GetRows("export.sheet.practices")
	if len(rows) != 1+len(rep.Practices) || rows[1][0] != rep.Practices[0].ID {
		t.Errorf("practices: %d rows", len(rows))
	}
	// The unit of three shows words, greyed, and no number.
	heat, _ := f.GetRows("export.sheet.heatmap")
	found := false
	for i, r := range heat {
		if len(r) > 1 && r[0] == "Lab" {
			found = true
			if r[1] != "results.not_enough" || len(r) != 6 {
				t.Errorf("suppressed unit row %v", r)
			}
			cell, _ := excelize.CoordinatesToCellName(3, i+1)
			style, _ := f.GetCellStyle("export.sheet.heatmap", cell)
			if st, _ := f.GetStyle(style); st == nil || len(st.Fill.Color) == 0 || st.Fill.Color[0] != "D9D9D9" {
				t.Errorf("suppressed cell %s is not greyed: %+v", cell, st)
			}
		}
		if len(r) > 0 && strings.HasPrefix(r[0], "=") {
			if typ, _ := f.GetCellType("export.sheet.heatmap", "A"+strconv.Itoa(i+1)); typ == excelize.CellTypeFormula {
				t.Error("a unit name became a formula")
			}
		}
	}
	if !found {
		t.Error("no row for the suppressed unit")
	}
	recs, _ := f.GetRows("export.sheet.recommendations")
	if len(recs) != 1+len(rep.Recommendations) || len(rep.Recommendations) == 0 {
		t.Fatalf("recommendations: %d rows for %d", len(recs), len(rep.Recommendations))
	}
	if ok, link, _ := f.GetCellHyperLink("export.sheet.recommendations", "O2"); !ok || !strings.HasPrefix(link, "http://test/learn/") {
		t.Errorf("recommendation link %v %q", ok, link)
	}
}

func TestPDFReportIsAPDFWithTheHeadlineInTheReadersLanguage(t *testing.T) {
	d := exportDoc(t, 400, "de", survey.ReportFilter{})
	d.T = germanish
	var buf bytes.Buffer
	if err := export.WritePDF(&buf, d); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("%PDF-")) {
		t.Fatalf("not a PDF: %q", buf.Bytes()[:8])
	}
	text, ok := surveytest.PDFText(t, buf.Bytes())
	if !ok {
		t.Skip("pdftotext (poppler-utils) is not installed")
	}
	cem := strconv.FormatFloat(*d.Report.Overall.CEM, 'f', 0, 64) + " %"
	for _, want := range []string{"Größe", "Übersicht für Führungskräfte", cem, "Analyse und Planung", "Vorläufig", "Seite 1 von"} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF text lacks %q", want)
		}
	}
}

// germanish translates the few ids the PDF test looks for.
func germanish(id string, data map[string]any) string {
	switch id {
	case "export.pdf.title":
		return "Übersicht für Führungskräfte"
	case "results.preliminary":
		return "Vorläufig: noch offen"
	case "export.pdf.page":
		return "Seite " + toString(data["N"]) + " von " + toString(data["Total"])
	}
	return id
}

func BenchmarkExport10k(b *testing.B) {
	d := exportDoc(b, 10_000, "fr", survey.ReportFilter{})
	for _, bc := range []struct {
		name  string
		write func(io.Writer, *export.Doc) error
	}{{"aggregate.csv", export.WriteAggregateCSV}, {"xlsx", export.WriteWorkbook}, {"pdf", export.WritePDF}} {
		b.Run(bc.name, func(b *testing.B) {
			var buf bytes.Buffer
			for b.Loop() {
				buf.Reset()
				if err := bc.write(&buf, d); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(buf.Len()), "bytes/file")
		})
	}
}

// BenchmarkReport10k is what an export costs on a cold cache: the report.
func BenchmarkReport10k(b *testing.B) {
	m := surveytest.Model(b)
	rows := exportRows(m, 10_000)
	cp := &survey.Campaign{ID: 42, Status: survey.StatusOpen, KMin: 5, ModelVersion: m.Version}
	for b.Loop() {
		survey.BuildReport(m, cp, rows, survey.ReportFilter{}, exportUnits)
	}
}

// Names are printed as typed, whatever their alphabet: the font is embedded.
func TestPDFPrintsAnyNameAsTyped(t *testing.T) {
	d := exportDoc(t, 400, "en", survey.ReportFilter{})
	d.Organisation = "Bank Łódź · Τράπεζα"
	d.Campaign.Name = "Ocena 2026 – Ďakujeme ≥ δ"
	var buf bytes.Buffer
	if err := export.WritePDF(&buf, d); err != nil {
		t.Fatal(err)
	}
	text, ok := surveytest.PDFText(t, buf.Bytes())
	if !ok {
		t.Skip("pdftotext (poppler-utils) is not installed")
	}
	for _, want := range []string{"Bank Łódź · Τράπεζα", "Ocena 2026 – Ďakujeme ≥ δ"} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF text lacks %q", want)
		}
	}
}

// A name with characters outside DejaVu Sans still gives a PDF: Han, kana
// and Hangul in the embedded fallback font, emoji (above U+FFFF, which fpdf
// cannot set) as a visible U+FFFD, and the rest of the name as typed.
func TestPDFFallsBackForTextOutsideTheFont(t *testing.T) {
	for _, tc := range []struct {
		name, campaign, org string
		want                []string
	}{
		{"emoji", "Welle 🎉 2026", "Bank 👩\u200d💻 Łódź", []string{"Welle \ufffd 2026", "Łódź"}},
		{"emoji with a variation selector and a flag", "Wave ❤️ 🇩🇪", "Ελλάδα ☕", []string{"Wave ❤", "Ελλάδα ☕"}},
		{"Chinese and Japanese", "調査 2026 Опрос", "株式会社テスト", []string{"調査 2026 Опрос", "株式会社テスト"}},
		{"Korean", "고객 경험 조사", "한국 은행", []string{"고객 경험 조사", "한국 은행"}},
		{"Arabic", "استبيان 2026", "بنك", []string{"2026"}},
		{"combining marks", "Cafe\u0301 n\u0303 Z\u0308", "A\u030a\u0301rhus", []string{"Cafe\u0301 n\u0303 Z\u0308", "A\u030a\u0301rhus"}},
		{"invalid UTF-8 and controls", "Wave\xff\x01 one", "Org\x00", []string{"Wave\ufffd", "one"}},
		{"a long line of Han wraps", strings.Repeat("顧客体験", 30), "Org", []string{"顧客体験顧客体験"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := exportDoc(t, 400, "en", survey.ReportFilter{})
			d.Campaign.Name, d.Campaign.WaveLabel, d.Organisation = tc.campaign, tc.campaign, tc.org
			var buf bytes.Buffer
			if err := export.WritePDF(&buf, d); err != nil {
				t.Fatal(err)
			}
			text, ok := surveytest.PDFText(t, buf.Bytes())
			if !ok {
				t.Skip("pdftotext (poppler-utils) is not installed")
			}
			for _, want := range tc.want {
				if !strings.Contains(text, want) {
					t.Errorf("PDF text lacks %q:\n%.400s", want, text)
				}
			}
		})
	}
}
