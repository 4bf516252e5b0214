package portal

import (
	"context"
	"slices"
	"testing"

	"tiltline/survey/surveytest"
)

func TestDecompoundSplitsGermanCompoundsIntoKnownParts(t *testing.T) {
	tables, err := loadTermTables()
	if err != nil {
		t.Fatal(err)
	}
	de := tables["de"]
	for w, want := range map[string][]string{
		"kundenrückgewinnung":     {"kunde", "rückgewinnung"},
		"kundenzufriedenheit":     {"kunde", "zufriedenheit"},
		"beschwerdemanagement":    {"beschwerde", "management"},
		"kundenbeschwerden":       {"kunde", "beschwerde"},
		"kundenwertsegmentierung": {"kunde", "wert", "segmentierung"},
		"rückgewinnung":           nil, // one part is no compound
		"handschuh":               nil, // unknown parts
	} {
		if got := de.decompound(w); !slices.Equal(got, want) {
			t.Errorf("%s → %v, want %v", w, got, want)
		}
	}
	if got := tables["en"].decompound("winback"); got != nil {
		t.Errorf("English has no compound parts, yet winback → %v", got)
	}
}

// TestSearchWithSynonymsAndCompounds: the cases the plain engines missed,
// in each language, on SQLite and Postgres.
func TestSearchWithSynonymsAndCompounds(t *testing.T) {
	lib, err := Load(model(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, dialect := range surveytest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			db := surveytest.Open(t, dialect)
			ctx := context.Background()
			if err := IndexPages(ctx, db, lib); err != nil {
				t.Fatal(err)
			}
			for _, tc := range []struct {
				locale, query, want string
			}{
				{"de", "Kundenrückgewinnung", "winback"},
				{"de", "Kundenbeschwerden", "managing-dissatisfaction"},
				{"de", "NPS", "understanding-satisfaction-and-loyalty"},
				{"de", "Churn", "retention-activity"},
				{"de", "Reklamation", "managing-dissatisfaction"},
				{"en", "NPS", "understanding-satisfaction-and-loyalty"},
				{"en", "net promoter", "understanding-satisfaction-and-loyalty"},
				{"en", "attrition", "retention-activity"},
				{"en", "complaint", "managing-dissatisfaction"},
				{"en", "dissatisfaction", "managing-dissatisfaction"},
				{"fr", "NPS", "understanding-satisfaction-and-loyalty"},
				{"fr", "churn", "winback"},
				{"fr", "plainte", "managing-dissatisfaction"},
			} {
				hits, err := Search(ctx, db, tc.locale, tc.query, 10)
				if err != nil {
					t.Fatalf("%s %q: %v", tc.locale, tc.query, err)
				}
				var refs []string
				for _, h := range hits {
					refs = append(refs, h.Ref)
				}
				if !slices.Contains(refs[:min(5, len(refs))], tc.want) {
					t.Errorf("%s %q: %s not in the first five of %v", tc.locale, tc.query, tc.want, refs)
				}
			}
		})
	}
}
