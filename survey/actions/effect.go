package actions

import (
	"math"
	"slices"

	"tiltline/survey"
)

// "Did it work?": for each practice with a done action, how its Intention
// and Reality moved from the wave the action was created against to a
// later wave, next to the average move of the practices nobody acted on.
//
// Both waves are read as the results page reads them: each wave's current
// release (the release recorded with the action is kept for the record; an
// older release's rows cannot be read back, by design), under the page's
// filter, and a change is shown only when both views and the practice in
// them are shown (survey.PracticeChanges). Significance is the trend's rule.

// Wave is one wave's view, as the results page built it.
type Wave struct {
	Campaign *survey.Campaign
	Model    *survey.Model
	Report   *survey.Report
}

// PracticeEffect is one practice's move since the actions' wave.
type PracticeEffect struct {
	Practice           string
	Actions            []*Action
	Intention, Reality *survey.Change
}

// Baseline is the average move of the practices without actions.
type Baseline struct {
	Intention, Reality survey.Num
	Practices          int
}

// EffectGroup holds the practices acted on after one earlier wave.
type EffectGroup struct {
	Since    *survey.Campaign
	Items    []PracticeEffect
	Baseline Baseline
}

// DidItWork compares the current wave with each earlier wave that has done
// actions. acted lists every action that counts as "acted on" (all but
// dropped ones), done the done ones among them.
func DidItWork(cur Wave, earlier []Wave, acted []*Action) []EffectGroup {
	if cur.Report == nil || cur.Report.Suppressed {
		return nil
	}
	touched := map[string]bool{}
	for _, x := range acted {
		if x.Status != Dropped {
			for _, p := range x.Practices {
				touched[p] = true
			}
		}
	}
	var out []EffectGroup
	for _, w := range earlier {
		if w.Report == nil || w.Report.Suppressed {
			continue
		}
		byPractice := map[string][]*Action{}
		for _, x := range acted {
			if x.Status == Done && x.CampaignID != nil && *x.CampaignID == w.Campaign.ID {
				for _, p := range x.Practices {
					byPractice[p] = append(byPractice[p], x)
				}
			}
		}
		if len(byPractice) == 0 {
			continue
		}
		g := EffectGroup{Since: w.Campaign}
		changes := survey.PracticeChanges(w.Model, cur.Model, w.Report, cur.Report)
		ids := make([]string, 0, len(byPractice))
		for p := range byPractice {
			ids = append(ids, p)
		}
		slices.Sort(ids)
		for _, p := range ids {
			c := changes[p]
			e := PracticeEffect{Practice: p, Actions: byPractice[p], Intention: c[0], Reality: c[1]}
			if e.Intention == nil && e.Reality == nil {
				continue // not shown in one of the views
			}
			g.Items = append(g.Items, e)
		}
		if len(g.Items) == 0 {
			continue
		}
		var si, sr float64
		var ni, nr int
		for p, c := range changes {
			if touched[p] {
				continue
			}
			if c[0] != nil && c[0].Diff != nil {
				si += *c[0].Diff
				ni++
			}
			if c[1] != nil && c[1].Diff != nil {
				sr += *c[1].Diff
				nr++
			}
		}
		g.Baseline = Baseline{Intention: avg(si, ni), Reality: avg(sr, nr), Practices: max(ni, nr)}
		out = append(out, g)
	}
	return out
}

func avg(sum float64, n int) survey.Num {
	if n == 0 {
		return nil
	}
	v := math.Round(sum/float64(n)*10) / 10
	return &v
}
