package survey

import "math"

// Trend across waves (issue 6): the same organisation's campaigns side by
// side, overall and per section, with the change from one wave to the next
// and whether it is larger than noise. Noise is judged on respondents' own
// scores (own.go): a 95 % Welch interval for the difference of two means,
// so a change counts only when the interval excludes zero. Changes are
// computed from unrounded scores.

// TrendWave is one campaign's input: its report (already filtered and
// suppressed), built by BuildReport, which keeps the spread of
// respondents' own scores the noise test needs.
type TrendWave struct {
	Campaign *Campaign
	Report   *Report
}

// Change from the previous wave, in points, with its 95 % interval.
type Change struct {
	Diff        Num  `json:"difference"`
	Low         Num  `json:"low"`
	High        Num  `json:"high"`
	Significant bool `json:"significant"`
	// DF is the interval's Welch–Satterthwaite degrees of freedom.
	DF *float64 `json:"df,omitempty"`
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

// BuildTrend lines up waves, oldest first, under the filter their reports were built with.
func BuildTrend(waves []TrendWave) []TrendPoint {
	out := make([]TrendPoint, len(waves))
	own := make([][]moments, len(waves)) // wave → part (0 overall, 1+i section i) → own CEM scores' moments
	for i, w := range waves {
		p := TrendPoint{CampaignID: w.Campaign.ID, Name: w.Campaign.Name, Wave: w.Campaign.WaveLabel, Suppressed: w.Report.Suppressed}
		if !p.Suppressed {
			p.Responses = w.Report.Responses
			p.CEM = w.Report.Overall.CEM
			for _, s := range w.Report.Sections {
				p.Sections = append(p.Sections, s.CEM)
			}
			own[i] = w.Report.ownCEM
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

// change is to − from with a 95 % Welch interval from the respondents'
// own scores: Welch's t with its Welch–Satterthwaite degrees of freedom,
// not z, which is up to 40 % too narrow for the smallest views.
func change(from, to Num, a, b moments) *Change {
	c := &Change{}
	if from == nil || to == nil || a.n < 2 || b.n < 2 {
		return c
	}
	d := *to - *from
	lo, hi, df := welch(d, a.variance(), float64(a.n), b.variance(), float64(b.n))
	c.Diff, c.Low, c.High = num(Value{V: d, Valid: true}), num(Value{V: lo, Valid: true}), num(Value{V: hi, Valid: true})
	c.DF = &df
	c.Significant = lo > 0 || hi < 0
	return c
}

// welch is the 95 % interval of a difference d of two means, from the
// two samples' variances and sizes, and its Welch–Satterthwaite degrees
// of freedom.
func welch(d, va, na, vb, nb float64) (lo, hi, df float64) {
	sa, sb := va/na, vb/nb
	se := math.Sqrt(sa + sb)
	if se == 0 {
		return d, d, na + nb - 2
	}
	df = (sa + sb) * (sa + sb) / (sa*sa/(na-1) + sb*sb/(nb-1))
	h := TQuantile975(df) * se
	return d - h, d + h, df
}
