package server

import (
	"cmp"
	"html/template"
	"math"
	"net/url"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"tiltline/survey"
)

// View models of the results page beyond the headline: benchmark position,
// heatmaps, the practice table and the trend. Each is built from the report
// (already filtered and suppressed) and nothing else.

// benchView is the benchmark block: the comparison group, our position in
// it and, per section, our score next to the group's quartiles.
type benchView struct {
	*survey.Benchmark
	Rank    float64 // our overall CEM as a percentile of the group; -1 when not shown
	Rows    []benchRow
	Filter  survey.BenchmarkFilter
	Sectors []string
	Regions []string
	Sizes   []string
	Years   []int
}

type benchRow struct {
	Title string
	Ours  survey.Num
	Q     *survey.Percentiles
	// VsMedian is our score minus the group's median; Class colours it:
	// "above" the middle half, "below" it, or "within".
	VsMedian survey.Num
	Class    string
}

func benchmarkView(b *survey.Benchmark, rep *survey.Report, m *survey.Model, lang string) benchView {
	// Only choices with a comparison group behind them.
	v := benchView{Benchmark: b, Rank: -1, Filter: b.Filter, Sectors: b.Choices.Sectors, Regions: b.Choices.Regions, Sizes: b.Choices.Sizes, Years: b.Choices.Years}
	if b.Suppressed || rep.Suppressed {
		return v
	}
	v.Rank = b.Rank(*rep.Overall.CEM)
	for i, s := range b.Sections {
		if s.Percentiles == nil || i >= len(rep.Sections) {
			continue
		}
		row := benchRow{Title: m.Sections[i].Title.In(lang), Ours: rep.Sections[i].CEM, Q: s.Percentiles, Class: "within"}
		if o := row.Ours; o != nil {
			d := *o - s.P50
			row.VsMedian = &d
			switch {
			case *o > s.P75:
				row.Class = "above"
			case *o < s.P25:
				row.Class = "below"
			}
		}
		v.Rows = append(v.Rows, row)
	}
	return v
}

// quartileSeries are the benchmark's P25 and P75 per section, for the radar's rings.
func quartileSeries(b *survey.Benchmark, names [2]string) []chartSeries {
	if b == nil || b.Suppressed {
		return nil
	}
	lo, hi := make([]*float64, len(b.Sections)), make([]*float64, len(b.Sections))
	for i, s := range b.Sections {
		if s.Percentiles != nil {
			lo[i], hi[i] = &s.P25, &s.P75
		}
	}
	return []chartSeries{{Name: names[0], Class: "bench q1", Values: lo}, {Name: names[1], Class: "bench q3", Values: hi}}
}

// heatmap is a breakdown (units, roles, seniority bands) × sections table
// whose cells are shaded by score; hidden groups are greyed and say so.
type heatmap struct {
	ID, Title, Group string
	Rows             []heatRow
}

type heatRow struct {
	Name       string
	Suppressed bool
	Responses  *int
	Cells      []heatCell
}

type heatCell struct {
	Value survey.Num
	Band  int // 0..9 by tens of points: the cell's shade
}

// Shades spread over the table's own range, lowest to highest cell: the
// point of a heatmap is to show where it differs, and the scores of one
// organisation often sit within twenty points of each other.
func heatmapOf(id, title, group string, groups []survey.ReportGroup, name func(survey.ReportGroup) string) *heatmap {
	if len(groups) < 2 { // one group is the whole organisation again
		return nil
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, g := range groups {
		for _, v := range g.Sections {
			if v != nil {
				lo, hi = math.Min(lo, *v), math.Max(hi, *v)
			}
		}
	}
	h := &heatmap{ID: id, Title: title, Group: group}
	for _, g := range groups {
		r := heatRow{Name: name(g), Suppressed: g.Suppressed, Responses: g.Responses}
		for _, v := range g.Sections {
			band := 0
			if v != nil && hi > lo {
				band = min(9, int((*v-lo)/(hi-lo)*10))
			}
			r.Cells = append(r.Cells, heatCell{Value: v, Band: band})
		}
		h.Rows = append(h.Rows, r)
	}
	return h
}

// practiceTable is the sortable, filterable list of all practices.
type practiceTable struct {
	Rows    []practiceRow
	Section string // the section filter, "" for all
	Sort    string
	Desc    bool
	Columns []sortColumn
}

type practiceRow struct {
	survey.ReportPractice
	Statement string
	Section   string
}

type sortColumn struct {
	Key, Label string
	Href       string
	Aria       string // aria-sort: ascending, descending or none
}

var practiceSorts = map[string]func(a, b *practiceRow) int{
	"id":        func(a, b *practiceRow) int { return 0 }, // model order
	"intention": func(a, b *practiceRow) int { return cmpNum(a.Intention, b.Intention) },
	"reality":   func(a, b *practiceRow) int { return cmpNum(a.Reality, b.Reality) },
	"cem":       func(a, b *practiceRow) int { return cmpNum(a.CEM, b.CEM) },
	// by the gap as shown (the difference of the rounded scores), then the true one
	"gap": func(a, b *practiceRow) int {
		return cmp.Or(cmpNum(survey.ShownDiff(a.Intention, a.Reality, 0), survey.ShownDiff(b.Intention, b.Reality, 0)), cmpNum(a.Gap, b.Gap))
	},
	"n":  func(a, b *practiceRow) int { return cmp.Compare(a.Answered, b.Answered) },
	"dk": func(a, b *practiceRow) int { return cmpNum(a.DontKnowRate, b.DontKnowRate) },
}

// cmpNum orders missing values first.
func cmpNum(a, b survey.Num) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	return cmp.Compare(*a, *b)
}

