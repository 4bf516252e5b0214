package export

import (
	"tiltline/survey"

	_ "embed"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/go-pdf/fpdf"
)

// WritePDF writes the report as a printable A4 document in the doc's
// locale: a cover with the headline figures, a radar of the 13 sections
// (drawn with vector primitives), the section table with bars, leaders
// against staff in plain words and the ten recommendations. Text is set in
// DejaVu Sans, embedded (subset) in the file, so any organisation, unit or
// campaign name prints as typed (Łódź, Ελλάδα), and so do δ, ≥ and −.
func WritePDF(w io.Writer, d *Doc) error {
	rep := d.Report
	if rep == nil || rep.Suppressed || rep.Overall == nil {
		return ErrSuppressed
	}
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.AddUTF8FontFromBytes(pdfFont, "", dejaVuSans)
	pdf.AddUTF8FontFromBytes(pdfFont, "B", dejaVuSansBold)
	p := &pdfWriter{pdf: pdf, d: d}
	pdf.SetMargins(pdfMargin, pdfMargin, pdfMargin)
	pdf.SetAutoPageBreak(true, pdfMargin+4)
	pdf.SetTitle(pdfInfo(d.Campaign.Name), false)
	pdf.SetSubject(pdfInfo(d.T("export.pdf.title", nil)), false)
	pdf.SetAuthor(pdfInfo(d.Organisation), false)
	pdf.SetCreator("Tiltline", true)
	pdf.SetLang(d.Locale)
	pdf.SetCreationDate(d.Generated)
	pdf.SetModificationDate(d.Generated)
	pdf.AliasNbPages("{nb}")
	pdf.SetFooterFunc(p.footer)

	p.cover()
	p.radar()
	p.sectionTable()
	p.heatmap()
	p.leaders()
	p.trend()
	p.recommendations()
	p.actionPage()
	if err := pdf.Error(); err != nil {
		return err
	}
	if pdfHook != nil {
		pdfHook(p)
	}
	return pdf.Output(w)
}

// pdfHook, when set (by tests), sees the writer once the document is laid out.
var pdfHook func(*pdfWriter)

const (
	pdfMargin = 18.0
	pdfPageW  = 210.0
	pdfPageH  = 297.0
	pdfBodyW  = pdfPageW - 2*pdfMargin
)

// Colours: the results page's intention blue and reality orange.
var (
	pdfInk       = [3]int{33, 37, 41}
	pdfMuted     = [3]int{100, 106, 115}
	pdfBrand     = [3]int{31, 58, 96}
	pdfIntention = [3]int{37, 99, 235}
	pdfReality   = [3]int{234, 120, 20}
	pdfGrid      = [3]int{205, 210, 218}
	pdfBand      = [3]int{222, 226, 232}
)

type pdfWriter struct {
	pdf   *fpdf.Fpdf
	d     *Doc
	style string // the current font's style and size, kept for runs in the fallback
	size  float64

	fallbackAdded bool
	// boxes are the text boxes placed so far: a test checks that none overlap.
	boxes []pdfBox
}

// pdfBox is where a piece of text landed: page, top-left corner and size in mm.
type pdfBox struct {
	Page       int
	X, Y, W, H float64
	Text       string
}

// record notes a text box; empty text takes no room.
func (p *pdfWriter) record(x, y, w, h float64, text string) {
	if strings.TrimSpace(text) == "" {
		return
	}
	p.boxes = append(p.boxes, pdfBox{Page: p.pdf.PageNo(), X: x, Y: y, W: w, H: h, Text: text})
}

// The PDF's typeface: DejaVu Sans (Bitstream Vera licence, fonts/LICENSE),
// regular and bold, embedded in the binary.
const pdfFont = "DejaVu"

var (
	//go:embed fonts/DejaVuSans.ttf
	dejaVuSans []byte
	//go:embed fonts/DejaVuSans-Bold.ttf
	dejaVuSansBold []byte
)

// s is where text enters the PDF: UTF-8 as it is, with the narrow no-break
// space of French typography widened to one the font surely has.
func (p *pdfWriter) s(text string) string { return strings.ReplaceAll(text, "\u202f", "\u00a0") }

func (p *pdfWriter) t(id string, data map[string]any) string { return p.s(p.d.T(id, data)) }

