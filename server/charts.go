package server

import (
	"fmt"
	"html/template"
	"math"
	"strings"

	"tiltline/survey"
)

// Charts are inline SVG written here, in Go: no script, no library, crisp at
// any size, and each comes with a data table and a text summary on the page
// for screen-reader users (the SVG itself is labelled as an image).

type chartSeries struct {
	Name   string
	Class  string // CSS class: colour and line style
	Values []*float64
	// Marks draws only a marker per value, no shape and no bar of its own
	// (targets: a circle on the radar, a tick across a section's bars).
	Marks bool
}

// radarSVG draws one polygon per series on n spokes, rings at 25/50/75/100.
func radarSVG(title string, labels []string, series []chartSeries) template.HTML {
	const size, c, r = 420.0, 210.0, 150.0
	n := len(labels)
	pt := func(i int, v float64) (float64, float64) {
		a := -math.Pi/2 + 2*math.Pi*float64(i)/float64(n)
		return c + r*v/100*math.Cos(a), c + r*v/100*math.Sin(a)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart radar" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s">`, size, size, template.HTMLEscapeString(title))
	for _, ring := range []float64{25, 50, 75, 100} {
		b.WriteString(`<polygon class="ring" points="`)
		for i := range n {
			x, y := pt(i, ring)
			fmt.Fprintf(&b, "%.1f,%.1f ", x, y)
		}
		b.WriteString(`"/>`)
		x, y := pt(0, ring)
		fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%.1f">%.0f</text>`, x+4, y+4, ring)
	}
	for i, l := range labels {
		x, y := pt(i, 100)
		fmt.Fprintf(&b, `<line class="spoke" x1="%.0f" y1="%.0f" x2="%.1f" y2="%.1f"/>`, c, c, x, y)
		lx, ly := pt(i, 114)
		fmt.Fprintf(&b, `<text class="label" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, lx, ly+4, template.HTMLEscapeString(l))
	}
	for _, s := range series {
		if s.Marks {
			for i, v := range s.Values {
				if v != nil {
					x, y := pt(i, *v)
					fmt.Fprintf(&b, `<circle class="series %s" cx="%.1f" cy="%.1f" r="5"><title>%s %.0f</title></circle>`, s.Class, x, y, template.HTMLEscapeString(s.Name), *v)
				}
			}
			continue
		}
		fmt.Fprintf(&b, `<polygon class="series %s" points="`, s.Class)
		for i, v := range s.Values {
			val := 0.0
			if v != nil {
				val = *v
			}
			x, y := pt(i, val)
			fmt.Fprintf(&b, "%.1f,%.1f ", x, y)
		}
		b.WriteString(`"/>`)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// barsSVG draws, per row, one bar per series on a 0–100 scale.
func barsSVG(title string, labels []string, series []chartSeries) template.HTML {
	const width, left, bar, gap = 640.0, 220.0, 12.0, 10.0
	bars := 0
	for _, s := range series {
		if !s.Marks {
			bars++
		}
	}
	rowH := bar*float64(bars) + gap
	height := rowH*float64(len(labels)) + 30
	scale := (width - left - 50) / 100
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart bars" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s">`, width, height, template.HTMLEscapeString(title))
	for _, tick := range []float64{0, 25, 50, 75, 100} {
		x := left + tick*scale
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" y1="0" x2="%.1f" y2="%.1f"/><text class="tick" x="%.1f" y="%.1f" text-anchor="middle">%.0f</text>`,
			x, x, height-20, x, height-6, tick)
	}
	for i, l := range labels {
		y := float64(i) * rowH
		fmt.Fprintf(&b, `<text class="label" x="%.0f" y="%.1f" text-anchor="end">%s</text>`, left-8, y+bar+2, template.HTMLEscapeString(l))
		j := 0
		for _, s := range series {
			v := s.Values[i]
			if s.Marks {
				if v != nil {
					fmt.Fprintf(&b, `<line class="series %s" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"><title>%s %.0f</title></line>`,
						s.Class, left+*v*scale, y-2, left+*v*scale, y+float64(bars)*bar, template.HTMLEscapeString(s.Name), *v)
				}
				continue
			}
			j++
			if v == nil {
				continue
			}
			fmt.Fprintf(&b, `<rect class="series %s" x="%.0f" y="%.1f" width="%.1f" height="%.0f"/><text class="value" x="%.1f" y="%.1f">%.0f</text>`,
				s.Class, left, y+float64(j-1)*bar, *v*scale, bar-2, left+*v*scale+4, y+float64(j-1)*bar+bar-3, *v)
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// sectionSeries pulls one dimension of the report's sections.
func sectionSeries(rep *survey.Report, pick func(survey.ReportScore) survey.Num) []*float64 {
	out := make([]*float64, len(rep.Sections))
	for i, s := range rep.Sections {
		out[i] = pick(s.ReportScore)
	}
	return out
}

// quartileScale draws a 0–100 scale with the middle half (P25–P75) as a
// band and the median as a tick. Decorative: the sentence beside it says
// the same, so it is hidden from screen readers.
func quartileScale(q *survey.Percentiles) template.HTML {
	const width, left, right = 320.0, 10.0, 10.0
	x := func(v float64) float64 { return left + v/100*(width-left-right) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart quartiles" viewBox="0 0 %.0f 44" aria-hidden="true" focusable="false">`, width)
	fmt.Fprintf(&b, `<line class="grid" x1="%.1f" y1="14" x2="%.1f" y2="14"/>`, x(0), x(100))
	fmt.Fprintf(&b, `<rect class="band" x="%.1f" y="6" width="%.1f" height="16"/>`, x(q.P25), x(q.P75)-x(q.P25))
	fmt.Fprintf(&b, `<line class="median" x1="%.1f" y1="3" x2="%.1f" y2="25"/>`, x(q.P50), x(q.P50))
	for _, tick := range []float64{0, 25, 50, 75, 100} {
		fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="40" text-anchor="middle">%.0f</text>`, x(tick), tick)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
