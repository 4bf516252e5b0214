package export

import (
	"strconv"

	"tiltline/survey"
)

// The PDF's pages beyond the headline and sections: the heatmap of units
// by section and the trend across waves; and what the cover says of the
// comparison group.

// position is the sentence placing the overall score in the comparison
// group, "" when either is not shown.
func (d *Doc) position() string {
	b, rep := d.Benchmark, d.Report
	if b == nil || b.Suppressed || b.Overall == nil || rep.Overall == nil || rep.Overall.CEM == nil {
		return ""
	}
	rank := b.Rank(*rep.Overall.CEM)
	if rank < 0 {
		return ""
	}
	id := "results.things.position_pool"
	if b.Illustrative {
		id = "results.things.position_reference"
	}
	return d.T(id, map[string]any{"CEM": fmtFloat(d.Locale, *rep.Overall.CEM, 0) + " %", "Rank": fmtFloat(d.Locale, rank, 0),
		"N": b.Entries, "Orgs": b.Organisations, "Median": fmtFloat(d.Locale, b.Overall.P50, 0) + " %"})
}

// benchBand is the comparison group's P25 and P75 per section, in the
// report's section order; empty unless every section has them.
func (d *Doc) benchBand() (lo, hi []float64) {
	b := d.Benchmark
	if b == nil || b.Suppressed || len(b.Sections) != len(d.Report.Sections) {
		return nil, nil
	}
	for _, s := range b.Sections {
		if s.Percentiles == nil {
			return nil, nil
		}
		lo, hi = append(lo, s.P25), append(hi, s.P75)
	}
	return lo, hi
}

// heatmap: units × sections, each cell shaded by its score within the
// table's own range; groups the suppression rules hide say so instead.
func (p *pdfWriter) heatmap() {
	pdf, d, rep := p.pdf, p.d, p.d.Report
	if len(rep.Units) < 2 {
		return
	}
	pdf.AddPage()
	p.heading(d.T("results.heat.units", nil))
	lo, hi := 100.0, 0.0
	for _, g := range rep.Units {
		for _, v := range g.Sections {
			if v != nil {
				lo, hi = min(lo, *v), max(hi, *v)
			}
		}
	}
	const nameW, nW, rowH = 40.0, 10.0, 7.0
	colW := (pdfBodyW - nameW - nW) / float64(len(rep.Sections))
	p.font("B", 7, pdfMuted)
	y := pdf.GetY()
	pdf.SetXY(pdfMargin, y)
	p.cell(nameW, 6, p.t("survey.profile.unit", nil), "", 0, "L", false, "")
	p.cell(nW, 6, "n", "", 0, "R", false, "")
	for _, s := range rep.Sections {
		p.cell(colW, 6, s.ID, "", 0, "C", false, "")
	}
	pdf.SetXY(pdfMargin, y+7)
	for _, g := range rep.Units {
		y := pdf.GetY()
		if y+rowH > pdfPageH-pdfMargin-4 {
			pdf.AddPage()
			y = pdf.GetY()
		}
		name := g.Name
		if g.Key == "" {
			name = d.T("results.group.other_units", nil)
		}
		p.font("", 8, pdfInk)
		lines := p.split(p.s(name), nameW-2)
		pdf.SetXY(pdfMargin, y)
		p.cell(nameW, rowH, lines[0], "", 0, "L", false, "")
		if g.Suppressed {
			p.font("", 8, pdfMuted)
			p.cell(pdfBodyW-nameW, rowH, p.t("results.not_enough", nil), "", 0, "L", false, "")
		} else {
			n := ""
			if g.Responses != nil {
				n = strconv.Itoa(*g.Responses)
			}
			p.cell(nW, rowH, n, "", 0, "R", false, "")
			for _, v := range g.Sections {
				shade := 0.0
				if v != nil && hi > lo {
					shade = (*v - lo) / (hi - lo)
				}
				c := [3]int{int(235 - 180*shade), int(241 - 150*shade), int(250 - 90*shade)}
				text := pdfInk
				if shade > 0.6 {
					text = [3]int{255, 255, 255}
				}
				p.fill(c)
				p.font("", 8, text)
				p.cell(colW, rowH, fmtScore(d.Locale, v, 0), "", 0, "C", true, "")
			}
		}
		pdf.SetXY(pdfMargin, y+rowH)
	}
	pdf.Ln(3)
	p.para(d.T("results.heat.hint", map[string]any{"K": rep.K}), 8, pdfMuted)
	p.sectionKey()
}

