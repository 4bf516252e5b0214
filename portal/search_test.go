package portal

import (
	"context"
	"strings"
	"testing"

	"tiltline/survey/surveytest"
)

func TestSearchFindsPagesInEachLanguageOnBothDatabases(t *testing.T) {
	m := model(t)
	lib, err := Load(m)
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
			if err := IndexPages(ctx, db, lib); err != nil { // restart: re-index without duplicates
				t.Fatal(err)
			}
			cases := []struct {
				locale, query, wantSlug string
			}{
				{"en", "winback", "winback"},
				{"en", "win back lost customers", "winback"},
				{"en", "complaints", "managing-dissatisfaction"},
				{"de", "Kundenbindung", ""},
				{"de", "Rückgewinnung", "winback"},
				{"fr", "fidélisation", ""},
				{"fr", "reconquête", "winback"},
				{"en", "benchmarking", "benchmarking"},
			}
			for _, tc := range cases {
				hits, err := Search(ctx, db, tc.locale, tc.query, 10)
				if err != nil {
					t.Fatalf("%s %q: %v", tc.locale, tc.query, err)
				}
				if len(hits) == 0 {
					t.Errorf("%s %q: no result", tc.locale, tc.query)
					continue
				}
				found := tc.wantSlug == ""
				for _, h := range hits[:min(3, len(hits))] {
					found = found || h.Ref == tc.wantSlug
				}
				if !found {
					refs := []string{}
					for _, h := range hits {
						refs = append(refs, h.Ref)
					}
					t.Errorf("%s %q: %s not in the top three of %v", tc.locale, tc.query, tc.wantSlug, refs)
				}
				if !strings.Contains(string(hits[0].Snippet), "<mark>") {
					t.Errorf("%s %q: snippet without highlight: %s", tc.locale, tc.query, hits[0].Snippet)
				}
			}
			// Query syntax of either database is just text.
			for _, q := range []string{`"*) OR NEAR(`, `'; DROP TABLE search_docs; --`, `a & !b | c:*`, ``, `<script>`} {
				if _, err := Search(ctx, db, "en", q, 10); err != nil {
					t.Errorf("%q: %v", q, err)
				}
			}
			if hits, _ := Search(ctx, db, "de", "winback", 10); len(hits) > 0 && hits[0].Ref == "" {
				t.Error("hit without a page")
			}
		})
	}
}

func TestHighlightEscapesEverythingButTheMarks(t *testing.T) {
	got := string(highlight("a <b>\x01c\x02 & d"))
	if got != "a &lt;b&gt;<mark>c</mark> &amp; d" {
		t.Errorf("got %q", got)
	}
}
