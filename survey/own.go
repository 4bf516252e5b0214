package survey

import (
	"cmp"
	"math"
	"slices"

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

// ownScorer computes own scores; it knows each section's answer slots. It
// counts in quarters: a level's score is 25 times 5 − level, so a section's
// own score is 25·q/n exactly, for the q quarters of its n answers.
type ownScorer struct {
	// slots[si] is section si's answer slots, [first, end): a section's
	// practices follow each other in the model, two slots each.
	slots [][2]int
	q, n  [][2]int
	// maxN is the most practices a section has: q ≤ 4·maxN.
	maxN int
}

// quarters is a stored answer's worth in quarters (5 − level), or −1 for
// "don't know", unanswered and anything not a level.
// quarterOf and countOf are a stored byte's quarters (as quarters, 0 for
// anything but a level) and whether it counts (1 for a level, else 0):
// tables, so that a respondent's scores are sums without a branch.
var quarterOf, countOf = func() (q, n [256]int) {
	for v := 1; v <= NumLevels; v++ {
		q[v], n[v] = NumLevels-v, 1
	}
	return q, n
}()

func newOwnScorer(m *Model) *ownScorer {
	o := &ownScorer{slots: make([][2]int, len(m.Sections)), q: make([][2]int, len(m.Sections)), n: make([][2]int, len(m.Sections))}
	for si, s := range m.Sections {
		first, count := -1, 0
		for _, sub := range s.Subsections {
			for _, p := range sub.Practices {
				if first < 0 {
					first = p.Index
				}
				count++
			}
		}
		o.slots[si] = [2]int{2 * first, 2 * (first + count)}
		o.maxN = max(o.maxN, count)
	}
	return o
}

// scores fills out (length len(m.Sections)+1: overall first, then each
// section in model order) with one respondent's own scores.
func (o *ownScorer) scores(answers []byte, out []OwnScore) {
	for si, b := range o.slots {
		// Slots come in pairs from an even start: intention, reality.
		// The sums stay in registers; a pair cut short by the end of a
		// short vector leaves its reality unanswered.
		var qi, qr, ni, nr int
		if b[0] < len(answers) {
			sec := answers[b[0]:min(b[1], len(answers))]
			for len(sec) >= 2 {
				i, r := sec[0], sec[1]
				qi, ni = qi+quarterOf[i], ni+countOf[i]
				qr, nr = qr+quarterOf[r], nr+countOf[r]
				sec = sec[2:]
			}
			if len(sec) == 1 {
				qi, ni = qi+quarterOf[sec[0]], ni+countOf[sec[0]]
			}
		}
		o.q[si], o.n[si] = [2]int{qi, qr}, [2]int{ni, nr}
	}
	var all [2]float64
	var alln [2]int
	for si := range o.q {
		var v [2]Value
		for d := range 2 {
			if o.n[si][d] > 0 {
				v[d] = Value{V: quarterScore(o.q[si][d], o.n[si][d]), Valid: true}
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

// quarterScore is the mean score of n answers worth q quarters in all:
// the sum of their LevelScores (multiples of 25, so exact) over n.
func quarterScore(q, n int) float64 { return float64(25*q) / float64(n) }

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
// A section's scores are counted by (answers, quarters); the overall's, a
// mean of section scores with many distinct values, are kept (8 bytes a
// respondent, sorted once at the end), which costs less than counting
// them in a map.
type ownTally struct {
	scorer *ownScorer
	buf    []OwnScore
	spread []ownMoments
	// Band 0 is senior managers, 1 everyone else.
	overall [2][]float64
	// sections[band][section][n·stride + q] counts own Reality scores.
	sections [2][][]int
	stride   int
}

func newOwnTally(m *Model) *ownTally {
	o := newOwnScorer(m)
	t := &ownTally{scorer: o, buf: make([]OwnScore, len(m.Sections)+1), spread: make([]ownMoments, len(m.Sections)+1), stride: 4*o.maxN + 1}
	for b := range 2 {
		t.sections[b] = make([][]int, len(m.Sections))
		for si := range m.Sections {
			t.sections[b][si] = make([]int, (o.maxN+1)*t.stride)
		}
	}
	return t
}

func (t *ownTally) add(r *ReportRow) { t.addAnswers(r.Answers, bandOf(r.Seniority)) }

// bandOf is an own tally's band: 0 for senior managers, 1 for everyone else.
func bandOf(seniority string) int {
	if seniority == SeniorBand {
		return 0
	}
	return 1
}

func (t *ownTally) addAnswers(answers []byte, band int) {
	t.scorer.scores(answers, t.buf)
	for part, o := range t.buf {
		t.spread[part].add(o)
	}
	if o := t.buf[0].Reality; o.Valid {
		t.overall[band] = append(t.overall[band], o.V)
	}
	for si, n := range t.scorer.n {
		if n[1] > 0 {
			t.sections[band][si][n[1]*t.stride+t.scorer.q[si][1]]++
		}
	}
}

// merge adds another tally of the same model into t.
func (t *ownTally) merge(o *ownTally) {
	t.mergeSpread(o)
	for b := range 2 {
		t.mergeBand(o, b, b)
	}
}

// mergeSpread adds o's moments, part by part, into t's.
func (t *ownTally) mergeSpread(o *ownTally) {
	for part := range t.spread {
		t.spread[part].merge(&o.spread[part])
	}
}

// mergeBand adds o's band from into t's band to; the spread is not touched.
func (t *ownTally) mergeBand(o *ownTally, from, to int) {
	t.overall[to] = append(t.overall[to], o.overall[from]...)
	for si, bins := range o.sections[from] {
		for i, c := range bins {
			t.sections[to][si][i] += c
		}
	}
}

// reality is the own Reality scores of seniors (band 0) or others (1) on
// a part (0 overall, 1 + i section i), as runs of equal values.
func (t *ownTally) reality(band, part int) []Run {
	if part == 0 {
		slices.Sort(t.overall[band])
		return Runs(t.overall[band])
	}
	var out []Run
	for i, c := range t.sections[band][part-1] {
		if n, q := i/t.stride, i%t.stride; c > 0 {
			out = append(out, Run{quarterScore(q, n), c})
		}
	}
	// Bins are in order of answers, then quarters: sort by value, and
	// join equal values (2 of 4 answers score as 1 of 2).
	slices.SortFunc(out, func(a, b Run) int { return cmp.Compare(a.V, b.V) })
	joined := out[:0]
	for _, r := range out {
		if len(joined) > 0 && joined[len(joined)-1].V == r.V {
			joined[len(joined)-1].N += r.N
		} else {
			joined = append(joined, r)
		}
	}
	return joined
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

// merge adds another set of values' moments into a (Chan et al.'s
// pairwise update).
func (a *moments) merge(b *moments) {
	if b.n == 0 {
		return
	}
	n := a.n + b.n
	d := b.mean - a.mean
	a.mean += d * float64(b.n) / float64(n)
	a.m2 += b.m2 + d*d*float64(a.n)*float64(b.n)/float64(n)
	a.n = n
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