func (p *pdfWriter) font(style string, size float64, c [3]int) {
	p.style, p.size = style, size
	p.pdf.SetFont(pdfFont, style, size)
	p.pdf.SetTextColor(c[0], c[1], c[2])
}

func (p *pdfWriter) fill(c [3]int) { p.pdf.SetFillColor(c[0], c[1], c[2]) }
func (p *pdfWriter) draw(c [3]int) { p.pdf.SetDrawColor(c[0], c[1], c[2]) }

// ensure starts a new page unless h mm still fit on this one.
func (p *pdfWriter) ensure(h float64) {
	if p.pdf.GetY()+h > pdfPageH-pdfMargin-4 {
		p.pdf.AddPage()
	}
}

func (p *pdfWriter) heading(text string) {
	p.ensure(20)
	p.font("B", 14, pdfBrand)
	p.multi(pdfBodyW, 7, p.s(text), "", "L", false)
	p.pdf.Ln(2)
}

func (p *pdfWriter) para(text string, size float64, c [3]int) {
	p.font("", size, c)
	p.multi(pdfBodyW, size*0.5, p.s(text), "", "L", false)
}

func (p *pdfWriter) pct(v survey.Num) string { return fmtScore(p.d.Locale, v, 0) + " %" }

func (p *pdfWriter) footer() {
	pdf := p.pdf
	pdf.SetY(-12)
	p.font("", 8, pdfMuted)
	name := p.d.Campaign.Name
	if p.d.Campaign.WaveLabel != "" {
		name += " · " + p.d.Campaign.WaveLabel
	}
	p.cell(pdfBodyW/2, 5, p.s(name), "", 0, "L", false, "")
	p.cell(pdfBodyW/2, 5, p.t("export.pdf.page", map[string]any{"N": pdf.PageNo(), "Total": "{nb}"}), "", 0, "R", false, "")
}

// cover: title band, campaign, organisation, date, preliminary notice,
// headline figures and the one-line summary.
func (p *pdfWriter) cover() {
	pdf, d, rep := p.pdf, p.d, p.d.Report
	pdf.AddPage()
	p.fill(pdfBrand)
	pdf.Rect(0, 0, pdfPageW, 44, "F")
	p.font("B", 11, [3]int{255, 255, 255})
	p.text(pdfMargin, 16, "Tiltline")
	p.font("B", 20, [3]int{255, 255, 255})
	pdf.SetXY(pdfMargin, 22)
	p.multi(pdfBodyW, 9, p.t("export.pdf.title", nil), "", "L", false)

	pdf.SetY(56)
	p.font("B", 18, pdfInk)
	p.multi(pdfBodyW, 8, p.s(d.Campaign.Name), "", "L", false)
	if d.Campaign.WaveLabel != "" {
		p.para(d.Campaign.WaveLabel, 13, pdfMuted)
	}
	pdf.Ln(3)
	p.para(d.Organisation, 12, pdfInk)
	p.para(d.T("export.pdf.generated", map[string]any{"Date": survey.FormatDay(d.Locale, d.Generated)}), 10, pdfMuted)
	if !d.Report.Filter.Empty() {
		p.para(d.T("export.field.filter", nil)+": "+d.filterText(), 10, pdfMuted)
	}
	if rep.Preliminary {
		pdf.Ln(4)
		p.fill([3]int{255, 243, 205})
		p.draw([3]int{230, 190, 90})
		p.font("B", 10, [3]int{102, 77, 3})
		p.multi(pdfBodyW, 6, p.t("results.preliminary", nil), "1", "L", true)
	}

	pdf.Ln(8)
	p.heading(d.T("export.pdf.headline", nil))
	y := pdf.GetY()
	boxes := []struct {
		label, value string
	}{
		{d.T("results.cem", nil), p.pct(rep.Overall.CEM)},
		{d.T("results.intention", nil), p.pct(rep.Overall.Intention)},
		{d.T("results.reality", nil), p.pct(rep.Overall.Reality)},
		{d.T("results.gap", nil), p.gap(*rep.Overall)},
	}
	const gap = 4.0
	bw := (pdfBodyW - gap*float64(len(boxes)-1)) / float64(len(boxes))
	for i, b := range boxes {
		x := pdfMargin + float64(i)*(bw+gap)
		p.fill([3]int{241, 244, 248})
		pdf.Rect(x, y, bw, 26, "F")
		p.font("", 9, pdfMuted)
		pdf.SetXY(x+3, y+3)
		p.cell(bw-6, 5, p.s(b.label), "", 0, "L", false, "")
		p.font("B", 20, pdfInk)
		pdf.SetXY(x+3, y+12)
		p.cell(bw-6, 10, p.s(b.value), "", 0, "L", false, "")
	}
	pdf.SetXY(pdfMargin, y+31)
	n := 0
	if rep.Responses != nil {
		n = *rep.Responses
	}
	responses := strconv.Itoa(n)
	if pt := d.Participation; pt != nil && pt.Invited != nil && pt.Rate != nil {
		responses += " / " + strconv.Itoa(*pt.Invited) + " · " + d.T("results.rate", map[string]any{"Rate": fmtScore(d.Locale, scaled(pt.Rate, 100), 0) + " %"})
	} else if pt != nil && pt.NoRate != "" {
		responses += " (" + d.T("results.norate."+pt.NoRate, nil) + ")"
	}
	facts := fmt.Sprintf("%s: %s  ·  %s: %s  ·  %s: %d", d.T("results.responses", nil), responses,
		d.T("export.field.dont_know_rate", nil), fmtScore(d.Locale, scaled(rep.DontKnowRate, 100), 0)+" %",
		d.T("export.field.k", nil), rep.K)
	p.para(facts, 10, pdfInk)
	pdf.Ln(3)
	p.para(d.T("results.summary", map[string]any{"CEM": p.pct(rep.Overall.CEM), "Gap": p.gap(*rep.Overall)}), 11, pdfInk)
	if pos := d.position(); pos != "" {
		pdf.Ln(2)
		p.para(pos, 11, pdfInk)
	}
	if len(d.Things) > 0 {
		pdf.Ln(6)
		p.heading(d.T("results.things.title", nil))
		for i, th := range d.Things {
			p.para(strconv.Itoa(i+1)+". "+th, 11, pdfInk)
			pdf.Ln(2)
		}
	}
}

