package survey

import "slices"

// The reference the tests hold PracticeChanges to: the trend's rule on each
// respondent's levels, one practice at a time (practice_change_test.go).

// PracticeChange is how one practice moved on one dimension between two
// waves' views (reports built under the same filter, each from its wave's
// current release), under the trend's rule: the change of the shown scores
// with a Welch 95 % interval from the respondents' own levels. It is nil
// when either view, or the practice in it, is not shown: a change is never
// computed from numbers the reader could not see.
func PracticeChange(mFrom, mTo *Model, from, to *Report, rowsFrom, rowsTo []ReportRow, practiceID, dimension string) *Change {
	a, okA := practiceLevels(mFrom, from, rowsFrom, practiceID, dimension)
	b, okB := practiceLevels(mTo, to, rowsTo, practiceID, dimension)
	if !okA || !okB {
		return nil
	}
	return change(practiceScore(from, practiceID, dimension), practiceScore(to, practiceID, dimension), samples(a), samples(b))
}

// samples is the moments of xs, computed in two passes: the reference
// does not share the streaming arithmetic it checks.
func samples(xs []float64) moments {
	a := moments{n: len(xs)}
	for _, x := range xs {
		a.mean += x
	}
	if a.n > 0 {
		a.mean /= float64(a.n)
	}
	for _, x := range xs {
		a.m2 += (x - a.mean) * (x - a.mean)
	}
	return a
}

// practiceLevels are the scores the report's respondents gave the practice.
func practiceLevels(m *Model, rep *Report, rows []ReportRow, id, dimension string) ([]float64, bool) {
	if m == nil || rep == nil || rep.Suppressed || practiceScore(rep, id, dimension) == nil {
		return nil, false
	}
	p, ok := m.Practice(id)
	if !ok {
		return nil, false
	}
	slot := m.Slot(p, dimension)
	var out []float64
	for i := range rows {
		r := &rows[i]
		if rep.Filter.match(r) && slot < len(r.Answers) && r.Answers[slot] >= 1 && r.Answers[slot] <= NumLevels {
			out = append(out, LevelScore(int(r.Answers[slot])))
		}
	}
	return out, true
}

// MannWhitneyValues compares two samples of values by binning them on
// their distinct values: the tests' way in to MannWhitneyRuns.
func MannWhitneyValues(a, b []float64) Comparison {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return MannWhitneyRuns(Runs(a), Runs(b))
}
