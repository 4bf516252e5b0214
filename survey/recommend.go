package survey

import (
	"math"
	"sort"
)

// Recommendations: which practices to work on first, and why (DESIGN.md
// "Recommendations"). A practice can carry several reasons.

// Recommendation kinds.
const (
	StrategyGap    = "strategy_gap"    // low intention: decide and plan
	ExecutionGap   = "execution_gap"   // intention well ahead of reality: deliver what is planned
	HiddenStrength = "hidden_strength" // reality ahead of intention: make it deliberate
	VerifyFirst    = "verify_first"    // senior managers see much more than others
	Unknown        = "unknown"         // many do not know whether it happens
)

// Thresholds of the classification, in points and rates.
const (
	strategyBelow      = 50.0
	ExecutionGapFrom   = 20.0
	hiddenStrengthFrom = 10.0
)

// Recommendation is one practice worth acting on.
type Recommendation struct {
	Practice   string   `json:"practice"`
	Subsection string   `json:"subsection"` // the portal page to learn from
	Kinds      []string `json:"kinds"`
	Priority   float64  `json:"priority"`
	Intention  Num      `json:"intention"`
	Reality    Num      `json:"reality"`
	CEM        Num      `json:"cem"`
	Gap        Num      `json:"gap"`
	Answered   int      `json:"answered"`
	// Delta is senior managers against everyone else (Cliff's δ), when it is a reason.
	Delta *float64 `json:"delta,omitempty"`
	// Movement is the change of the CEM score since the previous wave, in points.
	Movement Num `json:"movement,omitempty"`
}

// Recommend classifies every practice of a report and returns the first
// `limit` by priority: (100 − CEM) × the section's weight (1 unless given),
// ties broken by the larger gap.
func Recommend(rep *Report, weights map[string]float64, limit int) []Recommendation {
	if rep == nil || rep.Suppressed {
		return nil
	}
	verify := map[string]float64{}
	if lv := rep.LeadersVsStaff; lv != nil {
		for _, p := range lv.Practices {
			if p.Delta > 0 { // only over-estimation by senior managers
				verify[p.ID] = p.Delta
			}
		}
	}
	var out []Recommendation
	for _, p := range rep.Practices {
		if p.CEM == nil {
			continue
		}
		r := Recommendation{Practice: p.ID, Subsection: p.Subsection, Intention: p.Intention, Reality: p.Reality,
			CEM: p.CEM, Gap: p.Gap, Answered: p.Answered}
		if *p.Intention < strategyBelow {
			r.Kinds = append(r.Kinds, StrategyGap)
		}
		if *p.Gap >= ExecutionGapFrom {
			r.Kinds = append(r.Kinds, ExecutionGap)
		}
		if -*p.Gap >= hiddenStrengthFrom {
			r.Kinds = append(r.Kinds, HiddenStrength)
		}
		if d, ok := verify[p.ID]; ok {
			r.Kinds = append(r.Kinds, VerifyFirst)
			r.Delta = &d
		}
		if p.DontKnowRate != nil && *p.DontKnowRate > HighDontKnowAbove {
			r.Kinds = append(r.Kinds, Unknown)
		}
		if len(r.Kinds) == 0 {
			continue
		}
		w := 1.0
		if weights != nil {
			if x, ok := weights[SectionOf(p.ID)]; ok {
				w = x
			}
		}
		r.Priority = math.Round((100-*p.CEM)*w*10) / 10
		out = append(out, r)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Priority != out[j].Priority {
			return out[i].Priority > out[j].Priority
		}
		return math.Abs(*out[i].Gap) > math.Abs(*out[j].Gap)
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// WithMovement adds, to each recommendation, how its practice's CEM score
// moved since the previous wave's report (same filter).
func WithMovement(recs []Recommendation, prev *Report) {
	if prev == nil || prev.Suppressed {
		return
	}
	before := map[string]Num{}
	for _, p := range prev.Practices {
		before[p.ID] = p.CEM
	}
	for i := range recs {
		if b := before[recs[i].Practice]; b != nil && recs[i].CEM != nil {
			d := math.Round((*recs[i].CEM-*b)*10) / 10
			recs[i].Movement = &d
		}
	}
}

// SectionOf is the section id of a practice id ("AP-03" → "AP").
func SectionOf(practiceID string) string {
	if len(practiceID) >= 2 {
		return practiceID[:2]
	}
	return ""
}