// gap is intention − reality as printed: the difference of the two whole
// percentages beside it.
func (p *pdfWriter) gap(s survey.ReportScore) string {
	return fmtScore(p.d.Locale, survey.ShownDiff(s.Intention, s.Reality, 0), 0)
}

func scaled(v survey.Num, by float64) survey.Num {
	if v == nil {
		return nil
	}
	x := *v * by
	return &x
}

// radar: 13 spokes scaled to the data (as on the page), rings at each
// quarter of the scale, the benchmark's middle half as a grey band,
// intention and reality polygons, section titles around.
func (p *pdfWriter) radar() {
	pdf, d, rep := p.pdf, p.d, p.d.Report
	pdf.AddPage()
	p.heading(d.T("results.radar", nil))
	n := len(rep.Sections)
	if n < 3 {
		return
	}
	lo, hi := d.benchBand()
	maxV := 0.0
	for _, sec := range rep.Sections {
		for _, v := range []survey.Num{sec.Intention, sec.Reality} {
			if v != nil {
				maxV = math.Max(maxV, *v)
			}
		}
	}
	for _, v := range hi {
		maxV = math.Max(maxV, v)
	}
	scale := math.Min(100, math.Max(20, math.Ceil((maxV+5)/10)*10))
	top := pdf.GetY()
	const r = 48.0
	cx, cy := pdfPageW/2, top+r+16
	pt := func(i int, v float64) fpdf.PointType {
		a := -math.Pi/2 + 2*math.Pi*float64(i)/float64(n)
		return fpdf.PointType{X: cx + r*v/scale*math.Cos(a), Y: cy + r*v/scale*math.Sin(a)}
	}
	rings := []float64{scale / 4, scale / 2, scale * 3 / 4, scale}
	// The benchmark band first, under everything else.
	if len(lo) == n && len(hi) == n {
		outer, inner := make([]fpdf.PointType, n), make([]fpdf.PointType, n)
		for i := range n {
			outer[i], inner[i] = pt(i, hi[i]), pt(i, lo[i])
		}
		p.fill(pdfBand)
		pdf.Polygon(outer, "F")
		p.fill([3]int{255, 255, 255})
		pdf.Polygon(inner, "F")
	}
	// Grid: rings as polygons, spokes, ring values on the first spoke.
	p.draw(pdfGrid)
	pdf.SetLineWidth(0.2)
	for _, ring := range rings {
		pts := make([]fpdf.PointType, n)
		for i := range pts {
			pts[i] = pt(i, ring)
		}
		pdf.Polygon(pts, "D")
	}
	for i := range n {
		e := pt(i, scale)
		pdf.Line(cx, cy, e.X, e.Y)
	}
	p.font("", 7, pdfMuted)
	for _, ring := range rings {
		q := pt(0, ring)
		p.text(q.X+1, q.Y+2.5, strconv.FormatFloat(ring, 'f', -1, 64))
	}
	// Series: translucent fill, solid outline, a dot per value.
	for _, s := range []struct {
		c   [3]int
		val func(survey.ReportScore) survey.Num
	}{
		{pdfIntention, func(s survey.ReportScore) survey.Num { return s.Intention }},
		{pdfReality, func(s survey.ReportScore) survey.Num { return s.Reality }},
	} {
		pts := make([]fpdf.PointType, n)
		for i, sec := range rep.Sections {
			v := 0.0
			if x := s.val(sec.ReportScore); x != nil {
				v = math.Max(0, math.Min(scale, *x))
			}
			pts[i] = pt(i, v)
		}
		p.fill(s.c)
		p.draw(s.c)
		pdf.SetAlpha(0.18, "Normal")
		pdf.Polygon(pts, "F")
		pdf.SetAlpha(1, "Normal")
		pdf.SetLineWidth(0.6)
		pdf.Polygon(pts, "D")
		for _, q := range pts {
			pdf.Circle(q.X, q.Y, 0.7, "F")
		}
	}
	pdf.SetLineWidth(0.2)
	// Labels outside the outer ring, aligned away from the centre.
	p.font("", 7.5, pdfInk)
	const lw = 34.0
	for i, sec := range rep.Sections {
		a := -math.Pi/2 + 2*math.Pi*float64(i)/float64(n)
		lx, ly := cx+(r+4)*math.Cos(a), cy+(r+4)*math.Sin(a)
		lines := p.split(p.s(d.sectionTitle(sec.ID)), lw)
		h := 3.3 * float64(len(lines))
		x, align := lx-lw/2, "C"
		switch c := math.Cos(a); {
		case c > 0.2:
			x, align = lx, "L"
		case c < -0.2:
			x, align = lx-lw, "R"
		}
		y := ly - h/2
		if s := math.Sin(a); s < -0.9 {
			y = ly - h
		} else if s > 0.9 {
			y = ly
		}
		for j, line := range lines {
			pdf.SetXY(x, y+float64(j)*3.3)
			p.cell(lw, 3.3, line, "", 0, align, false, "")
		}
	}
	// Legend.
	ly := cy + r + 14
	lx := pdfMargin
	for _, s := range []struct {
		c     [3]int
		label string
	}{{pdfIntention, d.T("results.intention", nil)}, {pdfReality, d.T("results.reality", nil)}, {pdfBand, d.T("results.bench.band", nil)}} {
		if s.c == pdfBand && len(lo) == 0 {
			continue
		}
		p.fill(s.c)
		pdf.Rect(lx, ly-2.5, 4, 3, "F")
		p.font("", 9, pdfInk)
		p.text(lx+6, ly, p.s(s.label))
		lx += 8 + p.width(s.label) + 8
	}
	pdf.SetXY(pdfMargin, ly+6)
}