// practiceTableOf reads ?sort=, ?dir= and ?section= (unknown values fall
// back to the defaults: model order, all sections) and keeps every other
// query parameter in the column links, so sorting never loses a filter.
func practiceTableOf(c echo.Context, rep *survey.Report, m *survey.Model, lang string, label func(string) string) practiceTable {
	q := c.QueryParams()
	t := practiceTable{Section: q.Get("section"), Sort: q.Get("sort"), Desc: q.Get("dir") == "desc"}
	if _, ok := practiceSorts[t.Sort]; !ok {
		t.Sort, t.Desc = "id", false
	}
	if !slices.ContainsFunc(m.Sections, func(s *survey.Section) bool { return s.ID == t.Section }) {
		t.Section = ""
	}
	for _, p := range rep.Practices {
		mp, ok := m.Practice(p.ID)
		if !ok || t.Section != "" && mp.Subsection.Section.ID != t.Section {
			continue
		}
		t.Rows = append(t.Rows, practiceRow{ReportPractice: p, Statement: mp.Statement.In(lang), Section: mp.Subsection.Section.ID})
	}
	by := practiceSorts[t.Sort]
	slices.SortStableFunc(t.Rows, func(a, b practiceRow) int {
		if t.Desc {
			return by(&b, &a)
		}
		return by(&a, &b)
	})
	for _, key := range []string{"id", "intention", "reality", "gap", "cem", "n", "dk"} {
		col := sortColumn{Key: key, Label: label(key), Aria: "none"}
		next := url.Values{}
		for k, vs := range q {
			next[k] = vs
		}
		next.Set("sort", key)
		next.Del("dir")
		if key == t.Sort {
			col.Aria = "ascending"
			if t.Desc {
				col.Aria = "descending"
			} else {
				next.Set("dir", "desc")
			}
		} else if key != "id" {
			next.Set("dir", "desc") // scores: the largest first is the useful first click
		}
		col.Href = "?" + next.Encode() + "#practices-h"
		t.Columns = append(t.Columns, col)
	}
	return t
}

// trendView is the waves side by side.
type trendView struct {
	Points []survey.TrendPoint
	Chart  template.HTML
	// Sections: per section, its CEM in each wave and the last change.
	Sections []trendSection
}

type trendSection struct {
	Title  string
	Values []survey.Num
	Last   *survey.Change
}

func trendViewOf(points []survey.TrendPoint, m *survey.Model, lang, title, cemName string) *trendView {
	if len(points) < 2 {
		return nil
	}
	v := &trendView{Points: points}
	labels := make([]string, len(points))
	vals := make([]*float64, len(points))
	shown := 0
	for i, p := range points {
		labels[i] = cmp.Or(p.Wave, p.Name)
		vals[i] = p.CEM
		if !p.Suppressed {
			shown++
		}
	}
	switch {
	case shown == 0: // nothing to compare under this filter
		return nil
	case shown > 1:
		v.Chart = barsSVG(title, labels, []chartSeries{{Name: cemName, Class: "cem", Values: vals}})
	}
	last := points[len(points)-1]
	for i, s := range m.Sections {
		ts := trendSection{Title: s.Title.In(lang)}
		for _, p := range points {
			var val survey.Num
			if i < len(p.Sections) {
				val = p.Sections[i]
			}
			ts.Values = append(ts.Values, val)
		}
		if i < len(last.SectionChanges) {
			ts.Last = &last.SectionChanges[i]
		}
		v.Sections = append(v.Sections, ts)
	}
	return v
}

// earlierWaves are the campaign's predecessors, newest first, at most four,
// looked up once per request (the trend, the cache keys and the movement of
// recommendations all ask).
func (a *App) earlierWaves(c echo.Context, cp *survey.Campaign) []*survey.Campaign {
	memo := "earlier-waves:" + strconv.FormatInt(cp.ID, 10)
	if ws, ok := c.Get(memo).([]*survey.Campaign); ok {
		return ws
	}
	var ws []*survey.Campaign
	seen := map[int64]bool{cp.ID: true}
	for cur := cp; cur.PreviousID != nil && len(ws) < 4 && !seen[*cur.PreviousID]; {
		prev, err := survey.CampaignOf(c.Request().Context(), a.db, cp.OrganisationID, *cur.PreviousID)
		if err != nil {
			break
		}
		seen[prev.ID] = true
		ws = append(ws, prev)
		cur = prev
	}
	c.Set(memo, ws)
	return ws
}

// waves is the campaign and up to four predecessors, oldest first, each
// with its report under the same filter.
func (a *App) waves(c echo.Context, cp *survey.Campaign, rep *survey.Report, f survey.ReportFilter, names map[int64]string) []survey.TrendWave {
	out := []survey.TrendWave{{Campaign: cp, Report: rep}}
	for _, prev := range a.earlierWaves(c, cp) {
		prep, err := a.earlierReport(c, prev, f, names)
		if err != nil {
			break
		}
		out = append(out, survey.TrendWave{Campaign: prev, Report: prep})
	}
	slices.Reverse(out)
	return out
}

// percentile formats a rank as an ordinal-free "top X %" figure's input.
func topShare(rank float64) string {
	return strconv.FormatFloat(math.Max(1, math.Round(100-rank)), 'f', 0, 64) + " %"
}
