package export

import (
	"tiltline/survey"

	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// WriteWorkbook writes the report as an Excel workbook: Summary, Sections,
// Practices, Heatmap (units and seniority bands, suppressed groups greyed
// and said so in words), Leaders vs staff and Recommendations. Numbers are
// numbers (scores in points, rates as fractions shown as %), every sheet's
// header row is bold and frozen; sheet names and labels are in the doc's
// locale, ids stay as in the model.
func WriteWorkbook(w io.Writer, d *Doc) error {
	rep := d.Report
	if rep == nil || rep.Suppressed || rep.Overall == nil {
		return ErrSuppressed
	}
	f := excelize.NewFile()
	defer f.Close()
	x := &xlsxWriter{f: f, d: d}
	if err := x.styles(); err != nil {
		return err
	}
	names := x.sheetNames()
	if err := f.SetSheetName(f.GetSheetName(0), names[0]); err != nil {
		return err
	}
	for _, n := range names[1:] {
		if _, err := f.NewSheet(n); err != nil {
			return err
		}
	}
	for i, write := range []func(string) error{x.summary, x.sections, x.practices, x.heatmap, x.leaders, x.recommendations} {
		if err := write(names[i]); err != nil {
			return fmt.Errorf("workbook sheet %d: %w", i+1, err)
		}
	}
	f.SetActiveSheet(0)
	if err := f.SetDocProps(&excelize.DocProperties{
		Title: d.Campaign.Name, Creator: "Tiltline", Language: d.Locale,
		Created: d.Generated.UTC().Format("2006-01-02T15:04:05Z"), Modified: d.Generated.UTC().Format("2006-01-02T15:04:05Z"),
	}); err != nil {
		return err
	}
	return f.Write(w)
}

type xlsxWriter struct {
	f *excelize.File
	d *Doc
	// style ids
	bold, points, rate, ratio, grey, wrap int
	bands                                 [5]int // score cells by band, low to high
}

func (x *xlsxWriter) styles() error {
	var err error
	mk := func(s *excelize.Style) int {
		if err != nil {
			return 0
		}
		var id int
		id, err = x.f.NewStyle(s)
		return id
	}
	x.bold = mk(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDE4EE"}},
		Alignment: &excelize.Alignment{Vertical: "top", WrapText: true}})
	x.points = mk(&excelize.Style{CustomNumFmt: ptr("0.0")})
	x.rate = mk(&excelize.Style{CustomNumFmt: ptr("0.0%")})
	x.ratio = mk(&excelize.Style{CustomNumFmt: ptr("0.000")})
	x.grey = mk(&excelize.Style{Font: &excelize.Font{Color: "6B6B6B", Italic: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"D9D9D9"}}})
	x.wrap = mk(&excelize.Style{Alignment: &excelize.Alignment{Vertical: "top", WrapText: true}})
	for i, c := range []string{"F4B6A6", "F9D5B8", "FCEFC4", "DCEBC9", "B9DBA3"} {
		x.bands[i] = mk(&excelize.Style{CustomNumFmt: ptr("0.0"), Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{c}}})
	}
	return err
}

// sheetNames are the six sheet names in the doc's locale, made valid: at
// most 31 characters, none of : \ / ? * [ ], unique.
func (x *xlsxWriter) sheetNames() []string {
	ids := []string{"summary", "sections", "practices", "heatmap", "leaders", "recommendations"}
	seen := map[string]bool{}
	out := make([]string, len(ids))
	for i, id := range ids {
		n := strings.Map(func(r rune) rune {
			if strings.ContainsRune(`:\/?*[]`, r) {
				return '-'
			}
			return r
		}, strings.TrimSpace(x.d.T("export.sheet."+id, nil)))
		for utf8.RuneCountInString(n) > 31 {
			_, size := utf8.DecodeLastRuneInString(n)
			n = n[:len(n)-size]
		}
		if n == "" || seen[strings.ToLower(n)] {
			n = fmt.Sprintf("Sheet%d", i+1)
		}
		seen[strings.ToLower(n)] = true
		out[i] = n
	}
	return out
}

// stream is a sheet written row by row: widths and frozen header first, as
// the stream writer wants.
type stream struct {
	sw  *excelize.StreamWriter
	row int
}

func (x *xlsxWriter) stream(sheet string, widths []float64, header ...string) (*stream, error) {
	sw, err := x.f.NewStreamWriter(sheet)
	if err != nil {
		return nil, err
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return nil, err
	}
	for i, wd := range widths {
		if err := sw.SetColWidth(i+1, i+1, wd); err != nil {
			return nil, err
		}
	}
	s := &stream{sw: sw}
	return s, s.add(x.header(header)...)
}