// sectionTable: one row per section, intention and reality as bars on a
// 0–100 scale, the gap in points (red when it is an execution gap).
func (p *pdfWriter) sectionTable() {
	pdf, d, rep := p.pdf, p.d, p.d.Report
	pdf.Ln(2)
	p.ensure(40)
	p.heading(d.T("export.pdf.sections", nil))
	const (
		titleW = 56.0
		barW   = 64.0 // leaves the number columns room for their headings in DejaVu
		numW   = (pdfBodyW - titleW - barW) / 3
		rowH   = 7.0
	)
	barX := pdfMargin + titleW + 2
	head := func() {
		p.font("B", 8, pdfMuted)
		y := pdf.GetY()
		pdf.SetXY(pdfMargin, y)
		p.cell(titleW, 6, p.t("results.section", nil), "", 0, "L", false, "")
		p.cell(barW+2, 6, "", "", 0, "L", false, "")
		for i, id := range []string{"results.intention", "results.reality", "results.gap"} {
			x := pdfMargin + titleW + barW + 2 + float64(i)*numW
			lines := p.split(p.t(id, nil), numW-1)
			for j, line := range lines {
				pdf.SetXY(x, y+6-3.2*float64(len(lines)-j))
				p.cell(numW, 3.2, line, "", 0, "R", false, "")
			}
		}
		p.draw(pdfMuted)
		pdf.Line(pdfMargin, y+6, pdfMargin+pdfBodyW, y+6)
		p.font("", 6.5, pdfMuted)
		for _, v := range []float64{0, 25, 50, 75, 100} {
			s := strconv.Itoa(int(v))
			x := barX + barW*v/100 - p.width(s)/2
			if v == 100 { // end at the bar's end, clear of the first number column's heading
				x = barX + barW - p.width(s)
			}
			p.text(x, y+4.5, s)
		}
		pdf.SetXY(pdfMargin, y+7)
	}
	head()
	for _, sec := range rep.Sections {
		if pdf.GetY()+rowH > pdfPageH-pdfMargin-4 {
			pdf.AddPage()
			head()
		}
		y := pdf.GetY()
		p.font("", 8.5, pdfInk)
		lines := p.split(p.s(d.sectionTitle(sec.ID)), titleW-2)
		lh := rowH / float64(max(2, len(lines)))
		for j, line := range lines {
			pdf.SetXY(pdfMargin, y+(rowH-lh*float64(len(lines)))/2+float64(j)*lh)
			p.cell(titleW, lh, line, "", 0, "L", false, "")
		}
		p.draw(pdfGrid)
		pdf.SetLineWidth(0.15)
		for _, v := range []float64{0, 25, 50, 75, 100} {
			pdf.Line(barX+barW*v/100, y+0.8, barX+barW*v/100, y+rowH-0.8)
		}
		for j, b := range []struct {
			v survey.Num
			c [3]int
		}{{sec.Intention, pdfIntention}, {sec.Reality, pdfReality}} {
			if b.v == nil {
				continue
			}
			p.fill(b.c)
			pdf.Rect(barX, y+1.2+float64(j)*2.5, barW*math.Max(0, math.Min(100, *b.v))/100, 2.2, "F")
		}
		pdf.SetXY(pdfMargin+titleW+barW+2, y)
		p.font("", 9, pdfIntention)
		p.cell(numW, rowH, p.s(p.pct(sec.Intention)), "", 0, "R", false, "")
		p.font("", 9, pdfReality)
		p.cell(numW, rowH, p.s(p.pct(sec.Reality)), "", 0, "R", false, "")
		gapColour, style := pdfInk, ""
		if sec.Gap != nil && *sec.Gap >= survey.ExecutionGapFrom {
			gapColour, style = [3]int{176, 32, 32}, "B"
		}
		p.font(style, 9, gapColour)
		p.cell(numW, rowH, p.s(p.gap(sec.ReportScore)), "", 0, "R", false, "")
		p.draw(pdfGrid)
		pdf.Line(pdfMargin, y+rowH, pdfMargin+pdfBodyW, y+rowH)
		pdf.SetXY(pdfMargin, y+rowH)
	}
	pdf.Ln(4)
}

