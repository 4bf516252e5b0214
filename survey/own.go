package survey

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// A respondent's own score, the one definition every comparison of people
// uses (leaders against staff, the trend's noise test, the ± of a section):
// the report's own formulae applied to one person. Per section and
// dimension, the mean of the levels they gave in the section ("don't know"
// and unanswered left out); overall, per dimension, the mean of their
// section scores; CEM, the mean of their intention and reality where both
// exist. A group's score is built the same way from practice means, so the
// two agree whenever everyone answers everything.

// OwnScore is one respondent's score on one part (overall or a section).
type OwnScore struct {
	Intention, Reality, CEM Value
}

// ownScorer computes own scores; it knows each practice's section.
type ownScorer struct {
	m     *Model
	secOf []int // practice index → section index
	sum   [][2]float64
	n     [][2]int
}

func newOwnScorer(m *Model) *ownScorer {
	o := &ownScorer{m: m, secOf: make([]int, len(m.practices)), sum: make([][2]float64, len(m.Sections)), n: make([][2]int, len(m.Sections))}
	for si, s := range m.Sections {
		for _, sub := range s.Subsections {
			for _, p := range sub.Practices {
				o.secOf[p.Index] = si
			}
		}
	}
	return o
}

// scores fills out (length len(m.Sections)+1: overall first, then each
// section in model order) with one respondent's own scores.
func (o *ownScorer) scores(answers []byte, out []OwnScore) {
	clear(o.sum)
	clear(o.n)
	for _, p := range o.m.practices {
		si := o.secOf[p.Index]
		for d := range 2 {
			if j := 2*p.Index + d; j < len(answers) && answers[j] >= 1 && answers[j] <= NumLevels {
				o.sum[si][d] += LevelScore(int(answers[j]))
				o.n[si][d]++
			}
		}
	}
	var all [2]float64
	var alln [2]int
	for si := range o.sum {
		var v [2]Value
		for d := range 2 {
			if o.n[si][d] > 0 {
				v[d] = Value{V: o.sum[si][d] / float64(o.n[si][d]), Valid: true}
				all[d] += v[d].V
				alln[d]++
			}
		}
		out[si+1] = ownScore(v[0], v[1])
	}
	var ov [2]Value
	for d := range 2 {
		if alln[d] > 0 {
			ov[d] = Value{V: all[d] / float64(alln[d]), Valid: true}
		}
	}
	out[0] = ownScore(ov[0], ov[1])
}

// OwnScores is one respondent's own scores: overall first, then each
// section in model order.
func (m *Model) OwnScores(answers []byte) []OwnScore {
	out := make([]OwnScore, len(m.Sections)+1)
	newOwnScorer(m).scores(answers, out)
	return out
}

// ownTally gathers, in one pass over the respondents, everything the
// report needs from their own scores without keeping them: per part, the
// moments of each dimension (for the ± and the trend's noise test), and
// how many seniors and others gave each own Reality score (for leaders
// against staff, whose rank test needs only the counts of tied values).
// Memory grows with the distinct values, not with the respondents.
type ownTally struct {
	scorer *ownScorer
	buf    []OwnScore
	spread []ownMoments
	// reality[band][part] counts own Reality scores by value; band 0 is
	// senior managers, 1 everyone else.
	reality [2][]map[float64]int
}

func newOwnTally(m *Model) *ownTally {
	parts := len(m.Sections) + 1
	t := &ownTally{scorer: newOwnScorer(m), buf: make([]OwnScore, parts), spread: make([]ownMoments, parts)}
	for b := range t.reality {
		t.reality[b] = make([]map[float64]int, parts)
		for part := range parts {
			t.reality[b][part] = map[float64]int{}
		}
	}
	return t
}

func (t *ownTally) add(r *ReportRow) {
	t.scorer.scores(r.Answers, t.buf)
	band := 1
	if r.Seniority == SeniorBand {
		band = 0
	}
	for part, o := range t.buf {
		t.spread[part].add(o)
		if o.Reality.Valid {
			t.reality[band][part][o.Reality.V]++
		}
	}
}

// cem is, per part, the moments of the respondents' own CEM scores.
func (t *ownTally) cem() []moments {
	out := make([]moments, len(t.spread))
	for part, s := range t.spread {
		out[part] = s.c
	}
	return out
}

func ownScore(i, r Value) OwnScore {
	s := OwnScore{Intention: i, Reality: r}
	if i.Valid && r.Valid {
		s.CEM = Value{V: (i.V + r.V) / 2, Valid: true}
	}
	return s
}

// moments accumulates a mean and variance (Welford) for an interval.
type moments struct {
	n        int
	mean, m2 float64
}

func (a *moments) add(v Value) {
	if !v.Valid {
		return
	}
	a.n++
	d := v.V - a.mean
	a.mean += d / float64(a.n)
	a.m2 += d * (v.V - a.mean)
}

// variance is the sample variance (n − 1 in the denominator).
func (a *moments) variance() float64 { return a.m2 / float64(a.n-1) }

// margin is the 95 % half-width of the mean: t(n−1) · s / √n; nil below two values.
func (a *moments) margin() Num {
	if a.n < 2 {
		return nil
	}
	h := TQuantile975(float64(a.n-1)) * math.Sqrt(a.variance()/float64(a.n))
	return &h
}

// TQuantile975 is the 97.5 % quantile of Student's t with df degrees of
// freedom: the factor of a two-sided 95 % interval.
func TQuantile975(df float64) float64 {
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Quantile(0.975)
}

// histMargin is the 95 % half-width of a practice dimension's mean score.
func histMargin(h Histogram) Num {
	mean := h.Mean()
	if !mean.Valid {
		return nil
	}
	a := moments{n: h.Answered(), mean: mean.V}
	for l := 1; l <= NumLevels; l++ {
		d := LevelScore(l) - mean.V
		a.m2 += float64(h[l]) * d * d
	}
	return a.margin()
}
