package server

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"tiltline/survey"
)

// Each portal page shows its section's spread across the comparison set,
// labelled as illustrative while the reference set stands in, in every language.
func TestPortalPageShowsSectionQuartiles(t *testing.T) {
	a, _, _ := newTestApp(t)
	m := a.models.Latest()
	b := survey.BuildBenchmark(m, nil, survey.ReferenceSet(), survey.BenchmarkFilter{}, 0)
	for i, sec := range m.Sections {
		q := b.Sections[i]
		sub := sec.Subsections[0]
		w := func(v float64) string { return survey.FormatNumber("en", v, 0) }
		for lang, want := range map[string][]string{
			"en": {fmt.Sprintf("Across 650 assessments, a quarter score below %s %%, half below %s %% and a quarter above %s %%", w(q.P25), w(q.P50), w(q.P75)), "Illustrative reference, generated from published summary figures."},
			"de": {fmt.Sprintf("die Hälfte unter %s %%", w(q.P50)), "Veranschaulichende Referenz"},
			"fr": {fmt.Sprintf("la moitié moins de %s %%", w(q.P50)), "Référence indicative"},
		} {
			res := get(t, a, "/learn/"+sub.Slug+"?lang="+lang)
			body := body(t, res)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("%s %s = %d", sub.Slug, lang, res.StatusCode)
			}
			for _, w := range want {
				if !strings.Contains(body, w) {
					t.Errorf("%s (%s) lacks %q", sub.Slug, lang, w)
				}
			}
		}
	}
}
