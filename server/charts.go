package server

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
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

// radarSVG draws one polygon per series on n spokes. The scale runs from
// 0 to just above the largest value shown (in steps of 10, at most 100), so
// scores of 20–45 use the chart instead of its middle third; rings mark a
// quarter of the scale each. band, when given, is drawn as a shaded ring
// between its two series (the benchmark's P25 and P75).
func radarSVG(title string, labels []string, band []chartSeries, series []chartSeries) template.HTML {
	const size, c, r = 440.0, 220.0, 160.0
	n := len(labels)
	top := 0.0
	for _, s := range append(append([]chartSeries{}, band...), series...) {
		for _, v := range s.Values {
			if v != nil {
				top = math.Max(top, *v)
			}
		}
	}
	top = math.Min(100, math.Max(20, math.Ceil((top+5)/10)*10))
	pt := func(i int, v float64) (float64, float64) {
		a := -math.Pi/2 + 2*math.Pi*float64(i)/float64(n)
		return c + r*v/top*math.Cos(a), c + r*v/top*math.Sin(a)
	}
	polygon := func(b *strings.Builder, vals []*float64) {
		for i, v := range vals {
			val := 0.0
			if v != nil {
				val = *v
			}
			x, y := pt(i, val)
			cmd := "L"
			if i == 0 {
				cmd = "M"
			}
			fmt.Fprintf(b, "%s%.1f,%.1f ", cmd, x, y)
		}
		b.WriteString("Z ")
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart radar" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s">`, size, size, template.HTMLEscapeString(title))
	for q := 1; q <= 4; q++ {
		ring := top * float64(q) / 4
		b.WriteString(`<polygon class="ring" points="`)
		for i := range n {
			x, y := pt(i, ring)
			fmt.Fprintf(&b, "%.1f,%.1f ", x, y)
		}
		b.WriteString(`"/>`)
		x, y := pt(0, ring)
		fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%.1f">%s</text>`, x+4, y+4, strconv.FormatFloat(ring, 'f', -1, 64))
	}
	for i, l := range labels {
		x, y := pt(i, top)
		fmt.Fprintf(&b, `<line class="spoke" x1="%.0f" y1="%.0f" x2="%.1f" y2="%.1f"/>`, c, c, x, y)
		lx, ly := pt(i, top*1.13)
		fmt.Fprintf(&b, `<text class="label" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, lx, ly+4, template.HTMLEscapeString(l))
	}
	if len(band) == 2 && band[0].Values != nil && band[1].Values != nil && !hasNil(band[0].Values) && !hasNil(band[1].Values) {
		b.WriteString(`<path class="series bench band" fill-rule="evenodd" d="`)
		polygon(&b, band[1].Values)
		polygon(&b, band[0].Values)
		b.WriteString(`"/>`)
	}
	for _, s := range series {
		if s.Marks {
			for i, v := range s.Values {
				if v != nil {
					x, y := pt(i, *v)
					fmt.Fprintf(&b, `<circle class="series %s" cx="%.1f" cy="%.1f" r="5"><title>%s %s</title></circle>`, s.Class, x, y, template.HTMLEscapeString(s.Name), survey.FormatNumber("en", *v, 0))
				}
			}
			continue
		}
		fmt.Fprintf(&b, `<path class="series %s" d="`, s.Class)
		polygon(&b, s.Values)
		b.WriteString(`"/>`)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func hasNil(vs []*float64) bool {
	for _, v := range vs {
		if v == nil {
			return true
		}
	}
	return false
}

// barsSVG draws, per row, its label above one bar per series on a 0–100
// scale, so that full section names fit at any width.
func barsSVG(title string, labels []string, series []chartSeries) template.HTML {
	const width, left, bar, gap, labelH = 560.0, 4.0, 14.0, 10.0, 18.0
	bars := 0
	for _, s := range series {
		if !s.Marks {
			bars++
		}
	}
	rowH := labelH + bar*float64(bars) + gap
	height := rowH*float64(len(labels)) + 24
	scale := (width - left - 44) / 100
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart bars" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s">`, width, height, template.HTMLEscapeString(title))
	for _, tick := range []float64{0, 25, 50, 75, 100} {
		x := left + tick*scale
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" y1="0" x2="%.1f" y2="%.1f"/><text class="tick" x="%.1f" y="%.1f" text-anchor="middle">%.0f</text>`,
			x, x, height-20, x, height-6, tick)
	}
	for i, l := range labels {
		y := float64(i) * rowH
		fmt.Fprintf(&b, `<text class="label" x="%.0f" y="%.1f">%s</text>`, left, y+labelH-5, template.HTMLEscapeString(l))
		j := 0
		for _, s := range series {
			v := s.Values[i]
			if s.Marks {
				if v != nil {
					fmt.Fprintf(&b, `<line class="series %s" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"><title>%s %s</title></line>`,
						s.Class, left+*v*scale, y+labelH-2, left+*v*scale, y+labelH+float64(bars)*bar, template.HTMLEscapeString(s.Name), survey.FormatNumber("en", *v, 0))
				}
				continue
			}
			j++
			if v == nil {
				continue
			}
			by := y + labelH + float64(j-1)*bar
			fmt.Fprintf(&b, `<rect class="series %s" x="%.0f" y="%.1f" width="%.1f" height="%.0f"/><text class="value" x="%.1f" y="%.1f">%s</text>`,
				s.Class, left, by, *v*scale, bar-2, left+*v*scale+4, by+bar-3, survey.FormatNumber("en", *v, 0))
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
