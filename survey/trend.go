package survey

import "math"

// Trend across waves (issue 6): the same organisation's campaigns side by
// side, overall and per section, with the change from one wave to the next
// and whether it is larger than noise. Noise is judged on respondents' own
// scores: a 95 % confidence interval for the difference of two means
// (Welch), so a change counts only when the interval excludes zero.

// TrendWave is one campaign's input: its report (already filtered and
// suppressed) and its rows, from which respondents' own scores come.
type TrendWave struct {
	Campaign *Campaign
	Report   *Report
	Rows     []ReportRow
	// Own, when set, is RespondentScores(m, Rows, Report.Filter) computed
	// earlier (it is the costly part, worth caching with the report).
	Own [][]float64
}

// Change from the previous wave, in points, with its 95 % interval.
type Change struct {
	Diff        Num  `json:"difference"`
	Low         Num  `json:"low"`
	High        Num  `json:"high"`
	Significant bool `json:"significant"`
}

// TrendPoint is one wave in the trend.
type TrendPoint struct {
	CampaignID int64  `json:"campaign"`
	Name       string `json:"name"`
	Wave       string `json:"wave,omitempty"`
	Suppressed bool   `json:"suppressed"`
	Responses  *int   `json:"responses,omitempty"`
	CEM        Num    `json:"cem,omitempty"`
	// Sections is the CEM per section, in the model's order.
	Sections []Num `json:"sections,omitempty"`
	// Change and SectionChanges compare with the wave before; nil on the
	// first wave or when either wave is suppressed.
	Change         *Change  `json:"change,omitempty"`
	SectionChanges []Change `json:"section_changes,omitempty"`
}

// z for a two-sided 95 % interval.
const z95 = 1.959964

// BuildTrend lines up waves, oldest first, under the filter their reports were built with.
func BuildTrend(m *Model, waves []TrendWave) []TrendPoint {
	out := make([]TrendPoint, len(waves))
	own := make([][][]float64, len(waves)) // wave → part (0 overall, 1+i section i) → respondents' scores
	for i, w := range waves {
		p := TrendPoint{CampaignID: w.Campaign.ID, Name: w.Campaign.Name, Wave: w.Campaign.WaveLabel, Suppressed: w.Report.Suppressed}
		if !p.Suppressed {
			p.Responses = w.Report.Responses
			p.CEM = w.Report.Overall.CEM
			for _, s := range w.Report.Sections {
				p.Sections = append(p.Sections, s.CEM)
			}
			own[i] = w.Own
			if own[i] == nil {
				own[i] = RespondentScores(m, w.Rows, w.Report.Filter)
			}
		}
		out[i] = p
		if i == 0 || p.Suppressed || out[i-1].Suppressed {
			continue
		}
		prev := &out[i-1]
		p.Change = change(prev.CEM, p.CEM, own[i-1][0], own[i][0])
		for j := range p.Sections {
			if j < len(prev.Sections) {
				p.SectionChanges = append(p.SectionChanges, *change(prev.Sections[j], p.Sections[j], own[i-1][j+1], own[i][j+1]))
			}
		}
		out[i] = p
	}
	return out
}

// RespondentScores gives, for each respondent the filter selects, their own
// CEM score overall (index 0) and per section (1 + section index): the mean
// of the levels they gave on both dimensions, "don't know" left out.
func RespondentScores(m *Model, rows []ReportRow, f ReportFilter) [][]float64 {
	out := make([][]float64, len(m.Sections)+1)
	// Each section's slots once, not per respondent.
	slots := make([][]int, len(m.Sections))
	for si, s := range m.Sections {
		for _, p := range s.Practices() {
			for _, d := range Dimensions {
				slots[si] = append(slots[si], m.Slot(p, d))
			}
		}
	}
	if f.Empty() {
		for i := range out {
			out[i] = make([]float64, 0, len(rows))
		}
	}
	for i := range rows {
		r := &rows[i]
		if !f.match(r) {
			continue
		}
		var all, alln float64
		for si := range m.Sections {
			var sum, n float64
			for _, j := range slots[si] {
				if j < len(r.Answers) && r.Answers[j] >= 1 && r.Answers[j] <= NumLevels {
					sum += LevelScore(int(r.Answers[j]))
					n++
				}
			}
			if n > 0 {
				out[si+1] = append(out[si+1], sum/n)
				all += sum / n
				alln++
			}
		}
		if alln > 0 {
			out[0] = append(out[0], all/alln)
		}
	}
	return out
}

// change is to − from with a Welch interval from the respondents' scores.
func change(from, to Num, a, b []float64) *Change {
	c := &Change{}
	if from == nil || to == nil || len(a) < 2 || len(b) < 2 {
		return c
	}
	d := *to - *from
	_, va := meanVar(a)
	_, vb := meanVar(b)
	se := math.Sqrt(va/float64(len(a)) + vb/float64(len(b)))
	lo, hi := d-z95*se, d+z95*se
	c.Diff, c.Low, c.High = num(Value{V: d, Valid: true}), num(Value{V: lo, Valid: true}), num(Value{V: hi, Valid: true})
	c.Significant = lo > 0 || hi < 0
	return c
}

func meanVar(xs []float64) (mean, variance float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		variance += (x - mean) * (x - mean)
	}
	return mean, variance / float64(len(xs)-1)
}