// sectionKey lists the section codes with their titles, two columns.
func (p *pdfWriter) sectionKey() {
	pdf, d, rep := p.pdf, p.d, p.d.Report
	pdf.Ln(2)
	p.ensure(float64(len(rep.Sections)+1) / 2 * 4.5)
	y := pdf.GetY()
	p.font("", 7.5, pdfInk)
	half := (len(rep.Sections) + 1) / 2
	for i, s := range rep.Sections {
		col, row := i/half, i%half
		pdf.SetXY(pdfMargin+float64(col)*pdfBodyW/2, y+float64(row)*4.5)
		p.cell(10, 4.5, s.ID, "", 0, "L", false, "")
		p.cell(pdfBodyW/2-12, 4.5, p.split(p.s(d.sectionTitle(s.ID)), pdfBodyW/2-14)[0], "", 0, "L", false, "")
	}
	pdf.SetXY(pdfMargin, y+float64(half)*4.5+2)
}

// trend: the overall score per wave and its change since the wave before,
// with the interval that says whether it is more than noise.
func (p *pdfWriter) trend() {
	pdf, d := p.pdf, p.d
	shown := 0
	for _, w := range d.Trend {
		if !w.Suppressed {
			shown++
		}
	}
	if len(d.Trend) < 2 || shown < 2 {
		return
	}
	p.ensure(60)
	pdf.Ln(4)
	p.heading(d.T("results.trend.title", nil))
	const nameW, numW, rowH = 50.0, 24.0, 7.0
	p.font("B", 8, pdfMuted)
	pdf.SetX(pdfMargin)
	p.cell(nameW, 6, p.t("results.wave", nil), "", 0, "L", false, "")
	p.cell(numW, 6, p.t("results.responses", nil), "", 0, "R", false, "")
	p.cell(numW, 6, p.t("results.cem", nil), "", 0, "R", false, "")
	p.cell(pdfBodyW-nameW-2*numW, 6, p.t("results.trend.change", nil), "", 1, "R", false, "")
	for _, w := range d.Trend {
		p.font("", 9, pdfInk)
		pdf.SetX(pdfMargin)
		label := w.Name
		if w.Wave != "" {
			label = w.Wave
		}
		p.cell(nameW, rowH, p.split(p.s(label), nameW-2)[0], "", 0, "L", false, "")
		if w.Suppressed {
			p.font("", 9, pdfMuted)
			p.cell(pdfBodyW-nameW, rowH, p.t("results.not_enough", nil), "", 1, "L", false, "")
			continue
		}
		n := ""
		if w.Responses != nil {
			n = strconv.Itoa(*w.Responses)
		}
		p.cell(numW, rowH, n, "", 0, "R", false, "")
		p.cell(numW, rowH, p.pct(w.CEM), "", 0, "R", false, "")
		change := "–"
		if c := w.Change; c != nil && c.Diff != nil {
			change = survey.FormatSigned(d.Locale, *c.Diff, 1) + " (" + fmtScore(d.Locale, c.Low, 1) + " … " + fmtScore(d.Locale, c.High, 1) + ")"
			if c.Significant {
				change += " · " + d.T("results.trend.significant", nil)
			} else {
				change += " · " + d.T("results.trend.noise", nil)
			}
		}
		p.cell(pdfBodyW-nameW-2*numW, rowH, p.s(change), "", 1, "R", false, "")
	}
	pdf.Ln(2)
	p.para(d.T("results.trend.hint", nil)+" "+d.T("results.trend.unrounded", nil), 8, pdfMuted)
}