// leaders says in words whether senior managers see more than everyone
// else, where most, and how many practices to check first.
func (p *pdfWriter) leaders() {
	pdf, d, rep := p.pdf, p.d, p.d.Report
	pdf.AddPage()
	p.heading(d.T("results.leaders.title", nil))
	lv := rep.LeadersVsStaff
	if lv == nil || !lv.Available || lv.Overall == nil || lv.Overall.Diff == nil {
		p.para(d.T("results.leaders.unavailable", map[string]any{"K": rep.K}), 11, pdfInk)
		pdf.Ln(6)
		return
	}
	o := lv.Overall
	data := map[string]any{"Diff": fmtFloat(d.Locale, math.Abs(*o.Diff), 1), "Seniors": lv.Seniors, "Others": lv.Others,
		"Senior": p.pct(o.Senior), "Rest": p.pct(o.Others)}
	id := "export.pdf.leaders.same"
	switch {
	case *o.Diff >= 0.5:
		id = "export.pdf.leaders.higher"
	case *o.Diff <= -0.5:
		id = "export.pdf.leaders.lower"
	}
	p.para(d.T(id, data), 11, pdfInk)
	pdf.Ln(2)
	p.para(d.T("export.pdf.leaders.magnitude", map[string]any{"Magnitude": d.T("results.magnitude."+o.Magnitude, nil),
		"Delta": fmtFloat(d.Locale, o.Delta, 2), "P": pValue(d.Locale, o.P)}), 11, pdfInk)
	// The sections where senior managers see most more than the others.
	secs := append([]survey.LeaderComparison(nil), lv.Sections...)
	sort.SliceStable(secs, func(i, j int) bool { return diffOf(secs[i]) > diffOf(secs[j]) })
	var names []string
	for _, s := range secs {
		if len(names) == 3 || diffOf(s) < 5 {
			break
		}
		if !s.Significant {
			continue
		}
		names = append(names, fmt.Sprintf("%s (+%s)", d.sectionTitle(s.ID), fmtFloat(d.Locale, diffOf(s), 1)))
	}
	if len(names) > 0 {
		pdf.Ln(2)
		p.para(d.T("export.pdf.leaders.sections", map[string]any{"List": strings.Join(names, ", ")}), 11, pdfInk)
	}
	over := 0
	for _, c := range lv.Practices {
		if c.Delta > 0 && c.Significant { // a large δ alone is no finding
			over++
		}
	}
	pdf.Ln(2)
	if over > 0 {
		p.para(d.T("export.pdf.leaders.practices", map[string]any{"N": over}), 11, pdfInk)
	} else {
		p.para(d.T("export.pdf.leaders.none", nil), 11, pdfInk)
	}
	pdf.Ln(8)
}