func (x *xlsxWriter) header(labels []string) []any {
	cells := make([]any, len(labels))
	for i, l := range labels {
		cells[i] = excelize.Cell{StyleID: x.bold, Value: l}
	}
	return cells
}

func (s *stream) add(values ...any) error {
	s.row++
	cell, err := excelize.CoordinatesToCellName(1, s.row)
	if err != nil {
		return err
	}
	return s.sw.SetRow(cell, values)
}

// num is a score cell: a number in points, or empty when there is none.
func (x *xlsxWriter) num(v survey.Num, style int) any {
	if v == nil {
		return nil
	}
	return excelize.Cell{StyleID: style, Value: *v}
}

// band is the heat colour of a score.
func (x *xlsxWriter) band(v survey.Num) int {
	if v == nil {
		return x.points
	}
	i := min(int(*v/20), 4)
	return x.bands[max(i, 0)]
}

func (x *xlsxWriter) t(id string) string { return x.d.T(id, nil) }

func (x *xlsxWriter) summary(sheet string) error {
	d, rep := x.d, x.d.Report
	s, err := x.stream(sheet, []float64{34, 48}, x.t("export.field"), x.t("export.value"))
	if err != nil {
		return err
	}
	yes := x.t("export.no")
	if rep.Preliminary {
		yes = x.t("export.yes")
	}
	var responses any
	if rep.Responses != nil {
		responses = *rep.Responses
	}
	rows := [][2]any{
		{x.t("export.field.organisation"), d.Organisation},
		{x.t("export.field.campaign"), d.Campaign.Name},
		{x.t("export.field.wave"), d.Campaign.WaveLabel},
		{x.t("export.field.status"), x.t("admin.status." + rep.Status)},
		{x.t("export.field.preliminary"), yes},
		{x.t("export.field.filter"), d.filterText()},
		{x.t("results.responses"), responses},
		{x.t("results.intention"), x.num(rep.Overall.Intention, x.points)},
		{x.t("results.reality"), x.num(rep.Overall.Reality, x.points)},
		{x.t("results.cem"), x.num(rep.Overall.CEM, x.points)},
		{x.t("results.gap"), x.num(rep.Overall.Gap, x.points)},
		{x.t("export.field.dont_know_rate"), x.num(rep.DontKnowRate, x.rate)},
		{x.t("export.field.k"), rep.K},
		{x.t("export.field.generated"), d.Generated.UTC().Format("2006-01-02 15:04 UTC")},
	}
	for _, r := range rows {
		if err := s.add(excelize.Cell{StyleID: x.wrap, Value: r[0]}, r[1]); err != nil {
			return err
		}
	}
	return s.sw.Flush()
}

func (x *xlsxWriter) sections(sheet string) error {
	s, err := x.stream(sheet, []float64{8, 36, 12, 12, 12, 14},
		x.t("export.col.id"), x.t("results.section"), x.t("results.intention"), x.t("results.reality"), x.t("results.cem"), x.t("results.gap"))
	if err != nil {
		return err
	}
	for _, sec := range x.d.Report.Sections {
		if err := s.add(sec.ID, x.d.sectionTitle(sec.ID), x.num(sec.Intention, x.points), x.num(sec.Reality, x.points),
			x.num(sec.CEM, x.points), x.num(sec.Gap, x.points)); err != nil {
			return err
		}
	}
	return s.sw.Flush()
}

func (x *xlsxWriter) practices(sheet string) error {
	s, err := x.stream(sheet, []float64{8, 8, 30, 70, 12, 12, 12, 14, 12, 14, 14},
		x.t("export.col.id"), x.t("results.section"), x.t("export.col.subsection"), x.t("export.col.practice"),
		x.t("results.intention"), x.t("results.reality"), x.t("results.cem"), x.t("results.gap"),
		x.t("export.col.answered"), x.t("export.field.dont_know_rate"), x.t("export.col.views_differ"))
	if err != nil {
		return err
	}
	yes := x.t("export.yes")
	for _, p := range x.d.Report.Practices {
		differ := ""
		if p.ViewsDiffer {
			differ = yes
		}
		if err := s.add(p.ID, survey.SectionOf(p.ID), x.d.subsectionTitle(p.Subsection), x.d.practiceText(p.ID),
			x.num(p.Intention, x.points), x.num(p.Reality, x.points), x.num(p.CEM, x.points), x.num(p.Gap, x.points),
			p.Answered, x.num(p.DontKnowRate, x.rate), differ); err != nil {
			return err
		}
	}
	return s.sw.Flush()
}

