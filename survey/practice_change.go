package survey

import "math"

func practiceScore(rep *Report, id, dimension string) Num {
	for _, p := range rep.Practices {
		if p.ID == id {
			if dimension == Reality {
				return p.Reality
			}
			return p.Intention
		}
	}
	return nil
}

// PracticeChanges is how every practice of the later wave's model moved on
// each dimension between two waves' views (reports built under the same
// filter, each from its wave's current release), keyed by practice id, each
// a pair (Intention, Reality), under the trend's rule: the change of the
// shown scores with a Welch 95 % interval from the respondents' own levels.
// A change is nil when either view, or the practice in it, is not shown: it
// is never computed from numbers the reader could not see.
// Each slot's count, sum and sum of squares come from the histogram the
// report was built from: they give the same means, variances and so the
// same interval as the trend's rule on the levels themselves.
func PracticeChanges(mFrom, mTo *Model, from, to *Report) map[string][2]*Change {
	if from == nil || to == nil || from.Suppressed || to.Suppressed {
		return nil
	}
	a, b := slotStats(mFrom, from), slotStats(mTo, to)
	out := make(map[string][2]*Change, len(mTo.Practices()))
	for _, pt := range mTo.Practices() {
		pf, ok := mFrom.Practice(pt.ID)
		if !ok {
			continue
		}
		var pair [2]*Change
		for i, d := range Dimensions {
			x, y := practiceScore(from, pt.ID, d), practiceScore(to, pt.ID, d)
			if x == nil || y == nil {
				continue
			}
			pair[i] = changeOfStats(x, y, a[mFrom.Slot(pf, d)], b[mTo.Slot(pt, d)])
		}
		if pair[0] != nil || pair[1] != nil {
			out[pt.ID] = pair
		}
	}
	return out
}

type levelStats struct{ n, sum, sumsq float64 }

func slotStats(m *Model, rep *Report) []levelStats {
	st := make([]levelStats, m.AnswerSlots())
	for j := range st {
		if j >= len(rep.tally.Slots) {
			break
		}
		for l := 1; l <= NumLevels; l++ {
			n, s := float64(rep.tally.Slots[j][l]), LevelScore(l)
			st[j].n += n
			st[j].sum += n * s
			st[j].sumsq += n * s * s
		}
	}
	return st
}

// changeOfStats is change (trend.go) from sufficient statistics.
func changeOfStats(from, to Num, a, b levelStats) *Change {
	c := &Change{}
	if from == nil || to == nil || a.n < 2 || b.n < 2 {
		return c
	}
	variance := func(s levelStats) float64 { return math.Max(0, (s.sumsq-s.sum*s.sum/s.n)/(s.n-1)) }
	d := *to - *from
	lo, hi, df := welch(d, variance(a), a.n, variance(b), b.n)
	c.Diff, c.Low, c.High = num(Value{V: d, Valid: true}), num(Value{V: lo, Valid: true}), num(Value{V: hi, Valid: true})
	c.DF = &df
	c.Significant = lo > 0 || hi < 0
	return c
}
