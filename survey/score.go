package survey

// Scoring: tallies of packed answers and the scores derived from them.
// Everything here is a pure function over data (DESIGN.md "Scoring").

// Histogram counts the answers of one slot; the index is the packed value:
// 0 unanswered, 1..5 level (1 best), 6 don't know.
type Histogram [7]int

// Answered is the number of answers with a level (1..5).
func (h Histogram) Answered() int {
	return h[1] + h[2] + h[3] + h[4] + h[5]
}

// DontKnows is the number of "don't know" answers.
func (h Histogram) DontKnows() int { return h[DontKnow] }

// ByScore returns the level counts ordered by ascending score
// (0, 25, 50, 75, 100 %), i.e. levels 5, 4, 3, 2, 1 — the bin order the
// statistics expect.
func (h Histogram) ByScore() []int {
	return []int{h[5], h[4], h[3], h[2], h[1]}
}

// LevelScore is the score of a level: (5 − level) / 4 × 100.
func LevelScore(level int) float64 { return float64(5-level) / 4 * 100 }

// Mean is the mean score of the answers with a level; invalid when none.
func (h Histogram) Mean() Value {
	n := h.Answered()
	if n == 0 {
		return Value{}
	}
	sum := 0.0
	for l := 1; l <= NumLevels; l++ {
		sum += float64(h[l]) * LevelScore(l)
	}
	return Value{V: sum / float64(n), Valid: true}
}

// DontKnowRate is don't-know / (answered + don't-know); invalid when both are 0.
func (h Histogram) DontKnowRate() Value {
	d := h.DontKnows()
	n := h.Answered() + d
	if n == 0 {
		return Value{}
	}
	return Value{V: float64(d) / float64(n), Valid: true}
}

// RWG is the within-group agreement 1 − s²/σ²_EU with σ²_EU = (A²−1)/12 = 2
// for A = 5 levels and s² the sample variance of the levels, clipped to
// [0, 1]. Invalid with fewer than two answers.
func (h Histogram) RWG() Value {
	n := h.Answered()
	if n < 2 {
		return Value{}
	}
	var sum, sumSq float64
	for l := 1; l <= NumLevels; l++ {
		c := float64(h[l])
		sum += c * float64(l)
		sumSq += c * float64(l*l)
	}
	mean := sum / float64(n)
	s2 := (sumSq - float64(n)*mean*mean) / float64(n-1)
	r := 1 - s2/rwgExpectedVariance
	if r < 0 {
		r = 0
	}
	if r > 1 {
		r = 1
	}
	return Value{V: r, Valid: true}
}

const rwgExpectedVariance = float64(NumLevels*NumLevels-1) / 12

// Tally holds one histogram per packed slot and the number of responses added.
type Tally struct {
	Slots []Histogram
	N     int
}

// NewTally returns an empty tally sized for the model's packed answers.
func (m *Model) NewTally() Tally {
	return Tally{Slots: make([]Histogram, m.AnswerSlots())}
}

// Add counts one packed response. Bytes beyond the tally's slots and values
// outside 0..6 are ignored (counted as unanswered); a short vector leaves the
// missing slots unanswered.
func (t *Tally) Add(answers []byte) {
	t.N++
	slots := t.Slots
	n := min(len(slots), len(answers))
	for i, v := range answers[:n] {
		if v > DontKnow {
			v = Unanswered
		}
		slots[i][v]++
	}
	for i := n; i < len(slots); i++ {
		slots[i][Unanswered]++
	}
}

// Merge adds another tally of the same model into t.
func (t *Tally) Merge(o Tally) {
	t.N += o.N
	for i := range t.Slots {
		if i >= len(o.Slots) {
			break
		}
		for v := range t.Slots[i] {
			t.Slots[i][v] += o.Slots[i][v]
		}
	}
}

// Tally counts packed responses in one pass.
func (m *Model) Tally(answers [][]byte) Tally {
	t := m.NewTally()
	for _, a := range answers {
		t.Add(a)
	}
	return t
}

// TallyBy tallies records per group in one pass: answers gives a record's
// packed answers, key its group (unit, role, seniority band, ...).
func TallyBy[R any](m *Model, records []R, answers func(R) []byte, key func(R) string) map[string]*Tally {
	out := map[string]*Tally{}
	for _, r := range records {
		k := key(r)
		t, ok := out[k]
		if !ok {
			nt := m.NewTally()
			t = &nt
			out[k] = t
		}
		t.Add(answers(r))
	}
	return out
}

// Value is a score that may be missing (nothing answered); V is 0 when !Valid.
type Value struct {
	V     float64
	Valid bool
}