// heatmap is the breakdown by unit, then by seniority band, as the report
// has it: only groups the suppression rules let show carry numbers.
func (x *xlsxWriter) heatmap(sheet string) error {
	d := x.d
	s, err := x.stream(sheet, []float64{30, 12, 12, 12, 12, 14},
		x.t("survey.profile.unit"), x.t("results.responses"), x.t("results.intention"), x.t("results.reality"), x.t("results.cem"), x.t("results.gap"))
	if err != nil {
		return err
	}
	notEnough := excelize.Cell{StyleID: x.grey, Value: x.t("results.not_enough")}
	group := func(name string, g survey.ReportGroup) error {
		if g.Suppressed || g.Overall == nil {
			return s.add(excelize.Cell{StyleID: x.grey, Value: name}, notEnough, notEnough, notEnough, notEnough, notEnough)
		}
		var n any
		if g.Responses != nil {
			n = *g.Responses
		}
		o := g.Overall
		return s.add(name, n, x.num(o.Intention, x.band(o.Intention)), x.num(o.Reality, x.band(o.Reality)),
			x.num(o.CEM, x.band(o.CEM)), x.num(o.Gap, x.points))
	}
	for _, g := range d.Report.Units {
		name := g.Name
		if g.Key == "" || name == "" {
			name = x.t("results.group.other_units") // pooled units, and none given
		}
		if err := group(name, g); err != nil {
			return err
		}
	}
	if len(d.Report.Seniority) > 0 {
		if err := s.add(); err != nil {
			return err
		}
		if err := s.add(x.header([]string{x.t("survey.profile.seniority"), x.t("results.responses"), x.t("results.intention"),
			x.t("results.reality"), x.t("results.cem"), x.t("results.gap")})...); err != nil {
			return err
		}
		for _, g := range d.Report.Seniority {
			name := d.optionTitle(d.Model.Seniority, g.Key)
			if g.Key == "" {
				name = "–"
			}
			if err := group(name, g); err != nil {
				return err
			}
		}
	}
	if len(d.Report.Units) == 0 && len(d.Report.Seniority) == 0 {
		// A filtered view has no breakdown: say which view this is.
		if err := s.add(d.filterText()); err != nil {
			return err
		}
	}
	return s.sw.Flush()
}

func (x *xlsxWriter) leaders(sheet string) error {
	d := x.d
	s, err := x.stream(sheet, []float64{12, 8, 60, 16, 16, 14, 10, 14, 9, 9},
		x.t("export.col.scope"), x.t("export.col.id"), x.t("export.col.practice"), x.t("results.leaders.senior"), x.t("results.leaders.others"),
		x.t("results.leaders.diff"), x.t("export.col.delta"), x.t("export.col.magnitude"), x.t("export.col.p"), x.t("export.col.q"))
	if err != nil {
		return err
	}
	lv := d.Report.LeadersVsStaff
	if lv == nil || !lv.Available {
		if err := s.add(d.T("results.leaders.unavailable", map[string]any{"K": d.Report.K})); err != nil {
			return err
		}
		return s.sw.Flush()
	}
	row := func(scope, title string, c survey.LeaderComparison, withQ bool) error {
		var q any
		if withQ {
			q = excelize.Cell{StyleID: x.ratio, Value: c.Q}
		}
		return s.add(x.t("export.scope."+scope), c.ID, title, x.num(c.Senior, x.points), x.num(c.Others, x.points), x.num(c.Diff, x.points),
			excelize.Cell{StyleID: x.ratio, Value: c.Delta}, x.t("results.magnitude."+c.Magnitude), excelize.Cell{StyleID: x.ratio, Value: c.P}, q)
	}
	if lv.Overall != nil {
		if err := row("overall", x.t("export.overall"), *lv.Overall, false); err != nil {
			return err
		}
	}
	for _, c := range lv.Sections {
		if err := row("section", d.sectionTitle(c.ID), c, false); err != nil {
			return err
		}
	}
	for _, c := range lv.Practices {
		if err := row("practice", d.practiceText(c.ID), c, true); err != nil {
			return err
		}
	}
	if err := s.add(); err != nil {
		return err
	}
	if err := s.add(x.t("export.col.seniors"), lv.Seniors); err != nil {
		return err
	}
	if err := s.add(x.t("export.col.others"), lv.Others); err != nil {
		return err
	}
	return s.sw.Flush()
}

