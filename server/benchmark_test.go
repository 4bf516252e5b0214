package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"tiltline/survey"
)

// poolEntries puts years entries (one a year) of an organisation into the
// pool, every section and the overall at score.
func poolEntries(t *testing.T, a *App, m *survey.Model, orgID int64, years int, score float64) {
	t.Helper()
	sections := map[string]float64{}
	for _, s := range m.Sections {
		sections[s.ID] = score
	}
	js, _ := json.Marshal(sections)
	for y := range years {
		e := survey.BenchmarkEntry{Source: survey.SourcePool, OrganisationID: &orgID, Sector: "retail", Region: "europe",
			SizeBand: "250-999", Year: 2024 + y, Overall: score, SectionScores: string(js)}
		if err := a.db.Write.Create(&e).Error; err != nil {
			t.Fatal(err)
		}
	}
}

// Each comparison says how many organisations stand behind it — on the
// results page, in the API and on the portal's pages, in every language —
// and a reader's own organisation is never among them, also when the pool's
// views are kept in memory.
func TestBenchmarkSaysHowManyOrganisations(t *testing.T) {
	a, demo, _ := newTestApp(t)
	ctx := t.Context()
	m := a.models.Latest()
	for i := range 12 {
		org, err := survey.SaveOrganisation(ctx, a.db, 0, survey.OrgInput{Name: fmt.Sprintf("Other %d", i),
			Sector: "retail", Region: "europe", SizeBand: "250-999", BenchmarkOptIn: true})
		if err != nil {
			t.Fatal(err)
		}
		poolEntries(t, a, m, org.ID, 3, float64(20+3*i))
	}
	var cp survey.Campaign
	a.db.Read.First(&cp, demo.CampaignID)
	poolEntries(t, a, m, cp.OrganisationID, 3, 99) // the demo organisation's own: never compared with

	path := fmt.Sprintf("/results/%d", demo.CampaignID)
	code, body := apiCall(t, a, http.MethodGet, path2api(path)+"/report", demo.APIToken, "")
	bench, _ := body["benchmark"].(map[string]any)
	if code != 200 || bench["source"] != "pool" || bench["illustrative"] != false || bench["entries"] != 36.0 || bench["organisations"] != 12.0 {
		t.Fatalf("API benchmark (%d): %v", code, bench)
	}
	overall := bench["overall"].(map[string]any)
	if overall["p90"].(float64) >= 99 {
		t.Errorf("the organisation's own entries are in its comparison group: %v", overall)
	}

	// Anonymous portal readers have no own organisation: all 13 (the view
	// for the same, empty filter was just built for the demo organisation).
	for lang, want := range map[string]string{"en": "Compared with 13 organisations", "de": "Im Vergleich mit 13 Organisationen", "fr": "Comparé à 13 organisations"} {
		page := body2(t, a, "/learn/winback?lang="+lang)
		if !strings.Contains(page, want) || lang == "en" && !strings.Contains(page, "Across 39 assessments") {
			t.Errorf("portal page (%s) lacks %q", lang, want)
		}
	}

	f := managerFlow(t, a, demo)
	for lang, want := range map[string]string{
		"en": "Compared with 12 organisations: 36 assessments",
		"de": "Im Vergleich mit 12 Organisationen: 36 Bewertungen",
		"fr": "Comparé à 12 organisations : 36 évaluations",
	} {
		if code, page := f.get(path + "?lang=" + lang); code != 200 || !strings.Contains(page, want) {
			t.Errorf("results page (%s, %d) lacks %q", lang, code, want)
		}
	}
	_, page := f.get(path + "?lang=en")
	if !regexp.MustCompile(`is above \d+ % of the 36 assessments`).MatchString(page) {
		t.Error("the position is not against the 36 entries of the other organisations")
	}
	// The portal, signed in: the reader's organisation is left out there too.
	if _, page := f.get("/learn/winback?lang=en"); !strings.Contains(page, "Compared with 12 organisations") {
		t.Error("a signed-in reader's portal page counts the reader's own organisation")
	}

	// A narrower group of fewer organisations falls back to the reference
	// set, labelled as such and without an organisation count.
	code, body = apiCall(t, a, http.MethodGet, path2api(path)+"/report?b_year=2026", demo.APIToken, "")
	bench, _ = body["benchmark"].(map[string]any)
	if _, has := bench["organisations"]; code != 200 || bench["source"] != "reference" || has {
		t.Errorf("one year, 12 entries: %v", bench)
	}

	// Opting out takes the organisation's entries out at once, not after the pool's reload time.
	admin := signedIn(t, a, demo.AdminEmail, demo.AdminPassword)
	admin.get("/admin/org")
	if code, _ := admin.post("/admin/org", url.Values{"name": {"Demo Bank"}, "sector": {"financial-services"}, "region": {"europe"}, "size_band": {"1000-4999"}}); code != http.StatusSeeOther {
		t.Fatalf("opt out = %d", code)
	}
	if page := body2(t, a, "/learn/winback?lang=en"); !strings.Contains(page, "Compared with 12 organisations") {
		t.Error("an organisation that opted out is still in the pool")
	}
}

func body2(t *testing.T, a *App, target string) string {
	t.Helper()
	res := get(t, a, target)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%s = %d", target, res.StatusCode)
	}
	return body(t, res)
}
