package server

import (
	"math"

	"tiltline/survey"
)

// The three things to know, at the top of the results page: plain
// sentences generated from the release, each linking to its detail — the
// biggest intention–reality gap, where leaders and staff disagree most
// (only when the difference is significant) and the position against the
// comparison group. When one cannot be said, a plainer fact stands in.

type keyFact struct {
	Text string
	Href string // an anchor on the page
}

// keyFacts builds the sentences from the report and the benchmark view;
// t translates a message with its data.
func keyFacts(rep *survey.Report, bv benchView, m *survey.Model, lang string, t func(id string, data map[string]any) string) []keyFact {
	if rep == nil || rep.Suppressed || len(rep.Sections) == 0 {
		return nil
	}
	title := func(i int) string { return m.Sections[i].Title.In(lang) }
	pct := func(v *float64) string { return survey.FormatNumber(lang, *v, 0) + " %" }
	var out []keyFact

	// 1. The biggest gap, by the true gap.
	gi := -1
	for i, s := range rep.Sections {
		if s.Gap != nil && (gi < 0 || *s.Gap > *rep.Sections[gi].Gap) {
			gi = i
		}
	}
	if gi >= 0 {
		s := rep.Sections[gi]
		out = append(out, keyFact{Href: "#sections-t", Text: t("results.things.gap", map[string]any{
			"Section": title(gi), "I": pct(s.Intention), "R": pct(s.Reality),
			"Gap": survey.FormatNumber(lang, *survey.ShownDiff(s.Intention, s.Reality, 0), 0)})})
	}

	// 2. Leaders against staff: the significant section difference that is largest.
	lv := rep.LeadersVsStaff
	switch {
	case lv != nil && lv.Available:
		li := -1
		for i, s := range lv.Sections {
			if s.Significant && s.Diff != nil && (li < 0 || math.Abs(*s.Diff) > math.Abs(*lv.Sections[li].Diff)) {
				li = i
			}
		}
		if li >= 0 {
			s := lv.Sections[li]
			id := "results.things.leaders_higher"
			if *s.Diff < 0 {
				id = "results.things.leaders_lower"
			}
			out = append(out, keyFact{Href: "#leaders-h", Text: t(id, map[string]any{
				"Section": title(li), "Senior": pct(s.Senior), "Others": pct(s.Others), "P": survey.FormatPRel(lang, s.P)})})
		} else {
			out = append(out, keyFact{Href: "#leaders-h", Text: t("results.things.leaders_agree", map[string]any{"Seniors": lv.Seniors, "Others": lv.Others})})
		}
	default: // no comparison possible: the weakest section instead
		wi := -1
		for i, s := range rep.Sections {
			if s.CEM != nil && (wi < 0 || *s.CEM < *rep.Sections[wi].CEM) {
				wi = i
			}
		}
		if wi >= 0 {
			out = append(out, keyFact{Href: "#sections-t", Text: t("results.things.weakest", map[string]any{"Section": title(wi), "CEM": pct(rep.Sections[wi].CEM)})})
		}
	}

	// 3. The position against the comparison group.
	if bv.Benchmark != nil && bv.Rank >= 0 && rep.Overall != nil && rep.Overall.CEM != nil {
		data := map[string]any{"CEM": pct(rep.Overall.CEM), "Rank": survey.FormatNumber(lang, bv.Rank, 0), "N": bv.Entries,
			"Orgs": bv.Organisations, "Median": survey.FormatNumber(lang, bv.Overall.P50, 0) + " %"}
		id := "results.things.position_pool"
		if bv.Illustrative {
			id = "results.things.position_reference"
		}
		out = append(out, keyFact{Href: "#bench-h", Text: t(id, data)})
	}
	return out
}