// recommendations is written cell by cell (not streamed): ten rows, and
// each gets a hyperlink to its portal page.
func (x *xlsxWriter) recommendations(sheet string) error {
	d, f := x.d, x.f
	header := []string{x.t("export.col.rank"), x.t("export.col.id"), x.t("export.col.practice"), x.t("export.col.kind"), x.t("export.col.reason"),
		x.t("export.col.priority"), x.t("results.intention"), x.t("results.reality"), x.t("results.cem"), x.t("results.gap"),
		x.t("export.col.answered"), x.t("export.col.delta"), x.t("export.col.movement"), x.t("export.col.evidence"), x.t("export.col.link")}
	widths := []float64{7, 8, 60, 26, 44, 10, 12, 12, 12, 14, 12, 9, 14, 44, 50}
	for i, wd := range widths {
		col, _ := excelize.ColumnNumberToName(i + 1)
		if err := f.SetColWidth(sheet, col, col, wd); err != nil {
			return err
		}
	}
	if err := f.SetSheetRow(sheet, "A1", &header); err != nil {
		return err
	}
	last, _ := excelize.ColumnNumberToName(len(header))
	if err := f.SetCellStyle(sheet, "A1", last+"1", x.bold); err != nil {
		return err
	}
	if err := f.SetPanes(sheet, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	for i, r := range d.Report.Recommendations {
		row := i + 2
		var delta, movement any
		if r.Delta != nil {
			delta = *r.Delta
		}
		if r.Movement != nil {
			movement = *r.Movement
		}
		link := d.link(r.Subsection, r.Practice)
		vals := []any{i + 1, r.Practice, d.practiceText(r.Practice), strings.Join(r.Kinds, ", "), d.kindsText(r.Kinds, "; "),
			r.Priority, numOrNil(r.Intention), numOrNil(r.Reality), numOrNil(r.CEM), numOrNil(r.Gap), r.Answered, delta, movement,
			x.evidence(r), link}
		cell, _ := excelize.CoordinatesToCellName(1, row)
		if err := f.SetSheetRow(sheet, cell, &vals); err != nil {
			return err
		}
		for col, style := range map[string]int{"F": x.points, "G": x.points, "H": x.points, "I": x.points, "J": x.points, "L": x.ratio, "M": x.points} {
			if err := f.SetCellStyle(sheet, fmt.Sprintf("%s%d", col, row), fmt.Sprintf("%s%d", col, row), style); err != nil {
				return err
			}
		}
		if link != "" {
			if err := f.SetCellHyperLink(sheet, fmt.Sprintf("O%d", row), link, "External"); err != nil {
				return err
			}
		}
	}
	return nil
}

// evidence is a recommendation's figures in words, as on the results page.
func (x *xlsxWriter) evidence(r survey.Recommendation) string {
	return x.d.evidence(r, fmtScore(x.d.Locale, r.Intention, 0)+" %", fmtScore(x.d.Locale, r.Reality, 0)+" %")
}

func (d *Doc) evidence(r survey.Recommendation, i, re string) string {
	s := d.T("results.recs.evidence", map[string]any{"I": i, "R": re, "N": r.Answered})
	if r.Delta != nil {
		s += "; " + d.T("export.pdf.delta", map[string]any{"Delta": fmtFloat(d.Locale, *r.Delta, 2)})
	}
	if r.Movement != nil {
		m := fmtFloat(d.Locale, *r.Movement, 1)
		if *r.Movement > 0 {
			m = "+" + m
		}
		s += "; " + d.T("results.recs.movement", map[string]any{"M": m})
	}
	return s
}

func numOrNil(v survey.Num) any {
	if v == nil {
		return nil
	}
	return *v
}

// fmtScore formats a score with the locale's decimal separator; "–" for none.
func fmtScore(locale string, v survey.Num, decimals int) string {
	if v == nil {
		return "–"
	}
	return fmtFloat(locale, *v, decimals)
}

func fmtFloat(locale string, v float64, decimals int) string {
	s := fmt.Sprintf("%.*f", decimals, v)
	if s == "-0" || strings.HasPrefix(s, "-0.") && strings.Trim(s[3:], "0") == "" {
		s = s[1:]
	}
	if locale == "de" || locale == "fr" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}
func ptr[T any](v T) *T { return &v }
