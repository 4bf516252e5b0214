package survey

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestNoSuppressedGroupCanBeRecovered is the property test of issue 6:
// random organisations, every filter combination a manager can ask for,
// and an attacker who sees every number the reports show. For each hidden
// group (a unit, role or seniority band below k inside some view), the
// attacker tries to get its size from what is shown: the wider view's total
// minus the other groups shown in its breakdown or as filtered views of
// their own, and the difference of two nested shown views. Every attempt
// must fail: whatever is recovered covers either nobody or at least k people,
// and never one hidden group alone.
func TestNoSuppressedGroupCanBeRecovered(t *testing.T) {
	m := mustModel(t)
	roles := []string{"sales", "service", "marketing"}
	bands := []string{"staff", "middle-manager", SeniorBand}
	for seed := range uint64(300) {
		rng := rand.New(rand.NewPCG(seed, 99))
		k := 3 + rng.IntN(4)
		nUnits := 2 + rng.IntN(5)
		var rows []ReportRow
		for u := range nUnits {
			size := 1 + rng.IntN(25)
			if rng.IntN(3) == 0 {
				size = 1 + rng.IntN(k) // small units are common
			}
			for range size {
				id := int64(u + 1)
				rows = append(rows, ReportRow{UnitID: &id, Role: roles[rng.IntN(len(roles))], Seniority: bands[rng.IntN(len(bands))], Answers: make([]byte, m.AnswerSlots())})
			}
		}
		c := &Campaign{ID: 1, KMin: k}
		// Every filter a manager can choose.
		var filters []ReportFilter
		for u := 0; u <= nUnits; u++ {
			for _, r := range append([]string{""}, roles...) {
				for _, s := range append([]string{""}, bands...) {
					f := ReportFilter{Role: r, Seniority: s}
					if u > 0 {
						id := int64(u)
						f.UnitID = &id
					}
					filters = append(filters, f)
				}
			}
		}
		shown := map[string]int{} // filter → responses, for every view with numbers
		for _, f := range filters {
			rep := BuildReport(m, c, rows, f, nil)
			if !rep.Suppressed {
				shown[key(f)] = *rep.Responses
				if *rep.Responses < EffectiveK(k) {
					t.Fatalf("seed %d: view %s shows %d < k responses", seed, key(f), *rep.Responses)
				}
			}
			// Breakdowns (unfiltered view only) join what is shown.
			for _, g := range append(append(rep.Units, rep.Roles...), rep.Seniority...) {
				if !g.Suppressed {
					shown["group:"+g.Key] = *g.Responses
				}
			}
		}
		// Attack 1: nested shown views differ by a group that must be empty or ≥ k.
		for _, f := range filters {
			n, ok := shown[key(f)]
			if !ok {
				continue
			}
			for _, c := range f.conditions() {
				if w, ok := shown[key(c.wider)]; ok {
					if d := w - n; d > 0 && d < EffectiveK(k) {
						t.Fatalf("seed %d: %s (%d) inside %s (%d) reveals a group of %d", seed, key(f), n, key(c.wider), w, d)
					}
				}
			}
		}
		// Attack 2: a wider shown view minus every group of one breakdown that
		// is shown (as a breakdown cell or its own filtered view) leaves the
		// hidden groups together: that must be nobody, or ≥ 2 non-empty groups.
		for _, wider := range filters {
			total, ok := shown[key(wider)]
			if !ok {
				continue
			}
			for _, dim := range []string{"unit", "role", "seniority"} {
				counts := map[string]int{}
				for i := range rows {
					if wider.match(&rows[i]) {
						counts[dimKey(dim, &rows[i])]++
					}
				}
				rest, hiddenNonEmpty := total, 0
				for g, n := range counts {
					f := withDim(wider, dim, g)
					_, asView := shown[key(f)]
					_, asCell := shown["group:"+g]
					if asView || (wider.Empty() && asCell) {
						rest -= n
					} else if n > 0 {
						hiddenNonEmpty++
					}
				}
				if hiddenNonEmpty >= 1 && rest < EffectiveK(k) {
					t.Fatalf("seed %d: in %s by %s, %d hidden group(s) of %d responses together: total minus the rest", seed, key(wider), dim, hiddenNonEmpty, rest)
				}
			}
		}
	}
}

func key(f ReportFilter) string {
	u := int64(0)
	if f.UnitID != nil {
		u = *f.UnitID
	}
	return fmt.Sprintf("u%d|%s|%s", u, f.Role, f.Seniority)
}

func dimKey(dim string, r *ReportRow) string {
	switch dim {
	case "unit":
		return rowUnitKey(r)
	case "role":
		return r.Role
	}
	return r.Seniority
}

func withDim(f ReportFilter, dim, g string) ReportFilter {
	switch dim {
	case "unit":
		var id int64
		fmt.Sscan(g, &id)
		f.UnitID = &id
	case "role":
		f.Role = g
	default:
		f.Seniority = g
	}
	return f
}