// mean of the valid values; invalid when there are none.
func meanOf(vs []Value) Value {
	var sum float64
	n := 0
	for _, v := range vs {
		if v.Valid {
			sum += v.V
			n++
		}
	}
	if n == 0 {
		return Value{}
	}
	return Value{V: sum / float64(n), Valid: true}
}

// Score is a pair of dimension scores with the CEM score (their mean) and the
// gap (intention − reality, points). CEM and Gap need both dimensions.
type Score struct {
	Intention, Reality Value
	CEM, Gap           Value
}

func newScore(intention, reality Value) Score {
	s := Score{Intention: intention, Reality: reality}
	if intention.Valid && reality.Valid {
		s.CEM = Value{V: (intention.V + reality.V) / 2, Valid: true}
		s.Gap = Value{V: intention.V - reality.V, Valid: true}
	}
	return s
}

// ViewsDifferBelow is the rWG under which a practice is flagged "views differ".
const ViewsDifferBelow = 0.5

// HighDontKnowAbove is the don't-know rate above which a practice is a finding.
const HighDontKnowAbove = 0.3

// DimensionStats describes one practice's answers on one dimension.
type DimensionStats struct {
	Answered     int   // respondents with a level
	DontKnow     int   // respondents who said "don't know"
	DontKnowRate Value // DontKnow / (Answered + DontKnow)
	RWG          Value // consensus; needs two answers
	ViewsDiffer  bool  // RWG valid and below ViewsDifferBelow
	HighDontKnow bool  // DontKnowRate above HighDontKnowAbove
}

func dimensionStats(h Histogram) DimensionStats {
	d := DimensionStats{
		Answered:     h.Answered(),
		DontKnow:     h.DontKnows(),
		DontKnowRate: h.DontKnowRate(),
		RWG:          h.RWG(),
	}
	d.ViewsDiffer = d.RWG.Valid && d.RWG.V < ViewsDifferBelow
	d.HighDontKnow = d.DontKnowRate.Valid && d.DontKnowRate.V > HighDontKnowAbove
	return d
}

// PracticeScore is one practice's scores and answer statistics.
type PracticeScore struct {
	Practice *Practice
	Score
	IntentionStats, RealityStats DimensionStats
}

// SubsectionScore is the mean of a sub-section's practice scores.
type SubsectionScore struct {
	Subsection *Subsection
	Score
}

// SectionScore is the mean of a section's practice scores.
type SectionScore struct {
	Section *Section
	Score
}

// Scores are everything the report shows for one group, in model order.
type Scores struct {
	N            int // responses tallied
	Practices    []PracticeScore
	Subsections  []SubsectionScore
	Sections     []SectionScore
	Overall      Score // mean of the sections with a score
	DontKnowRate Value // over all practice × dimension answers
}

// Scores derives the scores of a tally made with this model. Means skip
// members without a score, so a group that answered nothing has only
// invalid values — never NaN.
func (m *Model) Scores(t Tally) Scores {
	s := Scores{N: t.N}
	var dk, answered int
	byPractice := make([]Score, len(m.practices))
	for _, p := range m.practices {
		var hi, hr Histogram
		if i := m.Slot(p, Intention); i < len(t.Slots) {
			hi = t.Slots[i]
		}
		if i := m.Slot(p, Reality); i < len(t.Slots) {
			hr = t.Slots[i]
		}
		ps := PracticeScore{
			Practice:       p,
			Score:          newScore(hi.Mean(), hr.Mean()),
			IntentionStats: dimensionStats(hi),
			RealityStats:   dimensionStats(hr),
		}
		byPractice[p.Index] = ps.Score
		s.Practices = append(s.Practices, ps)
		dk += hi.DontKnows() + hr.DontKnows()
		answered += hi.Answered() + hr.Answered()
	}
	if dk+answered > 0 {
		s.DontKnowRate = Value{V: float64(dk) / float64(dk+answered), Valid: true}
	}
	group := func(ps []*Practice) Score {
		in := make([]Value, 0, len(ps))
		re := make([]Value, 0, len(ps))
		for _, p := range ps {
			in = append(in, byPractice[p.Index].Intention)
			re = append(re, byPractice[p.Index].Reality)
		}
		return newScore(meanOf(in), meanOf(re))
	}
	var secIn, secRe []Value
	for _, sec := range m.Sections {
		for _, sub := range sec.Subsections {
			s.Subsections = append(s.Subsections, SubsectionScore{Subsection: sub, Score: group(sub.Practices)})
		}
		ss := SectionScore{Section: sec, Score: group(sec.Practices())}
		s.Sections = append(s.Sections, ss)
		secIn = append(secIn, ss.Intention)
		secRe = append(secRe, ss.Reality)
	}
	s.Overall = newScore(meanOf(secIn), meanOf(secRe))
	return s
}