// pValue is "= 0.027", or "< 0.001" for what rounds to zero.
func pValue(locale string, p float64) string {
	return survey.FormatPRel(locale, p)
}

func diffOf(c survey.LeaderComparison) float64 {
	if c.Diff == nil {
		return math.Inf(-1)
	}
	return *c.Diff
}

// recommendations: the top ten, each with its reasons, evidence and the
// portal page to learn from.
func (p *pdfWriter) recommendations() {
	pdf, d, rep := p.pdf, p.d, p.d.Report
	p.heading(d.T("results.recs.title", nil))
	if len(rep.Recommendations) == 0 {
		p.para(d.T("export.pdf.recs.none", nil), 11, pdfInk)
		return
	}
	for i, r := range rep.Recommendations {
		p.ensure(28)
		y := pdf.GetY()
		p.font("B", 10, pdfBrand)
		pdf.SetXY(pdfMargin, y)
		p.cell(8, 5, strconv.Itoa(i+1)+".", "", 0, "L", false, "")
		p.cell(16, 5, r.Practice, "", 0, "L", false, "")
		p.font("", 10, pdfInk)
		pdf.SetXY(pdfMargin+24, y)
		p.multi(pdfBodyW-24, 5, p.s(d.practiceText(r.Practice)), "", "L", false)
		p.font("B", 8.5, pdfMuted)
		pdf.SetX(pdfMargin + 24)
		p.multi(pdfBodyW-24, 4.2, p.s(d.kindsText(r.Kinds, " · ")), "", "L", false)
		p.font("", 8.5, pdfMuted)
		pdf.SetX(pdfMargin + 24)
		p.multi(pdfBodyW-24, 4.2, p.s(d.evidence(r, p.pct(r.Intention), p.pct(r.Reality))), "", "L", false)
		if link := d.link(r.Subsection, r.Practice); link != "" {
			p.font("U", 8.5, pdfIntention)
			pdf.SetX(pdfMargin + 24)
			label := p.t("export.pdf.learn", map[string]any{"Topic": d.subsectionTitle(r.Subsection)})
			p.cell(p.width(label)+1, 4.2, label, "", 1, "L", false, link)
			p.font("", 7, pdfMuted)
			pdf.SetX(pdfMargin + 24)
			p.cell(pdfBodyW-24, 3.6, p.s(link), "", 1, "L", false, link)
		}
		pdf.Ln(3)
	}
}
