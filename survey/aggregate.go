package survey

import (
	"runtime"
	"sync"
)

// aggregate is everything a report reads from its respondents, gathered in
// one pass over them: a tally per profile (the view's own tally, its
// breakdowns' and leaders against staff's are sums of these) and the
// respondents' own scores (own.go). Big views are split across the cores,
// each part gathered on its own and the parts added up.
type aggregate struct {
	profiles map[profile]*Tally
	own      *ownTally
}

// aggregateChunk is how many respondents are worth a core of their own.
const aggregateChunk = 20_000

func aggregateRows(m *Model, rows []*ReportRow) *aggregate {
	workers := min(runtime.GOMAXPROCS(0), 1+len(rows)/aggregateChunk)
	if workers <= 1 {
		return aggregatePart(m, rows)
	}
	parts := make([]*aggregate, workers)
	size := (len(rows) + workers - 1) / workers
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := min(w*size, len(rows)), min((w+1)*size, len(rows))
		wg.Go(func() { parts[w] = aggregatePart(m, rows[lo:hi]) })
	}
	wg.Wait()
	out := parts[0]
	for _, p := range parts[1:] {
		out.merge(p)
	}
	return out
}

func aggregatePart(m *Model, rows []*ReportRow) *aggregate {
	a := newAggregate(m)
	// Most respondents are not senior managers: their band's own scores
	// get their room at once, not by doubling.
	a.own.overall[1] = make([]float64, 0, len(rows))
	units := map[*int64]string{} // rows of a release share their profile's unit pointer
	var last *ReportRow
	var lastTally *Tally
	for _, r := range rows {
		a.own.add(r)
		// Rows of one profile often follow each other; their tally is found once.
		if last == nil || r.UnitID != last.UnitID || r.Role != last.Role || r.Seniority != last.Seniority {
			u, ok := units[r.UnitID]
			if !ok {
				u = rowUnitKey(r)
				if len(units) < 1024 {
					units[r.UnitID] = u
				}
			}
			p := profile{u, r.Role, r.Seniority}
			lastTally = a.profiles[p]
			if lastTally == nil {
				t := m.NewTally()
				lastTally = &t
				a.profiles[p] = lastTally
			}
			last = r
		}
		lastTally.Add(r.Answers)
	}
	return a
}

func newAggregate(m *Model) *aggregate {
	return &aggregate{profiles: map[profile]*Tally{}, own: newOwnTally(m)}
}

func (a *aggregate) merge(o *aggregate) {
	for p, t := range o.profiles {
		if mine := a.profiles[p]; mine != nil {
			mine.Merge(*t)
		} else {
			a.profiles[p] = t
		}
	}
	a.own.merge(o.own)
}

// tally is the sum of the profiles' tallies that keep picks.
func (a *aggregate) tally(m *Model, keep func(profile) bool) Tally {
	t := m.NewTally()
	for p, pt := range a.profiles {
		if keep(p) {
			t.Merge(*pt)
		}
	}
	return t
}
